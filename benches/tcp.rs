//! Loopback TCP on smol and on async-std:
//! - reads: 1 GiB of 1 MiB frames behind a 4-byte length, received by each
//!   candidate; the floor is a raw read loop into one reused buffer;
//! - writes: 1M writes of 64 B (64 MB), and 64 MB in frames of 64 B and of
//!   16 KiB behind a 4-byte length, sent by each buffered writer and
//!   drained by a raw read loop; the floor is one `write_all` of the whole
//!   64 MB. Each
//!   candidate's write calls (system calls) are printed: the in-memory
//!   writes bench cannot show what they cost.
mod common;

use bytes::Bytes;
use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::future::zip;
use futures_lite::{AsyncReadExt, AsyncWriteExt, StreamExt};

const FRAME: usize = 1 << 20;
const FRAMES: usize = 1024;

async fn send<W: AsyncWrite + Unpin>(mut w: W) {
    let mut frame = (FRAME as u32).to_be_bytes().to_vec();
    frame.resize(4 + FRAME, 0xAB);
    for _ in 0..FRAMES {
        w.write_all(&frame).await.unwrap();
    }
    w.close().await.unwrap();
}

async fn receive<R: AsyncRead + Unpin>(candidate: &str, r: R) -> u64 {
    let mut total = 0u64;
    match candidate {
        "intake read_frame" => {
            let prefix = intake::LengthPrefix::new(4).max_frame_len(FRAME);
            let mut r = intake::StreamReader::with_capacity(64 * 1024, r);
            while let Some(f) = r.read_frame(&prefix).await.unwrap() {
                total += f.len() as u64;
            }
        }
        "futures-lite BufReader" => {
            let mut r = futures_lite::io::BufReader::new(r);
            let mut header = [0u8; 4];
            while r.read_exact(&mut header).await.is_ok() {
                let mut f = vec![0u8; u32::from_be_bytes(header) as usize];
                r.read_exact(&mut f).await.unwrap();
                total += f.len() as u64;
            }
        }
        "tokio-util FramedRead" => {
            use tokio_util::compat::FuturesAsyncReadCompatExt;
            let codec = tokio_util::codec::LengthDelimitedCodec::builder()
                .length_field_length(4)
                .max_frame_length(FRAME)
                .new_codec();
            let mut s = tokio_util::codec::FramedRead::new(r.compat(), codec);
            while let Some(f) = s.next().await {
                total += f.unwrap().len() as u64;
            }
        }
        "raw read loop (floor)" => {
            let mut r = r;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = r.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
            total -= 4 * FRAMES as u64;
        }
        other => unreachable!("{other}"),
    }
    total
}

const CANDIDATES: &[&str] = &[
    "intake read_frame",
    "futures-lite BufReader",
    "tokio-util FramedRead",
    "raw read loop (floor)",
];

/// One candidate receiving 1 GiB over a fresh loopback pair.
async fn transfer<S, Fut>(candidate: &str, pair: impl FnOnce() -> Fut)
where
    S: AsyncRead + AsyncWrite + Unpin,
    Fut: std::future::Future<Output = (S, S)>,
{
    let (client, server) = pair().await;
    let (_, got) = zip(send(client), receive(candidate, server)).await;
    assert_eq!(got, (FRAME * FRAMES) as u64, "{candidate}");
}

/// Runs one candidate's transfer on one runtime.
type Runner<'a> = &'a dyn Fn(&str);

/// The writes' data: 64 MB, in items of 64 B (1M of them) or 16 KiB.
const WRITE_DATA: usize = 64_000_000;

const WRITE_CANDIDATES: &[&str] = &[
    "intake StreamWriter write_all",
    "futures-lite BufWriter",
    "async-std BufWriter",
    "one write_all of it all (floor)",
];

/// A socket that counts its write calls: those that wrote, and those that
/// found it busy (`Pending`; on a socket, a system call that failed with
/// `EAGAIN`).
struct CountingWrites<W> {
    inner: W,
    calls: Rc<Cell<WriteCalls>>,
}

#[derive(Clone, Copy, Default)]
struct WriteCalls {
    wrote: u64,
    busy: u64,
    /// Bytes the calls that wrote took.
    bytes: u64,
}

impl<W> CountingWrites<W> {
    fn count(&self, r: &Poll<io::Result<usize>>) {
        let mut c = self.calls.get();
        match r {
            Poll::Ready(n) => {
                c.wrote += 1;
                c.bytes += *n.as_ref().unwrap_or(&0) as u64;
            }
            Poll::Pending => c.busy += 1,
        }
        self.calls.set(c);
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for CountingWrites<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.count(&r);
        r
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.count(&r);
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

const FRAME_CANDIDATES: &[&str] = &[
    "intake StreamWriter send_frame",
    "intake StreamWriter write_frame",
    "tokio-util FramedWrite LengthDelimitedCodec",
    "futures-lite BufWriter header + payload",
];

/// Sends `data` as writes (or frames) of `item` bytes through one
/// candidate's buffered writer (the floor: one `write_all` of all of it),
/// then closes.
async fn send_small<W: AsyncWrite + Unpin>(candidate: &str, w: W, data: &Bytes, item: usize) {
    let prefix = intake::LengthPrefix::new(4).max_frame_len(usize::MAX);
    let items = (0..data.len().div_ceil(item))
        .map(|i| data.slice(i * item..((i + 1) * item).min(data.len())));
    match candidate {
        "intake StreamWriter send_frame" => {
            let mut w = intake::StreamWriter::new(w);
            for item in items {
                w.send_frame(&prefix, item).await.unwrap();
            }
            w.close().await.unwrap();
        }
        "intake StreamWriter write_frame" => {
            let mut w = intake::StreamWriter::new(w);
            for item in data.chunks(item) {
                w.write_frame(&prefix, item).await.unwrap();
            }
            w.close().await.unwrap();
        }
        "tokio-util FramedWrite LengthDelimitedCodec" => {
            use futures_lite::future::poll_fn;
            use futures_sink::Sink;
            use tokio_util::compat::FuturesAsyncWriteCompatExt;
            let codec = tokio_util::codec::LengthDelimitedCodec::builder()
                .length_field_length(4)
                .max_frame_length(usize::MAX)
                .new_codec();
            let mut s = tokio_util::codec::FramedWrite::new(w.compat_write(), codec);
            for item in items {
                poll_fn(|cx| Sink::<Bytes>::poll_ready(Pin::new(&mut s), cx))
                    .await
                    .unwrap();
                Pin::new(&mut s).start_send(item).unwrap();
            }
            poll_fn(|cx| Sink::<Bytes>::poll_close(Pin::new(&mut s), cx))
                .await
                .unwrap();
        }
        "futures-lite BufWriter header + payload" => {
            let mut w = futures_lite::io::BufWriter::new(w);
            for item in data.chunks(item) {
                w.write_all(&(item.len() as u32).to_be_bytes())
                    .await
                    .unwrap();
                w.write_all(item).await.unwrap();
            }
            w.close().await.unwrap();
        }
        "intake StreamWriter write_all" => {
            let mut w = intake::StreamWriter::new(w);
            for item in data.chunks(item) {
                w.write_all(item).await.unwrap();
            }
            w.close().await.unwrap();
        }
        "futures-lite BufWriter" => {
            let mut w = futures_lite::io::BufWriter::new(w);
            for item in data.chunks(item) {
                w.write_all(item).await.unwrap();
            }
            w.close().await.unwrap();
        }
        "async-std BufWriter" => {
            use async_std::io::prelude::WriteExt;
            let mut w = async_std::io::BufWriter::new(w);
            for item in data.chunks(item) {
                WriteExt::write_all(&mut w, item).await.unwrap();
            }
            // Its `close` flushes, then closes the socket.
            AsyncWriteExt::close(&mut w).await.unwrap();
        }
        "one write_all of it all (floor)" => {
            let mut w = w;
            w.write_all(data).await.unwrap();
            w.close().await.unwrap();
        }
        other => unreachable!("{other}"),
    }
}

/// Drains the socket into one reused buffer; returns the bytes read.
async fn drain<R: AsyncRead + Unpin>(mut r: R) -> u64 {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = r.read(&mut buf).await.unwrap();
        if n == 0 {
            return total;
        }
        total += n as u64;
    }
}

/// One candidate sending 64 MB in writes (or frames, `framed`) of `item`
/// bytes over a fresh loopback pair; returns its write calls.
async fn transfer_small<S, Fut>(
    candidate: &str,
    pair: impl FnOnce() -> Fut,
    data: &Bytes,
    item: usize,
    framed: bool,
) -> WriteCalls
where
    S: AsyncRead + AsyncWrite + Unpin,
    Fut: std::future::Future<Output = (S, S)>,
{
    let (client, server) = pair().await;
    let calls = Rc::new(Cell::new(WriteCalls::default()));
    let client = CountingWrites {
        inner: client,
        calls: calls.clone(),
    };
    let (_, got) = zip(send_small(candidate, client, data, item), drain(server)).await;
    let headers = if framed {
        4 * data.len().div_ceil(item)
    } else {
        0
    };
    assert_eq!(got, (data.len() + headers) as u64, "{candidate}");
    calls.get()
}

/// Runs one candidate's small-write transfer on one runtime.
type WriteRunner<'a> = &'a dyn Fn(&str, usize, bool) -> WriteCalls;

fn bench_writes(c: &mut Criterion) {
    let data: Bytes = (0..WRITE_DATA).map(|i| i as u8).collect();
    let data = &data;
    let runtimes: [(&str, WriteRunner<'_>); 2] = [
        ("smol", &|cand, item, framed| {
            smol::block_on(transfer_small(cand, common::smol_pair, data, item, framed))
        }),
        ("async-std", &|cand, item, framed| {
            async_std::task::block_on(transfer_small(
                cand,
                common::async_std_pair,
                data,
                item,
                framed,
            ))
        }),
    ];
    for (what, item, framed, candidates) in [
        ("1M writes of 64B", 64, false, WRITE_CANDIDATES),
        ("1M frames of 64B", 64, true, FRAME_CANDIDATES),
        ("64MB in frames of 16KiB", 16 * 1024, true, FRAME_CANDIDATES),
    ] {
        for (runtime, run) in runtimes {
            let mut g = c.benchmark_group(format!("tcp {what} {runtime}"));
            g.throughput(Throughput::Elements(WRITE_DATA.div_ceil(item) as u64));
            g.sample_size(10)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(3));
            for &candidate in candidates {
                let calls = run(candidate, item, framed);
                println!(
                    "{runtime}/{candidate}: {} write calls ({} bytes each on average), \
                     and {} that found the socket busy",
                    calls.wrote,
                    calls.bytes / calls.wrote.max(1),
                    calls.busy
                );
                g.bench_function(candidate, |b| b.iter(|| run(candidate, item, framed)));
            }
            g.finish();
        }
    }
}

fn bench(c: &mut Criterion) {
    // The same transfers, driven by each runtime's executor and sockets.
    let runtimes: [(&str, Runner<'_>); 2] = [
        ("smol", &|cand| {
            smol::block_on(transfer(cand, common::smol_pair))
        }),
        ("async-std", &|cand| {
            async_std::task::block_on(transfer(cand, common::async_std_pair))
        }),
    ];
    for (runtime, run) in runtimes {
        let mut g = c.benchmark_group(format!("tcp 1GiB of 1MiB frames {runtime}"));
        g.throughput(Throughput::Bytes((FRAME * FRAMES) as u64));
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(5));
        for &candidate in CANDIDATES {
            g.bench_function(candidate, |b| b.iter(|| run(candidate)));
        }
        g.finish();
    }
}

criterion_group!(benches, bench, bench_writes);
criterion_main!(benches);
