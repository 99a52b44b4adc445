//! `send`, `send_frame` and `flush`: the writer's async methods.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::Destination;
use bytes::Bytes;

use super::StreamWriter;
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
    /// are gone from `pending()`, never sent twice.
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
    pub fn send(&mut self, data: Bytes) -> SendBytes<'_, W> {
        SendBytes::new(self, Some(data))
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
    pub fn send_frame(&mut self, prefix: &LengthPrefix, payload: Bytes) -> SendFrame<'_, W> {
        let header = prefix.encode_header(payload.len());
        SendFrame::new(self, &[], Some(header.map(|h| (h, payload))))
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
    pub fn send_frame_with_leading<'a>(
        &'a mut self,
        prefix: &LengthPrefix,
        leading: &'a [u8],
        payload: Bytes,
    ) -> SendFrame<'a, W> {
        let header = length_field_after(prefix, leading, payload.len());
        SendFrame::new(self, leading, Some(header.map(|h| (h, payload))))
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
        data: Option<Bytes>,
    }
    impl[W: Destination + Unpin] -> Result<(), Error>;
    poll(|this, cx| this.poll_send(cx))
}

impl<W: Destination + Unpin> SendBytes<'_, W> {
    /// Room for the bytes (the cap's backpressure), then the bytes queued.
    #[inline]
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let len = self.data.as_ref().map_or(0, Bytes::len);
        let copied = self.writer.copied(len);
        if let Err(e) = ready!(self.writer.poll_room(cx, len, copied)) {
            return Poll::Ready(Err(Error::Io(e)));
        }
        if let Some(data) = self.data.take() {
            self.writer.queue_mut().push(data);
        }
        Poll::Ready(Ok(()))
    }
}

named_future! {
    /// Future of [`StreamWriter::send_frame`].
    pub struct SendFrame<'a, W> {
        writer: &'a mut StreamWriter<W>,
        /// Bytes before the length field (a type tag), given by the caller.
        leading: &'a [u8],
        frame: Option<Result<(Header, Bytes), Error>>,
    }
    impl[W: Destination + Unpin] -> Result<(), Error>;
    poll(|this, cx| this.poll_send(cx))
}

impl<W: Destination + Unpin> SendFrame<'_, W> {
    /// Room for the frame (the cap's backpressure), then the frame queued:
    /// the header encoded straight into the coalescing buffer, the payload
    /// after it (copied if small, kept if large).
    #[inline]
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let Some(Ok((header, payload))) = &self.frame else {
            return Poll::Ready(self.answer_rest());
        };
        let (_, used) = header.padded();
        let head = self.leading.len() + used;
        let plen = payload.len();
        let copied_payload = self.writer.copied(plen);
        if let Err(e) = ready!(self
            .writer
            .poll_room(cx, head + plen, head + copied_payload))
        {
            return Poll::Ready(Err(Error::Io(e)));
        }
        let Some(Ok((header, payload))) = self.frame.take() else {
            unreachable!("checked above")
        };
        let (bytes, used) = header.padded();
        let queue = self.writer.queue_mut();
        if copied_payload == plen {
            queue.push_frame(self.leading, bytes, used, &payload);
        } else {
            queue.push_frame(self.leading, bytes, used, &[]);
            queue.keep(payload);
        }
        Poll::Ready(Ok(()))
    }

    /// The error the header had (nothing is queued), or `Ok` when polled
    /// again after the frame was queued.
    #[cold]
    fn answer_rest(&mut self) -> Result<(), Error> {
        match self.frame.take() {
            Some(Err(e)) => Err(e),
            _ => Ok(()),
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
