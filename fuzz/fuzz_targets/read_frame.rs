//! `read_frame` for every prefix kind over scripted I/O, checked against a
//! naive decoder of the whole input.
#![no_main]

use futures_lite::future::block_on;
use intake::{Error, LengthPrefix, StreamReader};
use intake_fuzz::{retry, split, ScriptedReader};
use libfuzzer_sys::fuzz_target;

/// The oracle: (frames, what ends the input).
#[derive(Debug, PartialEq)]
enum End {
    Clean,
    Eof(Vec<u8>),
    TooLarge,
    Invalid,
}

fn naive(data: &[u8], width: usize, le: bool, max: usize) -> (Vec<Vec<u8>>, End) {
    let mut frames = Vec::new();
    let mut pos = 0;
    loop {
        if pos == data.len() {
            return (frames, End::Clean);
        }
        let (len, hlen): (u128, usize) = if width == 0 {
            let mut v: u128 = 0;
            let mut i = 0;
            loop {
                let Some(&b) = data.get(pos + i) else {
                    return (frames, End::Eof(data[pos..].to_vec()));
                };
                v |= u128::from(b & 0x7f) << (7 * i);
                i += 1;
                if b & 0x80 == 0 {
                    break;
                }
                if i == 10 {
                    return (frames, End::Invalid);
                }
            }
            if v > u128::from(u64::MAX) {
                return (frames, End::Invalid);
            }
            (v, i)
        } else {
            let Some(field) = data.get(pos..pos + width) else {
                return (frames, End::Eof(data[pos..].to_vec()));
            };
            let mut v: u128 = 0;
            let bytes: Vec<u8> = if le {
                field.iter().rev().copied().collect()
            } else {
                field.to_vec()
            };
            for b in bytes {
                v = v << 8 | u128::from(b);
            }
            (v, width)
        };
        if len > max as u128 {
            return (frames, End::TooLarge);
        }
        let end = pos + hlen + len as usize;
        if end > data.len() {
            return (frames, End::Eof(data[pos..].to_vec()));
        }
        frames.push(data[pos + hlen..end].to_vec());
        pos = end;
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&config, input)) = input.split_first() else {
        return;
    };
    let (io, data) = split(input);
    let width = [0usize, 1, 2, 3, 4, 8][config as usize % 6];
    let le = config & 0x40 != 0;
    let max = [0usize, 5, 300, 70_000][(config as usize >> 3) % 4];
    let mut prefix = if width == 0 {
        LengthPrefix::varint()
    } else {
        LengthPrefix::new(width)
    };
    if le {
        prefix = prefix.little_endian();
    }
    let prefix = prefix.max_frame_len(max);
    let (frames, end) = naive(data, width, le, max);
    let mut r = StreamReader::with_capacity(16, ScriptedReader::new(data, io));
    block_on(async {
        let mut got = Vec::new();
        let got_end = loop {
            match retry!(r.read_frame(&prefix).await) {
                Ok(Some(f)) => got.push(f.to_vec()),
                Ok(None) => break End::Clean,
                Err(Error::UnexpectedEof { partial, .. }) => break End::Eof(partial.to_vec()),
                Err(Error::FrameTooLarge { .. }) => break End::TooLarge,
                Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                    break End::Invalid
                }
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(got, frames);
        assert_eq!(got_end, end);
    });
});
