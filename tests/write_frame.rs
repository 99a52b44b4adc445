//! `write_frame` and `write_frame_with_leading`: a header and a borrowed
//! payload, copied. Round trips through `read_frame`, errors that queue
//! nothing, the cap, cancellation at every poll, adversarial inner writers
//! (partial writes, `Ok(0)`, over-reports, `Pending`, errors, `Interrupted`),
//! and a property test against an oracle.
mod common;

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use common::*;
use futures_io::AsyncWrite;
use futures_lite::AsyncWriteExt;
use intake::{Error, LengthPrefix, StreamReader, StreamWriter};
use proptest::prelude::*;

/// The frame `write_frame` must put on the wire.
fn framed(prefix: &LengthPrefix, leading: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = leading.to_vec();
    out.extend_from_slice(prefix.encode_length_field(payload.len()).unwrap().as_ref());
    out.extend_from_slice(payload);
    out
}

/// Payload sizes, smaller under Miri (which runs every byte of a copy).
fn size(n: usize) -> usize {
    miri_or(n, n.min(600))
}

fn payloads() -> Vec<Vec<u8>> {
    (0..miri_or(70, 10))
        .map(|i| {
            pattern(
                size([0usize, 1, 64, 5000, 70_000, 300, 16_384][i % 7]),
                i as u64,
            )
        })
        .collect()
}

#[test]
fn write_frame_round_trips_through_a_one_byte_pending_writer() {
    on_both_runtimes(|| async {
        for prefix in [
            LengthPrefix::new(4),
            LengthPrefix::new(8).little_endian(),
            LengthPrefix::new(3),
            LengthPrefix::varint(),
        ] {
            let prefix = prefix.max_frame_len(1 << 20);
            let payloads = payloads();
            let payloads = &payloads[..miri_or(payloads.len(), 4)];
            let mut w = StreamWriter::new(SlowWriter::new(miri_or(1, 7), true));
            let mut expected = Vec::new();
            for p in payloads {
                w.write_frame(&prefix, p).await.unwrap();
                expected.extend_from_slice(&framed(&prefix, &[], p));
                assert_eq!(w.pending() + w.get_ref().data.len(), expected.len());
            }
            w.flush().await.unwrap();
            assert_eq!(w.get_ref().data, expected);
            let mut r = StreamReader::new(&w.get_ref().data[..]);
            for p in payloads {
                assert_eq!(r.read_frame(&prefix).await.unwrap().unwrap(), &p[..]);
            }
            assert!(r.read_frame(&prefix).await.unwrap().is_none());
        }
    });
}

#[test]
fn write_frame_matches_send_frame_byte_for_byte() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(2).little_endian();
        let mut a = StreamWriter::new(SlowWriter::new(1500, false));
        let mut b = StreamWriter::new(SlowWriter::new(1500, false));
        for p in payloads().iter().filter(|p| p.len() < 65536) {
            a.write_frame(&prefix, p).await.unwrap();
            b.send_frame(&prefix, Bytes::copy_from_slice(p))
                .await
                .unwrap();
            assert_eq!(
                a.pending() + a.get_ref().data.len(),
                b.pending() + b.get_ref().data.len()
            );
        }
        a.flush().await.unwrap();
        b.flush().await.unwrap();
        assert_eq!(a.get_ref().data, b.get_ref().data);
    });
}

#[test]
fn write_frame_rejects_unrepresentable_payloads_queueing_nothing() {
    on_both_runtimes(|| async {
        let mut w = StreamWriter::new(SlowWriter::new(usize::MAX, false));
        w.write_frame(&LengthPrefix::new(1), b"kept").await.unwrap();
        let before = w.pending();
        let e = w.write_frame(&LengthPrefix::new(1), &[0; 256]).await;
        assert!(matches!(e, Err(Error::Io(ref e)) if e.kind() == io::ErrorKind::InvalidInput));
        let small_max = LengthPrefix::new(4).max_frame_len(10);
        assert!(matches!(
            w.write_frame(&small_max, &[0; 11]).await,
            Err(Error::FrameTooLarge { len: 11, max: 10 })
        ));
        // A prefix with an offset needs the leading bytes.
        let pg = LengthPrefix::new(4).length_field_offset(1);
        assert!(w.write_frame(&pg, b"x").await.is_err());
        assert!(w.write_frame_with_leading(&pg, b"", b"x").await.is_err());
        assert!(w.write_frame_with_leading(&pg, b"QQ", b"x").await.is_err());
        assert_eq!(w.pending(), before, "nothing queued by a rejected frame");
        w.flush().await.unwrap();
        assert_eq!(w.get_ref().data, b"\x04kept");
    });
}

#[test]
fn write_frame_with_leading_writes_postgresql_messages() {
    on_both_runtimes(|| async {
        let pg = LengthPrefix::new(4)
            .length_field_offset(1)
            .length_adjustment(-4)
            .keep_header();
        let mut w = StreamWriter::new(SlowWriter::new(3, true));
        let mut body = Vec::new();
        let mut expected = Vec::new();
        for (tag, text) in [
            (b'Q', "SELECT 1"),
            (b'P', ""),
            (b'Q', "SELECT 'a long one'"),
        ] {
            body.clear();
            body.extend_from_slice(text.as_bytes());
            body.push(0);
            w.write_frame_with_leading(&pg, &[tag], &body)
                .await
                .unwrap();
            expected.push(tag);
            expected.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
            expected.extend_from_slice(&body);
        }
        w.flush().await.unwrap();
        assert_eq!(w.get_ref().data, expected);
        // The same prefix reads them back, whole messages.
        let mut r = StreamReader::new(&expected[..]);
        let first = r.read_frame(&pg).await.unwrap().unwrap();
        assert_eq!(&first[..], b"Q\x00\x00\x00\x0dSELECT 1\0");
    });
}

/// A writer whose every call follows a script (cycled): take at most n
/// bytes, return `Ok(0)`, over-report, return `Pending`, fail, or be
/// interrupted. It records what it takes.
#[derive(Debug, Clone, Copy)]
enum Act {
    Take(usize),
    Zero,
    Over,
    Pending,
    Fail,
    Interrupted,
}

#[derive(Debug)]
struct Scripted {
    script: Vec<Act>,
    at: usize,
    out: Vec<u8>,
}

impl Scripted {
    fn new(script: Vec<Act>) -> Self {
        Scripted {
            script,
            at: 0,
            out: Vec::new(),
        }
    }
}

impl AsyncWrite for Scripted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let act = self.script[self.at % self.script.len()];
        self.at += 1;
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        match act {
            Act::Take(max) => {
                let mut n = 0;
                for b in bufs {
                    let k = b.len().min(max - n);
                    self.out.extend_from_slice(&b[..k]);
                    n += k;
                }
                Poll::Ready(Ok(n))
            }
            Act::Zero => Poll::Ready(Ok(0)),
            Act::Over => Poll::Ready(Ok(total + 1)),
            Act::Pending => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Act::Fail => Poll::Ready(Err(io::ErrorKind::ConnectionReset.into())),
            Act::Interrupted => Poll::Ready(Err(io::ErrorKind::Interrupted.into())),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// After every call, whatever it returned: the inner writer got a prefix
/// of what was accepted, and `pending()` is exactly the rest.
fn check_exact(w: &StreamWriter<Scripted>, accepted: &[u8]) {
    let out = &w.get_ref().out;
    assert!(out.len() <= accepted.len(), "more written than accepted");
    assert_eq!(out[..], accepted[..out.len()], "written bytes out of order");
    assert_eq!(
        w.pending(),
        accepted.len() - out.len(),
        "pending() not exact"
    );
}

#[test]
fn write_frame_survives_every_kind_of_misbehaving_writer() {
    use Act::*;
    let scripts: Vec<Vec<Act>> = vec![
        vec![Take(1)],
        vec![Take(7), Pending],
        vec![Pending, Take(1500), Interrupted],
        vec![Take(100), Zero],
        vec![Take(3), Fail, Take(5000)],
        vec![Take(64), Over],
        vec![Fail],
    ];
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(4).max_frame_len(1 << 20);
        for script in &scripts {
            let mut w = StreamWriter::new(Scripted::new(script.clone())).with_max_pending(4096);
            let mut accepted = Vec::new();
            let mut errors = 0;
            for (i, p) in payloads().iter().enumerate().take(miri_or(40, 8)) {
                match w.write_frame(&prefix, p).await {
                    Ok(()) => accepted.extend_from_slice(&framed(&prefix, &[], p)),
                    Err(Error::Io(e)) => {
                        // A write_frame that fails queued nothing.
                        assert_ne!(
                            e.kind(),
                            io::ErrorKind::Interrupted,
                            "retried, not passed on"
                        );
                        errors += 1;
                    }
                    Err(e) => panic!("frame {i}: {e}"),
                }
                check_exact(&w, &accepted);
                if i % 7 == 6 {
                    if w.flush().await.is_err() {
                        errors += 1;
                    }
                    check_exact(&w, &accepted);
                }
            }
            // The writer turns honest: the rest goes out once.
            w.get_mut().script = vec![Take(usize::MAX)];
            w.flush().await.unwrap();
            assert_eq!(w.get_ref().out, accepted, "script {script:?}");
            let faulty = script.iter().any(|a| matches!(a, Zero | Over | Fail));
            assert_eq!(errors > 0, faulty, "script {script:?}: {errors} errors");
        }
    });
}

/// A large payload goes out from the caller's memory, so a failure can
/// come after part of the frame is on the wire. Then the frame must go out
/// whole: the rest is queued and `write_frame` succeeds; the next call
/// that would write returns the error, once, without writing. A failure
/// before any byte of the frame went out queues nothing, as for a small
/// frame.
#[test]
fn a_failure_after_part_of_a_large_frame_went_out_queues_the_rest() {
    use Act::*;
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(4).max_frame_len(1 << 20);
        let payload = pattern(40_000, 3);
        let frame = framed(&prefix, &[], &payload);

        // The error comes back from the next flush, though the writer
        // would take everything by then.
        let mut w = StreamWriter::new(Scripted::new(vec![Take(20_000), Fail, Take(usize::MAX)]));
        w.write_frame(&prefix, &payload).await.unwrap();
        assert_eq!(w.get_ref().out, &frame[..20_000]);
        assert_eq!(w.pending(), frame.len() - 20_000, "the rest queued");
        let e = w.flush().await.expect_err("the failure is reported");
        assert!(
            matches!(&e, Error::Io(e) if e.kind() == io::ErrorKind::ConnectionReset),
            "{e}"
        );
        assert_eq!(w.get_ref().at, 2, "reported without a write call");
        assert_eq!(w.pending(), frame.len() - 20_000);
        w.flush().await.unwrap();
        assert_eq!(w.get_ref().out, frame);

        // Or from the next large frame, which is then not queued. A small
        // write before it is queued (it writes nothing: 4 bytes pending).
        let mut w = StreamWriter::new(Scripted::new(vec![Take(40_000), Zero, Take(usize::MAX)]));
        w.write_frame(&prefix, &payload).await.unwrap();
        assert_eq!(w.pending(), frame.len() - 40_000);
        w.write_all(b"abc").await.unwrap();
        assert_eq!(w.get_ref().at, 2, "the small write made no write call");
        let e = w
            .write_frame(&prefix, &payload)
            .await
            .expect_err("reported");
        assert!(
            matches!(&e, Error::Io(e) if e.kind() == io::ErrorKind::WriteZero),
            "{e}"
        );
        assert_eq!(w.get_ref().at, 2, "reported without a write call");
        assert_eq!(
            w.pending(),
            frame.len() - 40_000 + 3,
            "the frame not queued"
        );
        w.flush().await.unwrap();
        assert_eq!(w.get_ref().out, [&frame[..], b"abc"].concat());

        let mut w = StreamWriter::new(Scripted::new(vec![Fail, Take(usize::MAX)]));
        assert!(w.write_frame(&prefix, &payload).await.is_err());
        assert_eq!(w.pending(), 0, "nothing queued");
        w.write_frame(&prefix, &payload).await.unwrap();
        w.flush().await.unwrap();
        assert_eq!(w.get_ref().out, frame);
    });
}

#[test]
fn cancel_write_frame_at_every_poll_queues_whole_frames_or_nothing() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(4).max_frame_len(1 << 20);
        let payloads: Vec<Vec<u8>> = (0..miri_or(20, 6))
            .map(|i| pattern(size([10usize, 900, 3000, 66_000, 20_000][i % 5]), i as u64))
            .collect();
        for k in 0..miri_or(12, 4) {
            let mut w = StreamWriter::new(SlowWriter::new(700, true)).with_max_pending(4000);
            let mut expected = Vec::new();
            for p in &payloads {
                let before = w.pending() + w.get_ref().data.len();
                // A cancelled write_frame queued neither header nor payload.
                if poll_at_most(w.write_frame(&prefix, p), k).is_none() {
                    assert_eq!(w.pending() + w.get_ref().data.len(), before, "k = {k}");
                    w.write_frame(&prefix, p).await.unwrap();
                }
                expected.extend_from_slice(&framed(&prefix, &[], p));
                assert_eq!(w.pending() + w.get_ref().data.len(), expected.len());
            }
            w.flush().await.unwrap();
            assert_eq!(w.get_ref().data, expected, "k = {k}");
        }
    });
}

/// A writer that never takes anything.
#[derive(Debug)]
struct Stuck;

impl AsyncWrite for Stuck {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Pending
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Pending
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Pending
    }
}

#[test]
fn write_frame_obeys_the_cap_with_a_stuck_writer() {
    let prefix = LengthPrefix::new(4).max_frame_len(1 << 20);
    let cap = 10_000;
    let mut w = StreamWriter::new(Stuck).with_max_pending(cap);
    let mut accepted = 0;
    while let Some(r) = poll_at_most(w.write_frame(&prefix, &[1; 900]), 3) {
        r.unwrap();
        accepted += 1;
        assert!(w.pending() <= cap);
    }
    assert_eq!(
        accepted,
        cap / 904,
        "filled up to the cap, then backpressure"
    );
    // A frame larger than the cap waits for the pending bytes, too.
    assert!(poll_at_most(w.write_frame(&prefix, &[2; 20_000]), 3).is_none());
    assert_eq!(w.pending(), accepted * 904);
    // With nothing pending, one frame larger than the cap is accepted.
    let mut w = StreamWriter::new(Stuck).with_max_pending(cap);
    poll_at_most(w.write_frame(&prefix, &[2; 70_000]), 1)
        .expect("accepted at once")
        .unwrap();
    assert_eq!(w.pending(), 70_004);
    assert!(poll_at_most(w.write_frame(&prefix, b"x"), 3).is_none());
}

/// A writer that takes up to `take` bytes per call and records, for every
/// call, where each slice it took bytes from lives and how many it took;
/// or answers `Pending` while `busy`.
#[derive(Debug)]
struct Calls {
    take: usize,
    busy: bool,
    attempts: usize,
    /// Per call that took bytes: (address, bytes taken) of each slice.
    calls: Vec<Vec<(usize, usize)>>,
    out: Vec<u8>,
}

impl Calls {
    fn new(take: usize) -> Self {
        Calls {
            take,
            busy: false,
            attempts: 0,
            calls: Vec::new(),
            out: Vec::new(),
        }
    }

    /// The bytes taken from each slice, call by call.
    fn lengths(&self) -> Vec<Vec<usize>> {
        let lengths = |call: &Vec<(usize, usize)>| call.iter().map(|s| s.1).collect();
        self.calls.iter().map(lengths).collect()
    }

    /// The bytes taken straight from the memory at `at`.
    fn taken_from(&self, at: *const u8) -> usize {
        let slices = self.calls.iter().flatten();
        slices.filter(|s| s.0 == at as usize).map(|s| s.1).sum()
    }
}

impl AsyncWrite for Calls {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.attempts += 1;
        if self.busy {
            return Poll::Pending;
        }
        let mut n = 0;
        let mut call = Vec::new();
        for b in bufs {
            let k = b.len().min(self.take - n);
            call.push((b.as_ptr() as usize, k));
            self.out.extend_from_slice(&b[..k]);
            n += k;
            if n == self.take {
                break;
            }
        }
        self.calls.push(call);
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn small_frames_coalesce_and_a_large_payload_goes_out_beside_its_header() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(4).max_frame_len(1 << 20);
        let mut w = StreamWriter::new(Calls::new(usize::MAX));
        for i in 0..100u8 {
            w.write_frame(&prefix, &[i; 60]).await.unwrap();
        }
        w.flush().await.unwrap();
        assert_eq!(
            w.get_ref().lengths(),
            vec![vec![6400]],
            "100 frames, one write"
        );
        let big = pattern(100_000, 9);
        w.write_frame(&prefix, b"small").await.unwrap();
        w.write_frame(&prefix, &big).await.unwrap();
        w.flush().await.unwrap();
        assert_eq!(
            w.get_ref().lengths()[1],
            vec![9 + 4, big.len()],
            "headers copied, the large payload in a slice of its own"
        );
        assert_eq!(&w.get_ref().out[6400 + 13..], &big[..]);
    });
}

/// A payload of 16 KiB or more goes to a sink that is not busy straight
/// from the caller's memory, in the write that carries the pending bytes
/// and its header: no copy. What the sink does not take is copied, and the
/// frame still goes out whole, in order. A smaller payload is copied, to
/// go out with what follows in one write call. (Before, every payload
/// under 64 KiB was copied into the coalescing buffer first, and a larger
/// one into memory of its own.)
#[test]
fn a_large_payload_goes_out_from_the_callers_memory() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(4).max_frame_len(1 << 20);
        for take in [usize::MAX, 64 * 1024, 5000] {
            let mut w = StreamWriter::new(Calls::new(take));
            let mut expected = Vec::new();
            let large = pattern(40_000, 1);
            let exactly = pattern(16_384, 2);
            let coalesced = pattern(16_383, 3);
            let mut frame = |w: &mut StreamWriter<Calls>, p: &[u8]| {
                expected.extend_from_slice(&framed(&prefix, &[], p));
                poll_at_most(w.write_frame(&prefix, p), 1).unwrap().unwrap();
            };
            frame(&mut w, &large);
            for i in 0..10 {
                frame(&mut w, &[i; 100]);
            }
            frame(&mut w, &exactly);
            frame(&mut w, &coalesced);
            w.flush().await.unwrap();
            assert_eq!(w.get_ref().out, expected, "take {take}");
            let uncopied = |p: &[u8]| w.get_ref().taken_from(p.as_ptr());
            // All of it to a sink that takes 64 KiB a call, its first bytes
            // to one that takes less (the rest was copied).
            for p in [&large, &exactly] {
                let want = if take >= 64 * 1024 { p.len() } else { 1 };
                assert!(
                    uncopied(p) >= want,
                    "take {take}: {} of {} bytes went out uncopied",
                    uncopied(p),
                    p.len()
                );
            }
            assert_eq!(uncopied(&coalesced), 0, "take {take}: copied, to coalesce");
        }
    });
}

/// A busy sink is not asked about every large payload: while it is busy,
/// large payloads are copied, as small ones are, and the writer asks again
/// only as the backoff (`WriteQueue::sink_busy`) allows, about once per
/// write size piled up. On a socket each failed ask is a system call.
#[test]
fn a_busy_writer_is_not_asked_again_for_every_large_frame() {
    let prefix = LengthPrefix::new(4).max_frame_len(1 << 20);
    let frames = miri_or(60, 8);
    // 16 KiB: below the write size, asked about every few frames; 70,000
    // bytes: a write by itself, asked about once per frame at most (once
    // per write size piled up), not twice.
    for (size, most) in [(16_384, frames / 2), (70_000, frames)] {
        let mut w = StreamWriter::new(Calls::new(usize::MAX)).with_max_pending(8 << 20);
        let mut expected = Vec::new();
        let mut write = |w: &mut StreamWriter<Calls>, i: usize| {
            let p = pattern(size, i as u64);
            poll_at_most(w.write_frame(&prefix, &p), 3)
                .expect("below the cap, accepted while the writer is busy")
                .unwrap();
            expected.extend_from_slice(&framed(&prefix, &[], &p));
        };
        // A sink that takes everything: the write size grows to its largest.
        for i in 0..4 {
            write(&mut w, i);
        }
        w.get_mut().busy = true;
        let before = w.get_ref().attempts;
        for i in 4..4 + frames {
            write(&mut w, i);
        }
        let attempts = w.get_ref().attempts - before;
        assert!(
            attempts <= most,
            "{attempts} write calls for {frames} frames of {size} bytes to a busy sink"
        );
        w.get_mut().busy = false;
        poll_at_most(w.flush(), 3).unwrap().unwrap();
        assert_eq!(w.get_ref().out, expected);
    }
}

/// A large payload is sent through only to a sink not known to be busy,
/// and making room for its frame can find the sink busy: then the payload
/// is copied, with no second write tried for the same frame.
#[test]
fn a_sink_found_busy_while_making_room_is_not_asked_again_for_the_payload() {
    use Act::*;
    let prefix = LengthPrefix::new(4).max_frame_len(1 << 20);
    let mut w = StreamWriter::new(Scripted::new(vec![Pending]));
    // Just below the first write point (8 KiB): copied, no write tried.
    poll_at_most(w.write_all(&[7; 8190]), 1).unwrap().unwrap();
    assert_eq!(w.get_ref().at, 0);
    let payload = pattern(20_000, 5);
    poll_at_most(w.write_frame(&prefix, &payload), 1)
        .expect("accepted under the cap while the sink is busy")
        .unwrap();
    assert_eq!(w.get_ref().at, 1, "one write tried for the frame");
    assert_eq!(w.pending(), 8190 + 4 + 20_000);
    w.get_mut().script = vec![Take(usize::MAX)];
    poll_at_most(w.flush(), 1).unwrap().unwrap();
    let mut expected = vec![7; 8190];
    expected.extend_from_slice(&framed(&prefix, &[], &payload));
    assert_eq!(w.get_ref().out, expected);
}

#[test]
fn write_frame_mixes_with_send_and_write_all_in_order() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::varint();
        let mut w = StreamWriter::new(SlowWriter::new(5, true)).with_copy_threshold(8);
        w.write_all(b"<").await.unwrap();
        w.write_frame(&prefix, b"abc").await.unwrap();
        w.send(Bytes::from_static(b"KEPT-AS-IS")).await.unwrap();
        w.write_frame(&prefix, &[7; 300]).await.unwrap();
        w.send_frame(&prefix, Bytes::from_static(b"z"))
            .await
            .unwrap();
        w.flush().await.unwrap();
        let mut expected = b"<\x03abcKEPT-AS-IS\xac\x02".to_vec();
        expected.extend_from_slice(&[7; 300]);
        expected.extend_from_slice(b"\x01z");
        assert_eq!(w.get_ref().data, expected);
    });
}

#[derive(Debug, Clone)]
enum Op {
    Frame(Vec<u8>),
    Leading(u8, Vec<u8>),
    SendFrame(Vec<u8>),
    WriteAll(Vec<u8>),
    Flush,
    /// A write_frame polled this many times, then dropped.
    Cancelled(Vec<u8>, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let payload = prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..200),
        1 => prop::collection::vec(any::<u8>(), 1000..3000),
        1 => prop::collection::vec(any::<u8>(), miri_or(8000, 100)..miri_or(20_000, 200)),
        1 => (65536usize..66000).prop_map(|n| vec![5u8; miri_or(n, 2000)]),
    ];
    prop_oneof![
        6 => payload.clone().prop_map(Op::Frame),
        2 => (any::<u8>(), payload.clone()).prop_map(|(t, p)| Op::Leading(t, p)),
        2 => payload.clone().prop_map(Op::SendFrame),
        1 => prop::collection::vec(any::<u8>(), 0..100).prop_map(Op::WriteAll),
        1 => Just(Op::Flush),
        2 => (payload, 0usize..4).prop_map(|(p, k)| Op::Cancelled(p, k)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(miri_or(128, 2) as u32))]

    /// Random operations through a writer that takes random amounts, with
    /// `Pending` now and then: the output equals the oracle (everything
    /// accepted, in order), `pending()` is exact after every operation,
    /// and pending bytes stay under the cap but for one frame.
    #[test]
    fn random_frames_against_an_oracle(
        ops in prop::collection::vec(op(), 1..miri_or(40, 6)),
        takes in prop::collection::vec(1usize..4000, 1..8),
        pending in any::<bool>(),
        cap in prop::sample::select(vec![0usize, 100, 4096, 1 << 20]),
        threshold in prop::sample::select(vec![0usize, 64, 1024, 1 << 20]),
    ) {
        let mut script: Vec<Act> = takes.into_iter().map(Act::Take).collect();
        if pending {
            script.insert(1.min(script.len()), Act::Pending);
        }
        let prefix = LengthPrefix::new(4).max_frame_len(1 << 20);
        let pg = LengthPrefix::new(4).length_field_offset(1).max_frame_len(1 << 20);
        futures_lite::future::block_on(async {
            let mut w = StreamWriter::new(Scripted::new(script))
                .with_max_pending(cap)
                .with_copy_threshold(threshold);
            let mut accepted = Vec::new();
            // What pending() may be at most: the cap, or the last item
            // accepted if it was larger (pending bytes only shrink between).
            let mut bound = 0;
            for op in ops {
                let mut item = None;
                match op {
                    Op::Frame(p) => {
                        w.write_frame(&prefix, &p).await.unwrap();
                        let f = framed(&prefix, &[], &p);
                        item = Some(f.len());
                        accepted.extend_from_slice(&f);
                    }
                    Op::Leading(t, p) => {
                        w.write_frame_with_leading(&pg, &[t], &p).await.unwrap();
                        let f = framed(&pg, &[t], &p);
                        item = Some(f.len());
                        accepted.extend_from_slice(&f);
                    }
                    Op::SendFrame(p) => {
                        w.send_frame(&prefix, Bytes::from(p.clone())).await.unwrap();
                        let f = framed(&prefix, &[], &p);
                        item = Some(f.len());
                        accepted.extend_from_slice(&f);
                    }
                    Op::WriteAll(p) => {
                        w.write_all(&p).await.unwrap();
                        accepted.extend_from_slice(&p);
                        // (An empty write accepts nothing.)
                        item = (!p.is_empty()).then_some(p.len());
                    }
                    Op::Flush => w.flush().await.unwrap(),
                    Op::Cancelled(p, k) => {
                        if let Some(r) = poll_at_most(w.write_frame(&prefix, &p), k) {
                            r.unwrap();
                            let f = framed(&prefix, &[], &p);
                            item = Some(f.len());
                            accepted.extend_from_slice(&f);
                        }
                    }
                }
                check_exact(&w, &accepted);
                if let Some(item) = item {
                    bound = cap.max(item);
                }
                assert!(w.pending() <= bound, "pending {} cap {cap}", w.pending());
            }
            w.flush().await.unwrap();
            assert_eq!(w.pending(), 0);
            assert!(w.get_ref().out == accepted, "output differs from the oracle");
        });
    }
}
