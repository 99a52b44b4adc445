//! The bytes a [`StreamWriter`](crate::StreamWriter) has accepted and not
//! yet written, in order, and the write-side memory policy.
//!
//! Pending bytes live in two places, in stream order: a queue of `Bytes`
//! (large payloads kept as they are, and frozen runs of small writes), then
//! the coalescing buffer that small writes are copied into.
//!
//! ```text
//!  queue: [ frozen small run ][ 64 KiB payload ][ frozen run ] ...   coalesce: [ small writes ]
//!         '------------------ out first, front to back ------------------'   '-- out last --'
//! ```
//!
//! Policy, in one place:
//! - an item of at least the copy threshold is queued as it is (no copy);
//!   a smaller one is copied into the coalescing buffer;
//! - an empty item costs nothing: it never takes a place in the queue, so
//!   it cannot crowd real bytes out of a vectored write;
//! - [`slices`](WriteQueue::slices) hands out at most [`MAX_IOVECS`] slices
//!   for one vectored write, every one of them non-empty;
//! - [`advance`](WriteQueue::advance) drops exactly the bytes written, so
//!   after an error `len()` is exact and a retry sends each byte once;
//! - once the coalescing buffer is drained it is reused from its start.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

/// Most slices handed to one `poll_write_vectored` call (Linux's `UIO_MAXIOV`
/// is 1024; 64 keeps the stack array small and is plenty per call).
pub const MAX_IOVECS: usize = 64;

/// Pending bytes of a writer. See the module docs.
#[derive(Debug)]
pub(crate) struct WriteQueue {
    /// INVARIANT: no element is empty.
    queue: VecDeque<Bytes>,
    coalesce: BytesMut,
    /// INVARIANT: `len == sum of queue lengths + coalesce.len()`.
    len: usize,
    copy_threshold: usize,
}

impl WriteQueue {
    /// An empty queue; allocates nothing.
    pub(crate) fn new(copy_threshold: usize) -> Self {
        WriteQueue {
            queue: VecDeque::new(),
            coalesce: BytesMut::new(),
            len: 0,
            copy_threshold,
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

    /// Appends a copy of `data`.
    #[inline]
    pub(crate) fn extend_from_slice(&mut self, data: &[u8]) {
        self.coalesce.extend_from_slice(data);
        self.len += data.len();
    }

    /// Appends `data`: copied if smaller than the copy threshold, otherwise
    /// queued as it is. Empty `data` is dropped.
    #[inline]
    pub(crate) fn push(&mut self, data: Bytes) {
        let len = data.len();
        if len == 0 {
            return;
        }
        if len < self.copy_threshold {
            return self.extend_from_slice(&data);
        }
        if !self.coalesce.is_empty() {
            // Keep the order: the small bytes so far go first.
            self.queue.push_back(self.coalesce.split().freeze());
        }
        self.queue.push_back(data);
        self.len += len;
    }

    /// Fills `out` with the first pending bytes, as non-empty slices in
    /// order, and returns `(slices used, bytes in them)`.
    pub(crate) fn slices<'a>(&'a self, out: &mut [IoSlice<'a>; MAX_IOVECS]) -> (usize, usize) {
        let mut count = 0;
        let mut total = 0;
        for b in self.queue.iter().take(MAX_IOVECS - 1) {
            debug_assert!(!b.is_empty());
            out[count] = IoSlice::new(b);
            total += b.len();
            count += 1;
        }
        if count < MAX_IOVECS - 1 && !self.coalesce.is_empty() {
            out[count] = IoSlice::new(&self.coalesce);
            total += self.coalesce.len();
            count += 1;
        }
        (count, total)
    }

    /// Drops the first `n` pending bytes (`n <= len()`): they were written.
    pub(crate) fn advance(&mut self, n: usize) {
        debug_assert!(n <= self.len);
        self.len -= n;
        let mut left = n;
        while left > 0 {
            match self.queue.front_mut() {
                Some(front) if front.len() <= left => {
                    left -= front.len();
                    self.queue.pop_front();
                }
                Some(front) => {
                    front.advance(left);
                    left = 0;
                }
                None => {
                    self.coalesce.advance(left);
                    left = 0;
                }
            }
        }
        if self.coalesce.is_empty() {
            // Reuse the coalescing buffer from its start.
            self.coalesce.clear();
        }
    }
}
