//! A 256 MiB body over loopback TCP (smol), read into caller memory with a
//! 1 ms timeout around each attempt, as a server with a per-read deadline
//! does. Measures the time, the cancellations and the heap held beyond the
//! caller's buffer (a counting allocator), next to the same read with no
//! timeout. Prints a table and writes `target/bench-timeouts.json`.
//!
//! `read_exact_into` must copy what a cancelled attempt wrote back into the
//! reader; `read_exact_into_resumable` leaves it in the caller's buffer.
//! futures-lite's `read_exact` appears only without a timeout: cancelled, it
//! loses the bytes it read, so it cannot be used this way at all.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use futures_lite::future;
use futures_lite::{AsyncReadExt, AsyncWriteExt};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(l.size(), Relaxed) + l.size();
        PEAK.fetch_max(now, Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_sub(l.size(), Relaxed);
        let now = LIVE.fetch_add(n, Relaxed) + n;
        PEAK.fetch_max(now, Relaxed);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static A: Counting = Counting;

const BODY: usize = 256 << 20;
const TIMEOUT: Duration = Duration::from_millis(1);
const RUNS: usize = 5;

const CANDIDATES: &[&str] = &[
    "intake read_exact_into, no timeout",
    "futures-lite read_exact, no timeout",
    "intake read_exact_into, 1 ms timeout",
    "intake read_exact_into_resumable, 1 ms timeout",
];

/// `attempt` under a 1 ms timer: `None` if the timer fired first (the
/// attempt is dropped).
async fn with_timeout<T>(attempt: impl std::future::Future<Output = T>) -> Option<T> {
    future::or(async { Some(attempt.await) }, async {
        smol::Timer::after(TIMEOUT).await;
        None
    })
    .await
}

/// Receives the body with `candidate`; returns the cancellations.
async fn receive(candidate: &str, sock: smol::net::TcpStream, body: &mut [u8]) -> usize {
    let mut cancels = 0;
    match candidate {
        "intake read_exact_into, no timeout" => {
            let mut r = intake::StreamReader::with_capacity(64 * 1024, sock);
            r.read_exact_into(body).await.unwrap();
        }
        "futures-lite read_exact, no timeout" => {
            let mut r = futures_lite::io::BufReader::with_capacity(64 * 1024, sock);
            r.read_exact(body).await.unwrap();
        }
        "intake read_exact_into, 1 ms timeout" => {
            let mut r = intake::StreamReader::with_capacity(64 * 1024, sock);
            while with_timeout(r.read_exact_into(body)).await.is_none() {
                cancels += 1;
            }
        }
        "intake read_exact_into_resumable, 1 ms timeout" => {
            let mut r = intake::StreamReader::with_capacity(64 * 1024, sock);
            let mut filled = 0;
            while with_timeout(r.read_exact_into_resumable(body, &mut filled))
                .await
                .is_none()
            {
                cancels += 1;
            }
        }
        other => unreachable!("{other}"),
    }
    cancels
}

struct Run {
    secs: f64,
    cancels: usize,
    peak: usize,
}

fn run(candidate: &str, body: &mut [u8], sent: &[u8]) -> Run {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            smol::block_on(async {
                let mut c = smol::net::TcpStream::connect(addr).await.unwrap();
                c.write_all(sent).await.unwrap();
                c.close().await.unwrap();
            })
        });
        let (sock, _) = l.accept().unwrap();
        let sock = smol::net::TcpStream::try_from(sock).unwrap();
        body.fill(0);
        let base = LIVE.load(Relaxed);
        PEAK.store(base, Relaxed);
        let start = Instant::now();
        let cancels = smol::block_on(receive(candidate, sock, body));
        let secs = start.elapsed().as_secs_f64();
        let peak = PEAK.load(Relaxed) - base;
        assert!(body == sent, "{candidate}: the body arrived intact");
        Run {
            secs,
            cancels,
            peak,
        }
    })
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("timeouts: bench");
        return;
    }
    let sent: Vec<u8> = (0..BODY).map(|i| (i * 7 + i / 4096) as u8).collect();
    let mut body = vec![0u8; BODY];
    println!("256 MiB body over loopback TCP (smol), 64 KiB reader capacity, median of {RUNS}");
    println!(
        "{:<50} {:>9} {:>9} {:>12} {:>16}",
        "candidate", "time", "GB/s", "cancels", "heap beyond dst"
    );
    let mut rows = Vec::new();
    for &candidate in CANDIDATES {
        let mut runs: Vec<Run> = (0..RUNS)
            .map(|_| run(candidate, &mut body, &sent))
            .collect();
        runs.sort_by(|a, b| a.secs.total_cmp(&b.secs));
        let mid = &runs[RUNS / 2];
        let peak = runs.iter().map(|r| r.peak).max().unwrap();
        let (lo, hi) = (
            runs.iter().map(|r| r.cancels).min().unwrap(),
            runs.iter().map(|r| r.cancels).max().unwrap(),
        );
        println!(
            "{:<50} {:>7.0}ms {:>9.2} {:>12} {:>12.1} MiB",
            candidate,
            mid.secs * 1e3,
            BODY as f64 / mid.secs / 1e9,
            format!("{lo}-{hi}"),
            peak as f64 / (1 << 20) as f64
        );
        rows.push(format!(
            "{{\"candidate\":\"{candidate}\",\"median_s\":{:.4},\"cancels_min\":{lo},\"cancels_max\":{hi},\"peak_bytes\":{peak}}}",
            mid.secs
        ));
    }
    let json = format!("[{}]\n", rows.join(","));
    std::fs::write("../target/bench-timeouts.json", json).unwrap();
}
