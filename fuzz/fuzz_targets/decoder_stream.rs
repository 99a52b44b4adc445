//! `FramedRead` with a `Delimited` decoder over scripted I/O, checked
//! against a naive split of the input.
#![no_main]

use futures_lite::future::block_on;
use futures_lite::StreamExt;
use intake::frame::{Delimited, FramedRead};
use intake::{Error, StreamReader};
use intake_fuzz::{split, ScriptedReader, ERR_KIND};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&config, input)) = input.split_first() else {
        return;
    };
    let (io, data) = split(input);
    let delim: &[u8] = [&b"\n"[..], b"\r\n", b"aab", b"\0\0\0"][config as usize % 4];
    let max = [3usize, 10, 100, 70_000][(config as usize >> 2) % 4];
    // Oracle: leftmost non-overlapping matches, each frame <= max.
    let mut want = Vec::new();
    let mut pos = 0;
    let end = loop {
        let rest = &data[pos..];
        let found = (0..rest.len().saturating_sub(delim.len() - 1))
            .find(|&i| &rest[i..i + delim.len()] == delim);
        match found.map(|i| i + delim.len()) {
            Some(e) if e <= max => {
                want.push(rest[..e].to_vec());
                pos += e;
            }
            Some(_) => break "limit",
            None if rest.len() >= max => break "limit",
            None if rest.is_empty() => break "clean",
            None => break "eof",
        }
    };
    let reader = StreamReader::with_capacity(8, ScriptedReader::new(data, io));
    let mut s = FramedRead::from_reader(reader, Delimited::new(delim).max_length(max));
    block_on(async {
        let mut got = Vec::new();
        let got_end = loop {
            match s.next().await {
                Some(Ok(f)) => got.push(f.to_vec()),
                None => break "clean",
                Some(Err(Error::LimitExceeded { .. })) => break "limit",
                Some(Err(Error::UnexpectedEof { partial, .. })) => {
                    assert_eq!(&partial[..], &data[pos..]);
                    break "eof";
                }
                // The stream is fused after an I/O error: what it yielded
                // so far must still be a prefix of the oracle's frames.
                Some(Err(Error::Io(e))) if e.kind() == ERR_KIND => {
                    assert!(s.next().await.is_none(), "fused");
                    assert_eq!(&want[..got.len()], &got[..]);
                    return;
                }
                Some(Err(e)) => panic!("{e}"),
            }
        };
        assert_eq!(got, want);
        assert_eq!(got_end, end);
    });
});
