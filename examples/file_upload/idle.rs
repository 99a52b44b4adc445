//! A socket whose reads and writes fail with `TimedOut` after a stretch of
//! no progress. Every read the server makes goes through the reader, and
//! every write through the writer, so one wrapper covers a client that
//! stalls anywhere: in the request head, mid-body, or not reading answers.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use smol::net::TcpStream;
use smol::Timer;

pub struct IdleIo {
    sock: TcpStream,
    timeout: Duration,
    /// Armed at the first `Pending`, dropped at any progress.
    timer: Option<Timer>,
}

impl IdleIo {
    pub fn new(sock: TcpStream, timeout: Duration) -> Self {
        IdleIo {
            sock,
            timeout,
            timer: None,
        }
    }

    /// Turns a `Pending` into `TimedOut` once the timer has run out.
    fn on_pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let timeout = self.timeout;
        let timer = self.timer.get_or_insert_with(|| Timer::after(timeout));
        match Pin::new(timer).poll(cx) {
            Poll::Ready(_) => {
                self.timer = None;
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "client idle for too long",
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Whether an intake error is this wrapper's timeout.
pub fn timed_out(e: &intake::Error) -> bool {
    matches!(e, intake::Error::Io(e) if e.kind() == io::ErrorKind::TimedOut)
}

impl AsyncRead for IdleIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.sock).poll_read(cx, buf) {
            Poll::Ready(r) => {
                self.timer = None;
                Poll::Ready(r)
            }
            Poll::Pending => self.on_pending(cx),
        }
    }
}

impl AsyncWrite for IdleIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.sock).poll_write(cx, buf) {
            Poll::Ready(r) => {
                self.timer = None;
                Poll::Ready(r)
            }
            Poll::Pending => self.on_pending(cx),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.sock).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => {
                self.timer = None;
                Poll::Ready(r)
            }
            Poll::Pending => self.on_pending(cx),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.sock).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.sock).poll_close(cx)
    }
}
