//! The one error type of the crate.

use std::fmt;
use std::io;

use bytes::Bytes;

/// Everything that can go wrong while reading or writing through intake.
///
/// Every variant says what happened to the bytes involved, so that no byte
/// is ever lost silently:
///
/// - [`Error::Io`]: the inner reader or writer failed. Bytes already received
///   stay buffered in the reader; the same call can be retried.
/// - [`Error::UnexpectedEof`]: the stream ended inside a read; the bytes that
///   did arrive are handed over in `partial`.
/// - [`Error::LimitExceeded`]: a search or peek hit the reader's limit;
///   nothing was consumed.
/// - [`Error::FrameTooLarge`]: a length prefix announced a frame over the
///   configured maximum; no payload memory was allocated.
/// - [`Error::InvalidUtf8`]: a text decoder's item is not UTF-8; its bytes
///   are handed over in `bytes`.
///
/// Converting into [`std::io::Error`] keeps a precise [`io::ErrorKind`]:
///
/// ```
/// use std::io;
/// let err = intake::Error::LimitExceeded { limit: 16 };
/// assert_eq!(err.to_string(), "limit of 16 bytes exceeded before the delimiter or requested length was buffered");
/// let io_err: io::Error = err.into();
/// assert_eq!(io_err.kind(), io::ErrorKind::InvalidData);
/// ```
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// The inner reader or writer returned an I/O error. Bytes received
    /// before it stay buffered, so the operation can be retried.
    Io(io::Error),
    /// The stream ended inside a read.
    ///
    /// The same on every operation:
    ///
    /// - `partial` holds the bytes of this read that arrived and were not
    ///   handed elsewhere: consumed from the reader and handed over here,
    ///   never lost. It is empty for [`skip`](crate::StreamReader::skip)
    ///   (the bytes were discarded, as asked) and
    ///   [`copy_exact`](crate::StreamReader::copy_exact) (they were written
    ///   to the destination).
    /// - `expected` is how many **more** bytes the read still expected when
    ///   the stream ended: `read_exactly(10)` after 3 bytes gives `partial`
    ///   of 3 bytes and `expected` of `Some(7)`. It is `None` where that is
    ///   not known: a delimiter search, a length header cut short, a decoder
    ///   that gave no size.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"abc"[..]);
    /// match reader.read_exactly(10).await {
    ///     Err(intake::Error::UnexpectedEof { partial, expected }) => {
    ///         assert_eq!(&partial[..], b"abc");
    ///         assert_eq!(expected, Some(7));
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// # });
    /// ```
    UnexpectedEof {
        /// The bytes of this read that arrived before the end of the stream
        /// (empty for `skip` and `copy_exact`).
        partial: Bytes,
        /// How many more bytes the read still expected (`None` if unknown).
        expected: Option<usize>,
    },
    /// A delimiter search or a peek needed more than `limit` buffered bytes.
    /// Nothing was consumed: the bytes stay buffered and readable.
    LimitExceeded {
        /// The limit that was hit, in bytes.
        limit: usize,
    },
    /// A length prefix announced a frame longer than the configured maximum.
    /// No payload memory was allocated.
    FrameTooLarge {
        /// The frame length the prefix announced (after any adjustment).
        len: u64,
        /// The configured maximum frame length.
        max: usize,
    },
    /// A text item (a [`Lines`](crate::frame::Lines) line) is not valid
    /// UTF-8. It was consumed and its bytes are handed over here, so
    /// decoding can go on with the next item; converted to
    /// [`io::Error`] its kind is `InvalidData`.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let mut reader = intake::StreamReader::new(&b"caf\xe9\nok\n"[..]);
    /// let mut lines = intake::frame::Lines::new();
    /// match reader.decode(&mut lines).await {
    ///     Err(intake::Error::InvalidUtf8 { bytes, valid_up_to }) => {
    ///         assert_eq!(&bytes[..], b"caf\xe9"); // Latin-1, not UTF-8
    ///         assert_eq!(valid_up_to, 3);
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// assert_eq!(reader.decode(&mut lines).await?.as_deref(), Some("ok"));
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    InvalidUtf8 {
        /// The item's bytes (a line without its ending).
        bytes: Bytes,
        /// How many leading bytes of `bytes` are valid UTF-8 (as
        /// [`std::str::Utf8Error::valid_up_to`]).
        valid_up_to: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "i/o error: {e}"),
            Error::UnexpectedEof {
                partial,
                expected: Some(n),
            } => write!(
                f,
                "stream ended with {n} bytes still expected ({} bytes that arrived are in `partial`)",
                partial.len()
            ),
            Error::UnexpectedEof {
                partial,
                expected: None,
            } => write!(
                f,
                "stream ended inside an item ({} bytes that arrived are in `partial`)",
                partial.len()
            ),
            Error::LimitExceeded { limit } => write!(
                f,
                "limit of {limit} bytes exceeded before the delimiter or requested length was buffered"
            ),
            Error::FrameTooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds max {max}")
            }
            Error::InvalidUtf8 { bytes, valid_up_to } => write!(
                f,
                "invalid utf-8 after byte {valid_up_to} of a {}-byte item (its bytes are in `bytes`)",
                bytes.len()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(e) => e,
            Error::UnexpectedEof { .. } => io::Error::new(io::ErrorKind::UnexpectedEof, e),
            Error::LimitExceeded { .. }
            | Error::FrameTooLarge { .. }
            | Error::InvalidUtf8 { .. } => io::Error::new(io::ErrorKind::InvalidData, e),
        }
    }
}

impl Error {
    /// Whether this error is [`Error::UnexpectedEof`].
    pub fn is_unexpected_eof(&self) -> bool {
        matches!(self, Error::UnexpectedEof { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_carries_the_numbers() {
        let e = Error::FrameTooLarge {
            len: 9_000_000,
            max: 8_388_608,
        };
        assert_eq!(e.to_string(), "frame of 9000000 bytes exceeds max 8388608");
        let e = Error::UnexpectedEof {
            partial: Bytes::from_static(b"abc"),
            expected: Some(10),
        };
        assert_eq!(
            e.to_string(),
            "stream ended with 10 bytes still expected (3 bytes that arrived are in `partial`)"
        );
        let e = Error::InvalidUtf8 {
            bytes: Bytes::from_static(b"caf\xe9!"),
            valid_up_to: 3,
        };
        assert_eq!(
            e.to_string(),
            "invalid utf-8 after byte 3 of a 5-byte item (its bytes are in `bytes`)"
        );
    }

    #[test]
    fn io_kinds_are_precise() {
        let eof: io::Error = Error::UnexpectedEof {
            partial: Bytes::new(),
            expected: None,
        }
        .into();
        assert_eq!(eof.kind(), io::ErrorKind::UnexpectedEof);
        let big: io::Error = Error::FrameTooLarge { len: 2, max: 1 }.into();
        assert_eq!(big.kind(), io::ErrorKind::InvalidData);
        let utf8: io::Error = Error::InvalidUtf8 {
            bytes: Bytes::from_static(b"a\xff"),
            valid_up_to: 1,
        }
        .into();
        assert_eq!(utf8.kind(), io::ErrorKind::InvalidData);
        assert!(matches!(
            utf8.into_inner().unwrap().downcast::<Error>().map(|e| *e),
            Ok(Error::InvalidUtf8 { valid_up_to: 1, .. })
        ));
        let inner: io::Error = Error::Io(io::ErrorKind::BrokenPipe.into()).into();
        assert_eq!(inner.kind(), io::ErrorKind::BrokenPipe);
    }
}
