//! intake on tokio's own traits (`TokioIo`, no compat) against tokio-util's
//! `FramedRead` (`LengthDelimitedCodec`, `LinesCodec`) and tokio's
//! `BufReader`, all on the same in-memory tokio source (at most C bytes per
//! read, C = 64 KiB and 1500); then loopback TCP with 1 MiB frames on tokio's
//! runtime against a raw read loop; then the CPU time (the receiving
//! thread's, and both ends') per byte of a 256 MiB frame whose length came
//! off the wire, against `read_exact` into a fresh `vec![0; n]`, over
//! loopback TCP and from memory.
//!
//! Candidates run in interleaved rounds (one run of each per round) and
//! each reports its median; every output is checked. Prints
//! tables and writes `target/bench-tokio.json`.
mod common;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use common::{frames_input, lines_input, Check};
use futures_lite::StreamExt;
use intake::{LengthPrefix, StreamReader, TokioIo};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};

/// An in-memory tokio source returning at most `chunk` bytes per read.
struct TokioSource<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl AsyncRead for TokioSource<'_> {
    #[inline]
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = buf.remaining().min(self.chunk).min(self.data.len());
        buf.put_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(()))
    }
}

fn src(data: &[u8], chunk: usize) -> TokioSource<'_> {
    TokioSource { data, chunk }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

type Candidate = (&'static str, fn(&[u8], usize) -> Check);

fn frames_intake(input: &[u8], chunk: usize) -> Check {
    rt().block_on(async {
        let prefix = LengthPrefix::new(4).max_frame_len(usize::MAX >> 1);
        let mut r = StreamReader::new(TokioIo::new(src(input, chunk)));
        let mut c = Check::default();
        while let Some(f) = r.read_frame(&prefix).await.unwrap() {
            c.add(&f);
        }
        c
    })
}

fn frames_intake_stream(input: &[u8], chunk: usize) -> Check {
    rt().block_on(async {
        let prefix = LengthPrefix::new(4).max_frame_len(usize::MAX >> 1);
        let mut s = intake::frame::FramedRead::new(TokioIo::new(src(input, chunk)), prefix);
        let mut c = Check::default();
        while let Some(f) = s.next().await {
            c.add(&f.unwrap());
        }
        c
    })
}

fn frames_tokio_util(input: &[u8], chunk: usize) -> Check {
    use tokio_util::codec::{FramedRead, LengthDelimitedCodec};
    rt().block_on(async {
        let codec = LengthDelimitedCodec::builder()
            .length_field_length(4)
            .max_frame_length(usize::MAX >> 1)
            .new_codec();
        let mut s = FramedRead::new(src(input, chunk), codec);
        let mut c = Check::default();
        while let Some(f) = s.next().await {
            c.add(&f.unwrap());
        }
        c
    })
}

const FRAME_CANDIDATES: &[Candidate] = &[
    ("intake read_frame (TokioIo)", frames_intake),
    ("intake FramedRead (TokioIo)", frames_intake_stream),
    (
        "tokio-util FramedRead LengthDelimitedCodec",
        frames_tokio_util,
    ),
];

fn lines_intake(input: &[u8], chunk: usize) -> Check {
    rt().block_on(async {
        let mut r = StreamReader::new(TokioIo::new(src(input, chunk)));
        let mut c = Check::default();
        while let Some(line) = r.read_until(b"\n").await.unwrap() {
            c.add(&line);
        }
        c
    })
}

fn lines_intake_peek(input: &[u8], chunk: usize) -> Check {
    rt().block_on(async {
        let mut r = StreamReader::new(TokioIo::new(src(input, chunk)));
        let mut c = Check::default();
        while let Some(line) = r.peek_until(b"\n").await.unwrap() {
            c.add(line);
            let used = line.len();
            r.consume(used);
        }
        c
    })
}

fn lines_tokio_util(input: &[u8], chunk: usize) -> Check {
    use tokio_util::codec::{FramedRead, LinesCodec};
    rt().block_on(async {
        let mut s = FramedRead::new(src(input, chunk), LinesCodec::new());
        let mut c = Check::default();
        while let Some(line) = s.next().await {
            let mut with_nl = line.unwrap().into_bytes();
            with_nl.push(b'\n');
            c.add(&with_nl);
        }
        c
    })
}

fn lines_tokio_bufreader(input: &[u8], chunk: usize) -> Check {
    rt().block_on(async {
        let mut r = tokio::io::BufReader::new(src(input, chunk));
        let mut c = Check::default();
        let mut line = Vec::new();
        loop {
            line.clear();
            if r.read_until(b'\n', &mut line).await.unwrap() == 0 {
                break;
            }
            c.add(&line);
        }
        c
    })
}

const LINE_CANDIDATES: &[Candidate] = &[
    ("intake read_until, owned Bytes (TokioIo)", lines_intake),
    ("intake peek_until, borrowed (TokioIo)", lines_intake_peek),
    (
        "tokio-util FramedRead LinesCodec, owned String",
        lines_tokio_util,
    ),
    (
        "tokio BufReader read_until, reused Vec",
        lines_tokio_bufreader,
    ),
];

/// Runs every candidate `rounds` times, interleaved: one run of each per
/// round, so that a slow stretch of the machine hits all of them alike,
/// and each round starting one candidate further on, so that none always
/// runs right after the same other one (whose freed memory, say, the
/// next one's page faults find). Returns what each candidate's runs
/// measured, in order.
fn interleaved_runs<T>(
    rounds: usize,
    candidates: usize,
    mut run: impl FnMut(usize) -> T,
) -> Vec<Vec<T>> {
    let mut runs: Vec<Vec<T>> = (0..candidates)
        .map(|_| Vec::with_capacity(rounds))
        .collect();
    for round in 0..rounds {
        for k in 0..candidates {
            let i = (round + k) % candidates;
            runs[i].push(run(i));
        }
    }
    runs
}

/// [`interleaved_runs`] of seconds: each candidate's median.
fn interleaved(rounds: usize, candidates: usize, run: impl FnMut(usize) -> f64) -> Vec<f64> {
    interleaved_runs(rounds, candidates, run)
        .into_iter()
        .map(median)
        .collect()
}

fn median(mut t: Vec<f64>) -> f64 {
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn table(
    json: &mut Vec<String>,
    title: &str,
    items: f64,
    unit: &str,
    input: &[u8],
    candidates: &[Candidate],
) {
    // `ONLY_C=1500` runs one source chunk size alone.
    let only_c: Option<usize> = std::env::var("ONLY_C").ok().and_then(|c| c.parse().ok());
    for chunk in [64 * 1024, 1500] {
        if only_c.is_some_and(|c| c != chunk) {
            continue;
        }
        println!("\n{title}, C = {chunk} (median of 9 interleaved rounds)");
        let expected = candidates[0].1(input, chunk);
        let medians = interleaved(9, candidates.len(), |i| {
            let start = Instant::now();
            let got = candidates[i].1(input, chunk);
            let secs = start.elapsed().as_secs_f64();
            assert_eq!(got, expected, "{}", candidates[i].0);
            secs
        });
        let peer = candidates
            .iter()
            .zip(&medians)
            .filter(|(c, _)| !c.0.starts_with("intake"))
            .map(|(_, &m)| m)
            .fold(f64::INFINITY, f64::min);
        for (&(name, _), &secs) in candidates.iter().zip(&medians) {
            println!(
                "  {name:<50} {:>9.2} {unit}  {:>5.2}x the fastest peer",
                items / secs / 1e6,
                peer / secs
            );
            json.push(format!(
                "{{\"workload\":\"{title} C={chunk}\",\"candidate\":\"{name}\",\"median_s\":{secs:.6}}}"
            ));
        }
    }
}

// ------------------------------------------------------------ loopback TCP

const TCP_FRAME: usize = 1 << 20;
const TCP_FRAMES: usize = 256;

async fn tcp_receive(candidate: &str, sock: tokio::net::TcpStream) -> u64 {
    let mut total = 0u64;
    match candidate {
        "intake read_frame (TokioIo)" => {
            let prefix = LengthPrefix::new(4).max_frame_len(TCP_FRAME);
            let mut r = StreamReader::with_capacity(64 * 1024, TokioIo::new(sock));
            while let Some(f) = r.read_frame(&prefix).await.unwrap() {
                total += f.len() as u64;
            }
        }
        "tokio-util FramedRead LengthDelimitedCodec" => {
            let codec = tokio_util::codec::LengthDelimitedCodec::builder()
                .length_field_length(4)
                .max_frame_length(TCP_FRAME)
                .new_codec();
            let mut s = tokio_util::codec::FramedRead::new(sock, codec);
            while let Some(f) = s.next().await {
                total += f.unwrap().len() as u64;
            }
        }
        "raw read loop, 64 KiB buffer" | "raw read loop, 1 MiB buffer" => {
            // Bytes read and dropped: no frames at all. The larger buffer
            // takes more per system call.
            let size = if candidate.contains("64 KiB") {
                64 << 10
            } else {
                1 << 20
            };
            let mut sock = sock;
            let mut buf = vec![0u8; size];
            loop {
                let n = sock.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
            total -= 4 * TCP_FRAMES as u64;
        }
        "raw read_exact of each frame into one reused 1 MiB buffer" => {
            // The least a frame reader must do: land each frame's bytes in
            // contiguous memory (here the same 1 MiB, reused, so no
            // allocation and no page faults, which a reader handing frames
            // out cannot avoid alike).
            let mut sock = sock;
            let mut header = [0u8; 4];
            let mut frame = vec![0u8; TCP_FRAME];
            loop {
                match sock.read_exact(&mut header).await {
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                    Err(e) => panic!("{e}"),
                }
                let n = u32::from_be_bytes(header) as usize;
                sock.read_exact(&mut frame[..n]).await.unwrap();
                std::hint::black_box(&frame);
                total += n as u64;
            }
        }
        other => unreachable!("{other}"),
    }
    total
}

/// What one transfer cost.
struct Cost {
    /// Wall seconds of the receive.
    wall: f64,
    /// CPU seconds (user + system) of the receiving thread.
    receiver_cpu: f64,
    /// CPU seconds of the whole process, both ends of the transfer.
    /// Steadier than `receiver_cpu`: on loopback, which thread the
    /// kernel's packet processing is charged to depends on timing, but it
    /// is charged to one of the two.
    both_cpu: f64,
}

/// One transfer of `wire`: a sender thread writes it over loopback TCP and
/// this thread receives it with `receive` on a current-thread tokio
/// runtime. Returns what `receive` returned, and what it cost.
fn over_tcp<T, Fut>(wire: &[u8], receive: impl FnOnce(tokio::net::TcpStream) -> Fut) -> (T, Cost)
where
    Fut: std::future::Future<Output = T>,
{
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let process0 = cpu(libc::CLOCK_PROCESS_CPUTIME_ID);
    let (got, wall, receiver_cpu) = std::thread::scope(|s| {
        s.spawn(|| {
            rt().block_on(async {
                let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
                c.write_all(wire).await.unwrap();
                c.shutdown().await.unwrap();
            })
        });
        let (sock, _) = l.accept().unwrap();
        sock.set_nonblocking(true).unwrap();
        let rt = rt();
        let (cpu0, start) = (cpu(libc::CLOCK_THREAD_CPUTIME_ID), Instant::now());
        let got =
            rt.block_on(async { receive(tokio::net::TcpStream::from_std(sock).unwrap()).await });
        let wall = start.elapsed().as_secs_f64();
        (got, wall, cpu(libc::CLOCK_THREAD_CPUTIME_ID) - cpu0)
    });
    let both_cpu = cpu(libc::CLOCK_PROCESS_CPUTIME_ID) - process0;
    (
        got,
        Cost {
            wall,
            receiver_cpu,
            both_cpu,
        },
    )
}

/// Seconds for one 256 MiB transfer of 1 MiB frames.
fn tcp_once(candidate: &str, wire: &[u8]) -> f64 {
    let (got, cost) = over_tcp(wire, |sock| tcp_receive(candidate, sock));
    assert_eq!(got, (TCP_FRAME * TCP_FRAMES) as u64, "{candidate}");
    cost.wall
}

// ------------------------------------------------------- CPU per large byte

/// CPU seconds (user + system) so far of the calling thread
/// (`CLOCK_THREAD_CPUTIME_ID`) or of the process
/// (`CLOCK_PROCESS_CPUTIME_ID`): the time `getrusage` reports, read at
/// nanosecond resolution (`getrusage` rounds to the scheduler tick here,
/// 4 ms, over 2% of one 256 MiB frame).
fn cpu(clock: libc::clockid_t) -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes one `timespec` into the struct we own;
    // both clocks exist on Linux.
    let rc = unsafe { libc::clock_gettime(clock, &mut t) };
    assert_eq!(rc, 0);
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

const BIG: usize = 256 << 20;

async fn big_receive<S: AsyncRead + Unpin>(candidate: &str, sock: S) -> usize {
    match candidate {
        "intake read_frame (TokioIo), length off the wire" => {
            let prefix = LengthPrefix::new(4).max_frame_len(usize::MAX >> 1);
            let mut r = StreamReader::with_capacity(64 * 1024, TokioIo::new(sock));
            r.read_frame(&prefix).await.unwrap().unwrap().len()
        }
        "intake read_frame (futures-io via compat), zeroing" => {
            // The same read through futures-io's `&mut [u8]`: the buffer
            // must zero memory before each read into it can use it.
            use tokio_util::compat::TokioAsyncReadCompatExt;
            let prefix = LengthPrefix::new(4).max_frame_len(usize::MAX >> 1);
            let mut r = StreamReader::with_capacity(64 * 1024, sock.compat());
            r.read_frame(&prefix).await.unwrap().unwrap().len()
        }
        "tokio read_exact into a fresh vec![0; n]" => {
            let mut sock = sock;
            let mut header = [0u8; 4];
            sock.read_exact(&mut header).await.unwrap();
            let mut body = vec![0u8; u32::from_be_bytes(header) as usize];
            sock.read_exact(&mut body).await.unwrap();
            std::hint::black_box(&body);
            body.len()
        }
        "futures-lite read_exact into a fresh vec![0; n]" => {
            use futures_lite::AsyncReadExt as _;
            use tokio_util::compat::TokioAsyncReadCompatExt;
            let mut sock = sock.compat();
            let mut header = [0u8; 4];
            sock.read_exact(&mut header).await.unwrap();
            let mut body = vec![0u8; u32::from_be_bytes(header) as usize];
            sock.read_exact(&mut body).await.unwrap();
            std::hint::black_box(&body);
            body.len()
        }
        other => unreachable!("{other}"),
    }
}

/// What one 256 MiB frame over loopback TCP cost.
fn big_once(candidate: &str, wire: &[u8]) -> Cost {
    let (got, cost) = over_tcp(wire, |sock| big_receive(candidate, sock));
    assert_eq!(got, BIG, "{candidate}");
    cost
}

/// The same from memory, at most 64 KiB per read: no kernel copy and no
/// scheduling, so what is left is each reader's own work (its copies, its
/// page faults, its growth), the same in every run. One thread does it all.
fn big_once_in_memory(candidate: &str, wire: &[u8]) -> Cost {
    let rt = rt();
    let (cpu0, start) = (cpu(libc::CLOCK_THREAD_CPUTIME_ID), Instant::now());
    let got = rt.block_on(big_receive(candidate, src(wire, 64 * 1024)));
    let (wall, receiver_cpu) = (
        start.elapsed().as_secs_f64(),
        cpu(libc::CLOCK_THREAD_CPUTIME_ID) - cpu0,
    );
    assert_eq!(got, BIG, "{candidate}");
    Cost {
        wall,
        receiver_cpu,
        both_cpu: receiver_cpu,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("tokio: bench");
        return;
    }
    let mut json = Vec::new();
    // `ONLY=tables`, `ONLY=tcp` or `ONLY=cpu` runs one part alone, for repeated runs of
    // the noisiest figures.
    let only = std::env::var("ONLY").unwrap_or_default();
    if only.is_empty() || only == "tables" {
        throughput_tables(&mut json);
    }
    if only.is_empty() || only == "tcp" {
        tcp_table(&mut json);
    }
    if only.is_empty() || only == "cpu" {
        cpu_table(&mut json);
    }
    std::fs::write(
        "../target/bench-tokio.json",
        format!("[{}]\n", json.join(",\n")),
    )
    .unwrap();
}

fn throughput_tables(json: &mut Vec<String>) {
    // `ONLY_TABLE=16` (a substring of its title) runs one workload alone.
    let only_table = std::env::var("ONLY_TABLE").unwrap_or_default();
    let table = |json: &mut Vec<String>, title: &str, items, unit, input: &[u8], candidates| {
        if title.contains(only_table.as_str()) {
            table(json, title, items, unit, input, candidates);
        }
    };
    table(
        json,
        "1M frames of 64 B, 4-byte length",
        1e6,
        "M frames/s",
        &frames_input(64, 1_000_000),
        FRAME_CANDIDATES,
    );
    table(
        json,
        "20k frames of 16 KiB",
        2e4,
        "M frames/s",
        &frames_input(16 * 1024, 20_000),
        FRAME_CANDIDATES,
    );
    table(
        json,
        "1M lines of ~100 B",
        1e6,
        "M lines/s",
        &lines_input(1_000_000),
        LINE_CANDIDATES,
    );
}

fn tcp_table(json: &mut Vec<String>) {
    let wire = frames_input(TCP_FRAME, TCP_FRAMES);
    println!("\nloopback TCP, 256 MiB of 1 MiB frames, tokio current-thread runtime (median of 21 interleaved rounds)");
    let tcp = [
        "intake read_frame (TokioIo)",
        "tokio-util FramedRead LengthDelimitedCodec",
        "raw read loop, 64 KiB buffer",
        "raw read loop, 1 MiB buffer",
        "raw read_exact of each frame into one reused 1 MiB buffer",
    ];
    let medians = interleaved(21, tcp.len(), |i| tcp_once(tcp[i], &wire));
    // The floor: the faster raw read loop.
    let floor = medians[2].min(medians[3]);
    let contiguous = medians[4];
    for (name, secs) in tcp.into_iter().zip(medians) {
        println!(
            "  {name:<58} {:>6.2} GB/s  {:>5.2}x the faster raw loop's time, {:>5.2}x the read_exact loop's",
            (TCP_FRAME * TCP_FRAMES) as f64 / secs / 1e9,
            secs / floor,
            secs / contiguous
        );
        json.push(format!("{{\"workload\":\"tcp 1MiB frames tokio\",\"candidate\":\"{name}\",\"median_s\":{secs:.6}}}"));
    }
}

/// One measured receive of a 256 MiB frame: (candidate, wire) -> cost.
type Once = fn(&str, &[u8]) -> Cost;

fn cpu_table(json: &mut Vec<String>) {
    let mut wire = (BIG as u32).to_be_bytes().to_vec();
    wire.resize(4 + BIG, 0x5A);
    // Over TCP the receiving thread's CPU varies by about 10% from run to
    // run for every candidate alike (how much of loopback's packet
    // processing lands on it depends on timing), so both ends' CPU is
    // shown too. From memory it is steadier, but when the VM is busy a
    // single run still moves by 10-20%: both take 21 rounds.
    let sources: [(&str, Once, usize); 2] = [
        ("over loopback TCP", big_once, 21),
        (
            "from memory, at most 64 KiB per read",
            big_once_in_memory,
            21,
        ),
    ];
    for (source, once, rounds) in sources {
        println!(
            "\none 256 MiB frame {source}: CPU per byte, of the receiving thread and of both ends (median of {rounds} interleaved rounds)"
        );
        let names = [
            "intake read_frame (TokioIo), length off the wire",
            "intake read_frame (futures-io via compat), zeroing",
            "tokio read_exact into a fresh vec![0; n]",
            "futures-lite read_exact into a fresh vec![0; n]",
        ];
        let costs = interleaved_runs(rounds, names.len(), |i| once(names[i], &wire));
        let medians: Vec<[f64; 3]> = costs
            .into_iter()
            .map(|c| {
                let of = |f: fn(&Cost) -> f64| median(c.iter().map(f).collect());
                [of(|c| c.receiver_cpu), of(|c| c.both_cpu), of(|c| c.wall)]
            })
            .collect();
        let futures_lite = medians[3];
        for (name, [receiver, both, wall]) in names.into_iter().zip(medians) {
            println!(
                "  {name:<50} receiver {:>5.3} ns/B ({:>4.2}x futures-lite's), both ends {:>5.3} ns/B ({:>4.2}x), {:>4.0} ms wall",
                receiver / BIG as f64 * 1e9,
                receiver / futures_lite[0],
                both / BIG as f64 * 1e9,
                both / futures_lite[1],
                wall * 1e3
            );
            json.push(format!("{{\"workload\":\"256MiB frame cpu {source}\",\"candidate\":\"{name}\",\"cpu_s\":{receiver:.6},\"both_cpu_s\":{both:.6},\"wall_s\":{wall:.6}}}"));
        }
    }
}
