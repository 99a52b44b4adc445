//! Property test: random frame sequences, every prefix width and byte order
//! (and varints), the wire split at random points with random `Pending`:
//! `read_frame` and `FramedRead` return exactly the frames that were sent.
mod common;

use common::*;
use futures_lite::StreamExt;
use intake::frame::FramedRead;
use intake::{LengthPrefix, StreamReader};
use proptest::prelude::*;

fn prefix_for(kind: usize, little: bool) -> LengthPrefix {
    let p = match kind {
        0 => LengthPrefix::varint(),
        k => LengthPrefix::new([1, 2, 3, 4, 8][k - 1]),
    };
    if little {
        p.little_endian()
    } else {
        p
    }
}

async fn run(
    frames: Vec<Vec<u8>>,
    prefix: LengthPrefix,
    cuts: Vec<usize>,
    pending: bool,
    capacity: usize,
) {
    let mut wire = Vec::new();
    for f in &frames {
        wire.extend_from_slice(prefix.encode_header(f.len()).unwrap().as_ref());
        wire.extend_from_slice(f);
    }
    let mut r =
        StreamReader::with_capacity(capacity, ScriptedReader::split_at(&wire, &cuts, pending));
    for f in &frames {
        assert_eq!(&r.read_frame(&prefix).await.unwrap().unwrap()[..], &f[..]);
    }
    assert!(r.read_frame(&prefix).await.unwrap().is_none());
    let framed = FramedRead::from_reader(
        StreamReader::with_capacity(capacity, ScriptedReader::split_at(&wire, &cuts, pending)),
        prefix,
    );
    let got: Vec<Vec<u8>> = framed.map(|f| f.unwrap().to_vec()).collect().await;
    assert_eq!(got, frames);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(miri_or(256, 4) as u32))]

    #[test]
    fn random_frame_sequences_every_width_and_order(
        // Lengths up to 1100 (multi-byte lengths, some with a zero low byte:
        // 256, 512, ...), plus those exactly. Under Miri, where each random
        // byte costs a strategy's run, shorter ones.
        frames in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..miri_or(1100, 300)),
                prop::sample::select(vec![256usize, 512, 768, 1024]).prop_map(|n| vec![7u8; n]),
            ],
            0..miri_or(12, 6),
        ),
        kind in 0usize..6,
        little in any::<bool>(),
        cuts in prop::collection::vec(0usize..6000, 0..30),
        pending in any::<bool>(),
        capacity in prop::sample::select(vec![0usize, 1, 5, 64, 8192]),
    ) {
        let prefix = prefix_for(kind, little);
        // A 1-byte prefix carries at most 255.
        let limit = if kind == 1 { 255 } else { usize::MAX };
        let frames: Vec<Vec<u8>> = frames.into_iter().map(|mut f| { f.truncate(limit); f }).collect();
        let mut cuts = cuts;
        cuts.sort_unstable();
        on_both_runtimes(|| run(frames.clone(), prefix, cuts.clone(), pending, capacity));
    }
}
