//! Reads into uninitialized memory: a tokio source (`TokioIo`) reads into
//! the buffer's memory past its initialized watermark, and nothing is ever
//! zeroed for it. Every way
//! the buffer reuses memory is driven here through such a source, checked
//! byte for byte. No runtime is needed (tokio's I/O traits only), so Miri
//! runs this file too (with `--features tokio`), and would see any byte
//! used before a source wrote it.
#![cfg(feature = "tokio")]
mod common;

use common::*;
use intake::{Error, LengthPrefix, StreamReader};

/// Length-prefixed frames of these sizes, back to back.
fn framed(sizes: &[usize]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut wire = Vec::new();
    let mut frames = Vec::new();
    for (i, &n) in sizes.iter().enumerate() {
        let frame = pattern(n, i as u64 + 1);
        wire.extend_from_slice(&(n as u32).to_be_bytes());
        wire.extend_from_slice(&frame);
        frames.push(frame);
    }
    (wire, frames)
}

fn sizes() -> Vec<usize> {
    // Small, larger than the capacity (growth as bytes arrive), a run of
    // large ones (the spare is reused), and small again (back to normal).
    let big = miri_or(300_000, 3_000);
    vec![5, 100, big, 7, big / 2, big, 0, 3, big * 2, 64, 1]
}

#[test]
fn frames_of_every_size_through_reads_into_uninitialized_memory() {
    futures_lite::future::block_on(async {
        let (wire, frames) = framed(&sizes());
        let prefix = LengthPrefix::new(4);
        for (chunk, pending) in [(1usize, true), (7, false), (1500, true), (64 * 1024, false)] {
            if cfg!(miri) && chunk == 1 {
                continue; // about 20,000 one-byte reads: too slow there
            }
            let src = via_tokio(ScriptedReader::chunked(&wire, chunk, pending));
            let mut r = StreamReader::with_capacity(64, src);
            let mut held = Vec::new();
            for (i, frame) in frames.iter().enumerate() {
                let got = r.read_frame(&prefix).await.unwrap().expect("a frame");
                assert!(got == frame[..], "chunk {chunk}: frame {i}");
                // Keep every third frame: held memory must not be reused.
                if i % 3 == 0 {
                    held.push((i, got));
                }
            }
            assert!(r.read_frame(&prefix).await.unwrap().is_none());
            for (i, got) in held {
                assert!(got == frames[i][..], "held frame {i} intact");
            }
        }
    });
}

#[test]
fn lines_longer_than_the_capacity_and_peeks() {
    futures_lite::future::block_on(async {
        let long = miri_or(100_000, 2_000);
        let mut wire = Vec::new();
        for n in [3usize, long, 10, long / 3] {
            wire.extend(std::iter::repeat(b'a').take(n));
            wire.push(b'\n');
        }
        let src = via_tokio(ScriptedReader::chunked(&wire, 333, true));
        let mut r = StreamReader::with_capacity(16, src).with_limit(long + 1);
        let mut seen = Vec::new();
        while let Some(line) = r.read_until(b"\n").await.unwrap() {
            assert!(r.peek(0).await.is_ok());
            seen.extend_from_slice(&line);
        }
        assert!(seen == wire);
    });
}

#[test]
fn cancelled_reads_put_back_into_uninitialized_memory() {
    futures_lite::future::block_on(async {
        // read_exact_into dropped after a few polls puts its bytes back into
        // the reader (reusing or growing its memory); the next read of any
        // kind gets every byte.
        let (wire, frames) = framed(&sizes());
        for polls in [1usize, 2, 5] {
            let src = via_tokio(ScriptedReader::chunked(&wire, 100, true));
            let mut r = StreamReader::with_capacity(32, src);
            for (i, frame) in frames.iter().enumerate() {
                let mut header = [0u8; 4];
                let mut body = vec![0u8; frame.len()];
                // A cancelled attempt at the whole frame first.
                let mut both = vec![0u8; 4 + frame.len()];
                if poll_at_most(r.read_exact_into(&mut both), polls).is_some() {
                    assert!(both[4..] == frame[..], "polls {polls} frame {i}");
                    continue;
                }
                r.read_exact_into(&mut header).await.unwrap();
                assert_eq!(u32::from_be_bytes(header) as usize, frame.len());
                r.read_exact_into(&mut body).await.unwrap();
                assert!(body == *frame, "polls {polls} frame {i}");
            }
            assert!(matches!(
                r.read_exactly(1).await,
                Err(Error::UnexpectedEof { .. })
            ));
        }
    });
}
