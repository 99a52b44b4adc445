//! `chunked`: an HTTP/1.1 chunked body as a view of a reader, decoded in
//! place on the same buffer.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::view::reader_view;
use super::{poll_fill, poll_fill_source, StreamReader};
use crate::buffer::{Buffer, ChunkedOuter, Fill};
use crate::codec::chunked::{parse_head, MAX_HEAD};
use crate::future::named_future;
use crate::io::Source;
use crate::Error;

impl<R> StreamReader<R> {
    /// A view of an HTTP/1.1 chunked body (`Transfer-Encoding: chunked`)
    /// starting at the next byte: a reader of the body's data, on this
    /// reader's buffer. The chunk framing (size lines, extensions, the CRLF
    /// after each chunk's data, the trailer section) is cut out of the
    /// buffer as it arrives, so the data of consecutive chunks lies
    /// contiguous in memory: a frame or a multipart part that spans chunks
    /// leaves as one zero-copy `Bytes`, and a delimiter search never sees
    /// the framing. Each byte of data is moved at most once, by the length
    /// of the framing before it; nothing is staged in a second buffer.
    ///
    /// The view offers every read operation of the reader (it dereferences
    /// to it) and `AsyncRead` / `AsyncBufRead`; [`limited`](Self::limited)
    /// views nest inside it (a multipart part inside a chunked form), and it
    /// nests inside one (its reads of framing stop at that view's end).
    /// Within it:
    /// - the end of the body (the last chunk and its trailers, which are
    ///   skipped) is a clean end of stream: item reads return `Ok(None)`
    ///   there, [`at_eof`](Self::at_eof) is `true` once the data is
    ///   consumed, and the reader is right after the body;
    /// - a stream that ends before the last chunk is an
    ///   [`Error::Io`] of kind `UnexpectedEof`, at whatever point it ends;
    /// - framing that is not chunked coding (a bad size line, chunk data
    ///   longer than its size, a size line or trailer section over 16 KiB)
    ///   is an [`Error::Io`] of kind `InvalidData`, and stays so on every
    ///   later read: the buffer never grows with a peer's framing;
    /// - positions count the body's data: a view opened inside it ends
    ///   `n` bytes of data ahead.
    ///
    /// Dropping the view before the body's end leaves the reader inside
    /// the body, with the data decoded so far in front of framing that is
    /// not; [`skip_rest`](Chunked::skip_rest) reads to the end (before the
    /// next request on a keep-alive connection, say). A chunked view
    /// opened inside another one fails every read with `InvalidInput`.
    ///
    /// Cancel safety is that of the operations used through the view: the
    /// framing cut out stays cut, and bytes read stay in the buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use intake::StreamReader;
    ///
    /// // A body of "hello world\n" in three chunks, then the next request.
    /// let wire = b"5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld\n\r\n0\r\nT: v\r\n\r\nNEXT";
    /// let mut reader = StreamReader::new(&wire[..]);
    /// let mut body = reader.chunked();
    /// // One line, across three chunks, as one slice of the buffer.
    /// assert_eq!(&body.read_until(b"\n").await?.unwrap()[..], b"hello world\n");
    /// assert_eq!(body.read_until(b"\n").await?, None); // the body's end
    /// assert!(body.at_eof());
    /// drop(body);
    /// assert_eq!(&reader.read_exactly(4).await?[..], b"NEXT");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn chunked(&mut self) -> Chunked<'_, R> {
        let outer = self.buf.open_chunked();
        Chunked {
            reader: self,
            outer: Some(outer),
        }
    }
}

/// An HTTP/1.1 chunked body read through a [`StreamReader`]: see
/// [`StreamReader::chunked`].
pub struct Chunked<'a, R> {
    reader: &'a mut StreamReader<R>,
    /// What the view replaced (restored on drop); always `Some` until then.
    outer: Option<ChunkedOuter>,
}

impl<R: Source + Unpin> Chunked<'_, R> {
    /// Reads and discards the rest of the body, through its last chunk and
    /// trailers: the reader is then right after it.
    ///
    /// # Errors
    ///
    /// As the view's reads: [`Error::Io`] of kind `UnexpectedEof` if the
    /// stream ends before the last chunk, `InvalidData` for bad framing.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: what was skipped is consumed, and a new call skips the
    /// rest.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let wire = b"4\r\nbody\r\n0\r\n\r\nGET /";
    /// let mut reader = intake::StreamReader::new(&wire[..]);
    /// let mut body = reader.chunked();
    /// body.read_exactly(1).await?; // the handler reads a little
    /// body.skip_rest().await?;
    /// drop(body);
    /// assert_eq!(&reader.read_exactly(5).await?[..], b"GET /");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn skip_rest(&mut self) -> SkipBody<'_, R> {
        SkipBody::new(self.reader)
    }
}

impl<R: Source> StreamReader<R> {
    /// The polling core of [`Chunked::skip_rest`]: consumes what is
    /// buffered of the body and reads on, to its end.
    fn poll_skip_body(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut this = self.project();
        loop {
            let n = this.buf.len();
            this.buf.consume(n);
            match ready!(poll_fill(this.buf, this.inner.as_mut(), cx, Fill::More)) {
                Ok(0) => return Poll::Ready(Ok(())),
                Ok(_) => {}
                Err(e) => return Poll::Ready(Err(Error::Io(e))),
            }
        }
    }
}

named_future! {
    /// Future of [`Chunked::skip_rest`].
    pub struct SkipBody<'a, R> {
        reader: &'a mut StreamReader<R>,
    }
    impl[R: Source + Unpin] -> Result<(), Error>;
    poll(|this, cx| Pin::new(&mut *this.reader).poll_skip_body(cx))
}

/// The next head of a chunked body, when its view ends at the data decoded
/// so far (`poll_fill` calls this at that end): cuts every head buffered,
/// reading framing past the data as needed. Returns how many bytes of data
/// became visible, 0 at the body's end.
pub(super) fn poll_next_chunk<R: Source>(
    buf: &mut Buffer,
    mut inner: Pin<&mut R>,
    cx: &mut Context<'_>,
    fill: Fill,
) -> Poll<io::Result<usize>> {
    loop {
        if buf.chunked().is_some_and(|c| c.nested()) {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a chunked view inside a chunked view",
            )));
        }
        // (A read in flight holds the memory after the buffered bytes: it
        // comes back first, then the heads are cut.)
        if !buf.is_lent() {
            let visible = buf.dechunk(|raw, first| {
                Ok(parse_head(raw, first)?.map(|head| (head.len, head.data)))
            })?;
            if visible > 0 {
                return Poll::Ready(Ok(visible));
            }
            if !buf.view_exhausted() {
                // A chunk's data is next, none of it buffered yet.
                return poll_fill(buf, inner, cx, fill);
            }
            if !buf.at_chunk_end() {
                // The body ended (or a view inside it did).
                return Poll::Ready(Ok(0));
            }
        }
        // The next head is not all buffered: read framing past the data.
        let saved = buf.begin_raw_read();
        let read = if buf.view_exhausted() {
            // An enclosing view ends before the body does.
            Poll::Ready(Ok(0))
        } else {
            // A search for the head's end, as far as a head may run: room
            // doubles, rather than growing by what each read brings.
            let limit = MAX_HEAD + 1;
            poll_fill_source(buf, inner.as_mut(), cx, Fill::Search { limit })
        };
        buf.end_raw_read(saved);
        if ready!(read)? == 0 {
            return Poll::Ready(Err(cut_short()));
        }
    }
}

/// The stream ended inside a chunked body.
pub(super) fn cut_short() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the stream ended inside a chunked body, before its last chunk",
    )
}

impl<R> Drop for Chunked<'_, R> {
    fn drop(&mut self) {
        if let Some(outer) = self.outer.take() {
            self.reader.buf.close_chunked(outer);
        }
    }
}

impl<R: fmt::Debug> fmt::Debug for Chunked<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chunked")
            .field(
                "ended",
                &self.reader.buf.chunked().is_some_and(|c| c.done()),
            )
            .field("reader", &self.reader)
            .finish()
    }
}

reader_view!(Chunked);
