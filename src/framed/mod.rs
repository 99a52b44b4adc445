//! The `Stream` and `Sink` adapters: [`FramedRead`] decodes items from a
//! `StreamReader`, [`FramedWrite`] encodes them into a `StreamWriter`.
//!
//! Layer: the top one; it uses the reader, the writer and the codecs.
//! Published as [`crate::frame`].

mod framed_read;
mod framed_write;

pub use framed_read::FramedRead;
pub use framed_write::FramedWrite;
