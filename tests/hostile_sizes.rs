//! Sizes a caller or a peer can get wrong: capacities, limits and lengths
//! at the edges of the integer types. Each gets a clear error or a
//! documented panic at build time, never an abort mid-stream.
mod common;

use common::*;
use intake::{LengthPrefix, StreamReader, MAX_CAPACITY};

#[test]
fn capacity_over_the_maximum_is_rejected_when_built() {
    for cap in [MAX_CAPACITY + 1, 1 << 40, usize::MAX] {
        assert!(StreamReader::try_with_capacity(cap, &b""[..]).is_none());
        let panicked = std::panic::catch_unwind(|| StreamReader::with_capacity(cap, &b""[..]));
        assert!(
            panicked.is_err(),
            "with_capacity({cap}) must panic when built"
        );
    }
}

#[test]
fn capacity_at_the_maximum_is_accepted_and_allocates_nothing_up_front() {
    let r = StreamReader::try_with_capacity(MAX_CAPACITY, &b""[..]).unwrap();
    assert_eq!(r.capacity(), MAX_CAPACITY);
}

#[test]
fn huge_peek_with_unlimited_limit_returns_what_arrived() {
    on_both_runtimes(|| async {
        for (how, src) in deliveries(b"0123456789") {
            let mut r = StreamReader::with_capacity(4, src).with_limit(usize::MAX);
            assert_eq!(r.peek(1 << 40).await.unwrap(), b"0123456789", "{how}");
        }
    });
}

#[test]
fn encode_header_too_large_is_not_called_negative() {
    let prefix = LengthPrefix::new(8)
        .max_frame_len(usize::MAX)
        .length_adjustment(i64::MIN);
    let err = prefix.encode_header(usize::MAX).unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("negative"), "{text}");
    assert!(text.contains("too large"), "{text}");
    // A really negative one still says so.
    let prefix = LengthPrefix::new(2).length_adjustment(10);
    let text = prefix.encode_header(3).unwrap_err().to_string();
    assert!(text.contains("negative"), "{text}");
}
