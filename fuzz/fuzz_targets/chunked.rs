//! A chunked body read through the `chunked` view over scripted I/O. The
//! body is built from the input (its data, chunk sizes, extensions, a
//! trailer), then left whole, cut at a chosen offset, or given a bad size
//! line; it is read with a random mix of read_exactly (cancelled after a
//! few polls, then called again), read_until, read_into and peek, checked
//! against the data as the oracle: every data byte before the damage comes
//! out in order, the damage is the documented error (`UnexpectedEof` or
//! `InvalidData`, as `Error::Io`), and after a whole body the reader goes
//! on with the bytes after it. Half the inputs read through `CompioIo`.
#![no_main]

use futures_lite::future::block_on;
use intake::io::Source;
use intake::{CompioIo, Error, StreamReader};
use intake_fuzz::{drive, retry, split, Control, OwnedScriptedReader, ScriptedReader};
use libfuzzer_sys::fuzz_target;
use std::io::ErrorKind;

const TAIL: &[u8] = b"NEXT";

/// The wire, how many data bytes come out before any damage, and how the
/// body ends: `None` whole, or the error its reads end with.
fn build(data: &[u8], ops: &mut Control<'_>) -> (Vec<u8>, usize, Option<ErrorKind>) {
    let mut wire = Vec::new();
    // Where each size line starts in the wire, with the data index after
    // it; and where each data byte lies in the wire.
    let mut heads = Vec::new();
    let mut data_at = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let n = (usize::from(ops.next()) % 40 + 1).min(data.len() - at);
        heads.push((wire.len(), at));
        match ops.next() % 3 {
            0 => wire.extend_from_slice(format!("{n:x}\r\n").as_bytes()),
            1 => wire.extend_from_slice(format!("{n:X};ext=\"a b\"\r\n").as_bytes()),
            _ => wire.extend_from_slice(format!("{n:04x} ;x\r\n").as_bytes()),
        }
        data_at.extend(wire.len()..wire.len() + n);
        wire.extend_from_slice(&data[at..at + n]);
        wire.extend_from_slice(b"\r\n");
        at += n;
    }
    heads.push((wire.len(), data.len()));
    wire.extend_from_slice(b"0\r\n");
    if ops.next() % 2 == 0 {
        wire.extend_from_slice(b"Trailer: yes\r\n");
    }
    wire.extend_from_slice(b"\r\n");
    let body_end = wire.len();
    wire.extend_from_slice(TAIL);
    match ops.next() % 4 {
        // Cut short: the data wholly before the cut comes out (a chunk's
        // data is handed out as it arrives), then `UnexpectedEof`.
        0 => {
            let cut = usize::from(ops.next()) * 7 % (body_end + 1);
            if cut >= body_end {
                return (wire, data.len(), None);
            }
            wire.truncate(cut);
            let avail = data_at.iter().take_while(|&&w| w < cut).count();
            (wire, avail, Some(ErrorKind::UnexpectedEof))
        }
        // A bad size line: everything before it, then `InvalidData`.
        1 => {
            let (w, d) = heads[usize::from(ops.next()) % heads.len()];
            wire[w] = b'g';
            (wire, d, Some(ErrorKind::InvalidData))
        }
        _ => (wire, data.len(), None),
    }
}

fuzz_target!(|input: &[u8]| {
    let (control, data) = split(input);
    let (io, ops) = control.split_at(control.len() / 2);
    let mut ops = Control::new(ops);
    let (wire, avail, damage) = build(data, &mut ops);
    let capacity = [1, 7, 64, 8192][ops.next() as usize % 4];
    if io.len() % 2 == 0 {
        let r = StreamReader::with_capacity(capacity, ScriptedReader::new(&wire, io));
        block_on(run(r, data, avail, damage, &mut ops));
    } else {
        let src = CompioIo::new(OwnedScriptedReader::new(&wire, io));
        let r = StreamReader::with_capacity(capacity, src);
        block_on(run(r, data, avail, damage, &mut ops));
    }
});

/// Checks an error that ends the body's reads: the damage expected, after
/// every byte before it.
fn ends_with(e: Error, pos: usize, avail: usize, damage: Option<ErrorKind>) {
    match (e, damage) {
        (Error::Io(e), Some(kind)) => {
            assert_eq!(e.kind(), kind, "{e}");
            assert!(pos <= avail);
        }
        (e, damage) => panic!("{e:?} at {pos} of {avail}, damage {damage:?}"),
    }
}

async fn run<R: Source + Unpin>(
    mut r: StreamReader<R>,
    data: &[u8],
    avail: usize,
    damage: Option<ErrorKind>,
    ops: &mut Control<'_>,
) {
    let mut pos = 0;
    let mut body = r.chunked();
    for _ in 0..48 {
        let rest = &data[pos..avail];
        let arg = usize::from(ops.next());
        match ops.next() % 4 {
            0 => {
                let n = arg % 50;
                let budget = u32::from(ops.next() % 4 + 1);
                // Cancelled after `budget` polls, then called again.
                let out = loop {
                    if let Some(out) = drive(body.read_exactly(n), Some(budget)) {
                        match out {
                            Err(Error::Io(e)) if e.kind() == intake_fuzz::ERR_KIND => {}
                            out => break out,
                        }
                    }
                };
                match out {
                    Ok(b) => {
                        assert!(n <= rest.len());
                        assert_eq!(&b[..], &rest[..n]);
                        pos += n;
                    }
                    Err(Error::UnexpectedEof { partial, .. }) => {
                        // The body's clean end cut the count.
                        assert_eq!(damage, None);
                        assert_eq!(&partial[..], rest);
                        pos = avail;
                        break;
                    }
                    Err(e) => return ends_with(e, pos, avail, damage),
                }
            }
            1 => {
                let delim = [data.get(pos + arg % 9).copied().unwrap_or(b'\n')];
                match retry!(body.read_until(&delim).await) {
                    Ok(Some(line)) => {
                        let end = rest.iter().position(|&b| b == delim[0]).unwrap() + 1;
                        assert_eq!(&line[..], &rest[..end]);
                        pos += end;
                    }
                    Ok(None) => {
                        assert!(rest.is_empty() && damage.is_none());
                        break;
                    }
                    Err(Error::UnexpectedEof { partial, .. }) => {
                        assert_eq!(damage, None);
                        assert_eq!(&partial[..], rest);
                        pos = avail;
                        break;
                    }
                    Err(Error::LimitExceeded { .. }) => {}
                    Err(e) => return ends_with(e, pos, avail, damage),
                }
            }
            2 => {
                let mut dst = vec![0; arg % 30 + 1];
                match retry!(body.read_into(&mut dst).await) {
                    Ok(0) => {
                        assert!(rest.is_empty() && damage.is_none());
                        break;
                    }
                    Ok(n) => {
                        assert_eq!(&dst[..n], &rest[..n]);
                        pos += n;
                    }
                    Err(e) => return ends_with(e, pos, avail, damage),
                }
            }
            _ => match retry!(body.peek(arg % 40).await.map(|b| b.to_vec())) {
                Ok(seen) => assert_eq!(&seen[..], &rest[..seen.len()]),
                Err(Error::LimitExceeded { .. }) => {}
                Err(e) => return ends_with(e, pos, avail, damage),
            },
        }
    }
    match retry!(body.skip_rest().await) {
        Ok(()) => assert_eq!(damage, None),
        Err(e) => return ends_with(e, pos, avail, damage),
    }
    assert!(body.at_eof());
    drop(body);
    // After a whole body, the reader goes on with what follows it.
    assert_eq!(&retry!(r.read_exactly(TAIL.len()).await).unwrap()[..], TAIL);
}
