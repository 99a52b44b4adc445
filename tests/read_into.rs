//! Reads into caller memory: `read_into`, `read_exact_into` and
//! `read_exact_into_resumable`.
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
        for cut in cuts(data.len()) {
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

/// Polls a resumable read `k` polls at a time, dropping the future after
/// each batch (a timeout that fires), until it completes.
async fn resume_in_batches<R: futures_io::AsyncRead + Unpin>(
    r: &mut StreamReader<R>,
    dst: &mut [u8],
    filled: &mut usize,
    k: usize,
) -> (Result<(), Error>, usize) {
    let mut cancels = 0;
    let start = r.position() - *filled as u64;
    loop {
        let before = r.position();
        match poll_at_most(r.read_exact_into_resumable(dst, filled), k) {
            Some(out) => return (out, cancels),
            None => {
                cancels += 1;
                // Everything consumed from the stream is in `dst[..filled]`:
                // nothing was put back into the reader.
                assert_eq!(r.position(), start + *filled as u64);
                assert!(r.position() >= before);
            }
        }
    }
}

#[test]
fn read_exact_into_resumable_under_every_delivery_and_cancellation() {
    on_both_runtimes(|| async {
        let data = pattern(miri_or(3000, 700), 13);
        for polls in [1, 2, 3, 5] {
            for (how, src) in deliveries(&data) {
                let mut r = StreamReader::with_capacity(64, src);
                let mut head = vec![0u8; 10];
                let mut body = vec![0u8; data.len() - 10];
                let (mut f1, mut f2) = (0, 0);
                let (out, _) = resume_in_batches(&mut r, &mut head, &mut f1, polls).await;
                out.unwrap();
                let (out, _) = resume_in_batches(&mut r, &mut body, &mut f2, polls).await;
                out.unwrap();
                assert_eq!((f1, f2), (10, data.len() - 10), "{how}");
                assert_eq!([head, body].concat(), data, "{how}, {polls} polls");
            }
        }
    });
}

#[test]
fn read_exact_into_resumable_cancelled_at_every_poll_loses_nothing() {
    on_both_runtimes(|| async {
        let data = pattern(200, 14);
        // 1 byte per read with `Pending` between: every poll is a chance to
        // cancel, and one poll per attempt cancels at each of them.
        let src = ScriptedReader::chunked(&data, 1, true);
        let mut r = StreamReader::with_capacity(16, src);
        let mut dst = vec![0u8; 150];
        let mut filled = 0;
        let (out, cancels) = resume_in_batches(&mut r, &mut dst, &mut filled, 1).await;
        out.unwrap();
        assert!(cancels >= 150, "{cancels} cancellations");
        assert_eq!(dst, data[..150]);
        // The rest of the stream is still there for the next read.
        let rest = r.read_exactly(50).await.unwrap();
        assert_eq!(&rest[..], &data[150..]);
    });
}

#[test]
fn read_exact_into_resumable_eof_at_every_offset() {
    on_both_runtimes(|| async {
        let data = pattern(30, 15);
        for cut in cuts(data.len()) {
            let src = ScriptedReader::chunked(&data[..cut], 4, true);
            let mut r = StreamReader::with_capacity(8, src);
            let mut dst = vec![0u8; 30];
            let mut filled = 0;
            match r.read_exact_into_resumable(&mut dst, &mut filled).await {
                Err(Error::UnexpectedEof { partial, expected }) => {
                    assert!(partial.is_empty(), "the bytes are in dst, not copied");
                    assert_eq!(filled, cut);
                    assert_eq!(&dst[..filled], &data[..cut]);
                    assert_eq!(expected, Some(30 - cut));
                }
                other => panic!("cut {cut}: {other:?}"),
            }
        }
    });
}

#[test]
fn read_exact_into_resumable_error_mid_read_keeps_progress_for_retry() {
    on_both_runtimes(|| async {
        let data = pattern(600, 16);
        let src = ScriptedReader::new([
            Step::Data(data[..250].to_vec()),
            Step::Data(data[250..400].to_vec()),
            Step::Err(std::io::ErrorKind::TimedOut),
            Step::Data(data[400..].to_vec()),
            Step::Eof,
        ]);
        let mut r = StreamReader::with_capacity(16, src);
        let mut dst = vec![0u8; 600];
        let mut filled = 0;
        assert!(matches!(
            r.read_exact_into_resumable(&mut dst, &mut filled).await,
            Err(Error::Io(_))
        ));
        assert_eq!(filled, 400, "every byte received before the error");
        assert!(r.buffer().is_empty(), "nothing put back");
        r.read_exact_into_resumable(&mut dst, &mut filled)
            .await
            .unwrap();
        assert_eq!(filled, 600);
        assert_eq!(dst, data);
    });
}

#[test]
fn read_exact_into_resumable_with_nothing_left_or_too_much_filled() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(NeverReady::default());
        let mut dst = [7u8; 4];
        let mut filled = 4;
        r.read_exact_into_resumable(&mut dst, &mut filled)
            .await
            .unwrap();
        let mut filled = 99; // more than `dst`: treated as full, no panic
        r.read_exact_into_resumable(&mut dst, &mut filled)
            .await
            .unwrap();
        assert_eq!(filled, 4);
        assert_eq!(r.get_ref().polls, 0, "a full dst never reads");
    });
}
