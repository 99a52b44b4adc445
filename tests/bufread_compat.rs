//! `AsyncRead` + `AsyncBufRead`: StreamReader drops in where a BufReader was.
mod common;

use common::*;
use futures_lite::{AsyncBufReadExt, AsyncReadExt, StreamExt};
use intake::StreamReader;

#[test]
fn works_with_futures_lite_lines_and_read_to_end() {
    on_both_runtimes(|| async {
        let text = b"one\ntwo\r\nthree".to_vec();
        for (how, src) in deliveries(&text) {
            let r = StreamReader::with_capacity(4, src);
            let lines: Vec<String> = r.lines().map(|l| l.unwrap()).collect().await;
            assert_eq!(lines, ["one", "two", "three"], "{how}");
        }
        let data = pattern(miri_or(10_000, 2_000), 30);
        for (how, src) in deliveries(&data) {
            let mut r = StreamReader::with_capacity(64, src);
            let mut head = [0u8; 10];
            r.read_exact(&mut head).await.unwrap();
            let mut rest = Vec::new();
            r.read_to_end(&mut rest).await.unwrap();
            assert_eq!([&head[..], &rest[..]].concat(), data, "{how}");
        }
    });
}

#[test]
fn fill_buf_and_consume_mix_with_intake_reads() {
    on_both_runtimes(|| async {
        let mut r =
            StreamReader::with_capacity(8, ScriptedReader::chunked(b"abcdefghij\nrest", 3, true));
        let first = r.fill_buf().await.unwrap().to_vec();
        assert!(!first.is_empty());
        AsyncBufReadExt::consume(&mut r, 1);
        assert_eq!(
            &r.read_until(b"\n").await.unwrap().unwrap()[..],
            b"bcdefghij\n"
        );
        let mut s = String::new();
        r.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "rest");
    });
}

#[test]
fn works_with_pinned_not_unpin_inner_readers() {
    // A `!Unpin` inner reader still gets AsyncRead/AsyncBufRead.
    on_both_runtimes(|| async {
        let inner = futures_lite::io::BufReader::new(&b"pinned\n"[..]);
        let r = StreamReader::new(inner);
        futures_lite::pin!(r);
        let mut line = String::new();
        r.as_mut().read_line(&mut line).await.unwrap();
        assert_eq!(line, "pinned\n");
    });
}
