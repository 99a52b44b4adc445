//! The tokio path (`--features tokio`): tokio I/O types behind `TokioIo`,
//! driven through the adversarial kit (every delivery, EOF at every offset,
//! errors mid-frame, cancellation at every poll, partial writes), tokio's
//! own I/O traits on the reader and the writer, and loopback TCP on tokio's
//! current-thread and multi-thread runtimes. Every other test file also
//! runs on both tokio runtimes with the feature (`on_both_runtimes`), and
//! the property test plays its oracle through `TokioIo` as well.
#![cfg(feature = "tokio")]
#![cfg(not(miri))] // tokio's reactor needs system calls Miri does not model
mod common;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use common::*;
use futures::{SinkExt, StreamExt};
use intake::frame::{Delimited, FramedRead, FramedWrite};
use intake::{Error, LengthPrefix, StreamReader, StreamWriter, TokioIo};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

#[test]
fn every_read_through_tokio_io_under_every_delivery() {
    on_both_runtimes(|| wrapped::every_read_under_every_delivery(via_tokio));
}

#[test]
fn eof_at_every_offset_through_tokio_io() {
    on_both_runtimes(|| wrapped::eof_at_every_offset(via_tokio));
}

#[test]
fn error_mid_frame_through_tokio_io_keeps_bytes_and_retry_completes() {
    on_both_runtimes(|| wrapped::error_mid_frame_keeps_bytes(via_tokio));
}

#[test]
fn cancellation_at_every_poll_through_tokio_io() {
    on_both_runtimes(|| wrapped::cancellation_at_every_poll(via_tokio));
}

#[test]
fn writer_through_tokio_io_with_partial_writes_and_pending() {
    on_both_runtimes(|| async {
        for (max, pending) in [(1, true), (7, false), (1500, true)] {
            let mut w = StreamWriter::new(via_tokio(SlowWriter::new(max, pending)));
            let mut expected = Vec::new();
            for i in 0..200u32 {
                let item = pattern((i as usize * 13) % 200, u64::from(i));
                w.send(Bytes::from(item.clone())).await.unwrap();
                expected.extend_from_slice(&item);
                w.send_frame(&LengthPrefix::new(4), Bytes::from(item.clone()))
                    .await
                    .unwrap();
                expected.extend_from_slice(&(item.len() as u32).to_be_bytes());
                expected.extend_from_slice(&item);
                // tokio's own `AsyncWrite` on the writer.
                w.write_all(b"|").await.unwrap();
                expected.push(b'|');
            }
            w.shutdown().await.unwrap();
            assert_eq!(w.pending(), 0);
            let sink = &w.get_ref().get_ref().0;
            assert_eq!(sink.data, expected, "max {max}, pending {pending}");
            assert_eq!(sink.closes, 1, "poll_shutdown closed it once");
        }
    });
}

#[test]
fn tokio_traits_on_a_reader_over_a_futures_source() {
    on_both_runtimes(|| async {
        let data = b"first line\nsecond line\nthe rest".to_vec();
        for (how, src) in deliveries(&data) {
            // The reader over a futures-io source, handed to tokio code.
            let mut r = StreamReader::with_capacity(4, src);
            let mut line = String::new();
            AsyncBufReadExt::read_line(&mut r, &mut line).await.unwrap();
            assert_eq!(line, "first line\n", "{how}");
            let mut rest = Vec::new();
            AsyncReadExt::read_to_end(&mut r, &mut rest).await.unwrap();
            assert_eq!(rest, b"second line\nthe rest", "{how}");
        }
    });
}

#[test]
fn tokio_copy_from_reader_to_writer() {
    on_both_runtimes(|| async {
        let data = pattern(100_000, 3);
        let mut r =
            StreamReader::with_capacity(1000, via_tokio(ScriptedReader::chunked(&data, 777, true)));
        let mut w = StreamWriter::new(via_tokio(SlowWriter::new(1500, true)));
        let n = tokio::io::copy(&mut r, &mut w).await.unwrap();
        w.flush().await.unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(w.get_ref().get_ref().0.data, data);
    });
}

/// A tokio reader that swaps the `ReadBuf` it was handed for its own.
struct SwapsReadBuf;

impl tokio::io::AsyncRead for SwapsReadBuf {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let own: &'static mut [u8] = Box::leak(vec![1u8; 4].into_boxed_slice());
        *buf = tokio::io::ReadBuf::new(own);
        buf.advance(4);
        Poll::Ready(Ok(()))
    }
}

#[test]
fn a_reader_that_swaps_the_read_buf_is_invalid_data_not_garbage() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(TokioIo::new(SwapsReadBuf));
        match r.read_exactly(4).await {
            Err(Error::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::InvalidData),
            other => panic!("{other:?}"),
        }
    });
}

/// Frames one way and lines the other over a real tokio socket split in
/// halves, on one runtime.
async fn tokio_tcp_round_trip() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, server) = tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
    let (client, (server, _)) = (client.unwrap(), server.unwrap());
    let (wire, frames) = wrapped::framed_input(300);
    let frames2 = frames.clone();
    let send = async move {
        let (rd, wr) = client.into_split();
        let mut w = StreamWriter::new(TokioIo::new(wr));
        for piece in wire.chunks(1009) {
            w.write_all(piece).await.unwrap();
        }
        w.flush().await.unwrap();
        // The answers: one line per frame.
        let mut r = StreamReader::new(TokioIo::new(rd));
        for (i, f) in frames2.iter().enumerate() {
            let line = r.read_until(b"\n").await.unwrap().unwrap();
            assert_eq!(line, format!("{i} {}\n", f.len()).as_bytes());
        }
        assert!(r.read_until(b"\n").await.unwrap().is_none());
        w.shutdown().await.unwrap();
    };
    let receive = async move {
        // One `StreamReader` over the whole socket: reads buffered, the
        // replies passed straight through its `AsyncWrite`.
        let mut r = StreamReader::with_capacity(4096, TokioIo::new(server));
        for (i, expected) in frames.iter().enumerate() {
            let f = r.read_frame(&LengthPrefix::new(2)).await.unwrap().unwrap();
            assert_eq!(&f[..], &expected[..]);
            r.write_all(format!("{i} {}\n", f.len()).as_bytes())
                .await
                .unwrap();
        }
        r.shutdown().await.unwrap();
        assert!(r.read_frame(&LengthPrefix::new(2)).await.unwrap().is_none());
    };
    tokio::join!(send, receive);
}

#[test]
fn loopback_tcp_on_both_tokio_runtimes() {
    for runtime in tokio_runtimes() {
        runtime.block_on(tokio_tcp_round_trip());
    }
}

#[test]
fn framed_stream_and_sink_over_tokio_tcp() {
    for runtime in tokio_runtimes() {
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (client, server) =
                tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
            let (client, (server, _)) = (client.unwrap(), server.unwrap());
            let lines: Vec<Bytes> = (0..1000)
                .map(|i| Bytes::from(format!("line number {i}")))
                .collect();
            let expected = lines.clone();
            let send = async move {
                let mut sink = FramedWrite::new(TokioIo::new(client), Delimited::lines());
                for l in lines {
                    sink.feed(l).await.unwrap();
                }
                sink.close().await.unwrap();
            };
            let receive = async move {
                let codec = Delimited::lines().strip_line_ending();
                let stream = FramedRead::new(TokioIo::new(server), codec);
                let got: Vec<Bytes> = stream.map(Result::unwrap).collect().await;
                assert_eq!(got, expected);
            };
            tokio::join!(send, receive);
        });
    }
}

/// Over a tokio socket that fills up, small writes do not make a failed
/// system call each (the regression of `tests/writer.rs`'s loopback test,
/// on tokio's traits).
#[test]
fn small_writes_to_a_full_tokio_socket_do_not_retry_per_item() {
    const ITEMS: usize = 200_000;
    for runtime in tokio_runtimes() {
        let busy = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (client, server) =
                tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
            let (client, (mut server, _)) = (client.unwrap(), server.unwrap());
            let send = async {
                let mut w = StreamWriter::new(TokioIo::new(CountingBusy::new(client)));
                for i in 0..ITEMS {
                    w.write_all(&[i as u8; 64]).await.unwrap();
                }
                w.shutdown().await.unwrap();
                w.get_ref().get_ref().busy
            };
            let recv = async {
                let mut buf = vec![0u8; 64 * 1024];
                let (mut total, mut sum) = (0usize, 0u64);
                loop {
                    let n = server.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return (total, sum);
                    }
                    total += n;
                    sum += buf[..n].iter().map(|&b| u64::from(b)).sum::<u64>();
                }
            };
            let (busy, (total, sum)) = tokio::join!(send, recv);
            assert_eq!(total, ITEMS * 64);
            let expected: u64 = (0..ITEMS).map(|i| 64 * u64::from(i as u8)).sum();
            assert_eq!(sum, expected);
            busy
        });
        assert!(
            busy <= ITEMS / 100,
            "{busy} write calls found the socket full for {ITEMS} items"
        );
    }
}
