//! Writes: a million 64-byte messages, and 256 payloads of 1 MiB, into a
//! writer that copies what it accepts (as a socket does) and counts its
//! calls.
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
        g.throughput(if msgs[0].len() >= 1 << 20 {
            Throughput::Bytes(total)
        } else {
            Throughput::Elements(msgs.len() as u64)
        });
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

/// The copy threshold of `StreamWriter`: below it items are copied into the
/// coalescing buffer (an extra copy, fewer and larger writes); from it on
/// they are queued as they are (no copy, more iovecs per write). Measured
/// over real loopback TCP, where system calls cost what they cost; the
/// default (1 KiB) comes from this sweep.
fn threshold(c: &mut Criterion) {
    use bytes::Bytes;
    use futures_lite::future::zip;
    use futures_lite::AsyncReadExt;
    for size in [512usize, 2048, 8192, 32768] {
        let count = (64 << 20) / size;
        let all = Bytes::from(vec![5u8; count * size]);
        let msgs: Vec<Bytes> = (0..count)
            .map(|i| all.slice(i * size..(i + 1) * size))
            .collect();
        let mut g = c.benchmark_group(format!("writer threshold tcp, {size}-byte items"));
        g.throughput(Throughput::Bytes((count * size) as u64));
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(2));
        for t in [256usize, 1024, 4096, 16384, 65536] {
            g.bench_function(format!("threshold {t}"), |b| {
                b.iter(|| {
                    smol::block_on(async {
                        let (c, mut s) = smol_pair().await;
                        let send = async {
                            let mut w = intake::StreamWriter::new(c).with_copy_threshold(t);
                            for m in &msgs {
                                w.send(m.clone()).await.unwrap();
                            }
                            w.flush().await.unwrap();
                        };
                        let recv = async {
                            let mut buf = vec![0u8; 1 << 20];
                            let mut total = 0;
                            while total < count * size {
                                total += s.read(&mut buf).await.unwrap();
                            }
                        };
                        zip(send, recv).await;
                    })
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench, threshold);
criterion_main!(benches);
