//! [`StreamReader`]: the one-buffer async reader and its read operations.
//!
//! Each operation lives in its own file, as a `poll_*` core on the reader
//! plus the named future its async method returns. The cores keep their
//! progress in the reader's buffer, not in the future, which is what makes
//! those reads cancel-safe. The exceptions are `copy_exact` and
//! `copy_until`: their progress (bytes left, bytes copied, whether the flush
//! has started) lives in the future, so dropping one loses the count but
//! never a byte, and `position()` tells how much went out.
//!
//! A core says what it wants from the buffer (a [`Fill`]) and reads into
//! the window it gets back; how much memory that takes, and which, is the
//! buffer's policy, not the reader's.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::io::Source;
use bytes::Bytes;
use pin_project_lite::pin_project;

use crate::buffer::{Buffer, Fill, Room, Window};
use crate::io::checked as checked_io;

mod chunked;
mod copy_exact;
mod copy_until;
mod decode;
mod io_impls;
mod limited;
mod peek;
mod read_exactly;
mod read_frame;
mod read_into;
mod read_until;
mod read_until_any;
mod seek;
mod skip;
mod skip_frame;
mod skip_until;
mod view;

pub use chunked::{Chunked, SkipBody};
pub use copy_exact::CopyExact;
pub use copy_until::CopyUntil;
pub use decode::Decode;
pub use limited::Limited;
pub use peek::Peek;
pub use read_exactly::{ReadExactly, EXACT_ALLOC_MAX};
pub use read_frame::ReadFrame;
pub use read_into::{ReadExactInto, ReadExactIntoResumable, ReadInto};
pub use read_until::{PeekUntil, ReadUntil};
pub use read_until_any::{PeekUntilAny, ReadUntilAny};
pub use seek::SeekRelative;
pub use skip::Skip;
pub use skip_frame::SkipFrame;
pub use skip_until::SkipUntil;

pub(crate) use skip_frame::FrameSkip;

use read_until::DelimiterSearch;

/// Default normal buffer capacity: 8 KiB, as std's and futures' `BufReader`.
pub const DEFAULT_CAPACITY: usize = 8 * 1024;
/// Default limit for [`StreamReader::read_until`] and [`StreamReader::peek`]: 64 KiB.
pub const DEFAULT_LIMIT: usize = 64 * 1024;
/// The largest normal buffer capacity a [`StreamReader`] accepts: 1 GiB.
/// The capacity is the size of one ordinary read, allocated whole at the
/// first read; frames larger than it get memory of their own that grows
/// with the bytes that arrive, so a larger capacity buys nothing.
pub const MAX_CAPACITY: usize = 1 << 30;

pin_project! {
    /// A buffered async reader that keeps **one contiguous buffer** and hands
    /// frames out as zero-copy [`Bytes`] slices of it.
    ///
    /// It wraps any [`futures_io::AsyncRead`] (a smol or async-std socket, a
    /// file, an in-memory slice) and adds the reads that framing code needs:
    /// exactly `n` bytes ([`read_exactly`](Self::read_exactly)), up to a
    /// delimiter ([`read_until`](Self::read_until)), a look ahead of `n`
    /// contiguous bytes ([`peek`](Self::peek)), a length-prefixed frame
    /// ([`read_frame`](Self::read_frame)), and reads into caller memory
    /// ([`read_into`](Self::read_into), [`read_exact_into`](Self::read_exact_into)).
    /// It also implements `AsyncRead` and `AsyncBufRead`, so it drops in
    /// where a `BufReader` was.
    ///
    /// The inner reader writes straight into the buffer's free tail (or into
    /// caller memory), so each byte is copied from the source once. Every
    /// byte read stays in the reader until it is handed to the caller:
    /// dropping a read future loses nothing.
    ///
    /// An end of stream (`Ok(0)` from the inner reader) answers the call
    /// that met it; the next call that needs bytes asks the inner reader
    /// again, as every `BufReader` does, so a source that ends and later
    /// has more (a growing file, a rewound one, a terminal) loses nothing.
    /// [`at_eof`](Self::at_eof) tells whether the last read met the end.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use intake::StreamReader;
    ///
    /// let mut reader = StreamReader::new(&b"HELO world\r\nrest"[..]);
    /// let verb = reader.read_exactly(4).await?;
    /// assert_eq!(&verb[..], b"HELO");
    /// let line = reader.read_until(b"\r\n").await?;
    /// assert_eq!(line.as_deref(), Some(&b" world\r\n"[..]));
    /// assert_eq!(reader.peek(4).await?, b"rest");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub struct StreamReader<R> {
        #[pin]
        inner: R,
        buf: Buffer,
        limit: usize,
        search: DelimiterSearch,
    }
}

impl<R> StreamReader<R> {
    /// Wraps `inner` with the default capacity (8 KiB) and limit (64 KiB).
    ///
    /// Allocates nothing until the first read.
    ///
    /// # Examples
    ///
    /// ```
    /// let reader = intake::StreamReader::new(&b"abc"[..]);
    /// assert_eq!(reader.capacity(), 8192);
    /// assert!(reader.buffer().is_empty());
    /// ```
    pub fn new(inner: R) -> Self {
        Self::with_capacity(DEFAULT_CAPACITY, inner)
    }

    /// Wraps `inner` with a buffer of `capacity` bytes: the size of one
    /// ordinary read from the inner reader. Larger frames get an allocation
    /// of their own and do not grow the normal buffer.
    ///
    /// Capacity 0 is allowed: reads into caller memory then always go
    /// straight to the inner reader, and searches read one byte at a time.
    /// Allocates nothing until the first read.
    ///
    /// # Panics
    ///
    /// If `capacity` exceeds [`MAX_CAPACITY`] (1 GiB): such a buffer would
    /// fail or abort at the first read, so it is refused when built. Use
    /// [`try_with_capacity`](Self::try_with_capacity) for a capacity that
    /// comes from configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// let reader = intake::StreamReader::with_capacity(64 * 1024, &b""[..]);
    /// assert_eq!(reader.capacity(), 65536);
    /// ```
    pub fn with_capacity(capacity: usize, inner: R) -> Self {
        match Self::try_with_capacity(capacity, inner) {
            Some(reader) => reader,
            None => {
                panic!("StreamReader capacity {capacity} exceeds MAX_CAPACITY ({MAX_CAPACITY})")
            }
        }
    }

    /// [`with_capacity`](Self::with_capacity), or `None` if `capacity`
    /// exceeds [`MAX_CAPACITY`].
    ///
    /// # Examples
    ///
    /// ```
    /// use intake::{StreamReader, MAX_CAPACITY};
    /// assert!(StreamReader::try_with_capacity(1 << 20, &b""[..]).is_some());
    /// assert!(StreamReader::try_with_capacity(MAX_CAPACITY + 1, &b""[..]).is_none());
    /// ```
    pub fn try_with_capacity(capacity: usize, inner: R) -> Option<Self> {
        if capacity > MAX_CAPACITY {
            return None;
        }
        Some(StreamReader {
            inner,
            buf: Buffer::new(capacity),
            limit: DEFAULT_LIMIT,
            search: DelimiterSearch::default(),
        })
    }

    /// Sets the most bytes that [`read_until`](Self::read_until) and
    /// [`peek`](Self::peek) will hold while searching or looking ahead
    /// (default 64 KiB). A delimiter counts toward the limit.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"a very long line\n"[..]).with_limit(8);
    /// let err = reader.read_until(b"\n").await.unwrap_err();
    /// assert!(matches!(err, intake::Error::LimitExceeded { limit: 8 }));
    /// // Nothing was consumed.
    /// assert_eq!(&reader.buffer()[..6], b"a very");
    /// # });
    /// ```
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// The search and peek limit, in bytes.
    ///
    /// ```
    /// let reader = intake::StreamReader::new(&b""[..]).with_limit(1024);
    /// assert_eq!(reader.limit(), 1024);
    /// ```
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The normal buffer capacity, in bytes.
    ///
    /// ```
    /// assert_eq!(intake::StreamReader::new(&b""[..]).capacity(), intake::DEFAULT_CAPACITY);
    /// ```
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The buffered, unread bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"abc"[..]);
    /// reader.peek(1).await?;
    /// assert_eq!(reader.buffer(), b"abc");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn buffer(&self) -> &[u8] {
        self.buf.unread()
    }

    /// Discards `n` buffered bytes. `n` larger than [`buffer`](Self::buffer)
    /// is clamped to it (this never panics).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"abcd"[..]);
    /// reader.peek(4).await?;
    /// reader.consume(2);
    /// assert_eq!(reader.buffer(), b"cd");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn consume(&mut self, n: usize) {
        self.buf.consume(n);
    }

    /// How many bytes of the stream have been handed out so far: the stream
    /// offset of the first unread byte. Buffered bytes do not count until
    /// they are read or consumed; bytes read straight into caller memory
    /// count as they arrive.
    ///
    /// Useful for protocols that report offsets (a resumable upload's
    /// `Upload-Offset`) and for logging where a stream went wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"line one\nline two\n"[..]);
    /// assert_eq!(reader.position(), 0);
    /// reader.read_until(b"\n").await?;
    /// assert_eq!(reader.position(), 9);
    /// reader.peek(4).await?; // buffered, not handed out
    /// assert_eq!(reader.position(), 9);
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn position(&self) -> u64 {
        self.buf.position()
    }

    /// Whether the stream is over: nothing is buffered and the inner
    /// reader has reported end of stream. It never reads: `false` only
    /// means the end has not been seen yet (a read may still return
    /// `Ok(None)` or `Ok(0)`), so an end that has not been read is found by
    /// reading, not by asking here.
    ///
    /// Once it is `true` it stays `true`: the reader does not poll an ended
    /// inner reader again, and every item read returns `Ok(None)`.
    ///
    /// Through a [`limited`](Self::limited) view, the view's end is the end
    /// of stream, as it is for every read there: `true` once the view's
    /// bytes are all consumed (or the stream ended first), whatever comes
    /// after it.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"one\n"[..]);
    /// assert!(!reader.at_eof()); // nothing read yet
    /// assert_eq!(reader.read_until(b"\n").await?.as_deref(), Some(&b"one\n"[..]));
    /// // The slice's end has not been read yet: a read finds it.
    /// assert!(!reader.at_eof());
    /// assert_eq!(reader.read_until(b"\n").await?, None);
    /// assert!(reader.at_eof());
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn at_eof(&self) -> bool {
        // What `poll_fill` answers with end of stream, with nothing left.
        self.buf.len() == 0
            && (self.buf.eof() || (self.buf.view_exhausted() && !self.buf.at_chunk_end()))
    }

    /// The inner reader.
    ///
    /// ```
    /// let reader = intake::StreamReader::new(&b"abc"[..]);
    /// assert_eq!(*reader.get_ref(), b"abc");
    /// ```
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably. Reading from it directly skips the bytes
    /// buffered here.
    ///
    /// ```
    /// let mut reader = intake::StreamReader::new(&b"abc"[..]);
    /// *reader.get_mut() = &b"xyz"[..];
    /// assert_eq!(*reader.get_ref(), b"xyz");
    /// ```
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The pinned inner reader.
    ///
    /// ```
    /// let reader = intake::StreamReader::new(&b"abc"[..]);
    /// futures_lite::pin!(reader);
    /// assert_eq!(*reader.as_mut().get_pin_mut(), b"abc");
    /// ```
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().inner
    }

    /// Unwraps the reader: the inner reader and every unread byte (nothing
    /// is lost).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"head|tail"[..]);
    /// reader.read_until(b"|").await?;
    /// let (rest_of_source, buffered) = reader.into_parts();
    /// assert_eq!(&buffered[..], b"tail");
    /// assert!(rest_of_source.is_empty());
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn into_parts(mut self) -> (R, Bytes) {
        let rest = self.buf.take_all();
        (self.inner, rest)
    }

    /// Unwraps the reader, dropping any buffered bytes. Prefer
    /// [`into_parts`](Self::into_parts).
    ///
    /// ```
    /// let reader = intake::StreamReader::new(&b"abc"[..]);
    /// assert_eq!(reader.into_inner(), b"abc");
    /// ```
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: fmt::Debug> fmt::Debug for StreamReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("inner", &self.inner)
            .field("buffered", &self.buf.len())
            .field("capacity", &self.buf.capacity())
            .field("limit", &self.limit)
            .finish()
    }
}

/// When a long read gives the executor its thread back. On a
/// single-threaded executor without a cooperative budget (smol, async-std)
/// a 256 MiB read from a source that never runs dry would otherwise hold
/// the thread for its whole length. So once the reader has read
/// `YIELD_AFTER` bytes without a `Pending` from the source and without
/// handing out an item (a frame, a line, bytes read exactly), it looks at
/// the clock now and then (every quarter interval's worth of reads at the
/// rate so far, between 16 KiB and [`MAX_READ`]), and once
/// [`YIELD_INTERVAL`] has passed it wakes its task and returns `Pending`
/// (nothing is lost: progress lives in the reader). Operations that
/// return their item within `YIELD_AFTER` bytes never yield and never read
/// the clock; a copy or a skip, which consumes as it goes, is one long
/// operation.
///
/// Why per operation and by time, not every so many bytes: a yield is not
/// free when the same task also drives the other end of the stream (a
/// sender `zip`ped beside the reader, as in a proxy or a loopback test).
/// Stopping mid-frame with the socket still full upsets the TCP window, so
/// a stream of 1 MiB frames that yielded every 512 KiB ran at half speed
/// (the README has the figures). Frames like these complete well within
/// the interval and never yield; a timer beside a long read waits about
/// one interval past its deadline, plus the executor's own latency.
pub(crate) const YIELD_AFTER: usize = 64 << 10;

/// See [`YIELD_AFTER`].
pub(crate) const YIELD_INTERVAL: std::time::Duration = std::time::Duration::from_micros(500);

/// The most one read from the source may bring: a source with megabytes
/// ready (loopback TCP) copies no more than this between two looks at
/// the clock. Also the most a long read goes between two looks at the
/// clock (see [`YIELD_AFTER`]): about 15 µs at memory speed.
const MAX_READ: usize = 256 << 10;

/// At most [`MAX_READ`] bytes of `window`.
#[inline]
fn budgeted<T>(window: &mut [T]) -> &mut [T] {
    let n = window.len().min(MAX_READ);
    &mut window[..n]
}

/// Wakes the task and returns `Pending`: the executor runs others first.
#[cold]
fn yield_now<T>(cx: &mut Context<'_>) -> Poll<T> {
    cx.waker().wake_by_ref();
    Poll::Pending
}

/// Reads from `inner` into the buffer, toward what `fill` asks: the
/// buffer makes room as its policy says and hands out the window to read
/// into. One read, or for a frame still arriving (`Fill::Exactly`,
/// `Fill::Untrusted`) as many as the room made for it takes while the
/// source has bytes ready; `Ok(n)` counts them all. `Ok(0)` means end of
/// stream, which is remembered.
#[inline]
pub(crate) fn poll_fill<R: Source>(
    buf: &mut Buffer,
    inner: Pin<&mut R>,
    cx: &mut Context<'_>,
    fill: Fill,
) -> Poll<io::Result<usize>> {
    // The end of the bounded view being read, or of a chunk's data. (The
    // end of the stream is not remembered here: each call that needs bytes
    // asks the source, as every `BufReader` does, since a source may end
    // and later have more.)
    if buf.view_exhausted() {
        if buf.at_chunk_end() {
            return chunked::poll_next_chunk(buf, inner, cx, fill);
        }
        return Poll::Ready(Ok(0));
    }
    poll_fill_source(buf, inner, cx, fill)
}

/// The read of [`poll_fill`] from the source, within the view.
#[inline]
fn poll_fill_source<R: Source>(
    buf: &mut Buffer,
    mut inner: Pin<&mut R>,
    cx: &mut Context<'_>,
    fill: Fill,
) -> Poll<io::Result<usize>> {
    if buf.yield_due(YIELD_AFTER, MAX_READ, YIELD_INTERVAL) {
        return yield_now(cx);
    }
    if R::LENDS {
        return poll_fill_lent(buf, inner, cx, fill);
    }
    // futures-io: into initialized memory. tokio: straight into memory that
    // was never zeroed, or into a large frame's mapping, handed out as the
    // initialized memory it is.
    let (window, eof, room) = buf.prepare_read(fill, R::READS_UNINIT);
    let read = read_into(inner.as_mut(), cx, window, eof);
    match read {
        (Poll::Ready(Ok(0)), _) => {
            // An ended stream needs no buffer for what is not there.
            buf.release_if_empty();
            Poll::Ready(end_of_source(buf))
        }
        (Poll::Ready(Ok(n)), uninit) => {
            commit(buf, n, uninit);
            match buf.more_room(&room, n) {
                Some(_) if !buf.past_yield_gate(YIELD_AFTER) => {
                    poll_fill_more(buf, inner, cx, room, n)
                }
                _ => Poll::Ready(Ok(n)),
            }
        }
        (Poll::Pending, _) => {
            buf.waited();
            // An idle reader holds no buffer: with nothing unread, the
            // memory goes back until data arrives (10,000 idle connections
            // then cost their structs, not 10,000 buffers).
            buf.release_if_empty();
            Poll::Pending
        }
        (err, _) => err,
    }
}

/// A frame still arriving, after a first read of `read` bytes into the
/// `room` made for it: further reads go into that room, without handing
/// the bytes to the caller between them (who would look at the header
/// and ask the policy again each time), until the frame is there, the
/// source runs dry, the room is full or a long read reaches the yield
/// check. The caller sees the sum, as if one read had brought it. (Out
/// of line: searches, which read once a call, keep the short path.)
#[inline(never)]
fn poll_fill_more<R: Source>(
    buf: &mut Buffer,
    mut inner: Pin<&mut R>,
    cx: &mut Context<'_>,
    room: Room,
    mut read: usize,
) -> Poll<io::Result<usize>> {
    loop {
        let max = match buf.more_room(&room, read) {
            Some(max) if !buf.past_yield_gate(YIELD_AFTER) => max,
            _ => return Poll::Ready(Ok(read)),
        };
        let (window, eof) = buf.read_window(max, R::READS_UNINIT);
        match read_into(inner.as_mut(), cx, window, eof) {
            (Poll::Ready(Ok(0)), _) | (Poll::Pending, _) => {
                // The bytes before the end or the wait first: the next
                // call asks the source again, as after a single read.
                return Poll::Ready(Ok(read));
            }
            (Poll::Ready(Ok(n)), uninit) => {
                commit(buf, n, uninit);
                read += n;
            }
            // The bytes read stay buffered, as they would have after a
            // single read followed by a failing one.
            (Poll::Ready(Err(e)), _) => return Poll::Ready(Err(e)),
        }
    }
}

/// Records `n` bytes read into the window [`read_into`] was given.
#[inline(always)]
fn commit(buf: &mut Buffer, n: usize, uninit: bool) {
    if uninit {
        // SAFETY: `poll_read_uninit` returns `Ok(n)` only with the first
        // `n` bytes of the window initialized, and `n` within it; that
        // window was the last one the buffer handed out.
        unsafe { buf.commit_uninit(n) };
    } else {
        buf.commit(n);
    }
    buf.read_from_source(n);
}

/// One read from `inner` into `window`, and whether the window was
/// uninitialized memory (its bytes are committed with `commit_uninit`).
#[inline(always)]
fn read_into<R: Source>(
    inner: Pin<&mut R>,
    cx: &mut Context<'_>,
    window: Window<'_>,
    eof: &mut bool,
) -> (Poll<io::Result<usize>>, bool) {
    match window {
        Window::Init(window) => (
            checked_io::poll_read(inner, cx, budgeted(window), eof),
            false,
        ),
        Window::Uninit(window) => (
            checked_io::poll_read_uninit(inner, cx, budgeted(window), eof),
            true,
        ),
    }
}

/// [`poll_fill`] from a completion source (compio): the buffer lends its
/// free tail to the read, which owns it until the read completes, across
/// dropped futures (the source keeps the read in flight, and this takes up
/// its result on the next call). The same checks as `checked_io`'s.
#[inline]
fn poll_fill_lent<R: Source>(
    buf: &mut Buffer,
    mut inner: Pin<&mut R>,
    cx: &mut Context<'_>,
    fill: Fill,
) -> Poll<io::Result<usize>> {
    if buf.is_lent() && !inner.read_in_flight() {
        // The source was replaced (or its read dropped) with the tail lent:
        // that memory will not come back.
        buf.forget_lent();
    }
    for _ in 0..checked_io::INTERRUPTED_RETRIES {
        let (result, tail) = match inner.as_mut().poll_read_lent(cx, || {
            let (tail, max) = buf.lend(fill);
            (tail, budgeted_len(max))
        }) {
            Poll::Ready(done) => done,
            Poll::Pending => {
                buf.waited();
                return Poll::Pending;
            }
        };
        let Some(n) = buf.give_back(tail) else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "completion source returned memory other than the memory lent",
            )));
        };
        match result {
            Ok(0) => {
                *buf.eof_mut() = true;
                buf.release_if_empty();
                return Poll::Ready(end_of_source(buf));
            }
            Ok(_) => {
                *buf.eof_mut() = false;
                buf.read_from_source(n);
                return Poll::Ready(Ok(n));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
    yield_now(cx)
}

/// What a read that met the end of the source answers: the end of stream
/// (`Ok(0)`), or, inside a chunked body, which must end with its last
/// chunk, `UnexpectedEof`.
#[cold]
fn end_of_source(buf: &Buffer) -> io::Result<usize> {
    match buf.chunked() {
        Some(_) => Err(chunked::cut_short()),
        None => Ok(0),
    }
}

/// At most [`MAX_READ`] of `max` (as [`budgeted`], for a length).
#[inline]
fn budgeted_len(max: usize) -> usize {
    max.min(MAX_READ)
}

/// One read from `inner` straight into caller memory (bypassing the
/// buffer), with the same rules as [`poll_fill`]. `dst` must be non-empty.
pub(crate) fn poll_read_direct<R: Source>(
    buf: &mut Buffer,
    inner: Pin<&mut R>,
    cx: &mut Context<'_>,
    dst: &mut [u8],
) -> Poll<io::Result<usize>> {
    let cap = buf.direct_cap(dst.len());
    if cap == 0 {
        return Poll::Ready(Ok(0));
    }
    if buf.yield_due(YIELD_AFTER, MAX_READ, YIELD_INTERVAL) {
        return yield_now(cx);
    }
    let dst = budgeted(&mut dst[..cap]);
    let read = checked_io::poll_read(inner, cx, dst, buf.eof_mut());
    match read {
        Poll::Ready(Ok(0)) => return Poll::Ready(end_of_source(buf)),
        Poll::Ready(Ok(n)) => {
            // Handed straight to the caller: the stream moves on.
            buf.passed_through(n);
            buf.read_from_source(n);
        }
        Poll::Pending => buf.waited(),
        _ => {}
    }
    read
}
