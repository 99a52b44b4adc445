//! `read_frame` and `LengthPrefix`: every width and byte order, end of
//! stream at every offset, the maximum, hostile headers, cancellation.
mod common;

use common::*;
use intake::{Error, LengthPrefix, StreamReader};

fn prefixes() -> Vec<LengthPrefix> {
    let mut all = vec![LengthPrefix::varint()];
    for w in [1usize, 2, 3, 4, 8] {
        all.push(LengthPrefix::new(w));
        all.push(LengthPrefix::new(w).little_endian());
    }
    all
}

fn encode(prefix: &LengthPrefix, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut wire = Vec::new();
    for f in frames {
        wire.extend_from_slice(prefix.encode_header(f.len()).unwrap().as_ref());
        wire.extend_from_slice(f);
    }
    wire
}

fn sample_frames() -> Vec<Vec<u8>> {
    vec![
        pattern(0, 1),
        pattern(1, 2),
        pattern(200, 3),
        pattern(255, 4),
        pattern(40, 5),
    ]
}

#[test]
fn read_frame_every_width_and_order_under_every_delivery() {
    on_both_runtimes(|| async {
        let frames = sample_frames();
        for prefix in prefixes() {
            let wire = encode(&prefix, &frames);
            for (how, src) in deliveries(&wire) {
                let mut r = StreamReader::with_capacity(32, src);
                for f in &frames {
                    let got = r.read_frame(&prefix).await.unwrap().unwrap();
                    assert_eq!(&got[..], &f[..], "{prefix:?} {how}");
                }
                assert!(r.read_frame(&prefix).await.unwrap().is_none(), "clean end");
            }
        }
    });
}

#[test]
fn read_frame_eof_at_every_offset() {
    on_both_runtimes(|| async {
        let frames = sample_frames();
        for prefix in prefixes() {
            let wire = encode(&prefix, &frames);
            // Frame boundaries, to tell a clean end from a cut frame.
            let mut ends = vec![0];
            for f in &frames {
                let h = prefix.encode_header(f.len()).unwrap().as_ref().len();
                ends.push(ends.last().unwrap() + h + f.len());
            }
            // Under Miri (every read costs milliseconds), every 97th offset.
            for cut in (0..wire.len()).step_by(miri_or(1, 97)) {
                let src = ScriptedReader::chunked(&wire[..cut], 5, true);
                let mut r = StreamReader::with_capacity(16, src);
                let mut frame_start = 0;
                loop {
                    match r.read_frame(&prefix).await {
                        Ok(Some(f)) => {
                            frame_start +=
                                prefix.encode_header(f.len()).unwrap().as_ref().len() + f.len()
                        }
                        Ok(None) => {
                            assert!(
                                ends.contains(&cut),
                                "clean end only between frames: cut {cut}"
                            );
                            break;
                        }
                        Err(Error::UnexpectedEof { partial, .. }) => {
                            assert!(!ends.contains(&cut), "cut {cut} is between frames");
                            assert_eq!(
                                &partial[..],
                                &wire[frame_start..cut],
                                "{prefix:?} cut {cut}"
                            );
                            break;
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            }
        }
    });
}

#[test]
fn read_frame_exactly_max_passes_max_plus_one_fails() {
    on_both_runtimes(|| async {
        for prefix in prefixes() {
            let prefix = prefix.max_frame_len(200);
            let mut wire = encode(&prefix.max_frame_len(1000), &[pattern(200, 6)]);
            let mut r = StreamReader::new(&wire[..]);
            assert_eq!(r.read_frame(&prefix).await.unwrap().unwrap().len(), 200);
            wire = encode(&prefix.max_frame_len(1000), &[pattern(201, 7)]);
            let mut r = StreamReader::new(&wire[..]);
            match r.read_frame(&prefix).await {
                Err(Error::FrameTooLarge { len: 201, max: 200 }) => {}
                other => panic!("{prefix:?}: {other:?}"),
            }
        }
    });
}

#[test]
fn read_frame_too_large_fails_before_waiting_for_payload_and_stays_failed() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(4).max_frame_len(1024);
        // The header arrives, then the peer stalls forever.
        let mut steps = vec![Step::Data(2048u32.to_be_bytes().to_vec())];
        steps.extend(std::iter::repeat(Step::Pending).take(1000));
        let mut r = StreamReader::new(ScriptedReader::new(steps));
        assert!(matches!(
            r.read_frame(&prefix).await,
            Err(Error::FrameTooLarge {
                len: 2048,
                max: 1024
            })
        ));
        let reads = r.get_ref().reads;
        // Policy: the stream cannot resynchronise; the header stays
        // buffered and every later call fails the same way, without reading.
        assert!(matches!(
            r.read_frame(&prefix).await,
            Err(Error::FrameTooLarge { len: 2048, .. })
        ));
        assert_eq!(r.get_ref().reads, reads);
        assert_eq!(r.buffer(), &2048u32.to_be_bytes());
    });
}

#[test]
fn read_frame_all_ones_prefixes_fail_cleanly() {
    on_both_runtimes(|| async {
        for prefix in prefixes() {
            // 100: below the all-ones value of every width (255 for 1 byte).
            let prefix = prefix.max_frame_len(100);
            let mut r = StreamReader::new(&[0xffu8; 16][..]);
            match r.read_frame(&prefix).await {
                Err(Error::FrameTooLarge { len, max: 100 }) => assert!(len > 100),
                Err(Error::Io(e)) if prefix.width().is_none() => {
                    assert_eq!(
                        e.kind(),
                        std::io::ErrorKind::InvalidData,
                        "varint over 64 bits"
                    )
                }
                other => panic!("{prefix:?}: {other:?}"),
            }
        }
    });
}

#[test]
fn read_frame_adjustment_offset_and_keep_header() {
    on_both_runtimes(|| async {
        // Netty's example: 2-byte length that counts the whole frame,
        // after a 1-byte tag, frame returned whole.
        let prefix = LengthPrefix::new(2)
            .length_field_offset(1)
            .length_adjustment(-3)
            .keep_header();
        let wire = b"\xCA\x00\x08hello\xFE\x00\x03";
        for (how, src) in deliveries(wire) {
            let mut r = StreamReader::with_capacity(4, src);
            assert_eq!(
                &r.read_frame(&prefix).await.unwrap().unwrap()[..],
                b"\xCA\x00\x08hello",
                "{how}"
            );
            assert_eq!(
                &r.read_frame(&prefix).await.unwrap().unwrap()[..],
                b"\xFE\x00\x03",
                "{how}"
            );
            assert!(r.read_frame(&prefix).await.unwrap().is_none());
        }
        // Negative after adjustment is a typed error, not a wrap-around.
        let mut r = StreamReader::new(&b"\x00\x00\x01"[..]);
        assert!(
            matches!(r.read_frame(&prefix).await, Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData)
        );
    });
}

#[test]
fn read_frame_eight_byte_length_over_usize_is_too_large() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(8).max_frame_len(usize::MAX);
        let mut r = StreamReader::new(&[0xffu8; 8][..]);
        assert!(matches!(
            r.read_frame(&prefix).await,
            Err(Error::FrameTooLarge { .. })
        ));
    });
}

#[test]
fn cancel_read_frame_at_every_poll() {
    on_both_runtimes(|| async {
        let frames = sample_frames();
        for prefix in [LengthPrefix::new(2), LengthPrefix::varint()] {
            let wire = encode(&prefix, &frames);
            // Under Miri, every third k.
            for k in (0..30).step_by(miri_or(1, 3)) {
                let mut r = StreamReader::with_capacity(8, ScriptedReader::chunked(&wire, 7, true));
                for f in &frames {
                    let got = match poll_at_most(r.read_frame(&prefix), k) {
                        Some(res) => res.unwrap().unwrap(),
                        None => r.read_frame(&prefix).await.unwrap().unwrap(),
                    };
                    assert_eq!(&got[..], &f[..], "k = {k}");
                }
            }
        }
    });
}

#[test]
fn read_frame_buffered_frames_do_not_poll_inner() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(1);
        let wire = encode(&prefix, &sample_frames()[..3]);
        let mut r = StreamReader::new(ScriptedReader::new([Step::Data(wire), Step::Eof]));
        r.read_frame(&prefix).await.unwrap();
        let reads = r.get_ref().reads;
        r.read_frame(&prefix).await.unwrap();
        r.read_frame(&prefix).await.unwrap();
        assert_eq!(r.get_ref().reads, reads);
    });
}
