//! Writes into a sink that behaves like a socket: it takes at most C bytes
//! per call (C = 64 KiB and 1500), copies them, counts its calls, and in a
//! variant returns `Pending` on every other poll. Every candidate's stream
//! is checked byte for byte against the expected one before it is timed;
//! the write calls of each are printed (and kept in
//! `target/bench-write-calls.json` for the report).
mod common;

use common::*;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let mut calls_json = Vec::new();
    for w in WRITE_WORKLOADS {
        let items = (w.items)();
        let expected = expected_stream(w, &items);
        for &(sink_name, max, pending) in WRITE_SINKS {
            let group = format!("{} {sink_name}", w.name);
            let mut g = c.benchmark_group(&group);
            if items[0].len() >= 1 << 20 {
                g.throughput(Throughput::Bytes(expected.len() as u64));
            } else {
                g.throughput(Throughput::Elements(items.len() as u64));
            }
            g.sample_size(10)
                .warm_up_time(Duration::from_millis(300))
                .measurement_time(Duration::from_millis(1500));
            for &(candidate, run) in w.candidates {
                let checked = run(
                    &items,
                    Sink {
                        max,
                        pending,
                        record: true,
                    },
                );
                let got = checked.recorded.as_deref().unwrap();
                assert!(
                    got == &expected[..],
                    "{group}: {candidate} wrote a wrong stream"
                );
                println!("{group}: {candidate}: {} write calls", checked.calls);
                calls_json.push(format!(
                    "{{\"group\":\"{group}\",\"candidate\":\"{candidate}\",\"calls\":{}}}",
                    checked.calls
                ));
                let sink = Sink {
                    max,
                    pending,
                    record: false,
                };
                g.bench_function(candidate, |b| b.iter(|| run(&items, sink)));
            }
            g.finish();
        }
    }
    // Next to criterion's results: the target directory Cargo was given.
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        std::path::PathBuf::from,
    );
    let path = target.join("bench-write-calls.json");
    std::fs::write(&path, format!("[{}]\n", calls_json.join(",\n"))).expect("write calls json");
}

criterion_group!(benches, bench);
criterion_main!(benches);
