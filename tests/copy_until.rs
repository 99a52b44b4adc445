//! `copy_until`: the bytes before a delimiter go to a writer, with bounded
//! memory, through every delivery, writer and cancellation.
mod common;

use common::*;
use intake::{Error, StreamReader};

/// A multipart-like body: parts separated by `delim`, the last one ending
/// with it too.
fn parts_body(parts: &[Vec<u8>], delim: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(part);
        body.extend_from_slice(delim);
    }
    body
}

fn some_parts() -> Vec<Vec<u8>> {
    vec![
        pattern(miri_or(3000, 300), 1),
        Vec::new(),
        b"\r\n--almost".to_vec(), // a prefix of the delimiter inside a part
        pattern(miri_or(700, 70), 2),
        b"-".to_vec(),
    ]
}

const DELIM: &[u8] = b"\r\n--boundary7";

#[test]
fn copies_each_part_under_every_delivery_and_writer() {
    on_both_runtimes(|| async {
        let parts = some_parts();
        let body = parts_body(&parts, DELIM);
        for max_write in [1usize, 1000, usize::MAX] {
            for (how, src) in deliveries(&body) {
                let cap = 64;
                let mut r = StreamReader::with_capacity(cap, src);
                for (i, part) in parts.iter().enumerate() {
                    let mut w = SlowWriter::new(max_write, max_write == 1000);
                    let n = r.copy_until(DELIM, &mut w).await.unwrap();
                    assert_eq!(n, Some(part.len() as u64), "{how} {max_write} part {i}");
                    assert!(w.data == *part, "{how} {max_write} part {i}");
                    assert_eq!(w.flushes, 0, "the caller flushes");
                    assert!(
                        r.buffer().len() <= cap + DELIM.len(),
                        "memory bounded: {}",
                        r.buffer().len()
                    );
                }
                let mut w = SlowWriter::new(max_write, false);
                assert_eq!(r.copy_until(DELIM, &mut w).await.unwrap(), None, "{how}");
                assert!(w.data.is_empty());
            }
        }
    });
}

#[test]
fn delimiter_split_across_reads_at_every_offset() {
    on_both_runtimes(|| async {
        let body = b"0123456789\r\n--boundary7tail";
        let delim_at = 10;
        for cut in cuts(body.len() + 1) {
            for second in [cut, cut + 1, cut + 5] {
                let src = ScriptedReader::split_at(body, &[cut, second], true);
                let mut r = StreamReader::with_capacity(4, src);
                let mut w = SlowWriter::new(usize::MAX, false);
                let n = r.copy_until(DELIM, &mut w).await.unwrap();
                assert_eq!(n, Some(delim_at as u64), "cut {cut} {second}");
                assert_eq!(w.data, &body[..delim_at], "cut {cut} {second}");
                assert_eq!(
                    &r.read_exactly(4).await.unwrap()[..],
                    b"tail",
                    "the delimiter is consumed, nothing after it"
                );
            }
        }
    });
}

#[test]
fn end_of_stream_at_every_offset() {
    on_both_runtimes(|| async {
        let body = parts_body(&[b"hello world".to_vec()], DELIM);
        for end in cuts(body.len()) {
            let cut = &body[..end];
            for (how, src) in deliveries(cut) {
                let mut r = StreamReader::with_capacity(8, src);
                let mut w = SlowWriter::new(3, true);
                match r.copy_until(DELIM, &mut w).await {
                    Ok(None) => assert_eq!(end, 0, "{how}: clean end only when empty"),
                    Err(Error::UnexpectedEof { partial, expected }) => {
                        assert!(end > 0, "{how}");
                        assert_eq!(expected, None);
                        assert!(partial.len() < DELIM.len(), "{how} end {end}");
                        // Written plus partial is every byte that arrived,
                        // and `position` counts both.
                        assert_eq!(
                            r.position(),
                            (w.data.len() + partial.len()) as u64,
                            "{how} end {end}"
                        );
                        let mut all = w.data.clone();
                        all.extend_from_slice(&partial);
                        assert_eq!(all, cut, "{how} end {end}");
                    }
                    other => panic!("{how} end {end}: {other:?}"),
                }
            }
        }
    });
}

#[test]
fn cancelled_at_every_poll_loses_and_repeats_nothing() {
    on_both_runtimes(|| async {
        let parts = some_parts();
        let body = parts_body(&parts, DELIM);
        for polls in [1usize, 2, 3, 5, 8] {
            let src = ScriptedReader::chunked(&body, 3, true);
            let mut r = StreamReader::with_capacity(16, src);
            for (i, part) in parts.iter().enumerate() {
                // One writer per part, kept across the cancelled attempts.
                let mut w = SlowWriter::new(2, true);
                let mut copied = 0;
                loop {
                    match poll_at_most(r.copy_until(DELIM, &mut w), polls) {
                        Some(result) => {
                            copied += result.unwrap().expect("a part");
                            break;
                        }
                        None => copied = w.data.len() as u64,
                    }
                }
                assert_eq!(copied, part.len() as u64, "polls {polls} part {i}");
                assert!(w.data == *part, "polls {polls} part {i}: each byte once");
            }
        }
    });
}

#[test]
fn write_errors_keep_the_bytes_buffered() {
    on_both_runtimes(|| async {
        let body = parts_body(&[b"abcdefgh".to_vec()], b"|");
        let mut r = StreamReader::new(&body[..]);
        let mut zero = SlowWriter::new(0, false);
        match r.copy_until(b"|", &mut zero).await {
            Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::WriteZero),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.buffer(), b"abcdefgh|", "nothing consumed");
        let mut w = SlowWriter::new(usize::MAX, false);
        assert_eq!(r.copy_until(b"|", &mut w).await.unwrap(), Some(8));
        assert_eq!(w.data, b"abcdefgh");
    });
}

#[test]
fn position_tells_how_much_a_failed_copy_wrote() {
    on_both_runtimes(|| async {
        let parts = some_parts();
        let body = parts_body(&parts, DELIM);
        let fail_at = parts[0].len() / 2;
        for (how, src) in deliveries(&body) {
            let mut r = StreamReader::with_capacity(32, src);
            let mut w = SlowWriter::new(7, true).failing_after(fail_at);
            match r.copy_until(DELIM, &mut w).await {
                Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
                other => panic!("{how}: {other:?}"),
            }
            assert_eq!(r.position(), fail_at as u64, "{how}");
            assert_eq!(w.data, &parts[0][..fail_at], "{how}");
            // Calling again goes on from there, each byte once.
            let mut rest = SlowWriter::new(usize::MAX, false);
            let more = r.copy_until(DELIM, &mut rest).await.unwrap();
            assert_eq!(more, Some((parts[0].len() - fail_at) as u64), "{how}");
            assert!(rest.data == parts[0][fail_at..], "{how}");
            assert_eq!(r.position(), (parts[0].len() + DELIM.len()) as u64);
        }
    });
}

#[test]
fn read_error_mid_part_then_go_on() {
    on_both_runtimes(|| async {
        let src = ScriptedReader::new([
            Step::Data(b"abc".to_vec()),
            Step::Err(std::io::ErrorKind::ConnectionReset),
            Step::Data(b"def|rest".to_vec()),
            Step::Eof,
        ]);
        let mut r = StreamReader::new(src);
        let mut w = SlowWriter::new(usize::MAX, false);
        match r.copy_until(b"|", &mut w).await {
            Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.copy_until(b"|", &mut w).await.unwrap(), Some(3));
        assert_eq!(w.data, b"abcdef", "every byte once across the error");
    });
}

#[test]
fn empty_delimiter_is_invalid_input() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(&b"abc"[..]);
        let mut w = SlowWriter::new(usize::MAX, false);
        match r.copy_until(b"", &mut w).await {
            Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.buffer(), b"", "nothing read");
    });
}

#[test]
fn delimiter_longer_than_the_capacity() {
    on_both_runtimes(|| async {
        let delim = vec![b'='; 100];
        let body = parts_body(&[pattern(1000, 3), pattern(10, 4)], &delim);
        let mut r = StreamReader::with_capacity(16, ScriptedReader::chunked(&body, 7, true));
        let mut w = SlowWriter::new(usize::MAX, false);
        assert_eq!(r.copy_until(&delim, &mut w).await.unwrap(), Some(1000));
        assert!(r.buffer().len() <= 16 + delim.len());
        assert_eq!(r.copy_until(&delim, &mut w).await.unwrap(), Some(10));
        let mut expected = pattern(1000, 3);
        expected.extend_from_slice(&pattern(10, 4));
        assert!(w.data == expected);
    });
}

/// A call that failed after writing part of a run, retried at the end of
/// the stream: the run was cut, which is `UnexpectedEof`, not a clean end
/// (found by the reader_ops fuzz oracle). The same for `skip_until`.
#[test]
fn end_after_a_failed_call_that_consumed_is_not_a_clean_end() {
    on_both_runtimes(|| async {
        let script = || {
            ScriptedReader::new([
                Step::Data(b"abc".to_vec()),
                Step::Err(std::io::ErrorKind::ConnectionReset),
                Step::Eof,
            ])
        };
        let mut r = StreamReader::new(script());
        let mut w = SlowWriter::new(usize::MAX, false);
        assert!(matches!(
            r.copy_until(b"|", &mut w).await,
            Err(Error::Io(_))
        ));
        assert_eq!(w.data, b"abc");
        match r.copy_until(b"|", &mut w).await {
            Err(Error::UnexpectedEof { partial, .. }) => assert!(partial.is_empty()),
            other => panic!("copy_until: {other:?}"),
        }
        let mut r = StreamReader::new(script());
        assert!(matches!(r.skip_until(b"|").await, Err(Error::Io(_))));
        assert!(
            matches!(r.skip_until(b"|").await, Err(Error::UnexpectedEof { .. })),
            "skip_until"
        );
        // A call that consumed nothing before failing leaves a clean end.
        let mut r = StreamReader::new(ScriptedReader::new([
            Step::Err(std::io::ErrorKind::ConnectionReset),
            Step::Eof,
        ]));
        assert!(matches!(
            r.copy_until(b"|", &mut w).await,
            Err(Error::Io(_))
        ));
        assert_eq!(r.copy_until(b"|", &mut w).await.unwrap(), None);
    });
}
