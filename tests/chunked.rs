//! `chunked`: an HTTP/1.1 chunked body as a view of a reader, decoded in
//! place on its buffer. Through every delivery and capacity, end of stream
//! at every offset, bad framing, cancellation at every poll, nesting with
//! `limited`, the futures-io, tokio and compio paths, and a property test
//! against the body's data as an oracle.
mod common;

use common::*;
use intake::io::Source;
use intake::{Error, LengthPrefix, StreamReader};
use proptest::prelude::*;

/// `data` in chunks of the given sizes (cycled; the rest in one chunk),
/// with an extension on every other size line, the last chunk with a
/// trailer field, then `after`.
fn encode(data: &[u8], sizes: &[usize], after: &[u8]) -> Vec<u8> {
    let mut wire = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < data.len() {
        let n = sizes
            .get(i % sizes.len().max(1))
            .copied()
            .unwrap_or(data.len())
            .clamp(1, data.len() - at);
        if i % 2 == 0 {
            wire.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        } else {
            wire.extend_from_slice(format!("{n:X};name=\"v\"\r\n").as_bytes());
        }
        wire.extend_from_slice(&data[at..at + n]);
        wire.extend_from_slice(b"\r\n");
        at += n;
        i += 1;
    }
    wire.extend_from_slice(b"0\r\nDigest: x\r\n\r\n");
    wire.extend_from_slice(after);
    wire
}

/// Everything the view yields, by `AsyncRead`.
async fn body_of<R: Source + Unpin>(r: &mut StreamReader<R>) -> Result<Vec<u8>, std::io::Error> {
    let mut body = r.chunked();
    let mut all = Vec::new();
    futures_lite::AsyncReadExt::read_to_end(&mut body, &mut all).await?;
    assert!(body.at_eof());
    Ok(all)
}

#[test]
fn a_body_reads_as_its_data_under_every_delivery() {
    on_both_runtimes(|| async {
        let data = pattern(300, 1);
        let wire = encode(&data, &[1, 7, 64, 2, 100], b"NEXT");
        for cap in [1usize, 4, 64, 8192] {
            for (how, src) in deliveries(&wire) {
                let mut r = StreamReader::with_capacity(cap, src);
                assert_eq!(body_of(&mut r).await.unwrap(), data, "{how} cap {cap}");
                // The reader goes on right after the body, trailers skipped.
                assert_eq!(&r.read_exactly(4).await.unwrap()[..], b"NEXT", "{how}");
                assert!(r.at_eof() || r.read_until(b"\n").await.unwrap().is_none());
            }
        }
    });
}

#[test]
fn items_spanning_chunks_leave_whole_and_searches_never_see_framing() {
    on_both_runtimes(|| async {
        // Lines and length-prefixed frames, cut into chunks across them.
        let mut data = Vec::new();
        let prefix = LengthPrefix::new(2);
        for i in 0..20u8 {
            let payload = vec![b'a' + i % 26; 1 + (i as usize * 13) % 90];
            data.extend_from_slice(&(payload.len() as u16).to_be_bytes());
            data.extend_from_slice(&payload);
            data.extend_from_slice(format!("line {i}\r\n").as_bytes());
        }
        let wire = encode(&data, &[3, 50, 1, 17], b"");
        for cap in [8usize, 8192] {
            for (how, src) in deliveries(&wire) {
                let mut r = StreamReader::with_capacity(cap, src);
                let mut body = r.chunked();
                for i in 0..20u8 {
                    let frame = body.read_frame(&prefix).await.unwrap().unwrap();
                    assert_eq!(frame.len(), 1 + (i as usize * 13) % 90, "{how}");
                    assert!(frame.iter().all(|&b| b == b'a' + i % 26), "{how} frame {i}");
                    let line = body.read_until(b"\r\n").await.unwrap().unwrap();
                    assert_eq!(line, format!("line {i}\r\n").as_bytes(), "{how} cap {cap}");
                }
                assert!(body.read_frame(&prefix).await.unwrap().is_none(), "{how}");
            }
        }
    });
}

#[test]
fn copy_until_inside_a_chunked_multipart_body() {
    on_both_runtimes(|| async {
        // What a browser or `curl -F -H 'Transfer-Encoding: chunked'` sends:
        // a form whose parts cross chunk boundaries.
        let file = pattern(miri_or(20_000, 2_000), 7);
        let mut form =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n".to_vec();
        form.extend_from_slice(&file);
        form.extend_from_slice(b"\r\n--XyZ--\r\n");
        let wire = encode(&form, &[1000, 37, 4096], b"GET /");
        for (how, src) in deliveries(&wire) {
            let mut r = StreamReader::with_capacity(512, src);
            let mut body = r.chunked();
            assert!(body.skip_until(b"\r\n\r\n").await.unwrap().is_some());
            let mut out = Vec::new();
            let n = body.copy_until(b"\r\n--XyZ", &mut out).await.unwrap();
            assert_eq!(n, Some(file.len() as u64), "{how}");
            assert_eq!(out, file, "{how}");
            assert_eq!(&body.read_exactly(4).await.unwrap()[..], b"--\r\n");
            body.skip_rest().await.unwrap();
            drop(body);
            assert_eq!(&r.read_exactly(5).await.unwrap()[..], b"GET /", "{how}");
        }
    });
}

#[test]
fn views_nest_both_ways() {
    on_both_runtimes(|| async {
        let data = b"part one|part two|rest".to_vec();
        let wire = encode(&data, &[5, 3, 9], b"tail");
        // `limited` inside `chunked`: counts data bytes, across chunks.
        let mut r = StreamReader::new(&wire[..]);
        let mut body = r.chunked();
        let mut part = body.limited(8);
        // No `|` inside the part: its end cuts the search.
        assert!(matches!(
            part.peek_until(b"|").await,
            Err(Error::UnexpectedEof { .. })
        ));
        assert_eq!(part.remaining(), 8);
        assert_eq!(&part.read_exactly(8).await.unwrap()[..], b"part one");
        assert!(part.at_eof());
        drop(part);
        assert_eq!(&body.read_exactly(1).await.unwrap()[..], b"|");
        let mut part = body.limited(8);
        part.skip_rest().await.unwrap();
        drop(part);
        let mut rest = Vec::new();
        futures_lite::AsyncReadExt::read_to_end(&mut body, &mut rest)
            .await
            .unwrap();
        assert_eq!(rest, b"|rest");
        drop(body);
        assert_eq!(&r.read_exactly(4).await.unwrap()[..], b"tail");

        // `chunked` inside `limited`: the body ends before the view does.
        let mut r = StreamReader::new(&wire[..]);
        let mut outer = r.limited(wire.len() as u64 - 2);
        assert_eq!(body_of(&mut outer).await.unwrap(), data);
        assert_eq!(outer.remaining(), 2);
        assert_eq!(&outer.read_exactly(2).await.unwrap()[..], b"ta");
        assert!(outer.at_eof());
        drop(outer);
        assert_eq!(&r.read_exactly(2).await.unwrap()[..], b"il");

        // `chunked` inside a `limited` that ends inside the body.
        let mut r = StreamReader::new(&wire[..]);
        let mut outer = r.limited(20);
        let e = body_of(&mut outer).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
        drop(outer);
        assert_eq!(
            r.read_exactly(1).await.unwrap().len(),
            1,
            "the reader goes on"
        );
    });
}

#[test]
fn end_of_stream_at_every_offset_is_an_error_until_the_last_chunk() {
    on_both_runtimes(|| async {
        let data = pattern(40, 3);
        let wire = encode(&data, &[1, 9, 13], b"");
        for cut in cuts(wire.len()) {
            for pending in [false, true] {
                let src = ScriptedReader::chunked(&wire[..cut], 3, pending);
                let mut r = StreamReader::with_capacity(4, src);
                let e = body_of(&mut r).await.unwrap_err();
                assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "cut at {cut}");
                // Every data byte before the cut was readable first.
                let src = ScriptedReader::chunked(&wire[..cut], 3, pending);
                let mut r = StreamReader::with_capacity(4, src);
                let mut body = r.chunked();
                let mut got = Vec::new();
                loop {
                    match body.read_exactly(1).await {
                        Ok(b) => got.extend_from_slice(&b),
                        Err(Error::Io(e)) => {
                            assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
                            break;
                        }
                        Err(e) => panic!("cut at {cut}: {e:?}"),
                    }
                }
                assert_eq!(got, data[..got.len()], "cut at {cut}");
            }
        }
        let src = ScriptedReader::chunked(&wire, 3, true);
        let mut r = StreamReader::with_capacity(4, src);
        assert_eq!(body_of(&mut r).await.unwrap(), data);
    });
}

#[test]
fn bad_framing_is_invalid_data_and_stays_so() {
    on_both_runtimes(|| async {
        let cases: &[&[u8]] = &[
            b"zz\r\nabc",
            b"3\r\nabcX\r\n0\r\n\r\n",        // data longer than its size
            b"3\r\nabc\r\n0\r\n\x01\r\n\r\n", // a bad trailer
            b"-3\r\nabc\r\n",
        ];
        for &wire in cases {
            for (how, src) in deliveries(wire) {
                let mut r = StreamReader::with_capacity(4, src);
                let mut body = r.chunked();
                let mut all = Vec::new();
                let e = futures_lite::AsyncReadExt::read_to_end(&mut body, &mut all)
                    .await
                    .unwrap_err();
                assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{how} {wire:?}");
                // Sticky: the same error, no busy loop, no panic.
                match body.read_exactly(1).await {
                    Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::InvalidData),
                    other => panic!("{how}: {other:?}"),
                }
            }
        }
    });
}

#[test]
fn a_size_line_that_never_ends_is_refused_with_bounded_memory() {
    on_both_runtimes(|| async {
        // 1 MiB of chunk extension: refused once 16 KiB of it are buffered.
        let mut wire = b"1;".to_vec();
        wire.resize(miri_or(1 << 20, 40 << 10), b'x');
        let src = ScriptedReader::chunked(&wire, 1000, false);
        let mut r = StreamReader::new(src);
        let mut body = r.chunked();
        match body.read_exactly(1).await {
            Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::InvalidData),
            other => panic!("{other:?}"),
        }
        assert!(body.buffer().is_empty());
        drop(body);
        assert!(
            r.buffer().len() < 32 * 1024,
            "buffered {}",
            r.buffer().len()
        );
    });
}

#[test]
fn cancellation_at_every_poll_loses_nothing() {
    on_both_runtimes(|| async {
        let data = pattern(200, 5);
        let wire = encode(&data, &[1, 30, 7], b"");
        for k in 1..miri_or(12, 6) {
            let src = ScriptedReader::chunked(&wire, 5, true);
            let mut r = StreamReader::with_capacity(16, src);
            let mut body = r.chunked();
            let mut got = Vec::new();
            while got.len() < data.len() {
                let want = (data.len() - got.len()).min(45);
                // Cancelled after k polls, then read again.
                if let Some(res) = poll_at_most(Box::pin(body.read_exactly(want)), k) {
                    got.extend_from_slice(&res.unwrap());
                } else {
                    let res = body.read_exactly(want).await.unwrap();
                    got.extend_from_slice(&res);
                }
            }
            assert_eq!(got, data, "k = {k}");
            assert!(body.read_exactly(1).await.is_err());
            assert!(body.at_eof());
        }
        // `skip_rest` cancelled after every poll count, then called again:
        // the reader ends up right after the body.
        let wire = encode(&data, &[1, 30, 7], b"NEXT");
        for k in 1..miri_or(12, 6) {
            let src = ScriptedReader::chunked(&wire, 5, true);
            let mut r = StreamReader::with_capacity(16, src);
            let mut body = r.chunked();
            body.read_exactly(3).await.unwrap();
            let _ = poll_at_most(body.skip_rest(), k);
            body.skip_rest().await.unwrap();
            assert!(body.at_eof(), "k = {k}");
            drop(body);
            assert_eq!(&r.read_exactly(4).await.unwrap()[..], b"NEXT", "k = {k}");
        }
    });
}

#[test]
fn a_search_the_reader_began_before_the_view_starts_again_inside_it() {
    on_both_runtimes(|| async {
        // `ab` is split by a chunk head: not in the bytes as sent, but in
        // the body's data. A search of the raw bytes (which fails) must
        // not count as a search of the data once the framing is cut out.
        let wire = b"3\r\nxxa\r\n1\r\nb\r\n0\r\n\r\n";
        let mut r = StreamReader::new(&wire[..]);
        assert!(matches!(
            r.peek_until(b"ab").await,
            Err(Error::UnexpectedEof { .. })
        ));
        let mut body = r.chunked();
        assert_eq!(
            body.read_until(b"ab").await.unwrap().as_deref(),
            Some(&b"xxab"[..])
        );
        // And the other way: a search inside the view, then the reader.
        let wire = b"2\r\nxy\r\n0\r\n\r\nzzab";
        let mut r = StreamReader::new(&wire[..]);
        let mut body = r.chunked();
        assert!(matches!(
            body.peek_until(b"ab").await,
            Err(Error::UnexpectedEof { .. })
        ));
        body.consume(0);
        drop(body);
        assert_eq!(
            r.read_until(b"ab").await.unwrap().as_deref(),
            Some(&b"xyzzab"[..])
        );
    });
}

#[test]
fn a_chunked_view_inside_another_fails_its_reads() {
    on_both_runtimes(|| async {
        let wire = encode(b"abc", &[3], b"");
        let mut r = StreamReader::new(&wire[..]);
        let mut outer = r.chunked();
        let mut inner = outer.chunked();
        match inner.read_exactly(1).await {
            Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput),
            other => panic!("{other:?}"),
        }
        drop(inner);
        assert_eq!(&outer.read_exactly(3).await.unwrap()[..], b"abc");
    });
}

#[test]
fn a_large_body_moves_each_byte_once_and_frames_stay_in_one_buffer() {
    on_both_runtimes(|| async {
        // 4 MiB in 1 KiB chunks, read as one frame: a zero-copy slice.
        let data = pattern(miri_or(4 << 20, 64 << 10), 9);
        let mut inner = (data.len() as u32).to_be_bytes().to_vec();
        inner.extend_from_slice(&data);
        let wire = encode(&inner, &[1024], b"");
        let mut r = StreamReader::new(&wire[..]);
        let mut body = r.chunked();
        let prefix = LengthPrefix::new(4).max_frame_len(8 << 20);
        let frame = body.read_frame(&prefix).await.unwrap().unwrap();
        assert!(frame == data);
        assert!(body.read_frame(&prefix).await.unwrap().is_none());
    });
}

#[cfg(feature = "tokio")]
#[test]
fn through_tokio_reads_into_uninitialized_memory() {
    on_both_runtimes(|| async {
        let data = pattern(3000, 11);
        let wire = encode(&data, &[1, 500, 33], b"END");
        for (how, src) in deliveries(&wire) {
            let mut r = StreamReader::with_capacity(64, via_tokio(src));
            assert_eq!(body_of(&mut r).await.unwrap(), data, "{how}");
            assert_eq!(&r.read_exactly(3).await.unwrap()[..], b"END");
        }
    });
}

#[cfg(feature = "compio")]
#[test]
fn through_compio_the_lent_tail_comes_back_before_heads_are_cut() {
    compio_runtime().block_on(async {
        let data = pattern(3000, 13);
        let wire = encode(&data, &[1, 500, 33], b"END");
        for (how, src) in deliveries(&wire) {
            let mut r = StreamReader::with_capacity(64, via_compio(src));
            assert_eq!(body_of(&mut r).await.unwrap(), data, "{how}");
            assert_eq!(&r.read_exactly(3).await.unwrap()[..], b"END");
        }
        // Cancelled reads leave a read in flight over the framing.
        for k in 1..8 {
            let src = ScriptedReader::chunked(&wire, 7, true);
            let mut r = StreamReader::with_capacity(32, via_compio(src));
            let mut body = r.chunked();
            let mut got = Vec::new();
            while got.len() < data.len() {
                let want = (data.len() - got.len()).min(100);
                match poll_at_most(Box::pin(body.read_exactly(want)), k) {
                    Some(res) => got.extend_from_slice(&res.unwrap()),
                    None => got.extend_from_slice(&body.read_exactly(want).await.unwrap()),
                }
            }
            assert_eq!(got, data, "k = {k}");
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 }))]

    /// Any body, any chunking, any delivery, any mix of reads: the same
    /// bytes as reading the data itself.
    #[test]
    fn reads_match_the_data(
        data in proptest::collection::vec(any::<u8>(), 0..600),
        sizes in proptest::collection::vec(1usize..80, 1..6),
        delivery in 1usize..50,
        pending in any::<bool>(),
        cap in 1usize..100,
        ops in proptest::collection::vec((0u8..4, 1usize..60), 1..40),
    ) {
        let wire = encode(&data, &sizes, b"AFTER");
        futures_lite::future::block_on(async {
            let src = ScriptedReader::chunked(&wire, delivery, pending);
            let mut r = StreamReader::with_capacity(cap, src);
            let mut body = r.chunked();
            let mut at = 0;
            for &(op, n) in &ops {
                let rest = &data[at..];
                match op {
                    0 => match body.read_exactly(n).await {
                        Ok(b) => { prop_assert_eq!(&b[..], &rest[..n]); at += n; }
                        Err(Error::UnexpectedEof { partial, .. }) => {
                            prop_assert!(n > rest.len());
                            prop_assert_eq!(&partial[..], rest);
                            at = data.len();
                        }
                        Err(e) => prop_assert!(false, "{:?}", e),
                    },
                    1 => {
                        let delim = [data.get(at + n % 7).copied().unwrap_or(0)];
                        match body.read_until(&delim[..]).await {
                            Ok(Some(line)) => {
                                let end = memchr::memchr(delim[0], rest).unwrap() + 1;
                                prop_assert_eq!(&line[..], &rest[..end]);
                                at += end;
                            }
                            Ok(None) => prop_assert!(rest.is_empty()),
                            Err(Error::UnexpectedEof { partial, .. }) => {
                                prop_assert_eq!(&partial[..], rest);
                                at = data.len();
                            }
                            Err(e) => prop_assert!(false, "{:?}", e),
                        }
                    }
                    2 => {
                        let mut buf = vec![0; n];
                        let got = futures_lite::AsyncReadExt::read(&mut body, &mut buf).await.unwrap();
                        prop_assert_eq!(&buf[..got], &rest[..got]);
                        prop_assert!(got > 0 || rest.is_empty());
                        at += got;
                    }
                    _ => {
                        let got = futures_lite::AsyncBufReadExt::fill_buf(&mut body).await.unwrap().to_vec();
                        prop_assert!(rest.starts_with(&got));
                        prop_assert!(!got.is_empty() || rest.is_empty());
                        let k = got.len().min(n);
                        futures_lite::AsyncBufReadExt::consume(&mut body, k);
                        at += k;
                    }
                }
            }
            body.skip_rest().await.unwrap();
            drop(body);
            prop_assert_eq!(&r.read_exactly(5).await.unwrap()[..], b"AFTER");
            Ok(())
        })?;
    }
}
