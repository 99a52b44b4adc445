//! `copy_until`: move the bytes before a delimiter to a writer with bounded
//! memory (a multipart part to a file, a body up to a boundary).

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::{Destination, Source};

use super::{poll_fill, StreamReader};
use crate::buffer::search::Scan;
use crate::buffer::Fill;
use crate::future::named_future;
use crate::io::checked as checked_io;
use crate::Error;

/// Progress of one `copy_until`, kept in its future.
#[derive(Debug)]
struct Progress {
    /// Bytes written to the destination so far.
    copied: u64,
    /// Once the delimiter is found: the bytes before it still to write.
    /// Kept so that a partial write does not make the search run again.
    before_delim: Option<usize>,
    /// New bytes arrived since the last search (or none was made yet).
    /// Writes alone do not search again: the held-back bytes were searched
    /// already.
    unsearched: bool,
}

impl Progress {
    fn new() -> Self {
        Progress {
            copied: 0,
            before_delim: None,
            unsearched: true,
        }
    }
}

impl<R: Source> StreamReader<R> {
    /// The polling core of [`copy_until`](StreamReader::copy_until).
    /// `Ok(false)` means the stream ended cleanly with nothing copied and
    /// nothing buffered.
    fn poll_copy_until<W: Destination + Unpin + ?Sized>(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        delim: &[u8],
        dst: &mut W,
        progress: &mut Progress,
    ) -> Poll<Result<bool, Error>> {
        let mut this = self.project();
        let finder = match this.search.start(delim, this.buf) {
            Ok(finder) => finder,
            Err(e) => return Poll::Ready(Err(e)),
        };
        loop {
            if let Some(before) = progress.before_delim {
                if before == 0 {
                    this.buf.consume(delim.len());
                    this.buf.end_run();
                    // No flush: the caller flushes once the transfer is done.
                    return Poll::Ready(Ok(true));
                }
                let written = ready!(checked_io::poll_write_slice(
                    Pin::new(&mut *dst),
                    cx,
                    &this.buf.unread()[..before]
                ))?;
                this.buf.consume_in_run(written);
                progress.copied += written as u64;
                progress.before_delim = Some(before - written);
                continue;
            }
            // Unbounded search, but nothing is held: bytes that cannot be
            // part of a delimiter go to `dst` as they arrive; only the last
            // `delim.len() - 1` stay, as they may begin one split across
            // reads.
            if progress.unsearched {
                progress.unsearched = false;
                if let Scan::Found(end) = this.buf.scan(finder, usize::MAX) {
                    progress.before_delim = Some(end - delim.len());
                    continue;
                }
            }
            let writable = this.buf.len() - (delim.len() - 1).min(this.buf.len());
            if writable > 0 {
                let written = ready!(checked_io::poll_write_slice(
                    Pin::new(&mut *dst),
                    cx,
                    &this.buf.unread()[..writable]
                ))?;
                this.buf.consume_in_run(written);
                progress.copied += written as u64;
                continue;
            }
            match ready!(poll_fill(this.buf, this.inner.as_mut(), cx, Fill::More)) {
                Ok(0) if this.buf.ended_between_runs(progress.copied) => {
                    return Poll::Ready(Ok(false))
                }
                Ok(0) => {
                    // What is left (less than a delimiter) was never written.
                    this.buf.end_run();
                    let rest = this.buf.len();
                    return Poll::Ready(Err(Error::UnexpectedEof {
                        partial: this.buf.take(rest),
                        expected: None,
                    }));
                }
                Ok(_) => progress.unsearched = true,
                Err(e) => return Poll::Ready(Err(Error::Io(e))),
            }
        }
    }
}

impl<R: Source + Unpin> StreamReader<R> {
    /// Moves the bytes before the next `delim` to `dst`, consumes the
    /// delimiter (it is not written), and returns how many bytes were
    /// written. Memory stays within the capacity plus the delimiter
    /// whatever the number of bytes: they go to `dst` as they
    /// arrive, and only the last `delim.len() - 1` are held back, since they
    /// may begin a delimiter split across reads. (A multi-byte delimiter's
    /// searcher, about 300 bytes with its copy of the delimiter, is built
    /// once per delimiter and kept by the reader, as for `read_until`.) As for
    /// [`read_until`](StreamReader::read_until), no byte is searched twice.
    ///
    /// This is the primitive of a `multipart/form-data` receiver: each part
    /// is copied to its file up to `\r\n--boundary`, however large.
    ///
    /// `Ok(None)` means the stream ended cleanly with nothing buffered.
    ///
    /// `dst` is **not flushed**, as with
    /// [`copy_exact`](StreamReader::copy_exact): the caller flushes (or
    /// closes, or syncs) it once the part is complete.
    ///
    /// # Errors
    ///
    /// - [`Error::UnexpectedEof`] if the stream ends before a delimiter. The
    ///   bytes that arrived were written to `dst`, except the last few that
    ///   could have begun a delimiter: those are `partial`; `expected` is
    ///   `None`.
    /// - [`Error::Io`] if reading or writing fails; a write of zero bytes is
    ///   reported as `WriteZero`, and an empty delimiter as `InvalidInput`.
    ///   Bytes read but not yet written stay buffered, so calling again goes
    ///   on from there.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe for the count: bytes written to `dst` before the
    /// future is dropped are consumed, and a new call counts afresh. No
    /// byte is lost or written twice: bytes read but not yet written stay
    /// buffered, and calling again goes on copying the same run.
    ///
    /// # How much was written
    ///
    /// Bytes are consumed exactly as `dst` takes them, so after an error or
    /// a dropped call the change in [`position`](StreamReader::position)
    /// since the call began is the number of bytes `dst` received (after
    /// `UnexpectedEof`, plus `partial`'s length: those bytes were consumed
    /// into the error, not written).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let body = &b"first part\r\n--XyZ\r\nsecond part\r\n--XyZ--"[..];
    /// let mut reader = intake::StreamReader::new(body);
    /// let mut file = futures_lite::io::Cursor::new(Vec::new());
    /// assert_eq!(reader.copy_until(b"\r\n--XyZ", &mut file).await?, Some(10));
    /// futures_lite::AsyncWriteExt::flush(&mut file).await?; // the caller flushes
    /// assert_eq!(file.get_ref(), b"first part");
    /// assert_eq!(&reader.read_exactly(2).await?[..], b"\r\n");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn copy_until<'a, W: Destination + Unpin + ?Sized>(
        &'a mut self,
        delim: &'a [u8],
        dst: &'a mut W,
    ) -> CopyUntil<'a, R, W> {
        CopyUntil::new(self, delim, dst, Progress::new())
    }
}

named_future! {
    /// Future of [`StreamReader::copy_until`].
    pub struct CopyUntil<'a, R, W: ?Sized> {
        reader: &'a mut StreamReader<R>,
        delim: &'a [u8],
        dst: &'a mut W,
        progress: Progress,
    }
    impl[R: Source + Unpin, W: Destination + Unpin + ?Sized] -> Result<Option<u64>, Error>;
    poll(|this, cx| {
        Pin::new(&mut *this.reader)
            .poll_copy_until(cx, this.delim, this.dst, &mut this.progress)
            .map_ok(|found| found.then_some(this.progress.copied))
    })
}

#[cfg(test)]
mod tests {
    use super::super::read_until::tests::Trickle;
    use super::*;

    /// Bytes handed to the searcher while copying a `len`-byte run that
    /// arrives `step` bytes per read.
    fn scanned_for(len: usize, step: usize, delim: &'static [u8]) -> usize {
        let src = Trickle {
            sent: 0,
            len,
            step,
            delim,
        };
        let mut r = StreamReader::new(src);
        let mut sink = futures_lite::io::sink();
        let before = crate::buffer::search::SCANNED.with(|s| s.get());
        let copied = futures_lite::future::block_on(r.copy_until(delim, &mut sink));
        assert_eq!(copied.unwrap(), Some(len as u64));
        crate::buffer::search::SCANNED.with(|s| s.get()) - before
    }

    #[test]
    fn copying_scans_each_byte_once_plus_the_overlap() {
        // Each read rescans only the `delim.len() - 1` bytes held back, where
        // a delimiter split across reads may begin. Reads are 16 bytes, and
        // a few shorter ones come when the buffer's free tail runs out
        // (at most one per capacity's worth, 8 KiB).
        let len = if cfg!(miri) { 16 << 10 } else { 16 << 20 };
        let scanned = scanned_for(len, 16, b"\r\n");
        let reads = len / 16 + len / 8192 + 1;
        assert!(scanned <= len + reads, "scanned {scanned} for {len}");
        let boundary: &'static [u8] = b"\r\n------WebKitFormBoundary7MA4YWxkTrZu0gW";
        let step = 4096;
        let scanned = scanned_for(len, step, boundary);
        let reads = len / step + len / 8192 + 1;
        let overlap = reads * (boundary.len() - 1);
        assert!(scanned <= len + overlap, "scanned {scanned} for {len}");
    }
}
