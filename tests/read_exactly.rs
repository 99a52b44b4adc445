//! `read_exactly`: chunking, end of stream at every offset, errors mid-frame.
mod common;

use common::*;
use intake::{Error, StreamReader};

#[test]
fn read_exactly_same_frames_under_every_delivery() {
    on_both_runtimes(|| async {
        let data = pattern(1000, 1);
        for (how, src) in deliveries(&data) {
            let mut r = StreamReader::with_capacity(64, src);
            let mut got = Vec::new();
            // Frames smaller than, equal to and larger than the capacity.
            for n in [1usize, 10, 64, 65, 200, 300, 360] {
                let frame = r
                    .read_exactly(n)
                    .await
                    .unwrap_or_else(|e| panic!("{how}: {e}"));
                assert_eq!(frame.len(), n, "{how}");
                got.extend_from_slice(&frame);
            }
            assert_eq!(got, data, "{how}");
            assert!(r.read_exactly(0).await.unwrap().is_empty());
        }
    });
}

#[test]
fn read_exactly_buffered_frame_does_not_poll_inner() {
    on_both_runtimes(|| async {
        let src = ScriptedReader::new([Step::Data(b"abcdef".to_vec()), Step::Eof]);
        let mut r = StreamReader::new(src);
        assert_eq!(&r.read_exactly(2).await.unwrap()[..], b"ab");
        let reads = r.get_ref().reads;
        assert_eq!(&r.read_exactly(2).await.unwrap()[..], b"cd");
        assert_eq!(&r.read_exactly(2).await.unwrap()[..], b"ef");
        assert_eq!(
            r.get_ref().reads,
            reads,
            "buffered frames must not touch the inner reader"
        );
    });
}

#[test]
fn read_exactly_zero_never_touches_inner() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(NeverReady::default());
        assert!(r.read_exactly(0).await.unwrap().is_empty());
        assert_eq!(r.get_ref().polls, 0);
    });
}

#[test]
fn read_exactly_eof_at_every_offset_hands_over_partial() {
    on_both_runtimes(|| async {
        let data = pattern(40, 2);
        for cut in cuts(data.len()) {
            for pending in [false, true] {
                let src = ScriptedReader::chunked(&data[..cut], 3, pending);
                let mut r = StreamReader::with_capacity(16, src);
                match r.read_exactly(data.len()).await {
                    Err(Error::UnexpectedEof { partial, expected }) => {
                        assert_eq!(&partial[..], &data[..cut], "cut {cut}");
                        assert_eq!(expected, Some(data.len() - cut), "still missing");
                    }
                    other => panic!("cut {cut}: {other:?}"),
                }
                assert!(r.buffer().is_empty(), "partial was handed over");
                // The end is remembered; the inner reader is not polled again.
                assert!(matches!(
                    r.read_exactly(1).await,
                    Err(Error::UnexpectedEof { partial, .. }) if partial.is_empty()
                ));
            }
        }
    });
}

#[test]
fn read_exactly_error_mid_frame_keeps_bytes_and_retry_completes() {
    on_both_runtimes(|| async {
        let src = ScriptedReader::new([
            Step::Data(b"hel".to_vec()),
            Step::Err(std::io::ErrorKind::ConnectionReset),
            Step::Data(b"lo".to_vec()),
            Step::Eof,
        ]);
        let mut r = StreamReader::new(src);
        match r.read_exactly(5).await {
            Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            r.buffer(),
            b"hel",
            "bytes received before the error stay buffered"
        );
        assert_eq!(&r.read_exactly(5).await.unwrap()[..], b"hello");
    });
}

#[test]
fn read_exactly_interrupted_is_retried() {
    on_both_runtimes(|| async {
        let src = ScriptedReader::new([
            Step::Data(b"ab".to_vec()),
            Step::Err(std::io::ErrorKind::Interrupted),
            Step::Data(b"cd".to_vec()),
            Step::Eof,
        ]);
        let mut r = StreamReader::new(src);
        assert_eq!(&r.read_exactly(4).await.unwrap()[..], b"abcd");
    });
}

#[test]
fn read_exactly_large_frame_is_one_contiguous_slice() {
    on_both_runtimes(|| async {
        let data = pattern(100_000, 3);
        let src = ScriptedReader::chunked(&data, 1500, true);
        let mut r = StreamReader::with_capacity(4096, src);
        let head = r.read_exactly(10).await.unwrap();
        let big = r.read_exactly(99_990).await.unwrap();
        assert_eq!(&head[..], &data[..10]);
        assert_eq!(&big[..], &data[10..]);
    });
}

#[test]
fn read_exactly_with_capacity_zero_works() {
    on_both_runtimes(|| async {
        let data = pattern(300, 4);
        for (how, src) in deliveries(&data) {
            let mut r = StreamReader::with_capacity(0, src);
            let a = r.read_exactly(1).await.unwrap();
            let b = r.read_exactly(299).await.unwrap();
            assert_eq!([&a[..], &b[..]].concat(), data, "{how}");
        }
    });
}
