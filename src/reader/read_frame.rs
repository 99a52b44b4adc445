//! `read_frame`: one length-prefixed frame.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::Source;
use bytes::Bytes;

use super::{poll_fill, StreamReader};
use crate::buffer::Fill;
use crate::codec::{LengthPrefix, Parsed};
use crate::future::named_future;
use crate::Error;

impl<R: Source> StreamReader<R> {
    /// The polling core of [`read_frame`](StreamReader::read_frame).
    #[inline(always)]
    pub fn poll_read_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        prefix: &LengthPrefix,
    ) -> Poll<Result<Option<Bytes>, Error>> {
        let mut this = self.project();
        loop {
            // The header is parsed from the buffered bytes in place; nothing
            // is consumed until the whole frame is there.
            let unread = this.buf.unread();
            let buffered = unread.len();
            let (need, frame_len) = match prefix.parse(unread)? {
                Parsed::Frame { header, payload } => {
                    let total = header + payload; // checked in parse
                    if buffered >= total {
                        let skip = prefix.skipped(header);
                        let frame = this.buf.take_payload(skip, total - skip);
                        return Poll::Ready(Ok(Some(frame)));
                    }
                    (total, Some(total))
                }
                // The frame's size is not known before its header is whole.
                Parsed::NeedHeader(n) => (n, None),
            };
            match ready!(poll_fill(
                this.buf,
                this.inner.as_mut(),
                cx,
                Fill::Untrusted { need }
            )) {
                Ok(0) if this.buf.len() == 0 => return Poll::Ready(Ok(None)),
                Ok(0) => {
                    let partial = this.buf.take_all();
                    return Poll::Ready(Err(Error::UnexpectedEof {
                        expected: frame_len.map(|total| total - partial.len()),
                        partial,
                    }));
                }
                Ok(_) => {}
                Err(e) => return Poll::Ready(Err(Error::Io(e))),
            }
        }
    }
}

impl<R: Source + Unpin> StreamReader<R> {
    /// Reads one length-prefixed frame and returns its payload (or the
    /// whole frame with [`LengthPrefix::keep_header`]) as one zero-copy
    /// [`Bytes`]. `Ok(None)` means the stream ended cleanly between frames.
    ///
    /// The length is checked against the prefix's maximum as soon as the
    /// header is buffered, before any payload memory is allocated. While a
    /// large payload arrives, memory grows with the bytes that actually
    /// arrive (at most fourfold per step), never with the length the header
    /// claims: a hostile header that announces 8 MiB and stalls costs what
    /// it sent, not 8 MiB.
    ///
    /// # Errors
    ///
    /// - [`Error::FrameTooLarge`] if the header announces more than the
    ///   maximum. Nothing is consumed: the header stays buffered and every
    ///   later call returns the same error, until
    ///   [`skip_frame`](StreamReader::skip_frame) discards the frame (bounded
    ///   memory) or [`into_parts`](StreamReader::into_parts) takes the bytes.
    /// - [`Error::Io`] with kind `InvalidData` for a length that is negative
    ///   after adjustment or a varint over 64 bits (nothing consumed either).
    /// - [`Error::UnexpectedEof`] if the stream ends inside a header or
    ///   payload; `partial` holds every byte of the frame that arrived,
    ///   header included, and `expected` how many bytes of the frame were
    ///   still missing if the header was complete, `None` otherwise.
    /// - [`Error::Io`] if the inner reader fails; bytes stay buffered and a
    ///   retry continues.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: nothing is consumed until the whole frame is buffered.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use intake::{LengthPrefix, StreamReader};
    ///
    /// let wire = b"\x00\x00\x00\x05hello\x00\x00\x00\x00";
    /// let prefix = LengthPrefix::new(4);
    /// let mut reader = StreamReader::new(&wire[..]);
    /// assert_eq!(&reader.read_frame(&prefix).await?.unwrap()[..], b"hello");
    /// assert_eq!(&reader.read_frame(&prefix).await?.unwrap()[..], b"");
    /// assert!(reader.read_frame(&prefix).await?.is_none()); // clean end
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn read_frame<'a>(&'a mut self, prefix: &'a LengthPrefix) -> ReadFrame<'a, R> {
        ReadFrame::new(self, prefix)
    }
}

named_future! {
    /// Future of [`StreamReader::read_frame`].
    pub struct ReadFrame<'a, R> {
        reader: &'a mut StreamReader<R>,
        prefix: &'a LengthPrefix,
    }
    impl[R: Source + Unpin] -> Result<Option<Bytes>, Error>;
    poll(|this, cx| Pin::new(&mut *this.reader).poll_read_frame(cx, this.prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    /// Hands out `data` as fast as asked, recording each read's size.
    struct Recording<'a> {
        data: &'a [u8],
        asked: Vec<usize>,
    }

    impl futures_io::AsyncRead for Recording<'_> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            self.asked.push(buf.len());
            let n = buf.len().min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Poll::Ready(Ok(n))
        }
    }

    #[test]
    fn header_after_a_large_frame_is_read_alone_and_the_frame_reuses_memory() {
        let n = 4096;
        let mut wire = Vec::new();
        for i in 0..2u8 {
            wire.extend_from_slice(&(n as u32).to_be_bytes());
            wire.extend(std::iter::repeat(i).take(n));
        }
        let prefix = LengthPrefix::new(4);
        let src = Recording {
            data: &wire,
            asked: Vec::new(),
        };
        let mut r = StreamReader::with_capacity(64, src);
        let first = futures_lite::future::block_on(r.read_frame(&prefix))
            .unwrap()
            .unwrap();
        let base = first.as_ptr();
        drop(first);
        let reads_before = r.get_ref().asked.len();
        let second = futures_lite::future::block_on(r.read_frame(&prefix))
            .unwrap()
            .unwrap();
        assert!(second.iter().all(|&b| b == 1));
        let asked = &r.get_ref().asked[reads_before..];
        // The header alone, then the whole payload straight into the first
        // frame's memory: nothing of it went through the normal buffer.
        assert_eq!(asked, &[4, n], "read sizes for the second frame");
        assert_eq!(second.as_ptr(), base, "the first frame's memory, reused");
    }
}
