//! StreamWriter: random sends, send_frames and writes, with a scripted
//! inner writer (partial writes, `Pending`, errors) and a random cap. The
//! output must be exactly the items in order, `pending()` must stay under
//! the cap (one oversized item aside), and close must close once.
#![no_main]

use bytes::Bytes;
use futures_lite::future::block_on;
use futures_lite::AsyncWriteExt;
use intake::{Error, LengthPrefix, StreamWriter};
use intake_fuzz::{retry, split, Control, ScriptedWriter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let (control, data) = split(input);
    let (io, ops) = control.split_at(control.len() / 2);
    let mut ops = Control::new(ops);
    let cap = [0usize, 10, 100, 5000][ops.next() as usize % 4];
    let threshold = [1usize, 16, 4096][ops.next() as usize % 3];
    let prefix = LengthPrefix::new(2);
    let mut w = StreamWriter::new(ScriptedWriter::new(io))
        .with_max_pending(cap)
        .with_copy_threshold(threshold);
    let mut expected = Vec::new();
    let mut pos = 0;
    // The rule: pending <= max(cap, the last item accepted).
    let mut last_item = 0usize;
    block_on(async {
        for _ in 0..256 {
            if pos >= data.len() {
                break;
            }
            let len = (ops.next() as usize % 300).min(data.len() - pos);
            let item = &data[pos..pos + len];
            pos += len;
            match ops.next() % 4 {
                0 => {
                    retry!(w.send(Bytes::copy_from_slice(item)).await).unwrap();
                    expected.extend_from_slice(item);
                    last_item = len;
                }
                1 => {
                    retry!(w.send_frame(&prefix, Bytes::copy_from_slice(item)).await).unwrap();
                    expected.extend_from_slice(&(item.len() as u16).to_be_bytes());
                    expected.extend_from_slice(item);
                    last_item = len + 2;
                }
                2 => {
                    let mut left = item;
                    while !left.is_empty() {
                        match w.write(left).await {
                            Ok(n) => left = &left[n..],
                            Err(e) if e.kind() == intake_fuzz::ERR_KIND => {}
                            Err(e) => panic!("{e}"),
                        }
                    }
                    expected.extend_from_slice(item);
                    last_item = last_item.max(len);
                }
                _ => {
                    let _: Result<(), Error> = retry!(w.flush().await);
                    assert_eq!(w.pending(), 0);
                }
            }
            assert!(
                w.pending() <= cap.max(last_item),
                "pending {} over cap {cap}",
                w.pending()
            );
            assert_eq!(
                w.get_ref().out.len() + w.pending(),
                expected.len(),
                "pending is exact"
            );
        }
        loop {
            match w.close().await {
                Ok(()) => break,
                Err(e) if e.kind() == intake_fuzz::ERR_KIND => continue,
                Err(e) => panic!("{e}"),
            }
        }
        w.close().await.unwrap();
        assert_eq!(w.get_ref().out, expected);
        assert_eq!(w.get_ref().closes, 1);
    });
});
