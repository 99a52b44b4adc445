//! `limited`: a bounded view of a reader, on the same buffer.

use std::fmt;

use super::view::reader_view;
use super::{Skip, StreamReader};
use crate::io::Source;

impl<R> StreamReader<R> {
    /// A view of the next `n` bytes of the stream: a reader whose end of
    /// stream is `n` bytes ahead, on this reader's buffer (no second
    /// buffer, no copy). An HTTP body of `Content-Length` bytes, a
    /// multipart part inside it, a TLS record: frames inside frames.
    ///
    /// The view offers every read operation of the reader (it dereferences
    /// to it) and `AsyncRead` / `AsyncBufRead`. Within it:
    /// - the end of the `n` bytes is a clean end of stream: item reads
    ///   return `Ok(None)` there, and an item cut by it is
    ///   [`UnexpectedEof`](crate::Error::UnexpectedEof), as at the end of
    ///   the stream itself (see the end-of-stream table in the crate docs);
    /// - no search and no read goes past it: bytes beyond it that were
    ///   already buffered stay in the reader, hidden from the view, and are
    ///   never lost;
    /// - views nest: a view of a view ends at the nearer of the two ends.
    ///
    /// Dropping the view leaves the reader right after what the view
    /// consumed. The rest of the `n` bytes are still in the stream:
    /// [`skip_rest`](Limited::skip_rest) skips them (before the next
    /// request on a keep-alive connection, say).
    ///
    /// Cancel safety is that of the operations used through the view.
    /// Reading the inner reader directly ([`get_mut`](Self::get_mut))
    /// bypasses the view, as it bypasses the buffer. A view that is leaked
    /// (`mem::forget`) stays in force.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use intake::StreamReader;
    ///
    /// // Two requests, each a head line and a body of the length it gives.
    /// let wire = b"PUT 11\nhello\nworldPUT 3\nabc";
    /// let mut reader = StreamReader::new(&wire[..]);
    /// let mut bodies = Vec::new();
    /// while let Some(head) = reader.read_until(b"\n").await? {
    ///     let len: u64 = std::str::from_utf8(&head[4..head.len() - 1]).unwrap().parse().unwrap();
    ///     let mut body = reader.limited(len);
    ///     // Lines of the body: the last one ends with the body, not a `\n`.
    ///     let mut lines = Vec::new();
    ///     loop {
    ///         match body.read_until(b"\n").await {
    ///             Ok(Some(line)) => lines.push(line),
    ///             Ok(None) => break,
    ///             Err(intake::Error::UnexpectedEof { partial, .. }) => {
    ///                 lines.push(partial);
    ///                 break;
    ///             }
    ///             Err(e) => return Err(e),
    ///         }
    ///     }
    ///     assert_eq!(body.remaining(), 0);
    ///     bodies.push(lines);
    /// }
    /// assert_eq!(bodies, [vec!["hello\n", "world"], vec!["abc"]]);
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn limited(&mut self, n: u64) -> Limited<'_, R> {
        let end = self.buf.position().saturating_add(n);
        let outer = self.buf.limit_end();
        let end = outer.map_or(end, |outer| outer.min(end));
        self.buf.set_limit_end(Some(end));
        Limited {
            reader: self,
            outer,
        }
    }
}

/// A bounded view of a [`StreamReader`]: see [`StreamReader::limited`].
pub struct Limited<'a, R> {
    reader: &'a mut StreamReader<R>,
    /// The end of the view this one is inside (restored on drop).
    outer: Option<u64>,
}

impl<R> Limited<'_, R> {
    /// How many of the view's bytes are left: not yet handed out or
    /// consumed (buffered ones included).
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"abcdef"[..]);
    /// let mut view = reader.limited(4);
    /// view.read_exactly(3).await?;
    /// assert_eq!(view.remaining(), 1);
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn remaining(&self) -> u64 {
        let end = self.reader.buf.limit_end().unwrap_or(u64::MAX);
        end.saturating_sub(self.reader.buf.position())
    }
}

impl<R: Source + Unpin> Limited<'_, R> {
    /// Skips the rest of the view's bytes, buffered or not: what a server
    /// does with an unread body before the next request on a keep-alive
    /// connection. Fails with [`UnexpectedEof`](crate::Error::UnexpectedEof)
    /// if the stream ends first.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, as [`skip`](StreamReader::skip): progress is consumed
    /// bytes, and a new call skips what is left.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"body bytes|next"[..]);
    /// let mut body = reader.limited(10);
    /// body.read_exactly(2).await?; // the handler reads a little
    /// body.skip_rest().await?;
    /// drop(body);
    /// assert_eq!(&reader.read_exactly(5).await?[..], b"|next");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn skip_rest(&mut self) -> Skip<'_, R> {
        let rest = self.remaining();
        self.reader.skip(rest)
    }
}

impl<R> Drop for Limited<'_, R> {
    fn drop(&mut self) {
        self.reader.buf.set_limit_end(self.outer);
    }
}

impl<R: fmt::Debug> fmt::Debug for Limited<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limited")
            .field("remaining", &self.remaining())
            .field("reader", &self.reader)
            .finish()
    }
}

reader_view!(Limited);
