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
/// (or [`strip_line_ending`](Self::strip_line_ending)) is set.
///
/// Options, each off by default:
///
/// | option | what it does |
/// |---|---|
/// | [`strip_delimiter`](Self::strip_delimiter) | frames without their delimiter |
/// | [`strip_line_ending`](Self::strip_line_ending) | lines without `\n` or `\r\n` (as tokio-util's `LinesCodec`) |
/// | [`allow_unterminated`](Self::allow_unterminated) | bytes after the last delimiter at end of stream are a last frame, not an error |
/// | [`discard_overlong`](Self::discard_overlong) | a frame over [`max_length`](Self::max_length) is discarded with bounded memory and reported once; decoding goes on with the next one |
///
/// [`Delimited::text_lines`] turns the last three on, for text protocols.
///
/// Overflow policy: a frame that has not ended within
/// [`max_length`](Self::max_length) bytes (delimiter included; default
/// 64 KiB) is [`Error::LimitExceeded`]. Without `discard_overlong` nothing
/// is consumed and a [`FramedRead`](crate::frame::FramedRead) ends there;
/// [`StreamReader::skip_until`](crate::StreamReader::skip_until) skips the
/// line by hand. With it, the error is reported once per over-long frame,
/// the frame is dropped as its bytes arrive (memory stays within
/// `max_length` plus one read), and a `FramedRead` goes on. If another read
/// takes bytes while a frame is being dropped, the caller has taken over:
/// dropping stops and the next bytes are framed as usual.
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
///
/// Text lines as tokio-util's `LinesCodec` or asyncio's `readline` hand them
/// out: either ending stripped, an over-long line reported once and
/// skipped, the last line returned without its newline:
///
/// ```
/// # futures_lite::future::block_on(async {
/// use futures_lite::StreamExt;
/// use intake::{frame::{Delimited, FramedRead}, Error};
///
/// let wire = b"HELO a\r\nthis line is far too long\nQUIT";
/// let mut lines = FramedRead::new(&wire[..], Delimited::text_lines().max_length(16));
/// assert_eq!(&lines.next().await.unwrap()?[..], b"HELO a");
/// assert!(matches!(lines.next().await, Some(Err(Error::LimitExceeded { limit: 16 }))));
/// assert_eq!(&lines.next().await.unwrap()?[..], b"QUIT");
/// assert!(lines.next().await.is_none());
/// # Ok::<(), intake::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Delimited {
    finder: Finder,
    max_length: usize,
    strip: bool,
    strip_cr: bool,
    unterminated: bool,
    discard: bool,
    /// Inside an over-long frame, dropping bytes up to its delimiter: the
    /// stream position where the last call left off. If other reads took
    /// bytes since, they took over and dropping stops (see `decode`).
    discarding: Option<u64>,
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
            strip_cr: false,
            unterminated: false,
            discard: false,
            discarding: None,
        }
    }

    /// Frames that end with any of `delims`: each frame ends at the first
    /// delimiter to *end* in the stream (asyncio's rule for several
    /// separators; see [`StreamReader::read_until_any`]), and stripping
    /// removes the longest of them that ends there. Netty's
    /// `DelimiterBasedFrameDecoder` with several delimiters, or tokio-util's
    /// `AnyDelimiterCodec` with one-byte ones. The search stays linear.
    ///
    /// # Panics
    ///
    /// If `delims` is empty or holds an empty delimiter.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use futures_lite::StreamExt;
    /// use intake::frame::{Delimited, FramedRead};
    ///
    /// let fields = Delimited::any(&[b",", b";", b"\r\n"]).strip_delimiter();
    /// let items: Vec<_> = FramedRead::new(&b"a,b;c\r\n"[..], fields)
    ///     .map(|f| f.unwrap())
    ///     .collect()
    ///     .await;
    /// assert_eq!(items, ["a", "b", "c"]);
    /// # });
    /// ```
    ///
    /// [`StreamReader::read_until_any`]: crate::StreamReader::read_until_any
    pub fn any(delims: &[&[u8]]) -> Self {
        assert!(
            !delims.is_empty() && delims.iter().all(|d| !d.is_empty()),
            "Delimited::any needs at least one delimiter, none of them empty"
        );
        Delimited {
            finder: Finder::any(delims),
            ..Self::new(b"\n")
        }
    }

    /// Frames end with `\n` (the delimiter is kept unless stripped).
    pub fn lines() -> Self {
        Self::new(b"\n")
    }

    /// Lines of text as most line protocols (HTTP, SMTP, Redis) and
    /// tokio-util's `LinesCodec` treat them: `\n` or `\r\n` endings
    /// stripped ([`strip_line_ending`](Self::strip_line_ending)), a last
    /// line without an ending returned at end of stream
    /// ([`allow_unterminated`](Self::allow_unterminated)), and lines over
    /// [`max_length`](Self::max_length) discarded and reported once
    /// ([`discard_overlong`](Self::discard_overlong)).
    pub fn text_lines() -> Self {
        Self::lines()
            .strip_line_ending()
            .allow_unterminated()
            .discard_overlong()
    }

    /// The longest frame accepted, delimiter included (default 64 KiB).
    pub fn max_length(mut self, max: usize) -> Self {
        self.max_length = max;
        self
    }

    /// The delimiter (the longest one, with [`any`](Self::any)).
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

    /// Return frames without their delimiter and without one `\r` right
    /// before it: with the delimiter `\n`, lines ending in `\n` or `\r\n`
    /// both come out bare.
    pub fn strip_line_ending(mut self) -> Self {
        self.strip = true;
        self.strip_cr = true;
        self
    }

    /// At end of stream, bytes after the last delimiter are a last frame
    /// (stripped as the others are), instead of
    /// [`Error::UnexpectedEof`].
    pub fn allow_unterminated(mut self) -> Self {
        self.unterminated = true;
        self
    }

    /// A frame that has not ended within [`max_length`](Self::max_length)
    /// is reported once as [`Error::LimitExceeded`] and then dropped, up to
    /// and including its delimiter, as its bytes arrive; decoding goes on
    /// with the next frame, and a [`FramedRead`](crate::frame::FramedRead)
    /// keeps going (see [`Decoder::recovers_from`]).
    pub fn discard_overlong(mut self) -> Self {
        self.discard = true;
        self
    }

    /// The frame ending at `end` (delimiter included), stripped as set.
    fn frame(&self, buf: &mut DecodeBuf<'_>, end: usize) -> Bytes {
        if !self.strip {
            return buf.split_to(end);
        }
        let dlen = self.finder.matched_len(buf.bytes(), end);
        let mut frame = buf.split_to(end - dlen);
        buf.advance(dlen);
        self.strip_cr(&mut frame);
        frame
    }

    fn strip_cr(&self, frame: &mut Bytes) {
        if self.strip_cr && frame.last() == Some(&b'\r') {
            frame.truncate(frame.len() - 1);
        }
    }

    /// Drops buffered bytes of an over-long frame, through its delimiter if
    /// it is buffered (then the mode ends). Otherwise keeps only the bytes
    /// that may begin a delimiter split across reads.
    fn discard(&mut self, buf: &mut DecodeBuf<'_>) {
        match buf.scan(&self.finder, usize::MAX) {
            Scan::Found(end) => {
                buf.advance(end);
                self.discarding = None;
            }
            Scan::More | Scan::Limit => {
                let keep = (self.finder.max_len() - 1).min(buf.len());
                buf.advance(buf.len() - keep);
                self.discarding = Some(buf.position());
            }
        }
    }

    /// Whether an over-long frame is still being dropped: only if no other
    /// read took bytes since the last call (if one did, the caller took
    /// over, and the next bytes are framed normally rather than dropped).
    fn still_discarding(&mut self, buf: &DecodeBuf<'_>) -> bool {
        if self.discarding.is_some_and(|at| at != buf.position()) {
            self.discarding = None;
        }
        self.discarding.is_some()
    }
}

impl Decoder for Delimited {
    type Item = Bytes;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Error> {
        if self.still_discarding(buf) {
            self.discard(buf);
            if self.discarding.is_some() {
                return Ok(None);
            }
        }
        match buf.scan(&self.finder, self.max_length) {
            Scan::Found(end) => Ok(Some(self.frame(buf, end))),
            Scan::More => Ok(None),
            Scan::Limit => {
                if self.discard {
                    self.discard(buf);
                }
                Err(Error::LimitExceeded {
                    limit: self.max_length,
                })
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Error> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        if self.still_discarding(buf) {
            // The over-long frame ends with the stream; it was reported.
            buf.advance(buf.len());
            self.discarding = None;
            return Ok(None);
        }
        if buf.is_empty() {
            return Ok(None);
        }
        let mut rest = buf.split_to(buf.len());
        if self.unterminated {
            self.strip_cr(&mut rest);
            return Ok(Some(rest));
        }
        Err(Error::UnexpectedEof {
            partial: rest,
            expected: None,
        })
    }

    fn recovers_from(&self, error: &Error) -> bool {
        self.discard && matches!(error, Error::LimitExceeded { .. })
    }
}
