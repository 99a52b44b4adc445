//! `AsyncRead` and `AsyncBufRead`: the reader as a drop-in `BufReader`.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncBufRead, AsyncRead};

use super::{poll_fill, StreamReader};

impl<R: AsyncRead> AsyncRead for StreamReader<R> {
    /// Buffered bytes first; with nothing buffered, a `buf` at least as
    /// large as the capacity is read into directly (as `BufReader` does).
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_into(cx, buf)
    }
}

impl<R: AsyncRead> AsyncBufRead for StreamReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let mut this = self.project();
        if this.buf.len() == 0 {
            let normal = this.buf.normal();
            ready!(poll_fill(this.buf, this.inner.as_mut(), cx, 1, normal))?;
        }
        Poll::Ready(Ok(this.buf.unread()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.project().buf.consume(amt);
    }
}
