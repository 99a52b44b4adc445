//! `FramedWrite`: a `Sink` of items, encoded into a `StreamWriter`.

use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::Destination;
use futures_sink::Sink;
use pin_project_lite::pin_project;

use crate::codec::Encoder;
use crate::{Error, StreamWriter};

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

impl<W: Destination, E: Encoder<Item>, Item> Sink<Item> for FramedWrite<W, E> {
    type Error = Error;

    #[inline]
    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        // The item's size is not known yet: room for a 1-byte copied item
        // (under the write size and the cap, or nothing pending).
        self.project()
            .writer
            .poll_room_for(cx, 1, 1)
            .map_err(Error::Io)
    }

    fn start_send(self: Pin<&mut Self>, item: Item) -> Result<(), Error> {
        let this = self.project();
        this.encoder.encode(item, &mut this.writer.encode_buf())
    }

    #[inline]
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        futures_io::AsyncWrite::poll_flush(self.project().writer, cx).map_err(Error::Io)
    }

    #[inline]
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        ready!(futures_io::AsyncWrite::poll_close(
            self.project().writer,
            cx
        ))
        .map_err(Error::Io)?;
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
