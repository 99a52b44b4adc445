//! `Lines`: text lines decoded to `String`, as tokio-util's `LinesCodec`.

use bytes::Bytes;

use super::{DecodeBuf, Decoder, Delimited};
use crate::Error;

/// A [`Decoder`] for lines of text: each item is a `String` without its
/// `\n` or `\r\n` ending, as tokio-util's `LinesCodec` hands them out.
///
/// It is [`Delimited::text_lines`] with a UTF-8 check, so it behaves as
/// that one does:
///
/// - a line ends at `\n`; the `\n` and one `\r` right before it are
///   stripped;
/// - at end of stream, bytes after the last `\n` are a last line (a `\r`
///   at its end stripped too);
/// - a line that has not ended within [`max_length`](Self::max_length)
///   bytes (its ending included; default 64 KiB,
///   [`DEFAULT_MAX_LENGTH`](crate::frame::DEFAULT_MAX_LENGTH)) is reported
///   once as [`Error::LimitExceeded`] and dropped as its bytes arrive, with
///   memory bounded by the maximum plus one read; decoding goes on with the
///   next line. `max_length(usize::MAX)` turns the limit off (as
///   `LinesCodec::new()`), which lets a peer that never sends `\n` grow the
///   buffer without bound;
/// - the buffered bytes are searched for `\n` once: the scan resumes where
///   the last call stopped ([`DecodeBuf::scanned`]), however the bytes
///   arrive and whatever other reads take in between.
///
/// A line that is not valid UTF-8 is [`Error::InvalidUtf8`], which hands the
/// line's bytes over (without their ending) and says where the valid prefix
/// stops. The line is consumed, so decoding can go on: a
/// [`FramedRead`](crate::frame::FramedRead) reports the error and yields
/// the next line ([`Decoder::recovers_from`]), as it does for an over-long
/// line.
///
/// # Cancel safety
///
/// [`StreamReader::decode`](crate::StreamReader::decode) with `Lines` is
/// cancel-safe, and so is dropping a
/// [`FramedRead`](crate::frame::FramedRead)'s `next()`: `Lines` consumes
/// bytes only when it returns a line, returns `InvalidUtf8` (whose `bytes`
/// are the line), or drops an over-long line it has reported. A dropped call
/// loses nothing; the next one goes on from the same bytes.
///
/// Each line is copied once out of the reader's buffer into its `String`
/// (a `String` owns its bytes); [`Delimited::text_lines`] hands out
/// zero-copy [`Bytes`] instead.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// use futures_lite::StreamExt;
/// use intake::frame::{FramedRead, Lines};
/// use intake::Error;
///
/// let wire = b"HELO a\r\nbad \xff byte\nthis line is far too long\nQUIT";
/// let mut lines = FramedRead::new(&wire[..], Lines::new().max_length(16));
/// assert_eq!(lines.next().await.unwrap()?, "HELO a");
/// match lines.next().await {
///     Some(Err(Error::InvalidUtf8 { bytes, valid_up_to })) => {
///         assert_eq!(&bytes[..], b"bad \xff byte");
///         assert_eq!(valid_up_to, 4);
///     }
///     other => panic!("{other:?}"),
/// }
/// assert!(matches!(lines.next().await, Some(Err(Error::LimitExceeded { limit: 16 }))));
/// assert_eq!(lines.next().await.unwrap()?, "QUIT");
/// assert!(lines.next().await.is_none());
/// # Ok::<(), intake::Error>(())
/// # }).unwrap();
/// ```
///
/// One line at a time from a [`StreamReader`](crate::StreamReader):
///
/// ```
/// # futures_lite::future::block_on(async {
/// let mut reader = intake::StreamReader::new(&b"one\r\ntwo\n"[..]);
/// let mut lines = intake::frame::Lines::new();
/// assert_eq!(reader.decode(&mut lines).await?.as_deref(), Some("one"));
/// assert_eq!(reader.decode(&mut lines).await?.as_deref(), Some("two"));
/// assert_eq!(reader.decode(&mut lines).await?, None);
/// # Ok::<(), intake::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Lines {
    inner: Delimited,
}

impl Lines {
    /// Lines of at most [`DEFAULT_MAX_LENGTH`](crate::frame::DEFAULT_MAX_LENGTH)
    /// bytes (64 KiB, ending included).
    ///
    /// ```
    /// assert_eq!(intake::frame::Lines::new().max(), intake::frame::DEFAULT_MAX_LENGTH);
    /// ```
    pub fn new() -> Self {
        Lines {
            inner: Delimited::text_lines(),
        }
    }

    /// The longest line accepted, its ending included. `usize::MAX` means
    /// no limit.
    ///
    /// ```
    /// let lines = intake::frame::Lines::new().max_length(1024);
    /// assert_eq!(lines.max(), 1024);
    /// ```
    pub fn max_length(self, max: usize) -> Self {
        Lines {
            inner: self.inner.max_length(max),
        }
    }

    /// The longest line accepted, its ending included.
    ///
    /// ```
    /// assert_eq!(intake::frame::Lines::new().max_length(80).max(), 80);
    /// ```
    pub fn max(&self) -> usize {
        self.inner.max()
    }
}

impl Default for Lines {
    /// [`Lines::new`].
    fn default() -> Self {
        Self::new()
    }
}

/// The line as a `String`, or `InvalidUtf8` with its bytes.
fn text(line: Option<Bytes>) -> Result<Option<String>, Error> {
    let Some(line) = line else {
        return Ok(None);
    };
    match std::str::from_utf8(&line) {
        Ok(s) => Ok(Some(s.to_owned())),
        Err(e) => Err(Error::InvalidUtf8 {
            valid_up_to: e.valid_up_to(),
            bytes: line,
        }),
    }
}

impl Decoder for Lines {
    type Item = String;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<String>, Error> {
        text(self.inner.decode(buf)?)
    }

    fn decode_eof(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<String>, Error> {
        text(self.inner.decode_eof(buf)?)
    }

    /// An over-long line (dropped) and a line that is not UTF-8 (consumed,
    /// its bytes in the error): decoding goes on with the next line.
    fn recovers_from(&self, error: &Error) -> bool {
        matches!(error, Error::InvalidUtf8 { .. }) || self.inner.recovers_from(error)
    }
}
