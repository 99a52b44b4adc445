//! `send`, `send_frame` and `flush`: the writer's async methods.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::Destination;
use bytes::Bytes;

use super::{StreamWriter, DIRECT_PAYLOAD};
use crate::codec::{Header, LengthPrefix};
use crate::future::named_future;
use crate::Error;

impl<W: Destination + Unpin> StreamWriter<W> {
    /// Queues `data`: copied into the coalescing buffer if small, kept as it
    /// is (no copy) if at least the copy threshold. Nothing is written until
    /// the cap is reached or [`flush`](Self::flush) is called.
    ///
    /// Waits (backpressure), writing pending bytes to the inner writer,
    /// while accepting `data` would exceed the cap; an item larger than the
    /// cap is accepted once nothing else is pending.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the inner writer fails while making room (`WriteZero`
    /// for a write of zero bytes). `data` was not queued; `pending()` counts
    /// exactly the bytes still queued.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe in the sense that `data` is queued whole or not at all:
    /// if the future is dropped before it completes, `data` was not queued
    /// (and is dropped with the future); bytes written while making room
    /// are gone from `pending()`, never sent twice. (A small item with
    /// room for it is copied when `send` is called, so that the future
    /// carries nothing; dropping the future unfinished, even unpolled,
    /// takes the copy back.)
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use bytes::Bytes;
    /// let mut w = intake::StreamWriter::new(Vec::new());
    /// w.send(Bytes::from_static(b"small, copied; ")).await?;
    /// w.send(Bytes::from(vec![b'x'; 8192])).await?; // large: queued as is
    /// w.flush().await?;
    /// assert_eq!(w.get_ref().len(), 15 + 8192);
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    #[inline]
    pub fn send(&mut self, data: Bytes) -> SendBytes<'_, W> {
        let len = data.len();
        // The fast path: a small item with room for it is copied now, and
        // the future carries only how much to take back if it is dropped
        // unfinished (nothing else can touch the writer before then: the
        // future borrows it). Moving the `Bytes` into the future, and out
        // again, cost more than the copy.
        if self.queue.copied(len) == len && self.fits_now(len, len) {
            self.queue.extend_inline(&data);
            return SendBytes::new(self, None, len);
        }
        SendBytes::new(self, Some(data), 0)
    }

    /// Queues a length header for `payload`, then `payload`, so they go out
    /// in the same vectored write without being concatenated. The pair is
    /// accepted whole or not at all, under the same cap as
    /// [`send`](Self::send).
    ///
    /// # Errors
    ///
    /// - [`Error::FrameTooLarge`] if `payload` exceeds the prefix's maximum,
    ///   or [`Error::Io`] (`InvalidInput`) if the length field cannot
    ///   represent it: nothing is written or queued.
    /// - [`Error::Io`] if the inner writer fails while making room.
    ///
    /// # Cancel safety
    ///
    /// As [`send`](Self::send): header and payload are queued together or
    /// not at all.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use bytes::Bytes;
    /// use intake::{LengthPrefix, StreamWriter};
    ///
    /// let prefix = LengthPrefix::new(2);
    /// let mut w = StreamWriter::new(Vec::new());
    /// w.send_frame(&prefix, Bytes::from_static(b"hi")).await?;
    /// w.flush().await?;
    /// assert_eq!(w.get_ref(), b"\x00\x02hi");
    ///
    /// let too_big = Bytes::from(vec![0; 70_000]);
    /// assert!(w.send_frame(&prefix, too_big).await.is_err()); // nothing written
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    #[inline]
    pub fn send_frame<'a>(
        &'a mut self,
        prefix: &'a LengthPrefix,
        payload: Bytes,
    ) -> SendFrame<'a, W> {
        if let Some(queued) = self.queue_small_frame::<true>(prefix, None, &payload) {
            return SendFrame::new(self, prefix, None, None, queued);
        }
        SendFrame::new(self, prefix, None, Some(payload), 0)
    }

    /// [`send_frame`](Self::send_frame) for a prefix with a
    /// [length field offset](LengthPrefix::length_field_offset): the caller
    /// gives the `leading` bytes that go before the length field (a type
    /// tag), so the same `LengthPrefix` value writes what it reads.
    ///
    /// # Errors
    ///
    /// As [`send_frame`](Self::send_frame), and [`Error::Io`]
    /// (`InvalidInput`) if `leading` is not exactly the prefix's offset
    /// long: nothing is written or queued.
    ///
    /// # Cancel safety
    ///
    /// As [`send`](Self::send): the whole frame is queued or nothing.
    ///
    /// # Examples
    ///
    /// PostgreSQL's message framing, written and read back with one prefix:
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use bytes::Bytes;
    /// use intake::{LengthPrefix, StreamReader, StreamWriter};
    ///
    /// // A type byte, a 4-byte length counting itself (not the type), the body.
    /// let pg = LengthPrefix::new(4).length_field_offset(1).length_adjustment(-4).keep_header();
    /// let mut w = StreamWriter::new(Vec::new());
    /// w.send_frame_with_leading(&pg, b"Q", Bytes::from_static(b"SELECT 1\0")).await?;
    /// w.flush().await?;
    /// assert_eq!(w.get_ref(), b"Q\x00\x00\x00\x0dSELECT 1\0");
    ///
    /// let mut r = StreamReader::new(&w.get_ref()[..]);
    /// assert_eq!(r.read_frame(&pg).await?.as_deref(), Some(&w.get_ref()[..]));
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    #[inline]
    pub fn send_frame_with_leading<'a>(
        &'a mut self,
        prefix: &'a LengthPrefix,
        leading: &'a [u8],
        payload: Bytes,
    ) -> SendFrame<'a, W> {
        if let Some(queued) = self.queue_small_frame::<true>(prefix, Some(leading), &payload) {
            return SendFrame::new(self, prefix, Some(leading), None, queued);
        }
        SendFrame::new(self, prefix, Some(leading), Some(payload), 0)
    }

    /// The fast path of `send_frame` and `write_frame`: a valid frame whose
    /// payload is copied, with room for it now, is queued at once; returns
    /// how many bytes were queued (for the future to take back if it is
    /// dropped unfinished), or `None` for the future to do it all when
    /// polled.
    ///
    /// `OWNED`: a `send_frame` payload, copied only below the copy
    /// threshold (a larger one is kept as it is) and copied by
    /// [`push_frame_inline`](crate::buffer::WriteQueue::push_frame_inline),
    /// since the caller holds its `Bytes` across the copy. Otherwise a
    /// borrowed `write_frame` payload, copied whenever it is below
    /// [`DIRECT_PAYLOAD`], with a call to `memcpy` (the inline moves measured
    /// slower there). One instance per method keeps each inlined into its
    /// two callers.
    #[inline]
    pub(super) fn queue_small_frame<const OWNED: bool>(
        &mut self,
        prefix: &LengthPrefix,
        leading: Option<&[u8]>,
        payload: &[u8],
    ) -> Option<usize> {
        let plen = payload.len();
        let copied = if OWNED {
            self.queue.copied(plen) == plen
        } else {
            plen < DIRECT_PAYLOAD
        };
        if !copied {
            return None;
        }
        let header = match leading {
            None => prefix.encode_header(plen),
            Some(leading) => length_field_after(prefix, leading, plen),
        };
        // An error is the poll's to answer.
        let header = header.ok()?;
        let leading = leading.unwrap_or_default();
        let (bytes, used) = header.padded();
        let len = leading.len() + used + plen;
        if !self.fits_now(len, len) {
            return None;
        }
        if OWNED {
            self.queue.push_frame_inline(leading, bytes, used, payload);
        } else {
            self.queue.push_frame(leading, bytes, used, payload);
        }
        Some(len)
    }

    /// Writes everything pending, then flushes the inner writer.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the inner writer fails; `pending()` is exact
    /// afterwards and calling `flush` again sends the rest exactly once.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: progress is kept in the writer; a later `flush`
    /// continues where this one stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut w = intake::StreamWriter::new(Vec::new());
    /// w.send(bytes::Bytes::from_static(b"abc")).await?;
    /// w.flush().await?;
    /// assert_eq!(w.get_ref(), b"abc");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn flush(&mut self) -> Flush<'_, W> {
        Flush::new(self)
    }
}

/// The length field that follows the caller's `leading` bytes, which must
/// be exactly the prefix's offset long.
#[inline]
pub(super) fn length_field_after(
    prefix: &LengthPrefix,
    leading: &[u8],
    payload_len: usize,
) -> Result<Header, Error> {
    if leading.len() != prefix.offset() {
        return Err(wrong_leading(prefix, leading));
    }
    prefix.encode_length_field(payload_len)
}

#[cold]
fn wrong_leading(prefix: &LengthPrefix, leading: &[u8]) -> Error {
    Error::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!(
            "{} leading bytes for a length field offset of {}",
            leading.len(),
            prefix.offset()
        ),
    ))
}

named_future! {
    /// Future of [`StreamWriter::send`].
    /// (Not named `Send`: that would shadow the `Send` trait under `use intake::*`.)
    pub struct SendBytes<'a, W> {
        writer: &'a mut StreamWriter<W>,
        /// The item, until it is queued (`None` from the start when
        /// `send` queued it at once).
        data: Option<Bytes>,
        /// Bytes `send` queued at once, taken back if the future is
        /// dropped before it completes.
        queued: usize,
    }
    impl[W: Destination + Unpin] -> Result<(), Error>;
    poll(|this, cx| this.poll_send(cx))
}

impl<W: Destination + Unpin> SendBytes<'_, W> {
    /// Room for the bytes (the cap's backpressure), then the bytes queued.
    #[inline]
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let Some(data) = &self.data else {
            // Queued by `send`, or polled again after completing.
            return Poll::Ready(Ok(()));
        };
        let len = data.len();
        let copied = self.writer.copied(len);
        if let Err(e) = ready!(self.writer.poll_room(cx, len, copied)) {
            return Poll::Ready(Err(Error::Io(e)));
        }
        if copied == len {
            // Copied (or empty): read where it is, dropped in place.
            let data = self.data.as_deref().unwrap_or_default();
            self.writer.queue_mut().extend_inline(data);
            self.data = None;
        } else if let Some(data) = self.data.take() {
            self.writer.queue_mut().push(data);
        }
        Poll::Ready(Ok(()))
    }
}

/// A future dropped before it completes takes back what its method queued
/// at once: the item is queued whole or not at all, as if it had waited
/// for its first poll.
impl<W> Drop for SendBytes<'_, W> {
    #[inline]
    fn drop(&mut self) {
        if !self.done && self.queued != 0 {
            self.writer.queue.unqueue_tail(self.queued);
        }
    }
}

named_future! {
    /// Future of [`StreamWriter::send_frame`] and
    /// [`StreamWriter::send_frame_with_leading`].
    ///
    /// The header is encoded when the frame is queued, straight into the
    /// coalescing buffer, so the future carries no encoded header.
    pub struct SendFrame<'a, W> {
        writer: &'a mut StreamWriter<W>,
        prefix: &'a LengthPrefix,
        /// Bytes before the length field (a type tag), given by the caller
        /// (`None`: `send_frame`, which takes none).
        leading: Option<&'a [u8]>,
        /// The payload; taken once the frame is queued or refused (`None`
        /// from the start when `send_frame` queued the frame at once).
        payload: Option<Bytes>,
        /// Bytes `send_frame` queued at once, taken back if the future is
        /// dropped before it completes.
        queued: usize,
    }
    impl[W: Destination + Unpin] -> Result<(), Error>;
    poll(|this, cx| this.poll_send(cx))
}

impl<W: Destination + Unpin> SendFrame<'_, W> {
    /// The header (or why there is none: nothing is queued), room for the
    /// frame (the cap's backpressure), then the frame queued: the header
    /// encoded straight into the coalescing buffer, the payload after it
    /// (copied if small, kept if large).
    #[inline]
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let Some(payload) = &self.payload else {
            // Queued by `send_frame`, or polled again after the frame was
            // queued or refused.
            return Poll::Ready(Ok(()));
        };
        let plen = payload.len();
        let header = match self.leading {
            None => self.prefix.encode_header(plen),
            Some(leading) => length_field_after(self.prefix, leading, plen),
        };
        let header = match header {
            Ok(header) => header,
            Err(e) => {
                self.payload = None;
                return Poll::Ready(Err(e));
            }
        };
        let leading = self.leading.unwrap_or_default();
        let (bytes, used) = header.padded();
        let head = leading.len() + used;
        let copied_payload = self.writer.copied(plen);
        if let Err(e) = ready!(self
            .writer
            .poll_room(cx, head + plen, head + copied_payload))
        {
            return Poll::Ready(Err(Error::Io(e)));
        }
        let queue = self.writer.queue_mut();
        if copied_payload == plen {
            // Copied: the payload is read where it is and dropped in place.
            let payload = self.payload.as_deref().unwrap_or_default();
            queue.push_frame_inline(leading, bytes, used, payload);
            self.payload = None;
        } else if let Some(payload) = self.payload.take() {
            queue.push_frame(leading, bytes, used, &[]);
            queue.keep(payload);
        }
        Poll::Ready(Ok(()))
    }
}

/// As for [`SendBytes`]: a frame queued at once is taken back if the
/// future is dropped before it completes.
impl<W> Drop for SendFrame<'_, W> {
    #[inline]
    fn drop(&mut self) {
        if !self.done && self.queued != 0 {
            self.writer.queue.unqueue_tail(self.queued);
        }
    }
}

named_future! {
    /// Future of [`StreamWriter::flush`].
    pub struct Flush<'a, W> {
        writer: &'a mut StreamWriter<W>,
    }
    impl[W: Destination + Unpin] -> Result<(), Error>;
    poll(|this, cx| {
        futures_io::AsyncWrite::poll_flush(Pin::new(&mut *this.writer), cx).map_err(Error::Io)
    })
}
