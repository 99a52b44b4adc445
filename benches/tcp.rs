//! Loopback TCP on smol and on async-std: 1 GiB of 1 MiB frames behind a
//! 4-byte length, received by each candidate; the floor is a raw read loop
//! into one reused buffer.
mod common;

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

criterion_group!(benches, bench);
criterion_main!(benches);
