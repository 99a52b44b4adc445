//! One `LengthPrefix` value writes what it reads: prefixes with a length
//! field offset (PostgreSQL's messages) and `num_skip`.
mod common;

use bytes::Bytes;
use common::*;
use futures_lite::StreamExt;
use intake::frame::FramedRead;
use intake::{Error, LengthPrefix, StreamReader, StreamWriter};

/// PostgreSQL's framing: a type byte, a 4-byte big-endian length that
/// counts itself but not the type byte, the body.
const PG: LengthPrefix = LengthPrefix::new(4)
    .length_field_offset(1)
    .length_adjustment(-4)
    .keep_header();

fn messages() -> Vec<(u8, Vec<u8>)> {
    vec![
        (b'Q', b"SELECT 1\0".to_vec()),
        (b'S', Vec::new()),
        (b'D', pattern(miri_or(3000, 1500), 1)),
        (b'X', b"x".to_vec()),
    ]
}

async fn written(prefix: &LengthPrefix, msgs: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut w = StreamWriter::new(SlowWriter::new(7, true));
    for (tag, body) in msgs {
        w.send_frame_with_leading(prefix, &[*tag], Bytes::copy_from_slice(body))
            .await
            .unwrap();
    }
    w.flush().await.unwrap();
    w.get_ref().data.clone()
}

#[test]
fn postgres_messages_round_trip_under_every_delivery() {
    on_both_runtimes(|| async {
        let msgs = messages();
        let wire = written(&PG, &msgs).await;
        // Byte for byte what PostgreSQL sends.
        assert_eq!(&wire[..14], b"Q\x00\x00\x00\x0dSELECT 1\0");
        assert_eq!(&wire[14..19], b"S\x00\x00\x00\x04");
        let expected: Vec<Vec<u8>> = msgs
            .iter()
            .map(|(tag, body)| {
                let mut m = vec![*tag];
                m.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
                m.extend_from_slice(body);
                m
            })
            .collect();
        for (how, src) in deliveries(&wire) {
            let mut r = StreamReader::with_capacity(16, src);
            let mut got = Vec::new();
            while let Some(m) = r.read_frame(&PG).await.unwrap() {
                got.push(m.to_vec());
            }
            assert_eq!(got, expected, "read_frame, {how}");
        }
        for (how, src) in deliveries(&wire) {
            let framed = FramedRead::from_reader(StreamReader::with_capacity(16, src), PG);
            let got: Vec<Vec<u8>> = framed.map(|m| m.unwrap().to_vec()).collect().await;
            assert_eq!(got, expected, "FramedRead, {how}");
        }
    });
}

#[test]
fn leading_bytes_must_match_the_offset_and_nothing_is_queued_otherwise() {
    on_both_runtimes(|| async {
        let mut w = StreamWriter::new(Vec::new());
        for leading in [&b""[..], b"QQ"] {
            match w
                .send_frame_with_leading(&PG, leading, Bytes::from_static(b"x"))
                .await
            {
                Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(w.pending(), 0);
        // Over the maximum: FrameTooLarge, nothing queued.
        let small = PG.max_frame_len(2);
        assert!(matches!(
            w.send_frame_with_leading(&small, b"Q", Bytes::from_static(b"abc"))
                .await,
            Err(Error::FrameTooLarge { len: 3, max: 2 })
        ));
        assert_eq!(w.pending(), 0);
        // encode_header says where to go instead.
        let msg = PG.encode_header(1).unwrap_err().to_string();
        assert!(msg.contains("send_frame_with_leading"), "{msg}");
    });
}

#[test]
fn num_skip_drops_part_of_the_header_under_every_delivery() {
    on_both_runtimes(|| async {
        // A type byte, a 2-byte length, the payload: drop the type byte,
        // keep the length with the payload (tokio-util's num_skip(1)).
        let prefix = LengthPrefix::new(2).length_field_offset(1).num_skip(1);
        let wire = b"\x07\x00\x02hi\x08\x00\x00\x09\x00\x03abc";
        for (how, src) in deliveries(wire) {
            let framed = FramedRead::from_reader(StreamReader::with_capacity(4, src), prefix);
            let got: Vec<Vec<u8>> = framed.map(|m| m.unwrap().to_vec()).collect().await;
            assert_eq!(
                got,
                [&b"\x00\x02hi"[..], b"\x00\x00", b"\x00\x03abc"],
                "{how}"
            );
        }
        // num_skip(0) is keep_header; the default skips the whole header.
        let keep = LengthPrefix::new(2).num_skip(0);
        assert!(keep.keeps_header());
        let mut r = StreamReader::new(&b"\x00\x01z"[..]);
        assert_eq!(
            r.read_frame(&keep).await.unwrap().as_deref(),
            Some(&b"\x00\x01z"[..])
        );
        // A second header after the length (counted by an adjustment of
        // +1), kept: skip the first header and the length (tokio-util's
        // example of num_skip).
        let hdr2 = LengthPrefix::new(2)
            .length_field_offset(1)
            .length_adjustment(1)
            .num_skip(3);
        let mut r = StreamReader::new(&b"\xca\x00\x02\xfehi"[..]);
        assert_eq!(
            r.read_frame(&hdr2).await.unwrap().as_deref(),
            Some(&b"\xfehi"[..])
        );
        // A varint: skip the offset byte, keep the varint.
        let v = LengthPrefix::varint().length_field_offset(1).num_skip(1);
        let mut wire = b"T\xac\x02".to_vec();
        wire.extend_from_slice(&[5u8; 300]);
        let mut r = StreamReader::new(&wire[..]);
        let frame = r.read_frame(&v).await.unwrap().unwrap();
        assert_eq!(frame.len(), 2 + 300);
        assert_eq!(&frame[..2], b"\xac\x02");
    });
}

#[test]
fn num_skip_eof_at_every_offset_hands_over_what_arrived() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(2).length_field_offset(1).num_skip(1);
        let wire = b"\x07\x00\x05hello";
        for cut in 1..wire.len() {
            let mut r = StreamReader::new(ScriptedReader::chunked(&wire[..cut], 1, true));
            match r.read_frame(&prefix).await {
                Err(Error::UnexpectedEof { partial, .. }) => assert_eq!(&partial[..], &wire[..cut]),
                other => panic!("cut {cut}: {other:?}"),
            }
        }
    });
}

/// What no frame can satisfy is refused when the prefix is built.
#[test]
#[should_panic(expected = "num_skip is longer than any frame")]
fn num_skip_longer_than_any_frame_panics_when_built() {
    // A 2-byte header and payloads of at most 3 bytes: 6 bytes never fit.
    let _ = LengthPrefix::new(2).max_frame_len(3).num_skip(6);
}

#[test]
#[should_panic(expected = "num_skip is longer than any frame")]
fn a_maximum_below_num_skip_panics_when_built() {
    // The same, whichever is set first.
    let _ = LengthPrefix::new(2).num_skip(6).max_frame_len(3);
}

#[test]
#[should_panic(expected = "num_skip reaches into a varint")]
fn num_skip_into_a_varint_panics_when_built() {
    // A varint's length varies: the skip cannot end inside it or past it.
    let _ = LengthPrefix::varint().length_field_offset(1).num_skip(2);
}

#[test]
fn num_skip_at_the_limits_builds() {
    let _ = LengthPrefix::new(2).max_frame_len(3).num_skip(5);
    let _ = LengthPrefix::new(2).length_field_offset(1).num_skip(4);
    let _ = LengthPrefix::varint().length_field_offset(1).num_skip(1);
    let _ = LengthPrefix::varint().num_skip(0);
}

/// tokio-util's `num_skip` example: a 3-byte length, then a one-byte flag
/// that the length does not count (`length_adjustment(1)`), both dropped
/// (`num_skip(4)`): the skip reaches past the length field into the bytes
/// the length covers.
const FLAGGED: LengthPrefix = LengthPrefix::new(3).length_adjustment(1).num_skip(4);

/// Frames of FLAGGED: "Hello world" with flag 0xCA, an empty one with flag
/// 0x01, "x" with flag 0x00.
const FLAGGED_WIRE: &[u8] = b"\x00\x00\x0B\xCAHello world\x00\x00\x00\x01\x00\x00\x01\x00x";

#[test]
fn num_skip_past_the_length_field_through_read_frame() {
    on_both_runtimes(|| async {
        for (how, src) in deliveries(FLAGGED_WIRE) {
            let mut r = StreamReader::with_capacity(4, src);
            for want in [&b"Hello world"[..], b"", b"x"] {
                let got = r.read_frame(&FLAGGED).await.unwrap();
                assert_eq!(got.as_deref(), Some(want), "{how}");
            }
            assert_eq!(r.read_frame(&FLAGGED).await.unwrap(), None, "{how}");
        }
    });
}

#[test]
fn num_skip_past_the_length_field_through_framed_read() {
    on_both_runtimes(|| async {
        for (how, src) in deliveries(FLAGGED_WIRE) {
            let framed = FramedRead::from_reader(StreamReader::with_capacity(4, src), FLAGGED);
            let got: Vec<Vec<u8>> = framed.map(|m| m.unwrap().to_vec()).collect().await;
            assert_eq!(got, [&b"Hello world"[..], b"", b"x"], "{how}");
        }
        // The tokio path.
        #[cfg(feature = "tokio")]
        {
            let src = via_tokio(ScriptedReader::chunked(FLAGGED_WIRE, 1, true));
            let framed = FramedRead::from_reader(StreamReader::with_capacity(4, src), FLAGGED);
            let got: Vec<Vec<u8>> = framed.map(|m| m.unwrap().to_vec()).collect().await;
            assert_eq!(got, [&b"Hello world"[..], b"", b"x"]);
        }
    });
}

/// A frame larger than the buffer (its own allocation) is cut the same way.
#[test]
fn num_skip_past_the_length_field_on_a_large_frame() {
    on_both_runtimes(|| async {
        let body = pattern(miri_or(100_000, 5000), 3);
        let mut wire = (body.len() as u32).to_be_bytes()[1..].to_vec();
        wire.push(0xCA);
        wire.extend_from_slice(&body);
        for (how, src) in deliveries(&wire) {
            let mut r = StreamReader::with_capacity(64, src);
            let got = r.read_frame(&FLAGGED).await.unwrap().unwrap();
            assert!(got[..] == body[..], "{how}");
            assert_eq!(r.read_frame(&FLAGGED).await.unwrap(), None, "{how}");
        }
    });
}

/// The writer sends what the reader takes: the flag travels as the first
/// byte of the payload given to `send_frame`.
#[test]
fn num_skip_past_the_length_field_round_trips() {
    on_both_runtimes(|| async {
        let mut w = StreamWriter::new(SlowWriter::new(5, true));
        w.send_frame(&FLAGGED, Bytes::from_static(b"\xCAHello world"))
            .await
            .unwrap();
        w.flush().await.unwrap();
        assert_eq!(w.get_ref().data, &FLAGGED_WIRE[..15]);
    });
}

#[test]
fn num_skip_past_the_length_field_eof_at_every_offset() {
    on_both_runtimes(|| async {
        let wire = &FLAGGED_WIRE[..15];
        for cut in 1..wire.len() {
            let mut r = StreamReader::new(ScriptedReader::chunked(&wire[..cut], 1, true));
            match r.read_frame(&FLAGGED).await {
                Err(Error::UnexpectedEof { partial, expected }) => {
                    assert_eq!(&partial[..], &wire[..cut], "cut {cut}");
                    let want = (cut >= 3).then_some(wire.len() - cut);
                    assert_eq!(expected, want, "cut {cut}");
                }
                other => panic!("cut {cut}: {other:?}"),
            }
        }
    });
}

/// A length that counts the flag (no adjustment) can announce a frame
/// shorter than the skip: that frame is bad input, `InvalidData` as soon as
/// its header is seen, never a panic; nothing is consumed.
#[test]
fn a_frame_shorter_than_num_skip_is_invalid_data() {
    on_both_runtimes(|| async {
        let counts_flag = LengthPrefix::new(3).num_skip(4);
        let wire = b"\x00\x00\x02\xCAz\x00\x00\x00";
        for (how, src) in deliveries(wire) {
            let mut r = StreamReader::with_capacity(4, src);
            assert_eq!(
                r.read_frame(&counts_flag).await.unwrap().as_deref(),
                Some(&b"z"[..]),
                "{how}"
            );
            for _ in 0..2 {
                match r.read_frame(&counts_flag).await {
                    Err(Error::Io(e)) => {
                        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
                        let msg = e.to_string();
                        assert!(
                            msg.contains("3 bytes") && msg.contains("num_skip of 4"),
                            "{msg}"
                        );
                    }
                    other => panic!("{how}: {other:?}"),
                }
                assert_eq!(r.buffer(), b"\x00\x00\x00", "{how}: nothing consumed");
            }
        }
        let src = ScriptedReader::chunked(wire, 1, true);
        let mut framed = FramedRead::from_reader(StreamReader::new(src), counts_flag);
        assert_eq!(&framed.next().await.unwrap().unwrap()[..], b"z");
        assert!(matches!(framed.next().await, Some(Err(Error::Io(_)))));
        assert!(framed.next().await.is_none(), "fused after the error");
    });
}
