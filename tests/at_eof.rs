//! `StreamReader::at_eof`: nothing buffered and the end of stream seen,
//! answered without reading.
mod common;

use common::*;
use intake::frame::{FramedRead, LengthPrefix};
use intake::{Error, StreamReader};

/// What `at_eof` says at each step of reading `wire` as lines, under every
/// delivery: `false` until a read has seen the end with nothing left.
#[test]
fn at_eof_only_once_the_end_was_read_and_nothing_is_buffered() {
    on_both_runtimes(|| async {
        let wire = b"one\ntwo\n";
        for (how, src) in deliveries(wire) {
            let mut r = StreamReader::with_capacity(4, src);
            assert!(!r.at_eof(), "{how}: nothing read yet");
            assert!(r.read_until(b"\n").await.unwrap().is_some(), "{how}");
            assert!(r.read_until(b"\n").await.unwrap().is_some(), "{how}");
            assert!(!r.at_eof(), "{how}: the end has not been read");
            assert_eq!(r.read_until(b"\n").await.unwrap(), None, "{how}");
            assert!(r.at_eof(), "{how}");
            // It stays so, and reads agree with it.
            assert_eq!(r.read_until(b"\n").await.unwrap(), None, "{how}");
            assert!(r.at_eof(), "{how}");
        }
    });
}

#[test]
fn bytes_buffered_after_the_end_are_not_eof() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(ScriptedReader::chunked(b"abc", 1, true));
        assert_eq!(r.peek(10).await.unwrap(), b"abc"); // saw the end
        assert!(!r.at_eof(), "3 bytes are still buffered");
        r.consume(2);
        assert!(!r.at_eof());
        r.consume(1);
        assert!(r.at_eof(), "the end was seen and nothing is left");
    });
}

#[test]
fn at_eof_after_each_kind_of_read_that_meets_the_end() {
    on_both_runtimes(|| async {
        // read_into's Ok(0).
        let mut r = StreamReader::new(ScriptedReader::chunked(b"xy", 1, true));
        let mut dst = [0u8; 8];
        let mut got = 0;
        loop {
            let n = r.read_into(&mut dst).await.unwrap();
            if n == 0 {
                break;
            }
            got += n;
            assert!(!r.at_eof());
        }
        assert_eq!(got, 2);
        assert!(r.at_eof());

        // An UnexpectedEof hands every buffered byte over: nothing is left.
        let mut r = StreamReader::new(ScriptedReader::chunked(b"xyz", 1, true));
        match r.read_exactly(10).await {
            Err(Error::UnexpectedEof { partial, .. }) => assert_eq!(&partial[..], b"xyz"),
            other => panic!("{other:?}"),
        }
        assert!(r.at_eof());

        // A FramedRead that ended.
        let src = ScriptedReader::chunked(b"\x00\x01a", 1, true);
        let mut frames = FramedRead::from_reader(StreamReader::new(src), LengthPrefix::new(2));
        use futures_lite::StreamExt;
        assert_eq!(&frames.next().await.unwrap().unwrap()[..], b"a");
        assert!(frames.next().await.is_none());
        assert!(frames.get_ref().at_eof());
    });
}

/// It never reads: a source that only says `Pending` is never polled by
/// it, and an empty source is not known to be empty until read.
#[test]
fn at_eof_does_not_read() {
    let r = StreamReader::new(NeverReady::default());
    assert!(!r.at_eof());
    assert_eq!(r.get_ref().polls, 0);
    let mut r = StreamReader::new(ScriptedReader::new([Step::Eof]));
    assert!(!r.at_eof(), "not read yet");
    smol_block_on(async {
        assert_eq!(r.read_until(b"\n").await.unwrap(), None);
    });
    assert!(r.at_eof());
    assert!(r.get_ref().finished());
}

/// The tokio path (`TokioIo`, uninitialized reads) remembers the end the
/// same way.
#[cfg(feature = "tokio")]
#[test]
fn at_eof_through_tokio_io() {
    on_both_runtimes(|| async {
        for chunk in [1, 2, 100] {
            let src = via_tokio(ScriptedReader::chunked(b"a\nb", chunk, true));
            let mut r = StreamReader::new(src);
            assert!(r.read_until(b"\n").await.unwrap().is_some());
            assert!(!r.at_eof());
            assert!(r.read_until(b"\n").await.is_err(), "b has no ending");
            assert!(r.at_eof(), "chunk {chunk}");
        }
    });
}

/// Through a `limited` view, its end is the end of stream, as for reads;
/// the reader itself goes on after it.
#[test]
fn a_views_end_is_its_eof() {
    on_both_runtimes(|| async {
        for (how, src) in deliveries(b"ab\ncdXYZ") {
            let mut r = StreamReader::with_capacity(4, src);
            {
                let mut view = r.limited(5);
                assert!(!view.at_eof(), "{how}");
                assert!(view.read_until(b"\n").await.unwrap().is_some(), "{how}");
                assert!(!view.at_eof(), "{how}: cd is left");
                assert_eq!(&view.read_exactly(2).await.unwrap()[..], b"cd", "{how}");
                assert!(view.at_eof(), "{how}: the view is used up, without reading");
                assert_eq!(view.read_until(b"\n").await.unwrap(), None, "{how}");
                assert!(view.at_eof(), "{how}");
            }
            assert!(!r.at_eof(), "{how}: XYZ follows the view");
            assert_eq!(&r.read_exactly(3).await.unwrap()[..], b"XYZ", "{how}");
            assert_eq!(r.read_until(b"\n").await.unwrap(), None, "{how}");
            assert!(r.at_eof(), "{how}");
        }
        // A view longer than the stream ends with the stream.
        let mut r = StreamReader::new(ScriptedReader::chunked(b"ab", 1, true));
        let mut view = r.limited(10);
        assert_eq!(&view.read_exactly(2).await.unwrap()[..], b"ab");
        assert!(!view.at_eof(), "the end has not been read");
        assert_eq!(view.read_until(b"\n").await.unwrap(), None);
        assert!(view.at_eof());
    });
}
