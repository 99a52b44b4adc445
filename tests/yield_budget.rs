//! When a read gives the executor its thread back on its own (a source that
//! is never `Pending` cannot make it wait): only an operation that goes on
//! reading, never one that completes quickly. Polled by hand with a waker
//! that counts, so the yields are counted exactly: each is a `Pending` that
//! the reader woke itself.
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures_io::AsyncRead;
use intake::{LengthPrefix, StreamReader};

struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// An in-memory source that is never `Pending` and gives at most `chunk`
/// bytes per read, sleeping `pause` before each (a slow machine).
struct Endless {
    data: Vec<u8>,
    at: usize,
    chunk: usize,
    pause: Duration,
}

impl AsyncRead for Endless {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if !self.pause.is_zero() {
            std::thread::sleep(self.pause);
        }
        let n = buf.len().min(self.chunk).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Poll::Ready(Ok(n))
    }
}

fn frames(size: usize, count: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity((4 + size) * count);
    for i in 0..count {
        v.extend_from_slice(&(size as u32).to_be_bytes());
        // `vec!` of a byte is one memset; Miri runs a `repeat` byte by byte.
        v.extend_from_slice(&vec![i as u8; size]);
    }
    v
}

/// Reads every frame of `src`, polling by hand; returns the frames' total
/// length and how many times the read returned `Pending` (each one woken
/// by the reader itself, since the source never waits).
fn read_all(src: Endless, max_frame: usize) -> (usize, usize) {
    let waker_state = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(waker_state.clone());
    let mut cx = Context::from_waker(&waker);
    let prefix = LengthPrefix::new(4).max_frame_len(max_frame);
    let mut reader = StreamReader::with_capacity(64 << 10, src);
    let (mut total, mut pendings) = (0, 0);
    loop {
        let mut read = reader.read_frame(&prefix);
        match Pin::new(&mut read).poll(&mut cx) {
            Poll::Ready(Ok(Some(frame))) => total += frame.len(),
            Poll::Ready(Ok(None)) => break,
            Poll::Ready(Err(e)) => panic!("{e}"),
            Poll::Pending => pendings += 1,
        }
    }
    let woken = waker_state.0.load(Ordering::Relaxed);
    assert_eq!(woken, pendings, "every Pending was a yield the reader woke");
    (total, pendings)
}

#[test]
fn frames_that_complete_quickly_never_yield() {
    // 4 MiB (640 KiB under Miri) of 32 KiB frames from a source that is
    // never Pending: before, the reader yielded every 512 KiB read, however
    // many frames had completed meanwhile (8 yields here, 1 under Miri); a
    // yield mid-stream is not free when the same task also drives the
    // sender.
    let size = 32 << 10;
    let count = if cfg!(miri) { 20 } else { 128 };
    let src = Endless {
        data: frames(size, count),
        at: 0,
        chunk: 64 << 10,
        pause: Duration::ZERO,
    };
    let (total, yields) = read_all(src, size);
    assert_eq!(total, size * count);
    assert_eq!(yields, 0, "no operation went on long enough to yield");
}

#[test]
fn a_long_read_yields_even_when_the_source_never_waits() {
    // One 1 MiB frame (256 KiB under Miri) in 64 KiB reads, each taking
    // 1 ms: the operation goes on for about 16 ms (4 ms), so it gives the
    // thread back many times (at least once).
    let size = if cfg!(miri) { 256 << 10 } else { 1 << 20 };
    let at_least = if cfg!(miri) { 1 } else { 4 };
    let src = Endless {
        data: frames(size, 1),
        at: 0,
        chunk: 64 << 10,
        pause: Duration::from_millis(1),
    };
    let (total, yields) = read_all(src, size);
    assert_eq!(total, size);
    assert!(
        yields >= at_least,
        "a long read yielded only {yields} times"
    );
}

#[test]
fn a_long_copy_yields_though_it_consumes_as_it_goes() {
    // `copy_exact` of 1 MiB (256 KiB under Miri) in 64 KiB reads of 1 ms
    // each into a sink that is never Pending: one long operation, though
    // every read's bytes are consumed as they are copied. Counting only
    // what is handed out as an item (not every consumption) as the end of
    // an operation is what keeps it yielding.
    let size: usize = if cfg!(miri) { 256 << 10 } else { 1 << 20 };
    let at_least = if cfg!(miri) { 1 } else { 4 };
    let src = Endless {
        data: vec![7; size],
        at: 0,
        chunk: 64 << 10,
        pause: Duration::from_millis(1),
    };
    let waker_state = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(waker_state.clone());
    let mut cx = Context::from_waker(&waker);
    let mut reader = StreamReader::with_capacity(64 << 10, src);
    let mut sink = futures_lite::io::Cursor::new(Vec::new());
    let mut yields = 0;
    // One future polled to the end: a copy keeps its progress in it.
    let mut copy = reader.copy_exact(size as u64, &mut sink);
    loop {
        match Pin::new(&mut copy).poll(&mut cx) {
            Poll::Ready(result) => {
                result.unwrap();
                break;
            }
            Poll::Pending => yields += 1,
        }
    }
    assert_eq!(sink.get_ref().len(), size);
    assert_eq!(waker_state.0.load(Ordering::Relaxed), yields);
    assert!(
        yields >= at_least,
        "a long copy yielded only {yields} times"
    );
}
