//! intake on tokio's own traits (`TokioIo`, no compat) against tokio-util's
//! `FramedRead` (`LengthDelimitedCodec`, `LinesCodec`) and tokio's
//! `BufReader`, all on the same in-memory tokio source (at most C bytes per
//! read, C = 64 KiB and 1500); then loopback TCP with 1 MiB frames on tokio's
//! runtime against a raw read loop; then the CPU time (getrusage, the
//! receiving thread) per byte of a 256 MiB frame whose length came off the
//! wire, against `read_exact` into a fresh `vec![0; n]`.
//!
//! Median of several runs per candidate, every output checked. Prints
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

/// Median seconds of `runs` runs, checking every output against `expected`.
fn time(run: impl Fn() -> Check, expected: Check, runs: usize) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let got = run();
            let secs = start.elapsed().as_secs_f64();
            assert_eq!(got, expected);
            secs
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[runs / 2]
}

fn table(
    json: &mut Vec<String>,
    title: &str,
    items: f64,
    unit: &str,
    input: &[u8],
    candidates: &[Candidate],
) {
    for chunk in [64 * 1024, 1500] {
        println!("\n{title}, C = {chunk}");
        let expected = candidates[0].1(input, chunk);
        let rows: Vec<(&str, f64)> = candidates
            .iter()
            .map(|&(name, run)| (name, time(|| run(input, chunk), expected, 7)))
            .collect();
        let peer = rows
            .iter()
            .filter(|(n, _)| !n.starts_with("intake"))
            .map(|r| r.1)
            .fold(f64::INFINITY, f64::min);
        for (name, secs) in rows {
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
        "raw read loop, 64 KiB buffer (floor)" => {
            let mut sock = sock;
            let mut buf = vec![0u8; 64 * 1024];
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

/// One transfer of `wire`: a sender thread writes it over loopback TCP and
/// this thread receives it with `receive` on a current-thread tokio
/// runtime. Returns what `receive` returned, the wall seconds and this
/// thread's CPU seconds (user + system).
fn over_tcp<T, Fut>(
    wire: &[u8],
    receive: impl FnOnce(tokio::net::TcpStream) -> Fut,
) -> (T, f64, f64)
where
    Fut: std::future::Future<Output = T>,
{
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::scope(|s| {
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
        let (cpu0, start) = (thread_cpu(), Instant::now());
        let got =
            rt.block_on(async { receive(tokio::net::TcpStream::from_std(sock).unwrap()).await });
        (got, start.elapsed().as_secs_f64(), thread_cpu() - cpu0)
    })
}

/// Seconds for one 256 MiB transfer of 1 MiB frames.
fn tcp_once(candidate: &str, wire: &[u8]) -> f64 {
    let (got, secs, _) = over_tcp(wire, |sock| tcp_receive(candidate, sock));
    assert_eq!(got, (TCP_FRAME * TCP_FRAMES) as u64, "{candidate}");
    secs
}

// ------------------------------------------------------- CPU per large byte

/// CPU seconds (user + system) of the calling thread so far.
fn thread_cpu() -> f64 {
    // SAFETY: `getrusage` writes one `rusage` into the zeroed struct we own.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above; RUSAGE_THREAD is valid on Linux.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) };
    assert_eq!(rc, 0);
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

const BIG: usize = 256 << 20;

async fn big_receive(candidate: &str, sock: tokio::net::TcpStream) -> usize {
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

/// (wall seconds, receiving thread's CPU seconds) for one 256 MiB frame.
fn big_once(candidate: &str, wire: &[u8]) -> (f64, f64) {
    let (got, secs, cpu) = over_tcp(wire, |sock| big_receive(candidate, sock));
    assert_eq!(got, BIG, "{candidate}");
    (secs, cpu)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("tokio: bench");
        return;
    }
    let mut json = Vec::new();
    // `ONLY=tcp` or `ONLY=cpu` runs one table alone, for repeated runs of
    // the noisiest figures.
    let only = std::env::var("ONLY").unwrap_or_default();
    if only.is_empty() {
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
    println!("\nloopback TCP, 256 MiB of 1 MiB frames, tokio current-thread runtime (median of 7)");
    let tcp = [
        "intake read_frame (TokioIo)",
        "tokio-util FramedRead LengthDelimitedCodec",
        "raw read loop, 64 KiB buffer (floor)",
        "raw read_exact of each frame into one reused 1 MiB buffer",
    ];
    // Each candidate's median, measured once; the floor is the last row's.
    let medians: Vec<f64> = tcp
        .iter()
        .map(|name| {
            let mut t: Vec<f64> = (0..7).map(|_| tcp_once(name, &wire)).collect();
            t.sort_by(f64::total_cmp);
            t[3]
        })
        .collect();
    let (floor, contiguous) = (medians[2], medians[3]);
    for (name, secs) in tcp.into_iter().zip(medians) {
        println!(
            "  {name:<58} {:>6.2} GB/s  {:>5.2}x the floor's time, {:>5.2}x the 1 MiB read_exact loop's",
            (TCP_FRAME * TCP_FRAMES) as f64 / secs / 1e9,
            secs / floor,
            secs / contiguous
        );
        json.push(format!("{{\"workload\":\"tcp 1MiB frames tokio\",\"candidate\":\"{name}\",\"median_s\":{secs:.6}}}"));
    }
}

fn cpu_table(json: &mut Vec<String>) {
    let mut wire = (BIG as u32).to_be_bytes().to_vec();
    wire.resize(4 + BIG, 0x5A);
    println!(
        "\none 256 MiB frame over loopback TCP: receiving thread's CPU per byte (median of 5)"
    );
    for name in [
        "intake read_frame (TokioIo), length off the wire",
        "intake read_frame (futures-io via compat), zeroing",
        "tokio read_exact into a fresh vec![0; n]",
        "futures-lite read_exact into a fresh vec![0; n]",
    ] {
        let mut runs: Vec<(f64, f64)> = (0..5).map(|_| big_once(name, &wire)).collect();
        runs.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (secs, cpu) = runs[2];
        println!(
            "  {name:<50} {:>6.2} ns CPU/byte  {:>6.0} ms wall",
            cpu / BIG as f64 * 1e9,
            secs * 1e3
        );
        json.push(format!("{{\"workload\":\"256MiB frame cpu\",\"candidate\":\"{name}\",\"cpu_s\":{cpu:.6},\"wall_s\":{secs:.6}}}"));
    }
}
