//! `copy_exact`: move exactly `n` bytes to a writer with bounded memory.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::{Destination, Source};

use super::{poll_fill, StreamReader};
use crate::buffer::Fill;
use crate::future::named_future;
use crate::io::checked as checked_io;
use crate::Error;

/// Progress of one `copy_exact`, kept in its future.
#[derive(Debug)]
struct Progress {
    remaining: u64,
}

impl<R: Source + Unpin> StreamReader<R> {
    /// Moves exactly `n` bytes from the stream to `dst` (an upload to a
    /// file, a proxy), through the reader's normal buffer: memory stays
    /// bounded by the capacity whatever `n` is. Buffered bytes go first.
    ///
    /// `dst` is **not flushed**: as with `write_all`, the call moves bytes
    /// and the caller flushes (or closes) `dst` once the whole transfer is
    /// done, so a body copied in pieces (HTTP chunks, one `copy_exact` each)
    /// costs one flush, not one per piece. The same holds for
    /// [`copy_until`](StreamReader::copy_until). Flush before waiting on
    /// the peer if what it sends next depends on what `dst` received.
    ///
    /// # Errors
    ///
    /// - [`Error::UnexpectedEof`] if the stream ends first; `partial` is
    ///   empty (the bytes that did arrive were written to `dst`) and
    ///   `expected` is the number of bytes still missing.
    /// - [`Error::Io`] if reading or writing fails; a write of zero bytes is
    ///   reported as `WriteZero`. Bytes read but not yet written stay
    ///   buffered.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: bytes written to `dst` before the future is dropped
    /// are consumed, and a new call starts counting afresh. Bytes read but
    /// not yet written stay buffered.
    ///
    /// # How much was written
    ///
    /// Bytes are consumed exactly as `dst` takes them, so after an error or
    /// a dropped call the change in [`position`](StreamReader::position)
    /// since the call began is the number of bytes `dst` received: resume
    /// with `n` minus that.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"\x00\x05helloNEXT"[..]);
    /// let header = reader.read_exactly(2).await?;
    /// let len = u16::from_be_bytes([header[0], header[1]]) as u64;
    /// let mut file = futures_lite::io::Cursor::new(Vec::new());
    /// reader.copy_exact(len, &mut file).await?;
    /// futures_lite::AsyncWriteExt::flush(&mut file).await?; // the caller flushes
    /// assert_eq!(file.into_inner(), b"hello");
    /// assert_eq!(&reader.read_exactly(4).await?[..], b"NEXT");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn copy_exact<'a, W: Destination + Unpin>(
        &'a mut self,
        n: u64,
        dst: &'a mut W,
    ) -> CopyExact<'a, R, W> {
        CopyExact::new(self, dst, Progress { remaining: n })
    }
}

named_future! {
    /// Future of [`StreamReader::copy_exact`].
    pub struct CopyExact<'a, R, W: ?Sized> {
        reader: &'a mut StreamReader<R>,
        dst: &'a mut W,
        progress: Progress,
    }
    impl[R: Source + Unpin, W: Destination + Unpin + ?Sized] -> Result<(), Error>;
    poll(|this, cx| Pin::new(&mut *this).poll_copy(cx))
}

impl<R: Source + Unpin, W: Destination + Unpin + ?Sized> CopyExact<'_, R, W> {
    /// The polling core of [`copy_exact`](StreamReader::copy_exact); its
    /// progress is kept in the future.
    fn poll_copy(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = &mut *self;
        let reader = Pin::new(&mut *this.reader).project();
        let (buf, mut inner) = (reader.buf, reader.inner);
        let progress = &mut this.progress;
        while progress.remaining > 0 {
            if buf.len() == 0 {
                match ready!(poll_fill(buf, inner.as_mut(), cx, Fill::More)) {
                    Ok(0) => {
                        return Poll::Ready(Err(Error::UnexpectedEof {
                            partial: bytes::Bytes::new(),
                            expected: Some(
                                usize::try_from(progress.remaining).unwrap_or(usize::MAX),
                            ),
                        }))
                    }
                    Ok(_) => {}
                    Err(e) => return Poll::Ready(Err(Error::Io(e))),
                }
            }
            let chunk = usize::try_from(progress.remaining)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            let dst = Pin::new(&mut *this.dst);
            let written = ready!(checked_io::poll_write_slice(
                dst,
                cx,
                &buf.unread()[..chunk]
            ))?;
            buf.consume(written);
            progress.remaining -= written as u64;
        }
        // No flush: the caller flushes once the whole transfer is done.
        Poll::Ready(Ok(()))
    }
}
