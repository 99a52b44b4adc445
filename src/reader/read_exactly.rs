//! `read_exactly`: exactly `n` bytes as one zero-copy `Bytes`.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::Source;
use bytes::Bytes;

use super::{poll_fill, StreamReader};
pub use crate::buffer::policy::EXACT_ALLOC_MAX;
use crate::buffer::Fill;
use crate::future::named_future;
use crate::Error;

impl<R: Source> StreamReader<R> {
    /// The polling core of [`read_exactly`](StreamReader::read_exactly).
    ///
    /// Progress is kept in the reader, so this can be polled from any
    /// context, dropped and polled again with the same `n`.
    #[inline]
    pub fn poll_read_exactly(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        n: usize,
    ) -> Poll<Result<Bytes, Error>> {
        let mut this = self.project();
        loop {
            if this.buf.len() >= n {
                return Poll::Ready(Ok(this.buf.take(n)));
            }
            // The inner reader writes straight into the memory the frame
            // will live in (the policy sizes it: see `Fill::Exactly`).
            match ready!(poll_fill(
                this.buf,
                this.inner.as_mut(),
                cx,
                Fill::Exactly { n }
            )) {
                Ok(0) => {
                    let partial = this.buf.take_all();
                    return Poll::Ready(Err(Error::UnexpectedEof {
                        expected: Some(n - partial.len()),
                        partial,
                    }));
                }
                Ok(_) => continue,
                Err(e) => return Poll::Ready(Err(Error::Io(e))),
            }
        }
    }
}

impl<R: Source + Unpin> StreamReader<R> {
    /// Reads exactly `n` bytes and returns them as one [`Bytes`].
    ///
    /// When the bytes are already buffered they are split off the buffer
    /// without copying and without polling the inner reader. Otherwise the
    /// buffer is made big enough once and the inner reader writes straight
    /// into it: a frame larger than the capacity costs one allocation of `n`
    /// bytes (up to [`EXACT_ALLOC_MAX`], 64 MiB; beyond it memory grows with
    /// the bytes that arrive), and peak heap stays at most `n` plus the
    /// capacity. `n == 0`
    /// returns an empty `Bytes` without touching the inner reader.
    ///
    /// # Errors
    ///
    /// - [`Error::UnexpectedEof`] if the stream ends first; `partial` holds
    ///   every byte that arrived (consumed and handed over), `expected` is
    ///   the number still missing (`Some(n - partial.len())`).
    /// - [`Error::Io`] if the inner reader fails; the bytes received so far
    ///   stay buffered and a retry continues where this one stopped.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe. Nothing is consumed until all `n` bytes are there;
    /// bytes that arrived before the future was dropped stay buffered.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"\x00\x03abcXYZ"[..]);
    /// let header = reader.read_exactly(2).await?;
    /// let len = u16::from_be_bytes([header[0], header[1]]) as usize;
    /// let body = reader.read_exactly(len).await?;
    /// assert_eq!(&body[..], b"abc");
    ///
    /// let err = reader.read_exactly(10).await.unwrap_err();
    /// match err {
    ///     intake::Error::UnexpectedEof { partial, expected } => {
    ///         assert_eq!(&partial[..], b"XYZ");
    ///         assert_eq!(expected, Some(7)); // still missing
    ///     }
    ///     other => panic!("{other}"),
    /// }
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn read_exactly(&mut self, n: usize) -> ReadExactly<'_, R> {
        ReadExactly::new(self, n)
    }
}

named_future! {
    /// Future of [`StreamReader::read_exactly`].
    pub struct ReadExactly<'a, R> {
        reader: &'a mut StreamReader<R>,
        n: usize,
    }
    impl[R: Source + Unpin] -> Result<Bytes, Error>;
    poll(|this, cx| Pin::new(&mut *this.reader).poll_read_exactly(cx, this.n))
}
