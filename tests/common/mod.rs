//! The adversarial test kit (see docs/reliability.md), shared by every
//! integration test file.
#![allow(dead_code, unreachable_pub)]

#[path = "pairs.rs"]
mod pairs;
pub mod wrapped;
#[allow(unused_imports)] // not every binary sharing this kit uses both
pub use pairs::{async_std_pair, smol_pair};

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// One step of a [`ScriptedReader`].
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Deliver these bytes (over as many reads as the slices require).
    Data(Vec<u8>),
    /// Return `Pending` once, after waking the task.
    Pending,
    /// Return an error of this kind once.
    Err(io::ErrorKind),
    /// Report end of stream once. Steps after it play on (a source that
    /// ends and later has more); after the last step, every read reports
    /// end of stream again.
    Eof,
}

/// A reader that plays a script. It panics if handed an empty slice, so
/// tests prove the reader never does that. Read after its script, it
/// reports end of stream again and counts the read (`reads_after_end`), so
/// tests can prove nothing spins on an ended source.
#[derive(Debug)]
pub struct ScriptedReader {
    steps: VecDeque<Step>,
    pub reads: usize,
    /// Reads after the script ran out (each answered with end of stream).
    pub reads_after_end: usize,
}

impl ScriptedReader {
    pub fn new(steps: impl IntoIterator<Item = Step>) -> Self {
        ScriptedReader {
            steps: steps.into_iter().collect(),
            reads: 0,
            reads_after_end: 0,
        }
    }

    /// `data` cut into pieces of `chunk` bytes, with `Pending` between every
    /// piece if `pending`, then `Eof`.
    pub fn chunked(data: &[u8], chunk: usize, pending: bool) -> Self {
        Self::new(chunked_steps(data, chunk, pending))
    }

    /// `data` cut at the given offsets (ascending), then `Eof`.
    pub fn split_at(data: &[u8], cuts: &[usize], pending: bool) -> Self {
        let mut steps = Vec::new();
        let mut last = 0;
        for &c in cuts.iter().chain(std::iter::once(&data.len())) {
            let c = c.clamp(last, data.len());
            if c > last {
                if pending {
                    steps.push(Step::Pending);
                }
                steps.push(Step::Data(data[last..c].to_vec()));
            }
            last = c;
        }
        steps.push(Step::Eof);
        Self::new(steps)
    }

    /// Whether the whole script was played.
    pub fn finished(&self) -> bool {
        self.steps.is_empty()
    }
}

pub fn chunked_steps(data: &[u8], chunk: usize, pending: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        if pending {
            steps.push(Step::Pending);
        }
        steps.push(Step::Data(piece.to_vec()));
    }
    steps.push(Step::Eof);
    steps
}

impl AsyncRead for ScriptedReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        assert!(!buf.is_empty(), "reader was handed an empty slice");
        self.reads += 1;
        match self.steps.pop_front() {
            None => {
                self.reads_after_end += 1;
                Poll::Ready(Ok(0))
            }
            Some(Step::Eof) => Poll::Ready(Ok(0)),
            Some(Step::Pending) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some(Step::Err(kind)) => Poll::Ready(Err(io::Error::new(kind, "scripted error"))),
            Some(Step::Data(mut d)) => {
                let n = d.len().min(buf.len());
                buf[..n].copy_from_slice(&d[..n]);
                if n < d.len() {
                    self.steps.push_front(Step::Data(d.split_off(n)));
                }
                Poll::Ready(Ok(n))
            }
        }
    }
}

/// A reader that claims to have read more bytes than the slice holds.
#[derive(Debug)]
pub struct LyingReader;

impl AsyncRead for LyingReader {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len() + 1))
    }
}

/// A reader that is never ready and counts its polls.
#[derive(Debug, Default)]
pub struct NeverReady {
    pub polls: usize,
}

impl AsyncRead for NeverReady {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        assert!(!buf.is_empty());
        self.polls += 1;
        Poll::Pending
    }
}

/// A writer that accepts at most `max` bytes per call, returning `Pending`
/// before every write if `pending`, and records everything.
#[derive(Debug, Default)]
pub struct SlowWriter {
    pub data: Vec<u8>,
    pub max: usize,
    pub pending: bool,
    flip: bool,
    pub writes: usize,
    pub flushes: usize,
    pub closes: usize,
    /// Once this many bytes are written, every write fails with
    /// `ConnectionReset` (a peer gone mid-transfer).
    pub fail_after: Option<usize>,
}

impl SlowWriter {
    pub fn new(max: usize, pending: bool) -> Self {
        SlowWriter {
            max,
            pending,
            ..Default::default()
        }
    }

    /// The same writer, failing once `n` bytes are written.
    pub fn failing_after(mut self, n: usize) -> Self {
        self.fail_after = Some(n);
        self
    }
}

impl AsyncWrite for SlowWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.pending {
            self.flip = !self.flip;
            if self.flip {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        self.writes += 1;
        let mut n = buf.len().min(self.max);
        if let Some(limit) = self.fail_after {
            if self.data.len() >= limit {
                return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
            }
            n = n.min(limit - self.data.len());
        }
        self.data.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }
    fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.flushes += 1;
        Poll::Ready(Ok(()))
    }
    fn poll_close(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.closes += 1;
        Poll::Ready(Ok(()))
    }
}

/// A writer around a socket that counts the write calls answered `Pending`
/// (on a real socket, each one a system call that failed with `EAGAIN`),
/// through futures-io's traits or tokio's, whichever `W` has.
pub struct CountingBusy<W> {
    pub inner: W,
    pub busy: usize,
}

impl<W> CountingBusy<W> {
    pub fn new(inner: W) -> Self {
        CountingBusy { inner, busy: 0 }
    }

    fn count<T>(&mut self, r: Poll<T>) -> Poll<T> {
        self.busy += usize::from(r.is_pending());
        r
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for CountingBusy<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.count(r)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.count(r)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

#[cfg(feature = "tokio")]
impl<W: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for CountingBusy<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.count(r)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.count(r)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Polls `fut` at most `k` times with a waker that does nothing; returns
/// its output if it completed, otherwise drops it (a cancellation).
pub fn poll_at_most<F: Future + Unpin>(mut fut: F, k: usize) -> Option<F::Output> {
    let waker = futures_test::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    for _ in 0..k {
        if let Poll::Ready(v) = Pin::new(&mut fut).poll(&mut cx) {
            return Some(v);
        }
    }
    None
}

/// Runs the same async test on smol's and on async-std's executor, and,
/// with the `tokio` feature, on tokio's current-thread and multi-thread
/// runtimes too. Under Miri, which cannot run their reactors
/// (`timerfd_create`), it runs once on futures-lite's `block_on` (the
/// current thread, parked between polls).
pub fn on_both_runtimes<F, Fut>(test: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    #[cfg(not(miri))]
    {
        smol::block_on(test());
        async_std::task::block_on(test());
        #[cfg(feature = "tokio")]
        for runtime in tokio_runtimes() {
            runtime.block_on(test());
        }
        #[cfg(feature = "compio")]
        compio_runtime().block_on(test());
    }
    #[cfg(miri)]
    futures_lite::future::block_on(test());
}

/// tokio's current-thread and multi-thread runtimes, with their reactors
/// and timers.
#[cfg(feature = "tokio")]
pub fn tokio_runtimes() -> [tokio::runtime::Runtime; 2] {
    [
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    ]
}

/// compio's runtime on its io_uring driver, or on its polling driver when
/// `INTAKE_COMPIO_DRIVER=polling` (what containers whose seccomp profile
/// blocks io_uring get): CI runs the tests both ways.
#[cfg(feature = "compio")]
pub fn compio_runtime() -> compio::runtime::Runtime {
    use compio::driver::{DriverType, ProactorBuilder};
    let mut proactor = ProactorBuilder::new();
    match std::env::var("INTAKE_COMPIO_DRIVER").as_deref() {
        Ok("polling") => proactor.driver_type(DriverType::Poll),
        Ok("io-uring") | Err(_) => proactor.driver_type(DriverType::IoUring),
        Ok(other) => panic!("INTAKE_COMPIO_DRIVER={other}: io-uring or polling"),
    };
    let rt = compio::runtime::Runtime::builder()
        .with_proactor(proactor)
        .build()
        .expect("compio runtime");
    let want = match std::env::var("INTAKE_COMPIO_DRIVER").as_deref() {
        Ok("polling") => DriverType::Poll,
        _ => DriverType::IoUring,
    };
    assert_eq!(
        rt.driver_type(),
        want,
        "compio runs on the driver asked for"
    );
    rt
}

/// A futures-io reader or writer of this kit seen through compio's
/// owned-buffer I/O traits, so that `intake::CompioIo::new(AsCompio(kit))`
/// drives the same scripted behaviour through the completion path (lent
/// memory, operations that outlive dropped futures).
#[cfg(feature = "compio")]
#[derive(Debug)]
pub struct AsCompio<T>(pub T);

#[cfg(feature = "compio")]
impl<T: AsyncRead + Unpin> compio::io::AsyncRead for AsCompio<T> {
    async fn read<B: compio::buf::IoBufMut>(&mut self, mut buf: B) -> compio::BufResult<usize, B> {
        // As the kernel does: only the `n` bytes read are written, into
        // memory that may be uninitialized, at the buffer's start.
        let mut scratch = vec![0u8; buf.as_uninit().len()];
        let got =
            futures_lite::future::poll_fn(|cx| Pin::new(&mut self.0).poll_read(cx, &mut scratch))
                .await;
        match got {
            Ok(n) => {
                for (dst, src) in buf.as_uninit().iter_mut().zip(&scratch[..n]) {
                    dst.write(*src);
                }
                // SAFETY: the first `n` bytes were written just above.
                unsafe { compio::buf::SetLen::set_len(&mut buf, n) };
                compio::BufResult(Ok(n), buf)
            }
            Err(e) => compio::BufResult(Err(e), buf),
        }
    }
}

#[cfg(feature = "compio")]
impl<T: AsyncWrite + Unpin> compio::io::AsyncWrite for AsCompio<T> {
    async fn write<B: compio::buf::IoBuf>(&mut self, buf: B) -> compio::BufResult<usize, B> {
        let got =
            futures_lite::future::poll_fn(|cx| Pin::new(&mut self.0).poll_write(cx, buf.as_init()))
                .await;
        compio::BufResult(got, buf)
    }
    async fn flush(&mut self) -> io::Result<()> {
        futures_lite::future::poll_fn(|cx| Pin::new(&mut self.0).poll_flush(cx)).await
    }
    async fn shutdown(&mut self) -> io::Result<()> {
        futures_lite::future::poll_fn(|cx| Pin::new(&mut self.0).poll_close(cx)).await
    }
}

/// A kit reader or writer behind `intake::CompioIo`: the completion path.
#[cfg(feature = "compio")]
pub fn via_compio<T: 'static>(io: T) -> intake::CompioIo<AsCompio<T>> {
    intake::CompioIo::new(AsCompio(io))
}

/// A futures-io reader or writer of this kit seen through tokio's I/O
/// traits, so that `intake::TokioIo::new(AsTokio(kit_reader))` drives the
/// same scripted behaviour through the tokio path (`ReadBuf`,
/// `poll_shutdown`).
#[cfg(feature = "tokio")]
#[derive(Debug)]
pub struct AsTokio<T>(pub T);

#[cfg(feature = "tokio")]
impl<T: AsyncRead + Unpin> tokio::io::AsyncRead for AsTokio<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // As a socket does: only the `n` bytes read are written into the
        // `ReadBuf`, whose memory may be uninitialized (so Miri would see
        // the reader use a byte no source wrote).
        let mut scratch = vec![0u8; buf.remaining()];
        let n = std::task::ready!(Pin::new(&mut self.0).poll_read(cx, &mut scratch))?;
        buf.put_slice(&scratch[..n]);
        Poll::Ready(Ok(()))
    }
}

#[cfg(feature = "tokio")]
impl<T: AsyncWrite + Unpin> tokio::io::AsyncWrite for AsTokio<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

/// A kit reader or writer behind `intake::TokioIo`: the tokio path.
#[cfg(feature = "tokio")]
pub fn via_tokio<T>(io: T) -> intake::TokioIo<AsTokio<T>> {
    intake::TokioIo::new(AsTokio(io))
}

/// `smol::block_on`, or futures-lite's under Miri (see [`on_both_runtimes`]).
pub fn smol_block_on<T>(fut: impl Future<Output = T>) -> T {
    #[cfg(not(miri))]
    let block_on = smol::block_on;
    #[cfg(miri)]
    let block_on = futures_lite::future::block_on;
    block_on(fut)
}

/// `async_std::task::block_on`, or futures-lite's under Miri.
pub fn async_std_block_on<T>(fut: impl Future<Output = T>) -> T {
    #[cfg(not(miri))]
    let block_on = async_std::task::block_on;
    #[cfg(miri)]
    let block_on = futures_lite::future::block_on;
    block_on(fut)
}

/// `normal`, or `under_miri` when the test runs under Miri (an interpreter,
/// thousands of times slower): for sizes and counts of long cases only.
pub const fn miri_or(normal: usize, under_miri: usize) -> usize {
    if cfg!(miri) {
        under_miri
    } else {
        normal
    }
}

/// The offsets `0..end` at which a test cuts its input: every one
/// natively; under Miri every fourth one and the last, since there each
/// offset costs a whole reader's run (about a second each on a slow
/// machine) and Miri looks for undefined behaviour, which the offsets
/// kept reach as well.
pub fn cuts(end: usize) -> impl Iterator<Item = usize> {
    (0..end).filter(move |&cut| !cfg!(miri) || cut % 4 == 0 || cut + 1 == end)
}

/// Reads a frame that can never complete until `want` bytes are buffered:
/// each `read_frame` is cancelled by a `timer` (cancel-safe: the bytes stay
/// buffered) and tried again, so this returns once all that was sent
/// arrived and the peer stalls (the RSS tests). Not under Miri (timers).
pub async fn read_until_stalled<S: AsyncRead + Unpin>(
    r: &mut intake::StreamReader<S>,
    prefix: &intake::LengthPrefix,
    want: usize,
    timer: std::time::Duration,
) {
    while r.buffer().len() < want {
        let timed_out =
            futures_lite::future::or(async { r.read_frame(prefix).await.map(|_| false) }, async {
                smol::Timer::after(timer).await;
                Ok(true)
            })
            .await
            .expect("no error while stalled");
        assert!(timed_out, "the frame can never complete");
    }
}

/// This process's resident memory in bytes (Linux, from /proc).
pub fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// A deterministic pseudo-random byte pattern. Under Miri, where each
/// generated byte costs about 0.1 ms, only the first 4093 bytes (a prime, so
/// the repeats do not line up with buffer sizes) are generated and then
/// repeated by copying.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut v: Vec<u8> = (0..miri_or(len, len.min(4093)))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    while v.len() < len {
        // Only under Miri: one copy per doubling.
        v.extend_from_within(..v.len().min(len - v.len()));
    }
    v
}

/// The ways of delivering the same input that every test runs through:
/// all at once, 1 byte per read, 1 byte with `Pending` between, and small
/// odd-sized chunks with `Pending`.
///
/// Under Miri, where every read costs milliseconds, inputs over 64 bytes skip
/// the two byte-at-a-time deliveries, shorter ones skip "1 byte" (the same
/// reads as "1 byte + pending", without the `Pending`s), and all skip
/// "7 bytes" (the paths of "3 bytes + pending", without the `Pending`s).
pub fn deliveries(data: &[u8]) -> Vec<(String, ScriptedReader)> {
    let ways = [
        ("one read", data.len().max(1), false),
        ("1 byte", 1, false),
        ("1 byte + pending", 1, true),
        ("3 bytes + pending", 3, true),
        ("7 bytes", 7, false),
    ];
    ways.into_iter()
        .filter(|&(how, chunk, pending)| {
            !cfg!(miri) || (chunk > 1 && how != "7 bytes") || (pending && data.len() <= 64)
        })
        .map(|(how, chunk, pending)| (how.into(), ScriptedReader::chunked(data, chunk, pending)))
        .collect()
}
