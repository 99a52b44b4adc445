//! Inner readers and writers that misbehave: empty items that must cost
//! nothing, writers that report more than they were given, and
//! `Interrupted` forever, which must not hold the executor thread.
mod common;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use common::*;
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::future::poll_fn;
use futures_lite::AsyncWriteExt;
use futures_sink::Sink;
use intake::frame::{EncodeBuf, Encoder, FramedWrite};
use intake::{Error, LengthPrefix, StreamReader, StreamWriter};

// ------------------------------------------------------------ empty items

/// An encoder that appends its items as they are (as a bytes codec does).
struct Raw;

impl Encoder<Bytes> for Raw {
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Error> {
        dst.push(item);
        Ok(())
    }
}

#[test]
fn empty_items_never_block_real_bytes_at_any_copy_threshold() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(2);
        for threshold in [0, 1, 3, 1024] {
            for empties in [0usize, 1, 63, 64, 65, 200, miri_or(1000, 129)] {
                let mut w = StreamWriter::new(SlowWriter::new(usize::MAX, false))
                    .with_copy_threshold(threshold);
                for _ in 0..empties {
                    w.send(Bytes::new()).await.unwrap();
                }
                w.send(Bytes::from_static(b"abc")).await.unwrap();
                for i in 0..empties {
                    if i % 2 == 0 {
                        w.send_frame(&prefix, Bytes::new()).await.unwrap();
                    } else {
                        w.send(Bytes::new()).await.unwrap();
                    }
                }
                w.send_frame(&prefix, Bytes::from_static(b"de"))
                    .await
                    .unwrap();
                w.flush().await.unwrap();
                let mut expected = b"abc".to_vec();
                expected.extend(b"\x00\x00".repeat(empties.div_ceil(2)));
                expected.extend_from_slice(b"\x00\x02de");
                assert_eq!(
                    w.get_ref().data,
                    expected,
                    "threshold {threshold}, {empties} empties"
                );
                assert_eq!(w.pending(), 0);
            }
        }
    });
}

#[test]
fn framed_write_empty_items_never_block_real_bytes() {
    on_both_runtimes(|| async {
        for threshold in [0, 1024] {
            let writer = StreamWriter::new(SlowWriter::new(7, true)).with_copy_threshold(threshold);
            let mut sink = FramedWrite::from_writer(writer, Raw);
            for _ in 0..100 {
                poll_fn(|cx| Pin::new(&mut sink).poll_ready(cx))
                    .await
                    .unwrap();
                Pin::new(&mut sink).start_send(Bytes::new()).unwrap();
            }
            poll_fn(|cx| Pin::new(&mut sink).poll_ready(cx))
                .await
                .unwrap();
            Pin::new(&mut sink)
                .start_send(Bytes::from_static(b"abc"))
                .unwrap();
            poll_fn(|cx| Pin::new(&mut sink).poll_flush(cx))
                .await
                .unwrap();
            assert_eq!(
                sink.get_ref().get_ref().data,
                b"abc",
                "threshold {threshold}"
            );
        }
    });
}

// ----------------------------------------------------------- over-reports

/// A writer that takes everything and reports one byte more.
#[derive(Debug, Default)]
struct OverReporter {
    taken: usize,
}

impl AsyncWrite for OverReporter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.taken += buf.len();
        Poll::Ready(Ok(buf.len() + 1))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn assert_invalid_data<T: std::fmt::Debug>(r: io::Result<T>) {
    match r {
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}"),
        Ok(v) => panic!("an over-report was passed on: Ok({v:?})"),
    }
}

#[test]
fn writer_over_report_is_invalid_data_on_every_path() {
    on_both_runtimes(|| async {
        // The direct path: a borrowed write of at least 64 KiB.
        let big = vec![7u8; 70_000];
        let mut w = StreamWriter::new(OverReporter::default());
        assert_invalid_data(w.write(&big).await);
        // write_all must get the error too, not panic on Ok(70001).
        let mut w = StreamWriter::new(OverReporter::default());
        assert_invalid_data(w.write_all(&big).await);
        // The coalesced path and the queued path, through flush.
        for item in [Bytes::from_static(b"small"), Bytes::from(vec![1u8; 4096])] {
            let mut w = StreamWriter::new(OverReporter::default());
            w.send(item).await.unwrap();
            assert_invalid_data(w.flush().await.map_err(io::Error::from));
        }
        // A writer larger than the cap goes direct too.
        let mut w = StreamWriter::new(OverReporter::default()).with_max_pending(16);
        assert_invalid_data(w.write(&[1u8; 100]).await);
    });
}

#[test]
fn copy_exact_over_reporting_destination_is_invalid_data() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(&b"0123456789"[..]);
        let mut dst = OverReporter::default();
        match r.copy_exact(10, &mut dst).await {
            Err(Error::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::InvalidData),
            other => panic!("{other:?}"),
        }
        // An impossible count is not trusted: nothing is consumed, so the
        // caller still has every byte.
        assert_eq!(dst.taken, 10);
        assert_eq!(r.buffer(), b"0123456789");
    });
}

// ------------------------------------------------------ Interrupted forever

/// Returns `Interrupted` on its first `interruptions` calls, then works.
/// With an effectively endless count it stands for a reader or writer that
/// interrupts forever; the finite count keeps a broken build from hanging.
#[derive(Debug)]
struct Interrupting<T> {
    inner: T,
    calls: usize,
    interruptions: usize,
}

impl<T> Interrupting<T> {
    fn new(inner: T, interruptions: usize) -> Self {
        Interrupting {
            inner,
            calls: 0,
            interruptions,
        }
    }
    fn interrupt(&mut self) -> bool {
        self.calls += 1;
        self.calls <= self.interruptions
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Interrupting<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.interrupt() {
            return Poll::Ready(Err(io::ErrorKind::Interrupted.into()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Interrupting<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.interrupt() {
            return Poll::Ready(Err(io::ErrorKind::Interrupted.into()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

const FOREVER: usize = 1_000_000;

/// Polls `fut` once with a counting waker: whether it was pending, and how
/// often it woke its task.
fn poll_once_counting<F: Future + Unpin>(fut: &mut F) -> (bool, usize) {
    let (waker, count) = futures_test::task::new_count_waker();
    let mut cx = Context::from_waker(&waker);
    let pending = Pin::new(fut).poll(&mut cx).is_pending();
    (pending, count.get())
}

#[test]
fn reader_interrupted_forever_yields_instead_of_spinning() {
    let mut r = StreamReader::new(Interrupting::new(&b"abc"[..], FOREVER));
    let mut read = r.read_exactly(3);
    let (pending, wakes) = poll_once_counting(&mut read);
    assert!(pending, "one poll must return instead of retrying forever");
    assert_eq!(wakes, 1, "the task is woken to try again");
    drop(read);
    assert!(
        r.get_ref().calls <= 64,
        "{} calls in one poll",
        r.get_ref().calls
    );
}

#[test]
fn reader_interrupted_many_times_loses_nothing() {
    on_both_runtimes(|| async {
        let mut r = StreamReader::new(Interrupting::new(&b"abc\n"[..], miri_or(10_000, 1_000)));
        assert_eq!(&r.read_until(b"\n").await.unwrap().unwrap()[..], b"abc\n");
        let mut r = StreamReader::with_capacity(0, Interrupting::new(&b"abcd"[..], 1_000));
        let mut dst = [0u8; 4];
        r.read_exact_into(&mut dst).await.unwrap();
        assert_eq!(&dst, b"abcd");
    });
}

#[test]
fn writer_interrupted_forever_yields_instead_of_spinning() {
    let sink = Interrupting::new(SlowWriter::new(usize::MAX, false), FOREVER);
    let mut w = StreamWriter::new(sink);
    assert!(poll_at_most(w.send(Bytes::from_static(b"abc")), 1).is_some());
    let mut flush = w.flush();
    let (pending, wakes) = poll_once_counting(&mut flush);
    assert!(pending, "one poll must return instead of retrying forever");
    assert_eq!(wakes, 1);
    drop(flush);
    assert!(
        w.get_ref().calls <= 64,
        "{} calls in one poll",
        w.get_ref().calls
    );
    assert_eq!(w.pending(), 3, "nothing lost");
    // The direct path too.
    let sink = Interrupting::new(SlowWriter::new(usize::MAX, false), FOREVER);
    let mut w = StreamWriter::new(sink);
    let big = vec![1u8; 70_000];
    let mut write = w.write(&big);
    assert!(poll_once_counting(&mut write).0);
    drop(write);
    assert!(w.get_ref().calls <= 64);
}

#[test]
fn copy_exact_destination_interrupted_forever_yields() {
    let mut r = StreamReader::new(&b"abc"[..]);
    let mut dst = Interrupting::new(SlowWriter::new(usize::MAX, false), FOREVER);
    let mut copy = r.copy_exact(3, &mut dst);
    assert!(poll_once_counting(&mut copy).0);
    drop(copy);
    assert!(dst.calls <= 64, "{} calls in one poll", dst.calls);
    assert_eq!(r.buffer(), b"abc", "nothing lost");
}

#[test]
fn writer_interrupted_many_times_sends_everything_once() {
    on_both_runtimes(|| async {
        // Under Miri: 500 bytes per write, 1,000 interruptions.
        let sink = Interrupting::new(
            SlowWriter::new(miri_or(5, 500), true),
            miri_or(10_000, 1_000),
        );
        let mut w = StreamWriter::new(sink);
        let data = pattern(100_000, 3);
        w.write_all(&data[..1000]).await.unwrap();
        w.send(Bytes::copy_from_slice(&data[1000..5000]))
            .await
            .unwrap();
        w.write_all(&data[5000..]).await.unwrap();
        w.flush().await.unwrap();
        assert_eq!(w.get_ref().inner.data, data);
    });
}
