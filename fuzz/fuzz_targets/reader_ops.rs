//! A random mix of read_exactly / read_until / read_until_any / peek_until
//! (with a partial consume) / peek / skip / read_into / read_exact_into /
//! copy_until (into a scripted writer) / read_exact_into_resumable
//! (cancelled after a few polls, then resumed) / a line read inside a
//! bounded view (`limited`, then `skip_rest`) over scripted I/O, checked
//! against a cursor over the input (the oracle). Half the inputs read
//! through `CompioIo` (completion I/O: lent memory, reads in flight).
#![no_main]

use futures_lite::future::block_on;
use intake::io::Source;
use intake::{CompioIo, Error, StreamReader};
use intake_fuzz::{
    drive, retry, split, Control, OwnedScriptedReader, ScriptedReader, ScriptedWriter,
};
use libfuzzer_sys::fuzz_target;

/// The oracle for delimiter searches: where the first line of `rest` ends
/// (delimiter included), if it ends within `limit`.
fn line_end(rest: &[u8], delim: &[u8], limit: usize) -> Option<usize> {
    (0..rest.len().saturating_sub(delim.len() - 1))
        .find(|&i| &rest[i..i + delim.len()] == delim)
        .map(|i| i + delim.len())
        .filter(|&end| end <= limit)
}

/// The oracle for several delimiters: where the first delimiter to *end*
/// in `rest` ends, if within `limit`.
fn any_end(rest: &[u8], delims: &[&[u8]], limit: usize) -> Option<usize> {
    (1..=rest.len().min(limit)).find(|&end| delims.iter().any(|d| rest[..end].ends_with(d)))
}

fuzz_target!(|input: &[u8]| {
    let (control, data) = split(input);
    let (io, ops) = control.split_at(control.len() / 2);
    let mut ops = Control::new(ops);
    let limit = 40;
    let capacity = [0, 1, 7, 64, 8192][ops.next() as usize % 5];
    if io.len() % 2 == 0 {
        let src = ScriptedReader::new(data, io);
        let r = StreamReader::with_capacity(capacity, src).with_limit(limit);
        block_on(run(r, data, io, &mut ops, limit));
    } else {
        // The same script through the completion path: compio's owned
        // buffers, the reader lending its free tail to each read, reads in
        // flight across cancelled futures.
        let src = CompioIo::new(OwnedScriptedReader::new(data, io));
        let r = StreamReader::with_capacity(capacity, src).with_limit(limit);
        block_on(run(r, data, io, &mut ops, limit));
    }
});

/// Up to 64 random operations on `r`, checked against the oracle.
async fn run<R: Source + Unpin>(
    mut r: StreamReader<R>,
    data: &[u8],
    io: &[u8],
    ops: &mut Control<'_>,
    limit: usize,
) {
    let mut pos = 0usize;
    {
        for _ in 0..64 {
            let rest = &data[pos..];
            let arg = ops.next() as usize;
            match ops.next() % 11 {
                0 => match retry!(r.read_exactly(arg % 50).await) {
                    Ok(b) => {
                        assert_eq!(&b[..], &rest[..arg % 50]);
                        pos += b.len();
                    }
                    Err(Error::UnexpectedEof { partial, .. }) => {
                        assert_eq!(&partial[..], rest);
                        return;
                    }
                    Err(e) => panic!("{e}"),
                },
                1 => {
                    let delim: &[u8] = [&b"\n"[..], b"\r\n", b"aab"][arg % 3];
                    let found = line_end(rest, delim, limit);
                    match retry!(r.read_until(delim).await) {
                        Ok(None) => {
                            assert!(rest.is_empty());
                            return;
                        }
                        Ok(Some(b)) => {
                            assert_eq!(Some(b.len()), found);
                            assert_eq!(&b[..], &rest[..b.len()]);
                            pos += b.len();
                        }
                        Err(Error::LimitExceeded { .. }) => {
                            assert_eq!(found, None);
                            assert_eq!(r.buffer(), &rest[..r.buffer().len()]);
                        }
                        Err(Error::UnexpectedEof { partial, .. }) => {
                            assert_eq!(found, None);
                            assert_eq!(&partial[..], rest);
                            return;
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
                6 => {
                    let delim: &[u8] = [&b"\n"[..], b"\r\n", b"aab"][arg % 3];
                    let found = line_end(rest, delim, limit);
                    match retry!(r.peek_until(delim).await.map(|l| l.map(<[u8]>::to_vec))) {
                        Ok(None) => {
                            assert!(rest.is_empty());
                            return;
                        }
                        Ok(Some(line)) => {
                            assert_eq!(Some(line.len()), found);
                            assert_eq!(&line[..], &rest[..line.len()]);
                            let k = (arg / 3) % (line.len() + 1);
                            r.consume(k);
                            pos += k;
                        }
                        Err(Error::LimitExceeded { .. }) => {
                            assert_eq!(found, None);
                            assert_eq!(r.buffer(), &rest[..r.buffer().len()]);
                        }
                        Err(Error::UnexpectedEof { partial, .. }) => {
                            assert_eq!(found, None);
                            assert_eq!(&partial[..], rest);
                            assert_eq!(r.buffer(), rest);
                            return;
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
                2 => {
                    let n = arg % 45;
                    match retry!(r.peek(n).await.map(|b| b.to_vec())) {
                        Ok(seen) => {
                            assert!(seen.len() >= n.min(rest.len()));
                            assert_eq!(&seen[..], &rest[..seen.len()]);
                        }
                        Err(Error::LimitExceeded { .. }) => assert!(n > limit),
                        Err(e) => panic!("{e}"),
                    }
                }
                3 => {
                    let n = arg % 30;
                    // `skip` is documented as not restartable: after an I/O
                    // error the bytes it discarded stay discarded, so the
                    // oracle cannot follow; stop there.
                    match r.skip(n as u64).await {
                        Ok(()) => pos += n,
                        Err(Error::Io(e)) if e.kind() == intake_fuzz::ERR_KIND => return,
                        Err(Error::UnexpectedEof { .. }) => {
                            assert!(rest.len() < n);
                            return;
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
                4 => {
                    let mut dst = vec![0u8; arg % 20 + 1];
                    let n = retry!(r.read_into(&mut dst).await).unwrap();
                    assert_eq!(&dst[..n], &rest[..n]);
                    assert!(n > 0 || rest.is_empty());
                    if n == 0 {
                        return;
                    }
                    pos += n;
                }
                7 => {
                    let delim: &[u8] = [&b"\n"[..], b"\r\n", b"aab"][arg % 3];
                    let found = line_end(rest, delim, usize::MAX);
                    // Errors from the writer or the reader: calling again
                    // goes on (the count restarts, the bytes do not).
                    let mut w = ScriptedWriter::new(io);
                    match retry!(r.copy_until(delim, &mut w).await) {
                        Ok(None) => {
                            assert!(rest.is_empty() && w.out.is_empty());
                            return;
                        }
                        Ok(Some(n)) => {
                            let end = found.expect("a delimiter was there");
                            assert_eq!(&w.out[..], &rest[..end - delim.len()]);
                            assert!(n as usize <= w.out.len());
                            pos += end;
                        }
                        Err(Error::UnexpectedEof { partial, .. }) => {
                            assert_eq!(found, None);
                            assert!(partial.len() < delim.len());
                            assert_eq!([&w.out[..], &partial[..]].concat(), rest);
                            return;
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
                9 => {
                    let sets: [&[&[u8]]; 3] = [&[b"\n", b"\r\n"], &[b"a", b"b"], &[b"aab", b";"]];
                    let delims = sets[arg % 3];
                    let found = any_end(rest, delims, limit);
                    match retry!(r.read_until_any(delims).await) {
                        Ok(None) => {
                            assert!(rest.is_empty());
                            return;
                        }
                        Ok(Some(b)) => {
                            assert_eq!(Some(b.len()), found);
                            assert_eq!(&b[..], &rest[..b.len()]);
                            pos += b.len();
                        }
                        Err(Error::LimitExceeded { .. }) => {
                            assert_eq!(found, None);
                            assert_eq!(r.buffer(), &rest[..r.buffer().len()]);
                        }
                        Err(Error::UnexpectedEof { partial, .. }) => {
                            assert_eq!(found, None);
                            assert_eq!(&partial[..], rest);
                            return;
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
                10 => {
                    // A line inside a view of the next `m` bytes, then the
                    // rest of the view skipped: nothing past it is touched.
                    let m = arg % 41;
                    let in_view = &rest[..m.min(rest.len())];
                    let delim: &[u8] = [&b"\n"[..], b"\r\n", b"aab"][(arg / 41) % 3];
                    let found = line_end(in_view, delim, limit);
                    let mut view = r.limited(m as u64);
                    match retry!(view.read_until(delim).await) {
                        Ok(None) => assert!(in_view.is_empty()),
                        Ok(Some(b)) => {
                            assert_eq!(Some(b.len()), found);
                            assert_eq!(&b[..], &in_view[..b.len()]);
                            pos += b.len();
                        }
                        Err(Error::LimitExceeded { .. }) => assert_eq!(found, None),
                        Err(Error::UnexpectedEof { partial, .. }) => {
                            assert_eq!(found, None);
                            assert_eq!(&partial[..], in_view);
                            pos += partial.len();
                        }
                        Err(e) => panic!("{e}"),
                    }
                    assert!(view.buffer().len() <= m);
                    let left = view.remaining() as usize;
                    // `skip` keeps what it discarded discarded after an I/O
                    // error, so the oracle stops there (as for op 3).
                    match view.skip_rest().await {
                        Ok(()) => pos += left,
                        Err(Error::Io(e)) if e.kind() == intake_fuzz::ERR_KIND => return,
                        Err(Error::UnexpectedEof { .. }) => {
                            assert!(rest.len() < m);
                            return;
                        }
                        Err(e) => panic!("{e}"),
                    }
                    if rest.len() < m {
                        return;
                    }
                }
                8 => {
                    let mut dst = vec![0u8; arg % 90];
                    let mut filled = 0;
                    let budget = u32::from(ops.next() % 4 + 1);
                    let out = loop {
                        let attempt = r.read_exact_into_resumable(&mut dst, &mut filled);
                        match drive(attempt, Some(budget)) {
                            // Cancelled after `budget` polls, or a scripted
                            // error: resume with the progress in `filled`.
                            None => {}
                            Some(Err(Error::Io(e))) if e.kind() == intake_fuzz::ERR_KIND => {}
                            Some(out) => break out,
                        }
                        assert_eq!(&dst[..filled], &rest[..filled]);
                    };
                    match out {
                        Ok(()) => {
                            assert_eq!(&dst[..], &rest[..dst.len()]);
                            pos += dst.len();
                        }
                        Err(Error::UnexpectedEof { .. }) => {
                            assert!(rest.len() < dst.len());
                            assert_eq!(&dst[..filled], rest);
                            return;
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
                _ => {
                    let mut dst = vec![0u8; arg % 90];
                    match retry!(r.read_exact_into(&mut dst).await) {
                        Ok(()) => {
                            assert_eq!(&dst[..], &rest[..dst.len()]);
                            pos += dst.len();
                        }
                        Err(Error::UnexpectedEof { partial, .. }) => {
                            assert_eq!(&partial[..], rest);
                            return;
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            }
        }
        let (_, buffered) = r.into_parts();
        assert_eq!(&buffered[..], &data[pos..pos + buffered.len()]);
    }
}
