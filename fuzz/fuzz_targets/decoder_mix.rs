//! One `StreamReader`, a scripted mix of `decode` (with five `Delimited`
//! decoders: 1- and multi-byte delimiters, a max_length, each option;
//! `LengthPrefix`; and two user decoders, one of which keeps scan progress
//! across calls in the reader) and every other read: read_exactly,
//! read_until, peek_until + consume, peek + consume, skip, skip_until,
//! skip_frame, read_into, read_exact_into, read_frame and plain consume. Any operation may be cancelled: polled k
//! times, then dropped. Every result is checked against a cursor over the
//! input (the oracle), and after every operation the reader's buffer must be
//! exactly the bytes between the cursor and what the inner reader delivered.
//! An operation whose answer is already buffered must not poll the inner
//! reader.
//!
//! Input: `split` gives (control, data); the control's first half scripts
//! the I/O, the second half is three config bytes, then three bytes per
//! operation: `[code, a, b]`. The code's low nibble is the operation; a high
//! nibble of 10..=15 cancels it after 1, 2, 4, ..., 32 polls.
#![no_main]

use std::io;

use bytes::Bytes;
use intake::frame::{DecodeBuf, Decoder, Delimited};
use intake::{Error, LengthPrefix, StreamReader};
use intake_fuzz::{drive, split, ScriptedReader, ERR_KIND};
use libfuzzer_sys::fuzz_target;

const DELIMS: [&[u8]; 3] = [b"\n", b"\r\n", b"aab"];
const CAPS: [usize; 6] = [0, 1, 7, 16, 64, 8192];
const LIMITS: [usize; 4] = [8, 20, 40, 100];
const MAXES: [usize; 8] = [1, 3, 5, 12, 18, 40, 100, 300];
/// "Decided" threshold of an answer that needs the end of the stream.
const NEVER: usize = usize::MAX;

/// Operation bytes, front to back (zeros once they run out).
struct Ops<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Ops<'_> {
    fn next(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }
}

/// What an operation must return, for the bytes `rest` after the cursor.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    /// `rest[from..to]`, consuming `consumed` bytes.
    Item {
        from: usize,
        to: usize,
        consumed: usize,
    },
    Limit,
    TooLarge,
    Invalid,
    /// `UnexpectedEof` carrying all of `rest`.
    Eof,
    /// A clean end: nothing left.
    Clean,
}

/// An answer and how many bytes of `rest` decide it: once that many are
/// buffered, the operation must not poll the inner reader.
type Oracle = (Want, usize);

fn eof_or_clean(rest: &[u8]) -> Oracle {
    (
        if rest.is_empty() {
            Want::Clean
        } else {
            Want::Eof
        },
        NEVER,
    )
}

/// A delimited frame (or line) of at most `max` bytes, delimiter included.
fn line_oracle(rest: &[u8], delim: &[u8], max: usize) -> Oracle {
    let end = rest
        .windows(delim.len())
        .position(|w| w == delim)
        .map(|i| i + delim.len());
    match end {
        Some(e) if e <= max => (
            Want::Item {
                from: 0,
                to: e,
                consumed: e,
            },
            e,
        ),
        _ if rest.len() >= max => (Want::Limit, max),
        _ => eof_or_clean(rest),
    }
}

fn first_end(rest: &[u8], delim: &[u8]) -> Option<usize> {
    rest.windows(delim.len())
        .position(|w| w == delim)
        .map(|i| i + delim.len())
}

/// A `Delimited` with its options, and what the oracle knows of it.
struct Lines {
    dec: Delimited,
    delim: &'static [u8],
    max: usize,
    strip: bool,
    strip_cr: bool,
    unterminated: bool,
    discard: bool,
    /// With `discard_overlong`, after `LimitExceeded`: where the over-long
    /// frame ends (an offset into the data), while its bytes are dropped,
    /// and the reader's position when this decoder last returned. Dropping
    /// goes on only if no other read took bytes since (intake's rule: a
    /// read in between means the caller took over).
    dropping: Option<(usize, usize)>,
}

impl Lines {
    fn new(delim: &'static [u8], max: usize, options: u8) -> Self {
        let mut dec = Delimited::new(delim).max_length(max);
        let (strip, strip_cr) = (options & 1 != 0, options & 2 != 0);
        let (unterminated, discard) = (options & 4 != 0, options & 8 != 0);
        if strip_cr {
            dec = dec.strip_line_ending();
        } else if strip {
            dec = dec.strip_delimiter();
        }
        if unterminated {
            dec = dec.allow_unterminated();
        }
        if discard {
            dec = dec.discard_overlong();
        }
        Lines {
            dec,
            delim,
            max,
            strip: strip || strip_cr,
            strip_cr,
            unterminated,
            discard,
            dropping: None,
        }
    }

    /// The next frame of `rest`, stripped as set.
    fn oracle(&self, rest: &[u8]) -> Oracle {
        let cr = |to: usize| usize::from(self.strip_cr && to > 0 && rest[to - 1] == b'\r');
        match line_oracle(rest, self.delim, self.max) {
            (Want::Item { to: e, .. }, decided) => {
                let to = if self.strip { e - self.delim.len() } else { e };
                let to = to - cr(to);
                (
                    Want::Item {
                        from: 0,
                        to,
                        consumed: e,
                    },
                    decided,
                )
            }
            (Want::Eof, _) if self.unterminated => (
                Want::Item {
                    from: 0,
                    to: rest.len() - cr(rest.len()),
                    consumed: rest.len(),
                },
                NEVER,
            ),
            other => other,
        }
    }
}

/// `n` bytes exactly.
fn exact_oracle(rest: &[u8], n: usize) -> Oracle {
    if n <= rest.len() {
        (
            Want::Item {
                from: 0,
                to: n,
                consumed: n,
            },
            n,
        )
    } else {
        (Want::Eof, NEVER)
    }
}

/// A length prefix: `width` bytes (0: LEB128 varint), payload at most `max`.
#[derive(Clone, Copy)]
struct Prefix {
    width: usize,
    le: bool,
    max: usize,
}

const PREFIXES: [Prefix; 4] = [
    Prefix {
        width: 1,
        le: false,
        max: 200,
    },
    Prefix {
        width: 2,
        le: false,
        max: 300,
    },
    Prefix {
        width: 0,
        le: false,
        max: 100,
    },
    Prefix {
        width: 3,
        le: true,
        max: 70_000,
    },
];

impl Prefix {
    fn build(self) -> LengthPrefix {
        let p = if self.width == 0 {
            LengthPrefix::varint()
        } else {
            LengthPrefix::new(self.width)
        };
        let p = if self.le { p.little_endian() } else { p };
        p.max_frame_len(self.max)
    }

    /// One frame, decoded naively.
    fn oracle(self, rest: &[u8]) -> Oracle {
        self.frame(rest, true)
    }

    /// One frame; `bounded`: the maximum applies (not for `skip_frame`).
    fn frame(self, rest: &[u8], bounded: bool) -> Oracle {
        let (len, header): (u128, usize) = if self.width == 0 {
            let mut v: u128 = 0;
            let mut i = 0;
            loop {
                let Some(&b) = rest.get(i) else {
                    return eof_or_clean(rest);
                };
                v |= u128::from(b & 0x7f) << (7 * i);
                i += 1;
                if b & 0x80 == 0 {
                    break;
                }
                if i == 10 {
                    return (Want::Invalid, 10);
                }
            }
            if v > u128::from(u64::MAX) {
                return (Want::Invalid, i);
            }
            (v, i)
        } else {
            let Some(field) = rest.get(..self.width) else {
                return eof_or_clean(rest);
            };
            let mut v: u128 = 0;
            for i in 0..self.width {
                let b = if self.le {
                    field[self.width - 1 - i]
                } else {
                    field[i]
                };
                v = v << 8 | u128::from(b);
            }
            (v, self.width)
        };
        if bounded && len > self.max as u128 {
            return (Want::TooLarge, header);
        }
        if len > (rest.len() - header) as u128 {
            return (Want::Eof, NEVER);
        }
        let total = header + len as usize;
        if total > rest.len() {
            return (Want::Eof, NEVER);
        }
        (
            Want::Item {
                from: header,
                to: total,
                consumed: total,
            },
            total,
        )
    }
}

/// A user decoder that scans for `delim` (frames include it, at most `max`
/// bytes) and keeps its scan progress across calls where the `Decoder` docs
/// say to: in the reader (`DecodeBuf::scanned` / `set_scanned`), which
/// shifts it on every consumption.
struct ScanDelim {
    delim: &'static [u8],
    max: usize,
}

impl Decoder for ScanDelim {
    type Item = Bytes;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Error> {
        let dlen = self.delim.len();
        let scanned = buf.scanned();
        assert!(scanned <= buf.len(), "scanned() past the buffered bytes");
        let bytes = buf.bytes();
        let window = bytes.len().min(self.max);
        let from = scanned.saturating_sub(dlen - 1).min(window);
        if let Some(at) = bytes[from..window]
            .windows(dlen)
            .position(|w| w == self.delim)
        {
            return Ok(Some(buf.split_to(from + at + dlen)));
        }
        buf.set_scanned(window);
        if window >= self.max {
            return Err(Error::LimitExceeded { limit: self.max });
        }
        Ok(None)
    }
}

/// A netstring header: `<1 to 5 digits>:`.
enum NetHeader {
    More,
    Invalid(usize),
    /// Header length (colon included) and payload length.
    Frame(usize, usize),
}

fn net_header(b: &[u8]) -> NetHeader {
    for j in 0..6 {
        match b.get(j) {
            None => return NetHeader::More,
            Some(b':') if j > 0 => {
                let len = b[..j]
                    .iter()
                    .fold(0usize, |v, d| v * 10 + usize::from(d - b'0'));
                return NetHeader::Frame(j + 1, len);
            }
            Some(d) if d.is_ascii_digit() && j < 5 => {}
            Some(_) => return NetHeader::Invalid(j + 1),
        }
    }
    unreachable!("index 5 is a colon or invalid")
}

/// A stateless user decoder for netstrings (`5:hello,`) that asks for the
/// whole frame with `need`, then consumes it in three steps.
struct Netstring;

fn invalid() -> Error {
    Error::Io(io::Error::new(io::ErrorKind::InvalidData, "bad netstring"))
}

impl Decoder for Netstring {
    type Item = Bytes;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Error> {
        match net_header(buf.bytes()) {
            NetHeader::More => Ok(None),
            NetHeader::Invalid(_) => Err(invalid()),
            NetHeader::Frame(header, len) => {
                let total = header + len + 1;
                if buf.len() < total {
                    buf.need(total);
                    return Ok(None);
                }
                if buf.bytes()[total - 1] != b',' {
                    return Err(invalid());
                }
                buf.advance(header);
                let item = buf.split_to(len);
                buf.advance(1);
                Ok(Some(item))
            }
        }
    }
}

fn net_oracle(rest: &[u8]) -> Oracle {
    match net_header(rest) {
        NetHeader::More => eof_or_clean(rest),
        NetHeader::Invalid(at) => (Want::Invalid, at),
        NetHeader::Frame(header, len) => {
            let total = header + len + 1;
            match rest.get(total - 1) {
                None => (Want::Eof, NEVER),
                Some(b',') => (
                    Want::Item {
                        from: header,
                        to: header + len,
                        consumed: total,
                    },
                    total,
                ),
                Some(_) => (Want::Invalid, total),
            }
        }
    }
}

/// `peek_until`'s line, copied out of the reader.
fn peeked_line(got: Result<Option<&[u8]>, Error>) -> Result<Option<Vec<u8>>, Error> {
    got.map(|l| l.map(<[u8]>::to_vec))
}

/// Checks one result against the oracle and moves the cursor past what it
/// consumed. `eof_consumes`: whether `UnexpectedEof` hands the bytes over
/// (everything but `peek_until`).
fn check(
    got: Result<Option<&[u8]>, &Error>,
    want: Want,
    rest: &[u8],
    eof_consumes: bool,
    pos: &mut usize,
    what: &dyn Fn() -> String,
) {
    match (got, want) {
        (Ok(Some(item)), Want::Item { from, to, consumed }) if item == &rest[from..to] => {
            *pos += consumed
        }
        (Ok(None), Want::Clean)
        | (Err(Error::LimitExceeded { .. }), Want::Limit)
        | (Err(Error::FrameTooLarge { .. }), Want::TooLarge) => {}
        (Err(Error::Io(e)), Want::Invalid) if e.kind() == io::ErrorKind::InvalidData => {}
        (Err(Error::UnexpectedEof { partial, .. }), Want::Eof) if &partial[..] == rest => {
            if eof_consumes {
                *pos += rest.len();
            }
        }
        // A scripted error: nothing consumed, the next operation goes on.
        (Err(Error::Io(e)), _) if e.kind() == ERR_KIND => {}
        (got, want) => panic!(
            "{}: got {:?}, want {want:?}; rest {:?}",
            what(),
            got.map(|o| o.map(Bytes::copy_from_slice)),
            Bytes::copy_from_slice(rest)
        ),
    }
}

fn owned(got: &Result<Option<Bytes>, Error>) -> Result<Option<&[u8]>, &Error> {
    got.as_ref().map(|o| o.as_deref())
}

/// `DECODER_MIX_TRACE=1` prints every operation (to read a crash).
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("DECODER_MIX_TRACE").is_some())
}

fuzz_target!(|input: &[u8]| {
    let (control, data) = split(input);
    let (io, ops) = control.split_at(control.len() / 2);
    let mut ops = Ops { bytes: ops, at: 0 };
    let c = [ops.next(), ops.next(), ops.next()].map(usize::from);
    let capacity = CAPS[c[0] % 6];
    let limit = LIMITS[c[0] / 6 % 4];
    let mut lines = [
        Lines::new(DELIMS[0], MAXES[c[1] % 8], 0),
        Lines::new(DELIMS[1], MAXES[c[1] / 8 % 8], 1), // strip_delimiter
        Lines::new(DELIMS[2], MAXES[c[2] % 8], 4),     // allow_unterminated
        // More decoders for the same delimiter, on the same reader.
        Lines::new(DELIMS[0], MAXES[c[2] / 8 % 8], 2), // strip_line_ending
        Lines::new(DELIMS[0], MAXES[(c[1] ^ c[2]) / 64], 2 | 4 | 8), // text_lines
    ];
    let mut scanners = [
        ScanDelim {
            delim: b"\n",
            max: 40,
        },
        ScanDelim {
            delim: b"aab",
            max: 18,
        },
    ];
    let mut r =
        StreamReader::with_capacity(capacity, ScriptedReader::new(data, io)).with_limit(limit);
    let mut pos = 0usize;
    // Where a `skip_until` that discarded part of a line stopped (cancelled
    // or failed): a call starting there continues that line, so an end of
    // stream there is `UnexpectedEof`, not a clean end.
    let mut open_run: Option<usize> = None;
    let mut op = 0;
    while !ops.done() && op < 256 {
        op += 1;
        let (code, a, b) = (ops.next(), usize::from(ops.next()), usize::from(ops.next()));
        let budget = (code >> 4 >= 10).then(|| 1u32 << ((code >> 4) - 10));
        let rest = &data[pos..];
        let buffered = r.buffer().len();
        let polls = r.get_ref().polls;
        let start = pos;
        if trace() {
            eprintln!(
                "op {op}: code {code:#04x} a {a} b {b}, budget {budget:?}; at {pos}, buffered {:?}, decode Delimited #{} dropping {:?}",
                Bytes::copy_from_slice(r.buffer()),
                a % 5,
                lines[a % 5].dropping
            );
        }
        // Each arm returns how many bytes of `rest` decide its answer.
        let decided = match code & 15 {
            0 | 13 => {
                let l = &mut lines[a % 5];
                // Decoding starts after the rest of an over-long frame that is
                // being dropped, unless another read took bytes since this
                // decoder last returned: then the caller took over and
                // nothing more is dropped.
                let from = match l.dropping {
                    Some((end, at)) if at == pos && end > pos => end,
                    _ => pos,
                };
                l.dropping = None;
                let (want, decided) = l.oracle(&data[from..]);
                let decided = decided.saturating_add(from - pos);
                let (delim, max, discard) = (l.delim, l.max, l.discard);
                let got = drive(r.decode(&mut l.dec), budget);
                let what = || format!("op {op}: decode Delimited({delim:?}, max {max}) #{}", a % 5);
                let partial = match &got {
                    None => true,
                    Some(Err(Error::Io(e))) => e.kind() == ERR_KIND,
                    Some(Err(Error::LimitExceeded { .. })) => discard,
                    _ => false,
                };
                if partial {
                    // Dropping goes on as bytes arrive: only how far it got
                    // can be checked, read off the reader.
                    let (to, end) = match got {
                        Some(Err(Error::LimitExceeded { .. })) => {
                            assert_eq!(want, Want::Limit, "{}: LimitExceeded", what());
                            let end = first_end(&data[from..], delim).unwrap_or(data.len() - from);
                            (from + end, Some(from + end))
                        }
                        _ => (from, (from > pos).then_some(from)),
                    };
                    pos = data.len() - r.get_ref().remaining() - r.buffer().len();
                    assert!(
                        start <= pos && pos <= to,
                        "{}: dropped to {} of {start}..={to}",
                        what(),
                        pos
                    );
                    l.dropping = end.filter(|&end| pos < end).map(|end| (end, pos));
                } else if let Some(got) = got {
                    pos = from;
                    check(owned(&got), want, &data[from..], true, &mut pos, &what);
                }
                decided
            }
            1 => {
                let p = PREFIXES[a % 4];
                let mut dec = p.build();
                let (want, decided) = p.oracle(rest);
                if let Some(got) = drive(r.decode(&mut dec), budget) {
                    let what = || format!("op {op}: decode LengthPrefix width {}", p.width);
                    check(owned(&got), want, rest, true, &mut pos, &what);
                }
                decided
            }
            2 => {
                let s = &mut scanners[a % 2];
                let (want, decided) = line_oracle(rest, s.delim, s.max);
                let delim = s.delim;
                if let Some(got) = drive(r.decode(s), budget) {
                    let what = || format!("op {op}: decode ScanDelim({delim:?})");
                    check(owned(&got), want, rest, true, &mut pos, &what);
                }
                decided
            }
            3 => {
                let (want, decided) = net_oracle(rest);
                if let Some(got) = drive(r.decode(&mut Netstring), budget) {
                    let what = || format!("op {op}: decode Netstring");
                    check(owned(&got), want, rest, true, &mut pos, &what);
                }
                decided
            }
            4 => {
                let n = a % 50;
                let (want, decided) = exact_oracle(rest, n);
                if let Some(got) = drive(r.read_exactly(n), budget) {
                    let got = got.map(Some);
                    let what = || format!("op {op}: read_exactly({n})");
                    check(owned(&got), want, rest, true, &mut pos, &what);
                }
                decided
            }
            5 => {
                let delim = DELIMS[a % 3];
                let (want, decided) = line_oracle(rest, delim, limit);
                if let Some(got) = drive(r.read_until(delim), budget) {
                    let what = || format!("op {op}: read_until({delim:?})");
                    check(owned(&got), want, rest, true, &mut pos, &what);
                }
                decided
            }
            6 => {
                let delim = DELIMS[a % 3];
                let (want, decided) = line_oracle(rest, delim, limit);
                if let Some(got) = drive(r.peek_until(delim), budget).map(peeked_line) {
                    let what = || format!("op {op}: peek_until({delim:?})");
                    let mut at = pos;
                    check(
                        got.as_ref().map(|o| o.as_deref()),
                        want,
                        rest,
                        false,
                        &mut at,
                        &what,
                    );
                    // Nothing consumed by the peek; the caller consumes part.
                    if let Ok(Some(l)) = &got {
                        let k = b % (l.len() + 1);
                        r.consume(k);
                        pos += k;
                    }
                }
                decided
            }
            7 => {
                let n = a % 50;
                let got = drive(r.peek(n), budget).map(|g| g.map(<[u8]>::to_vec));
                match got {
                    Some(Ok(seen)) => {
                        assert!(n <= limit, "op {op}: peek({n}) over the limit {limit}");
                        assert!(seen.len() >= n.min(rest.len()), "op {op}: peek({n}) short");
                        assert_eq!(&seen[..], &rest[..seen.len()], "op {op}: peek({n})");
                        let k = b % (seen.len() + 1);
                        r.consume(k);
                        pos += k;
                    }
                    Some(Err(Error::LimitExceeded { .. })) => {
                        assert!(n > limit, "op {op}: peek({n}) within the limit {limit}")
                    }
                    Some(Err(Error::Io(e))) if e.kind() == ERR_KIND => {}
                    Some(Err(e)) => panic!("op {op}: peek({n}): {e}"),
                    None => {}
                }
                if n > limit {
                    0
                } else if n <= rest.len() {
                    n
                } else {
                    NEVER
                }
            }
            8 => {
                // Not cancel-safe (documented): how far it got is read off
                // the reader below, and must be within `n`.
                let n = a % 30;
                match drive(r.skip(n as u64), budget) {
                    Some(Ok(())) => assert!(n <= rest.len(), "op {op}: skip({n}) past the end"),
                    Some(Err(Error::UnexpectedEof { partial, .. })) => {
                        assert!(n > rest.len(), "op {op}: skip({n}) ended early");
                        assert!(partial.is_empty());
                    }
                    Some(Err(Error::Io(e))) if e.kind() == ERR_KIND => {}
                    Some(Err(e)) => panic!("op {op}: skip({n}): {e}"),
                    None => {}
                }
                let delivered = data.len() - r.get_ref().remaining();
                pos = delivered - r.buffer().len();
                assert!(
                    pos >= start && pos - start <= n,
                    "op {op}: skip({n}) skipped {}",
                    pos - start
                );
                if n <= rest.len() {
                    n
                } else {
                    NEVER
                }
            }
            9 => {
                let mut dst = vec![0u8; a % 20 + 1];
                match drive(r.read_into(&mut dst), budget) {
                    Some(Ok(n)) => {
                        assert_eq!(&dst[..n], &rest[..n], "op {op}: read_into");
                        assert!(n > 0 || rest.is_empty(), "op {op}: read_into returned 0");
                        pos += n;
                    }
                    Some(Err(Error::Io(e))) if e.kind() == ERR_KIND => {}
                    Some(Err(e)) => panic!("op {op}: read_into: {e}"),
                    None => {}
                }
                1
            }
            10 => {
                let mut dst = vec![0u8; a % 60];
                let (want, decided) = exact_oracle(rest, dst.len());
                let got = drive(r.read_exact_into(&mut dst), budget);
                if let Some(got) = got {
                    let got = got.map(|()| Some(Bytes::copy_from_slice(&dst)));
                    let what = || format!("op {op}: read_exact_into({})", dst.len());
                    check(owned(&got), want, rest, true, &mut pos, &what);
                }
                decided
            }
            11 => {
                let p = PREFIXES[a % 4];
                let prefix = p.build();
                let (want, decided) = p.oracle(rest);
                if let Some(got) = drive(r.read_frame(&prefix), budget) {
                    let what = || format!("op {op}: read_frame width {}", p.width);
                    check(owned(&got), want, rest, true, &mut pos, &what);
                }
                decided
            }
            12 => {
                let k = a % 20;
                r.consume(k);
                pos += k.min(buffered);
                0
            }
            14 => {
                // Not cancel-safe while discarding (documented): how far it
                // got is read off the reader.
                let delim = DELIMS[a % 3];
                let end = first_end(rest, delim);
                let got = drive(r.skip_until(delim), budget);
                let what = || format!("op {op}: skip_until({delim:?})");
                match &got {
                    Some(Ok(Some(n))) => {
                        assert_eq!(Some(*n as usize), end, "{}", what());
                        pos += *n as usize;
                    }
                    Some(Ok(None)) => assert!(
                        rest.is_empty() && open_run != Some(pos),
                        "{}: clean end",
                        what()
                    ),
                    Some(Err(Error::UnexpectedEof { partial, .. })) => {
                        assert!(
                            end.is_none() && (!rest.is_empty() || open_run == Some(pos)),
                            "{}: ended early",
                            what()
                        );
                        assert!(partial.is_empty(), "{}", what());
                        pos = data.len();
                    }
                    Some(Err(Error::Io(e))) if e.kind() == ERR_KIND => {}
                    Some(Err(e)) => panic!("{}: {e}", what()),
                    None => {}
                }
                let now = data.len() - r.get_ref().remaining() - r.buffer().len();
                assert!(
                    pos == now
                        || (got.is_none() || matches!(got, Some(Err(Error::Io(_)))))
                            && start <= now
                            && now <= start + end.unwrap_or(rest.len()),
                    "{}: skipped {} bytes",
                    what(),
                    now - start
                );
                match got {
                    Some(Ok(_) | Err(Error::UnexpectedEof { .. })) => open_run = None,
                    _ if now > start => open_run = Some(now),
                    _ => {}
                }
                pos = now;
                end.unwrap_or(NEVER)
            }
            _ => {
                // The header is cancel-safe, the payload is not
                // (documented): how far it got is read off the reader.
                let p = PREFIXES[a % 4];
                let prefix = p.build();
                let (want, decided) = p.frame(rest, false);
                let got = drive(r.skip_frame(&prefix), budget);
                let what = || format!("op {op}: skip_frame width {}", p.width);
                match (&got, want) {
                    (Some(Ok(Some(n))), Want::Item { from, to, consumed }) => {
                        assert_eq!(*n as usize, to - from, "{}", what());
                        pos += consumed;
                    }
                    (Some(Ok(None)), Want::Clean) => {}
                    (Some(Err(Error::Io(e))), Want::Invalid)
                        if e.kind() == io::ErrorKind::InvalidData => {}
                    (Some(Err(Error::UnexpectedEof { partial, .. })), Want::Eof) => {
                        // In the header: its bytes; in the payload: nothing.
                        assert!(
                            partial.is_empty() || &partial[..] == rest,
                            "{}: partial {partial:?}",
                            what()
                        );
                        pos = data.len();
                    }
                    (Some(Err(Error::Io(e))), _) if e.kind() == ERR_KIND => {}
                    (None, _) => {}
                    (got, want) => panic!(
                        "{}: got {got:?}, want {want:?}; rest {:?}",
                        what(),
                        Bytes::copy_from_slice(rest)
                    ),
                }
                let now = data.len() - r.get_ref().remaining() - r.buffer().len();
                let most = match want {
                    Want::Item { consumed, .. } => consumed,
                    _ => rest.len(),
                };
                assert!(
                    pos == now
                        || matches!(got, None | Some(Err(Error::Io(_))))
                            && start <= now
                            && now <= start + most,
                    "{}: skipped {} bytes",
                    what(),
                    now - start
                );
                pos = now;
                decided
            }
        };
        if decided <= buffered {
            assert_eq!(
                r.get_ref().polls,
                polls,
                "op {op} (code {code}): polled the inner reader although its answer was buffered"
            );
        }
        let delivered = data.len() - r.get_ref().remaining();
        assert_eq!(
            r.buffer(),
            &data[pos..delivered],
            "op {op} (code {code}): buffer != the bytes between the cursor and the source"
        );
    }
    let (source, rest) = r.into_parts();
    let delivered = data.len() - source.remaining();
    assert_eq!(&rest[..], &data[pos..delivered]);
});
