//! `peek`: at least `n` contiguous buffered bytes, without consuming them.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::Source;

use super::{poll_fill, StreamReader};
use crate::buffer::Fill;
use crate::future::named_future;
use crate::Error;

impl<R: Source> StreamReader<R> {
    /// The polling core of [`peek`](StreamReader::peek): ready once at least
    /// `n` bytes are buffered contiguously (or the stream has ended); the
    /// bytes are then in [`buffer`](StreamReader::buffer).
    pub fn poll_peek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        n: usize,
    ) -> Poll<Result<(), Error>> {
        let mut this = self.project();
        if n > *this.limit {
            return Poll::Ready(Err(Error::LimitExceeded { limit: *this.limit }));
        }
        while this.buf.len() < n {
            // `n` may be huge (the limit allows it): grow with the bytes
            // that arrive, never allocate `n` before they do.
            match ready!(poll_fill(
                this.buf,
                this.inner.as_mut(),
                cx,
                Fill::Untrusted { need: n }
            )) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => return Poll::Ready(Err(Error::Io(e))),
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<R: Source + Unpin> StreamReader<R> {
    /// Makes sure at least `n` bytes are buffered in one contiguous slice
    /// and returns all buffered bytes, consuming nothing. This is what
    /// `AsyncBufRead::poll_fill_buf` cannot promise: a header of `n` bytes
    /// is never split across two fills.
    ///
    /// Returns fewer than `n` bytes only at end of stream. Call
    /// [`consume`](StreamReader::consume) to discard what was used.
    ///
    /// Memory grows with the bytes that arrive (at most four times them,
    /// plus the capacity), not with `n`: a large `n` allowed by a large
    /// limit reserves nothing up front.
    ///
    /// # Errors
    ///
    /// - [`Error::LimitExceeded`] if `n` exceeds the reader's
    ///   [limit](StreamReader::with_limit), before any read.
    /// - [`Error::Io`] if the inner reader fails; bytes stay buffered.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: nothing is ever consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"\x16\x03\x01rest"[..]);
    /// let head = reader.peek(3).await?;
    /// assert_eq!(&head[..3], b"\x16\x03\x01"); // looks like TLS
    /// reader.consume(3);
    /// assert_eq!(reader.peek(100).await?, b"rest"); // fewer: end of stream
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn peek(&mut self, n: usize) -> Peek<'_, R> {
        Peek::new(Some(self), n)
    }
}

named_future! {
    /// Future of [`StreamReader::peek`].
    pub struct Peek<'a, R> {
        reader: Option<&'a mut StreamReader<R>>,
        n: usize,
    }
    impl[R: Source + Unpin] -> Result<&'a [u8], Error>;
    poll(|this, cx| Pin::new(&mut *this).poll_borrowed(cx))
}

impl<'a, R: Source + Unpin> Peek<'a, R> {
    /// The core call, then the bytes borrowed for the reader's lifetime.
    fn poll_borrowed(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<&'a [u8], Error>> {
        let n = self.n;
        let reader = self.reader.as_mut().expect("Peek polled after completion");
        ready!(Pin::new(&mut **reader).poll_peek(cx, n))?;
        let reader = self.reader.take().expect("checked above");
        Poll::Ready(Ok(reader.buffer()))
    }
}
