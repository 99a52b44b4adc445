//! `limited`: a bounded view of a reader on its own buffer, through every
//! delivery, end of stream at every offset, cancellation at every poll,
//! nesting, and bytes buffered past the view's end.
mod common;

use common::*;
use intake::{Error, LengthPrefix, StreamReader};

/// A body of `BODY` bytes ("line one\nline two\nrest"), then bytes the view
/// must never see.
const WIRE: &[u8] = b"line one\nline two\nrest|NEXT\n";
const BODY: u64 = 22;

#[test]
fn a_view_ends_where_its_bytes_do_under_every_delivery() {
    on_both_runtimes(|| async {
        for cap in [1usize, 4, 64, 8192] {
            for (how, src) in deliveries(WIRE) {
                let mut r = StreamReader::with_capacity(cap, src);
                let mut body = r.limited(BODY);
                assert_eq!(
                    body.read_until(b"\n").await.unwrap().as_deref(),
                    Some(&b"line one\n"[..]),
                    "{how} cap {cap}"
                );
                assert_eq!(
                    body.read_until(b"\n").await.unwrap().as_deref(),
                    Some(&b"line two\n"[..])
                );
                // The last line is cut by the view's end, not by `|`.
                match body.read_until(b"|").await {
                    Err(Error::UnexpectedEof { partial, .. }) => assert_eq!(&partial[..], b"rest"),
                    other => panic!("{how} cap {cap}: {other:?}"),
                }
                assert_eq!(body.remaining(), 0);
                assert!(
                    body.read_until(b"\n").await.unwrap().is_none(),
                    "a clean end after"
                );
                drop(body);
                // The reader goes on right after the view.
                assert_eq!(
                    &r.read_exactly(6).await.unwrap()[..],
                    b"|NEXT\n",
                    "{how} cap {cap}"
                );
                assert!(r.read_until(b"\n").await.unwrap().is_none());
            }
        }
    });
}

#[test]
fn bytes_buffered_past_the_view_stay_with_the_reader() {
    on_both_runtimes(|| async {
        // One read brings everything; the view sees only its 5 bytes.
        let mut r = StreamReader::new(&b"hello world"[..]);
        r.peek(11).await.unwrap();
        let mut view = r.limited(5);
        assert_eq!(view.buffer(), b"hello");
        let mut all = Vec::new();
        futures_lite::AsyncReadExt::read_to_end(&mut view, &mut all)
            .await
            .unwrap();
        assert_eq!(all, b"hello");
        assert_eq!(
            futures_lite::AsyncBufReadExt::fill_buf(&mut view)
                .await
                .unwrap(),
            b"",
            "AsyncBufRead ends too"
        );
        drop(view);
        assert_eq!(r.buffer(), b" world");
    });
}

#[test]
fn no_search_runs_past_the_end() {
    on_both_runtimes(|| async {
        // The delimiter sits right after the view: a search must not find
        // it, and it must still be there for the reader.
        let mut r = StreamReader::new(&b"abc\ndef"[..]);
        r.peek(7).await.unwrap();
        let mut view = r.limited(3);
        assert!(matches!(
            view.read_until(b"\n").await,
            Err(Error::UnexpectedEof { .. })
        ));
        drop(view);
        let mut view = r.limited(0);
        assert!(view.skip_until(b"\n").await.unwrap().is_none());
        drop(view);
        assert_eq!(
            r.read_until(b"\n").await.unwrap().as_deref(),
            Some(&b"\n"[..])
        );
    });
}

#[test]
fn views_nest_and_skip_rest_keeps_the_stream_in_step() {
    on_both_runtimes(|| async {
        for (how, src) in deliveries(b"0123456789ABCDEF") {
            let mut r = StreamReader::with_capacity(4, src);
            let mut outer = r.limited(10);
            {
                let mut inner = outer.limited(4);
                assert_eq!(&inner.read_exactly(3).await.unwrap()[..], b"012", "{how}");
                // Reading more than the inner view holds ends inside it.
                match inner.read_exactly(2).await {
                    Err(Error::UnexpectedEof { partial, .. }) => assert_eq!(&partial[..], b"3"),
                    other => panic!("{how}: {other:?}"),
                }
                // A view wider than its parent ends with the parent.
                let wide = inner.limited(100);
                assert_eq!(wide.remaining(), 0);
            }
            assert_eq!(outer.remaining(), 6);
            assert_eq!(&outer.read_exactly(2).await.unwrap()[..], b"45");
            outer.skip_rest().await.unwrap();
            assert_eq!(outer.remaining(), 0);
            drop(outer);
            assert_eq!(&r.read_exactly(6).await.unwrap()[..], b"ABCDEF", "{how}");
        }
    });
}

#[test]
fn frames_and_copies_inside_a_view() {
    on_both_runtimes(|| async {
        // A length-prefixed frame, a delimited run copied out, then bytes
        // of the next message the view must not touch.
        let mut wire = Vec::new();
        wire.extend_from_slice(b"\x00\x03abc");
        wire.extend_from_slice(b"part one--bnd");
        wire.extend_from_slice(b"\x00\x02zz");
        for (how, src) in deliveries(&wire) {
            let mut r = StreamReader::with_capacity(8, src);
            let mut view = r.limited(5 + 13);
            let frame = view.read_frame(&LengthPrefix::new(2)).await.unwrap();
            assert_eq!(frame.as_deref(), Some(&b"abc"[..]), "{how}");
            let mut out = Vec::new();
            assert_eq!(view.copy_until(b"--bnd", &mut out).await.unwrap(), Some(8));
            assert_eq!(out, b"part one");
            assert!(
                view.read_frame(&LengthPrefix::new(2))
                    .await
                    .unwrap()
                    .is_none(),
                "{how}"
            );
            assert!(view
                .decode(&mut LengthPrefix::new(2))
                .await
                .unwrap()
                .is_none());
            drop(view);
            assert_eq!(
                r.read_frame(&LengthPrefix::new(2))
                    .await
                    .unwrap()
                    .as_deref(),
                Some(&b"zz"[..])
            );
        }
    });
}

#[test]
fn end_of_stream_at_every_offset_inside_a_view() {
    on_both_runtimes(|| async {
        let data = pattern(miri_or(40, 12), 3);
        for cut in cuts(data.len() + 1) {
            let src = ScriptedReader::chunked(&data[..cut], 3, true);
            let mut r = StreamReader::with_capacity(4, src);
            let mut view = r.limited(data.len() as u64);
            match view.read_exactly(data.len()).await {
                Ok(all) => {
                    assert_eq!(cut, data.len());
                    assert_eq!(all[..], data[..]);
                }
                Err(Error::UnexpectedEof { partial, expected }) => {
                    assert!(cut < data.len());
                    assert_eq!(partial[..], data[..cut], "cut {cut}");
                    assert_eq!(expected, Some(data.len() - cut));
                }
                Err(e) => panic!("cut {cut}: {e:?}"),
            }
        }
    });
}

#[test]
fn cancellation_at_every_poll_loses_nothing() {
    on_both_runtimes(|| async {
        let data = pattern(miri_or(60, 20), 5);
        let n = data.len() as u64 - 7;
        for k in 0..miri_or(40, 12) {
            let src = ScriptedReader::chunked(&data, 2, true);
            let mut r = StreamReader::with_capacity(4, src);
            let mut view = r.limited(n);
            let mut got = Vec::new();
            // Cancel each read after `k` polls, then read on.
            loop {
                match poll_at_most(view.read_exactly(5), k) {
                    Some(Ok(chunk)) => got.extend_from_slice(&chunk),
                    Some(Err(Error::UnexpectedEof { partial, .. })) => {
                        got.extend_from_slice(&partial);
                        break;
                    }
                    Some(Err(e)) => panic!("k {k}: {e:?}"),
                    None => {}
                }
                if k == 0 {
                    // Polled zero times: nothing happens; read for real.
                    while let Ok(chunk) = view.read_exactly(1).await {
                        got.extend_from_slice(&chunk);
                    }
                    break;
                }
            }
            assert_eq!(got[..], data[..n as usize], "k {k}");
            drop(view);
            assert_eq!(
                r.read_exactly(7).await.unwrap()[..],
                data[n as usize..],
                "k {k}"
            );
        }
    });
}

#[test]
fn reads_into_caller_memory_stop_at_the_end() {
    on_both_runtimes(|| async {
        let data = pattern(miri_or(100_000, 300), 9);
        let n = data.len() / 2;
        let mut r = StreamReader::with_capacity(16, ScriptedReader::chunked(&data, 4096, true));
        let mut view = r.limited(n as u64);
        // Large reads bypass the buffer; they too end at the view's end.
        let mut out = vec![0u8; data.len()];
        let mut filled = 0;
        loop {
            let k = view.read_into(&mut out[filled..]).await.unwrap();
            if k == 0 {
                break;
            }
            filled += k;
        }
        assert_eq!(filled, n);
        assert_eq!(out[..n], data[..n]);
        drop(view);
        let mut rest = vec![0u8; data.len() - n];
        r.read_exact_into(&mut rest).await.unwrap();
        assert_eq!(rest[..], data[n..]);
    });
}
