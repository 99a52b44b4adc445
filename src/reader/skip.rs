//! `skip`: discard `n` bytes with no memory beyond the buffer.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::Source;

use super::{poll_fill, StreamReader};
use crate::buffer::Fill;
use crate::future::named_future;
use crate::Error;

impl<R: Source> StreamReader<R> {
    /// The polling core of [`skip`](StreamReader::skip): discards up to
    /// `*remaining` bytes, counting `*remaining` down as it goes.
    pub(crate) fn poll_skip(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        remaining: &mut u64,
    ) -> Poll<Result<(), Error>> {
        let mut this = self.project();
        loop {
            let k = usize::try_from(*remaining)
                .unwrap_or(usize::MAX)
                .min(this.buf.len());
            this.buf.consume(k);
            *remaining -= k as u64;
            if *remaining == 0 {
                return Poll::Ready(Ok(()));
            }
            match ready!(poll_fill(this.buf, this.inner.as_mut(), cx, Fill::More)) {
                Ok(0) => {
                    return Poll::Ready(Err(Error::UnexpectedEof {
                        partial: bytes::Bytes::new(),
                        expected: Some(usize::try_from(*remaining).unwrap_or(usize::MAX)),
                    }))
                }
                Ok(_) => {}
                Err(e) => return Poll::Ready(Err(Error::Io(e))),
            }
        }
    }
}

impl<R: Source + Unpin> StreamReader<R> {
    /// Discards the next `n` bytes, reading through the normal buffer: no
    /// allocation beyond it, whatever `n` is.
    ///
    /// # Errors
    ///
    /// - [`Error::UnexpectedEof`] if the stream ends first; `partial` is
    ///   empty (the bytes that arrived were discarded, as asked) and
    ///   `expected` is the number of bytes still to skip.
    /// - [`Error::Io`] if the inner reader fails.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: bytes discarded before the future is dropped stay
    /// discarded, and a new `skip(n)` starts counting afresh.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"junkjunkDATA"[..]);
    /// reader.skip(8).await?;
    /// assert_eq!(&reader.read_exactly(4).await?[..], b"DATA");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn skip(&mut self, n: u64) -> Skip<'_, R> {
        Skip::new(self, n)
    }
}

named_future! {
    /// Future of [`StreamReader::skip`].
    pub struct Skip<'a, R> {
        reader: &'a mut StreamReader<R>,
        remaining: u64,
    }
    impl[R: Source + Unpin] -> Result<(), Error>;
    poll(|this, cx| Pin::new(&mut *this.reader).poll_skip(cx, &mut this.remaining))
}
