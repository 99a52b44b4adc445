//! `read_until_any` and `peek_until_any`: the bytes up to the earliest of
//! several delimiters.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;

use super::read_until::{poll_peek_borrowed, Delims};
use super::StreamReader;
use crate::future::named_future;
use crate::io::Source;
use crate::Error;

impl<R: Source> StreamReader<R> {
    /// The polling core of [`read_until_any`](StreamReader::read_until_any).
    #[inline]
    pub fn poll_read_until_any(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        delims: &[&[u8]],
    ) -> Poll<Result<Option<Bytes>, Error>> {
        self.poll_read_line(cx, Delims::Any(delims))
    }

    /// The polling core of [`peek_until_any`](StreamReader::peek_until_any):
    /// the length of the line at the front of
    /// [`buffer`](StreamReader::buffer), or `None` at a clean end.
    #[inline]
    pub fn poll_peek_until_any(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        delims: &[&[u8]],
    ) -> Poll<Result<Option<usize>, Error>> {
        self.poll_peek_line(cx, Delims::Any(delims))
    }
}

impl<R: Source + Unpin> StreamReader<R> {
    /// Reads the bytes up to and including the first of several delimiters
    /// to end in the stream, as one zero-copy [`Bytes`]: asyncio's
    /// `readuntil((b"\r\n", b"\n"))`, Netty's `DelimiterBasedFrameDecoder`
    /// with several delimiters, tokio-util's `AnyDelimiterCodec` (a set of
    /// one-byte delimiters).
    ///
    /// The match is the delimiter that *ends* first, which is known as soon
    /// as its last byte arrives (asyncio's rule). Where two end at the same
    /// byte the line is the same either way. Netty picks the delimiter that
    /// *starts* first, which differs only for delimiters that overlap
    /// inside one another (`abcd` and `bc`).
    ///
    /// The search is linear: each byte is examined once as a possible end
    /// of a delimiter (with `memchr` over the delimiters' last bytes), and
    /// not again when more bytes arrive. `Ok(None)` means a clean end of
    /// stream with nothing buffered.
    ///
    /// # Errors
    ///
    /// As [`read_until`](StreamReader::read_until): `LimitExceeded` if no
    /// delimiter ends within the limit (nothing consumed), `UnexpectedEof`
    /// with the bytes that arrived, `Io` (kind `InvalidInput` if `delims`
    /// is empty or holds an empty delimiter).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: nothing is consumed before a delimiter is found, and
    /// the scan position survives in the reader.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"one\r\ntwo\nthree;"[..]);
    /// let ends: &[&[u8]] = &[b"\r\n", b"\n", b";"];
    /// let mut lines = Vec::new();
    /// while let Some(line) = reader.read_until_any(ends).await? {
    ///     lines.push(line);
    /// }
    /// assert_eq!(lines, ["one\r\n", "two\n", "three;"]);
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn read_until_any<'a>(&'a mut self, delims: &'a [&'a [u8]]) -> ReadUntilAny<'a, R> {
        ReadUntilAny::new(self, delims)
    }

    /// [`peek_until`](StreamReader::peek_until) for several delimiters: the
    /// line up to the first delimiter to end, borrowed from the buffer,
    /// nothing consumed (call [`consume`](StreamReader::consume) with its
    /// length when done).
    ///
    /// # Errors
    ///
    /// As [`read_until_any`](StreamReader::read_until_any), except that
    /// nothing is ever consumed: `UnexpectedEof`'s `partial` is a copy.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: nothing is consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"a=1\r\nb=2\n"[..]);
    /// let mut total = 0;
    /// while let Some(line) = reader.peek_until_any(&[b"\r\n", b"\n"]).await? {
    ///     let used = line.len();
    ///     total += used;
    ///     reader.consume(used);
    /// }
    /// assert_eq!(total, 9);
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn peek_until_any<'a>(&'a mut self, delims: &'a [&'a [u8]]) -> PeekUntilAny<'a, R> {
        PeekUntilAny::new(Some(self), delims)
    }
}

named_future! {
    /// Future of [`StreamReader::read_until_any`].
    pub struct ReadUntilAny<'a, R> {
        reader: &'a mut StreamReader<R>,
        delims: &'a [&'a [u8]],
    }
    impl[R: Source + Unpin] -> Result<Option<Bytes>, Error>;
    poll(|this, cx| Pin::new(&mut *this.reader).poll_read_until_any(cx, this.delims))
}

named_future! {
    /// Future of [`StreamReader::peek_until_any`].
    pub struct PeekUntilAny<'a, R> {
        reader: Option<&'a mut StreamReader<R>>,
        delims: &'a [&'a [u8]],
    }
    impl[R: Source + Unpin] -> Result<Option<&'a [u8]>, Error>;
    poll(|this, cx| Pin::new(&mut *this).poll_borrowed(cx))
}

impl<'a, R: Source + Unpin> PeekUntilAny<'a, R> {
    /// The core call, then the line borrowed for the reader's lifetime.
    #[inline]
    fn poll_borrowed(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<&'a [u8]>, Error>> {
        let delims = self.delims;
        poll_peek_borrowed(&mut self.reader, cx, Delims::Any(delims))
    }
}
