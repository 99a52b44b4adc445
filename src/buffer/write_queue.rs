//! The bytes a [`StreamWriter`](crate::StreamWriter) has accepted and not
//! yet written, in order, and the write-side memory policy.
//!
//! Pending bytes, in stream order, are small writes copied into one
//! coalescing buffer and `Bytes` kept as they are (large payloads, never
//! copied), each kept item placed at a point of the copied stream:
//!
//! ```text
//!  kept:     [ (68, 16 KiB payload) ][ (72, 16 KiB payload) ] ...
//!  coalesce: [ written | 68 copied bytes | 4 bytes | free ...          ]
//!              ^ head: the front drains as the sink takes bytes; new
//!                small bytes land at the back
//!  out:      68 copied, payload, 4 copied, payload, ...
//! ```
//!
//! Policy, in one place:
//! - an item of at least the copy threshold is kept as it is (no copy); a
//!   smaller one is copied into the coalescing buffer, and consecutive
//!   copies form one segment;
//! - an empty item costs nothing: it is never queued, so it cannot crowd
//!   real bytes out of a vectored write;
//! - **the write size**: the writer starts writing once this many bytes are
//!   pending (see [`WriteQueue::wants_write`]), not when the cap is reached,
//!   so the coalescing buffer stays the size of one write and hot in cache.
//!   It follows the sink: it starts at [`INITIAL_WRITE_SIZE`], doubles
//!   (up to [`MAX_WRITE_SIZE`]) while the sink takes everything it is
//!   offered in writes of more than half of it, and drops to what the sink
//!   took when it takes less (a socket that takes 1500 bytes a call gets
//!   writes of about 1500 bytes, from a buffer of about that size). Bytes
//!   pile up beyond it only while the sink is busy, up to the writer's
//!   cap;
//! - **a busy sink is not asked again for every item**: after it answers
//!   `Pending`, the next item tries again; if the sink is still busy, the
//!   next try waits until a quarter of the write size more has piled up,
//!   then a half, then a whole one at each further busy answer (or the
//!   cap), until a write goes through. On a socket every try is a system
//!   call, and one that failed with `EAGAIN` per small item cost 5x the
//!   time of a `BufWriter` over loopback TCP; trying again at once keeps
//!   up with a sink that is busy for one call only
//!   ([`WriteQueue::sink_busy`]);
//! - [`slices`](WriteQueue::slices) hands out at most [`MAX_IOVECS`]
//!   non-empty slices for one vectored write;
//! - [`advance`](WriteQueue::advance) drops exactly the bytes written, so
//!   after an error `len()` is exact and a retry sends each byte once;
//! - memory is reused, not reallocated: once every copied byte is written
//!   the buffer starts again at its front, and when its free tail runs out
//!   the few unwritten bytes move to the front; an idle, flushed writer
//!   lets its buffers (the current one, any retired ones, the spare) and
//!   the segment queue go
//!   ([`release_if_empty`](WriteQueue::release_if_empty));
//! - **piled-up bytes never grow the buffer past one largest write**: when
//!   the unwritten copied bytes and the new ones would pass it (a busy
//!   sink; bytes pile up to the writer's cap) and no cheap move makes
//!   room, the buffer is retired as it is (its bytes stay in place, in
//!   the copied stream) and another takes the next bytes. A retired
//!   buffer whose bytes are all written is kept, one at most, for the
//!   next retire. So the heap stays near the pending bytes, never the
//!   2-3x of a buffer that doubles, and bytes that pile up and drain in
//!   turn allocate nothing.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

/// Most slices handed to one `poll_write_vectored` call (Linux's `UIO_MAXIOV`
/// is 1024; 64 keeps the stack array small and is plenty per call).
pub const MAX_IOVECS: usize = 64;

/// The write size a new writer starts with: 8 KiB, as `BufWriter`.
pub(crate) const INITIAL_WRITE_SIZE: usize = 8 * 1024;
/// The largest write size: a write this large already amortizes its
/// system call, and the buffer stays in the CPU's cache.
pub(crate) const MAX_WRITE_SIZE: usize = 64 * 1024;
/// The smallest write size, whatever the sink takes per call.
pub(crate) const MIN_WRITE_SIZE: usize = 1024;
/// The coalescing buffer that follows a retired one, while bytes pile up:
/// one largest write. The heap then holds the pending bytes, the unused
/// parts of retired buffers not yet freed (the tail an item did not fit
/// into, the front already written), the newest buffer and the spare
/// (a written one kept for reuse).
const PILE_BUFFER: usize = MAX_WRITE_SIZE;
/// The largest write size for which
/// [`prefetch_next_write`](WriteQueue::prefetch_next_write) gives its hint
/// (only where it gives one: x86-64, not under Miri).
#[cfg(all(target_arch = "x86_64", not(miri)))]
const PREFETCH_MAX: usize = 16 * 1024;

/// Pending bytes of a writer. See the module docs.
///
/// The copied bytes form one stream, counted from the queue's start: the
/// retired buffers' bytes, oldest first, then `coalesce`'s. Each kept item
/// records the point of that stream it goes after, so appending a copy
/// touches the buffer alone (the common case: small writes).
///
/// ```text
///  stream:   |<- written ->|<------------ unwritten copied bytes ------------>|
///  retired:        [ at0 ..|.. at0 + len ][ at1 ..        ]
///  coalesce:                                              [ coalesce_at ..   ]free
///                          ^ copied_out                                      ^ copied_end
/// ```
#[derive(Debug)]
pub(crate) struct WriteQueue {
    /// Kept items, in order, each with the number of copied bytes (counted
    /// since the queue was made) that go out before it.
    /// INVARIANT: no item is empty; the positions never decrease.
    kept: VecDeque<(u64, Bytes)>,
    /// Buffers that bytes piled up in, behind a busy sink, each with the
    /// stream position of its first byte (see
    /// [`retire_buffer`](Self::retire_buffer)), oldest first.
    /// INVARIANT: each buffer is non-empty and starts where the one before
    /// it ends, the last where `coalesce` starts; the first holds
    /// `copied_out` (a buffer whose bytes are all written leaves at once).
    retired: VecDeque<(u64, Vec<u8>)>,
    /// A retired buffer whose bytes were all written, emptied, kept for
    /// the next retire (so bytes piling up and draining in turn allocate
    /// nothing); capacity 0 when there is none.
    spare: Vec<u8>,
    /// The newest copied bytes, where the next ones are appended.
    /// INVARIANT: its bytes from `head()` on are unwritten; `head()` is 0
    /// while retired buffers go before it.
    coalesce: Vec<u8>,
    /// The stream position of `coalesce[0]`.
    coalesce_at: u64,
    /// Copied bytes written (or dropped) so far: the stream position of
    /// the first unwritten copied byte.
    /// INVARIANT: `copied_out <= coalesce_at + coalesce.len()`.
    copied_out: u64,
    /// INVARIANT: `len` is the copied bytes not yet written plus the kept
    /// items' remaining lengths.
    len: usize,
    copy_threshold: usize,
    /// See the module docs. INVARIANT: within `MIN..=MAX_WRITE_SIZE`.
    write_size: usize,
    /// The pending bytes past which the next item waits for a write: the
    /// write size, or, after the sink said it was busy, the bytes pending
    /// then plus `busy_step` ([`sink_busy`](Self::sink_busy)).
    /// INVARIANT: at least `write_size`; equal to it again after every
    /// write the sink takes.
    write_at: usize,
    /// How much more must pile up before a busy sink is asked again: 0
    /// while it is not busy, 1 (the next item) after its first busy
    /// answer, then a quarter of the write size, doubling at each further
    /// one up to the write size.
    busy_step: usize,
    /// Copied bytes moved to the buffer's front so far (for the test that
    /// the moves are amortized).
    #[cfg(test)]
    moved: usize,
}

impl WriteQueue {
    /// An empty queue; allocates nothing.
    pub(crate) fn new(copy_threshold: usize) -> Self {
        WriteQueue {
            kept: VecDeque::new(),
            retired: VecDeque::new(),
            spare: Vec::new(),
            coalesce: Vec::new(),
            coalesce_at: 0,
            copied_out: 0,
            len: 0,
            copy_threshold,
            write_size: INITIAL_WRITE_SIZE,
            write_at: INITIAL_WRITE_SIZE,
            busy_step: 0,
            #[cfg(test)]
            moved: 0,
        }
    }

    /// Bytes pending.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn set_copy_threshold(&mut self, n: usize) {
        self.copy_threshold = n;
    }

    /// Whether `len` more copied bytes stay below the point where a write
    /// is due (the write size, or more while the sink is busy): then they
    /// are accepted at once, with no write first (one comparison, for the
    /// small-item fast paths; see [`wants_write`](Self::wants_write) for
    /// the full rule, which also takes an item larger than the write size
    /// when nothing is pending).
    #[inline]
    pub(crate) fn below_write_point(&self, len: usize) -> bool {
        // Saturating: kept clones of one `Bytes` may count its bytes many
        // times over.
        self.len.saturating_add(len) < self.write_at
    }

    /// Whether `copied` more bytes for the coalescing buffer would take the
    /// pending bytes past the write point (the write size, or more while
    /// the sink is busy): then it is time to write before accepting them.
    /// A kept item (`copied == 0`) is accepted first and goes out with
    /// what is pending, in one vectored write, unless the pending bytes
    /// are already past the write point.
    #[inline]
    pub(crate) fn wants_write(&self, copied: usize) -> bool {
        self.len != 0 && self.len + copied > self.write_at
    }

    /// The sink answered `Pending` to a write and the item that asked for
    /// it was accepted anyway: the next write is tried once `busy_step`
    /// more bytes are pending (the sink's waker is registered; the cap
    /// still makes producers wait for it). The first step is the next
    /// item, so a sink busy for one call is asked again at once and
    /// pending bytes do not creep up; then a quarter of the write size,
    /// doubling up to the write size, so a sink busy for long is asked
    /// about once per write, not once per item.
    #[inline]
    pub(crate) fn sink_busy(&mut self) {
        self.busy_step = match self.busy_step {
            0 => 1,
            1 => self.write_size / 4,
            step => (step * 2).min(self.write_size),
        };
        self.write_at = self.len.saturating_add(self.busy_step).max(self.write_size);
    }

    /// How many of an item's `len` bytes [`push`](Self::push) would copy.
    #[inline]
    pub(crate) fn copied(&self, len: usize) -> usize {
        if len < self.copy_threshold {
            len
        } else {
            0
        }
    }

    /// The position in the copied stream of the next copied byte appended.
    #[inline]
    fn copied_end(&self) -> u64 {
        self.coalesce_at + self.coalesce.len() as u64
    }

    /// The index in `coalesce` of its first unwritten byte: 0 while retired
    /// buffers go before it (their bytes are all before `coalesce_at`).
    #[inline]
    fn head(&self) -> usize {
        self.copied_out.saturating_sub(self.coalesce_at) as usize
    }

    /// Appends a copy of `data`.
    #[inline]
    pub(crate) fn extend_from_slice(&mut self, data: &[u8]) {
        self.extend_with(data, Vec::extend_from_slice);
    }

    /// [`extend_from_slice`](Self::extend_from_slice) with a small copy
    /// done inline (see [`append`]): for `send`, whose caller holds the
    /// `Bytes` across the copy and drops it after.
    #[inline]
    pub(crate) fn extend_inline(&mut self, data: &[u8]) {
        self.extend_with(data, append);
    }

    #[inline(always)]
    fn extend_with(&mut self, data: &[u8], copy: impl FnOnce(&mut Vec<u8>, &[u8])) {
        if self.coalesce.capacity() - self.coalesce.len() < data.len() {
            self.make_room(data.len());
        }
        copy(&mut self.coalesce, data);
        self.len += data.len();
    }

    /// Appends a copy of a frame: `leading` bytes (often none), the first
    /// `used` bytes of `header`, then `payload`. Room is made once, and the
    /// header goes in as its whole fixed-size array (a few stores, not a
    /// call), then the bytes past `used` are cut off again.
    #[inline]
    pub(crate) fn push_frame<const N: usize>(
        &mut self,
        leading: &[u8],
        header: &[u8; N],
        used: usize,
        payload: &[u8],
    ) {
        self.push_frame_with(leading, header, used, payload, Vec::extend_from_slice);
    }

    /// [`push_frame`](Self::push_frame) with a small payload copied inline
    /// (see [`append`]): for `send_frame`, whose caller holds the `Bytes`
    /// across the copy.
    #[inline]
    pub(crate) fn push_frame_inline<const N: usize>(
        &mut self,
        leading: &[u8],
        header: &[u8; N],
        used: usize,
        payload: &[u8],
    ) {
        self.push_frame_with(leading, header, used, payload, append);
    }

    #[inline(always)]
    fn push_frame_with<const N: usize>(
        &mut self,
        leading: &[u8],
        header: &[u8; N],
        used: usize,
        payload: &[u8],
        copy: impl FnOnce(&mut Vec<u8>, &[u8]),
    ) {
        debug_assert!(used <= N);
        let more = leading.len() + N + payload.len();
        if self.coalesce.capacity() - self.coalesce.len() < more {
            self.make_room(more);
        }
        if !leading.is_empty() {
            self.coalesce.extend_from_slice(leading);
        }
        self.coalesce.extend_from_slice(header);
        self.coalesce.truncate(self.coalesce.len() - (N - used));
        copy(&mut self.coalesce, payload);
        self.len += leading.len() + used + payload.len();
    }

    /// Takes back the last `n` copied bytes, appended just before with
    /// nothing in between (a future dropped before it completed, whose
    /// method had queued its item at once).
    #[inline]
    pub(crate) fn unqueue_tail(&mut self, n: usize) {
        debug_assert!(n <= self.coalesce.len() - self.head() && n <= self.len);
        self.coalesce.truncate(self.coalesce.len() - n);
        self.len -= n;
    }

    /// Appends `data` as it is, whatever the copy threshold (a copy the
    /// writer made itself, which copying again would only repeat). Empty
    /// `data` is dropped.
    #[inline]
    pub(crate) fn keep(&mut self, data: Bytes) {
        if data.is_empty() {
            return;
        }
        let at = self.copied_end();
        self.len += data.len();
        self.kept.push_back((at, data));
    }

    /// Appends `data`: copied if smaller than the copy threshold, otherwise
    /// kept as it is. Empty `data` is dropped.
    #[inline]
    pub(crate) fn push(&mut self, data: Bytes) {
        let len = data.len();
        if len < self.copy_threshold {
            return self.extend_from_slice(&data);
        }
        if len == 0 {
            return;
        }
        let at = self.copied_end();
        self.kept.push_back((at, data));
        self.len += len;
    }

    /// Room for `more` copied bytes at the back: move the unwritten bytes
    /// to the front if that frees enough and is cheap, otherwise grow (to
    /// at least the write size, so that a buffer is made once; `reserve`
    /// at least doubles it).
    ///
    /// Cheap: at most one largest write's worth of bytes to move (the usual
    /// case: a write's remainder), or at most half the buffer. Past one
    /// write, the half bound keeps moves amortized: after a move the back
    /// half at least is free, so the next move comes after at least as
    /// many bytes were appended as it moves. Without it, a busy sink that
    /// took 1500 bytes a call out of 1 MiB pending made every refill move
    /// the whole MiB. (The half bound alone, for small buffers too, grew a
    /// buffer that a move would have kept at one write, and small writes
    /// to a sink busy every other call took 1.25x the time.)
    #[cold]
    fn make_room(&mut self, more: usize) {
        let head = self.head();
        let unwritten = self.coalesce.len() - head;
        let capacity = self.coalesce.capacity();
        let cheap = unwritten <= MAX_WRITE_SIZE || unwritten <= capacity / 2;
        if head != 0 && cheap && capacity - unwritten >= more {
            #[cfg(test)]
            {
                self.moved += unwritten;
            }
            self.coalesce.copy_within(head.., 0);
            self.coalesce.truncate(unwritten);
            self.coalesce_at += head as u64;
            return;
        }
        if unwritten != 0 && unwritten + more > MAX_WRITE_SIZE {
            return self.retire_buffer(more);
        }
        // Doubling (amortized), up to one largest write or what is asked:
        // past that, bytes are piling up, and `retire_buffer` takes them.
        let want = (unwritten + more).max(self.write_size + more);
        let target = (2 * capacity).max(want).min(MAX_WRITE_SIZE.max(want));
        let len = self.coalesce.len();
        self.coalesce
            .reserve_exact(target.saturating_sub(len).max(more));
    }

    /// Room for `more` copied bytes when they and the unwritten ones would
    /// pass one largest write (bytes piling up behind a busy sink) and no
    /// cheap move makes it: the buffer is retired as it is (its bytes stay
    /// where they are, in the copied stream; kept items keep their
    /// positions), and the spare buffer, or a new one of [`PILE_BUFFER`]
    /// bytes, takes the next ones. Growing the buffer instead doubled it,
    /// written front and all, each time bytes piled up to the writer's
    /// cap: 768 KiB of heap for a 256 KiB cap with 16 KiB writes on a sink
    /// busy every other call. A retired buffer whose bytes are all written
    /// becomes the spare ([`recycle`](Self::recycle)).
    #[cold]
    #[inline(never)]
    fn retire_buffer(&mut self, more: usize) {
        let next = if self.spare.capacity() >= more {
            std::mem::take(&mut self.spare)
        } else {
            Vec::with_capacity(PILE_BUFFER.max(more))
        };
        let full = std::mem::replace(&mut self.coalesce, next);
        let at = self.coalesce_at;
        self.coalesce_at = at + full.len() as u64;
        self.retired.push_back((at, full));
    }

    /// Keeps `buffer`, retired and now all written, as the spare, unless
    /// the spare is as large (only the largest is kept: one buffer's
    /// worth of memory at most waits for reuse).
    fn recycle(&mut self, mut buffer: Vec<u8>) {
        if buffer.capacity() > self.spare.capacity() {
            buffer.clear();
            self.spare = buffer;
        }
    }

    /// Calls `each` with the copied bytes at stream positions `from..to`,
    /// one non-empty slice per buffer they lie in, in order, until it
    /// returns `false`; returns whether it went to the end.
    #[inline]
    fn copied_range<'a>(
        &'a self,
        from: u64,
        to: u64,
        mut each: impl FnMut(&'a [u8]) -> bool,
    ) -> bool {
        let retired = self.retired.iter().map(|(at, buf)| (*at, &buf[..]));
        for (at, buf) in retired.chain(std::iter::once((self.coalesce_at, &self.coalesce[..]))) {
            let end = at + buf.len() as u64;
            if end <= from {
                continue;
            }
            if at >= to {
                break;
            }
            let part = &buf[(from.max(at) - at) as usize..(to.min(end) - at) as usize];
            if !part.is_empty() && !each(part) {
                return false;
            }
        }
        true
    }

    /// How many slices all pending bytes make (a kept item and the copied
    /// run before it, each): lets the writer use a small array in the usual
    /// case, instead of initializing `MAX_IOVECS` slices per write call.
    #[inline]
    pub(crate) fn slices_needed(&self) -> usize {
        2 * self.kept.len() + 1 + self.retired.len()
    }

    /// The first kept item, when nothing copied goes before it and it is
    /// at least the write size (the most the sink took in one call lately):
    /// offered alone, it is as large a write as the sink takes, so the
    /// slices after it need not be gathered (a large `Bytes` on a sink that
    /// takes 1500 bytes a call goes out in hundreds of calls, each of which
    /// would gather them again). `BufWriter` writes a large buffer alone
    /// too, so this never makes more write calls than it does.
    #[inline]
    pub(crate) fn large_front(&self) -> Option<&[u8]> {
        match self.kept.front() {
            Some((at, item)) if *at == self.copied_out => {
                return (item.len() >= self.write_size).then_some(&item[..]);
            }
            _ => {}
        }
        // The same for the copied bytes of a retired buffer, up to its end
        // or the next kept item: bytes piled up behind a busy sink go out
        // a buffer at a time, not gathered with all the rest per call.
        let (at, buffer) = self.retired.front()?;
        let to = self.kept.front().map_or(u64::MAX, |k| k.0);
        let end = (to.min(at + buffer.len() as u64) - at) as usize;
        let front = &buffer[(self.copied_out - at) as usize..end];
        (front.len() >= self.write_size).then_some(front)
    }

    /// Asks the CPU to start loading the bytes of the write after this one
    /// of `front`, the [`large_front`](Self::large_front) item, when the
    /// sink takes little per call (a write size of at most
    /// [`PREFETCH_MAX`]).
    ///
    /// Why: such an item goes out in hundreds of small writes, each of
    /// which makes the sink copy bytes the writer has never touched (a
    /// `Bytes` kept as it is, often cold in memory), and between them the
    /// writer's own work is short, so the hardware's prefetcher does not
    /// get ahead: 256 1 MiB `send`s to a sink taking 1500 bytes a call took
    /// 25.0 ms, against 18.8 ms for the sink's own copy loop; with this
    /// hint, 20.2 ms (interleaved A/B of `benches/write_one.rs`). A sink
    /// that takes 64 KiB a call copies with long streaming moves that the
    /// prefetcher follows, and there the hint cost 24%: hence the bound.
    #[inline]
    pub(crate) fn prefetch_next_write(&self, front: &[u8]) {
        #[cfg(all(target_arch = "x86_64", not(miri)))]
        if self.write_size <= PREFETCH_MAX {
            let next = front.len().min(2 * self.write_size);
            let mut at = self.write_size;
            while at < next {
                // SAFETY: a prefetch is a hint: it never faults and reads
                // nothing the program sees, whatever the address (here
                // within `front`, which is more than `at` long). `unsafe`
                // for the toolchains on which the intrinsic is an
                // `unsafe fn`; on newer ones it is safe to call.
                #[allow(unused_unsafe)]
                unsafe {
                    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                    _mm_prefetch::<_MM_HINT_T0>(front.as_ptr().wrapping_add(at).cast());
                }
                at += 64;
            }
        }
        #[cfg(not(all(target_arch = "x86_64", not(miri))))]
        let _ = front;
    }

    /// Fills `out` with the first pending bytes, as non-empty slices in
    /// order, and returns `(slices used, bytes in them)`.
    pub(crate) fn slices<'a>(&'a self, out: &mut [IoSlice<'a>]) -> (usize, usize) {
        let max = out.len();
        let mut count = 0;
        let mut total = 0;
        let mut push = |bytes: &'a [u8]| {
            if count == max {
                return false;
            }
            out[count] = IoSlice::new(bytes);
            total += bytes.len();
            count += 1;
            true
        };
        // `at`: the position in the copied stream reached so far.
        let mut at = self.copied_out;
        for (pos, item) in &self.kept {
            if !self.copied_range(at, *pos, &mut push) || !push(item) {
                return (count, total);
            }
            at = *pos;
        }
        self.copied_range(at, self.copied_end(), &mut push);
        (count, total)
    }

    /// The first pending bytes as owned buffers, for a write that holds
    /// them until it completes (completion I/O), at most `max` of them:
    /// kept items as they are (a reference count, no copy), and each run of
    /// copied bytes between them staged in `staging` (one copy, into memory
    /// the write owns; the coalescing buffer keeps taking small items
    /// meanwhile). The same bytes, in the same order, as
    /// [`slices`](Self::slices).
    pub(crate) fn owned_front(&self, staging: &mut BytesMut, max: usize) -> Vec<Bytes> {
        let mut out = Vec::with_capacity(self.slices_needed().min(max));
        let mut stage = |from: u64, to: u64, out: &mut Vec<Bytes>| {
            self.copied_range(from, to, |part| {
                staging.extend_from_slice(part);
                true
            });
            if !staging.is_empty() {
                out.push(staging.split().freeze());
            }
        };
        let mut at = self.copied_out;
        for (pos, item) in &self.kept {
            if *pos > at {
                if out.len() == max {
                    return out;
                }
                stage(at, *pos, &mut out);
                at = *pos;
            }
            if out.len() == max {
                return out;
            }
            out.push(item.clone());
        }
        if out.len() < max {
            stage(at, self.copied_end(), &mut out);
        }
        out
    }

    /// Drops the first `written` pending bytes (the sink took them, out of
    /// `offered`), and adapts the write size to what the sink takes.
    #[inline]
    pub(crate) fn advance(&mut self, written: usize, offered: usize) {
        debug_assert!(written <= self.len && written <= offered);
        self.follow_sink(written, offered);
        self.drop_written(written);
    }

    /// [`advance`](Self::advance) after a write that offered the first
    /// pending bytes and, if it offered all of them, then bytes of the
    /// caller's (a borrowed payload that goes out uncopied when the sink
    /// takes it): drops the pending bytes written and returns how many of
    /// the caller's went too.
    #[inline]
    pub(crate) fn advance_through(&mut self, written: usize, offered: usize) -> usize {
        debug_assert!(written <= offered);
        self.follow_sink(written, offered);
        let pending = written.min(self.len);
        self.drop_written(pending);
        written - pending
    }

    /// Whether the sink answered `Pending` to the last write tried (and has
    /// taken nothing since): see [`sink_busy`](Self::sink_busy).
    #[inline]
    pub(crate) fn sink_is_busy(&self) -> bool {
        self.busy_step != 0
    }

    /// The write size's rule (module docs), after the sink took `written`
    /// of `offered` bytes; the sink is no longer busy.
    #[inline(always)]
    fn follow_sink(&mut self, written: usize, offered: usize) {
        if written < offered {
            self.write_size = written.clamp(MIN_WRITE_SIZE, MAX_WRITE_SIZE);
        } else if offered > self.write_size / 2 {
            // A full write, taken whole. A write goes out when the next
            // item would not fit, so it is rarely exactly the write size
            // (never, with 68-byte frames under 8 KiB): more than half
            // counts as full, or the size would stay at 8 KiB.
            self.write_size = (self.write_size * 2).min(MAX_WRITE_SIZE);
        }
        self.write_at = self.write_size;
        self.busy_step = 0;
    }

    /// Drops the first `written` pending bytes.
    #[inline(always)]
    fn drop_written(&mut self, written: usize) {
        self.len -= written;
        // The usual case on a sink that takes less than it is offered:
        // part of a kept item that goes first.
        if let Some((at, item)) = self.kept.front_mut() {
            if *at == self.copied_out && written < item.len() {
                item.advance(written);
                return;
            }
        }
        self.advance_segments(written);
    }

    /// [`advance`](Self::advance) across segments: copied runs and kept
    /// items, in order (`len` is already counted down).
    #[inline(never)]
    fn advance_segments(&mut self, written: usize) {
        let mut left = written;
        while left > 0 {
            // Copied bytes before the next kept item (or all of them).
            let copied_until = self.kept.front().map_or_else(|| self.copied_end(), |k| k.0);
            let run = (copied_until - self.copied_out) as usize;
            if run > 0 {
                let k = left.min(run);
                self.copied_out += k as u64;
                left -= k;
                continue;
            }
            let Some((_, item)) = self.kept.front_mut() else {
                unreachable!("written bytes were pending");
            };
            let k = left.min(item.len());
            item.advance(k);
            left -= k;
            if item.is_empty() {
                self.kept.pop_front();
            }
        }
        while (self.retired.front())
            .is_some_and(|(at, buffer)| self.copied_out >= at + buffer.len() as u64)
        {
            if let Some((_, buffer)) = self.retired.pop_front() {
                self.recycle(buffer);
            }
        }
        if self.copied_out == self.copied_end() && !self.coalesce.is_empty() {
            // Every copied byte is out: start again at the front.
            self.coalesce.clear();
            self.coalesce_at = self.copied_out;
        }
    }

    /// Lets go of the buffers (current, retired, spare) and the kept-item
    /// and retired queues if nothing is pending (an idle writer holds no
    /// memory).
    pub(crate) fn release_if_empty(&mut self) {
        if self.len == 0 {
            self.coalesce = Vec::new();
            self.coalesce_at = self.copied_out;
            self.kept = VecDeque::new();
            self.retired = VecDeque::new();
            self.spare = Vec::new();
        }
    }

    /// Bytes of memory held (for tests of the memory policy).
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        let retired: usize = self.retired.iter().map(|(_, b)| b.capacity()).sum();
        self.coalesce.capacity()
            + retired
            + self.spare.capacity()
            + self.kept.capacity() * std::mem::size_of::<(u64, Bytes)>()
            + self.retired.capacity() * std::mem::size_of::<(u64, Vec<u8>)>()
    }
}

/// Appends `data` to `buf`. A small copy (4 to 64 bytes: the usual
/// message, header or frame) is done inline, as two fixed-size moves of
/// its first and last bytes (overlapping in the middle), when `buf` has
/// room for it; anything else goes through `extend_from_slice`.
///
/// Used where the caller holds an owned `Bytes` across the copy (`send`,
/// `send_frame`, the `LengthPrefix` encoder): there, probably because the
/// call into `memcpy` made the item's fields live across a call, the inline
/// copy took 64-byte `send`s from 14.4 to 12.6 ms per million and
/// `send_frame`s from 15.0 to 13.8 ms (interleaved A/B of
/// `benches/write_one.rs`). `write_all` and `write_frame` keep `memcpy`:
/// with the inline copy `write_all` took 14% longer (its caller stopped
/// inlining `WriteAll::poll`) and `write_frame` 24% longer. The safe way
/// to the same moves (`extend_from_slice` of two fixed-size arrays with a
/// `truncate` between) checked the capacity twice and gained half as much.
#[inline(always)]
fn append(buf: &mut Vec<u8>, data: &[u8]) {
    let n = data.len();
    if !(4..=64).contains(&n) || buf.capacity() - buf.len() < n {
        return buf.extend_from_slice(data);
    }
    let at = buf.len();
    let src = data.as_ptr();
    // SAFETY: `buf` has room for `n` more bytes (checked above), so `dst`
    // is valid for writes of `n` bytes; `src` is valid for reads of `n`
    // bytes; they do not overlap (`data` is borrowed shared while `buf` is
    // borrowed mutably); each `copy_ends` below has `K <= n` (the
    // branches). After it the `n` bytes at `at` are written, so `set_len`
    // covers initialized bytes only.
    unsafe {
        let dst = buf.as_mut_ptr().add(at);
        match n {
            32.. => copy_ends::<32>(src, dst, n),
            16.. => copy_ends::<16>(src, dst, n),
            8.. => copy_ends::<8>(src, dst, n),
            _ => copy_ends::<4>(src, dst, n),
        }
        buf.set_len(at + n);
    }
}

/// Copies `n` bytes from `src` to `dst` as two moves of `K` bytes: the
/// first `K` and the last `K` (for `K <= n <= 2K` they cover all `n`).
///
/// # Safety
///
/// `K <= n <= 2 * K`; `src` valid for reads and `dst` for writes of `n`
/// bytes (no alignment needed); the two ranges do not overlap.
#[inline(always)]
unsafe fn copy_ends<const K: usize>(src: *const u8, dst: *mut u8, n: usize) {
    debug_assert!(K <= n && n <= 2 * K);
    // SAFETY: both reads and both writes are of `K` bytes at offsets 0 and
    // `n - K`, within the `n` bytes the caller vouches for; unaligned
    // accesses are what `read_unaligned` / `write_unaligned` are for.
    unsafe {
        let first = std::ptr::read_unaligned(src.cast::<[u8; K]>());
        let last = std::ptr::read_unaligned(src.add(n - K).cast::<[u8; K]>());
        std::ptr::write_unaligned(dst.cast::<[u8; K]>(), first);
        std::ptr::write_unaligned(dst.add(n - K).cast::<[u8; K]>(), last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(q: &mut WriteQueue, take: usize) -> Vec<u8> {
        let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
        let (count, total) = q.slices(&mut slices);
        let mut out: Vec<u8> = slices[..count]
            .iter()
            .flat_map(|s| s.iter().copied())
            .collect();
        out.truncate(take.min(total));
        let n = out.len();
        q.advance(n, total);
        out
    }

    #[test]
    fn inline_copies_match_extend_from_slice_at_every_length_and_offset() {
        // Every length around the inline sizes (4..=64), at unaligned
        // offsets, with and without room: the bytes must be exactly what
        // `extend_from_slice` writes (Miri checks the moves' bounds).
        let src: Vec<u8> = (0..80u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(1))
            .collect();
        for len in 0..=80 {
            for at in [0, 1, 3, 7] {
                let mut want = vec![0xAA; at];
                want.extend_from_slice(&src[..len]);
                for room in [len, len + 5, 0] {
                    let mut got = Vec::with_capacity(at + room);
                    got.resize(at, 0xAA);
                    append(&mut got, &src[..len]);
                    assert_eq!(got, want, "len {len}, at {at}, room {room}");
                }
                let mut q = WriteQueue::new(usize::MAX);
                q.extend_from_slice(&want[..at]);
                q.extend_inline(&src[..len]);
                q.push_frame_inline(&[9], &[1, 2, 3, 4], 2, &src[..len]);
                let mut frame = want.clone();
                frame.extend_from_slice(&[9, 1, 2]);
                frame.extend_from_slice(&src[..len]);
                assert_eq!(q.len(), frame.len());
                assert_eq!(drain(&mut q, usize::MAX), frame, "len {len}, at {at}");
            }
        }
    }

    #[test]
    fn segments_keep_the_order_of_copied_and_kept_bytes() {
        let mut q = WriteQueue::new(4);
        q.extend_from_slice(b"ab");
        q.push(Bytes::from_static(b"c")); // below the threshold: copied
        q.push(Bytes::from_static(b"KEPT"));
        q.extend_from_slice(b"de");
        q.push(Bytes::new());
        assert_eq!(q.len(), 9);
        assert_eq!(
            q.kept.len(),
            1,
            "copies go to the buffer, the empty item is dropped"
        );
        assert_eq!(drain(&mut q, 4), b"abcK");
        assert_eq!(drain(&mut q, usize::MAX), b"EPTde");
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn many_kept_items_fill_at_most_max_iovecs_slices_in_order() {
        let mut q = WriteQueue::new(2);
        let mut expected = Vec::new();
        for i in 0..200u8 {
            q.extend_from_slice(&[i]);
            q.push(Bytes::from(vec![i; 3]));
            expected.push(i);
            expected.extend_from_slice(&[i; 3]);
        }
        let mut got = Vec::new();
        while q.len() > 0 {
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let (count, _) = q.slices(&mut slices);
            assert!(count <= MAX_IOVECS);
            assert!(slices[..count].iter().all(|s| !s.is_empty()));
            got.extend_from_slice(&drain(&mut q, 7));
        }
        assert_eq!(got, expected);
    }

    #[test]
    fn the_buffer_is_reused_from_its_front() {
        let mut q = WriteQueue::new(1024);
        q.extend_from_slice(&[1; 100]);
        let base = q.coalesce.as_ptr();
        assert_eq!(drain(&mut q, usize::MAX).len(), 100);
        q.extend_from_slice(&[2; 100]);
        assert_eq!(q.coalesce.as_ptr(), base);
        assert_eq!(q.head(), 0);
    }

    #[test]
    fn unwritten_bytes_move_to_the_front_instead_of_growing() {
        let mut q = WriteQueue::new(1024);
        q.extend_from_slice(&[1; 100]);
        let cap = q.coalesce.capacity();
        drain(&mut q, 90);
        q.extend_from_slice(&vec![2; cap - 50]);
        assert_eq!(q.coalesce.capacity(), cap, "no new allocation");
        let out = drain(&mut q, usize::MAX);
        assert_eq!(&out[..10], &[1; 10]);
        assert_eq!(out.len(), 10 + cap - 50);
    }

    /// Moving the unwritten bytes to the front costs at most what was
    /// appended since the last move, even while many bytes are pending (a
    /// busy sink, up to the cap). Regression: with 1 MiB pending and the
    /// sink taking 1500 bytes a call, every refill moved the whole MiB.
    #[test]
    fn moving_unwritten_bytes_to_the_front_is_amortized() {
        let mut q = WriteQueue::new(1024);
        let item = [5u8; 64];
        // A busy sink: more than the largest write piles up.
        let (piled, rounds) = if cfg!(miri) { (1100, 100) } else { (4096, 500) };
        for _ in 0..piled {
            q.extend_from_slice(&item);
        }
        assert!(q.len() > MAX_WRITE_SIZE);
        let mut appended = 0;
        for _ in 0..rounds {
            // The sink takes 1500 bytes of all it is offered; as many come
            // in, in 64-byte items.
            let offered = q.len();
            q.advance(1500, offered);
            for _ in 0..24 {
                q.extend_from_slice(&item);
                appended += item.len();
            }
        }
        assert!(
            q.moved <= appended,
            "{} bytes moved for {appended} appended",
            q.moved
        );
    }

    /// Bytes piling up behind a busy sink (here one that takes 1500 bytes
    /// per item of several KiB) do not grow the coalescing buffer: past
    /// one largest write, its unwritten bytes leave as kept items and a
    /// new buffer takes the next ones; the stream stays in order, kept
    /// items included. Regression: the buffer doubled with every pile-up,
    /// to the whole pending size and more.
    #[test]
    fn piled_up_bytes_retire_the_buffer_instead_of_growing_it() {
        fn drain_upto(q: &mut WriteQueue, take: usize) -> Vec<u8> {
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let (count, total) = q.slices(&mut slices);
            let mut out = Vec::new();
            for s in &slices[..count] {
                let k = s.len().min(take - out.len());
                out.extend_from_slice(&s[..k]);
                if out.len() == take {
                    break;
                }
            }
            q.advance(out.len(), total);
            out
        }
        let (size, rounds, piled) = if cfg!(miri) {
            (4 << 10, 60, MAX_WRITE_SIZE)
        } else {
            (16 << 10, 200, 2 * PILE_BUFFER)
        };
        let mut q = WriteQueue::new(1024);
        let (mut want, mut got) = (Vec::new(), Vec::new());
        let mut most = 0;
        for i in 0..rounds {
            let item = vec![i as u8; size];
            q.extend_from_slice(&item);
            want.extend_from_slice(&item);
            if i % 7 == 3 {
                let kept = Bytes::from(vec![!(i as u8); 2000]);
                want.extend_from_slice(&kept);
                q.push(kept);
            }
            got.extend(drain_upto(&mut q, 1500));
            most = most.max(q.coalesce.capacity());
        }
        assert!(q.len() > piled, "piled up {} only", q.len());
        assert!(
            most <= PILE_BUFFER + size,
            "the buffer grew to {most} bytes for {} pending",
            q.len()
        );
        while q.len() > 0 {
            got.extend(drain_upto(&mut q, 1 << 20));
        }
        assert!(got == want, "the stream changed order or content");
    }

    /// A retired buffer whose bytes are all written is the memory of the
    /// next one: bytes that pile up and drain in turn allocate nothing.
    /// Its bytes go out a buffer at a time, not gathered with the rest.
    /// Regression: every 64 KiB piled up took a new buffer, and freezing
    /// the old one into `Bytes` a second allocation.
    #[test]
    fn a_written_retired_buffer_takes_the_next_pile_up() {
        let mut q = WriteQueue::new(1024);
        let item = vec![3u8; 16 << 10];
        // 64 KiB fill the buffer (it grows to one largest write); the
        // fifth item retires it.
        for _ in 0..5 {
            q.extend_from_slice(&item);
        }
        assert_eq!(q.retired.len(), 1);
        let first = q.retired[0].1.as_ptr();
        let front = q.large_front().map(<[u8]>::len);
        assert_eq!(front, Some(4 * item.len()), "the retired buffer alone");
        q.advance(4 * item.len(), 4 * item.len());
        assert!(q.retired.is_empty());
        assert_eq!(q.spare.as_ptr(), first, "kept for reuse");
        for _ in 0..4 {
            q.extend_from_slice(&item);
        }
        assert_eq!(q.retired.len(), 1);
        assert_eq!(q.coalesce.as_ptr(), first, "the spare took the bytes");
        assert_eq!(drain(&mut q, usize::MAX), vec![3u8; 5 * item.len()]);
        q.release_if_empty();
        assert_eq!(q.held(), 0);
    }

    #[test]
    fn the_write_size_follows_the_sink() {
        let mut q = WriteQueue::new(1024);
        assert_eq!(q.write_size, INITIAL_WRITE_SIZE);
        // A flush of a few bytes, taken whole, leaves it as it is.
        q.extend_from_slice(&[0; 100]);
        drain(&mut q, usize::MAX);
        assert_eq!(q.write_size, INITIAL_WRITE_SIZE);
        // The sink takes all it is offered: the write size doubles.
        q.extend_from_slice(&vec![0; INITIAL_WRITE_SIZE]);
        drain(&mut q, usize::MAX);
        assert_eq!(q.write_size, 2 * INITIAL_WRITE_SIZE);
        // The sink takes 1500 of more: the write size is 1500.
        q.extend_from_slice(&vec![0; 5000]);
        drain(&mut q, 1500);
        assert_eq!(q.write_size, 1500);
        assert!(q.wants_write(3500 - 1500 + 1));
        // Never below the minimum.
        drain(&mut q, 10);
        assert_eq!(q.write_size, MIN_WRITE_SIZE);
    }

    #[test]
    fn a_large_kept_item_in_front_is_offered_alone_and_advanced_in_place() {
        let mut q = WriteQueue::new(4);
        q.extend_from_slice(b"hd");
        q.push(Bytes::from(vec![7u8; 3000]));
        q.extend_from_slice(b"tail");
        assert!(q.large_front().is_none(), "copied bytes go first");
        assert_eq!(drain(&mut q, 1500), [&b"hd"[..], &[7; 1498]].concat());
        assert_eq!(q.write_size, 1500);
        // Now the kept item goes first and is at least the write size.
        assert_eq!(q.large_front().map(<[u8]>::len), Some(1502));
        let offered = q.large_front().unwrap().len();
        q.advance(1000, offered);
        assert_eq!(q.len(), 502 + 4);
        assert!(q.large_front().is_none(), "502 left: below the write size");
        assert_eq!(drain(&mut q, usize::MAX), [&[7; 502][..], b"tail"].concat());
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn an_idle_queue_holds_no_memory() {
        let mut q = WriteQueue::new(4);
        q.extend_from_slice(b"abc");
        q.push(Bytes::from_static(b"large"));
        q.release_if_empty();
        assert!(q.held() > 0, "pending bytes keep their memory");
        drain(&mut q, usize::MAX);
        q.release_if_empty();
        assert_eq!(q.held(), 0);
    }
}
