//! The memory: one allocation, the unread bytes in it, and how far it is
//! initialized. No decisions are made here ([`policy`](super::policy)
//! decides when and how big); this file only carries them out and keeps
//! the invariants.
//!
//! ```text
//!  0          head          filled           init            end   capacity
//!  +-----------+-------------+----------------+---------------+----+
//!  | consumed  | unread      | free, zeroed   | free, never   |    |
//!  |           |             | or stale       | initialized   |    |
//!  +-----------+-------------+----------------+---------------+----+
//!               ^ frames split   ^ a source reads here: futures-io
//!                 off as Bytes     into [filled, init), tokio into
//!                                  [filled, end) as MaybeUninit
//! ```
//!
//! `init` is `buf.len()`: a `BytesMut` only ever exposes initialized bytes
//! up to its length, so the watermark is the length itself, as in tokio's
//! `ReadBuf` (filled <= initialized <= capacity). Memory becomes
//! initialized only as far as a read needs it ([`Region::init_window`]
//! zeroes a bounded window ahead), so a large frame growing with its bytes
//! is never zeroed in one pass ahead of them.
//!
//! One allocation outlives many views of it: frames are split off the
//! front, and `try_reclaim` moves the view back to the allocation's start.
//! [`Allocation::init`] remembers, for the whole allocation, how far it was
//! ever initialized, so memory reused in place is not zeroed again.

use std::mem::MaybeUninit;

use bytes::{Buf, Bytes, BytesMut};

#[cfg(target_os = "linux")]
use super::mapped::MappedBuf;
use super::policy::Memory;

#[cfg(test)]
thread_local! {
    /// Bytes this thread's regions zeroed with a memset (for tests).
    pub(crate) static ZEROED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The memory behind an allocation: heap memory through a `BytesMut`, or
/// (Linux, large allocations a futures-io source reads into) an anonymous
/// mapping, whose every byte is initialized from the start (see `mapped`).
#[derive(Debug)]
enum Mem {
    Heap(BytesMut),
    #[cfg(target_os = "linux")]
    Mapped(MappedBuf),
}

impl Default for Mem {
    fn default() -> Self {
        Mem::Heap(BytesMut::new())
    }
}

impl Mem {
    /// How many bytes from the view's start are initialized.
    #[inline]
    fn len(&self) -> usize {
        match self {
            Mem::Heap(b) => b.len(),
            #[cfg(target_os = "linux")]
            Mem::Mapped(m) => m.capacity(),
        }
    }

    #[inline]
    fn capacity(&self) -> usize {
        match self {
            Mem::Heap(b) => b.capacity(),
            #[cfg(target_os = "linux")]
            Mem::Mapped(m) => m.capacity(),
        }
    }

    #[inline]
    fn as_ptr(&self) -> *const u8 {
        match self {
            Mem::Heap(b) => b.as_ptr(),
            #[cfg(target_os = "linux")]
            Mem::Mapped(m) => m.as_ptr(),
        }
    }

    /// The initialized bytes.
    #[inline]
    fn bytes(&self) -> &[u8] {
        match self {
            Mem::Heap(b) => b,
            #[cfg(target_os = "linux")]
            Mem::Mapped(m) => m.as_slice(),
        }
    }

    #[inline]
    fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            Mem::Heap(b) => b,
            #[cfg(target_os = "linux")]
            Mem::Mapped(m) => m.as_mut_slice(),
        }
    }

    /// Forgets that bytes past `len` are initialized (a mapping's are all
    /// initialized, always).
    #[inline]
    fn truncate(&mut self, len: usize) {
        if let Mem::Heap(b) = self {
            b.truncate(len);
        }
    }

    /// Initializes (zeroes) bytes up to `len`, within the capacity.
    #[inline]
    fn zero_to(&mut self, len: usize) {
        debug_assert!(len <= self.capacity());
        if let Mem::Heap(b) = self {
            if b.len() < len {
                #[cfg(test)]
                ZEROED.with(|z| z.set(z.get() + (len - b.len())));
                b.resize(len, 0);
            }
        }
    }

    /// Appends past the initialized bytes, within the capacity.
    fn extend_from_slice(&mut self, bytes: &[u8]) {
        match self {
            Mem::Heap(b) => b.extend_from_slice(bytes),
            #[cfg(target_os = "linux")]
            Mem::Mapped(_) => unreachable!("a mapping is initialized whole"),
        }
    }

    #[inline]
    fn advance(&mut self, n: usize) {
        match self {
            Mem::Heap(b) => b.advance(n),
            #[cfg(target_os = "linux")]
            Mem::Mapped(m) => m.advance(n),
        }
    }
}

/// One allocation made by this module, seen through `buf`.
#[derive(Default)]
pub(crate) struct Allocation {
    /// A view into the allocation: all of it right after it was made, a
    /// suffix of it after frames were split off the front.
    buf: Mem,
    /// The allocation's first address. Only compared, never dereferenced.
    base: usize,
    /// The allocation's size; 0 for none.
    len: usize,
    /// INVARIANT: the allocation's first `init` bytes are initialized.
    /// Raised from `buf.len()` (initialized by construction) before `buf`
    /// is shortened; nothing ever de-initializes memory, so it only grows
    /// while the allocation lives.
    init: usize,
}

impl Allocation {
    /// Adopts `buf`, which must own a whole allocation (just made).
    fn adopt(buf: Mem) -> Self {
        Allocation {
            base: buf.as_ptr() as usize,
            len: buf.capacity(),
            init: buf.len(),
            buf,
        }
    }

    /// A new mapping of at least `len` bytes, if mappings are used for
    /// `len` and the kernel grants one.
    fn mapped(len: usize) -> Option<Self> {
        #[cfg(target_os = "linux")]
        return MappedBuf::new(len).map(|m| Self::adopt(Mem::Mapped(m)));
        #[cfg(not(target_os = "linux"))]
        {
            let _ = len;
            None
        }
    }

    /// An allocation of at least `len` bytes: zeroed (its whole capacity
    /// initialized; large ones come from `alloc_zeroed`, lazily faulted
    /// zero pages, so no memset) or left uninitialized.
    fn new(len: usize, memory: Memory) -> Self {
        if memory == Memory::Mapped {
            if let Some(mapped) = Self::mapped(len) {
                return mapped;
            }
        }
        if memory != Memory::Uninit {
            let mut b = BytesMut::zeroed(len);
            let cap = b.capacity();
            if cap > len {
                b.resize(cap, 0);
            }
            Self::adopt(Mem::Heap(b))
        } else {
            Self::adopt(Mem::Heap(BytesMut::with_capacity(len)))
        }
    }

    /// The allocation's size (0 for none).
    #[inline]
    pub(crate) fn size(&self) -> usize {
        self.len
    }

    /// Where `buf` starts, as an offset into the allocation.
    #[inline]
    fn view_offset(&self) -> usize {
        (self.buf.as_ptr() as usize).wrapping_sub(self.base)
    }

    /// Records `buf`'s initialized bytes in the allocation's watermark,
    /// before `buf` is shortened.
    #[inline]
    fn note_init(&mut self) {
        if self.len != 0 {
            self.init = self.init.max(self.view_offset() + self.buf.len());
        }
    }

    /// Shortens `buf` to `len` bytes, remembering what was initialized.
    fn truncate(&mut self, len: usize) {
        self.note_init();
        self.buf.truncate(len);
    }

    /// Makes room for `want` bytes in all, keeping the view's first `kept`
    /// bytes at its front, without allocating: only if nothing else holds
    /// the allocation (no frame split off it is still alive). Then the
    /// view's initialized length covers every byte the allocation knows to
    /// be initialized.
    fn reclaim(&mut self, kept: usize, want: usize) -> bool {
        debug_assert!(want > kept);
        let b = match &mut self.buf {
            Mem::Heap(b) => b,
            #[cfg(target_os = "linux")]
            Mem::Mapped(m) => return m.reclaim(kept, want),
        };
        debug_assert_eq!(b.len(), kept);
        if self.len == 0 || !b.try_reclaim(want - kept) {
            return false;
        }
        let cap = b.capacity();
        let offset = (b.as_ptr() as usize).wrapping_sub(self.base);
        let known = self.init.saturating_sub(offset).min(cap);
        if known > kept {
            // SAFETY: `try_reclaim` never allocates, so `b` still lies in
            // this allocation, whose first `init` bytes are initialized
            // (the INVARIANT on `init`); `b` starts `offset` bytes in, so
            // its first `known <= cap` bytes are among them. The bytes it
            // kept were moved, initialized, to its front.
            unsafe { b.set_len(known) };
        }
        true
    }

    /// Copies `parts`, one after another, to the front of a fresh or
    /// reclaimed `buf` whose capacity holds them: over the initialized
    /// bytes it has, then past them.
    fn write_front(&mut self, parts: &[&[u8]]) {
        let mut at = 0;
        for part in parts {
            let over = part.len().min(self.buf.len().saturating_sub(at));
            self.buf.bytes_mut()[at..at + over].copy_from_slice(&part[..over]);
            if over < part.len() {
                debug_assert_eq!(at + over, self.buf.len());
                self.buf.extend_from_slice(&part[over..]);
            }
            at += part.len();
        }
        debug_assert!(self.buf.capacity() >= at);
    }
}

/// The reader's memory: the current allocation and the unread bytes in it.
#[derive(Default)]
pub(crate) struct Region {
    /// INVARIANT: `head <= filled <= mem.buf.len()` and
    /// `filled <= end <= mem.buf.capacity()`. `mem.buf[head..filled]` are
    /// the unread bytes, in stream order; `mem.buf[..mem.buf.len()]` is
    /// initialized (the watermark, see the module docs); reads go into
    /// `[filled, end)`.
    mem: Allocation,
    head: usize,
    filled: usize,
    /// The end of the free tail: the capacity, or less when a large
    /// allocation is reused for a smaller read (so that it is soon let go).
    end: usize,
    /// Where the free tail lent to a completion source starts (an address,
    /// only compared), until it is given back ([`lend`](Self::lend)).
    /// INVARIANT while lent: the tail's memory belongs to the read in
    /// flight, and the region makes room only once the read is back. Until
    /// then either `mem.buf` still ends at `filled`, right where the tail
    /// starts (consumption at the front keeps that), or bytes put back in
    /// front moved the unread ones to other memory, and the tail's bytes
    /// are copied after them when it comes back.
    lent: Option<usize>,
}

impl Region {
    /// The unread bytes.
    #[inline]
    pub(crate) fn unread(&self) -> &[u8] {
        &self.mem.buf.bytes()[self.head..self.filled]
    }

    /// The unread bytes, to rearrange in place (a chunked view cuts its
    /// framing out of them).
    #[inline]
    pub(crate) fn unread_mut(&mut self) -> &mut [u8] {
        &mut self.mem.buf.bytes_mut()[self.head..self.filled]
    }

    /// Keeps the first `n` unread bytes only (`n <= len()`): the rest were
    /// moved into them. Not while the tail is lent (it must start right
    /// after the unread bytes).
    #[inline]
    pub(crate) fn truncate_unread(&mut self, n: usize) {
        debug_assert!(n <= self.len() && self.lent.is_none());
        self.filled = self.head + n.min(self.len());
    }

    /// Number of unread bytes.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.filled - self.head
    }

    /// Unread plus free bytes, from the first unread byte.
    #[inline]
    pub(crate) fn room(&self) -> usize {
        self.end - self.head
    }

    /// Length of the free tail.
    #[inline]
    pub(crate) fn free(&self) -> usize {
        self.end - self.filled
    }

    /// Size of the allocation held (0 for none).
    #[inline]
    pub(crate) fn allocated(&self) -> usize {
        self.mem.len
    }

    /// Discards up to `n` unread bytes; returns how many.
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) -> usize {
        let n = n.min(self.len());
        self.head += n;
        // (Not while the tail is lent: the bytes coming back land after
        // `filled`, where the view must still end.)
        if self.head == self.filled && self.lent.is_none() {
            // Nothing unread: the next read starts at the front again, with
            // no `BytesMut` bookkeeping; the memory stays initialized.
            self.head = 0;
            self.filled = 0;
        }
        n
    }

    /// Takes back the last `n` consumed bytes, if they are still in the
    /// view (consumed, not split off, and not forgotten by a rewind when
    /// the buffer emptied). Returns whether it could.
    #[inline]
    pub(crate) fn unconsume(&mut self, n: usize) -> bool {
        if n > self.head {
            return false;
        }
        self.head -= n;
        true
    }

    /// Drops the consumed prefix from the view, so that it starts at the
    /// first unread byte (before a split, or before room is made).
    #[inline]
    pub(crate) fn drop_consumed(&mut self) {
        if self.head != 0 {
            self.mem.buf.advance(self.head);
            self.filled -= self.head;
            self.end -= self.head;
            self.head = 0;
        }
    }

    /// Splits the first `n` unread bytes off as a zero-copy `Bytes`, of
    /// which the first `skip` are dropped. `skip <= n <= len()`.
    #[inline(always)]
    pub(crate) fn take(&mut self, skip: usize, n: usize) -> Bytes {
        debug_assert!(skip <= n && n <= self.len());
        if n == skip {
            self.consume(n);
            return Bytes::new();
        }
        self.drop_consumed();
        self.filled -= n;
        self.end -= n;
        match &mut self.mem.buf {
            // The hot path, kept small enough to inline: every frame and
            // line leaves through it.
            Mem::Heap(b) => {
                // The header is skipped on the frozen `Bytes`, whose
                // `advance` is a pointer bump; `BytesMut`'s re-checks its
                // representation first.
                let mut frame = b.split_to(n).freeze();
                if skip != 0 {
                    frame.advance(skip);
                }
                frame
            }
            #[cfg(target_os = "linux")]
            Mem::Mapped(m) => take_mapped(m, skip, n),
        }
    }

    // ------------------------------------------------------------ reads

    /// The free tail as initialized memory, for a source that reads into
    /// `&mut [u8]`: at most `max` bytes, and memory not yet initialized is
    /// zeroed only up to `ahead` bytes past the unread ones. Non-empty
    /// when the free tail is and `max, ahead > 0`.
    #[inline]
    pub(crate) fn init_window(&mut self, max: usize, ahead: usize) -> &mut [u8] {
        let stop = self.end.min(self.filled.saturating_add(max));
        if self.mem.buf.len() < stop {
            // Within the capacity (`stop <= end`): no reallocation.
            self.mem
                .buf
                .zero_to(stop.min(self.filled.saturating_add(ahead)));
        }
        let stop = stop.min(self.mem.buf.len());
        &mut self.mem.buf.bytes_mut()[self.filled..stop]
    }

    /// Records that a source wrote `n` bytes at the start of
    /// [`init_window`](Self::init_window).
    #[inline]
    pub(crate) fn commit(&mut self, n: usize) {
        debug_assert!(self.filled + n <= self.end.min(self.mem.buf.len()));
        self.filled += n;
    }

    /// The free tail as possibly uninitialized memory, at most `max`
    /// bytes, for a source that reads into `MaybeUninit<u8>` (tokio's
    /// `ReadBuf`): nothing is zeroed.
    #[inline]
    pub(crate) fn uninit_window(&mut self, max: usize) -> &mut [MaybeUninit<u8>] {
        let n = (self.end - self.filled).min(max);
        match &mut self.mem.buf {
            // Such a source has no use for initialized free bytes: the
            // view ends at the unread ones, and the window is its spare
            // capacity.
            Mem::Heap(b) => {
                b.truncate(self.filled);
                &mut b.spare_capacity_mut()[..n]
            }
            #[cfg(target_os = "linux")]
            Mem::Mapped(_) => unreachable!("a mapping's window is handed out initialized"),
        }
    }

    /// Records that a source initialized the first `n` bytes of
    /// [`uninit_window`](Self::uninit_window).
    ///
    /// # Safety
    ///
    /// The window was the last one handed out, and its first `n` bytes
    /// were initialized since.
    #[inline]
    pub(crate) unsafe fn commit_uninit(&mut self, n: usize) {
        debug_assert!(self.mem.buf.len() == self.filled && self.filled + n <= self.end);
        self.filled += n;
        if let Mem::Heap(b) = &mut self.mem.buf {
            // SAFETY: `uninit_window` set `b.len()` to `filled` and handed
            // out spare capacity from there; the caller guarantees its
            // first `n` bytes, within `end <= capacity`, were initialized.
            unsafe { b.set_len(self.filled) };
        }
    }

    /// Lends the free tail, `[filled, end)`, to a completion source (an
    /// io_uring read owns its buffer until the kernel is done with it): a
    /// `BytesMut` of length 0 whose capacity is that memory, split off this
    /// allocation, so the bytes the kernel writes are already where they
    /// will live. Nothing is zeroed. The unread bytes stay readable and can
    /// be taken meanwhile; [`give_back`](Self::give_back) joins the tail
    /// again.
    pub(crate) fn lend(&mut self) -> BytesMut {
        debug_assert!(self.lent.is_none() && self.filled < self.end);
        match &mut self.mem.buf {
            Mem::Heap(b) => {
                b.truncate(self.filled);
                let tail = b.split_off(self.filled);
                self.lent = Some(tail.as_ptr() as usize);
                tail
            }
            #[cfg(target_os = "linux")]
            Mem::Mapped(_) => unreachable!("a completion source is never given a mapping"),
        }
    }

    /// Whether the memory is a mapping (initialized whole).
    #[inline]
    pub(crate) fn is_mapped(&self) -> bool {
        #[cfg(target_os = "linux")]
        if let Mem::Mapped(_) = self.mem.buf {
            return true;
        }
        false
    }

    /// Whether the free tail is lent out.
    #[inline]
    pub(crate) fn is_lent(&self) -> bool {
        self.lent.is_some()
    }

    /// Takes back the tail of [`lend`](Self::lend), with the bytes the
    /// source read at its front (its length). Returns how many, or `None`
    /// if `tail` is not the memory lent (a broken source): then the lent
    /// memory is forgotten and the region stays valid without it.
    pub(crate) fn give_back(&mut self, tail: BytesMut) -> Option<usize> {
        let n = tail.len();
        let Some(at) = self.lent.take() else {
            // A read lent another reader's memory (the source was taken out
            // of a reader with the read in flight, `into_parts`, and put in
            // this one): its bytes are the stream's next, copied once.
            self.append(&tail);
            return Some(n);
        };
        let joined = self.ends_at(at);
        let Mem::Heap(b) = &mut self.mem.buf else {
            unreachable!("only heap memory is lent")
        };
        if tail.as_ptr() as usize != at {
            // Not the memory lent. Where the region still ends at the lent
            // point, its free tail went with the lent memory.
            if joined {
                self.end = self.filled;
            }
            return None;
        }
        if joined {
            // Contiguous pieces of one allocation: joined in O(1).
            b.unsplit(tail);
            self.filled += n;
            self.end = self.end.clamp(self.filled, b.capacity());
        } else {
            // The unread bytes moved while the tail was out (bytes were put
            // back in front): the bytes read follow them, copied once.
            self.append(&tail);
        }
        Some(n)
    }

    /// Copies `bytes` after the unread ones, growing the allocation if its
    /// free tail is too short.
    fn append(&mut self, bytes: &[u8]) {
        if self.free() < bytes.len() {
            self.grow(self.len() + bytes.len(), Memory::Uninit);
        }
        self.mem.truncate(self.filled);
        // Within the capacity (`filled + len <= end`): no reallocation.
        self.mem.buf.extend_from_slice(bytes);
        self.filled += bytes.len();
    }

    /// Forgets a lent tail that will never come back (its source was
    /// dropped or replaced with the read in flight): the region goes on
    /// without that memory.
    pub(crate) fn forget_lent(&mut self) {
        if let Some(at) = self.lent.take() {
            if self.ends_at(at) {
                // The free tail went with the lent memory.
                self.end = self.filled;
            }
        }
    }

    /// Whether the view still ends with the unread bytes right where the
    /// lent memory starts (`at`): nothing moved them while it was out.
    fn ends_at(&self, at: usize) -> bool {
        let len = self.mem.buf.len();
        len == self.filled && self.mem.buf.as_ptr().wrapping_add(len) as usize == at
    }

    // ------------------------------------------------------------ room

    /// Reuses the current allocation in place for `want` bytes in all,
    /// keeping the unread bytes, if nothing else holds it. The free tail
    /// then ends at the capacity (`whole`) or at `want`. With `stash`, when
    /// the unread bytes overlap the front (a few bytes consumed just
    /// before) they are moved by hand through a small copy, rather than
    /// making a second allocation while this one is held.
    pub(crate) fn reuse(&mut self, want: usize, whole: bool, stash: bool) -> bool {
        self.drop_consumed();
        self.mem.truncate(self.filled);
        if self.mem.reclaim(self.filled, want) {
            self.end = self.free_end(want, whole);
            return true;
        }
        if stash && self.filled != 0 {
            let unread = self.unread().to_vec();
            self.mem.buf.truncate(0);
            if self.mem.reclaim(0, want) {
                self.mem.write_front(&[&unread]);
                self.end = self.free_end(want, whole);
                return true;
            }
            // Still held elsewhere: put the bytes back where they were
            // (the capacity holds them) for the next step to move.
            if self.mem.buf.len() < unread.len() {
                self.mem.buf.extend_from_slice(&unread);
            }
        }
        false
    }

    fn free_end(&self, want: usize, whole: bool) -> usize {
        if whole {
            self.mem.buf.capacity()
        } else {
            want
        }
    }

    /// Grows the allocation to at least `target` bytes, keeping the unread
    /// bytes. For a source that reads into initialized memory (`zeroed`),
    /// large sizes are a mapping, grown with `mremap`: new pages come
    /// zero-filled from the kernel, so nothing is zeroed here either.
    /// Otherwise heap memory, grown with `realloc`: for a large block the
    /// allocator remaps pages rather than copying, and old and new never
    /// coexist, so the peak is the new size; the new part is zeroed later,
    /// a window at a time, as reads reach it.
    pub(crate) fn grow(&mut self, target: usize, memory: Memory) {
        self.drop_consumed();
        #[cfg(target_os = "linux")]
        if memory == Memory::Mapped {
            if let Mem::Mapped(m) = &mut self.mem.buf {
                if m.grow(self.filled, target) {
                    let grown = std::mem::take(&mut self.mem.buf);
                    self.mem = Allocation::adopt(grown);
                    self.end = self.mem.buf.capacity();
                    return;
                }
            }
            // Heap memory, or a mapping a frame still shares: the unread
            // bytes move to a new mapping, once.
            if let Some(mut fresh) = Allocation::mapped(target) {
                fresh.write_front(&[self.unread()]);
                self.end = fresh.buf.capacity();
                self.mem = fresh;
                return;
            }
        }
        let heap = match std::mem::take(&mut self.mem.buf) {
            Mem::Heap(b) => b,
            #[cfg(target_os = "linux")]
            mapped @ Mem::Mapped(_) => {
                // The kernel refused to grow the mapping: the heap takes
                // the unread bytes instead.
                self.mem.buf = mapped;
                return self.fresh(target, Memory::Zeroed);
            }
        };
        let mut heap = heap;
        heap.truncate(self.filled);
        // Zero-copy when this view owns its allocation (nothing split off
        // it is alive); otherwise this copies the unread bytes once, as a
        // fresh allocation would.
        let mut v = Vec::from(heap);
        v.reserve_exact(target.saturating_sub(v.len()));
        // Vec -> Bytes -> BytesMut hands the allocation over whole.
        self.mem = Allocation::adopt(Mem::Heap(BytesMut::from(Bytes::from(v))));
        self.end = self.mem.buf.capacity();
    }

    /// Moves the unread bytes to a new allocation of at least `target`
    /// bytes (zeroed or not) and lets the current one go.
    pub(crate) fn fresh(&mut self, target: usize, memory: Memory) {
        let mut fresh = Allocation::new(target, memory);
        fresh.write_front(&[self.unread()]);
        self.filled = self.len();
        self.head = 0;
        self.end = fresh.buf.capacity();
        self.mem = fresh;
    }

    /// Swaps the current allocation for `other`, an empty one that could
    /// be reclaimed for `want` bytes; the unread bytes (few) are copied to
    /// its front. Returns the former allocation, emptied; or gives `other`
    /// back if it is still held elsewhere.
    pub(crate) fn switch_to(
        &mut self,
        mut other: Allocation,
        want: usize,
        whole: bool,
    ) -> Result<Allocation, Allocation> {
        if !other.reclaim(0, want) {
            return Err(other);
        }
        self.drop_consumed();
        other.write_front(&[self.unread()]);
        self.end = if whole { other.buf.capacity() } else { want };
        let mut old = std::mem::replace(&mut self.mem, other);
        old.truncate(0);
        Ok(old)
    }

    /// [`switch_to`](Self::switch_to) a new allocation of `target` bytes.
    pub(crate) fn switch_to_fresh(&mut self, target: usize, memory: Memory) -> Allocation {
        let mut fresh = Allocation::new(target, memory);
        fresh.truncate(0);
        match self.switch_to(fresh, target.max(1), true) {
            Ok(old) => old,
            Err(_) => unreachable!("a fresh allocation is held by nothing else"),
        }
    }

    /// Lets go of the allocation if nothing is unread (and nothing is
    /// lent: a read in flight keeps the allocation alive anyway).
    pub(crate) fn release_if_empty(&mut self) {
        if self.len() == 0 && self.mem.len != 0 && self.lent.is_none() {
            *self = Region::default();
        }
    }

    /// Puts `bytes` in front of the unread bytes. With nothing unread, the
    /// allocation is reused in place if it is large enough and nothing
    /// else holds it (`reuse`, free tail `whole` or up to the bytes), grown
    /// if it is too small, and let go for a fresh one if it is held. With
    /// unread bytes, a fresh allocation of `fresh_len` takes both.
    pub(crate) fn put_front(&mut self, bytes: &[u8], whole: bool, fresh_len: usize) {
        if self.len() == 0 {
            self.head = 0;
            self.filled = 0;
            self.mem.truncate(0);
            if self.mem.len >= bytes.len() && self.mem.reclaim(0, bytes.len()) {
                self.mem.write_front(&[bytes]);
                self.end = self.free_end(bytes.len(), whole);
            } else {
                let mut v = match std::mem::take(&mut self.mem.buf) {
                    // Grown with `realloc` when nothing else holds it.
                    Mem::Heap(b) => Vec::from(b),
                    #[cfg(target_os = "linux")]
                    Mem::Mapped(_) => Vec::new(),
                };
                v.clear();
                v.reserve_exact(bytes.len());
                v.extend_from_slice(bytes);
                self.mem = Allocation::adopt(Mem::Heap(BytesMut::from(Bytes::from(v))));
                self.end = self.mem.buf.capacity();
            }
            self.filled = bytes.len();
            return;
        }
        let mut fresh = Allocation::new(fresh_len.max(bytes.len() + self.len()), Memory::Uninit);
        fresh.write_front(&[bytes, self.unread()]);
        self.filled = bytes.len() + self.len();
        self.head = 0;
        self.end = fresh.buf.capacity();
        self.mem = fresh;
    }

    /// Where the free tail starts. For tests of memory reuse: only
    /// compared, never read through.
    #[cfg(test)]
    pub(crate) fn free_ptr(&self) -> *const u8 {
        self.mem.buf.as_ptr().wrapping_add(self.filled)
    }

    /// Checks the invariants (debug builds and tests).
    #[inline]
    pub(crate) fn debug_check(&self) {
        debug_assert!(self.head <= self.filled);
        debug_assert!(self.filled <= self.mem.buf.len());
        debug_assert!(
            self.filled <= self.end && (self.lent.is_some() || self.end <= self.mem.buf.capacity())
        );
    }
}

/// [`Region::take`] from a mapping: out of line, since it is rare (large
/// frames) and would keep the heap path from inlining.
#[cfg(target_os = "linux")]
#[cold]
#[inline(never)]
fn take_mapped(m: &mut MappedBuf, skip: usize, n: usize) -> Bytes {
    let mut frame = m.split_to(n);
    if skip != 0 {
        frame.advance(skip);
    }
    frame
}

/// The allocation set aside between two reads (see the policy), empty.
pub(crate) type Spare = Allocation;

impl Allocation {
    /// Whether there is an allocation at all.
    #[inline]
    pub(crate) fn is_some(&self) -> bool {
        self.len != 0
    }
}
