//! `read_until` and `peek_until`: delimiters split across reads, overlap,
//! limits, end of stream.
mod common;

use common::*;
use intake::{Error, StreamReader};

/// The naive oracle: split after every occurrence of `delim`, leftmost
/// first, non-overlapping.
fn oracle_lines(data: &[u8], delim: &[u8]) -> (Vec<Vec<u8>>, Vec<u8>) {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + delim.len() <= data.len() {
        if &data[i..i + delim.len()] == delim {
            lines.push(data[start..i + delim.len()].to_vec());
            i += delim.len();
            start = i;
        } else {
            i += 1;
        }
    }
    (lines, data[start..].to_vec())
}

async fn all_lines<R: futures_io::AsyncRead + Unpin>(
    r: &mut StreamReader<R>,
    delim: &[u8],
) -> (Vec<Vec<u8>>, Vec<u8>) {
    let (lines, rest) = lines_by_read(r, delim).await;
    // Nothing may be left behind, whichever way the lines ended.
    assert!(r.buffer().is_empty());
    (lines, rest)
}

async fn lines_by_read<R: futures_io::AsyncRead + Unpin>(
    r: &mut StreamReader<R>,
    delim: &[u8],
) -> (Vec<Vec<u8>>, Vec<u8>) {
    let mut lines = Vec::new();
    loop {
        match r.read_until(delim).await {
            Ok(None) => return (lines, Vec::new()),
            Ok(Some(l)) => lines.push(l.to_vec()),
            Err(Error::UnexpectedEof { partial, expected }) => {
                assert_eq!(expected, None);
                return (lines, partial.to_vec());
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// The same lines through `peek_until` + `consume`. At an unclean end the
/// partial bytes are a copy and stay buffered, so they are checked against
/// the buffer and then consumed.
async fn all_lines_peeked<R: futures_io::AsyncRead + Unpin>(
    r: &mut StreamReader<R>,
    delim: &[u8],
) -> (Vec<Vec<u8>>, Vec<u8>) {
    let mut lines = Vec::new();
    loop {
        match r.peek_until(delim).await {
            Ok(None) => return (lines, Vec::new()),
            Ok(Some(l)) => {
                assert!(l.ends_with(delim));
                lines.push(l.to_vec());
                let used = l.len();
                r.consume(used);
            }
            Err(Error::UnexpectedEof { partial, expected }) => {
                assert_eq!(expected, None);
                assert_eq!(r.buffer(), &partial[..], "a peek consumes nothing");
                r.consume(partial.len());
                return (lines, partial.to_vec());
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn read_until_delimiter_split_at_every_offset() {
    on_both_runtimes(|| async {
        let data = b"first\r\nsecond line\r\n\r\nlast\r".to_vec();
        for cut in cuts(data.len() + 1) {
            for pending in [false, true] {
                let src = ScriptedReader::split_at(&data, &[cut], pending);
                let mut r = StreamReader::with_capacity(8, src);
                assert_eq!(
                    all_lines(&mut r, b"\r\n").await,
                    oracle_lines(&data, b"\r\n"),
                    "cut {cut}"
                );
                let src = ScriptedReader::split_at(&data, &[cut], pending);
                let mut r = StreamReader::with_capacity(8, src);
                assert_eq!(
                    all_lines_peeked(&mut r, b"\r\n").await,
                    oracle_lines(&data, b"\r\n"),
                    "peek, cut {cut}"
                );
            }
        }
    });
}

#[test]
fn read_until_self_overlapping_delimiter() {
    on_both_runtimes(|| async {
        for data in [&b"aaab"[..], b"xaabaaab", b"aab", b"aaaaaaab-aab"] {
            for (how, src) in deliveries(data) {
                let mut r = StreamReader::with_capacity(4, src);
                assert_eq!(
                    all_lines(&mut r, b"aab").await,
                    oracle_lines(data, b"aab"),
                    "{how} {data:?}"
                );
            }
        }
    });
}

#[test]
fn read_until_same_lines_under_every_delivery() {
    on_both_runtimes(|| async {
        let mut data = Vec::new();
        for i in 0..miri_or(200, 40) {
            data.extend(std::iter::repeat(b'x').take(i % 37));
            data.push(b'\n');
        }
        for (how, src) in deliveries(&data) {
            let mut r = StreamReader::with_capacity(16, src);
            assert_eq!(
                all_lines(&mut r, b"\n").await,
                oracle_lines(&data, b"\n"),
                "{how}"
            );
        }
        for (how, src) in deliveries(&data) {
            let mut r = StreamReader::with_capacity(16, src);
            assert_eq!(
                all_lines_peeked(&mut r, b"\n").await,
                oracle_lines(&data, b"\n"),
                "peek, {how}"
            );
        }
    });
}

#[test]
fn read_until_limit_exceeded_keeps_every_byte() {
    on_both_runtimes(|| async {
        let data = b"0123456789abcdef\nrest\n".to_vec();
        let src = ScriptedReader::chunked(&data, 3, true);
        let mut r = StreamReader::with_capacity(4, src).with_limit(10);
        match r.read_until(b"\n").await {
            Err(Error::LimitExceeded { limit }) => assert_eq!(limit, 10),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.buffer(), &data[..r.buffer().len()]);
        assert!(r.buffer().len() >= 10);
        // Nothing was consumed: the bytes can still be read.
        let head = r.read_exactly(17).await.unwrap();
        assert_eq!(&head[..], b"0123456789abcdef\n");
        assert_eq!(&r.read_until(b"\n").await.unwrap().unwrap()[..], b"rest\n");
    });
}

#[test]
fn read_until_delimiter_counts_toward_limit() {
    on_both_runtimes(|| async {
        // A line of exactly `limit` bytes including "\r\n" passes...
        let mut r = StreamReader::new(&b"12345678\r\n"[..]).with_limit(10);
        assert_eq!(r.read_until(b"\r\n").await.unwrap().unwrap().len(), 10);
        // ...one byte more does not, even with the delimiter straddling it.
        let mut r = StreamReader::new(&b"123456789\r\n"[..]).with_limit(10);
        assert!(matches!(
            r.read_until(b"\r\n").await,
            Err(Error::LimitExceeded { limit: 10 })
        ));
        assert_eq!(r.buffer(), b"123456789\r\n");
    });
}

#[test]
fn read_until_never_arriving_delimiter_bounded_memory() {
    on_both_runtimes(|| async {
        let data = vec![b'x'; 1 << 20];
        let src = ScriptedReader::chunked(&data, 4096, false);
        let mut r = StreamReader::with_capacity(1024, src).with_limit(10_000);
        assert!(matches!(
            r.read_until(b"\n").await,
            Err(Error::LimitExceeded { limit: 10_000 })
        ));
        // Limit plus at most one read's worth.
        assert!(
            r.buffer().len() < 10_000 + 4096,
            "buffered {}",
            r.buffer().len()
        );
    });
}

#[test]
fn read_until_long_line_one_byte_at_a_time() {
    on_both_runtimes(|| async {
        // 256 KiB line at 1 byte per read: quadratic rescanning would scan
        // ~34 G bytes and never finish; linear is 256 K bytes (Miri: 2 KiB).
        let mut data = vec![b'y'; miri_or(256 * 1024, 2 * 1024)];
        data.extend_from_slice(b"\r\n");
        let src = ScriptedReader::chunked(&data, 1, false);
        let mut r = StreamReader::new(src).with_limit(1 << 20);
        let line = r.read_until(b"\r\n").await.unwrap().unwrap();
        assert_eq!(line.len(), data.len());
    });
}

#[test]
fn read_until_empty_delimiter_is_an_error_not_a_panic() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(&b"abc"[..]);
        match r.read_until(b"").await {
            Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput),
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn read_until_switching_delimiters_restarts_the_scan() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::with_capacity(4, &b"a,b;c,d;"[..]).with_limit(3);
        // ';' is beyond the limit of 3 for the first search...
        assert!(matches!(
            r.read_until(b";").await,
            Err(Error::LimitExceeded { .. })
        ));
        // ...but ',' is found in bytes the ';' search already looked at.
        assert_eq!(&r.read_until(b",").await.unwrap().unwrap()[..], b"a,");
        assert_eq!(&r.read_until(b";").await.unwrap().unwrap()[..], b"b;");
    });
}

#[test]
fn peek_until_self_overlapping_delimiter() {
    on_both_runtimes(|| async {
        for data in [&b"aaab"[..], b"xaabaaab", b"aab", b"aaaaaaab-aab"] {
            for (how, src) in deliveries(data) {
                let mut r = StreamReader::with_capacity(4, src);
                assert_eq!(
                    all_lines_peeked(&mut r, b"aab").await,
                    oracle_lines(data, b"aab"),
                    "{how} {data:?}"
                );
            }
        }
    });
}

#[test]
fn peek_until_consumes_nothing_and_mixes_with_other_reads() {
    on_both_runtimes(|| async {
        let data = b"HEAD 5\r\nhelloNEXT\r\n".to_vec();
        let src = ScriptedReader::chunked(&data, 1, true);
        let mut r = StreamReader::with_capacity(4, src);
        // Peeking twice sees the same line: nothing was consumed.
        assert_eq!(r.peek_until(b"\r\n").await.unwrap().unwrap(), b"HEAD 5\r\n");
        assert_eq!(r.peek_until(b"\r\n").await.unwrap().unwrap(), b"HEAD 5\r\n");
        // Consume only part of it; the rest is read by other methods.
        r.consume(5);
        assert_eq!(&r.read_until(b"\r\n").await.unwrap().unwrap()[..], b"5\r\n");
        assert_eq!(&r.read_exactly(5).await.unwrap()[..], b"hello");
        assert_eq!(r.peek_until(b"\r\n").await.unwrap().unwrap(), b"NEXT\r\n");
        r.consume(6);
        assert_eq!(r.peek_until(b"\r\n").await.unwrap(), None, "clean end");
    });
}

#[test]
fn peek_until_limit_and_errors_keep_every_byte() {
    on_both_runtimes(|| async {
        let data = b"0123456789abcdef\nrest\n".to_vec();
        let src = ScriptedReader::chunked(&data, 3, true);
        let mut r = StreamReader::with_capacity(4, src).with_limit(10);
        assert!(matches!(
            r.peek_until(b"\n").await,
            Err(Error::LimitExceeded { limit: 10 })
        ));
        assert_eq!(r.buffer(), &data[..r.buffer().len()]);
        assert_eq!(
            &r.read_exactly(17).await.unwrap()[..],
            b"0123456789abcdef\n"
        );
        assert_eq!(r.peek_until(b"\n").await.unwrap().unwrap(), b"rest\n");

        // An I/O error mid-line: the bytes stay, a retry finishes the line.
        let src = ScriptedReader::new([
            Step::Data(b"par".to_vec()),
            Step::Err(std::io::ErrorKind::ConnectionReset),
            Step::Data(b"tial\n".to_vec()),
        ]);
        let mut r = StreamReader::new(src);
        assert!(matches!(r.peek_until(b"\n").await, Err(Error::Io(_))));
        assert_eq!(r.buffer(), b"par");
        assert_eq!(r.peek_until(b"\n").await.unwrap().unwrap(), b"partial\n");

        let mut r = StreamReader::new(&b"abc"[..]);
        match r.peek_until(b"").await {
            Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput),
            other => panic!("{other:?}"),
        }
        match r.peek_until(b"\n").await {
            Err(Error::UnexpectedEof { partial, .. }) => assert_eq!(&partial[..], b"abc"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            r.buffer(),
            b"abc",
            "the unclean end left the bytes buffered"
        );
    });
}

#[test]
fn peek_until_long_line_one_byte_at_a_time() {
    on_both_runtimes(|| async {
        let mut data = vec![b'y'; miri_or(256 * 1024, 2 * 1024)];
        data.extend_from_slice(b"\r\n");
        let src = ScriptedReader::chunked(&data, 1, false);
        let mut r = StreamReader::new(src).with_limit(1 << 20);
        assert_eq!(r.peek_until(b"\r\n").await.unwrap().unwrap(), &data[..]);
    });
}
