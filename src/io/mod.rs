//! What a [`StreamReader`](crate::StreamReader) reads from and a
//! [`StreamWriter`](crate::StreamWriter) writes to.
//!
//! [`Source`] and [`Destination`] are implemented for every
//! [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`] (smol, async-std,
//! futures, in-memory slices), with the `tokio` feature for tokio's I/O
//! types wrapped in `TokioIo`, and with the `compio` feature for compio's
//! completion-based ones wrapped in `CompioIo` (reads there borrow nothing:
//! the reader lends its free tail to each read as an owned buffer). The reader and the writer have one
//! poll core per operation, written against these traits, so every runtime
//! family runs the same code.
//!
//! Both traits are sealed: their methods are this crate's business. To read
//! from a type of your own, implement `futures_io::AsyncRead` for it (or
//! tokio's `AsyncRead` and wrap it in `TokioIo`).
//!
//! The calls into them go through `checked`, which checks every answer
//! before the reader or writer trusts it.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;

pub(crate) mod checked;
#[cfg(feature = "compio")]
mod compio;
#[cfg(feature = "tokio")]
mod tokio;

#[cfg(feature = "compio")]
#[cfg_attr(docsrs, doc(cfg(feature = "compio")))]
pub use self::compio::CompioIo;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use self::tokio::TokioIo;

/// An async byte source a [`StreamReader`](crate::StreamReader) can read
/// from: any [`futures_io::AsyncRead`] and, with the `tokio` feature, any
/// `tokio::io::AsyncRead` wrapped in `TokioIo`.
///
/// Sealed; name it in bounds of generic code:
///
/// ```
/// async fn first_line<R: intake::io::Source + Unpin>(
///     r: &mut intake::StreamReader<R>,
/// ) -> Result<Option<bytes::Bytes>, intake::Error> {
///     r.read_until(b"\n").await
/// }
/// # futures_lite::future::block_on(async {
/// let mut r = intake::StreamReader::new(&b"hi\nthere"[..]);
/// assert_eq!(first_line(&mut r).await?.as_deref(), Some(&b"hi\n"[..]));
/// # Ok::<(), intake::Error>(())
/// # }).unwrap();
/// ```
pub trait Source: sealed::ReadInner {}

impl<T: sealed::ReadInner + ?Sized> Source for T {}

/// An async byte sink a [`StreamWriter`](crate::StreamWriter) can write to:
/// any [`futures_io::AsyncWrite`] and, with the `tokio` feature, any
/// `tokio::io::AsyncWrite` wrapped in `TokioIo`. Sealed, like [`Source`].
pub trait Destination: sealed::WriteInner {}

impl<T: sealed::WriteInner + ?Sized> Destination for T {}

pub(crate) mod sealed {
    use super::*;

    /// The read calls the reader makes, for each I/O family.
    ///
    /// # Safety
    ///
    /// `poll_read_uninit_inner` returns `Ok(n)` only once `buf[..n]` is
    /// initialized: the reader's buffer then treats those bytes as `u8`s.
    /// (Sealed: the only implementations are the two in this crate.)
    pub unsafe trait ReadInner {
        /// Whether reads should go through `poll_read_uninit_inner` into
        /// memory that was never zeroed (tokio's `ReadBuf`). futures-io's
        /// `poll_read` takes `&mut [u8]`, so its sources read into
        /// initialized memory.
        const READS_UNINIT: bool = false;

        /// One read into `buf` (non-empty), as `AsyncRead::poll_read`.
        fn poll_read_inner(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>>;

        /// One read into memory that may be uninitialized. The reader calls
        /// it only when `READS_UNINIT`; a source without that answers
        /// `Unsupported` (and never `Ok`, which the safety contract needs).
        fn poll_read_uninit_inner(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            _buf: &mut [std::mem::MaybeUninit<u8>],
        ) -> Poll<io::Result<usize>> {
            Poll::Ready(Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this source reads only into initialized memory",
            )))
        }

        /// Whether reads go through `poll_read_lent`: a completion source
        /// (io_uring) owns the memory it reads into until the read is done,
        /// so the reader lends it its free tail instead of a slice.
        const LENDS: bool = false;

        /// Whether a read of `poll_read_lent` is in flight, holding the
        /// memory it was lent.
        fn read_in_flight(&self) -> bool {
            false
        }

        /// One read into lent memory. With no read in flight, `lend` gives
        /// the memory (an empty `BytesMut` whose capacity is the free tail)
        /// and the most the read may bring; the read then owns it until it
        /// completes, even across dropped futures, and the next call takes
        /// up its result. Ready with the memory back, holding the bytes
        /// read at its front. The reader calls it only when `LENDS`.
        fn poll_read_lent(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            lend: impl FnOnce() -> (BytesMut, usize),
        ) -> Poll<(io::Result<usize>, BytesMut)> {
            let _ = lend;
            Poll::Ready((
                Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "this source does not read into lent memory",
                )),
                BytesMut::new(),
            ))
        }
    }

    /// The write calls the writer makes, for each I/O family.
    pub trait WriteInner {
        fn poll_write_inner(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>>;
        fn poll_write_vectored_inner(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>>;
        fn poll_flush_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
        /// `poll_close` on futures-io, `poll_shutdown` on tokio.
        fn poll_close_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

        /// Whether the writer's pending bytes go through
        /// `poll_write_lent`: a completion sink owns what it writes until
        /// the write is done.
        const LENDS: bool = false;

        /// One write of owned buffers. With no write in flight, `front`
        /// gives the pending bytes (given a staging buffer for those that
        /// must be copied); the write holds them until it completes, even
        /// across dropped futures, and the next call takes up its result.
        /// Ready with `(written, offered)`. The writer calls it only when
        /// `LENDS`.
        fn poll_write_lent(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            front: impl FnOnce(&mut BytesMut) -> Vec<bytes::Bytes>,
        ) -> Poll<io::Result<(usize, usize)>> {
            let _ = front;
            Poll::Ready(Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this sink does not write lent buffers",
            )))
        }
    }
}

// SAFETY: futures-io sources keep the default `poll_read_uninit_inner`,
// which never returns `Ok` (and is never called: `READS_UNINIT` is false).
unsafe impl<T: futures_io::AsyncRead + ?Sized> sealed::ReadInner for T {
    #[inline]
    fn poll_read_inner(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read(cx, buf)
    }
}

impl<T: futures_io::AsyncWrite + ?Sized> sealed::WriteInner for T {
    #[inline]
    fn poll_write_inner(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write(cx, buf)
    }
    #[inline]
    fn poll_write_vectored_inner(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, bufs)
    }
    #[inline]
    fn poll_flush_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
    #[inline]
    fn poll_close_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::sealed::ReadInner;
    use std::mem::MaybeUninit;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    // The reader never asks a futures-io source for it.
    const _: () = assert!(!<&[u8] as ReadInner>::READS_UNINIT);

    #[test]
    fn futures_sources_refuse_uninitialized_memory() {
        let mut src: &[u8] = b"abc";
        let mut buf = [MaybeUninit::<u8>::uninit(); 4];
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        match Pin::new(&mut src).poll_read_uninit_inner(&mut cx, &mut buf) {
            Poll::Ready(Err(e)) => assert_eq!(e.kind(), std::io::ErrorKind::Unsupported),
            other => panic!("{other:?}"),
        }
        assert_eq!(src, b"abc", "nothing was read");
    }
}
