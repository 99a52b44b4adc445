//! Going on after bad input, as tokio-util, Netty and asyncio users expect:
//! over-long lines discarded and reported once, CRLF or LF endings, a last
//! line without an ending, oversized length-prefixed frames skipped.
mod common;

use common::*;
use futures_lite::StreamExt;
use intake::frame::{Delimited, FramedRead};
use intake::{Error, LengthPrefix, StreamReader};

/// Every item of a framed stream, errors as `Err(message)`.
async fn collect<S>(mut s: S) -> Vec<Result<Vec<u8>, String>>
where
    S: futures_core::Stream<Item = Result<bytes::Bytes, Error>> + Unpin,
{
    let mut out = Vec::new();
    while let Some(item) = s.next().await {
        out.push(item.map(|b| b.to_vec()).map_err(|e| e.to_string()));
    }
    out
}

fn ok(s: &[u8]) -> Result<Vec<u8>, String> {
    Ok(s.to_vec())
}

fn limit(n: usize) -> Result<Vec<u8>, String> {
    Err(Error::LimitExceeded { limit: n }.to_string())
}

#[test]
fn text_lines_strip_either_ending_under_every_delivery() {
    on_both_runtimes(|| async {
        let wire = b"GET / HTTP/1.1\r\nHost: x\n\r\n\nlast\r";
        for (how, src) in deliveries(wire) {
            let lines = FramedRead::from_reader(
                StreamReader::with_capacity(4, src),
                Delimited::lines().strip_line_ending(),
            );
            let got = collect(lines).await;
            let want = [ok(b"GET / HTTP/1.1"), ok(b"Host: x"), ok(b""), ok(b"")];
            assert_eq!(got[..4], want[..], "{how}");
            // Without allow_unterminated, the last bytes are an error
            // carrying them.
            assert_eq!(got.len(), 5, "{how}");
            assert!(
                got[4].as_ref().unwrap_err().contains("stream ended"),
                "{how}"
            );
        }
    });
}

#[test]
fn unterminated_last_line_is_returned_at_every_cut() {
    on_both_runtimes(|| async {
        let wire = b"one\r\ntwo\nthree";
        for cut in cuts(wire.len() + 1) {
            let src = ScriptedReader::split_at(wire, &[cut], true);
            let lines = FramedRead::new(src, Delimited::text_lines());
            let got = collect(lines).await;
            assert_eq!(got, vec![ok(b"one"), ok(b"two"), ok(b"three")], "cut {cut}");
        }
        // A final bare "\r" before the end is stripped as part of a CRLF.
        let lines = FramedRead::new(&b"x\r"[..], Delimited::text_lines());
        assert_eq!(collect(lines).await, vec![ok(b"x")]);
        // Nothing after the last ending: no extra empty line.
        let lines = FramedRead::new(&b"x\n"[..], Delimited::text_lines());
        assert_eq!(collect(lines).await, vec![ok(b"x")]);
    });
}

#[test]
fn overlong_lines_are_reported_once_and_skipped_under_every_delivery() {
    on_both_runtimes(|| async {
        let long = "y".repeat(100);
        let wire = format!("short\n{long}\nok\r\n{long}{long}\r\nend\n{long}");
        for (how, src) in deliveries(wire.as_bytes()) {
            let decoder = Delimited::text_lines().max_length(16);
            let lines = FramedRead::from_reader(StreamReader::with_capacity(8, src), decoder);
            let got = collect(lines).await;
            let want = vec![
                ok(b"short"),
                limit(16),
                ok(b"ok"),
                limit(16),
                ok(b"end"),
                limit(16),
            ];
            assert_eq!(got, want, "{how}");
        }
    });
}

#[test]
fn overlong_line_with_a_multi_byte_delimiter_split_at_every_offset() {
    on_both_runtimes(|| async {
        let wire = b"0123456789ab\r\nok\r\n";
        for cut in cuts(wire.len() + 1) {
            let src = ScriptedReader::split_at(wire, &[cut, cut + 1], true);
            let decoder = Delimited::new(b"\r\n")
                .strip_delimiter()
                .max_length(8)
                .discard_overlong();
            let got = collect(FramedRead::from_reader(
                StreamReader::with_capacity(4, src),
                decoder,
            ))
            .await;
            assert_eq!(got, vec![limit(8), ok(b"ok")], "cut {cut}");
        }
    });
}

#[test]
fn decode_goes_on_after_a_discarded_line_without_framed_read() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(&b"far too long\nab\n"[..]);
        let mut d = Delimited::lines().max_length(4).discard_overlong();
        assert!(matches!(
            r.decode(&mut d).await,
            Err(Error::LimitExceeded { limit: 4 })
        ));
        assert_eq!(
            r.decode(&mut d).await.unwrap().as_deref(),
            Some(&b"ab\n"[..])
        );
        assert_eq!(r.decode(&mut d).await.unwrap(), None);
    });
}

#[test]
fn without_discard_the_stream_still_ends_at_an_overlong_line() {
    on_both_runtimes(|| async {
        let lines = FramedRead::new(&b"far too long\nab\n"[..], Delimited::lines().max_length(4));
        assert_eq!(collect(lines).await, vec![limit(4)]);
    });
}

#[test]
fn skip_until_discards_through_the_delimiter_under_every_delivery() {
    on_both_runtimes(|| async {
        let wire = b"a long long line\r\nnext\r\n";
        for (how, src) in deliveries(wire) {
            let mut r = StreamReader::with_capacity(4, src).with_limit(8);
            assert!(
                matches!(
                    r.read_until(b"\r\n").await,
                    Err(Error::LimitExceeded { limit: 8 })
                ),
                "{how}"
            );
            assert_eq!(r.skip_until(b"\r\n").await.unwrap(), Some(18), "{how}");
            assert_eq!(
                r.read_until(b"\r\n").await.unwrap().as_deref(),
                Some(&b"next\r\n"[..])
            );
            assert_eq!(
                r.skip_until(b"\r\n").await.unwrap(),
                None,
                "{how}: clean end"
            );
        }
    });
}

#[test]
fn skip_until_at_the_end_of_stream_at_every_offset() {
    on_both_runtimes(|| async {
        let wire = b"abc\r\n";
        for cut in 1..wire.len() {
            let mut r = StreamReader::new(ScriptedReader::chunked(&wire[..cut], 1, true));
            match r.skip_until(b"\r\n").await {
                Err(Error::UnexpectedEof { partial, expected }) => {
                    assert!(partial.is_empty() && expected.is_none(), "cut {cut}")
                }
                other => panic!("cut {cut}: {other:?}"),
            }
            assert!(r.buffer().is_empty());
        }
    });
}

#[test]
fn cancel_skip_until_at_every_poll_never_consumes_past_the_line() {
    on_both_runtimes(|| async {
        let wire = b"xxxxxxxxxxxxxxxxxxxx\nkeep\n";
        for k in 0..60 {
            let mut r = StreamReader::with_capacity(4, ScriptedReader::chunked(wire, 3, true));
            // Dropped unfinished, a second call finishes the same line.
            if poll_at_most(r.skip_until(b"\n"), k).is_none() {
                r.skip_until(b"\n").await.unwrap();
            }
            assert_eq!(
                r.read_until(b"\n").await.unwrap().as_deref(),
                Some(&b"keep\n"[..]),
                "k {k}"
            );
        }
    });
}

fn framed(prefix: &LengthPrefix, payloads: &[&[u8]]) -> Vec<u8> {
    let mut wire = Vec::new();
    for p in payloads {
        let wide = LengthPrefix::new(prefix.width().unwrap()).max_frame_len(usize::MAX);
        wire.extend_from_slice(wide.encode_header(p.len()).unwrap().as_ref());
        wire.extend_from_slice(p);
    }
    wire
}

#[test]
fn skip_frame_skips_an_oversized_frame_under_every_delivery() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(2).max_frame_len(8);
        let big = vec![9u8; 1000];
        let wire = framed(&prefix, &[b"a", &big, b"b"]);
        for (how, src) in deliveries(&wire) {
            let mut r = StreamReader::with_capacity(16, src);
            assert_eq!(
                r.read_frame(&prefix).await.unwrap().as_deref(),
                Some(&b"a"[..])
            );
            match r.read_frame(&prefix).await {
                Err(Error::FrameTooLarge { len: 1000, max: 8 }) => {}
                other => panic!("{how}: {other:?}"),
            }
            assert_eq!(r.skip_frame(&prefix).await.unwrap(), Some(1000), "{how}");
            assert_eq!(
                r.read_frame(&prefix).await.unwrap().as_deref(),
                Some(&b"b"[..])
            );
            assert_eq!(
                r.skip_frame(&prefix).await.unwrap(),
                None,
                "{how}: clean end"
            );
        }
    });
}

#[test]
fn skip_frame_at_the_end_of_stream_at_every_offset() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(4).max_frame_len(2);
        let wire = framed(&prefix, &[b"0123456789"]);
        for cut in 1..wire.len() {
            let mut r = StreamReader::new(ScriptedReader::chunked(&wire[..cut], 1, true));
            match r.skip_frame(&prefix).await {
                Err(Error::UnexpectedEof { partial, expected }) if cut < 4 => {
                    assert_eq!(&partial[..], &wire[..cut]);
                    assert_eq!(expected, None);
                }
                Err(Error::UnexpectedEof { partial, expected }) => {
                    assert!(partial.is_empty());
                    assert_eq!(expected, Some(wire.len() - cut), "cut {cut}");
                }
                other => panic!("cut {cut}: {other:?}"),
            }
        }
    });
}

#[test]
fn framed_read_skip_oversized_reports_each_once_and_goes_on() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(2).max_frame_len(8);
        let big = vec![7u8; 300];
        let wire = framed(&prefix, &[b"one", &big, b"two", &big, &big, b"", b"three"]);
        for (how, src) in deliveries(&wire) {
            let frames = FramedRead::from_reader(StreamReader::with_capacity(8, src), prefix)
                .skip_oversized();
            let too_large = Err(Error::FrameTooLarge { len: 300, max: 8 }.to_string());
            let want = vec![
                ok(b"one"),
                too_large.clone(),
                ok(b"two"),
                too_large.clone(),
                too_large,
                ok(b""),
                ok(b"three"),
            ];
            assert_eq!(collect(frames).await, want, "{how}");
        }
    });
}

#[test]
fn cancel_framed_read_skip_oversized_at_every_poll() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(1).max_frame_len(4);
        let big = vec![1u8; 40];
        let wire = framed(&prefix, &[b"a", &big, b"b"]);
        for k in 0..40 {
            let src = ScriptedReader::chunked(&wire, 5, true);
            let mut frames = FramedRead::from_reader(StreamReader::with_capacity(4, src), prefix)
                .skip_oversized();
            let mut got = Vec::new();
            loop {
                // Drop the first `next()` after k polls, then take it whole.
                let item = match poll_at_most(frames.next(), k) {
                    Some(item) => item,
                    None => frames.next().await,
                };
                match item {
                    Some(item) => got.push(item.map(|b| b.to_vec()).map_err(|e| e.to_string())),
                    None => break,
                }
            }
            let too_large = Err(Error::FrameTooLarge { len: 40, max: 4 }.to_string());
            assert_eq!(got, vec![ok(b"a"), too_large, ok(b"b")], "k {k}");
        }
    });
}
