//! The one place inner readers and writers are called. Their answers are
//! checked before anything trusts them, the same way on every path:
//!
//! - a read of `Ok(0)` is end of stream, and is remembered until a read
//!   brings data again (a source may end and later have more: a growing
//!   file, a rewound one, a terminal);
//! - a write of `Ok(0)` is [`io::ErrorKind::WriteZero`] (a writer that
//!   takes nothing would otherwise be asked again forever);
//! - a count larger than the slices handed over is
//!   [`io::ErrorKind::InvalidData`]: trusting it would read past the slice
//!   or drop bytes that were never written;
//! - `Interrupted` is retried, but at most [`INTERRUPTED_RETRIES`] times in
//!   one poll. Then the task is woken and the poll returns `Pending`, so a
//!   source that interrupts forever cannot hold the executor thread; it
//!   yields, and the next poll tries again with nothing lost.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::sealed::{ReadInner, WriteInner};

/// How many `Interrupted` in a row one poll retries before it yields.
pub(crate) const INTERRUPTED_RETRIES: usize = 16;

/// One read from `inner` into `dst` (non-empty). `Ok(0)` sets `*eof`, data
/// clears it.
pub(crate) fn poll_read<R: ReadInner + ?Sized>(
    inner: Pin<&mut R>,
    cx: &mut Context<'_>,
    dst: &mut [u8],
    eof: &mut bool,
) -> Poll<io::Result<usize>> {
    let len = dst.len();
    poll_read_checked(inner, cx, len, eof, |inner, cx| {
        inner.poll_read_inner(cx, dst)
    })
}

/// [`poll_read`] into memory that may be uninitialized (a source with
/// `READS_UNINIT`). On `Ok(n)`, `dst[..n]` is initialized: the source
/// promises it (`ReadInner`'s safety contract), and `n <= dst.len()` is
/// checked here.
pub(crate) fn poll_read_uninit<R: ReadInner + ?Sized>(
    inner: Pin<&mut R>,
    cx: &mut Context<'_>,
    dst: &mut [std::mem::MaybeUninit<u8>],
    eof: &mut bool,
) -> Poll<io::Result<usize>> {
    let len = dst.len();
    poll_read_checked(inner, cx, len, eof, |inner, cx| {
        inner.poll_read_uninit_inner(cx, dst)
    })
}

/// The checks around one read of at most `len > 0` bytes: `Ok(0)` sets
/// `*eof`, a count over `len` is `InvalidData`, and `Interrupted` is
/// retried a few times before the task yields.
fn poll_read_checked<R: ReadInner + ?Sized>(
    mut inner: Pin<&mut R>,
    cx: &mut Context<'_>,
    len: usize,
    eof: &mut bool,
    mut read: impl FnMut(Pin<&mut R>, &mut Context<'_>) -> Poll<io::Result<usize>>,
) -> Poll<io::Result<usize>> {
    debug_assert!(len > 0);
    for _ in 0..INTERRUPTED_RETRIES {
        match read(inner.as_mut(), cx) {
            Poll::Ready(Ok(0)) => {
                *eof = true;
                return Poll::Ready(Ok(0));
            }
            Poll::Ready(Ok(n)) if n > len => return Poll::Ready(Err(over_report("read", n, len))),
            Poll::Ready(Ok(n)) => {
                *eof = false;
                return Poll::Ready(Ok(n));
            }
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
    yield_now(cx)
}

/// One write of `bufs` (holding `total > 0` bytes) to `inner`: a plain
/// `poll_write` for one slice, a vectored one for several. Returns how many
/// bytes were written, `1..=total`. Inlined: a large kept item on a sink
/// that takes 1500 bytes a call goes out in hundreds of calls.
#[inline]
pub(crate) fn poll_write<W: WriteInner + ?Sized>(
    mut inner: Pin<&mut W>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
    total: usize,
) -> Poll<io::Result<usize>> {
    debug_assert!(total > 0);
    for _ in 0..INTERRUPTED_RETRIES {
        let result = match bufs {
            [one] => inner.as_mut().poll_write_inner(cx, one),
            _ => inner.as_mut().poll_write_vectored_inner(cx, bufs),
        };
        match result {
            Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Poll::Ready(Ok(n)) if n > total => {
                return Poll::Ready(Err(over_report("written", n, total)))
            }
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
    yield_now(cx)
}

/// One write of owned buffers to a completion sink (`poll_write_lent`),
/// with [`poll_write`]'s checks: `Ok(0)` is `WriteZero`, a count over what
/// was offered is `InvalidData`. `Interrupted` yields, and the next poll
/// offers the same bytes again (the queue is unchanged). Returns
/// `(written, offered)`, `written` in `1..=offered`.
pub(crate) fn poll_write_lent<W: WriteInner + ?Sized>(
    inner: Pin<&mut W>,
    cx: &mut Context<'_>,
    front: impl FnOnce(&mut bytes::BytesMut) -> Vec<bytes::Bytes>,
) -> Poll<io::Result<(usize, usize)>> {
    match inner.poll_write_lent(cx, front) {
        Poll::Ready(Ok((0, _))) => Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
        Poll::Ready(Ok((n, offered))) if n > offered => {
            Poll::Ready(Err(over_report("written", n, offered)))
        }
        Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => yield_now(cx),
        other => other,
    }
}

/// [`poll_write`] of one non-empty slice.
#[inline]
pub(crate) fn poll_write_slice<W: WriteInner + ?Sized>(
    inner: Pin<&mut W>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    poll_write(inner, cx, &[IoSlice::new(buf)], buf.len())
}

/// Gives the executor the thread back after too many `Interrupted`: the
/// task is woken at once, so it runs again after others had their turn.
#[cold]
fn yield_now<T>(cx: &mut Context<'_>) -> Poll<T> {
    cx.waker().wake_by_ref();
    Poll::Pending
}

/// The error for an inner reader or writer that reports more bytes than it
/// was given. Such an implementation is broken; its count cannot be used.
#[cold]
fn over_report(what: &str, claimed: usize, room: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("inner reader or writer reported {claimed} bytes {what} of {room} given"),
    )
}
