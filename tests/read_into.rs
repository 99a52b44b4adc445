//! Reads into caller memory: `read_into` and `read_exact_into`.
mod common;

use common::*;
use intake::{Error, StreamReader};

#[test]
fn read_into_buffered_first_then_inner() {
    on_both_runtimes(|| async {
        let data = pattern(miri_or(5000, 2000), 8);
        for (how, src) in deliveries(&data) {
            let mut r = StreamReader::with_capacity(100, src);
            let mut out = Vec::new();
            let mut small = [0u8; 7];
            let mut large = vec![0u8; 1000];
            let mut flip = false;
            loop {
                flip = !flip;
                let dst: &mut [u8] = if flip { &mut small } else { &mut large };
                let n = r.read_into(dst).await.unwrap();
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&dst[..n]);
            }
            assert_eq!(out, data, "{how}");
        }
    });
}

#[test]
fn read_into_large_slice_bypasses_the_buffer() {
    on_both_runtimes(|| async {
        let data = pattern(4096, 9);
        let src = ScriptedReader::chunked(&data, 4096, false);
        let mut r = StreamReader::with_capacity(128, src);
        let mut dst = vec![0u8; 4096];
        assert_eq!(r.read_into(&mut dst).await.unwrap(), 4096);
        assert_eq!(dst, data);
        assert!(r.buffer().is_empty(), "nothing went through the buffer");
    });
}

#[test]
fn read_into_empty_slice_never_touches_inner() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(NeverReady::default());
        assert_eq!(r.read_into(&mut []).await.unwrap(), 0);
        assert_eq!(r.get_ref().polls, 0);
    });
}

#[test]
fn read_exact_into_under_every_delivery() {
    on_both_runtimes(|| async {
        let data = pattern(3000, 10);
        for (how, src) in deliveries(&data) {
            let mut r = StreamReader::with_capacity(64, src);
            let mut a = vec![0u8; 10];
            let mut b = vec![0u8; 2990];
            r.read_exact_into(&mut a).await.unwrap();
            r.read_exact_into(&mut b).await.unwrap();
            assert_eq!([a, b].concat(), data, "{how}");
        }
    });
}

#[test]
fn read_exact_into_eof_at_every_offset() {
    on_both_runtimes(|| async {
        let data = pattern(30, 11);
        for cut in 0..data.len() {
            let src = ScriptedReader::chunked(&data[..cut], 4, true);
            let mut r = StreamReader::with_capacity(8, src);
            let mut dst = vec![0u8; 30];
            match r.read_exact_into(&mut dst).await {
                Err(Error::UnexpectedEof { partial, expected }) => {
                    assert_eq!(&partial[..], &data[..cut]);
                    assert_eq!(expected, Some(30 - partial.len()));
                }
                other => panic!("cut {cut}: {other:?}"),
            }
        }
    });
}

#[test]
fn read_exact_into_error_mid_read_puts_bytes_back_for_retry() {
    on_both_runtimes(|| async {
        let data = pattern(600, 12);
        let src = ScriptedReader::new([
            Step::Data(data[..250].to_vec()),
            Step::Data(data[250..400].to_vec()),
            Step::Err(std::io::ErrorKind::TimedOut),
            Step::Data(data[400..].to_vec()),
            Step::Eof,
        ]);
        // Capacity 16: the reads go straight into `dst`.
        let mut r = StreamReader::with_capacity(16, src);
        let mut dst = vec![0u8; 600];
        assert!(matches!(
            r.read_exact_into(&mut dst).await,
            Err(Error::Io(_))
        ));
        assert_eq!(
            r.buffer(),
            &data[..400],
            "bytes written into dst were put back"
        );
        let mut dst = vec![0u8; 600];
        r.read_exact_into(&mut dst).await.unwrap();
        assert_eq!(dst, data);
    });
}
