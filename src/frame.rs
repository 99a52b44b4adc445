//! Framing: length prefixes, a [`Decoder`] for any protocol and a
//! [`FramedRead`] stream, an [`Encoder`] and a [`FramedWrite`] sink.
//!
//! This module is the public face of two layers of the crate: the codecs
//! (`LengthPrefix`, `Delimited`, `Lines`, `Decoder`, `Encoder`: pure, no I/O), which
//! sit below the reader and the writer, and the `Stream`/`Sink` adapters
//! (`FramedRead`, `FramedWrite`), which sit on top of them.
//!
//! A [`LengthPrefix`] describes the header in front of each frame. The
//! diagrams show input bytes on the left and the decoded frame on the right.
//!
//! `LengthPrefix::new(2)`: big-endian `u16` length, header stripped.
//!
//! ```text
//! +-- len --+--- payload ---+          +--- payload ---+
//! | \x00\x0B |  hello world  |   -->    |  hello world  |
//! +----------+---------------+          +---------------+
//! ```
//!
//! `LengthPrefix::new(4).little_endian()`: little-endian `u32` length.
//!
//! ```text
//! +------ len -------+- payload -+          +- payload -+
//! | \x05\x00\x00\x00 |   hello   |   -->    |   hello   |
//! +------------------+-----------+          +-----------+
//! ```
//!
//! `LengthPrefix::varint()`: unsigned LEB128 length (protobuf style).
//!
//! ```text
//! +-- len ---+-- 300-byte payload --+          +-- 300-byte payload --+
//! | \xAC\x02 |         ...          |   -->    |         ...          |
//! +----------+----------------------+          +----------------------+
//! ```
//!
//! `LengthPrefix::new(2).length_adjustment(-2)`: the length counts its own
//! 2-byte header (0x000D = 2 + 11).
//!
//! ```text
//! +-- len ---+--- payload ---+          +--- payload ---+
//! | \x00\x0D |  hello world  |   -->    |  hello world  |
//! +----------+---------------+          +---------------+
//! ```
//!
//! `LengthPrefix::new(2).length_field_offset(1).keep_header()`: a 1-byte
//! type before the length, whole frame returned.
//!
//! ```text
//! +type+-- len ---+- payload -+          +type+-- len ---+- payload -+
//! |\x07| \x00\x05 |   hello   |   -->    |\x07| \x00\x05 |   hello   |
//! +----+----------+-----------+          +----+----------+-----------+
//! ```
//!
//! `LengthPrefix::new(3).length_adjustment(1).num_skip(4)`: a 3-byte length,
//! then a flag byte it does not count, both dropped (tokio-util's
//! `num_skip` example).
//!
//! ```text
//! +------ len -------+flag+--- payload ---+          +--- payload ---+
//! | \x00\x00\x0B     |\xCA|  Hello world  |   -->    |  Hello world  |
//! +------------------+----+---------------+          +---------------+
//! ```
//!
//! A length over [`LengthPrefix::max_frame_len`] (default 8 MiB) is
//! [`Error::FrameTooLarge`](crate::Error::FrameTooLarge) as soon as the
//! header is seen, before any payload memory is allocated. Nothing is
//! consumed: the reader keeps the header buffered and reports the same error
//! again, and a [`FramedRead`] ends, unless the frame is skipped:
//! [`StreamReader::skip_frame`](crate::StreamReader::skip_frame) discards it
//! with bounded memory, and [`FramedRead::skip_oversized`] reports each such
//! frame once and goes on.

pub use crate::codec::{
    DecodeBuf, Decoder, Delimited, EncodeBuf, Encoder, Header, LengthPrefix, Lines,
    DEFAULT_MAX_FRAME_LEN, DEFAULT_MAX_LENGTH,
};
pub use crate::framed::{FramedRead, FramedWrite};
