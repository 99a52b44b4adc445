//! `copy_exact` and `copy_until` leave flushing to the caller (issue #21):
//! a body copied in pieces costs the one flush its caller makes, not one
//! per piece.
mod common;

use common::*;
use futures_lite::AsyncWriteExt;
use intake::StreamReader;

/// A chunked body's pieces, each moved by one call: the writer is never
/// flushed by the reader, under every delivery and writer.
#[test]
fn copy_exact_never_flushes() {
    on_both_runtimes(|| async {
        let data = pattern(300, 21);
        for max_write in [1usize, 64, usize::MAX] {
            for (how, src) in deliveries(&data) {
                let mut r = StreamReader::with_capacity(16, src);
                let mut w = SlowWriter::new(max_write, max_write == 64);
                for piece in [0u64, 1, 99, 200] {
                    r.copy_exact(piece, &mut w).await.unwrap();
                }
                assert_eq!(w.data, data, "{how} {max_write}");
                assert_eq!(w.flushes, 0, "{how} {max_write}: the caller flushes");
                w.flush().await.unwrap();
                assert_eq!(w.flushes, 1);
                assert_eq!(w.closes, 0);
            }
        }
    });
}

#[test]
fn copy_until_never_flushes() {
    on_both_runtimes(|| async {
        let body = b"part one--Bpart two--B--B";
        for max_write in [1usize, 64, usize::MAX] {
            for (how, src) in deliveries(body) {
                let mut r = StreamReader::with_capacity(4, src);
                let mut w = SlowWriter::new(max_write, max_write == 64);
                for expect in [8u64, 8, 0] {
                    assert_eq!(r.copy_until(b"--B", &mut w).await.unwrap(), Some(expect));
                }
                assert_eq!(r.copy_until(b"--B", &mut w).await.unwrap(), None);
                assert_eq!(w.data, b"part onepart two", "{how} {max_write}");
                assert_eq!(w.flushes, 0, "{how} {max_write}: the caller flushes");
            }
        }
    });
}

/// The tokio path (`TokioIo` over the writer) does not flush either.
#[cfg(feature = "tokio")]
#[test]
fn neither_flushes_through_tokio_io() {
    on_both_runtimes(|| async {
        let src = via_tokio(ScriptedReader::chunked(b"abcdef|gh|", 1, true));
        let mut r = StreamReader::new(src);
        let mut w = via_tokio(SlowWriter::new(2, true));
        r.copy_exact(3, &mut w).await.unwrap();
        r.copy_exact(3, &mut w).await.unwrap();
        assert_eq!(r.copy_until(b"|", &mut w).await.unwrap(), Some(0));
        assert_eq!(r.copy_until(b"|", &mut w).await.unwrap(), Some(2));
        let w = w.into_inner().0;
        assert_eq!(w.data, b"abcdefgh");
        assert_eq!(w.flushes, 0);
    });
}
