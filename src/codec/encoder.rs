//! The `Encoder` trait and `EncodeBuf`, where encoders put their bytes.

use std::fmt;

use bytes::Bytes;

use super::{Delimited, LengthPrefix};
use crate::buffer::WriteQueue;
use crate::Error;

/// Turns items into bytes at the end of a
/// [`StreamWriter`](crate::StreamWriter)'s queue.
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
/// and payload go out in one vectored write, never concatenated). The
/// header is encoded straight into the writer's buffer.
impl Encoder<Bytes> for LengthPrefix {
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Error> {
        let header = self.encode_header(item.len())?;
        let (bytes, used) = header.padded();
        if dst.queue.copied(item.len()) == item.len() {
            dst.queue.push_frame_inline(&[], bytes, used, &item);
        } else {
            dst.queue.push_frame(&[], bytes, used, &[]);
            dst.queue.keep(item);
        }
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

/// Where an [`Encoder`] (and every `send`) puts bytes: the end of a
/// [`StreamWriter`](crate::StreamWriter)'s queue.
///
/// [`extend_from_slice`](Self::extend_from_slice) copies into the
/// coalescing buffer; [`push`](Self::push) keeps a large `Bytes` as it is.
pub struct EncodeBuf<'a> {
    queue: &'a mut WriteQueue,
}

impl<'a> EncodeBuf<'a> {
    pub(crate) fn new(queue: &'a mut WriteQueue) -> Self {
        EncodeBuf { queue }
    }

    /// Appends a copy of `data` (for headers, delimiters, small items).
    #[inline]
    pub fn extend_from_slice(&mut self, data: &[u8]) {
        self.queue.extend_from_slice(data);
    }

    /// Appends `data`: copied if smaller than the writer's copy threshold,
    /// otherwise queued as it is, without copying. An empty `data` costs
    /// nothing (it takes no place in the queue, whatever the threshold).
    #[inline]
    pub fn push(&mut self, data: Bytes) {
        self.queue.push(data);
    }
}

impl fmt::Debug for EncodeBuf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncodeBuf")
            .field("pending", &self.queue.len())
            .finish()
    }
}
