//! `FramedRead`: a `Stream` of decoded items.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::io::Source;
use futures_core::{FusedStream, Stream};
use pin_project_lite::pin_project;

use crate::buffer::DecodeSession;
use crate::codec::{Decoder, LengthPrefix};
use crate::reader::FrameSkip;
use crate::{Error, StreamReader};

/// Items yielded in a row, without the inner reader ever being pending,
/// before the stream yields to the executor once.
const BUDGET: u32 = 128;

pin_project! {
    /// A [`Stream`] of items decoded from a reader by a [`Decoder`].
    ///
    /// - Decodes what is already buffered before polling the inner reader.
    /// - Fused after its first error (and after the end), except errors the
    ///   decoder has dealt with itself ([`Decoder::recovers_from`], e.g.
    ///   an over-long line with
    ///   [`Delimited::discard_overlong`](crate::frame::Delimited::discard_overlong)),
    ///   and oversized frames with [`skip_oversized`](Self::skip_oversized):
    ///   those are reported once and the stream goes on.
    /// - At end of stream, leftover bytes that make no item are an
    ///   [`Error::UnexpectedEof`] carrying them (the default
    ///   [`Decoder::decode_eof`]).
    /// - Cooperative: after 128 items in a row without the inner reader
    ///   being pending it wakes itself and returns `Pending` once, so a flood
    ///   of tiny frames cannot starve other tasks on the executor.
    ///
    /// Dropping a `next()` future loses nothing: progress lives in the
    /// reader's buffer (for decoders that consume only when they return an
    /// item).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use futures_lite::StreamExt;
    /// use intake::{frame::FramedRead, LengthPrefix};
    ///
    /// let wire = b"\x02hi\x00\x03you";
    /// let mut frames = FramedRead::new(&wire[..], LengthPrefix::new(1));
    /// let mut got = Vec::new();
    /// while let Some(frame) = frames.next().await {
    ///     got.push(frame?);
    /// }
    /// assert_eq!(got, ["hi", "", "you"]);
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub struct FramedRead<R, D> {
        #[pin]
        reader: StreamReader<R>,
        decoder: D,
        // This stream's decoding run: scan progress and the need hint
        // persist across polls and items, until another run (a `decode`
        // call on the reader) takes over.
        session: DecodeSession,
        streak: u32,
        done: bool,
        // With `skip_oversized`: the prefix whose too-large frames are
        // skipped, and the progress of the current skip (kept here, so a
        // dropped `next()` loses nothing).
        skip_prefix: Option<LengthPrefix>,
        skipping: Option<FrameSkip>,
    }
}

impl<R, D> FramedRead<R, D> {
    /// Decodes `inner` with `decoder`, through a default [`StreamReader`].
    pub fn new(inner: R, decoder: D) -> Self {
        Self::from_reader(StreamReader::new(inner), decoder)
    }

    /// Decodes from an existing reader (keeping its buffered bytes,
    /// capacity and limit).
    pub fn from_reader(mut reader: StreamReader<R>, decoder: D) -> Self {
        FramedRead {
            session: reader.begin_decode(),
            reader,
            decoder,
            streak: 0,
            done: false,
            skip_prefix: None,
            skipping: None,
        }
    }

    /// The reader.
    pub fn get_ref(&self) -> &StreamReader<R> {
        &self.reader
    }

    /// The reader, mutably.
    pub fn get_mut(&mut self) -> &mut StreamReader<R> {
        &mut self.reader
    }

    /// The decoder.
    pub fn decoder(&self) -> &D {
        &self.decoder
    }

    /// The decoder, mutably.
    pub fn decoder_mut(&mut self) -> &mut D {
        &mut self.decoder
    }

    /// The reader (with any buffered bytes) and the decoder.
    pub fn into_parts(self) -> (StreamReader<R>, D) {
        (self.reader, self.decoder)
    }
}

impl<R> FramedRead<R, LengthPrefix> {
    /// Skips frames over the prefix's maximum instead of ending the stream:
    /// each is reported once as [`Error::FrameTooLarge`], then discarded
    /// with bounded memory as its bytes arrive (nothing of it is held), and
    /// the stream goes on with the next frame. This is what Netty's
    /// `LengthFieldBasedFrameDecoder` does with a too-long frame.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use futures_lite::StreamExt;
    /// use intake::{frame::FramedRead, Error, LengthPrefix};
    ///
    /// let wire = b"\x02hi\x09too large\x02ok";
    /// let prefix = LengthPrefix::new(1).max_frame_len(4);
    /// let mut frames = FramedRead::new(&wire[..], prefix).skip_oversized();
    /// assert_eq!(&frames.next().await.unwrap()?[..], b"hi");
    /// assert!(matches!(frames.next().await, Some(Err(Error::FrameTooLarge { len: 9, .. }))));
    /// assert_eq!(&frames.next().await.unwrap()?[..], b"ok");
    /// assert!(frames.next().await.is_none());
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn skip_oversized(mut self) -> Self {
        self.skip_prefix = Some(self.decoder);
        self
    }
}

impl<R: Source, D: Decoder> Stream for FramedRead<R, D> {
    type Item = Result<D::Item, Error>;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        if *this.streak >= BUDGET {
            *this.streak = 0;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if let (Some(skip), Some(prefix)) = (this.skipping.as_mut(), this.skip_prefix.as_ref()) {
            match this.reader.as_mut().poll_skip_frame(cx, prefix, skip) {
                Poll::Pending => {
                    *this.streak = 0;
                    return Poll::Pending;
                }
                Poll::Ready(Ok(_)) => *this.skipping = None,
                Poll::Ready(Err(e)) => {
                    *this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
        match this.reader.poll_decode_in(cx, *this.session, this.decoder) {
            Poll::Pending => {
                *this.streak = 0;
                Poll::Pending
            }
            Poll::Ready(Ok(Some(item))) => {
                *this.streak += 1;
                Poll::Ready(Some(Ok(item)))
            }
            Poll::Ready(Ok(None)) => {
                *this.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Err(e)) => {
                if this.skip_prefix.is_some() && matches!(e, Error::FrameTooLarge { .. }) {
                    // Reported now; skipped from the next poll on.
                    *this.skipping = Some(FrameSkip::default());
                } else if !this.decoder.recovers_from(&e) {
                    *this.done = true;
                }
                Poll::Ready(Some(Err(e)))
            }
        }
    }
}

impl<R: Source, D: Decoder> FusedStream for FramedRead<R, D> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<R: fmt::Debug, D: fmt::Debug> fmt::Debug for FramedRead<R, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FramedRead")
            .field("reader", &self.reader)
            .field("decoder", &self.decoder)
            .field("done", &self.done)
            .finish()
    }
}
