//! Inner readers that lie, fail or stall.
mod common;

use common::*;
use intake::{Error, StreamReader};

#[test]
fn reader_claiming_more_than_its_slice_is_invalid_data() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(LyingReader);
        match r.read_exactly(10).await {
            Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::InvalidData),
            other => panic!("{other:?}"),
        }
        let mut r = StreamReader::with_capacity(4, LyingReader);
        let mut dst = [0u8; 64];
        match r.read_into(&mut dst).await {
            Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::InvalidData),
            other => panic!("{other:?}"),
        }
        assert!(matches!(r.read_until(b"\n").await, Err(Error::Io(_))));
        assert!(matches!(r.peek(2).await, Err(Error::Io(_))));
    });
}

#[test]
fn every_operation_survives_errors_between_every_byte() {
    on_both_runtimes(|| async {
        let data = b"0123456789\nabcdefghij\n".to_vec();
        let mut steps = Vec::new();
        for &b in &data {
            steps.push(Step::Err(std::io::ErrorKind::ConnectionReset));
            steps.push(Step::Err(std::io::ErrorKind::Interrupted));
            steps.push(Step::Data(vec![b]));
        }
        steps.push(Step::Eof);
        let mut r = StreamReader::with_capacity(4, ScriptedReader::new(steps));
        let mut out = Vec::new();
        // Retry each operation until it succeeds: errors must never lose bytes.
        let frame = loop {
            match r.read_exactly(5).await {
                Ok(f) => break f,
                Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
                Err(e) => panic!("{e}"),
            }
        };
        out.extend_from_slice(&frame);
        let line = loop {
            if let Ok(l) = r.read_until(b"\n").await {
                break l.expect("a line, not the end");
            }
        };
        out.extend_from_slice(&line);
        let mut dst = [0u8; 11];
        while r.read_exact_into(&mut dst).await.is_err() {}
        out.extend_from_slice(&dst);
        assert_eq!(out, data);
    });
}

#[test]
fn idle_reader_waits_without_buffering() {
    let mut r = StreamReader::new(NeverReady::default());
    assert!(poll_at_most(r.read_exactly(4), 3).is_none());
    assert_eq!(r.get_ref().polls, 3);
    assert!(r.buffer().is_empty());
}
