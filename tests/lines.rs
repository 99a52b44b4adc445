//! `frame::Lines`: text lines as `String`s (tokio-util's `LinesCodec`),
//! through every delivery, EOF at every offset, invalid UTF-8 and over-long
//! lines, scanned once.
mod common;

use common::*;
use futures_lite::StreamExt;
use intake::frame::{DecodeBuf, Decoder, FramedRead, Lines};
use intake::{Error, StreamReader};

/// What a line decoder yields, as tokio-util's `LinesCodec` defines it:
/// lines split at `\n`, a `\r` before it stripped, the bytes after the last
/// `\n` a last line (its trailing `\r` stripped) if there are any; a line
/// that is not UTF-8 is an error carrying its bytes.
fn model(wire: &[u8]) -> Vec<Result<String, (Vec<u8>, usize)>> {
    let mut out = Vec::new();
    let mut pieces: Vec<&[u8]> = wire.split(|&b| b == b'\n').collect();
    let last = pieces.pop().unwrap();
    if !last.is_empty() {
        pieces.push(last);
    }
    for mut line in pieces {
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        out.push(match std::str::from_utf8(line) {
            Ok(s) => Ok(s.to_owned()),
            Err(e) => Err((line.to_vec(), e.valid_up_to())),
        });
    }
    out
}

type Got = Vec<Result<String, (Vec<u8>, usize)>>;

/// Everything a `FramedRead` of `Lines` yields, errors included (it goes
/// on after `InvalidUtf8`).
async fn framed<S: intake::io::Source + Unpin>(r: StreamReader<S>, lines: Lines) -> Got {
    FramedRead::from_reader(r, lines)
        .map(|item| match item {
            Ok(s) => Ok(s),
            Err(Error::InvalidUtf8 { bytes, valid_up_to }) => Err((bytes.to_vec(), valid_up_to)),
            Err(e) => panic!("{e:?}"),
        })
        .collect()
        .await
}

/// The same, one `decode` at a time.
async fn decoded<S: intake::io::Source + Unpin>(mut r: StreamReader<S>, mut lines: Lines) -> Got {
    let mut out = Vec::new();
    loop {
        match r.decode(&mut lines).await {
            Ok(Some(s)) => out.push(Ok(s)),
            Ok(None) => return out,
            Err(Error::InvalidUtf8 { bytes, valid_up_to }) => {
                out.push(Err((bytes.to_vec(), valid_up_to)))
            }
            Err(e) => panic!("{e:?}"),
        }
    }
}

const WIRE: &[u8] = "GET / HTTP/1.1\r\n\nhost: é😀\r\n\r\na\rb\n\r\nxyz\r".as_bytes();

#[test]
fn lines_under_every_delivery() {
    on_both_runtimes(|| async {
        let want = model(WIRE);
        assert_eq!(
            want,
            [
                Ok("GET / HTTP/1.1".to_owned()),
                Ok("".into()),
                Ok("host: é😀".into()),
                Ok("".into()),
                Ok("a\rb".into()),
                Ok("".into()),
                Ok("xyz".into()),
            ]
        );
        for cap in [4, 64] {
            for (how, src) in deliveries(WIRE) {
                let r = StreamReader::with_capacity(cap, src);
                assert_eq!(framed(r, Lines::new()).await, want, "{how} cap {cap}");
            }
            for (how, src) in deliveries(WIRE) {
                let r = StreamReader::with_capacity(cap, src);
                assert_eq!(decoded(r, Lines::new()).await, want, "{how} cap {cap}");
            }
        }
    });
}

/// The stream cut at every offset (inside `\r\n`, inside a multi-byte
/// character: then the last line is not UTF-8), 1 byte per read with
/// `Pending` between.
#[test]
fn eof_at_every_offset() {
    on_both_runtimes(|| async {
        for cut in cuts(WIRE.len() + 1) {
            let wire = &WIRE[..cut];
            let want = model(wire);
            let r = StreamReader::with_capacity(4, ScriptedReader::chunked(wire, 1, true));
            assert_eq!(framed(r, Lines::new()).await, want, "cut {cut}");
            let r = StreamReader::with_capacity(4, ScriptedReader::chunked(wire, 1, false));
            assert_eq!(decoded(r, Lines::new()).await, want, "cut {cut}");
        }
    });
}

#[test]
fn invalid_utf8_hands_the_line_over_and_decoding_goes_on() {
    on_both_runtimes(|| async {
        let wire = b"ok\ncaf\xe9\r\n\xff\n\xf0\x9f\x98\nlast";
        let want: Got = vec![
            Ok("ok".into()),
            Err((b"caf\xe9".to_vec(), 3)),
            Err((b"\xff".to_vec(), 0)),
            Err((b"\xf0\x9f\x98".to_vec(), 0)), // a character cut short
            Ok("last".into()),
        ];
        assert_eq!(model(wire), want);
        for (how, src) in deliveries(wire) {
            let r = StreamReader::with_capacity(4, src);
            assert_eq!(framed(r, Lines::new()).await, want, "{how}");
        }
        for (how, src) in deliveries(wire) {
            let r = StreamReader::with_capacity(4, src);
            assert_eq!(decoded(r, Lines::new()).await, want, "{how}");
        }
        // As an io::Error: InvalidData, the typed error inside.
        let mut r = StreamReader::new(&b"\xff\n"[..]);
        let err: std::io::Error = r.decode(&mut Lines::new()).await.unwrap_err().into();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert!(err
            .to_string()
            .contains("invalid utf-8 after byte 0 of a 1-byte item"));
    });
}

#[cfg(feature = "tokio")]
#[test]
fn lines_through_tokio_io() {
    on_both_runtimes(|| async {
        for chunk in [1, 3, 100] {
            let src = via_tokio(ScriptedReader::chunked(WIRE, chunk, true));
            let r = StreamReader::with_capacity(4, src);
            assert_eq!(framed(r, Lines::new()).await, model(WIRE), "chunk {chunk}");
        }
    });
}

/// An over-long line is reported once and dropped, with bounded memory,
/// and the next line comes out, as with `Delimited::text_lines`.
#[test]
fn overlong_lines_are_reported_once_and_skipped() {
    on_both_runtimes(|| async {
        let long = vec![b'x'; 1000];
        let mut wire = b"short\r\n".to_vec();
        wire.extend_from_slice(&long);
        wire.extend_from_slice(b"\r\nexactly8\n1234567\r\nend");
        for (how, src) in deliveries(&wire) {
            let r = StreamReader::with_capacity(16, src);
            let mut lines = FramedRead::from_reader(r, Lines::new().max_length(9));
            let mut got = Vec::new();
            while let Some(item) = lines.next().await {
                match item {
                    Ok(s) => got.push(s),
                    Err(Error::LimitExceeded { limit: 9 }) => got.push("<too long>".into()),
                    Err(e) => panic!("{how}: {e:?}"),
                }
                assert!(lines.get_ref().buffer().len() <= 9 + 16, "{how}: bounded");
            }
            // "1234567\r\n" is 9 bytes with its ending: it fits.
            assert_eq!(
                got,
                ["short", "<too long>", "exactly8", "1234567", "end"],
                "{how}"
            );
        }
        // No limit at all, as LinesCodec::new().
        let r = StreamReader::new(&wire[..]);
        let all = framed(r, Lines::new().max_length(usize::MAX)).await;
        assert_eq!(all.len(), 5);
        assert_eq!(all[1].as_ref().unwrap().len(), 1000);
    });
}

/// Wraps `Lines` and checks, at every call, that it resumes its search
/// where it stopped: after a call that found no line, every buffered byte
/// is recorded as scanned, and the next call starts from there. So each
/// byte is searched once, however it arrives.
struct ScanOnce {
    lines: Lines,
    /// After a call that returned no line: the stream position and the
    /// buffered length then.
    waited_at: Option<(u64, usize)>,
    calls: usize,
}

impl Decoder for ScanOnce {
    type Item = String;
    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<String>, Error> {
        self.calls += 1;
        if let Some((position, len)) = self.waited_at.take() {
            if position == buf.position() {
                assert_eq!(buf.scanned(), len, "resumes where it stopped");
            }
        }
        let item = self.lines.decode(buf)?;
        if item.is_none() {
            assert_eq!(buf.scanned(), buf.len(), "records every byte it scanned");
            self.waited_at = Some((buf.position(), buf.len()));
        }
        Ok(item)
    }
    fn decode_eof(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<String>, Error> {
        self.lines.decode_eof(buf)
    }
}

#[test]
fn a_long_line_arriving_a_byte_at_a_time_is_scanned_once() {
    on_both_runtimes(|| async {
        let mut wire = vec![b'a'; miri_or(20_000, 500)];
        wire.extend_from_slice(b"\r\nb\n");
        let src = ScriptedReader::chunked(&wire, 1, true);
        let decoder = ScanOnce {
            lines: Lines::new(),
            waited_at: None,
            calls: 0,
        };
        let mut framed = FramedRead::from_reader(StreamReader::with_capacity(64, src), decoder);
        assert_eq!(framed.next().await.unwrap().unwrap().len(), wire.len() - 4);
        assert_eq!(framed.next().await.unwrap().unwrap(), "b");
        assert!(framed.next().await.is_none());
        assert!(
            framed.decoder().calls > wire.len() / 2,
            "called per arrival"
        );
    });
}

/// Dropping `decode` at every poll loses and repeats nothing: calling again
/// goes on with the same bytes.
#[test]
fn decode_cancelled_at_every_poll_loses_nothing() {
    let wire = b"ab\r\n\xffz\n\nlast";
    let want = model(wire);
    for k in 1..12 {
        let mut r = StreamReader::with_capacity(4, ScriptedReader::chunked(wire, 1, true));
        let mut lines = Lines::new();
        let mut got: Got = Vec::new();
        loop {
            match poll_at_most(r.decode(&mut lines), k) {
                None => continue, // dropped after k polls
                Some(Ok(Some(s))) => got.push(Ok(s)),
                Some(Ok(None)) => break,
                Some(Err(Error::InvalidUtf8 { bytes, valid_up_to })) => {
                    got.push(Err((bytes.to_vec(), valid_up_to)))
                }
                Some(Err(e)) => panic!("k {k}: {e:?}"),
            }
        }
        assert_eq!(got, want, "k {k}");
    }
}
