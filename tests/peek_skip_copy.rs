//! `peek`, `skip`, `copy_exact`, `consume` and `into_parts`.
mod common;

use common::*;
use intake::{Error, StreamReader};

#[test]
fn peek_guarantees_contiguous_bytes_under_every_delivery() {
    on_both_runtimes(|| async {
        let data = pattern(100, 5);
        for (how, src) in deliveries(&data) {
            let mut r = StreamReader::with_capacity(8, src);
            // 40 > capacity: still one contiguous slice.
            let seen = r.peek(40).await.unwrap();
            assert!(seen.len() >= 40, "{how}");
            assert_eq!(seen, &data[..seen.len()], "{how}");
            r.consume(40);
            let rest = r.read_exactly(60).await.unwrap();
            assert_eq!(&rest[..], &data[40..], "{how}");
        }
    });
}

#[test]
fn peek_returns_fewer_only_at_end_of_stream() {
    on_both_runtimes(|| async {
        let src = ScriptedReader::chunked(b"abc", 1, true);
        let mut r = StreamReader::new(src);
        assert_eq!(r.peek(10).await.unwrap(), b"abc");
        assert_eq!(r.peek(10).await.unwrap(), b"abc", "peek consumes nothing");
    });
}

#[test]
fn peek_over_limit_is_an_error_before_any_read() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(NeverReady::default()).with_limit(16);
        assert!(matches!(
            r.peek(17).await,
            Err(Error::LimitExceeded { limit: 16 })
        ));
        assert_eq!(r.get_ref().polls, 0);
    });
}

#[test]
fn consume_is_clamped_never_panics() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(&b"abc"[..]);
        r.peek(3).await.unwrap();
        r.consume(100);
        assert!(r.buffer().is_empty());
        assert!(r.read_exactly(1).await.is_err());
    });
}

#[test]
fn skip_discards_across_buffer_and_reads() {
    on_both_runtimes(|| async {
        let n = miri_or(10_000, 1_000);
        let data = pattern(n, 6);
        for (how, src) in deliveries(&data) {
            let mut r = StreamReader::with_capacity(64, src);
            r.peek(5).await.unwrap();
            r.skip(n as u64 - 10).await.unwrap();
            assert_eq!(
                &r.read_exactly(10).await.unwrap()[..],
                &data[n - 10..],
                "{how}"
            );
            assert!(r.buffer().len() <= 64);
        }
    });
}

#[test]
fn skip_past_end_is_unexpected_eof() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(&b"abc"[..]);
        match r.skip(10).await {
            Err(Error::UnexpectedEof { expected, .. }) => assert_eq!(expected, Some(7)),
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn copy_exact_moves_exactly_n_with_bounded_buffer() {
    on_both_runtimes(|| async {
        let n = miri_or(50_000, 400);
        let copied = n / 5 * 4; // 40,000
        let data = pattern(n, 7);
        for (chunk, pending) in [(1usize, true), (7, false), (1500, true), (n, false)] {
            for max_write in [1usize, 1000, usize::MAX] {
                let how = format!("chunk {chunk} pending {pending}");
                let src = ScriptedReader::chunked(&data, chunk, pending);
                let mut r = StreamReader::with_capacity(256, src);
                let mut w = SlowWriter::new(max_write, max_write == 1000);
                r.copy_exact(copied as u64, &mut w).await.unwrap();
                assert_eq!(w.data, &data[..copied], "{how} {max_write}");
                assert_eq!(w.flushes, 0, "the caller flushes");
                assert!(r.buffer().len() <= 256, "memory bounded by the buffer");
                assert_eq!(
                    &r.read_exactly(n - copied).await.unwrap()[..],
                    &data[copied..]
                );
            }
        }
    });
}

#[test]
fn copy_exact_eof_reports_missing_bytes() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(&b"abcde"[..]);
        let mut w = SlowWriter::new(usize::MAX, false);
        match r.copy_exact(8, &mut w).await {
            Err(Error::UnexpectedEof { expected, .. }) => assert_eq!(expected, Some(3)),
            other => panic!("{other:?}"),
        }
        assert_eq!(w.data, b"abcde", "the bytes that arrived were written");
    });
}

#[test]
fn position_tells_how_much_a_failed_or_dropped_copy_exact_wrote() {
    on_both_runtimes(|| async {
        let n = miri_or(5_000, 300);
        let data = pattern(n, 3);
        for (chunk, pending) in [(1usize, true), (7, false), (1500, true)] {
            // The writer fails partway: the bytes it took are consumed, the
            // rest stay, and `position` counts exactly the bytes written.
            let mut r =
                StreamReader::with_capacity(64, ScriptedReader::chunked(&data, chunk, pending));
            let mut w = SlowWriter::new(5, pending).failing_after(n / 3);
            match r.copy_exact(n as u64, &mut w).await {
                Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
                other => panic!("{other:?}"),
            }
            assert_eq!(r.position(), w.data.len() as u64, "chunk {chunk}");
            assert_eq!(w.data, &data[..n / 3]);
            // Resuming from `position` completes the copy, each byte once.
            let mut rest = SlowWriter::new(usize::MAX, false);
            let left = n as u64 - r.position();
            r.copy_exact(left, &mut rest).await.unwrap();
            assert!(
                rest.data == data[n / 3..],
                "chunk {chunk}: nothing lost or repeated"
            );

            // Dropped after k polls: the same holds.
            for polls in [1usize, 3, 10] {
                let mut r =
                    StreamReader::with_capacity(64, ScriptedReader::chunked(&data, chunk, pending));
                let mut w = SlowWriter::new(5, pending);
                let mut written = 0u64;
                while written < n as u64 {
                    let before = r.position();
                    let _ = poll_at_most(r.copy_exact(n as u64 - written, &mut w), polls);
                    written += r.position() - before;
                    assert_eq!(written, w.data.len() as u64, "chunk {chunk} polls {polls}");
                }
                assert!(
                    w.data == data,
                    "chunk {chunk} polls {polls}: each byte once"
                );
            }
        }
    });
}

#[test]
fn copy_exact_write_zero_is_an_error() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(&b"abc"[..]);
        let mut w = SlowWriter::new(0, false);
        match r.copy_exact(3, &mut w).await {
            Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::WriteZero),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.buffer(), b"abc", "unwritten bytes stay buffered");
    });
}

#[test]
fn into_parts_loses_nothing() {
    on_both_runtimes(|| async {
        let src = ScriptedReader::new([
            Step::Data(b"line\nleftover".to_vec()),
            Step::Data(b"more".to_vec()),
            Step::Eof,
        ]);
        let mut r = StreamReader::new(src);
        assert_eq!(&r.read_until(b"\n").await.unwrap().unwrap()[..], b"line\n");
        let (inner, rest) = r.into_parts();
        assert_eq!(&rest[..], b"leftover");
        assert!(!inner.finished(), "the unread source is handed back too");
    });
}
