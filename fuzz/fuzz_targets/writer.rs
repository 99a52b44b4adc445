//! StreamWriter and FramedWrite on one writer: sends, send_frames,
//! write_frames (borrowed payloads, also of 64 KiB and more), borrowed
//! writes (also of 64 KiB and more, which go straight to the inner writer),
//! Sink items through four encoders, flushes, empty items (also many in a
//! row), any of them cancelled (polled k times, then dropped), with any cap
//! and any copy threshold from 0 up. The inner writer takes part of what it
//! is given, returns `Pending`, `Interrupted`, an error, `Ok(0)`, or claims
//! more than it was given (then records nothing).
//!
//! The oracle, after every operation: what the inner writer recorded is a
//! prefix of everything accepted, `pending()` is exactly the rest, pending
//! bytes stay under the cap (but for one item), an error is the one the
//! inner writer's fault calls for (`Ok(0)`: `WriteZero`, an over-report:
//! `InvalidData`), and the inner writer is never handed nothing. The one
//! success that may leave a fault unreported is a `write_frame` of a payload
//! large enough to go out from the caller's memory, after part of it did:
//! then the next operation that returns an error must return that one, and
//! no write call may come before it. At the end
//! the inner writer turns honest: one flush delivers everything exactly
//! once, and close closes it once.
//!
//! Input: `split` gives (I/O script, operations); the operations are two
//! config bytes, then three bytes each: `[code, a, b]`. The code's low nibble
//! is the operation; a high nibble of 10..=15 cancels it after 1, 2, ..., 32
//! polls.
#![no_main]

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_io::AsyncWrite;
use futures_lite::AsyncWriteExt;
use futures_sink::Sink;
use intake::frame::{Delimited, EncodeBuf, Encoder, FramedWrite};
use intake::{Error, LengthPrefix, StreamWriter};
use intake_fuzz::{drive, split, Control};
use libfuzzer_sys::fuzz_target;

const CAPS: [usize; 6] = [0, 1, 10, 100, 5000, 1 << 20];
const THRESHOLDS: [usize; 8] = [0, 1, 2, 3, 16, 1024, 4096, 1 << 20];
const LENS: [usize; 16] = [
    0, 1, 2, 3, 7, 16, 63, 64, 100, 255, 1023, 1024, 1025, 4096, 5000, 65535,
];
/// Borrowed writes from this size go straight to the inner writer.
const DIRECT: usize = intake::DIRECT_WRITE;
/// `write_frame` payloads from this size go out from the caller's memory
/// (the writer's `DIRECT_PAYLOAD`), so a fault may come after part of the
/// frame went out.
const THROUGH: usize = 16 * 1024;

/// An inner writer that misbehaves as its script says, until `honest`.
struct EvilWriter<'a> {
    out: Vec<u8>,
    control: Control<'a>,
    honest: bool,
    /// Steps without progress in a row (`Pending`, `Interrupted`): capped,
    /// so the script always moves on.
    stalls: u32,
    /// The error the last faulty step calls for, until the target takes it.
    fault: Option<io::ErrorKind>,
    /// A fault the writer kept for a later call (see the module docs).
    deferred: Option<io::ErrorKind>,
    closes: u32,
}

impl EvilWriter<'_> {
    fn step(&mut self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        assert!(total > 0, "the inner writer was handed nothing to write");
        assert!(
            self.deferred.is_none(),
            "a write call while an error is kept for the caller"
        );
        let c = self.control.next();
        let stalled = self.stalls >= 4;
        self.stalls = if stalled { 0 } else { self.stalls + 1 };
        // Honest: no faults, and everything where a fault would have been.
        let all = stalled || (self.honest && (1..=5).contains(&(c % 16)));
        let step = if all { 15 } else { c % 16 };
        match step {
            0 => {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            1 => return Poll::Ready(Err(io::ErrorKind::Interrupted.into())),
            2 => {
                self.fault = Some(io::ErrorKind::WriteZero);
                return Poll::Ready(Ok(0));
            }
            3 => {
                // Claims more than it was given, and wrote nothing.
                self.fault = Some(io::ErrorKind::InvalidData);
                return Poll::Ready(Ok(total + 1 + usize::from(c / 16)));
            }
            4 | 5 => {
                self.fault = Some(io::ErrorKind::ConnectionReset);
                return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
            }
            _ => {}
        }
        self.stalls = 0;
        // Part of it (at least 50 bytes: steps 6..=15 with c % 3 != 0), or
        // all of it, often.
        let n = if all || c % 3 == 0 {
            total
        } else {
            (usize::from(c) * usize::from(c) + 1).min(total)
        };
        let mut left = n;
        for b in bufs {
            let k = left.min(b.len());
            self.out.extend_from_slice(&b[..k]);
            left -= k;
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for EvilWriter<'_> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.step(cx, &[IoSlice::new(buf)])
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.step(cx, bufs)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.closes += 1;
        Poll::Ready(Ok(()))
    }
}

/// Four encoders behind one: a 2-byte length prefix, a `\r\n` delimiter
/// (with a maximum), and two user encoders that append the item as it is
/// (`push`, copied or queued by the threshold) or copied.
struct Mixed {
    prefix: LengthPrefix,
    lines: Delimited,
}

impl Encoder<(u8, Bytes)> for Mixed {
    fn encode(&mut self, (kind, item): (u8, Bytes), dst: &mut EncodeBuf<'_>) -> Result<(), Error> {
        match kind % 4 {
            0 => self.prefix.encode(item, dst),
            1 => self.lines.encode(item, dst),
            2 => {
                dst.push(item);
                Ok(())
            }
            _ => {
                dst.extend_from_slice(&item);
                Ok(())
            }
        }
    }
}

/// What `Mixed` must append for an item, or `None` if it must refuse it.
fn encoded(kind: u8, item: &[u8], delim_max: usize) -> Option<Vec<u8>> {
    let mut v = Vec::new();
    match kind % 4 {
        0 => {
            v.extend_from_slice(&u16::try_from(item.len()).ok()?.to_be_bytes());
            v.extend_from_slice(item);
        }
        1 => {
            if item.len() + 2 > delim_max {
                return None;
            }
            v.extend_from_slice(item);
            v.extend_from_slice(b"\r\n");
        }
        _ => v.extend_from_slice(item),
    }
    Some(v)
}

/// Item bytes: a stream that does not repeat over short distances, so a
/// byte sent twice or out of order shows.
struct Gen(u32);

impl Gen {
    fn item(&mut self, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                self.0 += 1;
                (self.0.wrapping_mul(2_654_435_761) >> 24) as u8
            })
            .collect()
    }
}

type Framed<'a> = FramedWrite<EvilWriter<'a>, Mixed>;

fn writer<'a, 'b>(fw: &'b mut Framed<'a>) -> &'b mut StreamWriter<EvilWriter<'a>> {
    fw.get_mut()
}

fn inner<'a, 'b>(fw: &'b Framed<'a>) -> &'b EvilWriter<'a> {
    fw.get_ref().get_ref()
}

/// The error an operation returned must be the one the inner writer's
/// fault calls for; a success must leave no fault unreported.
/// While the writer keeps an error, no fault can occur (no write call is
/// made), and the next error returned must be the one kept.
fn check_fault(fw: &mut Framed<'_>, got: Option<io::ErrorKind>, what: &dyn Fn() -> String) {
    let evil = writer(fw).get_mut();
    let fault = evil.fault.take();
    if evil.deferred.is_some() {
        assert_eq!(fault, None, "{}: a fault while an error is kept", what());
        if got.is_some() {
            let kept = evil.deferred.take();
            assert_eq!(got, kept, "{}: error vs the error kept", what());
        }
        return;
    }
    assert_eq!(got, fault, "{}: error vs the inner writer's fault", what());
}

/// After a `write_frame` of `len` bytes succeeded: a fault may be left,
/// for a later call to return, only if part of the payload went out from
/// the caller's memory.
fn check_fault_or_keep(fw: &mut Framed<'_>, len: usize, what: &dyn Fn() -> String) {
    let evil = writer(fw).get_mut();
    if evil.deferred.is_none() && evil.fault.is_some() && len >= THROUGH {
        evil.deferred = evil.fault.take();
    }
    check_fault(fw, None, what);
}

fn io_kind(e: &Error) -> Option<io::ErrorKind> {
    match e {
        Error::Io(e) => Some(e.kind()),
        _ => None,
    }
}

fuzz_target!(|input: &[u8]| {
    let (io, ops) = split(input);
    let mut ops = ops.iter().copied();
    let mut next = || ops.next();
    let (Some(c0), Some(c1)) = (next(), next()) else {
        return;
    };
    let cap = CAPS[usize::from(c0) % 6];
    let threshold = THRESHOLDS[usize::from(c0 / 6) % 8];
    let delim_max = [2usize, 3, 10, 300, 70_000][usize::from(c1) % 5];
    let close_by_sink = c1 & 0x80 != 0;
    let evil = EvilWriter {
        out: Vec::new(),
        control: Control::new(io),
        honest: false,
        stalls: 0,
        fault: None,
        deferred: None,
        closes: 0,
    };
    let sw = StreamWriter::new(evil)
        .with_max_pending(cap)
        .with_copy_threshold(threshold);
    let encoder = Mixed {
        prefix: LengthPrefix::new(2),
        lines: Delimited::new(b"\r\n").max_length(delim_max),
    };
    let mut fw = FramedWrite::from_writer(sw, encoder);
    let prefix = LengthPrefix::new(2);
    let prefix4 = LengthPrefix::new(4);
    let mut gen = Gen(u32::from(c0) << 16 | u32::from(c1) << 8);
    // Everything accepted, in order.
    let mut accepted: Vec<u8> = Vec::new();
    // What pending() may be at most now.
    let mut bound = 0usize;
    // How many recorded bytes were checked against `accepted` so far.
    let mut checked = 0usize;
    let mut big = 0;
    let mut op = 0;
    while let (Some(code), Some(a), Some(b)) = (next(), next(), next()) {
        op += 1;
        let budget = (code >> 4 >= 10).then(|| 1u32 << ((code >> 4) - 10));
        let len = LENS[usize::from(a) % 16] + usize::from(a / 16);
        let what = || format!("op {op} (code {code:#x}, len {len})");
        match code & 15 {
            0 | 11 => {
                let item = gen.item(len);
                let got = drive(writer(&mut fw).send(Bytes::from(item.clone())), budget);
                match got {
                    Some(Ok(())) => {
                        accepted.extend_from_slice(&item);
                        if len > 0 {
                            bound = cap.max(len);
                        }
                        check_fault(&mut fw, None, &what);
                    }
                    Some(Err(e)) => check_fault(&mut fw, io_kind(&e), &what),
                    None => check_fault(&mut fw, None, &what),
                }
            }
            1 => {
                let item = gen.item(len);
                let got = drive(
                    writer(&mut fw).send_frame(&prefix, Bytes::from(item.clone())),
                    budget,
                );
                let framed = encoded(0, &item, 0);
                match got {
                    Some(Ok(())) => {
                        let framed = framed
                            .unwrap_or_else(|| panic!("{}: send_frame took {len} bytes", what()));
                        accepted.extend_from_slice(&framed);
                        bound = cap.max(framed.len());
                        check_fault(&mut fw, None, &what);
                    }
                    Some(Err(e)) if framed.is_none() => {
                        assert!(
                            io_kind(&e) == Some(io::ErrorKind::InvalidInput),
                            "{}: {e}",
                            what()
                        );
                        check_fault(&mut fw, None, &what);
                    }
                    Some(Err(e)) => check_fault(&mut fw, io_kind(&e), &what),
                    None => check_fault(&mut fw, None, &what),
                }
            }
            k @ (2 | 3 | 8 | 12) => {
                // A borrowed write: once, or until all is written (3), or of
                // 64 KiB and more (8), which goes straight to the inner writer.
                let len = if k == 8 {
                    big += 1;
                    if big > 4 {
                        continue;
                    }
                    DIRECT + (usize::from(a) << 8 | usize::from(b)) % 6000
                } else {
                    len
                };
                let item = gen.item(len);
                let mut at = 0;
                loop {
                    let got = drive(writer(&mut fw).write(&item[at..]), budget);
                    match got {
                        Some(Ok(n)) => {
                            assert!(
                                n <= len - at,
                                "{}: poll_write reported {n} bytes written of {}",
                                what(),
                                len - at
                            );
                            assert!(n > 0 || at == len, "{}: poll_write returned 0", what());
                            accepted.extend_from_slice(&item[at..at + n]);
                            at += n;
                            if n > 0 {
                                bound = cap.max(n);
                            }
                            check_fault(&mut fw, None, &what);
                        }
                        Some(Err(e)) => {
                            check_fault(&mut fw, Some(e.kind()), &what);
                            break;
                        }
                        None => {
                            check_fault(&mut fw, None, &what);
                            break;
                        }
                    }
                    if k != 3 || at == len {
                        break;
                    }
                }
            }
            4 => {
                let got = drive(writer(&mut fw).flush(), budget);
                match got {
                    Some(Ok(())) => {
                        assert_eq!(writer(&mut fw).pending(), 0, "{}: flushed", what());
                        check_fault(&mut fw, None, &what);
                    }
                    Some(Err(e)) => check_fault(&mut fw, io_kind(&e), &what),
                    None => check_fault(&mut fw, None, &what),
                }
            }
            k @ (5 | 13) => {
                // A Sink item: poll_ready, then start_send.
                let kind = b % 4;
                let item = gen.item(if k == 13 { usize::from(a) % 8 } else { len });
                let ready = drive(
                    futures_lite::future::poll_fn(|cx| Pin::new(&mut fw).poll_ready(cx)),
                    budget,
                );
                match ready {
                    Some(Ok(())) => {
                        check_fault(&mut fw, None, &what);
                        let pending = writer(&mut fw).pending();
                        assert!(
                            pending == 0 || pending < cap,
                            "{}: ready with {pending} pending, cap {cap}",
                            what()
                        );
                        let want = encoded(kind, &item, delim_max);
                        let got = Pin::new(&mut fw).start_send((kind, Bytes::from(item)));
                        match (got, want) {
                            (Ok(()), Some(bytes)) => {
                                accepted.extend_from_slice(&bytes);
                                bound = pending.max(cap.saturating_sub(1)) + bytes.len();
                            }
                            (Err(_), None) => {}
                            (got, want) => {
                                panic!("{}: start_send kind {kind}: {got:?}, want {want:?}", what())
                            }
                        }
                    }
                    Some(Err(e)) => check_fault(&mut fw, io_kind(&e), &what),
                    None => check_fault(&mut fw, None, &what),
                }
            }
            6 => {
                let got = drive(
                    futures_lite::future::poll_fn(|cx| Pin::new(&mut fw).poll_flush(cx)),
                    budget,
                );
                match got {
                    Some(Ok(())) => {
                        assert_eq!(writer(&mut fw).pending(), 0, "{}: flushed", what());
                        check_fault(&mut fw, None, &what);
                    }
                    Some(Err(e)) => check_fault(&mut fw, io_kind(&e), &what),
                    None => check_fault(&mut fw, None, &what),
                }
            }
            7 => {
                // Many empty items in a row (each must cost nothing).
                for _ in 0..63 + usize::from(a) % 70 {
                    match drive(writer(&mut fw).send(Bytes::new()), None) {
                        Some(Ok(())) => check_fault(&mut fw, None, &what),
                        Some(Err(e)) => {
                            check_fault(&mut fw, io_kind(&e), &what);
                            break;
                        }
                        None => unreachable!(),
                    }
                }
            }
            9 => {
                // A large `Bytes`: queued as it is (above most thresholds).
                big += 1;
                if big > 4 {
                    continue;
                }
                let len = DIRECT + (usize::from(a) << 8 | usize::from(b)) % 6000;
                let item = gen.item(len);
                match drive(writer(&mut fw).send(Bytes::from(item.clone())), budget) {
                    Some(Ok(())) => {
                        accepted.extend_from_slice(&item);
                        bound = cap.max(len);
                        check_fault(&mut fw, None, &what);
                    }
                    Some(Err(e)) => check_fault(&mut fw, io_kind(&e), &what),
                    None => check_fault(&mut fw, None, &what),
                }
            }
            10 => {
                // One empty item, of each kind.
                let got = match a % 4 {
                    0 => drive(writer(&mut fw).send(Bytes::new()), budget),
                    1 => {
                        let got = drive(writer(&mut fw).send_frame(&prefix, Bytes::new()), budget);
                        if let Some(Ok(())) = got {
                            accepted.extend_from_slice(&[0, 0]);
                            bound = cap.max(2);
                        }
                        got
                    }
                    2 => drive(writer(&mut fw).write(&[]), budget).map(|r| {
                        assert_eq!(r.as_ref().ok(), Some(&0), "{}: empty write", what());
                        r.map(|_| ()).map_err(Error::Io)
                    }),
                    _ => {
                        let ready = drive(
                            futures_lite::future::poll_fn(|cx| Pin::new(&mut fw).poll_ready(cx)),
                            budget,
                        );
                        if let Some(Ok(())) = ready {
                            let kind = b % 4;
                            let want = encoded(kind, &[], delim_max);
                            let pending = writer(&mut fw).pending();
                            match (Pin::new(&mut fw).start_send((kind, Bytes::new())), want) {
                                (Ok(()), Some(bytes)) => {
                                    accepted.extend_from_slice(&bytes);
                                    bound = pending.max(cap.saturating_sub(1)) + bytes.len();
                                }
                                (Err(_), None) => {}
                                (got, want) => panic!(
                                    "{}: empty start_send kind {kind}: {got:?}, want {want:?}",
                                    what()
                                ),
                            }
                        }
                        ready
                    }
                };
                match got {
                    Some(Ok(())) | None => check_fault(&mut fw, None, &what),
                    Some(Err(e)) => check_fault(&mut fw, io_kind(&e), &what),
                }
            }
            15 => {
                // write_frame: a borrowed payload, copied with its header;
                // a large one (b odd: 64 KiB and more, behind a 4-byte
                // length) is copied into memory of its own.
                let (p, len) = if b & 1 == 1 {
                    big += 1;
                    if big > 4 {
                        continue;
                    }
                    (
                        prefix4,
                        DIRECT + (usize::from(a) << 8 | usize::from(b)) % 6000,
                    )
                } else {
                    (prefix, len)
                };
                let item = gen.item(len);
                let framed = p
                    .encode_header(len)
                    .ok()
                    .map(|h| [h.as_ref(), &item].concat());
                match drive(writer(&mut fw).write_frame(&p, &item), budget) {
                    Some(Ok(())) => {
                        let framed = framed
                            .unwrap_or_else(|| panic!("{}: write_frame took {len} bytes", what()));
                        accepted.extend_from_slice(&framed);
                        bound = cap.max(framed.len());
                        check_fault_or_keep(&mut fw, len, &what);
                    }
                    Some(Err(e)) if framed.is_none() => {
                        assert!(
                            io_kind(&e) == Some(io::ErrorKind::InvalidInput),
                            "{}: {e}",
                            what()
                        );
                        check_fault(&mut fw, None, &what);
                    }
                    Some(Err(e)) => check_fault(&mut fw, io_kind(&e), &what),
                    None => check_fault(&mut fw, None, &what),
                }
            }
            _ => {
                // AsyncWrite::poll_flush, through futures-lite.
                let w = writer(&mut fw);
                match drive(
                    futures_lite::future::poll_fn(|cx| Pin::new(&mut *w).poll_flush(cx)),
                    budget,
                ) {
                    Some(Ok(())) => {
                        assert_eq!(writer(&mut fw).pending(), 0, "{}: flushed", what());
                        check_fault(&mut fw, None, &what);
                    }
                    Some(Err(e)) => check_fault(&mut fw, Some(e.kind()), &what),
                    None => check_fault(&mut fw, None, &what),
                }
            }
        }
        // The recorded bytes only grow: compare what is new since last time.
        let out = &inner(&fw).out;
        let pending = fw.get_ref().pending();
        assert!(
            out.len() <= accepted.len() && out[checked..] == accepted[checked..out.len()],
            "{}: the inner writer got bytes that were not accepted, or out of order (recorded {}, accepted {})",
            what(),
            out.len(),
            accepted.len()
        );
        assert_eq!(
            pending,
            accepted.len() - out.len(),
            "{}: pending() is not accepted - written",
            what()
        );
        assert!(
            pending <= bound,
            "{}: pending {pending} over {bound} (cap {cap})",
            what()
        );
        checked = out.len();
    }
    // The inner writer turns honest: everything goes out exactly once,
    // after the error the writer kept, if any.
    writer(&mut fw).get_mut().honest = true;
    if let Some(kept) = writer(&mut fw).get_mut().deferred {
        let got = drive(writer(&mut fw).flush(), None).unwrap();
        check_fault(&mut fw, got.err().as_ref().and_then(io_kind), &|| {
            format!("final flush, {kept:?} kept")
        });
        assert_eq!(writer(&mut fw).get_mut().deferred, None, "kept for ever");
    }
    drive(writer(&mut fw).flush(), None)
        .unwrap()
        .unwrap_or_else(|e| panic!("final flush: {e}"));
    assert_eq!(fw.get_ref().pending(), 0);
    assert!(
        inner(&fw).out == accepted,
        "final flush: output != everything accepted"
    );
    for _ in 0..2 {
        if close_by_sink {
            drive(
                futures_lite::future::poll_fn(|cx| Pin::new(&mut fw).poll_close(cx)),
                None,
            )
            .unwrap()
            .unwrap();
        } else {
            drive(writer(&mut fw).close(), None).unwrap().unwrap();
        }
    }
    assert_eq!(inner(&fw).closes, 1, "closed once");
    assert!(inner(&fw).out == accepted);
});
