//! Every named future is a `FusedFuture` and `FramedRead` a `FusedStream`,
//! so `futures::select!` takes them as they are, without `.fuse()`.
mod common;

use bytes::Bytes;
use common::*;
use futures::{pin_mut, select};
use futures_core::future::FusedFuture;
use futures_core::stream::FusedStream;
use futures_lite::StreamExt;
use intake::frame::{Delimited, FramedRead};
use intake::{LengthPrefix, StreamReader, StreamWriter};

#[test]
fn select_takes_intake_futures_without_fuse() {
    on_both_runtimes(|| async {
        let mut lines = StreamReader::new(&b"line\n"[..]);
        let mut never = StreamReader::new(NeverReady::default());
        let line = lines.read_until(b"\n");
        let stalled = never.read_exactly(4);
        pin_mut!(line, stalled);
        let got = select! {
            l = line => l.unwrap().unwrap(),
            _ = stalled => unreachable!("the stalled read never completes"),
        };
        assert_eq!(&got[..], b"line\n");
        assert!(line.is_terminated());
        assert!(!stalled.is_terminated());
    });
}

#[test]
fn every_named_future_reports_termination() {
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(1);
        let mut r = StreamReader::new(&b"ab\ncd\nef\x01g\x01hXYZ0123456789!"[..]);
        macro_rules! check {
            ($fut:expr) => {{
                let mut fut = $fut;
                assert!(!FusedFuture::is_terminated(&fut));
                let out = (&mut fut).await;
                assert!(FusedFuture::is_terminated(&fut), "{}", stringify!($fut));
                out
            }};
        }
        check!(r.read_until(b"\n")).unwrap();
        check!(r.peek_until(b"\n")).unwrap();
        check!(r.skip_until(b"\n")).unwrap();
        check!(r.peek(2)).unwrap();
        check!(r.read_exactly(2)).unwrap();
        check!(r.read_frame(&prefix)).unwrap();
        check!(r.skip_frame(&prefix)).unwrap();
        let mut upto_z = Delimited::new(b"Z");
        check!(r.decode(&mut upto_z)).unwrap();
        let mut one = [0u8; 1];
        check!(r.read_into(&mut one)).unwrap();
        check!(r.read_exact_into(&mut one)).unwrap();
        check!(r.skip(1)).unwrap();
        let mut sink = Vec::new();
        check!(r.copy_exact(1, &mut sink)).unwrap();
        let mut chunked = StreamReader::new(&b"1\r\nx\r\n0\r\n\r\n"[..]);
        let mut body = chunked.chunked();
        check!(body.skip_rest()).unwrap();

        let mut w = StreamWriter::new(Vec::new());
        check!(w.send(Bytes::from_static(b"x"))).unwrap();
        check!(w.send_frame(&prefix, Bytes::from_static(b"y"))).unwrap();
        check!(w.flush()).unwrap();
        assert_eq!(w.get_ref(), b"x\x01y");
    });
}

#[test]
fn framed_read_is_a_fused_stream() {
    on_both_runtimes(|| async {
        let mut frames = FramedRead::new(&b"a\n"[..], Delimited::lines());
        assert!(!frames.is_terminated());
        assert_eq!(&frames.next().await.unwrap().unwrap()[..], b"a\n");
        assert!(frames.next().await.is_none());
        assert!(frames.is_terminated());
        // And select! takes it as it is (futures' own `next`, which is
        // fused for a fused stream).
        let mut frames = FramedRead::new(&b"b\n"[..], Delimited::lines());
        let item = select! { f = futures::StreamExt::next(&mut frames) => f };
        assert_eq!(&item.unwrap().unwrap()[..], b"b\n");
    });
}
