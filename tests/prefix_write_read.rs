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

#[test]
#[should_panic(expected = "num_skip is longer than the header")]
fn num_skip_longer_than_the_header_panics_when_built() {
    let _ = LengthPrefix::new(2).length_field_offset(1).num_skip(4);
}
