//! `FramedWrite` (Sink) and the `Encoder` trait, round-tripped through
//! `FramedRead`.
mod common;

use std::pin::Pin;

use bytes::Bytes;
use common::*;
use futures_lite::future::poll_fn;
use futures_lite::StreamExt;
use futures_sink::Sink;
use intake::frame::{Delimited, FramedRead, FramedWrite};
use intake::{Error, LengthPrefix, StreamWriter};

async fn feed<S: Sink<Bytes, Error = Error> + Unpin>(
    sink: &mut S,
    item: Bytes,
) -> Result<(), Error> {
    poll_fn(|cx| Pin::new(&mut *sink).poll_ready(cx)).await?;
    Pin::new(&mut *sink).start_send(item)
}

async fn close<S: Sink<Bytes, Error = Error> + Unpin>(sink: &mut S) -> Result<(), Error> {
    poll_fn(|cx| Pin::new(&mut *sink).poll_close(cx)).await
}

fn frames() -> Vec<Bytes> {
    let large = miri_or(6000, 1500);
    (0..miri_or(120, 8))
        .map(|i| Bytes::from(pattern([0usize, 3, 100, large][i % 4], i as u64)))
        .collect()
}

#[test]
fn framed_write_length_prefixed_round_trip_through_a_slow_writer() {
    on_both_runtimes(|| async {
        for prefix in [
            LengthPrefix::new(2),
            LengthPrefix::new(4).little_endian(),
            LengthPrefix::varint(),
        ] {
            let mut sink = FramedWrite::new(SlowWriter::new(7, true), prefix);
            for f in frames() {
                feed(&mut sink, f).await.unwrap();
            }
            close(&mut sink).await.unwrap();
            let wire = sink.get_ref().get_ref().data.clone();
            assert_eq!(sink.get_ref().get_ref().closes, 1);
            let got: Vec<Bytes> = FramedRead::new(&wire[..], prefix)
                .map(Result::unwrap)
                .collect()
                .await;
            assert_eq!(got, frames(), "{prefix:?}");
        }
    });
}

#[test]
fn framed_write_delimited_round_trip_and_overlong_rejected() {
    on_both_runtimes(|| async {
        let mut sink = FramedWrite::new(
            SlowWriter::new(5, true),
            Delimited::new(b"\r\n").max_length(10),
        );
        feed(&mut sink, Bytes::from_static(b"one")).await.unwrap();
        assert!(matches!(
            feed(&mut sink, Bytes::from_static(b"much too long")).await,
            Err(Error::LimitExceeded { limit: 10 })
        ));
        feed(&mut sink, Bytes::from_static(b"two")).await.unwrap();
        close(&mut sink).await.unwrap();
        assert_eq!(
            sink.get_ref().get_ref().data,
            b"one\r\ntwo\r\n",
            "the rejected item left nothing"
        );
    });
}

#[test]
fn framed_write_readiness_respects_the_cap() {
    let stuck = StreamWriter::new(NeverWrites).with_max_pending(1000);
    let mut sink = FramedWrite::from_writer(stuck, LengthPrefix::new(2));
    let mut accepted = 0;
    while poll_at_most(poll_fn(|cx| Pin::new(&mut sink).poll_ready(cx)), 2).is_some() {
        Pin::new(&mut sink)
            .start_send(Bytes::from(vec![0u8; 98]))
            .unwrap();
        accepted += 1;
    }
    assert_eq!(accepted, 10, "ready while under the cap");
    assert!(sink.get_ref().pending() <= 1000);
}

/// A writer that is never ready.
struct NeverWrites;

impl futures_io::AsyncWrite for NeverWrites {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        _: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Pending
    }
    fn poll_flush(
        self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Pending
    }
    fn poll_close(
        self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Pending
    }
}
