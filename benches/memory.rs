//! Peak live heap and allocations per frame of every candidate on every
//! workload, measured with a counting global allocator (C = 64 KiB and 1500).
//! Prints a table and writes `target/bench-memory.json` for
//! `scripts/bench_report.py`.
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use common::*;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static COUNT: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = LIVE.fetch_add(n, Relaxed) + n;
    PEAK.fetch_max(now, Relaxed);
    COUNT.fetch_add(1, Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        grew(l.size());
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        grew(l.size());
        System.alloc_zeroed(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_sub(l.size(), Relaxed);
        grew(n);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Runs `f`, returning (peak live bytes above the start, allocations).
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    // Memory intake maps for large frames (Linux) counts too: a map is an
    // allocation, a growth a reallocation.
    intake::observe_mappings(|old, new| {
        LIVE.fetch_sub(old, Relaxed);
        if new != 0 {
            grew(new);
        }
    });
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    COUNT.store(0, Relaxed);
    let out = f();
    (out, PEAK.load(Relaxed) - base, COUNT.load(Relaxed))
}

fn human(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

fn main() {
    let mut json = Vec::new();
    let mut row = |group: &str, candidate: &str, peak: usize, allocs: usize, units: usize| {
        let per = allocs as f64 / units as f64;
        println!("| {group} | {candidate} | {} | {per:.3} |", human(peak));
        json.push(format!(
            "{{\"group\":\"{group}\",\"candidate\":\"{candidate}\",\"peak_bytes\":{peak},\"allocs_per_unit\":{per}}}"
        ));
    };
    println!("| workload | candidate | peak heap | allocations per frame |");
    println!("|---|---|---|---|");
    for &(name, size, count) in &[
        ("large 64MiB", 64usize << 20, 4usize),
        ("small 64B", 64, 1_000_000),
        ("medium 16KiB", 16 << 10, 4096),
    ] {
        let input = frames_input(size, count);
        let expected = frames_memcpy(&input, 0);
        for chunk in [64 * 1024, 1500] {
            let group = format!("frames {name} C={chunk}");
            for &(candidate, run) in FRAME_CANDIDATES {
                if candidate.starts_with("tokio-util") && size >= 64 << 20 && chunk < 64 * 1024 {
                    continue; // quadratic through compat: see benches/frames.rs
                }
                let (check, peak, allocs) = measure(|| run(&input, chunk));
                assert_eq!(check, expected, "{candidate}");
                row(&group, candidate, peak, allocs, count);
            }
        }
    }
    let input = lines_input(1_000_000);
    let expected = lines_memchr(&input, 0);
    for chunk in [64 * 1024, 1500] {
        let group = format!("lines 1M C={chunk}");
        for &(candidate, run) in LINE_CANDIDATES {
            let (check, peak, allocs) = measure(|| run(&input, chunk));
            assert_eq!(check, expected, "{candidate}");
            row(&group, candidate, peak, allocs, 1_000_000);
        }
    }
    let input = vec![7u8; 256 << 20];
    let expected = into_memcpy(&input, 0);
    for chunk in [64 * 1024, 1500] {
        let group = format!("caller memory 256MiB C={chunk}");
        for &(candidate, run) in INTO_CANDIDATES {
            let (check, peak, allocs) = measure(|| run(&input, chunk));
            assert_eq!(check, expected, "{candidate}");
            row(&group, candidate, peak, allocs, 256);
        }
    }
    drop(input);
    for w in WRITE_WORKLOADS {
        let items = (w.items)();
        for &(sink_name, max, pending) in WRITE_SINKS {
            let group = format!("{} {sink_name}", w.name);
            for &(candidate, run) in w.candidates {
                let sink = Sink {
                    max,
                    pending,
                    record: false,
                };
                let (out, peak, allocs) = measure(|| run(&items, sink));
                let total: usize = items.iter().map(|m| m.len()).sum();
                assert!(out.bytes as usize >= total, "{candidate}");
                row(&group, candidate, peak, allocs, items.len());
            }
        }
    }
    let out = format!("[{}]\n", json.join(",\n"));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-memory.json");
    std::fs::write(&path, out).expect("write target/bench-memory.json");
    println!("\nwrote {}", path.display());
}
