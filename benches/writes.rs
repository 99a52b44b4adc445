//! Writes: a million 64-byte messages, and 256 payloads of 1 MiB, into a
//! writer that counts its calls.
mod common;

use common::*;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;

fn bench(c: &mut Criterion) {
    for (name, msgs) in [
        ("writes 1M x 64B", small_messages(1_000_000)),
        ("writes 256 x 1MiB", large_payloads(256)),
    ] {
        let total: u64 = msgs.iter().map(|m| m.len() as u64).sum();
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Elements(msgs.len() as u64));
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for &(candidate, run) in WRITE_CANDIDATES {
            let (bytes, calls) = run(&msgs);
            assert_eq!(bytes, total, "{candidate} wrote the wrong amount");
            println!("{name}: {candidate}: {calls} write calls");
            g.bench_function(candidate, |b| b.iter(|| run(&msgs)));
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
