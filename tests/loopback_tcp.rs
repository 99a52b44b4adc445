//! Real sockets: a peer on 127.0.0.1 writes frames and lines in odd-sized
//! writes; the StreamReader reads them on smol and on async-std.
mod common;

use common::pattern;
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::future::zip;
use futures_lite::AsyncWriteExt;
use intake::StreamReader;

/// What the writer sends: length-prefixed binary frames, then text lines.
fn wire() -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut wire = Vec::new();
    let mut frames = Vec::new();
    for i in 0..200usize {
        let frame = pattern(i * 97 % 20_000, i as u64);
        wire.extend_from_slice(&(frame.len() as u32).to_be_bytes());
        wire.extend_from_slice(&frame);
        frames.push(frame);
    }
    for i in 0..500 {
        wire.extend_from_slice(format!("line {i} {}\r\n", "x".repeat(i % 50)).as_bytes());
    }
    (wire, frames)
}

async fn send<W: AsyncWrite + Unpin>(mut w: W, wire: Vec<u8>) {
    // Odd-sized writes so frames and delimiters straddle segments.
    for piece in wire.chunks(1009) {
        w.write_all(piece).await.unwrap();
    }
    w.close().await.unwrap();
}

async fn receive<R: AsyncRead + Unpin>(r: R, frames: Vec<Vec<u8>>) {
    let mut r = StreamReader::with_capacity(4096, r);
    for expected in frames {
        let header = r.read_exactly(4).await.unwrap();
        let len = u32::from_be_bytes(header[..].try_into().unwrap()) as usize;
        let frame = r.read_exactly(len).await.unwrap();
        assert_eq!(&frame[..], &expected[..]);
    }
    for i in 0..500 {
        let line = r.read_until(b"\r\n").await.unwrap().unwrap();
        assert_eq!(
            line,
            format!("line {i} {}\r\n", "x".repeat(i % 50)).as_bytes()
        );
    }
    assert!(r.read_until(b"\r\n").await.unwrap().is_none(), "clean end");
}

#[test]
#[cfg_attr(miri, ignore = "needs a real socket (loopback TCP)")]
fn loopback_tcp_frames_and_lines_on_smol() {
    smol::block_on(async {
        let (client, server) = common::smol_pair().await;
        let (wire, frames) = wire();
        zip(receive(server, frames), send(client, wire)).await;
    });
}

#[test]
#[cfg_attr(miri, ignore = "needs a real socket (loopback TCP)")]
fn loopback_tcp_frames_and_lines_on_async_std() {
    async_std::task::block_on(async {
        let (client, server) = common::async_std_pair().await;
        let (wire, frames) = wire();
        zip(receive(server, frames), send(client, wire)).await;
    });
}
