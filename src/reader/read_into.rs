//! Reads into caller memory: `read_into` (one read, like `recv_into`),
//! `read_exact_into` (fill the whole slice) and `read_exact_into_resumable`
//! (fill it with the progress kept by the caller).

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::Source;
use bytes::Bytes;

use super::{poll_fill, poll_read_direct, StreamReader};
use crate::buffer::Fill;
use crate::future::named_future;
use crate::Error;

impl<R: Source> StreamReader<R> {
    /// One read into `dst`: buffered bytes first; with nothing buffered, a
    /// `dst` at least as large as the capacity is filled straight from the
    /// inner reader, a smaller one through one buffer fill.
    pub(crate) fn poll_read_into(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut this = self.project();
        if dst.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.buf.len() == 0 {
            // (A completion source reads only into the buffer it is lent.)
            if !R::LENDS && this.buf.reads_direct(dst.len()) {
                return poll_read_direct(this.buf, this.inner, cx, dst);
            }
            if ready!(poll_fill(this.buf, this.inner.as_mut(), cx, Fill::More))? == 0 {
                return Poll::Ready(Ok(0));
            }
        }
        Poll::Ready(Ok(this.buf.copy_to(dst)))
    }
}

impl<R: Source + Unpin> StreamReader<R> {
    /// One read into caller memory, like `socket.recv_into`: copies buffered
    /// bytes if there are any, otherwise reads from the inner reader (a
    /// `dst` at least as large as the capacity is read into directly, with no
    /// detour through the buffer). Returns how many bytes were written;
    /// `Ok(0)` means end of stream (or an empty `dst`, which never touches
    /// the inner reader).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the inner reader fails.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a read either completes within one poll or has not
    /// consumed anything.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"hello"[..]);
    /// let mut buf = [0u8; 3];
    /// assert_eq!(reader.read_into(&mut buf).await?, 3);
    /// assert_eq!(&buf, b"hel");
    /// assert_eq!(reader.read_into(&mut buf).await?, 2);
    /// assert_eq!(reader.read_into(&mut buf).await?, 0); // end of stream
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn read_into<'a>(&'a mut self, dst: &'a mut [u8]) -> ReadInto<'a, R> {
        ReadInto::new(self, dst)
    }

    /// Fills all of `dst` (caller memory). Buffered bytes are copied first;
    /// a remainder at least as large as the capacity is read from the inner
    /// reader straight into `dst`.
    ///
    /// # Errors
    ///
    /// - [`Error::UnexpectedEof`] if the stream ends first; `partial` holds
    ///   a copy of the bytes that arrived (also left at the front of `dst`),
    ///   `expected` is the number of bytes still missing
    ///   (`Some(dst.len() - partial.len())`).
    /// - [`Error::Io`] if the inner reader fails. The bytes already written
    ///   into `dst` are put back into the reader's buffer, so calling again
    ///   with the same `dst` completes the read with nothing lost.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: if the future is dropped before it completes, the bytes
    /// it had already written into `dst` are put back into the reader's
    /// buffer (one copy, on this rare path), so a retry reads them again.
    /// The put-back bytes occupy reader memory until read.
    ///
    /// That copy is what a large read pays for each cancellation, so a read
    /// under a timeout that can fire many times (a body read with a timer
    /// around each attempt) should use
    /// [`read_exact_into_resumable`](Self::read_exact_into_resumable), which
    /// leaves the progress in caller memory instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"0123456789"[..]);
    /// let mut block = vec![0u8; 8];
    /// reader.read_exact_into(&mut block).await?;
    /// assert_eq!(&block, b"01234567");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn read_exact_into<'a>(&'a mut self, dst: &'a mut [u8]) -> ReadExactInto<'a, R> {
        ReadExactInto::new(self, dst, 0)
    }

    /// Fills `dst[*filled..]`, adding every byte that arrives to `*filled`
    /// at once: a `read_exact_into` whose progress lives with the caller, so
    /// a cancelled attempt keeps what it read and the next call goes on
    /// from there.
    ///
    /// This is the read for a large body under a per-attempt timeout. Each
    /// attempt costs only the bytes that arrived during it, and the heap
    /// stays at the caller's `dst` plus the reader's capacity however often
    /// the timer fires. [`read_exact_into`](Self::read_exact_into) cannot
    /// promise that: its caller keeps no count, so a cancelled attempt must
    /// copy everything it wrote back into the reader (for the next read to
    /// see), and a read cancelled k times copies its bytes up to k times.
    ///
    /// Completes with `Ok(())` when `*filled == dst.len()` (at once if it
    /// already is). `*filled` larger than `dst.len()` is treated as full.
    ///
    /// # Errors
    ///
    /// - [`Error::UnexpectedEof`] if the stream ends first: the bytes that
    ///   arrived are `dst[..*filled]` (so `partial` is empty, as for
    ///   [`copy_exact`](Self::copy_exact)), and `expected` is the number of
    ///   bytes still missing.
    /// - [`Error::Io`] if the inner reader fails. `*filled` counts every byte
    ///   received before the error; calling again goes on from there.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, and cheap to cancel: the bytes read so far are in
    /// `dst[..*filled]`, nothing is put back, and a new call with the same
    /// `dst` and `filled` continues the read.
    ///
    /// # Examples
    ///
    /// A body read with a timeout around each attempt (here a future that
    /// is polled once and dropped, which is what a timeout that fires does):
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use futures_lite::future;
    ///
    /// let mut reader = intake::StreamReader::new(&b"0123456789"[..]);
    /// let mut body = vec![0u8; 10];
    /// let mut filled = 0;
    /// loop {
    ///     let attempt = reader.read_exact_into_resumable(&mut body, &mut filled);
    ///     match future::poll_once(attempt).await {
    ///         Some(result) => break result?,
    ///         None => continue, // timed out: `filled` keeps the progress
    ///     }
    /// }
    /// assert_eq!(filled, 10);
    /// assert_eq!(&body, b"0123456789");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn read_exact_into_resumable<'a>(
        &'a mut self,
        dst: &'a mut [u8],
        filled: &'a mut usize,
    ) -> ReadExactIntoResumable<'a, R> {
        ReadExactIntoResumable::new(self, dst, filled)
    }
}

named_future! {
    /// Future of [`StreamReader::read_into`].
    pub struct ReadInto<'a, R> {
        reader: &'a mut StreamReader<R>,
        dst: &'a mut [u8],
    }
    impl[R: Source + Unpin] -> Result<usize, Error>;
    poll(|this, cx| Pin::new(&mut *this.reader).poll_read_into(cx, this.dst).map_err(Error::Io))
}

named_future! {
    /// Future of [`StreamReader::read_exact_into`]. Dropping it before it
    /// completes puts the bytes it wrote back into the reader.
    pub struct ReadExactInto<'a, R> {
        reader: &'a mut StreamReader<R>,
        dst: &'a mut [u8],
        /// INVARIANT: `dst[..written]` holds bytes consumed from the reader that
        /// the caller has not been handed yet.
        written: usize,
    }
    impl[R: Source + Unpin] -> Result<(), Error>;
    poll(|this, cx| Pin::new(&mut *this).poll_read_exact(cx))
}

impl<R: Source> StreamReader<R> {
    /// Fills `dst[*written..]`, advancing `*written` after every read, so
    /// that the progress survives an error or a dropped future. `Ok(true)`
    /// once `dst` is full, `Ok(false)` at end of stream.
    fn poll_fill_slice(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut [u8],
        written: &mut usize,
    ) -> Poll<io::Result<bool>> {
        let this = self.project();
        let (buf, mut inner) = (this.buf, this.inner);
        while *written < dst.len() {
            let rest = &mut dst[*written..];
            let got = if buf.len() > 0 {
                Poll::Ready(Ok(buf.copy_to(rest)))
            } else if !R::LENDS && buf.reads_direct(rest.len()) {
                poll_read_direct(buf, inner.as_mut(), cx, rest)
            } else {
                poll_fill(buf, inner.as_mut(), cx, Fill::More).map_ok(|n| {
                    if n == 0 {
                        0
                    } else {
                        buf.copy_to(rest)
                    }
                })
            };
            match ready!(got)? {
                0 => return Poll::Ready(Ok(false)),
                n => *written += n,
            }
        }
        Poll::Ready(Ok(true))
    }
}

impl<R: Source + Unpin> ReadExactInto<'_, R> {
    /// The core call, then the bytes handed over, or put back on an error.
    fn poll_read_exact(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = &mut *self;
        let filled =
            ready!(Pin::new(&mut *this.reader).poll_fill_slice(cx, this.dst, &mut this.written));
        let written = std::mem::take(&mut this.written);
        Poll::Ready(match filled {
            // Handed over: nothing to put back on drop.
            Ok(true) => Ok(()),
            Ok(false) => {
                let partial = Bytes::copy_from_slice(&this.dst[..written]);
                Err(Error::UnexpectedEof {
                    expected: Some(this.dst.len() - written),
                    partial,
                })
            }
            Err(e) => {
                this.reader.buf.unread_front(&this.dst[..written]);
                Err(Error::Io(e))
            }
        })
    }
}

impl<R> Drop for ReadExactInto<'_, R> {
    fn drop(&mut self) {
        if self.written > 0 {
            self.reader.buf.unread_front(&self.dst[..self.written]);
        }
    }
}

named_future! {
    /// Future of [`StreamReader::read_exact_into_resumable`]. Dropping it keeps
    /// the progress in the caller's `dst` and `filled`.
    pub struct ReadExactIntoResumable<'a, R> {
        reader: &'a mut StreamReader<R>,
        dst: &'a mut [u8],
        filled: &'a mut usize,
    }
    impl[R: Source + Unpin] -> Result<(), Error>;
    poll(|this, cx| Pin::new(&mut *this).poll_resume(cx))
}

impl<R: Source + Unpin> ReadExactIntoResumable<'_, R> {
    /// The core call from the caller's `filled`, which it advances.
    fn poll_resume(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = &mut *self;
        let full = this.dst.len();
        *this.filled = (*this.filled).min(full);
        let out = ready!(Pin::new(&mut *this.reader).poll_fill_slice(cx, this.dst, this.filled));
        Poll::Ready(match out {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::UnexpectedEof {
                partial: Bytes::new(),
                expected: Some(full - *this.filled),
            }),
            Err(e) => Err(Error::Io(e)),
        })
    }
}
