//! The `Decoder` trait: any protocol, decoded inside the reader's buffer.

use bytes::Bytes;

use super::{LengthPrefix, Parsed};
use crate::buffer::search::{Finder, Scan};
use crate::buffer::DecodeView;
use crate::Error;

/// A protocol decoder that works inside the reader's one buffer.
///
/// [`decode`](Decoder::decode) is shown every buffered byte as one
/// contiguous slice ([`DecodeBuf::bytes`]). It either takes an item (splitting
/// zero-copy [`Bytes`] off the buffer, or parsing and
/// [advancing](DecodeBuf::advance)) and returns `Ok(Some(item))`, or returns
/// `Ok(None)`: *need more bytes* is a value, not an error. It may say how
/// many bytes it needs in all with [`DecodeBuf::need`]; the reader then
/// reserves for them and does not call it again until they are buffered.
///
/// # Positions belong to the reader, not to the decoder
///
/// Between two calls of `decode`, other reads on the same
/// [`StreamReader`](crate::StreamReader) may consume bytes: `peek` and
/// `consume`, `read_exactly`, a `read_until` that skips a bad line, an error
/// that hands bytes over, a cancelled read, or
/// [`FramedRead::get_mut`](crate::frame::FramedRead::get_mut). An offset into
/// [`bytes`](DecodeBuf::bytes) that a decoder kept in itself would then
/// point at the wrong byte, and the decoder would frame garbage without
/// noticing. So the rule is: **a decoder keeps no buffer offset across
/// calls.** A decoder that scans (for a delimiter, a blank line) records how
/// far it got with [`DecodeBuf::set_scanned`] and resumes from
/// [`DecodeBuf::scanned`]: the reader keeps that number and shifts it on
/// every consumption, whoever consumes, so no byte is scanned twice and none
/// is skipped. The scan progress and the [`need`](DecodeBuf::need) hint
/// belong to one decoding run: a [`FramedRead`](crate::frame::FramedRead)
/// keeps them across polls and items, and one
/// [`StreamReader::decode`](crate::StreamReader::decode) future across its
/// polls; a new `decode` call, or another decoder, starts without them (a
/// decoder dropped mid-item and called again rescans what is buffered,
/// once). State that is not a position (a mode, a
/// length parsed from a header already consumed) may live in the decoder;
/// [`DecodeBuf::position`] tells it whether other reads took bytes since
/// its last call.
///
/// # Examples
///
/// A decoder for `u8`-length-prefixed strings:
///
/// ```
/// use intake::frame::{DecodeBuf, Decoder};
///
/// struct ShortStrings;
///
/// impl Decoder for ShortStrings {
///     type Item = String;
///     fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<String>, intake::Error> {
///         let Some(&len) = buf.bytes().first() else { return Ok(None) };
///         let total = 1 + len as usize;
///         if buf.len() < total {
///             buf.need(total); // don't call again until the whole frame is here
///             return Ok(None);
///         }
///         let s = String::from_utf8_lossy(&buf.bytes()[1..total]).into_owned();
///         buf.advance(total);
///         Ok(Some(s))
///     }
/// }
///
/// # futures_lite::future::block_on(async {
/// use futures_lite::StreamExt;
/// let framed = intake::frame::FramedRead::new(&b"\x02hi\x03you"[..], ShortStrings);
/// let items: Vec<String> = framed.map(|r| r.unwrap()).collect().await;
/// assert_eq!(items, ["hi", "you"]);
/// # });
/// ```
pub trait Decoder {
    /// What one decoded frame becomes.
    type Item;

    /// Decodes one item from the front of `buf`, or returns `Ok(None)` if
    /// more bytes are needed.
    ///
    /// # Errors
    ///
    /// Whatever makes the input undecodable. A framed stream ends after its
    /// first error.
    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Error>;

    /// Called once the stream has ended. The default decodes as usual and
    /// turns leftover bytes that make no item into
    /// [`Error::UnexpectedEof`], which carries them; its `expected` is how
    /// many bytes short of the decoder's [`need`](DecodeBuf::need) hint the
    /// stream ended, or `None` without a hint.
    ///
    /// # Errors
    ///
    /// As [`decode`](Decoder::decode), and `UnexpectedEof` for leftovers.
    fn decode_eof(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Error> {
        match self.decode(buf)? {
            Some(item) => Ok(Some(item)),
            None if buf.is_empty() => Ok(None),
            None => {
                let expected = buf
                    .needed()
                    .and_then(|total| total.checked_sub(buf.len()))
                    .filter(|&missing| missing > 0);
                Err(Error::UnexpectedEof {
                    partial: buf.split_to(buf.len()),
                    expected,
                })
            }
        }
    }

    /// Whether decoding can go on after [`decode`](Decoder::decode)
    /// returned `error`, because the decoder has dealt with the bad input
    /// itself (as [`Delimited::discard_overlong`](crate::frame::Delimited::discard_overlong)
    /// does). A [`FramedRead`](crate::frame::FramedRead) reports such an
    /// error and keeps going; after any other error it ends. The default
    /// is `false` for every error.
    fn recovers_from(&self, error: &Error) -> bool {
        let _ = error;
        false
    }
}

/// The decoder's window on the reader's buffer: every buffered, unread
/// byte, contiguous.
pub struct DecodeBuf<'a> {
    buf: DecodeView<'a>,
    need: Option<usize>,
}

impl<'a> DecodeBuf<'a> {
    #[inline]
    pub(crate) fn new(buf: DecodeView<'a>) -> Self {
        DecodeBuf { buf, need: None }
    }

    /// The buffered bytes.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        self.buf.bytes()
    }

    /// Number of buffered bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing is buffered.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.len() == 0
    }

    /// Splits the first `n` bytes off as a zero-copy [`Bytes`].
    ///
    /// # Panics
    ///
    /// If `n > self.len()` (a bug in the decoder, like `Bytes::split_to`).
    #[inline]
    pub fn split_to(&mut self, n: usize) -> Bytes {
        assert!(
            n <= self.len(),
            "split_to({n}) with {} bytes buffered",
            self.len()
        );
        self.buf.take(n)
    }

    /// Splits the first `header + payload` bytes off and returns the
    /// payload alone, in one split (what [`read_frame`] does): cheaper than
    /// [`advance`](Self::advance) then [`split_to`](Self::split_to), which
    /// moves the buffer's start twice.
    ///
    /// [`read_frame`]: crate::StreamReader::read_frame
    #[inline]
    pub(crate) fn take_payload(&mut self, header: usize, payload: usize) -> Bytes {
        debug_assert!(header + payload <= self.len());
        self.buf.take_payload(header, payload)
    }

    /// Discards the first `n` bytes.
    ///
    /// # Panics
    ///
    /// If `n > self.len()`.
    #[inline]
    pub fn advance(&mut self, n: usize) {
        assert!(
            n <= self.len(),
            "advance({n}) with {} bytes buffered",
            self.len()
        );
        self.buf.consume(n);
    }

    /// Tells the reader that the next item needs at least `total` buffered
    /// bytes in all: it will reserve room once (growing with the bytes that
    /// arrive, since `total` may come off the wire) and not call the decoder
    /// again before they are there.
    #[inline]
    pub fn need(&mut self, total: usize) {
        self.need = Some(total);
    }

    /// The hint given with [`need`](Self::need), if any.
    pub fn needed(&self) -> Option<usize> {
        self.need
    }

    /// How many leading bytes of [`bytes`](Self::bytes) this decoder has
    /// already examined, as recorded with [`set_scanned`](Self::set_scanned)
    /// (0 at first). The reader keeps the number and lowers it by every byte
    /// consumed, by any read, so it always counts bytes that are still
    /// buffered and were scanned. Never more than [`len`](Self::len).
    ///
    /// # Examples
    ///
    /// A decoder for `;`-terminated items that never scans a byte twice,
    /// however the bytes arrive and whatever else reads from the stream:
    ///
    /// ```
    /// use intake::frame::{DecodeBuf, Decoder};
    ///
    /// struct Semicolons;
    ///
    /// impl Decoder for Semicolons {
    ///     type Item = bytes::Bytes;
    ///     fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, intake::Error> {
    ///         let from = buf.scanned();
    ///         match buf.bytes()[from..].iter().position(|&b| b == b';') {
    ///             Some(at) => Ok(Some(buf.split_to(from + at + 1))),
    ///             None => {
    ///                 buf.set_scanned(buf.len());
    ///                 Ok(None)
    ///             }
    ///         }
    ///     }
    /// }
    ///
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"xxab;cd;"[..]);
    /// reader.peek(3).await?;
    /// reader.consume(2); // another read between decodes: nothing goes stale
    /// assert_eq!(&reader.decode(&mut Semicolons).await?.unwrap()[..], b"ab;");
    /// assert_eq!(&reader.decode(&mut Semicolons).await?.unwrap()[..], b"cd;");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    #[inline]
    pub fn scanned(&self) -> usize {
        self.buf.scanned()
    }

    /// The stream offset of the first byte of [`bytes`](Self::bytes): how
    /// many bytes the reader has handed out so far, to decoders and to
    /// every other read. A decoder that keeps a *mode* across calls (say,
    /// "inside a frame being discarded") records it when it returns and
    /// compares at its next call: a different value means other reads took
    /// bytes in between, and the mode may no longer hold.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use intake::frame::{DecodeBuf, Decoder};
    ///
    /// /// Reports where each `;`-terminated item starts in the stream.
    /// struct Offsets;
    /// impl Decoder for Offsets {
    ///     type Item = u64;
    ///     fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<u64>, intake::Error> {
    ///         let Some(end) = buf.bytes().iter().position(|&b| b == b';') else { return Ok(None) };
    ///         let at = buf.position();
    ///         buf.advance(end + 1);
    ///         Ok(Some(at))
    ///     }
    /// }
    /// let mut reader = intake::StreamReader::new(&b"ab;cde;f;"[..]);
    /// assert_eq!(reader.decode(&mut Offsets).await?, Some(0));
    /// reader.read_exactly(4).await?; // another read takes "cde;"
    /// assert_eq!(reader.decode(&mut Offsets).await?, Some(7));
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    #[inline]
    pub fn position(&self) -> u64 {
        self.buf.position()
    }

    /// Records that the first `n` bytes of [`bytes`](Self::bytes) were
    /// examined and need not be again (clamped to [`len`](Self::len)). See
    /// [`scanned`](Self::scanned).
    #[inline]
    pub fn set_scanned(&mut self, n: usize) {
        self.buf.set_scanned(n);
    }

    /// Searches the buffered bytes for `finder`'s delimiter within `limit`,
    /// resuming from [`scanned`](Self::scanned).
    #[inline]
    pub(crate) fn scan(&mut self, finder: &Finder, limit: usize) -> Scan {
        self.buf.scan(finder, limit)
    }
}

impl std::fmt::Debug for DecodeBuf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodeBuf")
            .field("len", &self.len())
            .field("need", &self.need)
            .finish()
    }
}

impl Decoder for LengthPrefix {
    type Item = Bytes;

    #[inline]
    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Error> {
        match self.parse(buf.bytes())? {
            Parsed::Frame { header, payload } => {
                let total = header + payload;
                if buf.len() < total {
                    buf.need(total);
                    return Ok(None);
                }
                let skip = self.skipped(header);
                Ok(Some(buf.take_payload(skip, total - skip)))
            }
            // No hint: the frame's size is unknown until the header is
            // whole (and `decode_eof` then reports `expected: None`).
            Parsed::NeedHeader(_) => Ok(None),
        }
    }
}
