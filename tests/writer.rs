//! StreamWriter: coalescing, the cap, errors, close, cancellation, sockets.
mod common;

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use common::*;
use futures_io::AsyncWrite;
use futures_lite::AsyncWriteExt;
use intake::{Error, LengthPrefix, StreamReader, StreamWriter};

/// A writer that records every call, writes all vectored slices it is
/// given (up to `max` bytes per call), and fails on chosen calls. While
/// not `ready` it answers `Pending`; `attempts` counts every write call,
/// busy or not (on a socket, each is a system call).
#[derive(Debug, Default)]
struct Recorder {
    data: Vec<u8>,
    max: usize,
    calls: usize,
    attempts: usize,
    fail_calls: Vec<usize>,
    ready: bool,
    flushes: usize,
    closes: usize,
}

impl Recorder {
    fn new(max: usize) -> Self {
        Recorder {
            max,
            ready: true,
            ..Default::default()
        }
    }
    fn take(&mut self, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        self.attempts += 1;
        if !self.ready {
            return Poll::Pending;
        }
        self.calls += 1;
        if self.fail_calls.contains(&self.calls) {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        let mut n = 0;
        for b in bufs {
            let k = b.len().min(self.max - n);
            self.data.extend_from_slice(&b[..k]);
            n += k;
            if n == self.max {
                break;
            }
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.take(&[IoSlice::new(buf)])
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.take(bufs)
    }
    fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.ready {
            return Poll::Pending;
        }
        self.flushes += 1;
        Poll::Ready(Ok(()))
    }
    fn poll_close(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.closes += 1;
        Poll::Ready(Ok(()))
    }
}

fn items() -> Vec<Bytes> {
    (0..miri_or(300, 30))
        .map(|i| Bytes::from(pattern([1usize, 10, 64, 5000, 70_000][i % 5], i as u64)))
        .collect()
}

#[test]
fn writer_one_byte_per_poll_with_pending_receives_exact_bytes() {
    on_both_runtimes(|| async {
        let items: Vec<Bytes> = items().into_iter().take(miri_or(40, 3)).collect();
        let mut w = StreamWriter::new(SlowWriter::new(1, true)).with_max_pending(100_000);
        for it in &items {
            w.send(it.clone()).await.unwrap();
        }
        w.flush().await.unwrap();
        assert_eq!(w.pending(), 0);
        assert_eq!(w.get_ref().data, items.concat());
    });
}

#[test]
fn writer_small_writes_coalesce_into_few_vectored_calls() {
    on_both_runtimes(|| async {
        let n = miri_or(10_000, 2_500) as u32;
        let mut w = StreamWriter::new(Recorder::new(usize::MAX));
        for i in 0..n {
            w.send(Bytes::from(i.to_be_bytes().to_vec())).await.unwrap();
        }
        w.flush().await.unwrap();
        assert_eq!(w.get_ref().data.len(), 4 * n as usize);
        // No more write calls than an 8 KiB BufWriter would make.
        let bufwriter_calls = (4 * n as usize).div_ceil(8192);
        assert!(
            w.get_ref().calls <= bufwriter_calls,
            "{n} small sends, {} write calls",
            w.get_ref().calls
        );
        // Through AsyncWrite as well.
        let mut w = StreamWriter::new(Recorder::new(usize::MAX));
        for i in 0..n {
            w.write_all(&i.to_be_bytes()).await.unwrap();
        }
        w.flush().await.unwrap();
        assert!(w.get_ref().calls <= bufwriter_calls);
    });
}

#[test]
fn writer_large_bytes_go_out_without_copy_in_vectored_writes() {
    on_both_runtimes(|| async {
        let mut w = StreamWriter::new(Recorder::new(usize::MAX)).with_max_pending(usize::MAX);
        let len = miri_or(100_000, 5_000);
        let big: Vec<Bytes> = (0..10).map(|i| Bytes::from(pattern(len, i))).collect();
        for b in &big {
            w.send(Bytes::from_static(b"hdr:")).await.unwrap();
            w.send(b.clone()).await.unwrap();
        }
        w.flush().await.unwrap();
        let expected: Vec<u8> = big
            .iter()
            .flat_map(|b| [&b"hdr:"[..], &b[..]].concat())
            .collect();
        assert_eq!(w.get_ref().data, expected);
        // Each large item goes out uncopied with the header sent before
        // it, in one vectored write: at most one call per pair.
        assert!(
            w.get_ref().calls <= 10,
            "20 items, {} write calls",
            w.get_ref().calls
        );
    });
}

#[test]
fn writer_write_zero_is_an_error() {
    on_both_runtimes(|| async {
        let mut w = StreamWriter::new(SlowWriter::new(0, false));
        w.send(Bytes::from_static(b"abc")).await.unwrap();
        match w.flush().await {
            Err(Error::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::WriteZero),
            other => panic!("{other:?}"),
        }
        assert_eq!(w.pending(), 3);
    });
}

#[test]
fn writer_error_mid_flush_keeps_pending_exact_and_retry_sends_rest_once() {
    on_both_runtimes(|| async {
        let items = items();
        let total: usize = items.iter().map(Bytes::len).sum();
        let mut rec = Recorder::new(3000);
        rec.fail_calls = vec![3, 7, 8, 20];
        let mut w = StreamWriter::new(rec).with_max_pending(usize::MAX);
        let mut errors = 0;
        let mut accepted = 0;
        let mut check = |w: &StreamWriter<Recorder>, e: Error, accepted: usize| {
            assert!(matches!(e, Error::Io(ref e) if e.kind() == io::ErrorKind::ConnectionReset));
            errors += 1;
            assert_eq!(
                w.pending(),
                accepted - w.get_ref().data.len(),
                "pending is exact"
            );
        };
        // Sends write once the write size is reached, so errors can come
        // from them too: an item refused with an error is sent again.
        for it in &items {
            loop {
                match w.send(it.clone()).await {
                    Ok(()) => break,
                    Err(e) => check(&w, e, accepted),
                }
            }
            accepted += it.len();
        }
        assert_eq!(accepted, total);
        while let Err(e) = w.flush().await {
            check(&w, e, total);
        }
        assert_eq!(errors, 4);
        assert_eq!(
            w.get_ref().data,
            items.concat(),
            "nothing lost or sent twice"
        );
    });
}

#[test]
fn writer_every_entry_point_obeys_the_cap_with_a_stuck_writer() {
    let cap = 10_000;
    // send
    let mut rec = Recorder::new(usize::MAX);
    rec.ready = false;
    let mut w = StreamWriter::new(rec).with_max_pending(cap);
    let mut accepted = 0;
    for it in items() {
        match poll_at_most(w.send(it.clone()), 3) {
            Some(r) => {
                r.unwrap();
                accepted += 1;
            }
            None => break,
        }
        assert!(
            w.pending() <= cap || accepted == 1,
            "pending {}",
            w.pending()
        );
    }
    assert!(w.pending() <= cap);
    // send_frame
    let prefix = LengthPrefix::new(4).max_frame_len(usize::MAX);
    while let Some(r) = poll_at_most(w.send_frame(&prefix, Bytes::from(vec![1u8; 900])), 3) {
        r.unwrap();
    }
    assert!(w.pending() <= cap);
    // AsyncWrite
    while let Some(r) = poll_at_most(w.write(&[2u8; 100]), 3) {
        assert_eq!(r.unwrap(), 100);
    }
    assert!(w.pending() <= cap, "pending {}", w.pending());
    assert!(w.pending() > cap - 1000, "filled up to the cap");
}

#[test]
fn writer_item_larger_than_cap_accepted_when_nothing_pending() {
    on_both_runtimes(|| async {
        let mut w = StreamWriter::new(Recorder::new(usize::MAX)).with_max_pending(1000);
        w.send(Bytes::from(vec![1u8; 5000])).await.unwrap();
        assert_eq!(w.pending(), 5000);
        // The next item waits for it to be written first.
        w.send(Bytes::from_static(b"x")).await.unwrap();
        assert_eq!(w.pending(), 1);
        assert_eq!(w.get_ref().data.len(), 5000);
    });
}

#[test]
fn writer_close_flushes_then_closes_inner_once() {
    on_both_runtimes(|| async {
        let mut w = StreamWriter::new(Recorder::new(7));
        w.send(Bytes::from_static(b"goodbye")).await.unwrap();
        w.write_all(b", world").await.unwrap();
        w.close().await.unwrap();
        w.close().await.unwrap();
        assert_eq!(w.get_ref().data, b"goodbye, world");
        assert_eq!(w.get_ref().closes, 1);
    });
}

#[test]
fn writer_send_frame_rejects_unrepresentable_payload_writing_nothing() {
    on_both_runtimes(|| async {
        let mut w = StreamWriter::new(Recorder::new(usize::MAX));
        let p1 = LengthPrefix::new(1);
        assert!(matches!(
            w.send_frame(&p1, Bytes::from(vec![0; 256])).await,
            Err(Error::Io(_))
        ));
        let small_max = LengthPrefix::new(4).max_frame_len(10);
        assert!(matches!(
            w.send_frame(&small_max, Bytes::from(vec![0; 11])).await,
            Err(Error::FrameTooLarge { len: 11, max: 10 })
        ));
        w.flush().await.unwrap();
        assert!(w.get_ref().data.is_empty());
        assert_eq!(w.pending(), 0);
    });
}

#[test]
fn writer_send_frame_header_and_payload_in_one_vectored_write() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(4).max_frame_len(1 << 20);
        let mut w = StreamWriter::new(Recorder::new(usize::MAX));
        let payload = Bytes::from(pattern(100_000, 3));
        w.send_frame(&prefix, payload.clone()).await.unwrap();
        w.flush().await.unwrap();
        assert_eq!(w.get_ref().calls, 1);
        assert_eq!(&w.get_ref().data[..4], &100_000u32.to_be_bytes());
        assert_eq!(&w.get_ref().data[4..], &payload[..]);
    });
}

#[test]
fn cancel_send_and_flush_at_every_poll_loses_and_duplicates_nothing() {
    on_both_runtimes(|| async {
        let items: Vec<Bytes> = items().into_iter().take(miri_or(30, 10)).collect();
        for k in 0..12 {
            let mut w = StreamWriter::new(SlowWriter::new(3000, true)).with_max_pending(8000);
            for it in &items {
                // A cancelled send queued nothing: send it again.
                if poll_at_most(w.send(it.clone()), k).is_none() {
                    w.send(it.clone()).await.unwrap();
                }
            }
            let _ = poll_at_most(w.flush(), k);
            w.flush().await.unwrap();
            assert_eq!(w.get_ref().data, items.concat(), "k = {k}");
        }
    });
}

#[test]
#[cfg_attr(miri, ignore = "needs a real socket (loopback TCP)")]
fn writer_and_reader_over_loopback_tcp_on_both_runtimes() {
    let prefix = LengthPrefix::new(4).max_frame_len(1 << 20);
    let frames: Vec<Bytes> = (0..400)
        .map(|i| Bytes::from(pattern(i * 211 % 200_000, i as u64)))
        .collect();
    async fn run<S, R>(client: S, server: R, prefix: LengthPrefix, frames: Vec<Bytes>)
    where
        S: AsyncWrite + Unpin,
        R: futures_io::AsyncRead + Unpin,
    {
        let send = async {
            let mut w = StreamWriter::new(client).with_max_pending(256 * 1024);
            for f in &frames {
                w.send_frame(&prefix, f.clone()).await.unwrap();
            }
            w.close().await.unwrap();
        };
        let recv = async {
            let mut r = StreamReader::new(server);
            for f in &frames {
                assert_eq!(r.read_frame(&prefix).await.unwrap().unwrap(), f);
            }
            assert!(r.read_frame(&prefix).await.unwrap().is_none());
        };
        futures_lite::future::zip(send, recv).await;
    }
    smol::block_on(async {
        let (c, s) = smol_pair().await;
        run(c, s, prefix, frames.clone()).await;
    });
    async_std::task::block_on(async {
        let (c, s) = async_std_pair().await;
        run(c, s, prefix, frames).await;
    });
}

#[test]
fn many_producers_through_a_channel_into_one_writer() {
    on_both_runtimes(|| async {
        let per_producer = miri_or(200, 40) as u8;
        let (tx, rx) = async_channel::bounded::<Bytes>(16);
        let producers = (0..8u8).map(|p| {
            let tx = tx.clone();
            async move {
                for i in 0..per_producer {
                    tx.send(Bytes::from(vec![p, i, b'\n'])).await.unwrap();
                }
            }
        });
        let producers: Vec<_> = producers.collect();
        drop(tx);
        let all_producers = async {
            for p in producers {
                p.await;
            }
        };
        let writer = async {
            let mut w = StreamWriter::new(Recorder::new(usize::MAX)).with_max_pending(1024);
            while let Ok(msg) = rx.recv().await {
                w.send(msg).await.unwrap();
                assert!(w.pending() <= 1024);
                if rx.is_empty() {
                    w.flush().await.unwrap();
                }
            }
            w.flush().await.unwrap();
            w.into_inner()
        };
        let (_, rec) = futures_lite::future::zip(all_producers, writer).await;
        assert_eq!(rec.data.len(), 8 * per_producer as usize * 3);
        // Each producer's messages arrive whole and in its own order.
        for p in 0..8u8 {
            let seq: Vec<u8> = rec
                .data
                .chunks(3)
                .filter(|m| m[0] == p)
                .map(|m| m[1])
                .collect();
            assert_eq!(seq, (0..per_producer).collect::<Vec<_>>());
        }
        assert!(
            rec.calls < 8 * per_producer as usize,
            "coalesced: {} calls",
            rec.calls
        );
    });
}

#[test]
fn writer_medium_borrowed_writes_coalesce_large_ones_pass_through() {
    on_both_runtimes(|| async {
        let mut w = StreamWriter::new(Recorder::new(usize::MAX));
        let chunk = pattern(2048, 40);
        for _ in 0..200 {
            w.write_all(&chunk).await.unwrap();
        }
        w.flush().await.unwrap();
        assert_eq!(w.get_ref().data.len(), 200 * 2048);
        assert!(
            w.get_ref().calls <= (200 * 2048usize).div_ceil(8192),
            "2 KiB writes coalesce: {} calls",
            w.get_ref().calls
        );
        let big = pattern(intake::DIRECT_WRITE, 41);
        w.write_all(b"head").await.unwrap();
        w.write_all(&big).await.unwrap();
        assert_eq!(
            w.pending(),
            0,
            "a 64 KiB write goes straight through, after what was pending"
        );
        assert_eq!(
            &w.get_ref().data[200 * 2048..],
            [&b"head"[..], &big[..]].concat()
        );
    });
}

/// `use intake::*` must not shadow std's prelude (`Send`, `Result`, ...):
/// futures returned by the API are `Send` when their reader/writer is.
mod glob_import {
    #[allow(unused_imports)]
    use intake::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn glob_import_keeps_the_send_trait_and_futures_are_send() {
        let mut w = StreamWriter::new(Vec::<u8>::new());
        let fut = w.send(bytes::Bytes::from_static(b"x"));
        assert_send(&fut);
        drop(fut);
        let mut r = StreamReader::new(&b"abc"[..]);
        let prefix = LengthPrefix::new(1);
        assert_send(&r.read_frame(&prefix));
        assert_send(&r.read_exactly(1));
        assert_send(&r.read_until(b"\n"));
    }
}

#[test]
fn cancel_send_frame_at_every_poll_queues_whole_frames_or_nothing() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(2);
        let payloads: Vec<Bytes> = (0..20)
            .map(|i| Bytes::from(pattern(i * 300 % 5000, i as u64)))
            .collect();
        for k in 0..12 {
            let mut w = StreamWriter::new(SlowWriter::new(700, true)).with_max_pending(4000);
            let mut expected = Vec::new();
            for p in &payloads {
                // A cancelled send_frame queued neither header nor payload.
                if poll_at_most(w.send_frame(&prefix, p.clone()), k).is_none() {
                    w.send_frame(&prefix, p.clone()).await.unwrap();
                }
                expected.extend_from_slice(&(p.len() as u16).to_be_bytes());
                expected.extend_from_slice(p);
            }
            w.flush().await.unwrap();
            assert_eq!(w.get_ref().data, expected, "k = {k}");
        }
    });
}

/// `send`, `send_frame` and `write_frame` queue a small item at once when
/// there is room (their futures then carry nothing); a future dropped
/// before it completes, even one never polled, must still have queued
/// nothing.
#[test]
fn send_futures_dropped_unpolled_queue_nothing() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(2);
        let pg = LengthPrefix::new(4).length_field_offset(1);
        let mut w = StreamWriter::new(Recorder::new(usize::MAX));
        w.send(Bytes::from_static(b"a")).await.unwrap();
        drop(w.send(Bytes::from_static(b"dropped")));
        drop(w.send_frame(&prefix, Bytes::from_static(b"dropped")));
        drop(w.send_frame_with_leading(&pg, b"Q", Bytes::from_static(b"dropped")));
        drop(w.write_frame(&prefix, b"dropped"));
        drop(w.write_frame_with_leading(&pg, b"Q", b"dropped"));
        assert_eq!(w.pending(), 1);
        // Polled to completion, then dropped: queued.
        let mut fut = w.send(Bytes::from_static(b"b"));
        assert!(poll_at_most(&mut fut, 1).is_some());
        drop(fut);
        let mut fut = w.send_frame(&prefix, Bytes::from_static(b"c"));
        assert!(poll_at_most(&mut fut, 1).is_some());
        drop(fut);
        let mut fut = w.write_frame(&prefix, b"e");
        assert!(poll_at_most(&mut fut, 1).is_some());
        drop(fut);
        // Between two items that were taken back, the coalescing buffer
        // is unchanged: what follows lands right after "e".
        drop(w.send(Bytes::from_static(b"dropped")));
        w.send_frame_with_leading(&pg, b"Q", Bytes::from_static(b"d"))
            .await
            .unwrap();
        w.flush().await.unwrap();
        assert_eq!(w.get_ref().data, b"ab\x00\x01c\x00\x01eQ\x00\x00\x00\x01d");
    });
}

/// While the inner writer is busy, small items below the cap are accepted
/// without asking it again for each one. Regression: every small item past
/// the write size tried a write first, and on a socket that is a system
/// call that fails with `EAGAIN`: 1M writes of 64 B over loopback TCP made
/// 330k of them and took 5x futures-lite's time (`benches/tcp.rs`).
#[test]
fn a_busy_writer_is_not_asked_again_for_every_item() {
    let items = miri_or(12_000, 300); // 720 KB at most: below the 1 MiB cap
    for entry in ["write_all", "send", "send_frame", "write_frame"] {
        let mut busy = Recorder::new(usize::MAX);
        busy.ready = false;
        let mut w = StreamWriter::new(busy);
        let prefix = LengthPrefix::new(4);
        let mut expected = Vec::new();
        for i in 0..items {
            let item = vec![i as u8; 60];
            let done = match entry {
                "write_all" => poll_at_most(w.write_all(&item), 3).map(|r| r.map_err(Error::from)),
                "send" => poll_at_most(w.send(Bytes::from(item.clone())), 3),
                "send_frame" => poll_at_most(w.send_frame(&prefix, Bytes::from(item.clone())), 3),
                _ => poll_at_most(w.write_frame(&prefix, &item), 3),
            };
            done.expect("below the cap, accepted while the writer is busy")
                .unwrap();
            if entry.ends_with("frame") {
                expected.extend_from_slice(&60u32.to_be_bytes());
            }
            expected.extend_from_slice(&item);
        }
        assert_eq!(w.pending(), expected.len());
        // One attempt per write size (at least 1 KiB) of bytes piled up,
        // at most: not one per item.
        let attempts = w.get_ref().attempts;
        assert!(
            attempts <= expected.len() / 1024 + 1,
            "{entry}: {attempts} write calls for {} items of {} bytes pending",
            items,
            expected.len()
        );
        w.get_mut().ready = true;
        poll_at_most(w.flush(), 3).unwrap().unwrap();
        assert_eq!(w.get_ref().data, expected, "{entry}");
    }
}

/// A sink that is busy on every other call keeps up with small items: the
/// pending bytes stay near one write, they do not creep up toward the cap.
/// Regression: a busy sink was asked again only once another write size
/// had piled up, one write went out per busy answer, and each cycle added
/// a little more than the sink took: 1M 64 B frames crept up to the cap,
/// and moving those bytes to the buffer's front on every refill took 5x
/// the time (`benches/writes.rs`, `pending` groups).
#[test]
fn a_sink_busy_every_other_call_keeps_pending_bytes_near_one_write() {
    let items = miri_or(30_000, 1_500);
    for entry in ["write_all", "send_frame", "FramedWrite"] {
        let prefix = LengthPrefix::new(4);
        // At most 1500 bytes per call, `Pending` (waking the task at once)
        // on every other call: a socket whose buffer fills after each write.
        let mut w = intake::frame::FramedWrite::new(SlowWriter::new(1500, true), prefix);
        let mut expected = Vec::new();
        let mut most = 0;
        for i in 0..items {
            let item = vec![i as u8; 64];
            let writer = w.get_mut();
            match entry {
                "write_all" => poll_at_most(writer.write_all(&item), 10).unwrap().unwrap(),
                "send_frame" => {
                    poll_at_most(writer.send_frame(&prefix, Bytes::from(item.clone())), 10)
                        .unwrap()
                        .unwrap()
                }
                _ => {
                    use futures_lite::future::poll_fn;
                    use futures_sink::Sink;
                    poll_at_most(poll_fn(|cx| Pin::new(&mut w).poll_ready(cx)), 10)
                        .unwrap()
                        .unwrap();
                    Pin::new(&mut w)
                        .start_send(Bytes::from(item.clone()))
                        .unwrap();
                }
            }
            if entry != "write_all" {
                expected.extend_from_slice(&64u32.to_be_bytes());
            }
            expected.extend_from_slice(&item);
            most = most.max(w.get_ref().pending());
        }
        assert!(
            most <= 16 * 1024,
            "{entry}: up to {most} bytes pending with a sink that takes 1500 every other call"
        );
        poll_at_most(w.get_mut().flush(), 10_000).unwrap().unwrap();
        assert_eq!(w.get_ref().get_ref().data, expected, "{entry}");
    }
}

/// Over a real socket that fills up, small writes do not make a failed
/// system call each. Regression: 1M writes of 64 B over loopback made
/// about 330k calls that found the socket full, 5x futures-lite's time.
#[test]
#[cfg_attr(miri, ignore = "needs a real socket (loopback TCP)")]
fn small_writes_to_a_full_socket_do_not_retry_per_item_on_both_runtimes() {
    const ITEMS: usize = 200_000;
    async fn run<S, R>(client: S, mut server: R) -> usize
    where
        S: AsyncWrite + Unpin,
        R: futures_io::AsyncRead + Unpin,
    {
        let send = async {
            let mut w = StreamWriter::new(CountingBusy::new(client));
            for i in 0..ITEMS {
                w.write_all(&[i as u8; 64]).await.unwrap();
            }
            w.close().await.unwrap();
            w.get_ref().busy
        };
        let recv = async {
            use futures_lite::AsyncReadExt;
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
        let (busy, (total, sum)) = futures_lite::future::zip(send, recv).await;
        assert_eq!(total, ITEMS * 64);
        let expected: u64 = (0..ITEMS).map(|i| 64 * u64::from(i as u8)).sum();
        assert_eq!(sum, expected);
        busy
    }
    let busy = [
        smol::block_on(async {
            let (c, s) = smol_pair().await;
            run(c, s).await
        }),
        async_std::task::block_on(async {
            let (c, s) = async_std_pair().await;
            run(c, s).await
        }),
    ];
    for busy in busy {
        // One busy answer per ~64 KiB write at most, with room to spare:
        // 12.8 MB make about 200 writes.
        assert!(
            busy <= ITEMS / 100,
            "{busy} write calls found the socket full for {ITEMS} items"
        );
    }
}
