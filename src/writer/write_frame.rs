//! `write_frame` and `write_frame_with_leading`: a length header and a
//! borrowed payload, copied (`write_*` copies borrowed bytes; `send_*`
//! keeps owned ones).

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;

use crate::buffer::WriteQueue;
use crate::io::Destination;

use super::send::length_field_after;
use super::{StreamWriter, DIRECT_PAYLOAD, DIRECT_WRITE};
use crate::codec::LengthPrefix;
use crate::future::named_future;
use crate::Error;

impl<W: Destination + Unpin> StreamWriter<W> {
    /// Queues a length header for `payload`, then a copy of `payload`: the
    /// borrowed twin of [`send_frame`](Self::send_frame), as `write_all` is
    /// of [`send`](Self::send). A small frame is copied into the coalescing
    /// buffer with what is pending, so many small frames go out in one
    /// write call. A payload of 16 KiB or more goes out uncopied, in one
    /// vectored write after the pending bytes and its header, for as much
    /// as the sink takes; what it does not take is copied (into memory of
    /// its own from [`DIRECT_WRITE`], 64 KiB). While the sink is busy,
    /// large payloads are copied as small ones are, so a busy socket is
    /// not asked again for every frame.
    ///
    /// Waits (backpressure), writing pending bytes, while the frame would
    /// take the pending bytes past the cap; a frame larger than the cap is
    /// accepted once nothing else is pending.
    ///
    /// # Errors
    ///
    /// - [`Error::FrameTooLarge`] if `payload` exceeds the prefix's maximum,
    ///   or [`Error::Io`] (`InvalidInput`) if the length field cannot
    ///   represent it (or the prefix has a length field offset: use
    ///   [`write_frame_with_leading`](Self::write_frame_with_leading)):
    ///   nothing is written or queued.
    /// - [`Error::Io`] if the inner writer fails while making room: the
    ///   frame was not queued; `pending()` counts exactly the bytes still
    ///   queued, and a retry sends each of them once. If it fails after
    ///   part of a large payload went out, the frame must go out whole:
    ///   the rest is queued, `write_frame` returns `Ok`, and the next call
    ///   that would write (a write, a flush, a close, or an item that
    ///   makes room) returns the error instead, once.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe in the sense that the frame is queued whole or not at
    /// all: if the future is dropped before it completes, neither the
    /// header nor any byte of the payload was queued; bytes written while
    /// making room are gone from `pending()`, never sent twice. (Once any
    /// byte of the frame is written, the future completes in the same
    /// poll, with the rest queued. A small
    /// frame with room for it is copied when `write_frame` is called, so
    /// that the future carries nothing; dropping the future unfinished,
    /// even unpolled, takes the copy back.)
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use intake::{LengthPrefix, StreamReader, StreamWriter};
    ///
    /// let prefix = LengthPrefix::new(2);
    /// let mut w = StreamWriter::new(Vec::new());
    /// let mut scratch = Vec::new(); // reused for every message
    /// for n in 0..3 {
    ///     scratch.clear();
    ///     scratch.extend_from_slice(format!("message {n}").as_bytes());
    ///     w.write_frame(&prefix, &scratch).await?;
    /// }
    /// w.flush().await?;
    /// assert_eq!(&w.get_ref()[..11], b"\x00\x09message 0");
    ///
    /// let mut r = StreamReader::new(&w.get_ref()[..]);
    /// assert_eq!(r.read_frame(&prefix).await?.as_deref(), Some(&b"message 0"[..]));
    ///
    /// // Too long for a 2-byte length: an error, and nothing is queued.
    /// assert!(w.write_frame(&prefix, &[0; 70_000]).await.is_err());
    /// assert_eq!(w.pending(), 0);
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    #[inline]
    pub fn write_frame<'a>(
        &'a mut self,
        prefix: &'a LengthPrefix,
        payload: &'a [u8],
    ) -> WriteFrame<'a, W> {
        let queued = self.queue_small_written_frame(prefix, None, payload);
        WriteFrame::new(self, prefix, None, payload, queued)
    }

    /// [`write_frame`](Self::write_frame) for a prefix with a
    /// [length field offset](LengthPrefix::length_field_offset): the
    /// `leading` bytes go before the length field (a type tag), as in
    /// [`send_frame_with_leading`](Self::send_frame_with_leading).
    ///
    /// # Errors
    ///
    /// As [`write_frame`](Self::write_frame), and [`Error::Io`]
    /// (`InvalidInput`) if `leading` is not exactly the prefix's offset
    /// long: nothing is written or queued.
    ///
    /// # Cancel safety
    ///
    /// As [`write_frame`](Self::write_frame): the whole frame (leading
    /// bytes, length field, payload) is queued or nothing.
    ///
    /// # Examples
    ///
    /// PostgreSQL's messages, serialized into one reused buffer:
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use intake::{LengthPrefix, StreamReader, StreamWriter};
    ///
    /// // A type byte, a 4-byte length counting itself (not the type), the body.
    /// let pg = LengthPrefix::new(4).length_field_offset(1).length_adjustment(-4).keep_header();
    /// let mut w = StreamWriter::new(Vec::new());
    /// let mut body = Vec::new();
    /// body.extend_from_slice(b"SELECT 1\0");
    /// w.write_frame_with_leading(&pg, b"Q", &body).await?;
    /// w.flush().await?;
    /// assert_eq!(w.get_ref(), b"Q\x00\x00\x00\x0dSELECT 1\0");
    ///
    /// let mut r = StreamReader::new(&w.get_ref()[..]);
    /// assert_eq!(r.read_frame(&pg).await?.as_deref(), Some(&w.get_ref()[..]));
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    #[inline]
    pub fn write_frame_with_leading<'a>(
        &'a mut self,
        prefix: &'a LengthPrefix,
        leading: &'a [u8],
        payload: &'a [u8],
    ) -> WriteFrame<'a, W> {
        let queued = self.queue_small_written_frame(prefix, Some(leading), payload);
        WriteFrame::new(self, prefix, Some(leading), payload, queued)
    }

    /// The fast path, as for `send_frame`: a frame copied whole into the
    /// coalescing buffer, with room for it now, is queued at once (0: the
    /// future does it all when polled). Moving the borrows through the
    /// future and checking them again on its poll cost more than the copy.
    #[inline]
    fn queue_small_written_frame(
        &mut self,
        prefix: &LengthPrefix,
        leading: Option<&[u8]>,
        payload: &[u8],
    ) -> usize {
        self.queue_small_frame::<false>(prefix, leading, payload)
            .unwrap_or(0)
    }
}

named_future! {
    /// Future of [`StreamWriter::write_frame`] and
    /// [`StreamWriter::write_frame_with_leading`].
    ///
    /// It holds only borrows: the header is encoded when the frame is
    /// queued, straight into the coalescing buffer (a future that carried
    /// the encoded header would move it through memory on every call).
    pub struct WriteFrame<'a, W> {
        writer: &'a mut StreamWriter<W>,
        prefix: &'a LengthPrefix,
        /// Bytes before the length field (a type tag), given by the caller
        /// (`None`: `write_frame`, which takes none).
        leading: Option<&'a [u8]>,
        payload: &'a [u8],
        /// Bytes `write_frame` queued at once (a frame is never empty: 0
        /// means not queued), taken back if the future is dropped before
        /// it completes.
        queued: usize,
    }
    impl[W: Destination + Unpin] -> Result<(), Error>;
    poll(|this, cx| this.poll_write_frame(cx))
}

impl<W: Destination + Unpin> WriteFrame<'_, W> {
    /// The header (or why there is none: nothing is queued), room for the
    /// frame (the cap's backpressure), then the frame queued.
    #[inline]
    fn poll_write_frame(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.done || self.queued != 0 {
            // Queued by `write_frame`, or polled again after the frame was
            // queued: nothing more to do.
            return Poll::Ready(Ok(()));
        }
        let header = match self.leading {
            None => self.prefix.encode_header(self.payload.len())?,
            Some(leading) => length_field_after(self.prefix, leading, self.payload.len())?,
        };
        let leading = self.leading.unwrap_or_default();
        let (bytes, used) = header.padded();
        let head = leading.len() + used;
        let len = head + self.payload.len();
        let through = self.writer.writes_through(self.payload.len());
        let large = self.payload.len() >= DIRECT_WRITE;
        let copied = if through || large { head } else { len };
        if let Err(e) = ready!(self.writer.poll_room(cx, len, copied)) {
            return Poll::Ready(Err(Error::Io(e)));
        }
        let queue = self.writer.queue_mut();
        // (Making room may have found the sink busy: then the payload is
        // copied, as it would have been had the sink been busy before.)
        if through && !queue.sink_is_busy() {
            queue.push_frame(leading, bytes, used, &[]);
            return self.poll_payload_through(cx, head);
        }
        if large {
            queue.push_frame(leading, bytes, used, &[]);
            queue_copy(queue, self.payload);
        } else {
            queue.push_frame(leading, bytes, used, self.payload);
        }
        Poll::Ready(Ok(()))
    }

    /// The payload, its header queued last: written straight from the
    /// caller's memory behind the pending bytes, for as long as the sink
    /// takes large pieces of it; the rest, if any, is copied. So the frame
    /// is queued whole before this returns, and the future never waits
    /// once its header is queued.
    fn poll_payload_through(
        &mut self,
        cx: &mut Context<'_>,
        head: usize,
    ) -> Poll<Result<(), Error>> {
        let payload = self.payload;
        let mut sent = 0;
        loop {
            let writer = Pin::new(&mut *self.writer);
            match writer.poll_write_through(cx, &payload[sent..]) {
                Poll::Ready(Ok(n)) => {
                    sent += n;
                    if sent == payload.len() {
                        return Poll::Ready(Ok(()));
                    }
                    if n >= DIRECT_PAYLOAD {
                        continue;
                    }
                    // A sink that takes little per call (1500 bytes, or
                    // one nearly full): a call per small piece costs more
                    // than copying the rest, which goes out in writes of
                    // the size the sink takes (see `DIRECT_PAYLOAD`).
                }
                // Nothing of this frame went out (the header, last in the
                // queue, is all there): take the header back, and the frame
                // was not queued.
                Poll::Ready(Err(e)) if sent == 0 && self.writer.pending() >= head => {
                    self.writer.queue_mut().unqueue_tail(head);
                    return Poll::Ready(Err(Error::Io(e)));
                }
                // Failed once part of the frame went out, which must then
                // go out whole: the rest is queued, and the next write call
                // returns the error.
                Poll::Ready(Err(e)) => {
                    queue_copy(self.writer.queue_mut(), &payload[sent..]);
                    self.writer.defer_error(e);
                    return Poll::Ready(Ok(()));
                }
                Poll::Pending => self.writer.queue_mut().sink_busy(),
            }
            queue_copy(self.writer.queue_mut(), &payload[sent..]);
            return Poll::Ready(Ok(()));
        }
    }
}

/// Queues a copy of borrowed bytes: into the coalescing buffer, or into
/// memory of their own from [`DIRECT_WRITE`] on, so that one large payload
/// does not grow the coalescing buffer for every later write. (Bytes that
/// pile up while the sink is busy do not grow it either: see the
/// `WriteQueue`'s memory policy.)
fn queue_copy(queue: &mut WriteQueue, bytes: &[u8]) {
    if bytes.len() >= DIRECT_WRITE {
        queue.keep(Bytes::copy_from_slice(bytes));
    } else {
        queue.extend_from_slice(bytes);
    }
}

/// As for `SendFrame`: a frame queued at once is taken back if the future
/// is dropped before it completes.
impl<W> Drop for WriteFrame<'_, W> {
    #[inline]
    fn drop(&mut self) {
        if !self.done && self.queued != 0 {
            self.writer.queue.unqueue_tail(self.queued);
        }
    }
}
