//! intake on compio (io_uring) beside compio's own readers, on the same
//! transfers, in one run: loopback TCP (256 MiB of 1 MiB frames; 1M 64-byte
//! frames) and an in-memory source that gives at most C bytes per read
//! (C = 64 KiB and 1500). Candidates:
//! - intake `read_frame` over `CompioIo` (the kernel reads into intake's
//!   buffer);
//! - compio-io's `BufReader` + `read_exact` (header, then the payload into
//!   a `Vec` of its length), as its docs show;
//! - compio-io's `Framed` with its `LengthDelimited` framer and
//!   `BytesCodec`;
//! - a raw compio read loop into one reused buffer (the floor; TCP 1 MiB
//!   frames only);
//! - intake `read_frame` on smol (epoll), the same transfer over smol's
//!   sockets (TCP only).
//!
//! Run: `cargo bench --features intake-benches/compio --bench compio`.
mod common;

use std::time::Duration;

use bytes::Bytes;
use compio::buf::{BufResult, IoBufMut};
use compio::io::framed::codec::bytes::BytesCodec;
use compio::io::framed::frame::LengthDelimited;
use compio::io::framed::Framed;
use compio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use compio::net::{TcpListener, TcpStream};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_lite::StreamExt;

/// `count` frames of `size` bytes, each behind a 4-byte big-endian length.
fn wire(size: usize, count: usize) -> Bytes {
    let mut w = Vec::with_capacity((4 + size) * count);
    for i in 0..count {
        w.extend_from_slice(&(size as u32).to_be_bytes());
        w.extend(std::iter::repeat_n(i as u8, size));
    }
    Bytes::from(w)
}

/// Receives every frame with `candidate`; returns the payload bytes.
async fn receive<R: AsyncRead + Unpin + 'static>(candidate: &str, r: R, max_frame: usize) -> u64 {
    let mut total = 0u64;
    match candidate {
        "intake read_frame" => {
            let prefix = intake::LengthPrefix::new(4).max_frame_len(max_frame);
            let mut r = intake::StreamReader::with_capacity(64 * 1024, intake::CompioIo::new(r));
            while let Some(f) = r.read_frame(&prefix).await.unwrap() {
                total += f.len() as u64;
            }
        }
        "compio BufReader read_exact" => {
            let mut r = compio::io::BufReader::with_capacity(64 * 1024, r);
            loop {
                let BufResult(got, header) = r.read_exact([0u8; 4]).await;
                if got.is_err() {
                    break;
                }
                let len = u32::from_be_bytes(header) as usize;
                let BufResult(got, f) = r.read_exact(Vec::with_capacity(len)).await;
                got.unwrap();
                total += f.len() as u64;
            }
        }
        "compio Framed LengthDelimited" => {
            let framer = LengthDelimited::new().set_length_field_len(4);
            let mut s = Framed::symmetric::<Bytes>(BytesCodec::new(), framer).with_reader(r);
            while let Some(f) = s.next().await {
                total += f.unwrap().len() as u64;
            }
        }
        "raw compio read loop (floor)" => {
            let mut r = r;
            let mut buf = Vec::with_capacity(64 * 1024);
            let mut all = 0u64;
            loop {
                let BufResult(n, b) = r.read(buf).await;
                buf = b;
                let n = n.unwrap();
                if n == 0 {
                    break;
                }
                all += n as u64;
            }
            // Payload bytes, as the others count (frames of `max_frame`).
            total = all - all / (4 + max_frame as u64) * 4;
        }
        other => unreachable!("{other}"),
    }
    total
}

/// A connected pair of compio sockets on 127.0.0.1.
async fn compio_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (c, s) = futures_lite::future::zip(TcpStream::connect(addr), l.accept()).await;
    (c.unwrap(), s.unwrap().0)
}

/// One candidate receiving `data` over a fresh compio loopback pair.
async fn compio_tcp(candidate: &str, data: Bytes, size: usize) {
    let (mut client, server) = compio_pair().await;
    let expect = (data.len() / (4 + size) * size) as u64;
    let send = async move {
        // In pieces of at most 1 MiB, each an owned slice of `data`.
        let mut at = 0;
        while at < data.len() {
            let end = (at + (1 << 20)).min(data.len());
            let BufResult(r, _) = client.write_all(data.slice(at..end)).await;
            r.unwrap();
            at = end;
        }
        client.shutdown().await.unwrap();
    };
    let (_, got) = futures_lite::future::zip(send, receive(candidate, server, size)).await;
    assert_eq!(got, expect, "{candidate}");
}

/// intake on smol (epoll) receiving `data` over smol's loopback sockets.
async fn smol_tcp(data: Bytes, size: usize) {
    use futures_lite::AsyncWriteExt;
    let (mut client, server) = common::smol_pair().await;
    let expect = (data.len() / (4 + size) * size) as u64;
    let send = async move {
        client.write_all(&data).await.unwrap();
        client.close().await.unwrap();
    };
    let receive = async move {
        let prefix = intake::LengthPrefix::new(4).max_frame_len(size);
        let mut r = intake::StreamReader::with_capacity(64 * 1024, server);
        let mut total = 0u64;
        while let Some(f) = r.read_frame(&prefix).await.unwrap() {
            total += f.len() as u64;
        }
        total
    };
    let (_, got) = futures_lite::future::zip(send, receive).await;
    assert_eq!(got, expect);
}

/// An in-memory compio source that gives at most `max` bytes per read, as
/// a socket does.
struct Chunked {
    data: Bytes,
    at: usize,
    max: usize,
}

impl AsyncRead for Chunked {
    async fn read<B: IoBufMut>(&mut self, mut buf: B) -> BufResult<usize, B> {
        let dst = buf.as_uninit();
        let n = dst.len().min(self.max).min(self.data.len() - self.at);
        let src = &self.data[self.at..self.at + n];
        // SAFETY: `n` bytes are copied into the buffer's first `n` bytes,
        // which it owns; then they are initialized.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast::<u8>(), n);
            buf.set_len(n);
        }
        self.at += n;
        BufResult(Ok(n), buf)
    }
}

const COMPIO_CANDIDATES: &[&str] = &[
    "intake read_frame",
    "compio BufReader read_exact",
    "compio Framed LengthDelimited",
];

fn bench(c: &mut Criterion) {
    let rt = compio::runtime::Runtime::new().unwrap();
    println!("compio driver: {:?}", rt.driver_type());
    let workloads = [
        ("256MiB of 1MiB frames", 1 << 20, 256),
        ("1M 64B frames", 64, 1 << 20),
    ];
    for (name, size, count) in workloads {
        let data = wire(size, count);
        let mut g = c.benchmark_group(format!("compio tcp {name}"));
        g.throughput(Throughput::Bytes((size * count) as u64));
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(4));
        let mut candidates = COMPIO_CANDIDATES.to_vec();
        if size == 1 << 20 {
            candidates.push("raw compio read loop (floor)");
        }
        for candidate in candidates {
            g.bench_function(candidate, |b| {
                b.iter(|| rt.block_on(compio_tcp(candidate, data.clone(), size)))
            });
        }
        g.bench_function("intake read_frame on smol (epoll)", |b| {
            b.iter(|| smol::block_on(smol_tcp(data.clone(), size)))
        });
        g.finish();

        for max in [64 * 1024, 1500] {
            let mut g = c.benchmark_group(format!("compio memory {name} C={max}"));
            g.throughput(Throughput::Bytes((size * count) as u64));
            g.sample_size(10)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(3));
            for &candidate in COMPIO_CANDIDATES {
                g.bench_function(candidate, |b| {
                    b.iter(|| {
                        let src = Chunked {
                            data: data.clone(),
                            at: 0,
                            max,
                        };
                        let got = rt.block_on(receive(candidate, src, size));
                        assert_eq!(got, (size * count) as u64, "{candidate}");
                    })
                });
            }
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
