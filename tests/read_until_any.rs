//! Several alternative delimiters: `read_until_any`, `peek_until_any` and
//! `Delimited::any`, held to asyncio's rule (the delimiter that ends first
//! wins; its `readuntil` tests with a tuple of separators are written anew
//! here), through every delivery, EOF at every offset, cancellation at
//! every poll, and random inputs against an oracle.
mod common;

use common::*;
use futures_lite::StreamExt;
use intake::frame::{Delimited, FramedRead};
use intake::{Error, StreamReader};
use proptest::prelude::*;

/// The oracle: split `data` into lines, each ending at the first position
/// where any delimiter ends; the rest (if any) is the unterminated tail.
fn oracle(delims: &[&[u8]], data: &[u8]) -> (Vec<Vec<u8>>, Vec<u8>) {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut end = start;
    while end < data.len() {
        end += 1;
        if delims.iter().any(|d| data[start..end].ends_with(d)) {
            lines.push(data[start..end].to_vec());
            start = end;
        }
    }
    (lines, data[start..].to_vec())
}

async fn read_all(
    r: &mut StreamReader<ScriptedReader>,
    delims: &[&[u8]],
) -> (Vec<Vec<u8>>, Vec<u8>) {
    let mut lines = Vec::new();
    loop {
        match r.read_until_any(delims).await {
            Ok(Some(line)) => lines.push(line.to_vec()),
            Ok(None) => return (lines, Vec::new()),
            Err(Error::UnexpectedEof { partial, .. }) => return (lines, partial.to_vec()),
            Err(e) => panic!("{e:?}"),
        }
    }
}

#[test]
fn asyncio_separator_tuples() {
    on_both_runtimes(|| async {
        // Each line ends at the first separator to end.
        let mut r = StreamReader::new(&b"line 1\nline 2\r"[..]);
        let cr_lf: &[&[u8]] = &[b"\r", b"\n"];
        assert_eq!(
            r.read_until_any(cr_lf).await.unwrap().as_deref(),
            Some(&b"line 1\n"[..])
        );
        assert_eq!(
            r.read_until_any(cr_lf).await.unwrap().as_deref(),
            Some(&b"line 2\r"[..])
        );
        assert!(r.buffer().is_empty());
        // The first end wins, even for the longer separator.
        let mut r = StreamReader::new(&b"ABCDEFG"[..]);
        let seps: &[&[u8]] = &[b"DEF", b"BCDE"];
        assert_eq!(
            r.read_until_any(seps).await.unwrap().as_deref(),
            Some(&b"ABCDE"[..])
        );
        assert_eq!(r.buffer(), b"FG");
        // No separator ends within the limit: nothing is consumed.
        let mut r = StreamReader::new(&b"some dataA"[..]).with_limit(3);
        let seps: &[&[u8]] = &[b"A", b"ome dataA"];
        assert!(matches!(
            r.read_until_any(seps).await,
            Err(Error::LimitExceeded { limit: 3 })
        ));
        assert_eq!(r.buffer(), b"some dataA");
        // Bytes arrive in pieces shorter than the longest separator.
        let src = ScriptedReader::new([
            Step::Data(b"data".to_vec()),
            Step::Pending,
            Step::Data(b"Z".to_vec()),
            Step::Pending,
            Step::Data(b"Aaaa".to_vec()),
        ]);
        let mut r = StreamReader::new(src);
        let seps: &[&[u8]] = &[b"A", b"long sep"];
        assert_eq!(
            r.read_until_any(seps).await.unwrap().as_deref(),
            Some(&b"dataZA"[..])
        );
        assert_eq!(r.buffer(), b"aaa");
    });
}

const DELIM_SETS: [&[&[u8]]; 4] = [
    &[b"\r\n", b"\n"],
    &[b",", b";", b"|", b"\t"],
    &[b"--end", b"\r\n\r\n", b"x"],
    &[b"aab", b"ab"],
];

#[test]
fn every_delivery_and_capacity_against_the_oracle() {
    on_both_runtimes(|| async {
        let data: &[u8] = b"GET /\r\nHost: a\n\r\nk,v;w|z\tq--end aaab abxx\r\n\r\ntail";
        for delims in DELIM_SETS {
            let want = oracle(delims, data);
            for cap in [1usize, 3, 16, 8192] {
                for (how, src) in deliveries(data) {
                    let mut r = StreamReader::with_capacity(cap, src);
                    assert_eq!(
                        read_all(&mut r, delims).await,
                        want,
                        "{delims:?} {how} cap {cap}"
                    );
                }
            }
        }
    });
}

#[test]
fn end_of_stream_at_every_offset() {
    on_both_runtimes(|| async {
        let data: &[u8] = b"a\r\nbb\ncc\r";
        let delims: &[&[u8]] = &[b"\r\n", b"\n"];
        for cut in cuts(data.len() + 1) {
            let src = ScriptedReader::chunked(&data[..cut], 1, true);
            let mut r = StreamReader::with_capacity(2, src);
            assert_eq!(
                read_all(&mut r, delims).await,
                oracle(delims, &data[..cut]),
                "cut {cut}"
            );
        }
    });
}

#[test]
fn cancellation_at_every_poll_loses_nothing() {
    on_both_runtimes(|| async {
        let data: &[u8] = b"one;two,three;;four";
        let delims: &[&[u8]] = &[b";", b","];
        for k in 1..miri_or(30, 8) {
            let mut r = StreamReader::with_capacity(2, ScriptedReader::chunked(data, 1, true));
            let mut lines = Vec::new();
            loop {
                match poll_at_most(r.read_until_any(delims), k) {
                    Some(Ok(Some(line))) => lines.push(line.to_vec()),
                    Some(Ok(None)) => break,
                    Some(Err(Error::UnexpectedEof { partial, .. })) => {
                        lines.push(partial.to_vec());
                        break;
                    }
                    Some(Err(e)) => panic!("{e:?}"),
                    None => {}
                }
            }
            let (mut want, tail) = oracle(delims, data);
            want.push(tail);
            assert_eq!(lines, want, "k {k}");
        }
    });
}

#[test]
fn peek_until_any_borrows_and_consumes_nothing() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::with_capacity(4, ScriptedReader::chunked(b"ab\ncd\r\n", 2, true));
        let delims: &[&[u8]] = &[b"\r\n", b"\n"];
        assert_eq!(r.peek_until_any(delims).await.unwrap(), Some(&b"ab\n"[..]));
        assert_eq!(
            r.peek_until_any(delims).await.unwrap(),
            Some(&b"ab\n"[..]),
            "not consumed"
        );
        r.consume(3);
        assert_eq!(
            r.peek_until_any(delims).await.unwrap(),
            Some(&b"cd\r\n"[..])
        );
        r.consume(4);
        assert!(r.peek_until_any(delims).await.unwrap().is_none());
    });
}

#[test]
fn empty_delimiters_are_invalid_input() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(&b"abc"[..]);
        for bad in [&[][..], &[&b""[..], b"a"][..]] {
            match r.read_until_any(bad).await {
                Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            r.read_until_any(&[b"c"]).await.unwrap().as_deref(),
            Some(&b"abc"[..])
        );
    });
}

#[test]
fn inside_a_bounded_view_no_delimiter_past_its_end_is_found() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(&b"ab;cd;ef"[..]);
        let mut view = r.limited(4);
        assert_eq!(
            view.read_until_any(&[b";", b","]).await.unwrap().as_deref(),
            Some(&b"ab;"[..])
        );
        assert!(matches!(
            view.read_until_any(&[b";", b","]).await,
            Err(Error::UnexpectedEof { .. })
        ));
        drop(view);
        assert_eq!(
            r.read_until_any(&[b";"]).await.unwrap().as_deref(),
            Some(&b"d;"[..])
        );
    });
}

#[test]
fn delimited_any_frames_strip_the_delimiter_that_ended_them() {
    on_both_runtimes(|| async {
        let wire = b"a,b;;c\r\nd\n";
        for (how, src) in deliveries(wire) {
            let decoder = Delimited::any(&[b",", b";", b"\r\n", b"\n"]).strip_delimiter();
            let frames: Vec<_> =
                FramedRead::from_reader(StreamReader::with_capacity(2, src), decoder)
                    .map(|f| f.unwrap().to_vec())
                    .collect()
                    .await;
            let want: Vec<&[u8]> = vec![b"a", b"b", b"", b"c", b"d"];
            assert_eq!(frames, want, "{how}");
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(miri_or(128, 3) as u32))]

    #[test]
    fn random_inputs_and_partitions_match_the_oracle(
        data in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b'\r'), Just(b'\n'), Just(b';')], 0..120),
        cuts in proptest::collection::vec(0usize..120, 0..12),
        set in 0usize..DELIM_SETS.len() + 1,
    ) {
        let extra: &[&[u8]] = &[b"ab", b"\r\n", b";;", b"b\r"];
        let delims = DELIM_SETS.get(set).copied().unwrap_or(extra);
        let mut cuts = cuts;
        cuts.sort_unstable();
        let src = ScriptedReader::split_at(&data, &cuts, true);
        let got = futures_lite::future::block_on(async {
            let mut r = StreamReader::with_capacity(3, src);
            read_all(&mut r, delims).await
        });
        prop_assert_eq!(got, oracle(delims, &data));
    }
}
