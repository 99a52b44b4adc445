//! One intake read workload per run, for A/B comparisons between two
//! checkouts (`scripts/ab_harness.sh`): the intake calls of the frames and
//! lines benches (`benches/common`), from an in-memory source that gives at
//! most C bytes per read, and a loopback TCP transfer of 1 GiB in 1 MiB
//! frames with the sender in the same task (as `benches/tcp.rs`).
//!
//! `ab_harness WORKLOAD C` runs one workload (`REPS=n` times, printing the
//! best time); each `work_*` function is what callgrind counts
//! (`--toggle-collect='ab_harness::work_*'`). `ab_harness tcp 0` runs the
//! TCP transfer.
//!
//! Two aids for effects that depend on what ran before:
//! - `PRE=large,small` first runs those `read_frame` workloads (64 MiB and
//!   64 B frames, both C values, 5 times each), so that the heap and the
//!   kernel's page state have the history the criterion bench gives them;
//! - `COUNT=1` then runs the workload once more with every allocation
//!   counted by kind and size, and every source read by size and by its
//!   destination's address mod 4096, and prints the tallies: two builds
//!   that do the same work print the same lines.

use futures_lite::future::block_on;
use futures_lite::StreamExt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An in-memory source that gives at most `chunk` bytes per read.
struct Source<'a> {
    data: &'a [u8],
    chunk: usize,
}
impl futures_io::AsyncRead for Source<'_> {
    #[inline]
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let n = buf.len().min(self.chunk).min(self.data.len());
        if counting::ON.load(std::sync::atomic::Ordering::Relaxed) {
            counting::note_read(buf.as_ptr() as usize, buf.len(), n);
        }
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(n))
    }
}

// COUNT=1: one extra run with every allocation counted by kind and size.
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
    pub static ON: AtomicBool = AtomicBool::new(false);
    const N: usize = 256;
    // (kind * 2^48 + size) -> count, linear probing; 0 = empty.
    static KEYS: [AtomicUsize; N] = [const { AtomicUsize::new(0) }; N];
    static COUNTS: [AtomicUsize; N] = [const { AtomicUsize::new(0) }; N];
    fn note(kind: usize, size: usize) {
        if !ON.load(Relaxed) {
            return;
        }
        let key = (kind << 48) | size;
        let mut i = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) % N;
        loop {
            match KEYS[i].compare_exchange(0, key, Relaxed, Relaxed) {
                Ok(_) => break,
                Err(k) if k == key => break,
                Err(_) => i = (i + 1) % N,
            }
        }
        COUNTS[i].fetch_add(1, Relaxed);
    }
    pub fn note_read(at: usize, offered: usize, n: usize) {
        note(3, n);
        note(4, offered);
        note(5, at % 4096);
    }
    pub fn dump() {
        let mut v: Vec<(usize, usize, usize)> = (0..N)
            .filter(|&i| KEYS[i].load(Relaxed) != 0)
            .map(|i| {
                let k = KEYS[i].load(Relaxed);
                (k >> 48, k & ((1 << 48) - 1), COUNTS[i].load(Relaxed))
            })
            .collect();
        v.sort();
        for (kind, size, n) in v {
            let kind = ["alloc", "zeroed", "realloc", "read", "offered", "dst%4K"][kind];
            eprintln!("  {kind:7} {size:>10} x {n}");
        }
    }
    pub struct Counting;
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            note(0, l.size());
            unsafe { System.alloc(l) }
        }
        unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
            note(1, l.size());
            unsafe { System.alloc_zeroed(l) }
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
            note(2, n);
            unsafe { System.realloc(p, l, n) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            unsafe { System.dealloc(p, l) }
        }
    }
}
#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

fn source(data: &[u8], chunk: usize) -> Source<'_> {
    Source { data, chunk }
}

#[derive(Default, Debug, PartialEq, Clone, Copy)]
struct Check {
    frames: u64,
    bytes: u64,
    sample: u64,
}
impl Check {
    #[inline]
    fn add(&mut self, frame: &[u8]) {
        self.frames += 1;
        self.bytes += frame.len() as u64;
        if let (Some(&a), Some(&b)) = (frame.first(), frame.last()) {
            self.sample = self
                .sample
                .wrapping_mul(31)
                .wrapping_add(u64::from(a) << 8 | u64::from(b));
        }
    }
}

fn frames_input(size: usize, count: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity((size + 4) * count);
    for i in 0..count {
        v.extend_from_slice(&(size as u32).to_be_bytes());
        let start = v.len();
        v.resize(start + size, 0);
        v[start] = i as u8;
        v[start + size - 1] = (i >> 8) as u8;
    }
    v
}
fn lines_input(count: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(count * 101);
    for i in 0..count {
        let len = 90 + i % 21;
        v.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, len - 1));
        v.push(b'\n');
    }
    v
}

#[inline(never)]
fn work_read_frame(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let prefix = intake::LengthPrefix::new(4).max_frame_len(usize::MAX >> 1);
        let mut r = intake::StreamReader::new(source(input, chunk));
        let mut c = Check::default();
        while let Some(f) = r.read_frame(&prefix).await.unwrap() {
            c.add(&f);
        }
        c
    })
}
#[inline(never)]
fn work_read_frame_cap(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let prefix = intake::LengthPrefix::new(4).max_frame_len(usize::MAX >> 1);
        let mut r = intake::StreamReader::with_capacity(64 * 1024, source(input, chunk));
        let mut c = Check::default();
        while let Some(f) = r.read_frame(&prefix).await.unwrap() {
            c.add(&f);
        }
        c
    })
}
#[inline(never)]
fn work_read_exactly(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let mut r = intake::StreamReader::new(source(input, chunk));
        let mut c = Check::default();
        loop {
            let header = match r.read_exactly(4).await {
                Ok(h) => h,
                Err(intake::Error::UnexpectedEof { .. }) => break,
                Err(e) => panic!("{e}"),
            };
            let len = u32::from_be_bytes(header[..].try_into().unwrap()) as usize;
            c.add(&r.read_exactly(len).await.unwrap());
        }
        c
    })
}
#[inline(never)]
fn work_framed(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let prefix = intake::LengthPrefix::new(4).max_frame_len(usize::MAX >> 1);
        let mut s = intake::frame::FramedRead::new(source(input, chunk), prefix);
        let mut c = Check::default();
        while let Some(f) = s.next().await {
            c.add(&f.unwrap());
        }
        c
    })
}
#[inline(never)]
fn work_read_until(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let mut r = intake::StreamReader::new(source(input, chunk));
        let mut c = Check::default();
        while let Some(line) = r.read_until(b"\n").await.unwrap() {
            c.add(&line);
        }
        c
    })
}
#[inline(never)]
fn work_peek_until(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let mut r = intake::StreamReader::new(source(input, chunk));
        let mut c = Check::default();
        while let Some(line) = r.peek_until(b"\n").await.unwrap() {
            c.add(line);
            let used = line.len();
            r.consume(used);
        }
        c
    })
}

#[inline(never)]
fn work_tcp(frames: usize) -> u64 {
    use futures_lite::AsyncWriteExt;
    smol::block_on(async {
        let l = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let (c, s) =
            futures_lite::future::zip(smol::net::TcpStream::connect(addr), l.accept()).await;
        let mut c = c.unwrap();
        let s = s.unwrap().0;
        let send = async move {
            let mut frame = (1u32 << 20).to_be_bytes().to_vec();
            frame.resize(4 + (1 << 20), 0xAB);
            for _ in 0..frames {
                c.write_all(&frame).await.unwrap();
            }
            c.close().await.unwrap();
        };
        let recv = async move {
            let prefix = intake::LengthPrefix::new(4).max_frame_len(1 << 20);
            let mut r = intake::StreamReader::with_capacity(64 * 1024, s);
            let mut t = 0u64;
            while let Some(f) = r.read_frame(&prefix).await.unwrap() {
                t += f.len() as u64;
            }
            t
        };
        futures_lite::future::zip(send, recv).await.1
    })
}

fn main() {
    // Workloads: small-{read_frame,framed,read_exactly} (1M 64 B frames),
    // medium-{read_frame,framed,read_exactly} (4096 16 KiB frames),
    // large1m-read_frame (256 1 MiB frames, capacity 64 KiB),
    // lines-{read_until,peek_until} (1M lines of 90-110 bytes).
    if std::env::args().nth(1).as_deref() == Some("tcp") {
        let reps: usize = std::env::var("REPS")
            .ok()
            .map(|s| s.parse().unwrap())
            .unwrap_or(1);
        let mut best = f64::MAX;
        for _ in 0..reps {
            let s = std::time::Instant::now();
            let t = work_tcp(1024);
            assert_eq!(t, 1 << 30);
            best = best.min(s.elapsed().as_secs_f64());
        }
        eprintln!("tcp: best {:.2} ms", best * 1e3);
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    let which = args[1].as_str();
    let chunk: usize = args[2].parse().unwrap();
    let reps: usize = std::env::var("REPS")
        .ok()
        .map(|s| s.parse().unwrap())
        .unwrap_or(1);
    // PRE=small-read_frame (say) runs another workload first, as the
    // criterion bench does, so the heap has that history.
    if let Ok(pre) = std::env::var("PRE") {
        for pre in pre.split(',') {
            let (size, count) = match pre {
                "large" => (64 << 20, 4),
                _ => (64, 1_000_000),
            };
            let pre_input = frames_input(size, count);
            for c in [65536, 1500] {
                for _ in 0..5 {
                    match pre {
                        "small" | "large" => work_read_frame(&pre_input, c),
                        "small-framed" => work_framed(&pre_input, c),
                        _ => panic!("{pre}"),
                    };
                }
            }
        }
    }
    let (kind, input) = match which.split_once('-').map(|x| x.0).unwrap_or(which) {
        "small" => ("frames", frames_input(64, 1_000_000)),
        "medium" => ("frames", frames_input(16 * 1024, 4096)),
        "large1m" => ("frames", frames_input(1 << 20, 256)),
        _ => ("lines", lines_input(1_000_000)),
    };
    let _ = kind;
    let mut best = f64::MAX;
    let mut total = 0.0;
    let mut c = Check::default();
    for _ in 0..reps {
        let s = std::time::Instant::now();
        c = match which {
            "small-read_frame" | "medium-read_frame" => work_read_frame(&input, chunk),
            "small-read_exactly" | "medium-read_exactly" => work_read_exactly(&input, chunk),
            "small-framed" | "medium-framed" => work_framed(&input, chunk),
            "large1m-read_frame" => work_read_frame_cap(&input, chunk),
            "lines-read_until" => work_read_until(&input, chunk),
            "lines-peek_until" => work_peek_until(&input, chunk),
            _ => panic!("{which}"),
        };
        best = best.min(s.elapsed().as_secs_f64());
        total += s.elapsed().as_secs_f64();
    }
    eprintln!(
        "{which} C={chunk}: {c:?} best {:.2} ms mean {:.2} ms",
        best * 1e3,
        total * 1e3 / reps as f64
    );
    if std::env::var("COUNT").is_ok() {
        counting::ON.store(true, std::sync::atomic::Ordering::Relaxed);
        match which {
            "small-read_frame" | "medium-read_frame" => work_read_frame(&input, chunk),
            "small-framed" | "medium-framed" => work_framed(&input, chunk),
            _ => panic!("{which}"),
        };
        counting::ON.store(false, std::sync::atomic::Ordering::Relaxed);
        counting::dump();
    }
}
