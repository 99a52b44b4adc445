//! [`StreamWriter`]: coalesced, vectored writes with a hard cap on pending
//! bytes.
//!
//! Pending bytes live in two places, in order: a queue of `Bytes` (large
//! payloads kept as they are, and frozen runs of small writes), then the
//! coalescing buffer that small writes are copied into. A flush writes them
//! front to back with `poll_write_vectored`, up to [`MAX_IOVECS`] slices
//! per call.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures_io::AsyncWrite;
use pin_project_lite::pin_project;

use crate::checked_io;

mod send;

pub use send::{Flush, SendBytes, SendFrame};

/// Default cap on pending bytes: 1 MiB.
pub const DEFAULT_MAX_PENDING: usize = 1024 * 1024;
/// Default size from which a `Bytes` is queued as it is instead of being
/// copied into the coalescing buffer (see `benches/writer.rs`).
pub const DEFAULT_COPY_THRESHOLD: usize = 1024;
/// A borrowed write (`AsyncWrite::poll_write`) of at least this many bytes
/// goes straight to the inner writer once pending bytes are out: it fills a
/// system call by itself, so copying it would buy nothing. Smaller ones are
/// copied and coalesced (a borrowed slice must be copied either way, so the
/// copy threshold for `Bytes` does not apply).
pub const DIRECT_WRITE: usize = 64 * 1024;
/// Most slices handed to one `poll_write_vectored` call (Linux's `UIO_MAXIOV`
/// is 1024; 64 keeps the stack array small and is plenty per call).
pub const MAX_IOVECS: usize = 64;

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
        // INVARIANT: pending == sum of queue lengths + coalesce.len(); the
        // bytes go out in the order: queue front..back, then coalesce.
        queue: VecDeque<Bytes>,
        coalesce: BytesMut,
        pending: usize,
        max_pending: usize,
        copy_threshold: usize,
        closed: bool,
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
            queue: VecDeque::new(),
            coalesce: BytesMut::new(),
            pending: 0,
            max_pending: DEFAULT_MAX_PENDING,
            copy_threshold: DEFAULT_COPY_THRESHOLD,
            closed: false,
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
    /// ones are copied into the coalescing buffer (default 1 KiB, the crossover measured over loopback TCP by `benches/writes.rs`: copying wins for 512-byte items, queueing from 2 KiB up).
    ///
    /// ```
    /// let w = intake::StreamWriter::new(Vec::<u8>::new()).with_copy_threshold(16 * 1024);
    /// # drop(w);
    /// ```
    pub fn with_copy_threshold(mut self, n: usize) -> Self {
        self.copy_threshold = n;
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
        self.pending
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
    fn has_room_for(&self, len: usize) -> bool {
        self.pending == 0 || self.pending.saturating_add(len) <= self.max_pending
    }

    /// The queue, as an [`EncodeBuf`] that appends to it.
    pub(crate) fn encode_buf(self: Pin<&mut Self>) -> EncodeBuf<'_> {
        let this = self.project();
        EncodeBuf {
            queue: this.queue,
            coalesce: this.coalesce,
            pending: this.pending,
            copy_threshold: *this.copy_threshold,
        }
    }
}

/// Where an [`Encoder`](crate::frame::Encoder) (and every `send`) puts
/// bytes: the end of a [`StreamWriter`]'s queue.
///
/// [`extend_from_slice`](Self::extend_from_slice) copies into the
/// coalescing buffer; [`push`](Self::push) keeps a large `Bytes` as it is.
pub struct EncodeBuf<'a> {
    queue: &'a mut VecDeque<Bytes>,
    coalesce: &'a mut BytesMut,
    pending: &'a mut usize,
    copy_threshold: usize,
}

impl EncodeBuf<'_> {
    /// Appends a copy of `data` (for headers, delimiters, small items).
    #[inline]
    pub fn extend_from_slice(&mut self, data: &[u8]) {
        self.coalesce.extend_from_slice(data);
        *self.pending += data.len();
    }

    /// Appends `data`: copied if smaller than the writer's copy threshold,
    /// otherwise queued as it is, without copying. An empty `data` costs
    /// nothing (it takes no place in the queue, whatever the threshold).
    #[inline]
    pub fn push(&mut self, data: Bytes) {
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
        *self.pending += len;
    }
}

impl fmt::Debug for EncodeBuf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncodeBuf")
            .field("pending", &*self.pending)
            .finish()
    }
}

impl<W: AsyncWrite> StreamWriter<W> {
    /// One vectored write of pending bytes (up to [`MAX_IOVECS`] slices).
    fn poll_write_once(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut this = self.project();
        debug_assert!(*this.pending > 0);
        let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
        let mut count = 0;
        let mut total = 0;
        // Empty items are never queued (`EncodeBuf::push`), so every slot
        // carries bytes.
        for b in this.queue.iter().take(MAX_IOVECS - 1) {
            debug_assert!(!b.is_empty());
            slices[count] = IoSlice::new(b);
            total += b.len();
            count += 1;
        }
        if count < MAX_IOVECS - 1 && !this.coalesce.is_empty() {
            slices[count] = IoSlice::new(this.coalesce);
            total += this.coalesce.len();
            count += 1;
        }
        let written = ready!(checked_io::poll_write(
            this.inner.as_mut(),
            cx,
            &slices[..count],
            total
        ))?;
        // Drop exactly what was written: the rest stays, so an error later
        // leaves `pending` exact and a retry sends each byte once.
        *this.pending -= written;
        let mut left = written;
        while left > 0 {
            match this.queue.front_mut() {
                Some(front) if front.len() <= left => {
                    left -= front.len();
                    this.queue.pop_front();
                }
                Some(front) => {
                    front.advance(left);
                    left = 0;
                }
                None => {
                    this.coalesce.advance(left);
                    left = 0;
                }
            }
        }
        if this.coalesce.is_empty() {
            // Reuse the coalescing buffer from its start.
            this.coalesce.clear();
        }
        Poll::Ready(Ok(()))
    }

    /// Writes until an item of `len` bytes fits under the cap.
    pub(crate) fn poll_room_for(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        len: usize,
    ) -> Poll<io::Result<()>> {
        while !self.has_room_for(len) {
            ready!(self.as_mut().poll_write_once(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    /// Writes every pending byte to the inner writer (without flushing it).
    fn poll_write_pending(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.pending > 0 {
            ready!(self.as_mut().poll_write_once(cx))?;
        }
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite> AsyncWrite for StreamWriter<W> {
    /// Writes are copied into the coalescing buffer, except one of at least
    /// [`DIRECT_WRITE`] (64 KiB) or larger than the cap, which goes straight
    /// to the inner writer after the pending bytes (copying it would buy
    /// nothing). Waits while the cap would be exceeded.
    fn poll_write(
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
        ready!(self.as_mut().poll_room_for(cx, buf.len()))?;
        self.encode_buf().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_write_pending(cx))?;
        self.project().inner.poll_flush(cx)
    }

    /// Writes everything pending, then closes the inner writer, once.
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.closed {
            return Poll::Ready(Ok(()));
        }
        ready!(self.as_mut().poll_write_pending(cx))?;
        let this = self.project();
        ready!(this.inner.poll_close(cx))?;
        *this.closed = true;
        Poll::Ready(Ok(()))
    }
}

impl<W: fmt::Debug> fmt::Debug for StreamWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamWriter")
            .field("inner", &self.inner)
            .field("pending", &self.pending)
            .field("max_pending", &self.max_pending)
            .finish()
    }
}
