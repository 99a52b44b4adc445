//! `Delimited`: frames that end with a (multi-byte) delimiter.

use bytes::Bytes;

use super::{DecodeBuf, Decoder};
use crate::buffer::search::{Finder, Scan};
use crate::Error;

/// Default [`Delimited::max_length`]: 64 KiB, delimiter included (the same
/// as the reader's default search limit).
pub const DEFAULT_MAX_LENGTH: usize = 64 * 1024;

/// A [`Decoder`] for frames that end with a delimiter, such as lines.
///
/// The delimiter may be several bytes (`b"\r\n"`). Its scan progress is
/// kept by the reader ([`DecodeBuf::scanned`]), so bytes are never scanned
/// twice, and other reads between two decodes cannot make it stale. Frames
/// include the delimiter unless [`strip_delimiter`](Self::strip_delimiter)
/// is set.
///
/// Overflow policy: a frame that has not ended within
/// [`max_length`](Self::max_length) bytes (delimiter included; default
/// 64 KiB) is [`Error::LimitExceeded`], and a framed stream ends there (it is
/// fused after its first error). To skip an overlong line and go on, use
/// [`StreamReader::read_until`](crate::StreamReader::read_until), which
/// leaves the bytes buffered.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// use futures_lite::StreamExt;
/// use intake::frame::{Delimited, FramedRead};
///
/// let decoder = Delimited::new(b"\r\n").strip_delimiter();
/// let mut lines = FramedRead::new(&b"a\r\nbc\r\n"[..], decoder);
/// assert_eq!(&lines.next().await.unwrap()?[..], b"a");
/// assert_eq!(&lines.next().await.unwrap()?[..], b"bc");
/// assert!(lines.next().await.is_none());
/// # Ok::<(), intake::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Delimited {
    finder: Finder,
    max_length: usize,
    strip: bool,
}

impl Delimited {
    /// Frames ending with `delim`.
    ///
    /// # Panics
    ///
    /// If `delim` is empty.
    pub fn new(delim: &[u8]) -> Self {
        assert!(!delim.is_empty(), "Delimited needs a non-empty delimiter");
        Delimited {
            finder: Finder::new(delim),
            max_length: DEFAULT_MAX_LENGTH,
            strip: false,
        }
    }

    /// Frames end with `\n` (the delimiter is kept unless stripped).
    pub fn lines() -> Self {
        Self::new(b"\n")
    }

    /// The longest frame accepted, delimiter included (default 64 KiB).
    pub fn max_length(mut self, max: usize) -> Self {
        self.max_length = max;
        self
    }

    /// The delimiter.
    pub fn delimiter(&self) -> &[u8] {
        self.finder.needle()
    }

    /// The longest frame accepted, delimiter included.
    pub fn max(&self) -> usize {
        self.max_length
    }

    /// Return frames without their delimiter.
    pub fn strip_delimiter(mut self) -> Self {
        self.strip = true;
        self
    }
}

impl Decoder for Delimited {
    type Item = Bytes;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Error> {
        match buf.scan(&self.finder, self.max_length) {
            Scan::Found(end) => {
                let frame = if self.strip {
                    let dlen = self.finder.needle().len();
                    let f = buf.split_to(end - dlen);
                    buf.advance(dlen);
                    f
                } else {
                    buf.split_to(end)
                };
                Ok(Some(frame))
            }
            Scan::More => Ok(None),
            Scan::Limit => Err(Error::LimitExceeded {
                limit: self.max_length,
            }),
        }
    }
}
