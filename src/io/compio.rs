//! [`CompioIo`]: compio's completion-based I/O types (io_uring, IOCP, or
//! compio's polling fallback) as a [`Source`](super::Source) and a
//! [`Destination`](super::Destination).
//!
//! A completion read owns its buffer until the kernel is done with it, and
//! the kernel may still write into it after the future that started the
//! read is dropped. So the read in flight, and the memory lent to it, are
//! kept here, in the wrapper the reader owns, not in the caller's future:
//! a read future dropped mid-read (a timeout) leaves the operation running,
//! and the next read on the reader takes up its result, bytes included.
//! Dropping the wrapper with a read in flight is sound too: compio keeps an
//! operation's buffer alive until the kernel completes it.
//!
//! Each operation moves the stream into a boxed future with its buffer and
//! gets it back with the result (compio's methods borrow the stream for
//! the whole operation, which a poll-based reader cannot hold across
//! calls).

use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use compio_buf::{BufResult, IntoInner, IoBuf};
use compio_io::{AsyncRead, AsyncWrite};

use super::sealed::{ReadInner, WriteInner};

/// The result of one finished operation.
enum Done {
    /// A read into lent memory: the count and the memory back.
    Read(io::Result<usize>, BytesMut),
    /// A write: the count and the bytes offered.
    Write(io::Result<usize>, usize),
    /// A flush or a shutdown.
    Flush(io::Result<()>),
    Shutdown(io::Result<()>),
}

/// What kind of operation a result is, or an operation in flight will be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
    Flush,
    Shutdown,
}

impl Done {
    fn kind(&self) -> Kind {
        match self {
            Done::Read(..) => Kind::Read,
            Done::Write(..) => Kind::Write,
            Done::Flush(_) => Kind::Flush,
            Done::Shutdown(_) => Kind::Shutdown,
        }
    }
}

/// An operation in flight: it owns the stream until it completes.
type Op<S> = Pin<Box<dyn Future<Output = (S, Done)>>>;

enum State<S> {
    Idle(S),
    Busy(Op<S>, Kind),
    /// Only while a transition is under way (never seen between calls).
    Moved,
}

/// A compio I/O object (a `compio::net::TcpStream`, a `UnixStream`,
/// anything with compio's owned-buffer `AsyncRead` / `AsyncWrite`) for a
/// [`StreamReader`](crate::StreamReader) or a
/// [`StreamWriter`](crate::StreamWriter) to use, as
/// [`TokioIo`](crate::TokioIo) is for tokio. Only with the `compio`
/// feature.
///
/// - **Reads go straight into the reader's buffer.** The reader lends its
///   free tail to the read as an owned buffer (split off its one
///   allocation, so nothing is zeroed or staged) and joins it back when the
///   read completes: the kernel writes the bytes where they will live, and
///   frames still leave as zero-copy `Bytes`.
/// - **Cancellation loses nothing.** The read in flight belongs to this
///   wrapper. A read future of the reader dropped mid-read leaves it
///   running, and the next read on the reader takes up its result, bytes
///   included. Dropping the reader with a read in flight is sound: compio
///   keeps the memory until the kernel is done with it.
/// - **Writes lend the writer's pending bytes.** Each flush round hands
///   one vectored write the pending bytes as owned buffers: the `Bytes` the
///   writer kept (large payloads) as they are, by reference count, and the
///   small items it coalesced staged once into memory the write owns (and
///   that is reused once the kernel lets go of it). A write future dropped
///   mid-write leaves the write in flight; the next call takes up its
///   count, so `pending()` stays exact and no byte is sent twice, and a
///   cancelled `send` still queues whole items or nothing. (A large
///   borrowed write through `AsyncWrite` is staged the same way: borrowed
///   memory cannot outlive the call.)
///
/// Each operation takes the stream by value for as long as it runs, so `S`
/// is `'static`: use compio's `TcpStream` itself (it is `Clone`, and one
/// clone can read while another writes) or an owned half.
///
/// # Examples
///
/// ```
/// use intake::{CompioIo, LengthPrefix, StreamReader, StreamWriter};
///
/// # fn main() -> Result<(), intake::Error> {
/// compio::runtime::Runtime::new()?.block_on(async {
///     let listener = compio::net::TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let (client, accepted) = futures_lite::future::zip(
///         compio::net::TcpStream::connect(addr),
///         listener.accept(),
///     )
///     .await;
///     let prefix = LengthPrefix::new(4);
///     let mut writer = StreamWriter::new(CompioIo::new(client?));
///     writer.send_frame(&prefix, bytes::Bytes::from_static(b"hello")).await?;
///     writer.flush().await?;
///
///     let mut reader = StreamReader::new(CompioIo::new(accepted?.0));
///     let frame = reader.read_frame(&prefix).await?;
///     assert_eq!(frame.as_deref(), Some(&b"hello"[..]));
///     Ok(())
/// })
/// # }
/// ```
pub struct CompioIo<S> {
    state: State<S>,
    /// Finished operations whose results no call has claimed yet, one slot
    /// per kind (a read's bytes or a write's count are never dropped: the
    /// next read or write takes them up).
    /// (Boxed: rare, and the wrapper stays small.)
    read_done: Option<Box<Done>>,
    write_done: Option<Box<Done>>,
    /// A flush's or a shutdown's result (dropped if nobody asks again).
    other_done: Option<Box<Done>>,
    /// Where copied bytes are staged for writes: frozen pieces of it go to
    /// the kernel, and its memory is reused once they come back.
    staging: BytesMut,
}

// The stream is never pinned: it moves into each operation's future, which
// is boxed.
impl<S> Unpin for CompioIo<S> {}

impl<S> fmt::Debug for CompioIo<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompioIo")
            .field("busy", &self.is_busy())
            .finish_non_exhaustive()
    }
}

impl<S> CompioIo<S> {
    /// Wraps a compio I/O object.
    pub fn new(inner: S) -> Self {
        CompioIo {
            state: State::Idle(inner),
            read_done: None,
            write_done: None,
            other_done: None,
            staging: BytesMut::new(),
        }
    }

    /// Whether an operation is in flight (it holds the I/O object).
    pub fn is_busy(&self) -> bool {
        matches!(self.state, State::Busy(..))
    }

    /// The compio I/O object, unless an operation is in flight.
    pub fn get_ref(&self) -> Option<&S> {
        match &self.state {
            State::Idle(s) => Some(s),
            _ => None,
        }
    }

    /// The compio I/O object, mutably, unless an operation is in flight.
    pub fn get_mut(&mut self) -> Option<&mut S> {
        match &mut self.state {
            State::Idle(s) => Some(s),
            _ => None,
        }
    }

    /// Unwraps the compio I/O object; `Err(self)` while an operation is in
    /// flight (finish it first, e.g. with a flush or a read).
    pub fn into_inner(self) -> Result<S, Self> {
        match self.state {
            State::Idle(s) => Ok(s),
            _ => Err(self),
        }
    }

    /// The slot for results of `kind`.
    fn slot(&mut self, kind: Kind) -> &mut Option<Box<Done>> {
        match kind {
            Kind::Read => &mut self.read_done,
            Kind::Write => &mut self.write_done,
            Kind::Flush | Kind::Shutdown => &mut self.other_done,
        }
    }

    /// The result of an operation of `kind`: one that finished earlier and
    /// was not claimed, or the one in flight once it finishes. `None` once
    /// the stream is idle with no such result (whatever else was in flight
    /// finished first, and its result waits in its slot).
    fn poll_claim(&mut self, cx: &mut Context<'_>, kind: Kind) -> Poll<Option<Done>> {
        loop {
            if let Some(done) = self.slot(kind).take() {
                if done.kind() == kind {
                    return Poll::Ready(Some(*done));
                }
                // A flush's result where a shutdown is asked for (they
                // share a slot): the flush's caller gave up on it, and the
                // shutdown runs now.
            }
            let State::Busy(op, _) = &mut self.state else {
                return Poll::Ready(None);
            };
            let (s, done) = std::task::ready!(op.as_mut().poll(cx));
            self.state = State::Idle(s);
            if done.kind() == kind {
                return Poll::Ready(Some(done));
            }
            // Another kind's result: kept for the call that asks for it.
            let other = done.kind();
            *self.slot(other) = Some(Box::new(done));
        }
    }

    /// Starts an operation of `kind` on the idle stream and polls it once.
    fn start(
        &mut self,
        cx: &mut Context<'_>,
        kind: Kind,
        op: impl FnOnce(S) -> Op<S>,
    ) -> Poll<Done> {
        let State::Idle(s) = std::mem::replace(&mut self.state, State::Moved) else {
            unreachable!("an operation starts on an idle stream")
        };
        self.state = State::Busy(op(s), kind);
        match std::task::ready!(self.poll_claim(cx, kind)) {
            Some(done) => Poll::Ready(done),
            None => unreachable!("the operation just started is of this kind"),
        }
    }
}

/// Checks a completion read's count against the memory it returned: a
/// count the buffer's length does not match is a broken implementation.
fn checked_read(result: io::Result<usize>, buf: &BytesMut) -> io::Result<usize> {
    match result {
        Ok(n) if n != buf.len() => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "compio reader reported {n} bytes read but filled {}",
                buf.len()
            ),
        )),
        other => other,
    }
}

// SAFETY: `poll_read_uninit_inner` keeps the default (never `Ok`); reads
// go through `poll_read_lent`, whose memory comes back as a `BytesMut`
// whose length compio's `SetLen` set over the bytes the kernel wrote.
unsafe impl<S: AsyncRead + 'static> ReadInner for CompioIo<S> {
    const LENDS: bool = true;

    /// Not used: the reader lends its memory to a source with `LENDS`
    /// (a read into a borrowed slice cannot outlive a dropped future, which
    /// a completion read must be free to do).
    fn poll_read_inner(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "a completion source reads only into lent memory",
        )))
    }

    fn read_in_flight(&self) -> bool {
        self.read_done.is_some() || matches!(self.state, State::Busy(_, Kind::Read))
    }

    fn poll_read_lent(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        lend: impl FnOnce() -> (BytesMut, usize),
    ) -> Poll<(io::Result<usize>, BytesMut)> {
        let this = self.get_mut();
        let done = match std::task::ready!(this.poll_claim(cx, Kind::Read)) {
            Some(done) => done,
            None => {
                let (tail, max) = lend();
                let max = max.min(tail.capacity());
                std::task::ready!(this.start(cx, Kind::Read, move |mut s| {
                    Box::pin(async move {
                        let BufResult(result, slice) = s.read(tail.slice(..max)).await;
                        (s, Done::Read(result, slice.into_inner()))
                    })
                }))
            }
        };
        match done {
            Done::Read(result, buf) => Poll::Ready((checked_read(result, &buf), buf)),
            _ => unreachable!("a read's result"),
        }
    }
}

impl<S: AsyncWrite + 'static> WriteInner for CompioIo<S> {
    fn poll_write_inner(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_inner(cx, &[IoSlice::new(buf)])
    }

    /// A borrowed write (a large one through `AsyncWrite`): the slices are
    /// copied once into the staging buffer and go out as one lent piece, by
    /// the same path as the writer's pending bytes.
    fn poll_write_vectored_inner(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_lent(cx, |staging| {
            for b in bufs {
                staging.extend_from_slice(b);
            }
            vec![staging.split().freeze()]
        })
        .map_ok(|(written, _)| written)
    }

    const LENDS: bool = true;

    /// The writer's pending bytes go to one vectored write as owned
    /// buffers: its kept `Bytes` as they are, its copied bytes staged once
    /// (in memory reused from write to write once the kernel lets go of
    /// it). A write in flight from an earlier call (whose future was
    /// dropped) is taken up instead; its bytes are still the first pending
    /// ones, since the writer drops bytes only once a write reports them.
    fn poll_write_lent(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        front: impl FnOnce(&mut BytesMut) -> Vec<bytes::Bytes>,
    ) -> Poll<io::Result<(usize, usize)>> {
        let this = self.get_mut();
        let done = match std::task::ready!(this.poll_claim(cx, Kind::Write)) {
            Some(done) => done,
            None => {
                let bufs = front(&mut this.staging);
                let offered = bufs.iter().map(|b| b.len()).sum();
                std::task::ready!(this.start(cx, Kind::Write, move |mut s| {
                    Box::pin(async move {
                        let BufResult(result, bufs) = s.write_vectored(bufs).await;
                        // The buffers go back (to their owners' counts) here.
                        drop(bufs);
                        (s, Done::Write(result, offered))
                    })
                }))
            }
        };
        match done {
            Done::Write(result, offered) => Poll::Ready(result.map(|n| (n, offered))),
            _ => unreachable!("a write's result"),
        }
    }

    fn poll_flush_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let done = match std::task::ready!(this.poll_claim(cx, Kind::Flush)) {
            Some(done) => done,
            None => std::task::ready!(this.start(cx, Kind::Flush, |mut s| {
                Box::pin(async move {
                    let result = s.flush().await;
                    (s, Done::Flush(result))
                })
            })),
        };
        match done {
            Done::Flush(result) => Poll::Ready(result),
            _ => unreachable!("a flush's result"),
        }
    }

    fn poll_close_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let done = match std::task::ready!(this.poll_claim(cx, Kind::Shutdown)) {
            Some(done) => done,
            None => std::task::ready!(this.start(cx, Kind::Shutdown, |mut s| {
                Box::pin(async move {
                    let result = s.shutdown().await;
                    (s, Done::Shutdown(result))
                })
            })),
        };
        match done {
            Done::Shutdown(result) => Poll::Ready(result),
            _ => unreachable!("a shutdown's result"),
        }
    }
}
