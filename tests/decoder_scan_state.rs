//! A decoder's scan progress survives every kind of consumption between its
//! calls: other reads, `consume`, errors, and a user's own decoder.
mod common;

use common::*;
use futures_lite::StreamExt;
use intake::frame::{DecodeBuf, Decoder, Delimited, FramedRead};
use intake::{Error, StreamReader};

/// A reader whose first read returns `first`, then `Pending` (self-waking),
/// then `rest`, then end of stream.
fn two_reads(first: &[u8], rest: &[u8]) -> StreamReader<ScriptedReader> {
    StreamReader::with_capacity(
        64,
        ScriptedReader::new([
            Step::Data(first.to_vec()),
            Step::Pending,
            Step::Data(rest.to_vec()),
            Step::Eof,
        ]),
    )
}

/// Polls one `decode` once: it scans the first read's bytes and waits.
fn decode_polled_once<D: Decoder>(r: &mut StreamReader<ScriptedReader>, d: &mut D) {
    assert!(
        poll_at_most(r.decode(d), 1).is_none(),
        "waits for more bytes"
    );
}

#[test]
fn decode_after_peek_and_consume_frames_from_the_new_front() {
    on_both_runtimes(|| async {
        let mut r = two_reads(b"XXXXabcdef", b"gh\nNEXT\n");
        let mut lines = Delimited::lines();
        decode_polled_once(&mut r, &mut lines);
        assert_eq!(r.peek(18).await.unwrap(), b"XXXXabcdefgh\nNEXT\n");
        r.consume(4);
        let line = r.decode(&mut lines).await.unwrap().unwrap();
        assert_eq!(&line[..], b"abcdefgh\n");
        let line = r.decode(&mut lines).await.unwrap().unwrap();
        assert_eq!(&line[..], b"NEXT\n");
        assert!(r.decode(&mut lines).await.unwrap().is_none());
    });
}

#[test]
fn decode_after_read_exactly_frames_from_the_new_front() {
    on_both_runtimes(|| async {
        let mut r = two_reads(b"aaaaaaaaaa", b"bb\ncd\n");
        let mut lines = Delimited::lines();
        decode_polled_once(&mut r, &mut lines);
        assert_eq!(&r.read_exactly(12).await.unwrap()[..], b"aaaaaaaaaabb");
        assert_eq!(&r.decode(&mut lines).await.unwrap().unwrap()[..], b"\n");
        assert_eq!(&r.decode(&mut lines).await.unwrap().unwrap()[..], b"cd\n");
    });
}

#[test]
fn decode_after_a_failed_read_exactly_frames_what_arrives_next() {
    on_both_runtimes(|| async {
        // The stream ends inside `read_exactly(12)`, which hands every byte
        // over; the decoder's old progress must not survive that.
        let mut r = two_reads(b"aaaaaaaaaa", b"\n");
        let mut lines = Delimited::lines();
        decode_polled_once(&mut r, &mut lines);
        match r.read_exactly(12).await {
            Err(Error::UnexpectedEof { partial, .. }) => assert_eq!(&partial[..], b"aaaaaaaaaa\n"),
            other => panic!("{other:?}"),
        }
        // The decoder moves on to a new reader with bytes buffered: its
        // progress on the old stream must not carry over.
        let (_, rest) = r.into_parts();
        assert!(rest.is_empty());
        let mut r = StreamReader::new(&b"x\n"[..]);
        assert_eq!(r.peek(2).await.unwrap(), b"x\n");
        assert_eq!(&r.decode(&mut lines).await.unwrap().unwrap()[..], b"x\n");
    });
}

#[test]
fn framed_read_consume_between_items_keeps_lines_apart() {
    on_both_runtimes(|| async {
        let mut framed =
            FramedRead::from_reader(two_reads(b"skip!line1", b"\nl2\nl3\n"), Delimited::lines());
        assert!(poll_at_most(framed.next(), 1).is_none());
        assert_eq!(framed.get_mut().peek(17).await.unwrap().len(), 17);
        framed.get_mut().consume(5);
        let got: Vec<Vec<u8>> = framed.map(|l| l.unwrap().to_vec()).collect().await;
        assert_eq!(got, [&b"line1\n"[..], b"l2\n", b"l3\n"]);
    });
}

#[test]
fn decode_after_limit_exceeded_and_skipping_the_line_goes_on() {
    on_both_runtimes(|| async {
        let wire = b"0123456789abcdef\nab\ncdefghijkl\n";
        let mut r = StreamReader::new(&wire[..]);
        let mut lines = Delimited::lines().max_length(8);
        assert!(matches!(
            r.decode(&mut lines).await,
            Err(Error::LimitExceeded { limit: 8 })
        ));
        // Skip the long line as the docs suggest, then decode on.
        let skipped = r.read_until(b"\n").await.unwrap().unwrap();
        assert_eq!(skipped.len(), 17);
        assert_eq!(&r.decode(&mut lines).await.unwrap().unwrap()[..], b"ab\n");
        assert!(matches!(
            r.decode(&mut lines).await,
            Err(Error::LimitExceeded { limit: 8 })
        ));
    });
}

#[test]
fn delimited_decode_interleaved_with_consume_frames_every_line_once() {
    // Between items: one poll of `decode` that is then dropped, one byte
    // consumed by hand, then a full decode. Every item must be exactly the
    // bytes up to the first delimiter after its start, and everything
    // together must be the input, under every delivery.
    on_both_runtimes(|| async {
        let wire = b"ab\r\ncdef\r\n\r\nghi\r\r\njk\r\nl\r".to_vec();
        for (how, src) in deliveries(&wire) {
            let mut r = StreamReader::with_capacity(4, src);
            let mut reused = Delimited::new(b"\r\n");
            let mut pieces: Vec<Vec<u8>> = Vec::new();
            let mut items: Vec<Vec<u8>> = Vec::new();
            loop {
                if r.peek(1).await.unwrap().is_empty() {
                    break;
                }
                match poll_at_most(r.decode(&mut reused), 1) {
                    Some(Ok(Some(item))) => {
                        pieces.push(item.to_vec());
                        items.push(item.to_vec());
                        continue;
                    }
                    Some(Err(Error::UnexpectedEof { partial, .. })) => {
                        pieces.push(partial.to_vec());
                        break;
                    }
                    Some(other) => panic!("{how}: {other:?}"),
                    None => {}
                }
                pieces.push(r.buffer()[..1].to_vec());
                r.consume(1);
                match r.decode(&mut reused).await {
                    Ok(Some(item)) => {
                        pieces.push(item.to_vec());
                        items.push(item.to_vec());
                    }
                    Ok(None) => break,
                    Err(Error::UnexpectedEof { partial, .. }) => {
                        assert!(!partial.windows(2).any(|w| w == b"\r\n"), "{how}");
                        pieces.push(partial.to_vec());
                        break;
                    }
                    Err(e) => panic!("{how}: {e}"),
                }
            }
            assert_eq!(pieces.concat(), wire, "{how}: nothing lost or repeated");
            for item in &items {
                let first = item.windows(2).position(|w| w == b"\r\n");
                assert_eq!(first, Some(item.len() - 2), "{how}: {item:?}");
            }
            assert!(items.len() >= 3, "{how}: {items:?}");
        }
    });
}

/// A user's decoder that scans for `;` and keeps its progress where the
/// reader can keep it right: in the `DecodeBuf`.
struct Semicolons;

impl Decoder for Semicolons {
    type Item = Vec<u8>;
    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Error> {
        let from = buf.scanned();
        match buf.bytes()[from..].iter().position(|&b| b == b';') {
            Some(at) => {
                let item = buf.bytes()[..from + at].to_vec();
                buf.advance(from + at + 1);
                Ok(Some(item))
            }
            None => {
                buf.set_scanned(buf.len());
                Ok(None)
            }
        }
    }
}

#[test]
fn user_decoder_scan_progress_survives_consumption() {
    on_both_runtimes(|| async {
        let mut r = two_reads(b"zzzzabc", b"d;efg;");
        let mut d = Semicolons;
        decode_polled_once(&mut r, &mut d);
        r.consume(4);
        assert_eq!(r.decode(&mut d).await.unwrap().unwrap(), b"abcd");
        assert_eq!(r.decode(&mut d).await.unwrap().unwrap(), b"efg");
        assert!(r.decode(&mut d).await.unwrap().is_none());
    });
}

#[test]
fn switching_decoders_mid_item_does_not_inherit_scan_progress() {
    on_both_runtimes(|| async {
        let mut r = two_reads(b"abc;defgh", b"\nrest\n");
        let mut lines = Delimited::lines();
        decode_polled_once(&mut r, &mut lines); // scans "abc;defgh" for '\n'
        let mut semis = Delimited::new(b";");
        assert_eq!(&r.decode(&mut semis).await.unwrap().unwrap()[..], b"abc;");
        assert_eq!(
            &r.decode(&mut lines).await.unwrap().unwrap()[..],
            b"defgh\n"
        );
    });
}

#[test]
fn switching_decoders_mid_item_does_not_inherit_the_need_hint() {
    on_both_runtimes(|| async {
        // A length prefix claims 100 bytes and asks for them; then the
        // caller switches to lines, which are complete already. The source
        // then stalls: the line decoder must not wait for 102 bytes.
        let src = ScriptedReader::new([
            Step::Data(b"\x00\x64hi\n".to_vec()),
            Step::Pending,
            Step::Pending,
            Step::Pending,
        ]);
        let mut r = StreamReader::new(src);
        let mut prefix = intake::LengthPrefix::new(2);
        assert!(poll_at_most(r.decode(&mut prefix), 1).is_none());
        let mut lines = Delimited::lines();
        let line = poll_at_most(r.decode(&mut lines), 1).expect("decoded without waiting");
        assert_eq!(&line.unwrap().unwrap()[..], b"\x00\x64hi\n");
    });
}

#[test]
fn another_read_during_discard_overlong_takes_over() {
    on_both_runtimes(|| async {
        let src = ScriptedReader::new([
            Step::Data(b"toolong".to_vec()),
            Step::Pending,
            Step::Data(b"er\nok\nnext\n".to_vec()),
            Step::Eof,
        ]);
        let mut r = StreamReader::with_capacity(4, src);
        let mut d = Delimited::lines().max_length(5).discard_overlong();
        assert!(matches!(
            r.decode(&mut d).await,
            Err(Error::LimitExceeded { limit: 5 })
        ));
        // The caller skips the rest of the long line itself...
        assert!(r.skip_until(b"\n").await.unwrap().is_some());
        // ...so the decoder must not drop the next line as well.
        assert_eq!(&r.decode(&mut d).await.unwrap().unwrap()[..], b"ok\n");
        assert_eq!(&r.decode(&mut d).await.unwrap().unwrap()[..], b"next\n");
    });
}

#[test]
fn position_counts_every_byte_handed_out() {
    on_both_runtimes(|| async {
        struct Where;
        impl Decoder for Where {
            type Item = u64;
            fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<u64>, Error> {
                if buf.is_empty() {
                    return Ok(None);
                }
                let at = buf.position();
                buf.advance(1);
                Ok(Some(at))
            }
        }
        let data = pattern(100_000, 5);
        let mut r = StreamReader::with_capacity(16, ScriptedReader::chunked(&data, 1000, true));
        assert_eq!(r.decode(&mut Where).await.unwrap(), Some(0));
        r.read_exactly(10).await.unwrap();
        assert_eq!(r.decode(&mut Where).await.unwrap(), Some(11));
        // A read straight into caller memory counts too.
        let mut big = vec![0u8; 50_000];
        r.read_exact_into(&mut big).await.unwrap();
        assert_eq!(r.decode(&mut Where).await.unwrap(), Some(50_012));
        r.skip(10).await.unwrap();
        assert_eq!(r.decode(&mut Where).await.unwrap(), Some(50_023));
    });
}

/// One poll of `decode` with a decoder built in this function's frame:
/// successive calls put different decoders at the same address.
fn decode_once_with(
    r: &mut StreamReader<ScriptedReader>,
    prefix: intake::LengthPrefix,
) -> Option<Result<Option<bytes::Bytes>, Error>> {
    let mut decoder = prefix;
    poll_at_most(r.decode(&mut decoder), 1)
}

#[test]
fn a_new_decode_call_does_not_inherit_from_a_decoder_at_the_same_address() {
    on_both_runtimes(|| async {
        let src = ScriptedReader::new([
            Step::Data(b"\x00\x05ab".to_vec()),
            Step::Pending,
            Step::Pending,
        ]);
        let mut r = StreamReader::new(src);
        // A 2-byte prefix: a 5-byte frame, 2 of it here; it asks for 7.
        assert!(decode_once_with(&mut r, intake::LengthPrefix::new(2)).is_none());
        // A 1-byte prefix in the same place: "\x00" is an empty frame, here
        // already; it must not wait for the 7 bytes the other one wanted.
        let got = decode_once_with(&mut r, intake::LengthPrefix::new(1)).expect("no wait");
        assert_eq!(got.unwrap().as_deref(), Some(&b""[..]));
    });
}
