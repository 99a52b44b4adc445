//! `FramedRead` and the `Decoder` trait: streams, floods, fusing, leftovers.
mod common;

use std::pin::Pin;
use std::task::{Context, Poll};

use common::*;
use futures_core::Stream;
use futures_lite::StreamExt;
use intake::frame::{Delimited, FramedRead};
use intake::{Error, LengthPrefix, StreamReader};

#[test]
fn framed_read_length_prefixed_under_every_delivery() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(2);
        let frames: Vec<Vec<u8>> = (0..miri_or(50, 12))
            .map(|i| pattern(i * 13, i as u64))
            .collect();
        let mut wire = Vec::new();
        for f in &frames {
            wire.extend_from_slice(prefix.encode_header(f.len()).unwrap().as_ref());
            wire.extend_from_slice(f);
        }
        for (how, src) in deliveries(&wire) {
            let framed = FramedRead::from_reader(StreamReader::with_capacity(64, src), prefix);
            let got: Vec<Vec<u8>> = framed.map(|f| f.unwrap().to_vec()).collect().await;
            assert_eq!(got, frames, "{how}");
        }
    });
}

#[test]
fn framed_read_delimited_split_at_every_offset() {
    on_both_runtimes(|| async {
        let wire = b"ab\r\n\r\nc\r\r\n".to_vec();
        for cut in cuts(wire.len() + 1) {
            let src = ScriptedReader::split_at(&wire, &[cut], true);
            let framed = FramedRead::new(src, Delimited::new(b"\r\n").strip_delimiter());
            let got: Vec<Vec<u8>> = framed.map(|f| f.unwrap().to_vec()).collect().await;
            assert_eq!(
                got,
                vec![b"ab".to_vec(), b"".to_vec(), b"c\r".to_vec()],
                "cut {cut}"
            );
        }
    });
}

#[test]
fn framed_read_leftover_at_end_is_an_error_carrying_it_then_fused() {
    on_both_runtimes(|| async {
        let mut framed = FramedRead::new(&b"one\ntwo"[..], Delimited::lines());
        assert_eq!(&framed.next().await.unwrap().unwrap()[..], b"one\n");
        match framed.next().await {
            Some(Err(Error::UnexpectedEof { partial, .. })) => assert_eq!(&partial[..], b"two"),
            other => panic!("{other:?}"),
        }
        assert!(framed.next().await.is_none(), "fused after the error");
        assert!(futures_core::FusedStream::is_terminated(&framed));
    });
}

#[test]
fn framed_read_overlong_line_is_limit_exceeded() {
    on_both_runtimes(|| async {
        let src = ScriptedReader::chunked(&[b'x'; 1000], 10, true);
        let mut framed = FramedRead::new(src, Delimited::lines().max_length(100));
        assert!(matches!(
            framed.next().await,
            Some(Err(Error::LimitExceeded { limit: 100 }))
        ));
        assert!(framed.next().await.is_none());
        assert!(framed.get_ref().buffer().len() < 100 + 8192);
    });
}

#[test]
fn framed_read_too_large_frame_ends_the_stream() {
    on_both_runtimes(|| async {
        let mut framed = FramedRead::new(
            &b"\x00\x09too large"[..],
            LengthPrefix::new(2).max_frame_len(8),
        );
        assert!(matches!(
            framed.next().await,
            Some(Err(Error::FrameTooLarge { len: 9, max: 8 }))
        ));
        assert!(framed.next().await.is_none());
    });
}

/// An inner reader that is always ready with zero-length frames (1-byte
/// headers of 0), forever.
struct ZeroFrames;

impl futures_io::AsyncRead for ZeroFrames {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        buf.fill(0);
        Poll::Ready(Ok(buf.len()))
    }
}

#[test]
fn framed_read_flood_of_empty_frames_yields_to_the_executor() {
    let mut framed = FramedRead::new(ZeroFrames, LengthPrefix::new(1));
    let waker = futures_test::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let (mut items, mut yields, mut streak, mut longest) = (0usize, 0usize, 0usize, 0usize);
    let total = miri_or(1_000_000, 2_000);
    while items < total {
        match Pin::new(&mut framed).poll_next(&mut cx) {
            Poll::Ready(Some(Ok(f))) => {
                assert!(f.is_empty());
                items += 1;
                streak += 1;
                longest = longest.max(streak);
            }
            Poll::Pending => {
                yields += 1;
                streak = 0;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(
        longest <= 128,
        "at most 128 items between yields, saw {longest}"
    );
    assert!(yields >= total / 129, "yielded {yields} times");
}

#[test]
fn framed_read_flood_runs_beside_another_task() {
    // On a single-threaded executor, a task draining an endless flood must
    // let another task run.
    smol_block_on(async {
        let ex = smol::LocalExecutor::new();
        let flag = std::rc::Rc::new(std::cell::Cell::new(false));
        let f2 = flag.clone();
        let flood = ex.spawn(async move {
            let mut framed = FramedRead::new(ZeroFrames, LengthPrefix::new(1));
            let mut n = 0u64;
            while !f2.get() {
                framed.next().await.unwrap().unwrap();
                n += 1;
            }
            n
        });
        let other = ex.spawn(async move { flag.set(true) });
        let n = ex
            .run(async {
                other.await;
                flood.await
            })
            .await;
        assert!(n > 0);
    });
    // The same within one task: `zip` polls the flood first; only its
    // cooperative yield lets the other future set the flag that stops it.
    async_std_block_on(async {
        let flag = std::cell::Cell::new(false);
        let flood = async {
            let mut framed = FramedRead::new(ZeroFrames, LengthPrefix::new(1));
            while !flag.get() {
                framed.next().await.unwrap().unwrap();
            }
        };
        futures_lite::future::zip(flood, async { flag.set(true) }).await;
    });
}

#[test]
fn cancel_framed_read_next_at_every_poll() {
    on_both_runtimes(|| async {
        let wire = b"\x03abc\x00\x05hello\x01z".to_vec();
        for k in 0..20 {
            let src = ScriptedReader::chunked(&wire, 1, true);
            let mut framed =
                FramedRead::from_reader(StreamReader::with_capacity(4, src), LengthPrefix::new(1));
            let mut got = Vec::new();
            loop {
                let item = match poll_at_most(framed.next(), k) {
                    Some(item) => item,
                    None => framed.next().await,
                };
                match item {
                    Some(f) => got.push(f.unwrap().to_vec()),
                    None => break,
                }
            }
            assert_eq!(
                got,
                vec![b"abc".to_vec(), vec![], b"hello".to_vec(), b"z".to_vec()],
                "k = {k}"
            );
        }
    });
}

#[test]
fn decode_with_reader_directly_and_need_hint_is_respected() {
    on_both_runtimes(|| async {
        use intake::frame::{DecodeBuf, Decoder};
        /// Asks for 10 bytes, counts its calls.
        struct Tens(usize);
        impl Decoder for Tens {
            type Item = bytes::Bytes;
            fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<bytes::Bytes>, Error> {
                self.0 += 1;
                if buf.len() < 10 {
                    buf.need(10);
                    return Ok(None);
                }
                Ok(Some(buf.split_to(10)))
            }
        }
        let data = pattern(30, 9);
        let mut r = StreamReader::with_capacity(64, ScriptedReader::chunked(&data, 1, true));
        let mut d = Tens(0);
        for i in 0..3 {
            let item = r.decode(&mut d).await.unwrap().unwrap();
            assert_eq!(&item[..], &data[i * 10..i * 10 + 10]);
        }
        // Two calls per item (one short, one complete), not one per byte.
        assert!(d.0 <= 6, "decoder called {} times", d.0);
        assert!(r.decode(&mut d).await.unwrap().is_none());
    });
}
