//! One or more write candidates of `benches/writes.rs`, run alone, for
//! A/B work on the writer: interleaved best-of times, and a fixed amount
//! of work that callgrind can count
//! (`--toggle-collect='write_one::timed'`).
//!
//! ```text
//! cargo bench --bench write_one -- WORKLOAD C ROUNDS CANDIDATE...
//! ```
//!
//! `WORKLOAD` is a substring of a workload's name (`64B Bytes`), `C` the
//! most the sink takes per call, each `CANDIDATE` a substring of a
//! candidate's name. Each round runs every candidate once, in turn (the
//! order alternating between rounds); the best time of each is printed.
//! `ROUNDS=1` is what callgrind should count. With `PENDING=1` the sink
//! answers `Pending` to every other call, as the writes bench's `pending`
//! groups.
mod common;

use common::*;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    // A plain `cargo bench` runs every bench target with no arguments of
    // ours (or with its filter alone): this one then has nothing to do.
    let [workload, max, rounds, wanted @ ..] = &args[..] else {
        eprintln!("write_one: nothing to run (usage: write_one WORKLOAD C ROUNDS CANDIDATE...)");
        return;
    };
    if wanted.is_empty() {
        eprintln!("write_one: no candidate given");
        return;
    }
    let max: usize = max.parse().expect("C: a number of bytes");
    let rounds: usize = rounds.parse().expect("ROUNDS: a number");
    let w = WRITE_WORKLOADS
        .iter()
        .find(|w| w.name.contains(workload.as_str()))
        .expect("no such workload");
    let runs: Vec<_> = wanted
        .iter()
        .map(|want| {
            *w.candidates
                .iter()
                .find(|(name, _)| name.contains(want.as_str()))
                .unwrap_or_else(|| panic!("no candidate {want:?} in {}", w.name))
        })
        .collect();
    let items = (w.items)();
    let expected = expected_stream(w, &items);
    // PENDING=1: the sink answers `Pending` to every other call.
    let pending = std::env::var_os("PENDING").is_some();
    let sink = |record| Sink {
        max,
        pending,
        record,
    };
    for (name, run) in &runs {
        let got = run(&items, sink(true));
        assert!(
            got.recorded.as_deref() == Some(&expected[..]),
            "{name}: wrong stream"
        );
    }
    let mut best = vec![f64::MAX; runs.len()];
    for round in 0..rounds {
        for k in 0..runs.len() {
            let k = if round % 2 == 0 {
                k
            } else {
                runs.len() - 1 - k
            };
            let start = Instant::now();
            std::hint::black_box(timed(runs[k].1, &items, sink(false)));
            best[k] = best[k].min(start.elapsed().as_secs_f64());
        }
    }
    for ((name, _), t) in runs.iter().zip(&best) {
        println!("{:8.2} ms  {}  ({} C={max})", t * 1e3, name, w.name);
    }
    if runs.len() == 2 {
        println!("ratio first/second: {:.3}", best[0] / best[1]);
    }
}

/// One timed run: what callgrind should count
/// (`--toggle-collect='write_one::timed'`; the stream check runs before,
/// outside it).
#[inline(never)]
fn timed(run: WriteRun, items: &[bytes::Bytes], sink: Sink) -> SocketSink {
    run(items, sink)
}
