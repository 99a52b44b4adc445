//! The kit's reader checks, run through a wrapper around the scripted
//! source (`TokioIo`, `CompioIo`): each I/O family's test file calls these
//! with its wrapper, so every family meets the same deliveries, ends,
//! errors and cancellations.

use std::io;

use intake::io::Source;
use intake::{Error, LengthPrefix, StreamReader};

use super::{cuts, deliveries, pattern, poll_at_most, ScriptedReader, Step};

/// `n` frames of varied lengths behind a 2-byte length: the wire and the
/// payloads.
pub fn framed_input(n: usize) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut wire = Vec::new();
    let mut frames = Vec::new();
    for i in 0..n {
        let f = pattern(i * 37 % 300, i as u64);
        wire.extend_from_slice(&(f.len() as u16).to_be_bytes());
        wire.extend_from_slice(&f);
        frames.push(f);
    }
    (wire, frames)
}

/// Every kind of read (exact, peek, line, frame, into caller memory,
/// resumable, end of stream) under every delivery.
pub async fn every_read_under_every_delivery<W: Source + Unpin>(
    wrap: impl Fn(ScriptedReader) -> W,
) {
    let mut data = b"HELO there\r\n".to_vec();
    let body = pattern(2000, 1);
    data.extend_from_slice(&(body.len() as u32).to_be_bytes());
    data.extend_from_slice(&body);
    data.extend_from_slice(b"tail-bytes");
    for (how, src) in deliveries(&data) {
        let mut r = StreamReader::with_capacity(64, wrap(src));
        assert_eq!(&r.read_exactly(4).await.unwrap()[..], b"HELO", "{how}");
        assert_eq!(r.peek(3).await.unwrap()[..3], b" th"[..], "{how}");
        let line = r.peek_until(b"\r\n").await.unwrap().unwrap().len();
        r.consume(line);
        let frame = r.read_frame(&LengthPrefix::new(4)).await.unwrap();
        assert_eq!(frame.as_deref(), Some(&body[..]), "{how}");
        let mut tail = [0u8; 4];
        r.read_exact_into(&mut tail).await.unwrap();
        let mut rest = vec![0u8; 6];
        let mut filled = 0;
        r.read_exact_into_resumable(&mut rest, &mut filled)
            .await
            .unwrap();
        assert_eq!([&tail[..], &rest[..]].concat(), b"tail-bytes", "{how}");
        assert!(r.read_until(b"\n").await.unwrap().is_none(), "{how}");
        assert!(r.at_eof(), "{how}");
    }
}

/// Frames cut at every offset: whole frames, then `Ok(None)` at a frame
/// boundary or `UnexpectedEof` inside one.
pub async fn eof_at_every_offset<W: Source + Unpin>(wrap: impl Fn(ScriptedReader) -> W) {
    let (wire, frames) = framed_input(4);
    for cut in cuts(wire.len() + 1) {
        let src = ScriptedReader::chunked(&wire[..cut], 3, true);
        let mut r = StreamReader::with_capacity(16, wrap(src));
        let mut got = Vec::new();
        let end = loop {
            match r.read_frame(&LengthPrefix::new(2)).await {
                Ok(Some(f)) => got.push(f.to_vec()),
                other => break other,
            }
        };
        assert_eq!(got[..], frames[..got.len()], "cut {cut}");
        let at_boundary = (0..=frames.len())
            .map(|k| frames[..k].iter().map(|f| f.len() + 2).sum::<usize>())
            .any(|b| b == cut);
        match end {
            Ok(None) => assert!(at_boundary, "cut {cut}"),
            Err(Error::UnexpectedEof { .. }) => assert!(!at_boundary, "cut {cut}"),
            other => panic!("cut {cut}: {other:?}"),
        }
    }
}

/// An error in the middle of a frame keeps the bytes read before it, and a
/// retry completes the frame.
pub async fn error_mid_frame_keeps_bytes<W: Source + Unpin>(wrap: impl Fn(ScriptedReader) -> W) {
    let data = pattern(500, 2);
    let src = ScriptedReader::new([
        Step::Data(data[..123].to_vec()),
        Step::Err(io::ErrorKind::ConnectionReset),
        Step::Pending,
        Step::Data(data[123..].to_vec()),
        Step::Eof,
    ]);
    let mut r = StreamReader::with_capacity(32, wrap(src));
    assert!(matches!(r.read_exactly(500).await, Err(Error::Io(_))));
    assert_eq!(r.buffer(), &data[..123], "nothing lost");
    assert_eq!(&r.read_exactly(500).await.unwrap()[..], &data[..]);
}

/// Each frame's read dropped after `k` polls, for every `k`, then read
/// again: every frame comes out whole and in order.
pub async fn cancellation_at_every_poll<W: Source + Unpin>(wrap: impl Fn(ScriptedReader) -> W) {
    let (wire, frames) = framed_input(5);
    for k in 0..24 {
        let src = ScriptedReader::chunked(&wire, 1, true);
        let mut r = StreamReader::with_capacity(8, wrap(src));
        let prefix = LengthPrefix::new(2);
        for f in &frames {
            let got = match poll_at_most(r.read_frame(&prefix), k) {
                Some(got) => got.unwrap().unwrap(),
                None => r.read_frame(&prefix).await.unwrap().unwrap(),
            };
            assert_eq!(&got[..], &f[..], "k = {k}");
        }
    }
}
