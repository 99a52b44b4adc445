//! futures-io's `AsyncRead` and `AsyncBufRead`: the reader as a drop-in
//! `BufReader`; `AsyncWrite` passed through to a socket underneath.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};

use super::{poll_fill, StreamReader};
use crate::buffer::Fill;
use crate::io::{Destination, Source};

impl<R: Source> AsyncRead for StreamReader<R> {
    /// Buffered bytes first; with nothing buffered, a `buf` at least as
    /// large as the capacity is read into directly (as `BufReader` does).
    #[inline]
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_into(cx, buf)
    }
}

impl<R: Source> AsyncBufRead for StreamReader<R> {
    #[inline]
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.poll_fill_one(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.consume_pinned(amt);
    }
}

impl<R: Source> StreamReader<R> {
    /// `poll_fill_buf` of both `AsyncBufRead` families: the buffered bytes,
    /// after one read if there are none.
    #[inline]
    pub(crate) fn poll_fill_one(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<&[u8]>> {
        let mut this = self.project();
        if this.buf.len() == 0 {
            ready!(poll_fill(this.buf, this.inner.as_mut(), cx, Fill::More))?;
        }
        Poll::Ready(Ok(this.buf.unread()))
    }

    /// `consume` of both `AsyncBufRead` families.
    pub(crate) fn consume_pinned(self: Pin<&mut Self>, amt: usize) {
        self.project().buf.consume(amt);
    }
}

/// Writes pass straight through to the inner reader when it is also a
/// writer (a socket), unbuffered, so one `StreamReader<TcpStream>` can read
/// and answer: wrap the writes in a [`StreamWriter`](crate::StreamWriter)
/// of a second handle, or use this for the occasional reply.
impl<R: Source + Destination> AsyncWrite for StreamReader<R> {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_pin_mut().poll_write_inner(cx, buf)
    }

    #[inline]
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_pin_mut().poll_write_vectored_inner(cx, bufs)
    }

    #[inline]
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_pin_mut().poll_flush_inner(cx)
    }

    #[inline]
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_pin_mut().poll_close_inner(cx)
    }
}

/// tokio's `AsyncRead`, `AsyncBufRead` and `AsyncWrite`, beside their
/// futures-io twins above and over the same cores.
#[cfg(feature = "tokio")]
mod tokio_traits {
    use std::io::{self, IoSlice};
    use std::pin::Pin;
    use std::task::{ready, Context, Poll};

    use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};

    use super::StreamReader;
    use crate::io::{Destination, Source};

    /// tokio's `AsyncRead`, for a reader over any [`Source`] (hand it to tokio
    /// code as a buffered reader). Buffered bytes first; with nothing buffered,
    /// a read at least as large as the capacity goes straight to the source.
    impl<R: Source> AsyncRead for StreamReader<R> {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            if buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            let n = ready!(self.poll_read_into(cx, buf.initialize_unfilled()))?;
            buf.advance(n);
            Poll::Ready(Ok(()))
        }
    }

    /// tokio's `AsyncBufRead`, the same as the futures-io one.
    impl<R: Source> AsyncBufRead for StreamReader<R> {
        fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
            self.poll_fill_one(cx)
        }

        fn consume(self: Pin<&mut Self>, amt: usize) {
            self.consume_pinned(amt);
        }
    }

    /// Writes pass straight through to a source that is also a writer, as on
    /// the futures-io side.
    impl<R: Source + Destination> AsyncWrite for StreamReader<R> {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.get_pin_mut().poll_write_inner(cx, buf)
        }

        fn poll_write_vectored(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            self.get_pin_mut().poll_write_vectored_inner(cx, bufs)
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.get_pin_mut().poll_flush_inner(cx)
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.get_pin_mut().poll_close_inner(cx)
        }
    }
}
