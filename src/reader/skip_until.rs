//! `skip_until`: discard through the next delimiter with bounded memory.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::Source;

use super::{poll_fill, StreamReader};
use crate::buffer::search::Scan;
use crate::buffer::Fill;
use crate::future::named_future;
use crate::Error;

impl<R: Source> StreamReader<R> {
    /// The polling core of [`skip_until`](StreamReader::skip_until):
    /// discards buffered bytes up to and including `delim`, adding their
    /// number to `*discarded`. `Ok(false)` means the stream ended cleanly
    /// with nothing discarded and nothing buffered.
    pub(crate) fn poll_skip_until(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        delim: &[u8],
        discarded: &mut u64,
    ) -> Poll<Result<bool, Error>> {
        let mut this = self.project();
        let finder = match this.search.start(delim, this.buf) {
            Ok(finder) => finder,
            Err(e) => return Poll::Ready(Err(e)),
        };
        loop {
            // Unbounded search, but nothing is held: what holds no
            // delimiter is dropped at once, except the last `delim.len() - 1`
            // bytes, which may begin one split across reads.
            match this.buf.scan(finder, usize::MAX) {
                Scan::Found(end) => {
                    this.buf.consume(end);
                    this.buf.end_run();
                    *discarded += end as u64;
                    return Poll::Ready(Ok(true));
                }
                Scan::More | Scan::Limit => {
                    let keep = (delim.len() - 1).min(this.buf.len());
                    let drop = this.buf.len() - keep;
                    this.buf.consume_in_run(drop);
                    *discarded += drop as u64;
                }
            }
            match ready!(poll_fill(this.buf, this.inner.as_mut(), cx, Fill::More)) {
                Ok(0) if this.buf.ended_between_runs(*discarded) => return Poll::Ready(Ok(false)),
                Ok(0) => {
                    this.buf.end_run();
                    let rest = this.buf.len();
                    this.buf.consume(rest);
                    *discarded += rest as u64;
                    return Poll::Ready(Err(Error::UnexpectedEof {
                        partial: bytes::Bytes::new(),
                        expected: None,
                    }));
                }
                Ok(_) => {}
                Err(e) => return Poll::Ready(Err(Error::Io(e))),
            }
        }
    }
}

impl<R: Source + Unpin> StreamReader<R> {
    /// Discards the bytes up to and including the next `delim`, whatever
    /// their number, and returns how many were discarded (delimiter
    /// included). Memory stays within the capacity: bytes are dropped as
    /// they arrive, never held. This is how to go on after
    /// [`read_until`](StreamReader::read_until) or
    /// [`peek_until`](StreamReader::peek_until) reported
    /// [`Error::LimitExceeded`] for an over-long line (asyncio's and
    /// tokio-util's line readers discard such a line the same way).
    ///
    /// `Ok(None)` means the stream ended cleanly with nothing buffered.
    ///
    /// # Errors
    ///
    /// - [`Error::UnexpectedEof`] if the stream ends before a delimiter
    ///   (the bytes were discarded: `partial` is empty, `expected` `None`).
    /// - [`Error::Io`] if the inner reader fails (kind `InvalidInput` for an
    ///   empty delimiter); calling again goes on discarding.
    ///
    /// # Cancel safety
    ///
    /// Safe to drop for the stream: bytes past the delimiter are never
    /// consumed, and calling again goes on discarding the same line. Only
    /// the count is lost (the next call counts afresh).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use intake::{Error, StreamReader};
    ///
    /// let mut reader = StreamReader::new(&b"far too long a line\nok\n"[..]).with_limit(8);
    /// assert!(matches!(reader.read_until(b"\n").await, Err(Error::LimitExceeded { limit: 8 })));
    /// assert_eq!(reader.skip_until(b"\n").await?, Some(20));
    /// assert_eq!(reader.read_until(b"\n").await?.as_deref(), Some(&b"ok\n"[..]));
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn skip_until<'a>(&'a mut self, delim: &'a [u8]) -> SkipUntil<'a, R> {
        SkipUntil::new(self, delim, 0)
    }
}

named_future! {
    /// Future of [`StreamReader::skip_until`].
    pub struct SkipUntil<'a, R> {
        reader: &'a mut StreamReader<R>,
        delim: &'a [u8],
        discarded: u64,
    }
    impl[R: Source + Unpin] -> Result<Option<u64>, Error>;
    poll(|this, cx| {
        Pin::new(&mut *this.reader)
            .poll_skip_until(cx, this.delim, &mut this.discarded)
            .map_ok(|found| found.then_some(this.discarded))
    })
}
