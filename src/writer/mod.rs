//! [`StreamWriter`]: coalesced, vectored writes with a hard cap on pending
//! bytes.
//!
//! The pending bytes and their memory policy live in the buffer layer's
//! write queue; this module adds the inner writer, the cap with its
//! backpressure, and the async methods. A flush writes the queue front to
//! back with `poll_write_vectored`, up to [`MAX_IOVECS`] slices per call.

use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::Destination;
use pin_project_lite::pin_project;

use crate::buffer::WriteQueue;
use crate::codec::EncodeBuf;
use crate::io::checked as checked_io;

mod send;
mod write_frame;

pub use send::{Flush, SendBytes, SendFrame};
pub use write_frame::WriteFrame;

/// Default cap on pending bytes: 1 MiB.
pub const DEFAULT_MAX_PENDING: usize = 1024 * 1024;
/// Default size from which a `Bytes` is queued as it is instead of being
/// copied into the coalescing buffer: the crossover of a loopback TCP sweep
/// over item sizes and thresholds (commit 6508f19; `benches/writes.rs` no
/// longer runs that sweep).
pub const DEFAULT_COPY_THRESHOLD: usize = 1024;
/// A borrowed write (`AsyncWrite::poll_write`) of at least this many bytes
/// goes straight to the inner writer once pending bytes are out: it fills a
/// system call by itself, so copying it would buy nothing. Smaller ones are
/// copied and coalesced (a borrowed slice must be copied either way, so the
/// copy threshold for `Bytes` does not apply).
pub const DIRECT_WRITE: usize = 64 * 1024;
pub use crate::buffer::MAX_IOVECS;
/// A borrowed frame payload (`write_frame`) of at least this many bytes
/// goes out uncopied, right behind what is pending, while the sink is not
/// busy; what the sink does not take is copied. A smaller one is copied,
/// to go out with other frames in one write call: over loopback TCP
/// (`benches/tcp.rs`) copying 8 KiB payloads was faster than a write call
/// for each, and copying 16 KiB ones slower (the README has the figures).
pub(crate) const DIRECT_PAYLOAD: usize = 16 * 1024;

pin_project! {
    /// A buffered async writer that coalesces small writes, sends large
    /// [`Bytes`] without copying them, and caps the bytes it holds.
    ///
    /// - Small items (through [`send`](Self::send) or `AsyncWrite::poll_write`)
    ///   are copied into one coalescing buffer; items of at least the copy
    ///   threshold (1 KiB by default) are queued as they are. Both go out in
    ///   vectored writes, many items per system call.
    /// - [`pending`](Self::pending) never exceeds the cap set with
    ///   [`with_max_pending`](Self::with_max_pending) (1 MiB by default),
    ///   except for one item larger than the cap, which is accepted once
    ///   nothing else is pending. Producers wait while the cap would be
    ///   exceeded: backpressure.
    /// - A write of zero bytes by the inner writer is `WriteZero`; after an
    ///   error, `pending()` is exact and a retry sends the rest exactly once.
    ///   Each error of the inner writer is returned once, by the call that
    ///   met it, except one that cuts a large
    ///   [`write_frame`](Self::write_frame) payload short after part of it
    ///   went out: that frame is accepted, and the next call that would
    ///   write returns the error.
    ///
    /// # Several producers
    ///
    /// A `StreamWriter` has one owner. For the classic "many tasks put
    /// messages, one loop writes them" design, put a bounded channel in front
    /// of it (e.g. `async-channel`, which smol re-exports as `smol::channel`):
    /// producers clone the sender, one task drains the receiver into the
    /// writer and flushes when the channel runs dry. The channel's bound and
    /// the writer's cap together bound memory. `tests/writer.rs` tests this.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use bytes::Bytes;
    /// use intake::StreamWriter;
    ///
    /// let (tx, rx) = async_channel::bounded::<Bytes>(64);
    /// let producers: Vec<_> = (0..4)
    ///     .map(|i| {
    ///         let tx = tx.clone();
    ///         async move { tx.send(Bytes::from(format!("msg {i}\n"))).await.unwrap() }
    ///     })
    ///     .collect();
    /// drop(tx);
    /// let writer_loop = async {
    ///     let mut w = StreamWriter::new(Vec::new());
    ///     while let Ok(msg) = rx.recv().await {
    ///         w.send(msg).await?;
    ///         if rx.is_empty() {
    ///             w.flush().await?;
    ///         }
    ///     }
    ///     w.flush().await?;
    ///     Ok::<_, intake::Error>(w.into_inner())
    /// };
    /// for p in producers {
    ///     p.await;
    /// }
    /// let out = writer_loop.await?;
    /// assert_eq!(out.len(), 4 * 6);
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub struct StreamWriter<W> {
        #[pin]
        inner: W,
        queue: WriteQueue,
        max_pending: usize,
        closed: bool,
        // An error of the inner writer that no caller has seen yet: one
        // that came after part of a `write_frame` payload went out, when
        // the frame had to be accepted whole (its rest is pending). The
        // next write call returns it instead of writing, so it is
        // reported exactly once, and never while nothing is pending.
        deferred: Option<io::Error>,
    }
}

impl<W> StreamWriter<W> {
    /// Wraps `inner`. Allocates nothing until the first write.
    ///
    /// ```
    /// let w = intake::StreamWriter::new(Vec::<u8>::new());
    /// assert_eq!(w.pending(), 0);
    /// ```
    pub fn new(inner: W) -> Self {
        StreamWriter {
            inner,
            queue: WriteQueue::new(DEFAULT_COPY_THRESHOLD),
            max_pending: DEFAULT_MAX_PENDING,
            closed: false,
            deferred: None,
        }
    }

    /// Hard cap on bytes accepted but not yet written to the inner writer
    /// (default 1 MiB). Writers wait while an item would exceed it; a
    /// single item larger than the cap is accepted once nothing else is
    /// pending. A cap of 0 means every item waits for the previous one to
    /// be written.
    ///
    /// ```
    /// let w = intake::StreamWriter::new(Vec::<u8>::new()).with_max_pending(64 * 1024);
    /// assert_eq!(w.max_pending(), 65536);
    /// ```
    pub fn with_max_pending(mut self, max: usize) -> Self {
        self.max_pending = max;
        self
    }

    /// Items of at least `n` bytes are queued as they are (no copy); smaller
    /// ones are copied into the coalescing buffer (default
    /// [`DEFAULT_COPY_THRESHOLD`], 1 KiB).
    ///
    /// ```
    /// let w = intake::StreamWriter::new(Vec::<u8>::new()).with_copy_threshold(16 * 1024);
    /// # drop(w);
    /// ```
    pub fn with_copy_threshold(mut self, n: usize) -> Self {
        self.queue.set_copy_threshold(n);
        self
    }

    /// Bytes accepted but not yet written to the inner writer.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut w = intake::StreamWriter::new(Vec::<u8>::new());
    /// w.send(bytes::Bytes::from_static(b"hello")).await?;
    /// assert_eq!(w.pending(), 5);
    /// w.flush().await?;
    /// assert_eq!(w.pending(), 0);
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// The cap on pending bytes.
    ///
    /// ```
    /// assert_eq!(intake::StreamWriter::new(Vec::<u8>::new()).max_pending(), intake::DEFAULT_MAX_PENDING);
    /// ```
    pub fn max_pending(&self) -> usize {
        self.max_pending
    }

    /// The inner writer.
    ///
    /// ```
    /// let w = intake::StreamWriter::new(vec![1u8]);
    /// assert_eq!(w.get_ref(), &[1]);
    /// ```
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, mutably. Writing to it directly jumps ahead of
    /// the pending bytes.
    ///
    /// ```
    /// let mut w = intake::StreamWriter::new(Vec::<u8>::new());
    /// w.get_mut().push(1);
    /// assert_eq!(w.get_ref(), &[1]);
    /// ```
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The pinned inner writer.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut W> {
        self.project().inner
    }

    /// Unwraps the writer, dropping pending bytes: flush first.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut w = intake::StreamWriter::new(Vec::new());
    /// w.send(bytes::Bytes::from_static(b"done")).await?;
    /// w.flush().await?;
    /// assert_eq!(w.into_inner(), b"done");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// Whether an item of `len` bytes may be accepted now.
    #[inline]
    fn has_room_for(&self, len: usize) -> bool {
        let pending = self.queue.len();
        pending == 0 || pending.saturating_add(len) <= self.max_pending
    }

    /// Keeps `error` for the next write call to return: the inner writer
    /// failed after part of a frame went out, and the frame's rest is
    /// pending, so the call that failed must succeed.
    pub(crate) fn defer_error(&mut self, error: io::Error) {
        debug_assert!(self.queue.len() > 0 && self.deferred.is_none());
        self.deferred = Some(error);
    }

    /// The pending bytes, to append to.
    #[inline]
    pub(crate) fn queue_mut(&mut self) -> &mut WriteQueue {
        &mut self.queue
    }

    /// Whether an item of `len` bytes, `copied` of them into the coalescing
    /// buffer, is accepted at once: the first test of
    /// [`poll_room_for`](Self::poll_room_for), which needs no inner writer.
    #[inline]
    pub(crate) fn fits_now(&self, len: usize, copied: usize) -> bool {
        !self.queue.wants_write(copied) && self.has_room_for(len)
    }

    /// Whether a small write of `len` bytes, all of them copied, is
    /// accepted at once: the pending bytes stay below the point where a
    /// write is due and within the cap. The `AsyncWrite` fast path's test,
    /// two comparisons: what it turns down (a write larger than the write
    /// size with nothing pending, say) the slow path may still accept.
    #[inline]
    pub(crate) fn fits_copy_now(&self, len: usize) -> bool {
        // The sum cannot overflow once it is below the write point.
        self.queue.below_write_point(len) && self.queue.len() + len <= self.max_pending
    }

    /// Whether a borrowed frame payload of `len` bytes goes out uncopied
    /// (see [`DIRECT_PAYLOAD`]): large enough, to a sink not known to be
    /// busy (trying it would be a failed write per frame) that can write
    /// from borrowed memory (completion I/O needs owned buffers).
    #[inline]
    pub(crate) fn writes_through(&self, len: usize) -> bool
    where
        W: Destination,
    {
        !W::LENDS && len >= DIRECT_PAYLOAD && !self.queue.sink_is_busy()
    }

    /// The queue, as an [`EncodeBuf`] that appends to it.
    pub(crate) fn encode_buf(self: Pin<&mut Self>) -> EncodeBuf<'_> {
        EncodeBuf::new(self.project().queue)
    }
}

impl<W: Destination> StreamWriter<W> {
    /// One vectored write of pending bytes (up to [`MAX_IOVECS`] slices),
    /// or the deferred error, if there is one.
    fn poll_write_once(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        debug_assert!(this.queue.len() > 0);
        if let Some(e) = this.deferred.take() {
            return Poll::Ready(Err(e));
        }
        if W::LENDS {
            // Completion I/O: the pending bytes go to the write as owned
            // buffers (kept items uncopied), which it holds until it ends.
            let (written, offered) =
                ready!(checked_io::poll_write_lent(this.inner, cx, |staging| {
                    this.queue.owned_front(staging, MAX_IOVECS)
                }))?;
            this.queue.advance(written, offered);
            return Poll::Ready(Ok(()));
        }
        if let Some(front) = this.queue.large_front() {
            let offered = front.len();
            this.queue.prefetch_next_write(front);
            let written = ready!(checked_io::poll_write_slice(this.inner, cx, front))?;
            this.queue.advance(written, offered);
            return Poll::Ready(Ok(()));
        }
        poll_write_queue(this.inner, this.queue, cx, &[]).map_ok(drop)
    }

    /// Makes room for an item of `len` bytes, `copied` of which go into the
    /// coalescing buffer. Ready at once while the pending bytes stay under
    /// the write point (the queue's policy: the write size, or more while
    /// the sink is busy) and the cap. Past it, it writes, as long as the
    /// inner writer takes bytes; once the inner writer is busy (`Pending`)
    /// the item is accepted anyway if it fits under the cap, and the queue
    /// moves the write point on (`WriteQueue::sink_busy`), so small writes
    /// pile up only while the sink is busy, without a failed write per
    /// item. Past the cap it waits: backpressure.
    #[inline]
    pub(crate) fn poll_room_for(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        len: usize,
        copied: usize,
    ) -> Poll<io::Result<()>> {
        if self.fits_now(len, copied) {
            return Poll::Ready(Ok(()));
        }
        self.poll_make_room(cx, len, copied)
    }

    /// [`poll_room_for`](Self::poll_room_for) on an `Unpin` writer.
    #[inline]
    pub(crate) fn poll_room(
        &mut self,
        cx: &mut Context<'_>,
        len: usize,
        copied: usize,
    ) -> Poll<io::Result<()>>
    where
        W: Unpin,
    {
        Pin::new(self).poll_room_for(cx, len, copied)
    }

    /// How many of an item's `len` bytes the writer would copy.
    #[inline]
    pub(crate) fn copied(&self, len: usize) -> usize {
        self.queue.copied(len)
    }

    #[cold]
    fn poll_make_room(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        len: usize,
        copied: usize,
    ) -> Poll<io::Result<()>> {
        loop {
            let fits = self.has_room_for(len);
            if fits && !self.queue.wants_write(copied) {
                return Poll::Ready(Ok(()));
            }
            match self.as_mut().poll_write_once(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending if fits => {
                    self.as_mut().project().queue.sink_busy();
                    return Poll::Ready(Ok(()));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// One vectored write of every pending byte and then `tail`: borrowed
    /// bytes that go out right behind them, uncopied. Returns how many of
    /// `tail`'s bytes the inner writer took (none when the pending bytes
    /// need more slices than one write carries: they go first), or the
    /// deferred error, if there is one.
    pub(crate) fn poll_write_through(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        tail: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        if let Some(e) = this.deferred.take() {
            return Poll::Ready(Err(e));
        }
        poll_write_queue(this.inner, this.queue, cx, tail)
    }

    /// Writes every pending byte to the inner writer (without flushing it).
    fn poll_write_pending(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.queue.len() > 0 {
            ready!(self.as_mut().poll_write_once(cx))?;
        }
        Poll::Ready(Ok(()))
    }
}

/// One write of the first pending bytes to `inner`, and then of `tail`
/// (borrowed bytes that go right behind them, uncopied) if every pending
/// byte fits in the other slices: see [`poll_write_slices`]. Returns how
/// many of `tail`'s bytes were written.
///
/// A small array when few slices are needed: a write call costs no more
/// than the few slices it carries (clearing 64 slices cost more than the
/// rest of a call that carries a header and a payload). Inlined into each
/// caller, so the `tail` code vanishes where it is empty (every write of
/// pending bytes alone).
#[inline(always)]
fn poll_write_queue<W: Destination>(
    inner: Pin<&mut W>,
    queue: &mut WriteQueue,
    cx: &mut Context<'_>,
    tail: &[u8],
) -> Poll<io::Result<usize>> {
    if queue.slices_needed() + usize::from(!tail.is_empty()) <= 4 {
        poll_write_slices::<_, 4>(inner, queue, cx, tail)
    } else {
        poll_write_slices::<_, MAX_IOVECS>(inner, queue, cx, tail)
    }
}

/// [`poll_write_queue`] with an array of `N` slices.
#[inline(always)]
fn poll_write_slices<W: Destination, const N: usize>(
    inner: Pin<&mut W>,
    queue: &mut WriteQueue,
    cx: &mut Context<'_>,
    tail: &[u8],
) -> Poll<io::Result<usize>> {
    let mut slices = [IoSlice::new(&[]); N];
    let room = if tail.is_empty() { N } else { N - 1 };
    let (mut count, mut offered) = queue.slices(&mut slices[..room]);
    if !tail.is_empty() && offered == queue.len() {
        slices[count] = IoSlice::new(tail);
        count += 1;
        offered += tail.len();
    }
    let written = ready!(checked_io::poll_write(inner, cx, &slices[..count], offered))?;
    // Drop exactly what was written: the rest stays, so an error later
    // leaves `pending` exact and a retry sends each byte once.
    Poll::Ready(Ok(queue.advance_through(written, offered)))
}

impl<W: Destination> StreamWriter<W> {
    /// The `poll_write` of both `AsyncWrite` families.
    ///
    /// Writes are copied into the coalescing buffer, except one of at least
    /// [`DIRECT_WRITE`] (64 KiB) or larger than the cap, which goes straight
    /// to the inner writer after the pending bytes (copying it would buy
    /// nothing). Waits while the cap would be exceeded.
    #[inline]
    pub(crate) fn poll_write_borrowed(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // The usual case, small enough to inline into every caller's
        // write loop: a small write with room for it now is copied.
        // (An empty write copies nothing and returns 0.)
        let len = buf.len();
        if len < DIRECT_WRITE && self.fits_copy_now(len) {
            self.project().queue.extend_from_slice(buf);
            return Poll::Ready(Ok(len));
        }
        self.poll_write_borrowed_rest(cx, buf)
    }

    /// [`poll_write_borrowed`](Self::poll_write_borrowed) when the write
    /// is empty, large, or must wait for room.
    #[inline(never)]
    fn poll_write_borrowed_rest(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if buf.len() >= DIRECT_WRITE || buf.len() > self.max_pending {
            ready!(self.as_mut().poll_write_pending(cx))?;
            return checked_io::poll_write_slice(self.project().inner, cx, buf);
        }
        ready!(self.as_mut().poll_room_for(cx, buf.len(), buf.len()))?;
        self.project().queue.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    /// The `poll_flush` of both families: writes everything pending and
    /// flushes the inner writer; then the writer, now idle, lets its
    /// buffers go.
    pub(crate) fn poll_flush_all(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_write_pending(cx))?;
        let this = self.project();
        ready!(this.inner.poll_flush_inner(cx))?;
        this.queue.release_if_empty();
        Poll::Ready(Ok(()))
    }

    /// `poll_close` (futures-io) and `poll_shutdown` (tokio): writes
    /// everything pending, then closes the inner writer, once.
    pub(crate) fn poll_close_once(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        if self.closed {
            return Poll::Ready(Ok(()));
        }
        ready!(self.as_mut().poll_write_pending(cx))?;
        let this = self.project();
        ready!(this.inner.poll_close_inner(cx))?;
        *this.closed = true;
        Poll::Ready(Ok(()))
    }
}

/// See [`DIRECT_WRITE`] for which writes are copied.
impl<W: Destination> futures_io::AsyncWrite for StreamWriter<W> {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_borrowed(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush_all(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_close_once(cx)
    }
}

/// tokio's `AsyncWrite`, the same as the futures-io one (`poll_shutdown`
/// is its `poll_close`).
#[cfg(feature = "tokio")]
impl<W: Destination> tokio::io::AsyncWrite for StreamWriter<W> {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_borrowed(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush_all(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_close_once(cx)
    }
}

impl<W: fmt::Debug> fmt::Debug for StreamWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamWriter")
            .field("inner", &self.inner)
            .field("pending", &self.queue.len())
            .field("max_pending", &self.max_pending)
            .finish()
    }
}
