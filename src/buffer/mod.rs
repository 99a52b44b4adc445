//! The bottom layer: the one contiguous buffer behind a
//! [`StreamReader`](crate::StreamReader) (this file), the queue of pending
//! bytes behind a [`StreamWriter`](crate::StreamWriter) (`write_queue`), and
//! the incremental delimiter search both the reader and the codecs use
//! (`search`). All memory policy lives here, behind small APIs.
//!
//! Layout of `buf` (a `BytesMut` whose whole length is initialized memory):
//!
//! ```text
//!  buf[..head]   buf[head..filled]      buf[filled..]
//! +-------------+----------------------+------------------------------+
//! | consumed    | unread bytes         | free tail (zeroed or stale)  |
//! +-------------+----------------------+------------------------------+
//!                 ^ frames are split      ^ the inner reader writes here
//!                   off the front as        directly: no staging copy
//!                   zero-copy `Bytes`
//! ```
//!
//! Consuming bytes (`consume`, a borrowed line) only moves `head`: moving
//! the `BytesMut` start costs several times more, which shows on short
//! lines. The consumed prefix is dropped from `buf` when a frame is split
//! off or room is made, and forgotten for free when nothing is unread.
//!
//! The free tail is `buf[filled..end]`. For a futures-io source it is
//! *initialized* memory, because `AsyncRead::poll_read` takes `&mut [u8]`:
//! new memory is zeroed once when it is allocated (large allocations come
//! from `alloc_zeroed`, which the OS backs with lazily faulted zero pages),
//! never on every read, and `buf.len() == end`. A source that can read into
//! uninitialized memory (tokio's `ReadBuf`; see [`Buffer::use_uninit`])
//! puts the buffer in its *uninit mode*: then `buf.len() == filled`, the
//! free tail is `buf`'s spare capacity up to `end`, and no memory is ever
//! zeroed, so a large frame growing as it arrives costs no memset.
//!
//! Memory policy, in one place:
//! - nothing is allocated until the first read;
//! - the normal allocation is `capacity` bytes; it is reused in place when
//!   the caller has dropped the frames split off it (`try_reclaim`);
//! - a request for more than `capacity` contiguous bytes gets an allocation
//!   of its own, either exactly the request (the caller knows the size) or
//!   growing with the bytes that arrive (the size came off the wire);
//! - once a large frame has been handed out, the next small read (its
//!   successor's header) goes into a normal allocation again, and the large
//!   one is set aside as the `spare`: if that header announces another large
//!   frame and the caller has dropped the previous one by then, the memory is
//!   reused in place (no allocation, no zeroing, no page faults: this is what
//!   keeps a stream of 1 MiB frames at the speed of the socket). Small
//!   frames split off meanwhile (a header the caller keeps) pin only the
//!   normal allocation;
//! - the spare goes at the next small read that needs room, and whenever the
//!   reader waits for data with nothing unread (as does the buffer itself),
//!   so a reader returns to its normal footprint after large frames and an
//!   idle reader holds no buffer.

use std::mem::MaybeUninit;

use bytes::{Buf, Bytes, BytesMut};

pub(crate) mod search;
mod write_queue;

pub(crate) use write_queue::WriteQueue;
pub use write_queue::MAX_IOVECS;

use search::{Finder, Scan};

/// The reader's buffer. See the module docs for the layout.
pub(crate) struct Buffer {
    /// INVARIANT: `buf[head..filled]` are the unread bytes, in stream
    /// order; `buf[filled..]` is initialized free space for the next read;
    /// `buf[..head]` were consumed and are garbage.
    buf: BytesMut,
    /// INVARIANT: `head <= filled`.
    head: usize,
    /// INVARIANT: `filled <= buf.len()`.
    filled: usize,
    /// The end of the free tail, as an offset into `buf`.
    ///
    /// INVARIANT: `filled <= end <= buf.capacity()`. Outside uninit mode
    /// `end == buf.len()` (the free tail is initialized); in uninit mode
    /// `buf.len() == filled` and `buf`'s spare capacity up to `end` is the
    /// free tail, possibly uninitialized (never read before a source wrote
    /// it: [`Buffer::commit_uninit`] extends `buf.len()` over written bytes
    /// only).
    end: usize,
    /// Uninit mode (see the module docs): set once, by the first read from a
    /// source that reads into uninitialized memory, and never unset.
    uninit: bool,
    /// Size of the allocation `buf` was carved from; 0 before the first one.
    ///
    /// INVARIANT (outside uninit mode): every byte of that allocation is
    /// initialized. Allocations are then only made by [`zeroed`] and
    /// [`Buffer::grow_in_place`], which both initialize their full capacity;
    /// `make_room` relies on this to reuse memory without zeroing it again.
    /// In uninit mode nothing beyond `buf.len()` is assumed initialized.
    alloc_len: usize,
    /// The normal allocation size (the reader's capacity).
    capacity: usize,
    /// How many leading unread bytes a delimiter search (`read_until`,
    /// `peek_until`) has already scanned. Kept here because every
    /// consumption must shift it.
    pub(crate) searched: usize,
    /// The same for the decoder in use ([`DecodeBuf::scanned`]): scan
    /// progress that refers to buffer positions lives here, never in a
    /// decoder, so that no read between two decodes can make it stale.
    ///
    /// [`DecodeBuf::scanned`]: crate::frame::DecodeBuf::scanned
    pub(crate) decode_scanned: usize,
    /// How many buffered bytes the current decoder waits for before it is
    /// called again. Reset by every consumption, so a stale hint can never
    /// stall another operation.
    pub(crate) decode_need: usize,
    /// The decoder that `decode_scanned` and `decode_need` belong to (its
    /// address and type): another decoder starts without them.
    pub(crate) decode_owner: (usize, usize),
    /// The stream offset of the first unread byte: every byte handed out so
    /// far, from the buffer or read straight into caller memory, minus any
    /// put back. Lets a decoder see that other reads took bytes.
    pub(crate) position: u64,
    /// Where a `copy_until` or `skip_until` that consumed part of a run
    /// (bytes before a delimiter) stopped without reaching its end: an
    /// error, or a dropped future. A call that starts at this position
    /// continues that run, so an end of stream there cuts the run
    /// (`UnexpectedEof`) rather than being a clean end.
    open_run: Option<u64>,
    /// The inner reader reported end of stream; it is not polled again.
    pub(crate) eof: bool,
    /// The allocation of the last large frame, set aside (empty) for the
    /// next large frame while small reads (its header) use a normal one.
    /// Only ever held between two reads; see `make_room`.
    spare: BytesMut,
    /// Size of `spare`'s allocation; 0 if there is none.
    spare_len: usize,
}

impl Buffer {
    /// A buffer that allocates nothing until its first read.
    pub(crate) fn new(capacity: usize) -> Self {
        Buffer {
            buf: BytesMut::new(),
            head: 0,
            filled: 0,
            end: 0,
            uninit: false,
            alloc_len: 0,
            capacity,
            searched: 0,
            decode_scanned: 0,
            decode_need: 0,
            decode_owner: (0, 0),
            position: 0,
            open_run: None,
            eof: false,
            spare: BytesMut::new(),
            spare_len: 0,
        }
    }

    /// The reader's normal capacity.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Allocations up to this size are kept and reused in place for any
    /// read (8 times the capacity); larger ones only for another large
    /// frame (see the module docs). Frames a little larger than the
    /// capacity then cost no allocation each.
    #[inline]
    pub(crate) fn keep_limit(&self) -> usize {
        self.normal().saturating_mul(8)
    }

    /// The size of one ordinary read: at least one byte, so that a reader
    /// with capacity 0 still makes progress.
    #[inline]
    pub(crate) fn normal(&self) -> usize {
        self.capacity.max(1)
    }

    /// The unread bytes.
    #[inline]
    pub(crate) fn unread(&self) -> &[u8] {
        &self.buf[self.head..self.filled]
    }

    /// Number of unread bytes.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.filled - self.head
    }

    /// Whether the last large frame's allocation is set aside (see the
    /// module docs): the next header is then read alone, so that a large
    /// frame behind it goes straight into that memory.
    #[inline]
    pub(crate) fn has_spare(&self) -> bool {
        self.spare_len != 0
    }

    /// Size of the allocation currently held (0 if none). For tests of the
    /// memory policy.
    #[cfg(test)]
    pub(crate) fn allocated(&self) -> usize {
        self.alloc_len
    }

    /// Discards up to `n` unread bytes (clamped, never panics).
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.len());
        self.head += n;
        if self.head == self.filled {
            // Nothing unread: the next read starts at the front again, with
            // no `BytesMut` bookkeeping at all.
            self.head = 0;
            self.filled = 0;
            if self.uninit {
                self.buf.truncate(0);
            }
        }
        self.after_consume(n);
    }

    /// Drops the consumed prefix from `buf`, so that `buf` starts at the
    /// first unread byte (needed before splitting or reclaiming).
    #[inline]
    fn drop_consumed(&mut self) {
        if self.head != 0 {
            self.buf.advance(self.head);
            self.filled -= self.head;
            self.end -= self.head;
            self.head = 0;
        }
    }

    /// Splits the first `n` unread bytes off as a zero-copy `Bytes`.
    ///
    /// `n` must not exceed `len()`; callers check first.
    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Bytes {
        debug_assert!(n <= self.len());
        if n == 0 {
            return Bytes::new();
        }
        self.drop_consumed();
        let out = self.buf.split_to(n).freeze();
        self.filled -= n;
        self.end -= n;
        self.after_consume(n);
        out
    }

    /// Splits the first `header + payload` unread bytes off and returns the
    /// payload alone: one split, the header dropped with it.
    #[inline]
    pub(crate) fn take_payload(&mut self, header: usize, payload: usize) -> Bytes {
        let total = header + payload;
        debug_assert!(total <= self.len());
        if payload == 0 {
            self.consume(header);
            return Bytes::new();
        }
        self.drop_consumed();
        let mut frame = self.buf.split_to(total);
        frame.advance(header);
        self.filled -= total;
        self.end -= total;
        self.after_consume(total);
        frame.freeze()
    }

    /// Splits off every unread byte.
    pub(crate) fn take_all(&mut self) -> Bytes {
        self.take(self.len())
    }

    /// Searches the unread bytes with `finder`, up to `limit`, resuming where
    /// the last search for the same delimiter stopped.
    #[inline]
    pub(crate) fn scan(&mut self, finder: &Finder, limit: usize) -> Scan {
        finder.scan(&self.buf[self.head..self.filled], &mut self.searched, limit)
    }

    /// [`scan`](Self::scan) with the decoder's progress
    /// (`decode_scanned`) instead of `read_until`'s.
    #[inline]
    pub(crate) fn scan_for_decoder(&mut self, finder: &Finder, limit: usize) -> Scan {
        finder.scan(
            &self.buf[self.head..self.filled],
            &mut self.decode_scanned,
            limit,
        )
    }

    /// Copies unread bytes into `dst` and consumes them. Returns the count.
    #[inline]
    pub(crate) fn copy_to(&mut self, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.len());
        dst[..n].copy_from_slice(&self.unread()[..n]);
        self.consume(n);
        n
    }

    /// Every consumption goes through here: positions kept for searches
    /// shift with the front, so bytes already scanned stay scanned and no
    /// offset can point past the bytes it was taken on.
    #[inline]
    fn after_consume(&mut self, n: usize) {
        self.position += n as u64;
        self.searched = self.searched.saturating_sub(n);
        self.decode_scanned = self.decode_scanned.saturating_sub(n);
        self.decode_need = 0;
    }

    /// Consumes `n` bytes of a delimited run that goes on past them (bytes
    /// before a delimiter not found yet: `copy_until`, `skip_until`) and
    /// remembers where the run stopped, so that a call resuming there
    /// continues it.
    #[inline]
    pub(crate) fn consume_in_run(&mut self, n: usize) {
        if n > 0 {
            self.consume(n);
            self.open_run = Some(self.position);
        }
    }

    /// The run reached its end (its delimiter, or an end of stream that
    /// was reported as cutting it).
    #[inline]
    pub(crate) fn end_run(&mut self) {
        self.open_run = None;
    }

    /// At an end of stream: whether it falls between runs, so that it is a
    /// clean end. Nothing is buffered, the call under way consumed nothing
    /// (`consumed`), and no earlier call stopped here inside a run.
    #[inline]
    pub(crate) fn ended_between_runs(&self, consumed: u64) -> bool {
        consumed == 0 && self.len() == 0 && self.open_run != Some(self.position)
    }

    /// Lets go of the allocation if nothing is unread (an idle reader).
    pub(crate) fn release_if_empty(&mut self) {
        if self.len() == 0 && self.alloc_len != 0 {
            self.buf = BytesMut::new();
            self.alloc_len = 0;
            self.head = 0;
            self.filled = 0;
            self.end = 0;
        }
        self.drop_spare();
    }

    fn drop_spare(&mut self) {
        if self.spare_len != 0 {
            self.spare = BytesMut::new();
            self.spare_len = 0;
        }
    }

    /// Puts `bytes` back in front of the unread bytes (cancellation of a
    /// read into caller memory).
    ///
    /// With nothing unread (the usual case: the read had drained the
    /// buffer), the current allocation is reused in place when it is large
    /// enough and nothing else holds it, and let go first otherwise, so a
    /// read cancelled again and again holds one put-back copy at a time,
    /// never two, and pays no page faults after the first.
    pub(crate) fn unread_front(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        // Bytes handed out earlier (by the read being undone) come back.
        self.position = self.position.saturating_sub(bytes.len() as u64);
        if self.len() == 0 {
            self.drop_spare();
            self.head = 0;
            self.filled = 0;
            let keep = self.keep_limit();
            let reclaimed = (self.alloc_len >= bytes.len())
                .then(|| {
                    reclaim(
                        &mut self.buf,
                        self.alloc_len,
                        bytes.len(),
                        keep,
                        self.uninit,
                    )
                })
                .flatten();
            if let Some(end) = reclaimed {
                place_front(&mut self.buf, bytes, self.uninit);
                self.end = end;
                self.filled = bytes.len();
                self.searched = 0;
                self.decode_scanned = 0;
                self.decode_need = 0;
                return;
            }
            // Too small: grow it with `realloc` (large blocks are remapped,
            // not copied, and old and new never coexist), or, if frames
            // split off it are still held, let it go and allocate anew.
            let mut v = Vec::from(std::mem::take(&mut self.buf));
            v.clear();
            v.reserve_exact(bytes.len());
            v.extend_from_slice(bytes);
            let cap = v.capacity();
            if !self.uninit {
                // Initialize the whole allocation (INVARIANT on `alloc_len`).
                v.resize(cap, 0);
            }
            self.buf = BytesMut::from(Bytes::from(v));
            self.end = self.buf.capacity();
            self.alloc_len = cap;
            self.filled = bytes.len();
            self.searched = 0;
            self.decode_scanned = 0;
            self.decode_need = 0;
            return;
        }
        let total = bytes.len() + self.len();
        let len = total.max(self.normal());
        let (mut fresh, end) = allocate(len, self.uninit);
        if self.uninit {
            fresh.extend_from_slice(bytes);
            fresh.extend_from_slice(self.unread());
        } else {
            fresh[..bytes.len()].copy_from_slice(bytes);
            fresh[bytes.len()..total].copy_from_slice(self.unread());
        }
        self.alloc_len = end;
        self.end = end;
        self.buf = fresh;
        self.head = 0;
        self.filled = total;
        // New bytes in front: every scan starts again.
        self.searched = 0;
        self.decode_scanned = 0;
        self.decode_need = 0;
    }

    /// Makes sure the free tail is non-empty and `unread + free >= min_len`,
    /// growing to `target` bytes if it has to.
    ///
    /// `claim` is how many contiguous bytes the caller will eventually want
    /// (a large frame's size, possibly off the wire; 0 if unknown): the
    /// current allocation is reused for up to that much, since reusing
    /// memory already held commits none. New memory is only ever `target`.
    ///
    /// `target` must be at least `min_len` and more than `len()`.
    #[inline]
    pub(crate) fn prepare(&mut self, min_len: usize, target: usize, claim: usize) {
        let room = self.end - self.head;
        // With a spare that may hold the claimed frame, switch to it before
        // reading more into the normal allocation (which would be copied).
        let to_spare = self.spare_len != 0 && claim > room;
        if self.end == self.filled || room < min_len || to_spare {
            self.make_room(target.max(min_len), claim);
        }
        debug_assert!(self.end > self.filled);
        debug_assert!(self.end <= self.buf.capacity());
        debug_assert!(if self.uninit {
            self.buf.len() == self.filled
        } else {
            self.buf.len() == self.end
        });
    }

    #[cold]
    fn make_room(&mut self, target: usize, claim: usize) {
        self.drop_consumed();
        debug_assert!(target > self.filled);
        let keep = self.keep_limit();
        let few_unread = self.filled <= self.normal();
        if claim > keep {
            // A large frame is coming: reuse the last large frame's
            // allocation, if the caller has dropped that frame by now.
            if self.spare_len != 0 && self.alloc_len <= keep && few_unread {
                let mut spare = std::mem::take(&mut self.spare);
                let spare_len = std::mem::take(&mut self.spare_len);
                let want = target.max(claim.min(spare_len));
                if let Some(end) = reclaim(&mut spare, spare_len, want, keep, self.uninit) {
                    // The normal allocation becomes the spare, for the next
                    // header.
                    self.switch_to(spare, spare_len, end);
                    return;
                }
            }
            // Not usable for this frame: let it go before memory is made
            // for the frame, so that two large allocations are never held.
            self.drop_spare();
        } else if self.alloc_len > keep && few_unread {
            // A small read after a large frame (its successor's header):
            // set the large allocation aside for a next large frame and go
            // back to a normal one, so that small frames split off now (a
            // header the caller keeps) do not pin the large memory.
            let mut normal = std::mem::take(&mut self.spare);
            let mut normal_len = std::mem::take(&mut self.spare_len);
            let reclaimed = (normal_len != 0)
                .then(|| reclaim(&mut normal, normal_len, target, keep, self.uninit))
                .flatten();
            let end = match reclaimed {
                Some(end) => end,
                None => {
                    let end;
                    (normal, end) = allocate(target, self.uninit);
                    normal_len = end;
                    end
                }
            };
            self.switch_to(normal, normal_len, end);
            return;
        } else {
            // A second small read in a row: no large frame followed.
            self.drop_spare();
        }
        // Reuse the current allocation in place unless it is oversized for
        // what is wanted now (memory hygiene, see the module docs).
        let reuse = target.max(claim.min(self.alloc_len));
        // The unread bytes, when they had to be taken out of `buf`.
        let mut stash: Option<Vec<u8>> = None;
        if self.alloc_len != 0 && self.alloc_len <= keep.max(reuse) {
            self.buf.truncate(self.filled);
            let mut reclaimed =
                reclaim_keeping(&mut self.buf, self.alloc_len, reuse, keep, self.uninit);
            if reclaimed.is_none() && self.filled != 0 && few_unread && reuse <= self.alloc_len {
                // The allocation is big enough, yet `try_reclaim` moves
                // unread bytes to the front only if they do not overlap it,
                // which they do when a few bytes (a header) were consumed
                // just before. Move them by hand through a small copy,
                // rather than allocating anew while the old allocation is
                // still held (peak old + new).
                stash = Some(self.buf[..self.filled].to_vec());
                self.buf.truncate(0);
                reclaimed = reclaim(&mut self.buf, self.alloc_len, reuse, keep, self.uninit);
            }
            if let Some(end) = reclaimed {
                if let Some(unread) = stash {
                    place_front(&mut self.buf, &unread, self.uninit);
                }
                self.end = end;
                return;
            }
        }
        if self.filled > self.normal() {
            self.grow_in_place(target);
        } else {
            // Little to move: a fresh zeroed allocation (lazily faulted zero
            // pages when large, so no memset; not zeroed at all in uninit
            // mode) and one small copy.
            let (mut fresh, end) = allocate(target, self.uninit);
            let unread = match &stash {
                Some(unread) => unread,
                None => &self.buf[..self.filled],
            };
            place_front(&mut fresh, unread, self.uninit);
            self.alloc_len = end;
            self.end = end;
            self.buf = fresh;
        }
    }

    /// Makes `other` (an allocation of `other_len` bytes made by this
    /// module, reclaimed and long enough, its free tail ending at
    /// `other_end`) the buffer, with the few unread bytes copied to its
    /// front; the current allocation becomes the spare.
    fn switch_to(&mut self, mut other: BytesMut, other_len: usize, other_end: usize) {
        place_front(&mut other, &self.buf[..self.filled], self.uninit);
        self.end = other_end;
        self.buf.truncate(0);
        self.spare = std::mem::replace(&mut self.buf, other);
        self.spare_len = std::mem::replace(&mut self.alloc_len, other_len);
    }

    /// Grows a buffer holding many unread bytes (a large frame arriving)
    /// with `realloc`: for large blocks the allocator remaps pages instead
    /// of copying, and old and new blocks never coexist, so peak memory is
    /// the new size, not old + new. Only the new part is zeroed, and in
    /// uninit mode nothing is.
    fn grow_in_place(&mut self, target: usize) {
        // Zero-copy when this handle owns its allocation (the usual case:
        // nothing has been split off since it was made); otherwise this
        // copies the bytes once, as a fresh allocation would.
        let mut v = Vec::from(std::mem::take(&mut self.buf));
        v.reserve_exact(target.saturating_sub(v.len()));
        let cap = v.capacity();
        if !self.uninit {
            // Initialize the whole allocation (INVARIANT on `alloc_len`).
            v.resize(cap, 0);
        }
        // Vec -> Bytes -> BytesMut hands the allocation over without copying
        // (its spare capacity included).
        self.buf = BytesMut::from(bytes::Bytes::from(v));
        self.end = if self.uninit {
            self.buf.capacity()
        } else {
            self.buf.len()
        };
        self.alloc_len = cap;
    }

    /// Length of the free tail. Non-zero after `prepare`.
    #[cfg(test)]
    pub(crate) fn free_len(&self) -> usize {
        self.end - self.filled
    }

    /// Where the free tail starts. For tests of memory reuse.
    #[cfg(test)]
    pub(crate) fn free_ptr(&self) -> *const u8 {
        // Only compared, never read through.
        self.buf.as_ptr().wrapping_add(self.filled)
    }

    /// Puts the buffer in uninit mode (see the module docs) if it is not
    /// already: called before every read from a source that reads into
    /// uninitialized memory. Nothing is lost: the initialized free tail
    /// becomes spare capacity, treated as uninitialized from now on.
    #[inline]
    pub(crate) fn use_uninit(&mut self) {
        if !self.uninit {
            self.uninit = true;
            self.buf.truncate(self.filled);
        }
    }

    /// The initialized free tail and the end-of-stream flag, borrowed
    /// together for one read from the inner reader. Not in uninit mode.
    #[inline]
    pub(crate) fn free_tail_and_eof(&mut self) -> (&mut [u8], &mut bool) {
        debug_assert!(!self.uninit);
        (&mut self.buf[self.filled..self.end], &mut self.eof)
    }

    /// The free tail as possibly uninitialized memory, and the end-of-stream
    /// flag, for one read in uninit mode.
    #[inline]
    pub(crate) fn free_spare_and_eof(&mut self) -> (&mut [MaybeUninit<u8>], &mut bool) {
        debug_assert!(self.uninit && self.buf.len() == self.filled);
        let free = self.end - self.filled;
        (&mut self.buf.spare_capacity_mut()[..free], &mut self.eof)
    }

    /// Records that the inner reader wrote `n` bytes into the free tail.
    #[inline]
    pub(crate) fn commit(&mut self, n: usize) {
        debug_assert!(!self.uninit && self.filled + n <= self.end);
        self.filled += n;
    }

    /// Marks the first `n` bytes of the free tail handed out by
    /// [`free_spare_and_eof`](Self::free_spare_and_eof) as unread bytes.
    ///
    /// # Safety
    ///
    /// Those `n` bytes must have been initialized (written by the source),
    /// and `n` must not exceed the free tail's length.
    #[inline]
    pub(crate) unsafe fn commit_uninit(&mut self, n: usize) {
        debug_assert!(self.uninit && self.filled + n <= self.end);
        self.filled += n;
        // SAFETY: `buf.len()` was `filled` (uninit mode) and the caller
        // guarantees the next `n` bytes, within the capacity (`end <=
        // buf.capacity()`), were initialized.
        unsafe { self.buf.set_len(self.filled) };
    }
}

/// Reuses the allocation behind `buf` (of `alloc_len` bytes, made by this
/// module) for `want` bytes in all, keeping its `len()` unread bytes, if
/// nothing else holds it. On success returns where the free tail ends: all
/// of the memory for a normal allocation (up to `keep` bytes), only `want`
/// for a larger one, so that small reads in it soon need room again and let
/// it go. Outside uninit mode `buf`'s length is set to cover it.
fn reclaim_keeping(
    buf: &mut BytesMut,
    alloc_len: usize,
    want: usize,
    keep: usize,
    uninit: bool,
) -> Option<usize> {
    let unread = buf.len();
    debug_assert!(want > unread);
    if !buf.try_reclaim(want - unread) {
        return None;
    }
    let cap = buf.capacity();
    debug_assert!(cap <= alloc_len && cap >= want);
    let len = if alloc_len > keep { want } else { cap };
    if uninit {
        // The free tail is spare capacity: nothing to initialize.
        return Some(len);
    }
    // SAFETY: `try_reclaim` never allocates, so `buf` still lies in the
    // allocation this module made, and every allocation it makes is fully
    // initialized (the INVARIANT on `Buffer::alloc_len`; bytes never become
    // uninitialized again). So `buf[..cap]` is initialized `u8`s, and
    // `len <= cap` (a successful `try_reclaim` of `want` bytes in all leaves
    // `cap >= want`). This skips re-zeroing memory on every reuse (measured
    // in benches/frames.rs).
    unsafe { buf.set_len(len) };
    Some(len)
}

/// [`reclaim_keeping`] for an empty `buf`.
fn reclaim(
    buf: &mut BytesMut,
    alloc_len: usize,
    want: usize,
    keep: usize,
    uninit: bool,
) -> Option<usize> {
    buf.truncate(0);
    reclaim_keeping(buf, alloc_len, want, keep, uninit)
}

/// Copies `bytes` to the front of a just-reclaimed or fresh `buf`: over its
/// initialized length outside uninit mode, appended to its (empty) length
/// in uninit mode, where the capacity holds them without reallocating.
fn place_front(buf: &mut BytesMut, bytes: &[u8], uninit: bool) {
    if uninit {
        debug_assert!(buf.is_empty() && buf.capacity() >= bytes.len());
        buf.extend_from_slice(bytes);
    } else {
        buf[..bytes.len()].copy_from_slice(bytes);
    }
}

/// A new allocation of at least `len` bytes and where its free tail ends
/// (its whole size): [`zeroed`], or uninitialized in uninit mode.
fn allocate(len: usize, uninit: bool) -> (BytesMut, usize) {
    if uninit {
        let b = BytesMut::with_capacity(len);
        let cap = b.capacity();
        (b, cap)
    } else {
        let b = zeroed(len);
        let cap = b.len();
        (b, cap)
    }
}

/// A zeroed allocation of at least `len` bytes whose *whole capacity* is
/// initialized and in `len()` (the INVARIANT on `Buffer::alloc_len`).
/// Large ones come from `alloc_zeroed`: lazily faulted zero pages, no memset.
fn zeroed(len: usize) -> BytesMut {
    let mut b = BytesMut::zeroed(len);
    let cap = b.capacity();
    if cap > len {
        b.resize(cap, 0);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        /// Whether `buffer` makes buffers in uninit mode (see
        /// `every_policy_test_in_uninit_mode`).
        static UNINIT: Cell<bool> = const { Cell::new(false) };
    }

    /// A buffer in the mode this thread's tests run in.
    fn buffer(capacity: usize) -> Buffer {
        let mut b = Buffer::new(capacity);
        if UNINIT.with(Cell::get) {
            b.use_uninit();
        }
        b
    }

    /// What a read does: writes into the free tail and commits.
    fn fill(b: &mut Buffer, data: &[u8]) {
        if b.uninit {
            let (tail, _) = b.free_spare_and_eof();
            let n = data.len().min(tail.len());
            for (slot, &x) in tail.iter_mut().zip(&data[..n]) {
                slot.write(x);
            }
            // SAFETY: the loop initialized the first `n` bytes of the tail.
            unsafe { b.commit_uninit(n) };
        } else {
            let (tail, _) = b.free_tail_and_eof();
            let n = data.len().min(tail.len());
            tail[..n].copy_from_slice(&data[..n]);
            b.commit(n);
        }
    }

    /// Reads every byte of an initialized free tail (Miri checks each is
    /// initialized); in uninit mode the tail is never read, only written.
    fn read_free_tail(b: &mut Buffer) {
        if !b.uninit {
            let (tail, _) = b.free_tail_and_eof();
            let sum: u32 = tail.iter().map(|&x| u32::from(x)).sum();
            assert!(sum < u32::MAX);
        }
    }

    /// A 16-byte-capacity buffer that handed out a 1000-byte frame, which
    /// the caller dropped; and where that frame's memory starts.
    fn after_dropped_large_frame() -> (Buffer, *const u8) {
        let mut b = buffer(16);
        b.prepare(1000, 1000, 1000);
        fill(&mut b, &[7u8; 1000]);
        let first = b.take(1000);
        let base = first.as_ptr();
        drop(first);
        (b, base)
    }

    #[test]
    fn allocates_nothing_until_asked() {
        let b = buffer(8192);
        assert_eq!(b.allocated(), 0);
        assert!(b.unread().is_empty());
    }

    #[test]
    fn take_is_zero_copy_and_keeps_order() {
        let mut b = buffer(16);
        b.prepare(1, 16, 0);
        fill(&mut b, b"hello world");
        let base = b.unread().as_ptr();
        let hello = b.take(5);
        assert_eq!(&hello[..], b"hello");
        assert_eq!(hello.as_ptr(), base, "split off the buffer, not copied");
        assert_eq!(b.unread(), b" world");
    }

    #[test]
    fn oversized_allocation_is_released_when_small_reads_follow() {
        let mut b = buffer(16);
        b.prepare(1000, 1000, 0);
        assert_eq!(b.allocated(), 1000);
        fill(&mut b, &[7u8; 1000]);
        drop(b.take(1000));
        // One small read (the next header) sets it aside and reads into a
        // normal allocation...
        b.prepare(1, 16, 0);
        assert_eq!(b.free_len(), 16);
        fill(&mut b, &[1u8; 16]);
        b.consume(10);
        // ...and the next small read that needs room lets go of it.
        assert_eq!(b.spare_len, 1000);
        b.prepare(16, 16, 0);
        assert_eq!(b.spare_len, 0);
        assert_eq!(b.allocated(), 16);
        assert_eq!(b.unread(), &[1u8; 6]);
    }

    #[test]
    fn oversized_allocation_is_released_when_idle() {
        let mut b = buffer(16);
        b.prepare(1000, 1000, 0);
        fill(&mut b, &[7u8; 1000]);
        drop(b.take(1000));
        b.release_if_empty();
        assert_eq!(b.allocated(), 0);
        // Also once set aside behind a header.
        b.prepare(1000, 1000, 0);
        fill(&mut b, &[7u8; 1000]);
        drop(b.take(1000));
        b.prepare(1, 16, 0);
        assert_eq!(b.spare_len, 1000);
        b.release_if_empty();
        assert_eq!((b.allocated(), b.spare_len), (0, 0));
    }

    #[test]
    fn large_allocation_is_reused_for_the_next_large_frame_once_dropped() {
        let (mut b, base) = after_dropped_large_frame();
        // The next frame claims 1000 bytes; only 16 are justified, but the
        // memory already held is reused whole: no new allocation.
        b.prepare(1, 16, 1000);
        assert_eq!(b.allocated(), 1000);
        assert_eq!(b.free_len(), 1000);
        assert_eq!(b.free_ptr(), base);
    }

    #[test]
    fn large_allocation_is_reused_when_unread_bytes_overlap_its_front() {
        // A header consumed separately, then a large frame right behind it:
        // the unread bytes sit just past the front and must move there.
        let (mut b, base) = after_dropped_large_frame();
        b.prepare(1, 16, 0); // the header read: a normal allocation
        fill(&mut b, b"HDR:abcdefghijkl");
        b.consume(4);
        b.prepare(1000, 1000, 1000);
        assert_eq!(b.allocated(), 1000, "reused, not a second allocation");
        assert_eq!(b.unread(), b"abcdefghijkl");
        assert_eq!(b.unread().as_ptr(), base);
    }

    #[test]
    fn held_header_pins_only_the_normal_allocation() {
        let (mut b, base) = after_dropped_large_frame();
        b.prepare(4, 16, 0);
        fill(&mut b, b"HDR:");
        let header = b.take(4); // the caller keeps the header
        b.prepare(1000, 1000, 1000);
        assert_eq!(b.allocated(), 1000);
        assert_eq!(b.free_ptr(), base, "the large memory is reused");
        assert_eq!(&header[..], b"HDR:");
    }

    #[test]
    fn held_large_frame_is_not_reused_and_the_claim_allocates_nothing() {
        let mut b = buffer(16);
        b.prepare(1000, 1000, 1000);
        fill(&mut b, &[7u8; 1000]);
        let held = b.take(1000);
        // The caller still holds the frame: its memory cannot be reused, and
        // an unproven claim gets only the justified target.
        b.prepare(1, 16, 1_000_000);
        assert_eq!(b.allocated(), 16);
        assert!(held.iter().all(|&x| x == 7));
    }

    #[test]
    fn reclaims_in_place_when_frames_are_dropped() {
        let mut b = buffer(16);
        b.prepare(1, 16, 0);
        fill(&mut b, &[1u8; 16]);
        let base = b.unread().as_ptr();
        drop(b.take(12));
        b.prepare(8, 16, 0);
        assert_eq!(b.unread(), &[1u8; 4]);
        assert_eq!(b.unread().as_ptr(), base, "the same allocation was reused");
    }

    #[test]
    fn consume_moves_only_the_head_and_rewinds_when_empty() {
        let mut b = buffer(16);
        b.prepare(1, 16, 0);
        fill(&mut b, b"line one\nline");
        let base = b.unread().as_ptr();
        b.consume(9);
        assert_eq!(b.unread(), b"line");
        // A split after a consume starts at the first unread byte.
        let two = b.take(2);
        assert_eq!(&two[..], b"li");
        b.consume(2);
        assert_eq!(b.len(), 0);
        drop(two);
        // Nothing unread: the next read lands at the front again.
        b.prepare(1, 16, 0);
        fill(&mut b, b"abc");
        assert_eq!(b.unread(), b"abc");
        assert_eq!(b.unread().as_ptr(), base.wrapping_add(11));
        b.consume(1);
        // Making room drops the consumed prefix and keeps the unread bytes.
        b.prepare(15, 16, 0);
        assert_eq!(b.unread(), b"bc");
        assert!(b.free_len() >= 13);
    }

    #[test]
    fn held_frame_does_not_grow_the_buffer() {
        let mut b = buffer(16);
        let mut held = Vec::new();
        for _ in 0..100 {
            b.prepare(1, 16, 0);
            fill(&mut b, &[1u8; 16]);
            held.push(b.take(1));
            b.consume(15);
            assert!(b.allocated() <= 16);
        }
    }

    #[test]
    fn reuse_after_growth_exposes_only_initialized_memory() {
        // Grow in place past the capacity, hand the bytes out, drop them,
        // and reuse the allocation without re-zeroing: every byte of the
        // free tail must be readable (Miri checks this).
        let mut b = buffer(8);
        for round in 0..4u8 {
            b.prepare(1, 8, 0);
            fill(&mut b, &[round; 8]);
            b.prepare(9, 24, 0); // grows: unread bytes beyond the capacity
            fill(&mut b, &[round; 16]);
            let frame = b.take(b.len());
            assert!(frame.iter().all(|&x| x == round));
            drop(frame);
            b.prepare(1, 8, 0);
            read_free_tail(&mut b);
        }
    }

    #[test]
    fn idle_release_and_refill() {
        let mut b = buffer(16);
        b.prepare(1, 16, 0);
        b.release_if_empty();
        assert_eq!(b.allocated(), 0);
        b.prepare(1, 16, 0);
        fill(&mut b, b"x");
        b.release_if_empty();
        assert_eq!(b.unread(), b"x", "unread bytes keep their buffer");
    }

    #[test]
    fn unread_front_reuses_a_drained_allocation_in_place() {
        let mut b = buffer(16);
        b.prepare(1, 16, 0);
        fill(&mut b, b"0123456789");
        let base = b.unread().as_ptr();
        b.consume(10);
        b.unread_front(b"put back");
        assert_eq!(b.unread(), b"put back");
        assert_eq!(b.unread().as_ptr(), base, "no new allocation");
        // A put-back larger than the allocation grows it, and the bytes
        // after it are initialized (Miri checks the free tail is readable).
        b.consume(8);
        let big = [7u8; 100];
        b.unread_front(&big);
        assert_eq!(b.unread(), &big[..]);
        assert!(b.allocated() >= 100);
        read_free_tail(&mut b);
        // A held frame keeps its memory; the put-back goes elsewhere.
        let held = b.take(50);
        b.consume(50);
        b.unread_front(b"xy");
        assert_eq!(b.unread(), b"xy");
        assert!(held.iter().all(|&x| x == 7));
    }

    #[test]
    fn unread_front_restores_order() {
        let mut b = buffer(4);
        b.prepare(1, 4, 0);
        fill(&mut b, b"cd");
        b.unread_front(b"ab");
        assert_eq!(b.unread(), b"abcd");
    }

    /// The whole memory policy again with reads into uninitialized memory
    /// (tokio sources): every test above, in uninit mode. Under Miri this
    /// also proves no uninitialized byte is ever read.
    #[test]
    fn every_policy_test_in_uninit_mode() {
        UNINIT.with(|u| u.set(true));
        let tests: [fn(); 15] = [
            allocates_nothing_until_asked,
            take_is_zero_copy_and_keeps_order,
            oversized_allocation_is_released_when_small_reads_follow,
            oversized_allocation_is_released_when_idle,
            large_allocation_is_reused_for_the_next_large_frame_once_dropped,
            large_allocation_is_reused_when_unread_bytes_overlap_its_front,
            held_header_pins_only_the_normal_allocation,
            held_large_frame_is_not_reused_and_the_claim_allocates_nothing,
            reclaims_in_place_when_frames_are_dropped,
            consume_moves_only_the_head_and_rewinds_when_empty,
            held_frame_does_not_grow_the_buffer,
            reuse_after_growth_exposes_only_initialized_memory,
            idle_release_and_refill,
            unread_front_reuses_a_drained_allocation_in_place,
            unread_front_restores_order,
        ];
        for test in tests {
            test();
        }
        UNINIT.with(|u| u.set(false));
    }

    #[test]
    fn uninit_mode_keeps_what_was_buffered_before_it() {
        // A put-back can allocate before the first read picks the mode.
        let mut b = Buffer::new(16);
        b.prepare(1, 16, 0);
        fill(&mut b, b"abc");
        b.use_uninit();
        assert_eq!(b.unread(), b"abc");
        assert_eq!(b.free_len(), 13, "the initialized tail stays usable");
        fill(&mut b, b"defghijklmnopqrstu");
        assert_eq!(b.unread(), b"abcdefghijklmnop");
        // A large frame grows without zeroing and keeps every byte.
        b.prepare(100, 100, 0);
        fill(&mut b, &[9u8; 84]);
        let frame = b.take(100);
        assert_eq!(&frame[..16], b"abcdefghijklmnop");
        assert!(frame[16..].iter().all(|&x| x == 9));
    }
}
