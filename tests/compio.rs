//! The completion path (`--features compio`): compio's owned-buffer I/O
//! behind `CompioIo`, driven through the adversarial kit (every delivery,
//! EOF at every offset, errors mid-frame, cancellation at every poll,
//! partial writes), the lent memory checked by address, and loopback TCP on
//! compio's runtime (io_uring, or its polling driver with
//! `INTAKE_COMPIO_DRIVER=polling`). Every other test file also runs on
//! compio's runtime with the feature (`on_both_runtimes`).
#![cfg(feature = "compio")]
#![cfg(not(miri))] // io_uring and epoll are system calls Miri does not model
mod common;

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use futures::{SinkExt, StreamExt};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use intake::frame::{Delimited, FramedRead, FramedWrite};
use intake::{CompioIo, Error, LengthPrefix, StreamReader, StreamWriter};

#[test]
fn every_read_through_compio_io_under_every_delivery() {
    on_both_runtimes(|| wrapped::every_read_under_every_delivery(via_compio));
}

#[test]
fn large_reads_into_caller_memory_go_through_the_buffer() {
    // A futures-io reader reads a large `read_exact_into` straight into
    // the caller's slice; a completion read cannot borrow it (it may
    // outlive the future), so the bytes come through the buffer.
    on_both_runtimes(|| async {
        let data = pattern(300_000, 9);
        for (how, src) in deliveries(&data) {
            let mut r = StreamReader::with_capacity(1024, via_compio(src));
            let mut dst = vec![0u8; data.len()];
            r.read_exact_into(&mut dst).await.unwrap();
            assert_eq!(dst, data, "{how}");
            let mut more = Vec::new();
            r.read_to_end(&mut more).await.unwrap();
            assert!(more.is_empty(), "{how}");
        }
    });
}

#[test]
fn eof_at_every_offset_through_compio_io() {
    on_both_runtimes(|| wrapped::eof_at_every_offset(via_compio));
}

#[test]
fn error_mid_frame_through_compio_io_keeps_bytes_and_retry_completes() {
    on_both_runtimes(|| wrapped::error_mid_frame_keeps_bytes(via_compio));
}

#[test]
fn cancellation_at_every_poll_through_compio_io() {
    on_both_runtimes(|| wrapped::cancellation_at_every_poll(via_compio));
}

#[test]
fn cancelled_reads_of_every_kind_lose_nothing() {
    // Every read is first polled k times and dropped; whatever a dropped
    // read left in flight, the next one takes up.
    on_both_runtimes(|| async {
        let mut data = Vec::new();
        for i in 0..40 {
            data.extend_from_slice(format!("line {i}\n").as_bytes());
        }
        for k in 1..6 {
            let src = ScriptedReader::chunked(&data, 3, true);
            let mut r = StreamReader::with_capacity(16, via_compio(src));
            let mut got = Vec::new();
            loop {
                // A peek dropped after k polls: it may leave a read in
                // flight, or bytes buffered; neither may be lost.
                let _ = poll_at_most(r.peek(2), k);
                let line = match poll_at_most(r.read_until(b"\n"), k) {
                    Some(res) => res,
                    None => r.read_until(b"\n").await,
                };
                match line {
                    Ok(Some(line)) => got.extend_from_slice(&line),
                    Ok(None) | Err(Error::UnexpectedEof { .. }) => break,
                    Err(e) => panic!("{e}"),
                }
                let five = match poll_at_most(r.read_exactly(5), k) {
                    Some(res) => res,
                    None => r.read_exactly(5).await,
                };
                match five {
                    Ok(b) => got.extend_from_slice(&b),
                    Err(Error::UnexpectedEof { .. }) => break,
                    Err(e) => panic!("{e}"),
                }
            }
            got.extend_from_slice(r.buffer());
            assert_eq!(got, data, "k = {k}");
        }
    });
}

/// A compio source that records where each read was told to put its
/// bytes, over a script.
struct Recording {
    src: AsCompio<ScriptedReader>,
    addrs: Rc<RefCell<Vec<usize>>>,
}

impl compio::io::AsyncRead for Recording {
    async fn read<B: compio::buf::IoBufMut>(&mut self, mut buf: B) -> compio::BufResult<usize, B> {
        self.addrs
            .borrow_mut()
            .push(buf.as_uninit().as_ptr() as usize);
        self.src.read(buf).await
    }
}

#[test]
fn the_source_writes_where_the_frame_lives() {
    // No staging buffer: the memory each read is lent is the reader's own,
    // and the frame handed out is that memory.
    on_both_runtimes(|| async {
        let body = pattern(100_000, 4);
        let mut wire = (body.len() as u32).to_be_bytes().to_vec();
        wire.extend_from_slice(&body);
        let addrs = Rc::new(RefCell::new(Vec::new()));
        let src = Recording {
            src: AsCompio(ScriptedReader::chunked(&wire, 7000, true)),
            addrs: addrs.clone(),
        };
        // A capacity that holds the frame: no growth moves it, so every read
        // after the header's lands in the frame's final memory (with growth,
        // reads before the last one land in memory since let go, which the
        // allocator may or may not give back at the frame's address).
        let mut r = StreamReader::with_capacity(128 * 1024, CompioIo::new(src));
        let frame = r.read_frame(&LengthPrefix::new(4)).await.unwrap().unwrap();
        assert_eq!(frame, body);
        let start = frame.as_ptr() as usize;
        let range = start..start + frame.len();
        let addrs = addrs.borrow();
        // The reads of the frame's bytes (after the header's) wrote inside it.
        let inside = addrs.iter().filter(|a| range.contains(a)).count();
        assert!(
            inside >= body.len() / 7000 - 1,
            "{inside} of {} reads wrote into the frame's memory",
            addrs.len()
        );
    });
}

#[test]
fn a_source_replaced_with_a_read_in_flight_leaves_a_working_reader() {
    on_both_runtimes(|| async {
        let src = ScriptedReader::new([Step::Pending, Step::Data(b"lost".to_vec())]);
        let mut r = StreamReader::with_capacity(16, via_compio(src));
        assert!(poll_at_most(r.read_exactly(4), 1).is_none());
        assert!(r.get_ref().is_busy(), "the read is in flight");
        // The lent tail goes with the old source.
        *r.get_mut() = via_compio(ScriptedReader::chunked(b"fresh bytes", 2, true));
        assert_eq!(&r.read_exactly(11).await.unwrap()[..], b"fresh bytes");
    });
}

#[test]
fn writer_through_compio_io_with_partial_writes_pending_and_cancellation() {
    on_both_runtimes(|| async {
        for (max, pending) in [(1, true), (7, false), (1500, true)] {
            for k in [0, 1, 2, 5] {
                let mut w = StreamWriter::new(via_compio(SlowWriter::new(max, pending)));
                let mut expected = Vec::new();
                for i in 0..150u32 {
                    let item = pattern((i as usize * 13) % 200, u64::from(i));
                    // A send dropped after k polls queues the whole item or
                    // nothing; a flush dropped mid-write leaves the write in
                    // flight, taken up by the next one.
                    if poll_at_most(w.send(Bytes::from(item.clone())), k).is_some() {
                        expected.extend_from_slice(&item);
                    }
                    w.send_frame(&LengthPrefix::new(4), Bytes::from(item.clone()))
                        .await
                        .unwrap();
                    expected.extend_from_slice(&(item.len() as u32).to_be_bytes());
                    expected.extend_from_slice(&item);
                    let _ = poll_at_most(w.flush(), k);
                    w.write_all(b"|").await.unwrap();
                    expected.push(b'|');
                }
                w.close().await.unwrap();
                assert_eq!(w.pending(), 0);
                let inner = w.into_inner().into_inner().expect("idle after close");
                let sink = inner.0;
                assert_eq!(sink.data, expected, "max {max}, pending {pending}, k {k}");
                assert_eq!(sink.closes, 1, "shut down once");
            }
        }
    });
}

#[test]
fn writer_errors_through_compio_io_keep_pending_exact() {
    on_both_runtimes(|| async {
        let mut w = StreamWriter::new(via_compio(SlowWriter::new(10, true).failing_after(25)));
        let data = pattern(100, 5);
        w.send(Bytes::from(data.clone())).await.unwrap();
        assert!(w.flush().await.is_err());
        let sent = w.get_ref().get_ref().unwrap().0.data.len();
        assert_eq!(w.pending(), data.len() - sent, "pending is exact");
    });
}

/// Frames one way and lines the other over compio sockets, on compio's
/// runtime: the reader and the writer of each side over clones of one
/// `TcpStream` (a read and a write in flight at once).
#[test]
fn loopback_tcp_on_compio() {
    compio_runtime().block_on(async {
        let listener = compio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, server) =
            futures_lite::future::zip(compio::net::TcpStream::connect(addr), listener.accept())
                .await;
        let (client, (server, _)) = (client.unwrap(), server.unwrap());
        let (wire, frames) = wrapped::framed_input(300);
        let frames2 = frames.clone();
        let send = async move {
            let mut w = StreamWriter::new(CompioIo::new(client.clone()));
            for piece in wire.chunks(1009) {
                w.write_all(piece).await.unwrap();
            }
            w.flush().await.unwrap();
            let mut r = StreamReader::new(CompioIo::new(client));
            for (i, f) in frames2.iter().enumerate() {
                let line = r.read_until(b"\n").await.unwrap().unwrap();
                assert_eq!(line, format!("{i} {}\n", f.len()).as_bytes());
            }
            assert!(r.read_until(b"\n").await.unwrap().is_none());
        };
        let receive = async move {
            let mut r = StreamReader::with_capacity(4096, CompioIo::new(server.clone()));
            let mut w = StreamWriter::new(CompioIo::new(server));
            for (i, expected) in frames.iter().enumerate() {
                let f = r.read_frame(&LengthPrefix::new(2)).await.unwrap().unwrap();
                assert_eq!(&f[..], &expected[..]);
                w.write_all(format!("{i} {}\n", f.len()).as_bytes())
                    .await
                    .unwrap();
            }
            w.close().await.unwrap();
        };
        futures_lite::future::zip(send, receive).await;
    });
}

#[test]
fn framed_stream_and_sink_over_compio_tcp() {
    compio_runtime().block_on(async {
        let listener = compio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, server) =
            futures_lite::future::zip(compio::net::TcpStream::connect(addr), listener.accept())
                .await;
        let (client, (server, _)) = (client.unwrap(), server.unwrap());
        let lines: Vec<Bytes> = (0..1000)
            .map(|i| Bytes::from(format!("line number {i}")))
            .collect();
        let expected = lines.clone();
        let send = async move {
            let mut sink = FramedWrite::new(CompioIo::new(client), Delimited::lines());
            for l in lines {
                sink.feed(l).await.unwrap();
            }
            sink.close().await.unwrap();
        };
        let receive = async move {
            let codec = Delimited::lines().strip_line_ending();
            let stream = FramedRead::new(CompioIo::new(server), codec);
            let got: Vec<Bytes> = stream.map(Result::unwrap).collect().await;
            assert_eq!(got, expected);
        };
        futures_lite::future::zip(send, receive).await;
    });
}

#[test]
fn a_reader_dropped_with_a_read_in_flight_is_sound() {
    // The kernel still owns the lent memory after the reader is gone;
    // compio keeps it until the operation completes. The socket then
    // carries on for a new reader.
    compio_runtime().block_on(async {
        let listener = compio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, server) =
            futures_lite::future::zip(compio::net::TcpStream::connect(addr), listener.accept())
                .await;
        let (client, (server, _)) = (client.unwrap(), server.unwrap());
        for _ in 0..50 {
            let mut r = StreamReader::with_capacity(1 << 16, CompioIo::new(server.clone()));
            let mut read = Box::pin(r.read_exactly(10));
            assert!(futures_lite::future::poll_once(&mut read).await.is_none());
            drop(read);
            assert!(r.get_ref().is_busy(), "the read is in flight");
            drop(r);
        }
        let mut w = StreamWriter::new(CompioIo::new(client));
        w.write_all(b"after the drops").await.unwrap();
        w.close().await.unwrap();
        // Some of the dropped reads may have taken bytes (they completed
        // with nobody to give them to); the socket itself is fine.
        compio::time::sleep(Duration::from_millis(20)).await;
    });
}

/// A compio source that reports a count other than what it filled.
struct Miscounts;

impl compio::io::AsyncRead for Miscounts {
    async fn read<B: compio::buf::IoBufMut>(&mut self, buf: B) -> compio::BufResult<usize, B> {
        compio::BufResult(Ok(5), buf)
    }
}

#[test]
fn a_source_that_miscounts_is_invalid_data() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(CompioIo::new(Miscounts));
        match r.read_exactly(4).await {
            Err(Error::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::InvalidData),
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn a_cancelled_read_into_caller_memory_puts_its_bytes_back_while_a_read_is_in_flight() {
    // `read_exact_into` copies buffered bytes into the caller's slice as
    // they come; dropped, it puts them back in front of the buffer, which
    // may happen while the next read holds the buffer's lent tail.
    on_both_runtimes(|| async {
        let data = pattern(5000, 8);
        for k in 1..12 {
            for chunk in [1, 7, 100, 1500] {
                let src = ScriptedReader::chunked(&data, chunk, true);
                let mut r = StreamReader::with_capacity(64, via_compio(src));
                let mut got = Vec::new();
                while got.len() < data.len() {
                    let want = 300.min(data.len() - got.len());
                    let mut dst = vec![0u8; want];
                    if poll_at_most(r.read_exact_into(&mut dst), k).is_some() {
                        got.extend_from_slice(&dst);
                        continue;
                    }
                    // Dropped mid-way: its bytes are back in the reader.
                    let mut dst = vec![0u8; want];
                    r.read_exact_into(&mut dst).await.unwrap();
                    got.extend_from_slice(&dst);
                }
                assert_eq!(got, data, "k = {k}, chunk = {chunk}");
            }
        }
    });
}

#[test]
fn a_source_taken_out_with_a_read_in_flight_brings_its_bytes_to_the_next_reader() {
    on_both_runtimes(|| async {
        let src = ScriptedReader::new([
            Step::Data(b"one ".to_vec()),
            Step::Pending,
            Step::Data(b"two three".to_vec()),
        ]);
        let mut r = StreamReader::with_capacity(16, via_compio(src));
        assert!(poll_at_most(r.read_exactly(8), 1).is_none());
        let (inner, buffered) = r.into_parts();
        assert_eq!(&buffered[..], b"one ");
        assert!(inner.is_busy(), "the read is still in flight");
        // The next reader takes up the read, and its bytes, from the source.
        let mut r = StreamReader::with_capacity(16, inner);
        assert_eq!(&r.read_exactly(9).await.unwrap()[..], b"two three");
        assert!(r.read_until(b"\n").await.unwrap().is_none());
    });
}

/// A compio sink that records where each buffer it is handed lives, and
/// takes everything.
struct RecordingSink {
    seen: Rc<RefCell<Vec<(usize, usize)>>>,
    data: Rc<RefCell<Vec<u8>>>,
}

impl compio::io::AsyncWrite for RecordingSink {
    async fn write<B: compio::buf::IoBuf>(&mut self, buf: B) -> compio::BufResult<usize, B> {
        let b = buf.as_init();
        self.seen.borrow_mut().push((b.as_ptr() as usize, b.len()));
        self.data.borrow_mut().extend_from_slice(b);
        compio::BufResult(Ok(b.len()), buf)
    }
    async fn write_vectored<V: compio::buf::IoVectoredBuf>(
        &mut self,
        bufs: V,
    ) -> compio::BufResult<usize, V> {
        let mut n = 0;
        for b in bufs.iter_slice() {
            self.seen.borrow_mut().push((b.as_ptr() as usize, b.len()));
            self.data.borrow_mut().extend_from_slice(b);
            n += b.len();
        }
        compio::BufResult(Ok(n), bufs)
    }
    async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    async fn shutdown(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn kept_bytes_go_to_the_kernel_uncopied() {
    on_both_runtimes(|| async {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let data = Rc::new(RefCell::new(Vec::new()));
        let sink = RecordingSink {
            seen: seen.clone(),
            data: data.clone(),
        };
        let mut w = StreamWriter::new(CompioIo::new(sink));
        let big = Bytes::from(pattern(100_000, 3));
        let prefix = LengthPrefix::new(4);
        w.send(Bytes::from_static(b"small ")).await.unwrap();
        w.send_frame(&prefix, big.clone()).await.unwrap();
        w.write_frame(&prefix, b"borrowed").await.unwrap();
        // A large borrowed write goes straight out, staged once.
        let borrowed = pattern(70_000, 4);
        w.write_all(&borrowed).await.unwrap();
        w.flush().await.unwrap();
        let mut expected = b"small ".to_vec();
        expected.extend_from_slice(&(big.len() as u32).to_be_bytes());
        expected.extend_from_slice(&big);
        expected.extend_from_slice(&8u32.to_be_bytes());
        expected.extend_from_slice(b"borrowed");
        expected.extend_from_slice(&borrowed);
        assert_eq!(*data.borrow(), expected);
        // The large payload was handed over where it lives.
        assert!(
            seen.borrow()
                .iter()
                .any(|&(at, len)| at == big.as_ptr() as usize && len == big.len()),
            "{:?}",
            seen.borrow()
        );
    });
}

/// A compio sink whose flush and shutdown each wait once, counting them.
#[derive(Default)]
struct SlowFlush {
    flushes: Rc<RefCell<usize>>,
    shutdowns: Rc<RefCell<usize>>,
}

impl compio::io::AsyncWrite for SlowFlush {
    async fn write<B: compio::buf::IoBuf>(&mut self, buf: B) -> compio::BufResult<usize, B> {
        let n = buf.as_init().len();
        compio::BufResult(Ok(n), buf)
    }
    async fn flush(&mut self) -> io::Result<()> {
        futures_lite::future::yield_now().await;
        *self.flushes.borrow_mut() += 1;
        Ok(())
    }
    async fn shutdown(&mut self) -> io::Result<()> {
        futures_lite::future::yield_now().await;
        *self.shutdowns.borrow_mut() += 1;
        Ok(())
    }
}

#[test]
fn a_close_after_a_dropped_flush_takes_up_the_flush_and_closes() {
    on_both_runtimes(|| async {
        for polls in 1..4 {
            let sink = SlowFlush::default();
            let (flushes, shutdowns) = (sink.flushes.clone(), sink.shutdowns.clone());
            let mut w = StreamWriter::new(CompioIo::new(sink));
            w.send(Bytes::from_static(b"x")).await.unwrap();
            // The flush is dropped with its operation in flight.
            let _ = poll_at_most(w.flush(), polls);
            w.close().await.unwrap();
            assert_eq!(*shutdowns.borrow(), 1, "polls {polls}");
            assert!(*flushes.borrow() <= 2, "polls {polls}");
            assert_eq!(w.pending(), 0);
        }
    });
}
