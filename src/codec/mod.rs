//! Codecs: how frames are laid out on the wire, with no I/O. `LengthPrefix`,
//! `Delimited` and `Lines` describe frames; the `Decoder` and `Encoder` traits let
//! any protocol work inside the reader's buffer and the writer's queue.
//!
//! Layer: above `buffer` (decoders see the read buffer through `DecodeBuf`,
//! encoders the write queue through `EncodeBuf`), below `reader`, `writer`
//! and `framed`, which use these. Published as [`crate::frame`].

pub(crate) mod chunked;
mod decoder;
mod delimited;
mod encoder;
mod length_prefix;
mod lines;

pub use decoder::{DecodeBuf, Decoder};
pub use delimited::{Delimited, DEFAULT_MAX_LENGTH};
pub use encoder::{EncodeBuf, Encoder};
pub use length_prefix::{Header, LengthPrefix, DEFAULT_MAX_FRAME_LEN};
pub use lines::Lines;

pub(crate) use length_prefix::Parsed;
