//! `read_until`: the bytes up to and including a (multi-byte) delimiter.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::Source;
use bytes::Bytes;

use super::{poll_fill, StreamReader};
use crate::buffer::search::{Finder, Scan};
use crate::buffer::Buffer;
use crate::buffer::Fill;
use crate::future::named_future;
use crate::Error;

/// The cached searchers for the last two delimiters used, so each is built
/// once, not once per call, even when a protocol alternates between two
/// (a multipart body: the part's headers end at `"\r\n\r\n"`, its data at
/// the boundary). Building a searcher allocates, which per 1 KiB part was
/// more than the search itself.
#[derive(Default)]
pub(super) struct DelimiterSearch {
    /// The searcher in use.
    finder: Option<Finder>,
    /// The one used before it.
    previous: Option<Finder>,
}

/// What a delimiter search looks for: one delimiter, or the earliest end
/// of several.
#[derive(Clone, Copy)]
pub(super) enum Delims<'a> {
    One(&'a [u8]),
    Any(&'a [&'a [u8]]),
}

impl Delims<'_> {
    /// Whether `finder` searches for these delimiters.
    #[inline(always)]
    fn found_by(self, finder: &Finder) -> bool {
        match (finder, self) {
            (Finder::Byte(b), Delims::One([d])) => b == d,
            (Finder::Any(_), Delims::One(_)) => false,
            (f, Delims::One(delim)) => f.needle() == delim,
            (f, Delims::Any(delims)) => f.is_for(delims),
        }
    }
}

impl DelimiterSearch {
    /// The searcher for `delims`, and whether it was switched (taken back
    /// from the previous slot, or built), in which case earlier scan
    /// progress does not apply.
    #[inline(always)]
    fn finder_for(&mut self, delims: Delims<'_>) -> (&Finder, bool) {
        let current = matches!(&self.finder, Some(f) if delims.found_by(f));
        if !current {
            self.switch_to(delims);
        }
        (self.finder.as_ref().expect("set by switch_to"), !current)
    }

    /// Makes the searcher for `delims` the one in use: the previous one if
    /// it is for them, otherwise a new one; the one in use so far becomes
    /// the previous.
    #[cold]
    fn switch_to(&mut self, delims: Delims<'_>) {
        std::mem::swap(&mut self.finder, &mut self.previous);
        if matches!(&self.finder, Some(f) if delims.found_by(f)) {
            return;
        }
        self.finder = Some(match delims {
            Delims::One(delim) => Finder::new(delim),
            Delims::Any(delims) => Finder::any(delims),
        });
    }

    /// Starts (or resumes) a search for `delim` in `buf`: the searcher, with
    /// `buf`'s scan progress dropped if it belonged to another delimiter.
    /// An empty delimiter is `InvalidInput`.
    #[inline]
    pub(super) fn start(&mut self, delim: &[u8], buf: &mut Buffer) -> Result<&Finder, Error> {
        self.start_for(Delims::One(delim), buf)
    }

    /// [`start`](Self::start) for one delimiter or several: each must be
    /// non-empty, and there must be at least one. Always inlined, with
    /// the cache check under it: once per line, and a call in some builds
    /// (see `Buffer::scan`).
    #[inline(always)]
    pub(super) fn start_for(
        &mut self,
        delims: Delims<'_>,
        buf: &mut Buffer,
    ) -> Result<&Finder, Error> {
        let empty = match delims {
            Delims::One(delim) => delim.is_empty(),
            Delims::Any(delims) => delims.is_empty() || delims.iter().any(|d| d.is_empty()),
        };
        if empty {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a delimiter search needs non-empty delimiters",
            )));
        }
        let (finder, rebuilt) = self.finder_for(delims);
        if rebuilt {
            buf.restart_search();
        }
        Ok(finder)
    }
}

/// Where a delimiter search stopped.
pub(super) enum Until {
    /// The line ends at this offset (exclusive) of the buffered bytes.
    Found(usize),
    /// The stream ended before a delimiter; the buffer holds what arrived.
    End,
}

impl<R: Source> StreamReader<R> {
    /// Reads until the buffered bytes hold `delim` (within the limit) or
    /// the stream ends. Consumes nothing.
    #[inline(always)]
    pub(super) fn poll_until(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        delims: Delims<'_>,
    ) -> Poll<Result<Until, Error>> {
        let mut this = self.project();
        let limit = *this.limit;
        let finder = match this.search.start_for(delims, this.buf) {
            Ok(finder) => finder,
            Err(e) => return Poll::Ready(Err(e)),
        };
        loop {
            match this.buf.scan(finder, limit) {
                Scan::Found(end) => return Poll::Ready(Ok(Until::Found(end))),
                Scan::Limit => return Poll::Ready(Err(Error::LimitExceeded { limit })),
                Scan::More => {}
            }
            // Memory grows geometrically up to the limit (the policy's
            // `Fill::Search`): within the limit plus one read.
            match ready!(poll_fill(
                this.buf,
                this.inner.as_mut(),
                cx,
                Fill::Search { limit }
            )) {
                Ok(0) => return Poll::Ready(Ok(Until::End)),
                Ok(_) => continue,
                Err(e) => return Poll::Ready(Err(Error::Io(e))),
            }
        }
    }

    /// The polling core of [`read_until`](StreamReader::read_until).
    ///
    /// The scan position is kept in the reader: bytes already searched for
    /// this delimiter are never searched again, across polls and across
    /// dropped futures.
    #[inline]
    pub fn poll_read_until(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        delim: &[u8],
    ) -> Poll<Result<Option<Bytes>, Error>> {
        self.poll_read_line(cx, Delims::One(delim))
    }

    /// [`poll_read_until`](Self::poll_read_until) for one delimiter or
    /// several.
    #[inline(always)]
    pub(super) fn poll_read_line(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        delims: Delims<'_>,
    ) -> Poll<Result<Option<Bytes>, Error>> {
        let until = ready!(self.as_mut().poll_until(cx, delims))?;
        let buf = self.project().buf;
        Poll::Ready(match until {
            Until::Found(end) => Ok(Some(buf.take(end))),
            Until::End if buf.len() == 0 => Ok(None),
            Until::End => Err(Error::UnexpectedEof {
                partial: buf.take_all(),
                expected: None,
            }),
        })
    }

    /// The polling core of [`peek_until`](StreamReader::peek_until): the
    /// length of the line (delimiter included) at the front of
    /// [`buffer`](StreamReader::buffer), or `None` at a clean end of stream.
    /// Consumes nothing.
    #[inline]
    pub fn poll_peek_until(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        delim: &[u8],
    ) -> Poll<Result<Option<usize>, Error>> {
        self.poll_peek_line(cx, Delims::One(delim))
    }

    /// [`poll_peek_until`](Self::poll_peek_until) for one delimiter or
    /// several.
    #[inline(always)]
    pub(super) fn poll_peek_line(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        delims: Delims<'_>,
    ) -> Poll<Result<Option<usize>, Error>> {
        let until = ready!(self.as_mut().poll_until(cx, delims))?;
        let buf = self.project().buf;
        Poll::Ready(match until {
            Until::Found(end) => Ok(Some(end)),
            Until::End if buf.len() == 0 => Ok(None),
            // A copy, so that the bytes stay buffered: a peek never consumes.
            Until::End => Err(Error::UnexpectedEof {
                partial: Bytes::copy_from_slice(buf.unread()),
                expected: None,
            }),
        })
    }
}

impl<R: Source + Unpin> StreamReader<R> {
    /// Reads the bytes up to and including `delim` (one byte or several,
    /// e.g. `b"\r\n"`), as one zero-copy [`Bytes`].
    ///
    /// A line always ends with its delimiter. `Ok(None)` means the stream
    /// ended cleanly between lines, with nothing buffered: the rule of every
    /// item read (see the crate docs). The delimiter may be split across
    /// reads; bytes already
    /// searched are never searched again, so a long line arriving a few bytes
    /// at a time costs linear time.
    ///
    /// Each line is a `Bytes` handle on the buffer: two atomic reference
    /// count operations per line (split, drop). For many short lines that
    /// are used and let go, [`peek_until`](StreamReader::peek_until) is
    /// faster: it lends the line without a handle.
    ///
    /// # Errors
    ///
    /// - [`Error::LimitExceeded`] if no delimiter ends within the reader's
    ///   [limit](StreamReader::with_limit) (the delimiter counts toward it).
    ///   Nothing is consumed: every byte stays buffered and readable.
    /// - [`Error::UnexpectedEof`] if the stream ends after some bytes but
    ///   before a delimiter; `partial` holds those bytes, `expected` is `None`.
    /// - [`Error::Io`] if the inner reader fails (kind `InvalidInput` for an
    ///   empty delimiter); bytes stay buffered, a retry continues.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe. Nothing is consumed until the delimiter is found, and
    /// the scan position survives in the reader.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"GET / HTTP/1.1\r\nHost: x\r\n"[..]);
    /// let mut lines = Vec::new();
    /// while let Some(line) = reader.read_until(b"\r\n").await? {
    ///     lines.push(line);
    /// }
    /// // The loop ended on Ok(None): a clean end of stream between lines.
    /// assert_eq!(lines, [&b"GET / HTTP/1.1\r\n"[..], b"Host: x\r\n"]);
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn read_until<'a>(&'a mut self, delim: &'a [u8]) -> ReadUntil<'a, R> {
        ReadUntil::new(self, delim)
    }
}

named_future! {
    /// Future of [`StreamReader::read_until`].
    pub struct ReadUntil<'a, R> {
        reader: &'a mut StreamReader<R>,
        delim: &'a [u8],
    }
    impl[R: Source + Unpin] -> Result<Option<Bytes>, Error>;
    poll(|this, cx| Pin::new(&mut *this.reader).poll_read_until(cx, this.delim))
}

impl<R: Source + Unpin> StreamReader<R> {
    /// Waits until a whole line (the bytes up to and including `delim`) is
    /// buffered and returns it *borrowed* from the buffer, consuming
    /// nothing: call [`consume`](StreamReader::consume) with its length when
    /// done with it.
    ///
    /// This is the fastest way to read many short lines: no `Bytes` handle
    /// (and so no reference count) per line, and no copy. Use
    /// [`read_until`](StreamReader::read_until) when a line must outlive the
    /// next read. The search is the same: bytes already searched are never
    /// searched again, even if this future is dropped and the call repeated.
    ///
    /// `Ok(None)` means the stream ended cleanly between lines, with
    /// nothing buffered.
    ///
    /// # Errors
    ///
    /// As [`read_until`](StreamReader::read_until), except that nothing is
    /// ever consumed: on [`Error::UnexpectedEof`], `partial` is a copy and
    /// the bytes stay buffered.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: nothing is consumed, and the scan position survives in
    /// the reader.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"a=1\nbb=22\n"[..]);
    /// let mut total = 0;
    /// while let Some(line) = reader.peek_until(b"\n").await? {
    ///     total += line.len();
    ///     let used = line.len();
    ///     reader.consume(used);
    /// }
    /// assert_eq!(total, 10);
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn peek_until<'a>(&'a mut self, delim: &'a [u8]) -> PeekUntil<'a, R> {
        PeekUntil::new(Some(self), delim)
    }
}

named_future! {
    /// Future of [`StreamReader::peek_until`].
    pub struct PeekUntil<'a, R> {
        reader: Option<&'a mut StreamReader<R>>,
        delim: &'a [u8],
    }
    impl[R: Source + Unpin] -> Result<Option<&'a [u8]>, Error>;
    poll(|this, cx| Pin::new(&mut *this).poll_borrowed(cx))
}

impl<'a, R: Source + Unpin> PeekUntil<'a, R> {
    /// The core call, then the line borrowed for the reader's lifetime.
    #[inline]
    fn poll_borrowed(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<&'a [u8]>, Error>> {
        let delim = self.delim;
        poll_peek_borrowed(&mut self.reader, cx, Delims::One(delim))
    }
}

/// The core of a borrowed peek (`PeekUntil`, `PeekUntilAny`): the search,
/// then the line lent for the reader's whole borrow, which the future gives
/// up (it is done).
#[inline]
pub(super) fn poll_peek_borrowed<'a, R: Source + Unpin>(
    reader: &mut Option<&'a mut StreamReader<R>>,
    cx: &mut Context<'_>,
    delims: Delims<'_>,
) -> Poll<Result<Option<&'a [u8]>, Error>> {
    let polled = reader
        .as_mut()
        .expect("a peek future polled after completion");
    let end = ready!(Pin::new(&mut **polled).poll_peek_line(cx, delims))?;
    let reader = reader.take().expect("checked above");
    Poll::Ready(Ok(end.map(|end| &reader.buffer()[..end])))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Where a multi-byte searcher's state lives: the same address means
    /// the same searcher, not one built again.
    fn searcher_at(f: &Finder) -> *const () {
        match f {
            Finder::Seq(b) => std::ptr::from_ref(&**b).cast(),
            Finder::Any(b) => std::ptr::from_ref(&**b).cast(),
            Finder::Byte(_) => std::ptr::null(),
        }
    }

    #[test]
    fn two_delimiters_in_turn_keep_their_searchers() {
        let headers_end = Delims::One(b"\r\n\r\n");
        let boundary = Delims::One(b"\r\n--boundary");
        let mut s = DelimiterSearch::default();
        let (f, switched) = s.finder_for(headers_end);
        assert!(switched);
        let first = searcher_at(f);
        let (f, switched) = s.finder_for(headers_end);
        assert!(
            !switched,
            "the same delimiter again keeps its scan progress"
        );
        assert_eq!(searcher_at(f), first);
        let (f, switched) = s.finder_for(boundary);
        assert!(switched);
        let second = searcher_at(f);
        assert_ne!(second, first, "both are kept");
        assert_eq!(f.needle(), b"\r\n--boundary");
        for _ in 0..3 {
            // Switched (scan progress belonged to the other), not rebuilt.
            let (f, switched) = s.finder_for(headers_end);
            assert!(switched);
            assert_eq!((searcher_at(f), f.needle()), (first, &b"\r\n\r\n"[..]));
            let (f, switched) = s.finder_for(boundary);
            assert!(switched);
            assert_eq!(searcher_at(f), second);
        }
        // A third delimiter replaces the older of the two.
        let (f, _) = s.finder_for(Delims::Any(&[b"\r\n", b"\n"]));
        assert!(f.is_for(&[b"\n", b"\r\n"]));
        let (f, switched) = s.finder_for(boundary);
        assert!(switched);
        assert_eq!(searcher_at(f), second);
        let (f, switched) = s.finder_for(headers_end);
        assert!(switched);
        assert_eq!(f.needle(), b"\r\n\r\n");
    }

    /// Delivers `len` bytes of `b'x'` then `delim`, `step` bytes per read
    /// (also used by `copy_until`'s tests).
    pub(in crate::reader) struct Trickle {
        pub(in crate::reader) sent: usize,
        pub(in crate::reader) len: usize,
        pub(in crate::reader) step: usize,
        pub(in crate::reader) delim: &'static [u8],
    }

    impl futures_io::AsyncRead for Trickle {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let total = self.len + self.delim.len();
            let n = buf.len().min(self.step).min(total - self.sent);
            for (i, b) in buf[..n].iter_mut().enumerate() {
                let at = self.sent + i;
                *b = if at < self.len {
                    b'x'
                } else {
                    self.delim[at - self.len]
                };
            }
            self.sent += n;
            Poll::Ready(Ok(n))
        }
    }

    fn scanned_for(len: usize, step: usize, delim: &'static [u8]) -> usize {
        let src = Trickle {
            sent: 0,
            len,
            step,
            delim,
        };
        let mut r = StreamReader::new(src).with_limit(len + delim.len());
        let before = crate::buffer::search::SCANNED.with(|s| s.get());
        let line = futures_lite::future::block_on(r.read_until(delim))
            .unwrap()
            .unwrap();
        assert_eq!(line.len(), len + delim.len());
        crate::buffer::search::SCANNED.with(|s| s.get()) - before
    }

    #[test]
    fn long_line_scan_is_linear_not_quadratic() {
        // 16 MiB arriving 16 bytes per read: each byte is scanned about once
        // (plus delim.len() - 1 bytes of overlap per read).
        // Under Miri smaller lines: 1M reads would take hours there, and
        // 64K reads of one byte took over 15 min on a slow machine. A
        // quadratic scan of 8 KiB would still look at 2M bytes.
        let len = if cfg!(miri) { 8 << 10 } else { 16 << 20 };
        let scanned = scanned_for(len, 16, b"\r\n");
        assert!(
            scanned <= len + len / 16 + 16,
            "scanned {scanned} bytes for a {len}-byte line"
        );
        let len = if cfg!(miri) { 2 << 10 } else { 1 << 16 };
        let scanned = scanned_for(len, 1, b"\n");
        assert!(scanned <= len + 1, "scanned {scanned}");
    }
}
