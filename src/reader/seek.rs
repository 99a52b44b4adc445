//! Seeking, when the inner reader can: `AsyncSeek`, and `seek_relative`,
//! which stays inside the buffer when it can.

use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::AsyncSeek;

use super::StreamReader;
use crate::future::named_future;
use crate::io::Source;

/// Seeking moves the inner reader, so a bounded view's end (counted in
/// stream bytes from where it opened) would no longer mean anything.
fn in_view() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "cannot seek inside a bounded view (`limited`)",
    )
}

/// `AsyncSeek` as futures' and async-std's `BufReader` have it: the
/// buffered bytes are discarded and the inner reader is seeked. A
/// `SeekFrom::Current` offset counts from the reader's position (the first
/// unread byte), not the inner reader's. Afterwards
/// [`position`](StreamReader::position) is the offset the seek returned.
///
/// Inside a bounded view ([`limited`](StreamReader::limited)) a seek is
/// refused with `InvalidInput`.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// use futures_lite::io::{AsyncSeekExt, Cursor};
/// use std::io::SeekFrom;
///
/// let mut reader = intake::StreamReader::new(Cursor::new(b"0123456789".to_vec()));
/// assert_eq!(&reader.read_exactly(2).await?[..], b"01");
/// assert_eq!(reader.seek(SeekFrom::Current(3)).await?, 5);
/// assert_eq!(&reader.read_exactly(2).await?[..], b"56");
/// # Ok::<(), intake::Error>(())
/// # }).unwrap();
/// ```
impl<R: Source + AsyncSeek> AsyncSeek for StreamReader<R> {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let mut this = self.project();
        if this.buf.in_view() {
            return Poll::Ready(Err(in_view()));
        }
        let result = match pos {
            SeekFrom::Current(n) => {
                // The inner reader is ahead of the reader by what is
                // buffered.
                let buffered = i64::try_from(this.buf.len()).unwrap_or(i64::MAX);
                match n.checked_sub(buffered) {
                    Some(offset) => {
                        ready!(this.inner.as_mut().poll_seek(cx, SeekFrom::Current(offset)))?
                    }
                    None => {
                        // Too far back to say in one offset: back over the
                        // buffered bytes first, then by `n`. The buffer is
                        // dropped in between, so a poll that resumes here
                        // after `Pending` computes the second step alone.
                        let back = ready!(this
                            .inner
                            .as_mut()
                            .poll_seek(cx, SeekFrom::Current(-buffered)))?;
                        this.buf.discard_at(back);
                        ready!(this.inner.as_mut().poll_seek(cx, SeekFrom::Current(n)))?
                    }
                }
            }
            other => ready!(this.inner.as_mut().poll_seek(cx, other))?,
        };
        this.buf.discard_at(result);
        Poll::Ready(Ok(result))
    }
}

impl<R: Source + AsyncSeek> StreamReader<R> {
    /// The polling core of [`seek_relative`](StreamReader::seek_relative).
    pub fn poll_seek_relative(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        offset: i64,
    ) -> Poll<io::Result<()>> {
        if self.as_mut().project().buf.seek_within(offset) {
            return Poll::Ready(Ok(()));
        }
        self.poll_seek(cx, SeekFrom::Current(offset)).map_ok(drop)
    }
}

impl<R: Source + AsyncSeek + Unpin> StreamReader<R> {
    /// Seeks `offset` bytes from the reader's position, inside the buffer
    /// when it can: forward over buffered bytes, or back over bytes
    /// consumed but still held (as futures-util's
    /// `BufReader::seek_relative`). Otherwise it seeks the inner reader and
    /// discards the buffer, as [`AsyncSeek`] does.
    ///
    /// # Errors
    ///
    /// The inner reader's seek error; `InvalidInput` inside a bounded view
    /// when the buffer cannot serve the move.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a move inside the buffer completes in the first poll; a
    /// seek of the inner reader dropped before it completes leaves the
    /// buffer as it was, except after the first of two steps (a move back
    /// further than `i64` can say past the buffer), which drops it and
    /// leaves the reader where that step took it.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use futures_lite::io::Cursor;
    ///
    /// let mut reader = intake::StreamReader::new(Cursor::new(b"abcdef".to_vec()));
    /// reader.peek(6).await?;
    /// reader.seek_relative(2).await?; // inside the buffer: no seek of the source
    /// assert_eq!(reader.buffer(), b"cdef");
    /// reader.seek_relative(-1).await?; // back over a consumed byte, still held
    /// assert_eq!(reader.buffer(), b"bcdef");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn seek_relative(&mut self, offset: i64) -> SeekRelative<'_, R> {
        SeekRelative::new(self, offset)
    }
}

named_future! {
    /// Future of [`StreamReader::seek_relative`].
    pub struct SeekRelative<'a, R> {
        reader: &'a mut StreamReader<R>,
        offset: i64,
    }
    impl[R: Source + AsyncSeek + Unpin] -> io::Result<()>;
    poll(|this, cx| Pin::new(&mut *this.reader).poll_seek_relative(cx, this.offset))
}
