//! Cancellation: for every read operation and every k, polling k times,
//! dropping the future and calling again returns exactly the input.
mod common;

use common::*;
use futures_lite::AsyncBufReadExt;
use intake::{Error, StreamReader};

const MAX_K: usize = 24;

fn reader(data: &[u8]) -> StreamReader<ScriptedReader> {
    // One byte per read with `Pending` between: every poll is a chance to cancel.
    StreamReader::with_capacity(8, ScriptedReader::chunked(data, 1, true))
}

#[test]
fn cancel_read_exactly_at_every_poll() {
    on_both_runtimes(|| async {
        let data = pattern(60, 20);
        for k in 0..MAX_K {
            let mut r = reader(&data);
            let mut out = Vec::new();
            for n in [5usize, 20, 35] {
                let frame = match poll_at_most(r.read_exactly(n), k) {
                    Some(f) => f.unwrap(),
                    None => r.read_exactly(n).await.unwrap(),
                };
                out.extend_from_slice(&frame);
            }
            assert_eq!(out, data, "k = {k}");
        }
    });
}

#[test]
fn cancel_read_until_at_every_poll() {
    on_both_runtimes(|| async {
        let data = b"alpha\r\nbe\r\ngamma-delta\r\n".to_vec();
        for k in 0..MAX_K {
            let mut r = reader(&data);
            let mut out = Vec::new();
            for _ in 0..3 {
                let line = match poll_at_most(r.read_until(b"\r\n"), k) {
                    Some(l) => l.unwrap().unwrap(),
                    None => r.read_until(b"\r\n").await.unwrap().unwrap(),
                };
                assert!(line.ends_with(b"\r\n"));
                out.extend_from_slice(&line);
            }
            assert_eq!(out, data, "k = {k}");
        }
    });
}

#[test]
fn cancel_peek_until_at_every_poll() {
    on_both_runtimes(|| async {
        let data = b"alpha\r\nbe\r\ngamma-delta\r\n".to_vec();
        for k in 0..MAX_K {
            let mut r = reader(&data);
            let mut out = Vec::new();
            for _ in 0..3 {
                // A dropped peek leaves the line (and the scan position) in
                // the reader; the repeated call sees the same line.
                let _ = poll_at_most(r.peek_until(b"\r\n"), k).map(|l| l.unwrap().unwrap().len());
                let line = r.peek_until(b"\r\n").await.unwrap().unwrap();
                assert!(line.ends_with(b"\r\n"));
                out.extend_from_slice(line);
                let used = line.len();
                r.consume(used);
            }
            assert_eq!(out, data, "k = {k}");
        }
    });
}

#[test]
fn cancel_peek_at_every_poll() {
    on_both_runtimes(|| async {
        let data = pattern(30, 21);
        for k in 0..MAX_K {
            let mut r = reader(&data);
            let _ = poll_at_most(r.peek(12), k).map(|p| p.unwrap().len());
            let seen = r.peek(12).await.unwrap().to_vec();
            assert_eq!(&seen[..12], &data[..12], "k = {k}");
            assert_eq!(&r.read_exactly(30).await.unwrap()[..], &data[..]);
        }
    });
}

#[test]
fn cancel_read_into_at_every_poll() {
    on_both_runtimes(|| async {
        let data = pattern(40, 22);
        for k in 0..4 {
            let mut r = reader(&data);
            let mut out = Vec::new();
            let mut dst = [0u8; 6];
            loop {
                let n = match poll_at_most(r.read_into(&mut dst), k) {
                    Some(n) => n.unwrap(),
                    None => r.read_into(&mut dst).await.unwrap(),
                };
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&dst[..n]);
            }
            assert_eq!(out, data, "k = {k}");
        }
    });
}

#[test]
fn cancel_read_exact_into_at_every_poll_puts_bytes_back() {
    on_both_runtimes(|| async {
        let data = pattern(48, 23);
        for k in 0..MAX_K * 2 {
            // Capacity 4: a 16-byte destination is read straight from the
            // inner reader, so cancellation must put those bytes back.
            let mut r = StreamReader::with_capacity(4, ScriptedReader::chunked(&data, 3, true));
            let mut out = Vec::new();
            for _ in 0..3 {
                let mut dst = [0u8; 16];
                if poll_at_most(r.read_exact_into(&mut dst), k).is_none() {
                    dst = [0u8; 16];
                    r.read_exact_into(&mut dst).await.unwrap();
                }
                out.extend_from_slice(&dst);
            }
            assert_eq!(out, data, "k = {k}");
        }
    });
}

#[test]
fn cancel_fill_buf_at_every_poll() {
    on_both_runtimes(|| async {
        let data = pattern(20, 24);
        for k in 0..4 {
            let mut r = reader(&data);
            let mut out = Vec::new();
            loop {
                let _ = poll_at_most(r.fill_buf(), k).map(|b| b.unwrap().len());
                let chunk = r.fill_buf().await.unwrap().to_vec();
                if chunk.is_empty() {
                    break;
                }
                out.extend_from_slice(&chunk);
                r.consume(chunk.len());
            }
            assert_eq!(out, data, "k = {k}");
        }
    });
}

#[test]
fn cancel_copy_exact_loses_and_duplicates_nothing() {
    on_both_runtimes(|| async {
        // copy_exact is not cancel-safe in the sense of restartable (its
        // progress is in the written bytes), but no byte is lost or doubled:
        // each is either in the writer or still in the reader.
        let data = pattern(50, 25);
        for k in 0..MAX_K {
            let mut r = reader(&data);
            let mut w = SlowWriter::new(3, true);
            let _ = poll_at_most(r.copy_exact(40, &mut w), k);
            let written = w.data.len();
            let rest = match r.read_exactly(50 - written).await {
                Ok(b) => b,
                Err(Error::UnexpectedEof { partial, .. }) => partial,
                Err(e) => panic!("{e}"),
            };
            assert_eq!([&w.data[..], &rest[..]].concat(), data, "k = {k}");
        }
    });
}
