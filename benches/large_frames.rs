//! CPU per byte of one 256 MiB frame whose length came off the wire, read
//! on smol through futures-io (`&mut [u8]` reads, so the reader must hand
//! the source initialized memory), over loopback TCP and from memory.
//!
//! The peer is what a smol user writes without intake: futures-lite's
//! `BufReader` and `read_exact` into a fresh `vec![0; n]` (zeroed pages
//! from the allocator, so each byte is written once, by the source).
//! intake cannot allocate what the header claims (a hostile header would
//! cost its claim): its buffer grows with the bytes that arrive.
//!
//! The candidates run in interleaved rounds, each round starting one
//! further on, and each figure is the median of its rounds. CPU time comes
//! from `clock_gettime` (`getrusage` rounds to the 4 ms tick).
//!
//! `cargo bench --bench large_frames`; `ROUNDS=n` changes the number of
//! rounds (21 by default), `ONLY=i` runs candidate `i` alone (for strace
//! or perf).

use std::io::Write as _;
use std::time::Instant;

use futures_lite::AsyncReadExt as _;
use intake::{LengthPrefix, StreamReader};

mod common;

const BIG: usize = 256 << 20;

const CANDIDATES: [&str; 3] = [
    "intake read_frame (length off the wire)",
    "intake read_exactly after a 4-byte header",
    "futures-lite BufReader + read_exact into vec![0; n]",
];

/// Receives one frame from `src` the way candidate `which` does; returns
/// its length.
async fn receive<S: futures_io::AsyncRead + Unpin>(which: usize, src: S) -> usize {
    match which {
        0 => {
            let prefix = LengthPrefix::new(4).max_frame_len(usize::MAX >> 1);
            let mut r = StreamReader::new(src);
            let frame = r.read_frame(&prefix).await.unwrap().unwrap();
            std::hint::black_box(&frame);
            frame.len()
        }
        1 => {
            let mut r = StreamReader::new(src);
            let header = r.read_exactly(4).await.unwrap();
            let n = u32::from_be_bytes(header[..].try_into().unwrap()) as usize;
            let frame = r.read_exactly(n).await.unwrap();
            std::hint::black_box(&frame);
            frame.len()
        }
        _ => {
            let mut r = futures_lite::io::BufReader::new(src);
            let mut header = [0u8; 4];
            r.read_exact(&mut header).await.unwrap();
            let mut body = vec![0u8; u32::from_be_bytes(header) as usize];
            r.read_exact(&mut body).await.unwrap();
            std::hint::black_box(&body);
            body.len()
        }
    }
}

/// CPU seconds (user + system) of the calling thread or of the process.
fn cpu(clock: libc::clockid_t) -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(clock, &mut t) };
    assert_eq!(rc, 0);
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

/// What one transfer cost: receiving thread's CPU, both ends' CPU, wall.
#[derive(Clone, Copy)]
struct Cost {
    receiver: f64,
    both: f64,
    wall: f64,
}

/// One transfer over loopback TCP: a sender thread writes `wire`, this
/// thread receives it on smol (`block_on` of `smol::Async<TcpStream>`).
fn over_tcp(which: usize, wire: &[u8]) -> Cost {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let process0 = cpu(libc::CLOCK_PROCESS_CPUTIME_ID);
    let (got, receiver, wall) = std::thread::scope(|s| {
        s.spawn(|| {
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            c.write_all(wire).unwrap();
        });
        let (sock, _) = listener.accept().unwrap();
        let sock = smol::Async::new(sock).unwrap();
        let (cpu0, start) = (cpu(libc::CLOCK_THREAD_CPUTIME_ID), Instant::now());
        let got = smol::block_on(receive(which, sock));
        let wall = start.elapsed().as_secs_f64();
        (got, cpu(libc::CLOCK_THREAD_CPUTIME_ID) - cpu0, wall)
    });
    assert_eq!(got, BIG, "{}", CANDIDATES[which]);
    Cost {
        receiver,
        both: cpu(libc::CLOCK_PROCESS_CPUTIME_ID) - process0,
        wall,
    }
}

/// The same from memory, at most 64 KiB per read: no kernel and no
/// scheduling, so what is left is each reader's own work.
fn from_memory(which: usize, wire: &[u8]) -> Cost {
    let (cpu0, start) = (cpu(libc::CLOCK_THREAD_CPUTIME_ID), Instant::now());
    let got = smol::block_on(receive(which, common::source(wire, 64 * 1024)));
    let receiver = cpu(libc::CLOCK_THREAD_CPUTIME_ID) - cpu0;
    assert_eq!(got, BIG, "{}", CANDIDATES[which]);
    Cost {
        receiver,
        both: receiver,
        wall: start.elapsed().as_secs_f64(),
    }
}

fn median(mut t: Vec<f64>) -> f64 {
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects a source.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(21);
    // `ONLY=i` runs candidate `i` alone (for strace or perf).
    let only: Option<usize> = std::env::var("ONLY").ok().and_then(|i| i.parse().ok());
    let mut wire = (BIG as u32).to_be_bytes().to_vec();
    wire.resize(4 + BIG, 0x5A);
    type Once = fn(usize, &[u8]) -> Cost;
    let sources: [(&str, Once); 2] = [
        ("over loopback TCP (smol)", over_tcp),
        ("from memory, at most 64 KiB per read (smol)", from_memory),
    ];
    let mut json = Vec::new();
    for (source, once) in sources {
        if !filter.is_empty() && !filter.iter().any(|f| source.contains(f.as_str())) {
            continue;
        }
        println!(
            "\none 256 MiB frame {source}: CPU per byte (median of {rounds} interleaved rounds)"
        );
        let mut runs: Vec<Vec<Cost>> = vec![Vec::new(); CANDIDATES.len()];
        for round in 0..rounds {
            for k in 0..CANDIDATES.len() {
                let i = (round + k) % CANDIDATES.len();
                if only.is_some_and(|only| only != i) {
                    continue;
                }
                runs[i].push(once(i, &wire));
            }
        }
        if let Some(i) = only {
            let receiver = median(runs[i].iter().map(|c| c.receiver).collect());
            println!(
                "  {:<52} receiver {:>5.3} ns/B",
                CANDIDATES[i],
                receiver / BIG as f64 * 1e9
            );
            continue;
        }
        let medians: Vec<[f64; 3]> = runs
            .iter()
            .map(|c| {
                let of = |f: fn(&Cost) -> f64| median(c.iter().map(f).collect());
                [of(|c| c.receiver), of(|c| c.both), of(|c| c.wall)]
            })
            .collect();
        let peer = medians[CANDIDATES.len() - 1];
        for (name, [receiver, both, wall]) in CANDIDATES.iter().zip(&medians) {
            println!(
                "  {name:<52} receiver {:>5.3} ns/B ({:>4.2}x futures-lite's), both ends {:>5.3} ns/B ({:>4.2}x), {:>4.0} ms wall",
                receiver / BIG as f64 * 1e9,
                receiver / peer[0],
                both / BIG as f64 * 1e9,
                both / peer[1],
                wall * 1e3
            );
            json.push(format!(
                "{{\"workload\":\"256MiB frame cpu {source}\",\"candidate\":\"{name}\",\"cpu_s\":{receiver:.6},\"both_cpu_s\":{both:.6},\"wall_s\":{wall:.6}}}"
            ));
        }
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/large_frames.json");
    if let Ok(mut f) = std::fs::File::create(&out) {
        let _ = writeln!(f, "[{}]", json.join(",\n"));
    }
}
