//! The `Encoder` trait and the `FramedWrite` sink.

use std::fmt;

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures_io::AsyncWrite;
use futures_sink::Sink;
use pin_project_lite::pin_project;

use super::Delimited;
use crate::writer::EncodeBuf;
use crate::{Error, LengthPrefix, StreamWriter};

/// Turns items into bytes at the end of a [`StreamWriter`]'s queue.
///
/// An encoder should validate an item before it appends anything, so that
/// a rejected item leaves nothing behind (as `LengthPrefix` does).
///
/// # Examples
///
/// ```
/// use intake::frame::{EncodeBuf, Encoder};
///
/// /// `u8` length, then the string's bytes.
/// struct ShortStrings;
///
/// impl Encoder<&str> for ShortStrings {
///     fn encode(&mut self, item: &str, dst: &mut EncodeBuf<'_>) -> Result<(), intake::Error> {
///         let len = u8::try_from(item.len()).map_err(|_| {
///             intake::Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, "too long"))
///         })?;
///         dst.extend_from_slice(&[len]);
///         dst.extend_from_slice(item.as_bytes());
///         Ok(())
///     }
/// }
///
/// # futures_lite::future::block_on(async {
/// use futures_lite::future::poll_fn;
/// use futures_sink::Sink;
/// let mut framed = intake::frame::FramedWrite::new(Vec::new(), ShortStrings);
/// let mut framed = std::pin::pin!(framed);
/// poll_fn(|cx| framed.as_mut().poll_ready(cx)).await?;
/// framed.as_mut().start_send("hi")?;
/// poll_fn(|cx| framed.as_mut().poll_flush(cx)).await?;
/// assert_eq!(framed.get_ref().get_ref(), b"\x02hi");
/// # Ok::<(), intake::Error>(())
/// # }).unwrap();
/// ```
pub trait Encoder<Item> {
    /// Appends the encoding of `item` to `dst`.
    ///
    /// # Errors
    ///
    /// Whatever makes `item` unencodable; nothing should have been
    /// appended then.
    fn encode(&mut self, item: Item, dst: &mut EncodeBuf<'_>) -> Result<(), Error>;
}

/// The length header, then the payload (kept as it is when large: header
/// and payload go out in one vectored write, never concatenated).
impl Encoder<Bytes> for LengthPrefix {
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Error> {
        let header = self.encode_header(item.len())?;
        dst.extend_from_slice(header.as_ref());
        dst.push(item);
        Ok(())
    }
}

/// The item, then the delimiter. The item is not checked for the
/// delimiter; a frame longer than `max_length` is rejected.
impl Encoder<Bytes> for Delimited {
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Error> {
        let delim = self.delimiter();
        if item.len().saturating_add(delim.len()) > self.max() {
            return Err(Error::LimitExceeded { limit: self.max() });
        }
        dst.push(item);
        dst.extend_from_slice(delim);
        Ok(())
    }
}

pin_project! {
    /// A [`Sink`] of items, encoded by an [`Encoder`] into a [`StreamWriter`].
    ///
    /// Ready while the writer's pending bytes are under its cap; an item is
    /// accepted whole, so pending bytes exceed the cap by at most one item.
    /// `poll_flush` writes everything and flushes the inner writer;
    /// `poll_close` flushes, then closes it once.
    pub struct FramedWrite<W, E> {
        #[pin]
        writer: StreamWriter<W>,
        encoder: E,
    }
}

impl<W, E> FramedWrite<W, E> {
    /// Encodes items with `encoder` into `inner`, through a default
    /// [`StreamWriter`].
    pub fn new(inner: W, encoder: E) -> Self {
        Self::from_writer(StreamWriter::new(inner), encoder)
    }

    /// Encodes into an existing writer (keeping its cap and pending bytes).
    pub fn from_writer(writer: StreamWriter<W>, encoder: E) -> Self {
        FramedWrite { writer, encoder }
    }

    /// The writer.
    pub fn get_ref(&self) -> &StreamWriter<W> {
        &self.writer
    }

    /// The writer, mutably.
    pub fn get_mut(&mut self) -> &mut StreamWriter<W> {
        &mut self.writer
    }

    /// The encoder.
    pub fn encoder(&self) -> &E {
        &self.encoder
    }

    /// The writer and the encoder.
    pub fn into_parts(self) -> (StreamWriter<W>, E) {
        (self.writer, self.encoder)
    }
}

impl<W: AsyncWrite, E: Encoder<Item>, Item> Sink<Item> for FramedWrite<W, E> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        // Room for (at least) a 1-byte item: under the cap, or nothing pending.
        self.project()
            .writer
            .poll_room_for(cx, 1)
            .map_err(Error::Io)
    }

    fn start_send(self: Pin<&mut Self>, item: Item) -> Result<(), Error> {
        let this = self.project();
        this.encoder.encode(item, &mut this.writer.encode_buf())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        AsyncWrite::poll_flush(self.project().writer, cx).map_err(Error::Io)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        ready!(AsyncWrite::poll_close(self.project().writer, cx)).map_err(Error::Io)?;
        Poll::Ready(Ok(()))
    }
}

impl<W: fmt::Debug, E: fmt::Debug> fmt::Debug for FramedWrite<W, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FramedWrite")
            .field("writer", &self.writer)
            .field("encoder", &self.encoder)
            .finish()
    }
}
