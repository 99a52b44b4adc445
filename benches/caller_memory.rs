//! A 256 MiB stream read into a preallocated caller buffer in 1 MiB
//! pieces, C = 64 KiB and 1500.
mod common;

use common::*;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let input = vec![7u8; 256 << 20];
    let expected = into_memcpy(&input, 0);
    for chunk in [64 * 1024, 1500] {
        let mut g = c.benchmark_group(format!("caller memory 256MiB C={chunk}"));
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for &(candidate, run) in INTO_CANDIDATES {
            assert_eq!(
                run(&input, chunk),
                expected,
                "{candidate} produced wrong bytes"
            );
            g.bench_function(candidate, |b| b.iter(|| run(&input, chunk)));
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
