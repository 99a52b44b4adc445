//! [`TokioIo`]: tokio's I/O types as a [`Source`](super::Source) and a
//! [`Destination`](super::Destination). (tokio's I/O traits on the reader
//! and the writer live beside their futures-io twins, in the reader and the
//! writer.)

use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::sealed::{ReadInner, WriteInner};

pin_project! {
    /// A tokio I/O object (a `tokio::net::TcpStream`, one of its halves, a
    /// `tokio::fs::File`, anything that implements tokio's `AsyncRead` or
    /// `AsyncWrite`) for a [`StreamReader`](crate::StreamReader) or a
    /// [`StreamWriter`](crate::StreamWriter) to use.
    ///
    /// Only with the `tokio` feature. Both families run the same reader and
    /// writer code; this wrapper only translates the calls (tokio's
    /// `ReadBuf` and `poll_shutdown`).
    ///
    /// Reads through it go straight into the reader's spare capacity as
    /// uninitialized memory (`ReadBuf::uninit`): unlike futures-io's
    /// `&mut [u8]`, nothing has to be zeroed first, so a large frame that
    /// grows as it arrives costs no memset. A tokio reader that replaces the
    /// `ReadBuf` it was given gets `InvalidData`, not garbage.
    ///
    /// # Examples
    ///
    /// ```
    /// use intake::{StreamReader, StreamWriter, TokioIo};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), intake::Error> {
    /// let (client, server) = tokio::io::duplex(64);
    /// let mut writer = StreamWriter::new(TokioIo::new(client));
    /// writer.send(bytes::Bytes::from_static(b"PING\r\n")).await?;
    /// writer.flush().await?;
    ///
    /// let mut reader = StreamReader::new(TokioIo::new(server));
    /// let line = reader.read_until(b"\r\n").await?;
    /// assert_eq!(line.as_deref(), Some(&b"PING\r\n"[..]));
    /// # Ok(())
    /// # }
    /// ```
    #[derive(Debug)]
    pub struct TokioIo<T> {
        #[pin]
        inner: T,
    }
}

impl<T> TokioIo<T> {
    /// Wraps a tokio I/O object.
    pub fn new(inner: T) -> Self {
        TokioIo { inner }
    }

    /// The tokio I/O object.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The tokio I/O object, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the tokio I/O object.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

// SAFETY: `poll_read_uninit_inner` returns the length of the `ReadBuf`'s
// filled part, which tokio's `ReadBuf` keeps initialized, after checking the
// `ReadBuf` still covers the memory it was given.
unsafe impl<T: AsyncRead> ReadInner for TokioIo<T> {
    const READS_UNINIT: bool = true;

    fn poll_read_inner(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let start = buf.as_ptr();
        read_via(self, cx, ReadBuf::new(buf), start)
    }

    fn poll_read_uninit_inner(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        let start = buf.as_ptr().cast::<u8>();
        read_via(self, cx, ReadBuf::uninit(buf), start)
    }
}

/// One tokio read into `read_buf` (which starts at `start`): the number of
/// bytes it filled.
fn read_via<T: AsyncRead>(
    io: Pin<&mut TokioIo<T>>,
    cx: &mut Context<'_>,
    mut read_buf: ReadBuf<'_>,
    start: *const u8,
) -> Poll<io::Result<usize>> {
    ready!(io.project().inner.poll_read(cx, &mut read_buf))?;
    // A reader may swap the `ReadBuf` for one of its own (tokio allows the
    // mistake); then the bytes are not where the count says.
    if read_buf.filled().as_ptr() != start {
        return Poll::Ready(Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "tokio reader replaced the ReadBuf it was given",
        )));
    }
    Poll::Ready(Ok(read_buf.filled().len()))
}

impl<T: AsyncWrite> WriteInner for TokioIo<T> {
    fn poll_write_inner(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }
    fn poll_write_vectored_inner(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }
    fn poll_flush_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }
    fn poll_close_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}
