//! Length-prefixed frames (4-byte big-endian length): large (64 MiB),
//! small (64 B) and medium (16 KiB), from a source returning at most C
//! bytes per read, C = 64 KiB and 1500. Every candidate in the same run.
mod common;

use common::*;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;

/// (name, payload size, frame count)
pub const FRAME_WORKLOADS: &[(&str, usize, usize)] = &[
    ("large 64MiB", 64 << 20, 4),
    ("small 64B", 64, 1_000_000),
    ("medium 16KiB", 16 << 10, 4096),
];

/// tokio-util through `compat` (how futures-io users reach it) zeroes the
/// whole spare capacity of its growing buffer on every read: with 64 MiB
/// frames in 1500-byte reads that is quadratic (over a minute per frame),
/// so that one cell is not run. At C = 64 KiB it is measured.
pub fn skipped(candidate: &str, size: usize, chunk: usize) -> bool {
    candidate.starts_with("tokio-util") && size >= 64 << 20 && chunk < 64 * 1024
}

fn bench(c: &mut Criterion) {
    for &(name, size, count) in FRAME_WORKLOADS {
        let input = frames_input(size, count);
        let expected = frames_memcpy(&input, 0);
        for chunk in [64 * 1024, 1500] {
            let mut g = c.benchmark_group(format!("frames {name} C={chunk}"));
            g.throughput(Throughput::Elements(count as u64));
            g.sample_size(10)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(3));
            for &(candidate, run) in FRAME_CANDIDATES {
                if skipped(candidate, size, chunk) {
                    println!("{name} C={chunk}/{candidate}: not run (see `skipped`)");
                    continue;
                }
                assert_eq!(
                    run(&input, chunk),
                    expected,
                    "{candidate} produced wrong frames"
                );
                g.bench_function(candidate, |b| b.iter(|| run(&input, chunk)));
            }
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
