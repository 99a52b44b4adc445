//! A `multipart/form-data` body parsed part by part, each part's bytes
//! streamed to a sink: intake's `copy_until` (with `read_until` for the
//! boundary line and the part headers) against `multer`, the multipart
//! parser under axum, fed by tokio-util's `ReaderStream` as a body stream
//! would be. Same socket-like source for both (at most C bytes per read,
//! C = 64 KiB and 1500). Prints each candidate's peak heap (counting
//! allocator) after the timings; every candidate's parts are checked
//! against the expected ones before it is timed.
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use common::source;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_lite::future::block_on;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        PEAK.fetch_max(LIVE.fetch_add(l.size(), Relaxed) + l.size(), Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_sub(l.size(), Relaxed);
        PEAK.fetch_max(LIVE.fetch_add(n, Relaxed) + n, Relaxed);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Peak live heap while `f` runs, above what was live before.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let out = f();
    (out, PEAK.load(Relaxed) - base)
}

/// A browser-style boundary (70 bytes on the wire with the leading
/// `\r\n--`, the longest RFC 2046 allows).
const BOUNDARY: &str = "----WebKitFormBoundaryIntakeBench0123456789abcdefghijklmnopqrstuv";

/// `count` file parts of `size` bytes each (bytes that never hold `\r`, so
/// no boundary can appear in them).
fn multipart_body(size: usize, count: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(count * (size + 200));
    for i in 0..count {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        body.extend_from_slice(
            format!(
                "Content-Disposition: form-data; name=\"file{i}\"; filename=\"f{i}.bin\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend((0..size).map(|k| b'a' + ((k * 7 + i) % 26) as u8));
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// What the sink received: the number of parts, all their bytes, and a
/// hash of each part's (length, byte sum), so that every byte is looked at
/// by every candidate alike. No heap: the peak heap is the candidate's own.
#[derive(Debug, Default, PartialEq, Eq)]
struct Parts {
    count: u64,
    bytes: u64,
    hash: u64,
    len: u64,
    sum: u64,
}

impl Parts {
    /// Closes the current part (if any) and opens the next.
    fn start(&mut self) {
        self.finish();
        self.count += 1;
    }
    /// Folds the current part into the hash.
    fn finish(&mut self) {
        self.hash = (self.hash ^ self.len).wrapping_mul(0x100_0000_01b3) ^ self.sum;
        (self.len, self.sum) = (0, 0);
    }
    #[inline]
    fn add(&mut self, bytes: &[u8]) {
        self.bytes += bytes.len() as u64;
        self.len += bytes.len() as u64;
        self.sum += bytes.iter().map(|&b| u64::from(b)).sum::<u64>();
    }
}

/// An `AsyncWrite` that feeds [`Parts`], taking everything it is given.
struct PartSink<'a>(&'a mut Parts);

impl futures_io::AsyncWrite for PartSink<'_> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.0.add(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

fn intake_copy_until(body: &[u8], chunk: Delivery) -> Parts {
    block_on(async {
        let mut r = intake::StreamReader::with_capacity(64 * 1024, chunk.source(body));
        let delim = format!("\r\n--{BOUNDARY}");
        let mut parts = Parts::default();
        // The first boundary line, then per part: headers, body, and what
        // follows the boundary ("\r\n" for another part, "--" at the end).
        // Lines are looked at in place (`peek_until`) and consumed, as a
        // parser that keeps nothing of them would: a `Bytes` kept from
        // `read_until` would pin the buffer it was split from.
        let first = r.peek_until(b"\r\n").await.unwrap().unwrap();
        assert_eq!(&first[2..first.len() - 2], BOUNDARY.as_bytes());
        let n = first.len();
        r.consume(n);
        loop {
            let headers = r.peek_until(b"\r\n\r\n").await.unwrap().unwrap();
            assert!(headers.starts_with(b"Content-Disposition: form-data;"));
            let n = headers.len();
            r.consume(n);
            parts.start();
            r.copy_until(delim.as_bytes(), &mut PartSink(&mut parts))
                .await
                .unwrap()
                .unwrap();
            if &r.read_exactly(2).await.unwrap()[..] == b"--" {
                break;
            }
        }
        parts.finish();
        parts
    })
}

fn multer_reader_stream(body: &[u8], chunk: Delivery) -> Parts {
    let src = chunk.source(body);
    block_on(async move {
        use tokio_util::compat::FuturesAsyncReadCompatExt;
        let stream = tokio_util::io::ReaderStream::with_capacity(src.compat(), chunk.max);
        let mut multipart = multer::Multipart::new(stream, BOUNDARY);
        let mut parts = Parts::default();
        while let Some(mut field) = multipart.next_field().await.unwrap() {
            parts.start();
            while let Some(bytes) = field.chunk().await.unwrap() {
                parts.add(&bytes);
            }
        }
        parts.finish();
        parts
    })
}

/// How the source delivers: at most `max` bytes per read, and `Pending`
/// (after waking) before every read if `pending`, as a busy socket would.
#[derive(Clone, Copy)]
struct Delivery {
    max: usize,
    pending: bool,
}

const DELIVERIES: [Delivery; 3] = [
    Delivery {
        max: 64 * 1024,
        pending: false,
    },
    Delivery {
        max: 1500,
        pending: false,
    },
    Delivery {
        max: 64 * 1024,
        pending: true,
    },
];

impl std::fmt::Display for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pending = if self.pending { " Pending" } else { "" };
        write!(f, "C={}{pending}", self.max)
    }
}

impl Delivery {
    fn source(self, body: &[u8]) -> Bursty<'_> {
        Bursty {
            inner: source(body, self.max),
            pending: self.pending,
            ready: false,
        }
    }
}

/// The bench source, returning `Pending` between reads in its busy variant.
struct Bursty<'a> {
    inner: common::Source<'a>,
    pending: bool,
    ready: bool,
}

impl futures_io::AsyncRead for Bursty<'_> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.pending {
            self.ready = !self.ready;
            if !self.ready {
                cx.waker().wake_by_ref();
                return std::task::Poll::Pending;
            }
        }
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

type Candidate = (&'static str, fn(&[u8], Delivery) -> Parts);

const CANDIDATES: &[Candidate] = &[
    ("intake copy_until", intake_copy_until),
    ("multer (ReaderStream)", multer_reader_stream),
];

fn bench(c: &mut Criterion) {
    let mut peaks = Vec::new();
    for (name, size, count) in [
        ("4 x 16 MiB parts", 16 << 20, 4),
        ("10k x 1 KiB parts", 1024, 10_000),
    ] {
        let body = multipart_body(size, count);
        for chunk in DELIVERIES {
            let mut g = c.benchmark_group(format!("multipart {name} {chunk}"));
            g.throughput(Throughput::Bytes(body.len() as u64));
            g.sample_size(10)
                .warm_up_time(Duration::from_millis(300))
                .measurement_time(Duration::from_secs(2));
            let (expected, _) = peak_of(|| intake_copy_until(&body, chunk));
            assert_eq!(expected.count, count as u64);
            assert_eq!(expected.bytes, (count * size) as u64);
            for &(candidate, run) in CANDIDATES {
                let (parts, peak) = peak_of(|| run(&body, chunk));
                assert!(parts == expected, "{candidate} produced other parts");
                peaks.push(format!(
                    "| {name} {chunk} | {candidate} | {:.1} KiB |",
                    peak as f64 / 1024.0
                ));
                g.bench_function(candidate, |b| b.iter(|| run(&body, chunk)));
            }
            g.finish();
        }
    }
    println!("\n| multipart workload | candidate | peak heap |\n|---|---|---|");
    for row in peaks {
        println!("{row}");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
