//! `skip_frame`: discard one length-prefixed frame, whatever its size.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::Source;

use super::{poll_fill, StreamReader};
use crate::buffer::Fill;
use crate::codec::{LengthPrefix, Parsed};
use crate::future::named_future;
use crate::Error;

/// Progress of skipping one frame: nothing yet, or the frame's payload
/// length and the bytes (header included) still to discard.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FrameSkip {
    frame: Option<(u64, u64)>,
}

impl<R: Source> StreamReader<R> {
    /// The polling core of [`skip_frame`](StreamReader::skip_frame), with
    /// its progress in `skip`. `Ok(None)`: a clean end of stream.
    pub(crate) fn poll_skip_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        prefix: &LengthPrefix,
        skip: &mut FrameSkip,
    ) -> Poll<Result<Option<u64>, Error>> {
        loop {
            if let Some((payload, remaining)) = &mut skip.frame {
                ready!(self.as_mut().poll_skip(cx, remaining))?;
                let payload = *payload;
                *skip = FrameSkip::default();
                return Poll::Ready(Ok(Some(payload)));
            }
            let mut this = self.as_mut().project();
            let need = match prefix.parse_unbounded(this.buf.unread())? {
                Parsed::Frame { header, payload } => {
                    let total = payload.saturating_add(header as u64);
                    skip.frame = Some((payload, total));
                    continue;
                }
                Parsed::NeedHeader(n) => n,
            };
            match ready!(poll_fill(
                this.buf,
                this.inner.as_mut(),
                cx,
                Fill::Untrusted { need }
            )) {
                Ok(0) if this.buf.len() == 0 => return Poll::Ready(Ok(None)),
                Ok(0) => {
                    return Poll::Ready(Err(Error::UnexpectedEof {
                        partial: this.buf.take_all(),
                        expected: None,
                    }))
                }
                Ok(_) => {}
                Err(e) => return Poll::Ready(Err(Error::Io(e))),
            }
        }
    }
}

impl<R: Source + Unpin> StreamReader<R> {
    /// Discards the next length-prefixed frame, header and payload, whatever
    /// its length (the prefix's maximum is not applied), and returns its
    /// payload length. Memory stays within the capacity: the payload is
    /// dropped as it arrives. `Ok(None)` means the stream ended cleanly
    /// between frames.
    ///
    /// This is how a stream goes on after [`read_frame`](StreamReader::read_frame)
    /// reported [`Error::FrameTooLarge`] (which consumed nothing), as
    /// Netty's `LengthFieldBasedFrameDecoder` discards a too-long frame.
    ///
    /// # Errors
    ///
    /// - [`Error::UnexpectedEof`] if the stream ends inside the frame: in
    ///   the header, `partial` holds its bytes and `expected` is `None`; in
    ///   the payload, `partial` is empty (the bytes were discarded) and
    ///   `expected` is the number still missing.
    /// - [`Error::Io`] if the inner reader fails, or (kind `InvalidData`)
    ///   the header is malformed (a negative length after the adjustment,
    ///   a varint over 64 bits).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe while the header is read (nothing is consumed). Not
    /// cancel-safe once the payload is being discarded: dropped bytes stay
    /// dropped, and a new call would take the rest of the payload for a
    /// header. A framed stream with
    /// [`FramedRead::skip_oversized`](crate::frame::FramedRead::skip_oversized)
    /// keeps this progress itself, so dropping its `next()` is safe.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use intake::{Error, LengthPrefix, StreamReader};
    ///
    /// let prefix = LengthPrefix::new(2).max_frame_len(4);
    /// let mut reader = StreamReader::new(&b"\x00\x09too large\x00\x02ok"[..]);
    /// assert!(matches!(reader.read_frame(&prefix).await, Err(Error::FrameTooLarge { len: 9, max: 4 })));
    /// assert_eq!(reader.skip_frame(&prefix).await?, Some(9));
    /// assert_eq!(reader.read_frame(&prefix).await?.as_deref(), Some(&b"ok"[..]));
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn skip_frame<'a>(&'a mut self, prefix: &'a LengthPrefix) -> SkipFrame<'a, R> {
        SkipFrame::new(self, prefix, FrameSkip::default())
    }
}

named_future! {
    /// Future of [`StreamReader::skip_frame`].
    pub struct SkipFrame<'a, R> {
        reader: &'a mut StreamReader<R>,
        prefix: &'a LengthPrefix,
        skip: FrameSkip,
    }
    impl[R: Source + Unpin] -> Result<Option<u64>, Error>;
    poll(|this, cx| {
        Pin::new(&mut *this.reader).poll_skip_frame(cx, this.prefix, &mut this.skip)
    })
}
