//! `Error::UnexpectedEof` means the same on every operation: `partial` is
//! what arrived and is handed over, `expected` is how many bytes were still
//! missing when the stream ended (`None` when that is not known).
mod common;

use common::*;
use intake::frame::Delimited;
use intake::{Error, LengthPrefix, StreamReader};

/// `(partial, expected)` of an `UnexpectedEof`, or a panic.
fn eof<T: std::fmt::Debug>(r: Result<T, Error>) -> (Vec<u8>, Option<usize>) {
    match r {
        Err(Error::UnexpectedEof { partial, expected }) => (partial.to_vec(), expected),
        other => panic!("{other:?}"),
    }
}

/// A source of `sent` bytes of a 10-byte pattern, under every delivery.
fn cut(sent: usize) -> Vec<(String, ScriptedReader)> {
    deliveries(&pattern(10, 7)[..sent])
}

#[test]
fn expected_counts_the_missing_bytes_on_every_operation() {
    on_both_runtimes(|| async {
        for sent in 0..10 {
            let data = pattern(10, 7)[..sent].to_vec();
            for (how, src) in cut(sent) {
                let mut r = StreamReader::with_capacity(4, src);
                let got = eof(r.read_exactly(10).await);
                assert_eq!(got, (data.clone(), Some(10 - sent)), "read_exactly, {how}");
            }
            for (how, src) in cut(sent) {
                let mut r = StreamReader::with_capacity(4, src);
                let mut dst = [0u8; 10];
                let got = eof(r.read_exact_into(&mut dst).await);
                assert_eq!(
                    got,
                    (data.clone(), Some(10 - sent)),
                    "read_exact_into, {how}"
                );
            }
            for (how, src) in cut(sent) {
                let mut r = StreamReader::with_capacity(4, src);
                let got = eof(r.skip(10).await);
                assert_eq!(got, (vec![], Some(10 - sent)), "skip, {how}");
            }
            for (how, src) in cut(sent) {
                let mut r = StreamReader::with_capacity(4, src);
                let mut file = futures_lite::io::Cursor::new(Vec::new());
                let got = eof(r.copy_exact(10, &mut file).await);
                assert_eq!(got, (vec![], Some(10 - sent)), "copy_exact, {how}");
                assert_eq!(
                    file.into_inner(),
                    data,
                    "copy_exact wrote what arrived, {how}"
                );
            }
        }
    });
}

#[test]
fn expected_counts_the_missing_payload_of_a_frame() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(2);
        let wire = b"\x00\x08abcdefgh";
        for sent in 1..wire.len() {
            // Inside the header the frame's size is unknown.
            let want = if sent < 2 {
                None
            } else {
                Some(wire.len() - sent)
            };
            for (how, src) in deliveries(&wire[..sent]) {
                let mut r = StreamReader::with_capacity(4, src);
                let got = eof(r.read_frame(&prefix).await);
                assert_eq!(got, (wire[..sent].to_vec(), want), "read_frame, {how}");
            }
            for (how, src) in deliveries(&wire[..sent]) {
                let mut r = StreamReader::with_capacity(4, src);
                let mut decoder = prefix;
                let got = eof(r.decode(&mut decoder).await);
                assert_eq!(got, (wire[..sent].to_vec(), want), "decode, {how}");
            }
        }
    });
}

#[test]
fn expected_is_none_where_the_end_is_not_known() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(&b"no newline"[..]);
        assert_eq!(
            eof(r.read_until(b"\n").await),
            (b"no newline".to_vec(), None)
        );
        let mut r = StreamReader::new(&b"no newline"[..]);
        assert_eq!(
            eof(r.peek_until(b"\n").await),
            (b"no newline".to_vec(), None)
        );
        let mut r = StreamReader::new(&b"no newline"[..]);
        let mut lines = Delimited::lines();
        assert_eq!(
            eof(r.decode(&mut lines).await),
            (b"no newline".to_vec(), None)
        );
    });
}

#[test]
fn the_message_says_what_arrived_and_what_was_missing() {
    let e = Error::UnexpectedEof {
        partial: bytes::Bytes::new(),
        expected: Some(5_000_000),
    };
    assert_eq!(
        e.to_string(),
        "stream ended with 5000000 bytes still expected (0 bytes that arrived are in `partial`)"
    );
    let e = Error::UnexpectedEof {
        partial: bytes::Bytes::from_static(b"abc"),
        expected: None,
    };
    assert_eq!(
        e.to_string(),
        "stream ended inside an item (3 bytes that arrived are in `partial`)"
    );
}
