//! A million ~100-byte lines ending in `\n`, C = 64 KiB and 1500.
mod common;

use common::*;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let input = lines_input(1_000_000);
    let expected = lines_memchr(&input, 0);
    for chunk in [64 * 1024, 1500] {
        let mut g = c.benchmark_group(format!("lines 1M C={chunk}"));
        g.throughput(Throughput::Elements(1_000_000));
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for &(candidate, run) in LINE_CANDIDATES {
            assert_eq!(
                run(&input, chunk),
                expected,
                "{candidate} produced wrong lines"
            );
            g.bench_function(candidate, |b| b.iter(|| run(&input, chunk)));
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
