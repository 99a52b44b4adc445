//! `LengthPrefix`: how a length-prefixed frame's header is laid out.

use std::io;

use crate::Error;

/// Default maximum frame length: 8 MiB.
pub const DEFAULT_MAX_FRAME_LEN: usize = 8 * 1024 * 1024;

/// The longest unsigned LEB128 encoding of a `u64`.
const MAX_VARINT_LEN: usize = 10;

/// Layout of a length-prefixed frame header: a small `Copy` builder.
///
/// Defaults: big-endian, header stripped from the returned payload, no
/// length field offset, no adjustment, maximum frame length 8 MiB.
/// Nonsense is rejected when the value is built (a width of 5 panics in
/// [`new`](Self::new); [`try_new`](Self::try_new) returns `None`), never
/// mid-stream. See the [module docs](crate::frame) for wire diagrams.
///
/// # Examples
///
/// ```
/// use intake::LengthPrefix;
///
/// // u16 little-endian length, frames of at most 1 KiB.
/// let prefix = LengthPrefix::new(2).little_endian().max_frame_len(1024);
/// let header = prefix.encode_header(5)?;
/// assert_eq!(header.as_ref(), &[5, 0]);
/// # Ok::<(), intake::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LengthPrefix {
    /// 1, 2, 3, 4 or 8; 0 means unsigned LEB128.
    width: u8,
    little_endian: bool,
    max: usize,
    offset: usize,
    adjustment: i64,
    /// How many leading bytes of each frame are dropped before it is
    /// returned; `None`: the whole header (the default).
    skip: Option<usize>,
}

/// What a buffer holds, according to a prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Parsed<Len = usize> {
    /// The header is incomplete: at least this many bytes are needed.
    NeedHeader(usize),
    /// A frame of `header` bytes of header and `payload` bytes of payload.
    Frame { header: usize, payload: Len },
}

impl LengthPrefix {
    /// A big-endian length field of `width` bytes: 1, 2, 3, 4 or 8.
    ///
    /// # Panics
    ///
    /// If `width` is not one of those (use [`try_new`](Self::try_new) to
    /// check a width that comes from configuration).
    ///
    /// # Examples
    ///
    /// ```
    /// let prefix = intake::LengthPrefix::new(4);
    /// assert_eq!(prefix.encode_header(258)?.as_ref(), &[0, 0, 1, 2]);
    /// # Ok::<(), intake::Error>(())
    /// ```
    pub const fn new(width: usize) -> Self {
        match Self::try_new(width) {
            Some(p) => p,
            None => panic!("LengthPrefix width must be 1, 2, 3, 4 or 8"),
        }
    }

    /// Like [`new`](Self::new), but `None` for a width other than 1, 2, 3,
    /// 4 or 8.
    ///
    /// ```
    /// assert!(intake::LengthPrefix::try_new(5).is_none());
    /// ```
    pub const fn try_new(width: usize) -> Option<Self> {
        match width {
            1 | 2 | 3 | 4 | 8 => Some(LengthPrefix {
                width: width as u8,
                little_endian: false,
                max: DEFAULT_MAX_FRAME_LEN,
                offset: 0,
                adjustment: 0,
                skip: None,
            }),
            _ => None,
        }
    }

    /// An unsigned LEB128 length (protobuf style), 1 to 10 bytes. Byte
    /// order does not apply to it.
    ///
    /// ```
    /// let prefix = intake::LengthPrefix::varint();
    /// assert_eq!(prefix.encode_header(300)?.as_ref(), &[0xAC, 0x02]);
    /// # Ok::<(), intake::Error>(())
    /// ```
    pub const fn varint() -> Self {
        LengthPrefix {
            width: 0,
            little_endian: false,
            max: DEFAULT_MAX_FRAME_LEN,
            offset: 0,
            adjustment: 0,
            skip: None,
        }
    }

    /// The length field is little-endian (default big-endian). No effect
    /// on a varint.
    ///
    /// ```
    /// let p = intake::LengthPrefix::new(2).little_endian();
    /// assert_eq!(p.encode_header(1)?.as_ref(), &[1, 0]);
    /// # Ok::<(), intake::Error>(())
    /// ```
    pub const fn little_endian(mut self) -> Self {
        self.little_endian = true;
        self
    }

    /// The largest payload accepted, after [adjustment](Self::length_adjustment)
    /// (default 8 MiB). A longer one is [`Error::FrameTooLarge`] before any
    /// payload memory is allocated.
    ///
    /// ```
    /// let p = intake::LengthPrefix::new(4).max_frame_len(1024);
    /// assert_eq!(p.max(), 1024);
    /// assert!(p.encode_header(1025).is_err());
    /// ```
    ///
    /// # Panics
    ///
    /// If a [`num_skip`](Self::num_skip) set before is longer than any
    /// frame could then be (the header plus `max`).
    pub const fn max_frame_len(mut self, max: usize) -> Self {
        self.max = max;
        self.check_skip()
    }

    /// `n` bytes come before the length field (a type tag, a version); they
    /// are part of the header. Default 0.
    ///
    /// # Panics
    ///
    /// If the header length would overflow `usize`, or a
    /// [`num_skip`](Self::num_skip) set before no longer fits (see there).
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// // 1-byte type, 2-byte length, payload; keep the header to see the type.
    /// let prefix = intake::LengthPrefix::new(2).length_field_offset(1).keep_header();
    /// let mut r = intake::StreamReader::new(&b"\x07\x00\x02hi"[..]);
    /// let frame = r.read_frame(&prefix).await?.unwrap();
    /// assert_eq!(&frame[..], b"\x07\x00\x02hi");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub const fn length_field_offset(mut self, n: usize) -> Self {
        if n > usize::MAX - 16 {
            panic!("LengthPrefix length field offset overflows");
        }
        self.offset = n;
        self.check_skip()
    }

    /// Added to the length field to get the payload length (default 0).
    /// For a length that counts its own header, use minus the header length.
    /// Checked arithmetic: a result below zero or above the maximum is an
    /// error, never a wrap-around.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// // The 2-byte length counts itself: 0x0005 = 2 header + 3 payload.
    /// let prefix = intake::LengthPrefix::new(2).length_adjustment(-2);
    /// let mut r = intake::StreamReader::new(&b"\x00\x05abc"[..]);
    /// assert_eq!(&r.read_frame(&prefix).await?.unwrap()[..], b"abc");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub const fn length_adjustment(mut self, adjustment: i64) -> Self {
        self.adjustment = adjustment;
        self
    }

    /// Return the header together with the payload (default: stripped).
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let p = intake::LengthPrefix::new(1).keep_header();
    /// assert!(p.keeps_header());
    /// let mut r = intake::StreamReader::new(&b"\x02hi"[..]);
    /// assert_eq!(&r.read_frame(&p).await?.unwrap()[..], b"\x02hi");
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub const fn keep_header(mut self) -> Self {
        self.skip = Some(0);
        self
    }

    /// The width of the length field in bytes, or `None` for a varint.
    ///
    /// ```
    /// assert_eq!(intake::LengthPrefix::new(3).width(), Some(3));
    /// assert_eq!(intake::LengthPrefix::varint().width(), None);
    /// ```
    #[inline]
    pub const fn width(&self) -> Option<usize> {
        match self.width {
            0 => None,
            w => Some(w as usize),
        }
    }

    /// The [length field offset](Self::length_field_offset): how many bytes
    /// come before the length field.
    ///
    /// ```
    /// assert_eq!(intake::LengthPrefix::new(4).length_field_offset(1).offset(), 1);
    /// ```
    #[inline]
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// The maximum payload length.
    #[inline]
    pub const fn max(&self) -> usize {
        self.max
    }

    /// Whether returned frames include their header.
    #[inline]
    pub const fn keeps_header(&self) -> bool {
        matches!(self.skip, Some(0))
    }

    /// Drop the first `n` bytes of each frame instead of the whole header
    /// (tokio-util's `num_skip`), counted from the frame's first byte:
    /// [`keep_header`](Self::keep_header) is `num_skip(0)`, and the default
    /// drops `length_field_offset + width`.
    ///
    /// `n` may be shorter than the header (drop a type byte in front of the
    /// length field but keep the length) or, for a fixed-width field,
    /// longer: it then also drops the first bytes the length covers, such
    /// as a flag byte right after the length field. A frame shorter than
    /// `n` is bad input: [`Error::Io`] with kind `InvalidData` as soon as
    /// its header is seen, with nothing consumed (as for a negative
    /// length). The writer does not drop anything: give
    /// [`send_frame`](crate::StreamWriter::send_frame) the flag as the
    /// first bytes of the payload.
    ///
    /// # Panics
    ///
    /// When the prefix is built, never mid-stream, for a skip no frame can
    /// satisfy:
    ///
    /// - a varint length field and `n` past the length field's start
    ///   (`length_field_offset`): the varint's length varies, so the skip
    ///   would end at a different place in each frame;
    /// - `n` longer than any frame can be: the header plus
    ///   [`max_frame_len`](Self::max_frame_len).
    ///
    /// The check runs again whenever the offset or the maximum changes, so
    /// the setter that makes the prefix nonsense is the one that panics
    /// (for a varint, set the offset first).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// // A type byte, a 2-byte length, the payload: drop the type byte.
    /// let prefix = intake::LengthPrefix::new(2).length_field_offset(1).num_skip(1);
    /// let mut r = intake::StreamReader::new(&b"\x07\x00\x02hi"[..]);
    /// assert_eq!(r.read_frame(&prefix).await?.as_deref(), Some(&b"\x00\x02hi"[..]));
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// tokio-util's example: a 3-byte length, then a flag byte the length
    /// does not count (`length_adjustment(1)`), both dropped:
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let prefix = intake::LengthPrefix::new(3).length_adjustment(1).num_skip(4);
    /// let mut r = intake::StreamReader::new(&b"\x00\x00\x0B\xCAHello world"[..]);
    /// assert_eq!(r.read_frame(&prefix).await?.as_deref(), Some(&b"Hello world"[..]));
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub const fn num_skip(mut self, n: usize) -> Self {
        self.skip = Some(n);
        self.check_skip()
    }

    /// Refuses a [`num_skip`](Self::num_skip) that no frame can satisfy:
    /// called by every setter it depends on, so the order they are called
    /// in does not matter.
    const fn check_skip(self) -> Self {
        let Some(n) = self.skip else {
            return self;
        };
        if self.width == 0 {
            if n > self.offset {
                panic!(
                    "LengthPrefix::num_skip reaches into a varint length field, \
                     whose length varies: skip at most length_field_offset bytes"
                );
            }
        } else {
            let header = self.offset + self.width as usize;
            if n > header && n - header > self.max {
                panic!(
                    "LengthPrefix::num_skip is longer than any frame: \
                     at most the header plus max_frame_len"
                );
            }
        }
        self
    }

    /// The bytes of a frame with a header of `header` bytes that go before
    /// the bytes returned: what is dropped. Within every frame that
    /// [`parse`](Self::parse) accepts (it refuses a frame shorter than the
    /// skip).
    #[inline]
    pub(crate) fn skipped(&self, header: usize) -> usize {
        self.skip.unwrap_or(header)
    }

    /// Whether a frame of `header` and `payload` bytes holds the bytes
    /// [`num_skip`](Self::num_skip) drops (written so that it cannot
    /// overflow).
    #[inline]
    fn holds_skip(&self, header: usize, payload: usize) -> bool {
        match self.skip {
            None => true,
            Some(n) => n.saturating_sub(header) <= payload,
        }
    }

    /// Reads the header at the front of `buf`. Nothing is allocated; a
    /// frame over the maximum is an error as soon as its header is seen.
    #[inline]
    pub(crate) fn parse(&self, buf: &[u8]) -> Result<Parsed, Error> {
        // Fast path, the common case: a 2- or 4-byte field at the front, no
        // adjustment, within the maximum. Everything else takes the general
        // path below, which gives the same answers.
        if self.offset == 0 && self.adjustment == 0 {
            let value = match (self.width, self.little_endian) {
                (4, false) => buf
                    .get(..4)
                    .map(|f| u32::from_be_bytes([f[0], f[1], f[2], f[3]]) as usize),
                (4, true) => buf
                    .get(..4)
                    .map(|f| u32::from_le_bytes([f[0], f[1], f[2], f[3]]) as usize),
                (2, false) => buf
                    .get(..2)
                    .map(|f| usize::from(u16::from_be_bytes([f[0], f[1]]))),
                (2, true) => buf
                    .get(..2)
                    .map(|f| usize::from(u16::from_le_bytes([f[0], f[1]]))),
                _ => None,
            };
            if let Some(payload) = value {
                if payload <= self.max && self.holds_skip(usize::from(self.width), payload) {
                    return Ok(Parsed::Frame {
                        header: usize::from(self.width),
                        payload,
                    });
                }
            }
        }
        self.parse_general(buf)
    }

    #[cold]
    fn parse_general(&self, buf: &[u8]) -> Result<Parsed, Error> {
        let (header, len) = match self.parse_unbounded(buf)? {
            Parsed::Frame { header, payload } => (header, payload),
            Parsed::NeedHeader(n) => return Ok(Parsed::NeedHeader(n)),
        };
        let too_large = || Error::FrameTooLarge { len, max: self.max };
        let payload = usize::try_from(len).map_err(|_| too_large())?;
        if payload > self.max || header.checked_add(payload).is_none() {
            return Err(too_large());
        }
        if !self.holds_skip(header, payload) {
            return Err(invalid(format!(
                "frame of {} bytes is shorter than its num_skip of {}",
                header + payload,
                self.skipped(header)
            )));
        }
        Ok(Parsed::Frame { header, payload })
    }

    /// The header at the front of `buf` with the payload length as the wire
    /// says it (after the adjustment), *not* checked against the maximum:
    /// for skipping a frame that is too large to read.
    pub(crate) fn parse_unbounded(&self, buf: &[u8]) -> Result<Parsed<u64>, Error> {
        let (header, value) = match self.width {
            0 => {
                let mut value: u64 = 0;
                let mut i = 0;
                loop {
                    let Some(&b) = buf.get(self.offset + i) else {
                        return Ok(Parsed::NeedHeader(self.offset + i + 1));
                    };
                    let bits = u64::from(b & 0x7f);
                    if i == MAX_VARINT_LEN - 1 && (b & 0x80 != 0 || bits > 1) {
                        return Err(invalid("varint length prefix overflows 64 bits"));
                    }
                    value |= bits << (7 * i);
                    i += 1;
                    if b & 0x80 == 0 {
                        break (self.offset + i, value);
                    }
                }
            }
            w => {
                let w = usize::from(w);
                let header = self.offset + w;
                let Some(field) = buf.get(self.offset..header) else {
                    return Ok(Parsed::NeedHeader(header));
                };
                let mut be = [0u8; 8];
                be[8 - w..].copy_from_slice(field);
                if self.little_endian {
                    be[8 - w..].reverse();
                }
                (header, u64::from_be_bytes(be))
            }
        };
        let adjusted = i128::from(value) + i128::from(self.adjustment);
        if adjusted < 0 {
            return Err(invalid(format!(
                "length prefix {value} with adjustment {} is negative",
                self.adjustment
            )));
        }
        // A u64 plus an i64 that is not negative may exceed u64: saturate,
        // which is over any maximum a usize can hold.
        let payload = u64::try_from(adjusted).unwrap_or(u64::MAX);
        Ok(Parsed::Frame { header, payload })
    }

    /// The header to send before a payload of `payload_len` bytes.
    ///
    /// # Errors
    ///
    /// Nothing is written in any of these cases:
    /// - [`Error::FrameTooLarge`] if `payload_len` exceeds the maximum;
    /// - [`Error::Io`] (`InvalidInput`) if the length field cannot represent
    ///   it (e.g. 256 in a 1-byte field, or a negative value after the
    ///   adjustment), or the prefix has a length field offset: the bytes
    ///   before the length field are the caller's, so use
    ///   [`encode_length_field`](Self::encode_length_field) or
    ///   [`StreamWriter::send_frame_with_leading`](crate::StreamWriter::send_frame_with_leading).
    ///
    /// # Examples
    ///
    /// ```
    /// let prefix = intake::LengthPrefix::new(1);
    /// assert_eq!(prefix.encode_header(255)?.as_ref(), &[255]);
    /// assert!(prefix.encode_header(256).is_err());
    /// # Ok::<(), intake::Error>(())
    /// ```
    #[inline]
    pub fn encode_header(&self, payload_len: usize) -> Result<Header, Error> {
        if self.offset != 0 {
            return Err(self.offset_needs_leading());
        }
        self.encode_length_field(payload_len)
    }

    #[cold]
    fn offset_needs_leading(&self) -> Error {
        unrepresentable(format!(
            "a prefix with a length field offset of {} cannot make up the bytes \
             before the length field: give them with send_frame_with_leading",
            self.offset
        ))
    }

    /// The length field alone (no bytes of a
    /// [length field offset](Self::length_field_offset)) for a payload of
    /// `payload_len` bytes: what goes right after the caller's leading
    /// bytes. With no offset it is the whole header.
    ///
    /// # Errors
    ///
    /// As [`encode_header`](Self::encode_header), except that an offset is
    /// allowed.
    ///
    /// # Examples
    ///
    /// A PostgreSQL message: a type byte, then a 4-byte length that counts
    /// itself but not the type byte.
    ///
    /// ```
    /// let pg = intake::LengthPrefix::new(4)
    ///     .length_field_offset(1)
    ///     .length_adjustment(-4)
    ///     .keep_header();
    /// assert_eq!(pg.encode_length_field(9)?.as_ref(), &[0, 0, 0, 13]);
    /// # Ok::<(), intake::Error>(())
    /// ```
    // Inlined into every send: the usual case is a few shifts and stores
    // (the whole 8-byte word is stored, `len` says how much of it counts);
    // every error is built out of line.
    #[inline]
    pub fn encode_length_field(&self, payload_len: usize) -> Result<Header, Error> {
        let w = usize::from(self.width);
        // The usual case: a fixed width, no adjustment, a length that fits.
        if w != 0 && self.adjustment == 0 && payload_len <= self.max {
            let value = payload_len as u64;
            if w >= 8 || value >> (8 * w) == 0 {
                // The low `w` bytes of `value` in the first `w` bytes.
                let word = if self.little_endian {
                    value.to_le_bytes()
                } else {
                    (value << ((8 * (8 - w) as u32) % 64)).to_be_bytes()
                };
                let mut bytes = [0; MAX_VARINT_LEN];
                bytes[..8].copy_from_slice(&word);
                return Ok(Header { bytes, len: w });
            }
        }
        self.encode_length_field_general(payload_len)
    }

    /// [`encode_length_field`](Self::encode_length_field) for varints,
    /// adjustments and errors.
    #[inline(never)]
    fn encode_length_field_general(&self, payload_len: usize) -> Result<Header, Error> {
        if payload_len > self.max {
            return Err(Error::FrameTooLarge {
                len: payload_len as u64,
                max: self.max,
            });
        }
        // payload_len - adjustment, in u64 (None: negative or over u64).
        let value = if self.adjustment == i64::MIN {
            (payload_len as u64).checked_add(1 << 63)
        } else {
            (payload_len as u64).checked_add_signed(-self.adjustment)
        };
        let Some(value) = value else {
            return Err(self.unrepresentable_length(payload_len));
        };
        let mut header = Header {
            bytes: [0; MAX_VARINT_LEN],
            len: 0,
        };
        match self.width {
            0 => {
                let mut v = value;
                loop {
                    let b = (v & 0x7f) as u8;
                    v >>= 7;
                    if v == 0 {
                        header.bytes[header.len] = b;
                        header.len += 1;
                        break;
                    }
                    header.bytes[header.len] = b | 0x80;
                    header.len += 1;
                }
            }
            w => {
                let w = usize::from(w);
                if w < 8 && value >> (8 * w) != 0 {
                    return Err(self.field_too_narrow(payload_len));
                }
                // The low `w` bytes of `value` in the first `w` bytes.
                let word = if self.little_endian {
                    value.to_le_bytes()
                } else {
                    (value << (8 * (8 - w) as u32 % 64)).to_be_bytes()
                };
                header.bytes[..8].copy_from_slice(&word);
                header.len = w;
            }
        }
        Ok(header)
    }

    #[cold]
    fn unrepresentable_length(&self, payload_len: usize) -> Error {
        let value = i128::try_from(payload_len).unwrap_or(i128::MAX) - i128::from(self.adjustment);
        let what = if value < 0 { "negative" } else { "too large" };
        unrepresentable(format!(
            "payload of {payload_len} bytes with adjustment {} gives a {what} length",
            self.adjustment
        ))
    }

    #[cold]
    fn field_too_narrow(&self, payload_len: usize) -> Error {
        unrepresentable(format!(
            "payload of {payload_len} bytes does not fit a {}-byte length prefix",
            self.width
        ))
    }
}

/// An encoded length header (at most 10 bytes, on the stack).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    bytes: [u8; MAX_VARINT_LEN],
    len: usize,
}

impl Header {
    /// The header's bytes and how many of them count: the array is copied
    /// whole (a fixed-size copy, no call), then cut to its length.
    #[inline]
    pub(crate) fn padded(&self) -> (&[u8; MAX_VARINT_LEN], usize) {
        (&self.bytes, self.len)
    }
}

impl AsRef<[u8]> for Header {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::Io(io::Error::new(io::ErrorKind::InvalidData, msg.into()))
}

fn unrepresentable(msg: String) -> Error {
    Error::Io(io::Error::new(io::ErrorKind::InvalidInput, msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_width_and_order_round_trips() {
        for width in [1usize, 2, 3, 4, 8] {
            for le in [false, true] {
                let mut p = LengthPrefix::new(width).max_frame_len(usize::MAX);
                if le {
                    p = p.little_endian();
                }
                let max = if width == 8 {
                    u64::MAX
                } else {
                    (1u64 << (8 * width)) - 1
                };
                for len in [0u64, 1, 255, max / 2, max] {
                    let Ok(len) = usize::try_from(len.min(u64::MAX - 16)) else {
                        continue;
                    };
                    let h = p.encode_header(len).unwrap();
                    assert_eq!(h.as_ref().len(), width);
                    assert_eq!(
                        p.parse(h.as_ref()).unwrap(),
                        Parsed::Frame {
                            header: width,
                            payload: len
                        },
                        "width {width} le {le} len {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn varint_round_trips_and_rejects_overflow() {
        let p = LengthPrefix::varint().max_frame_len(usize::MAX);
        for len in [0usize, 1, 127, 128, 300, 16_383, 16_384, usize::MAX - 16] {
            let h = p.encode_header(len).unwrap();
            assert_eq!(
                p.parse(h.as_ref()).unwrap(),
                Parsed::Frame {
                    header: h.as_ref().len(),
                    payload: len
                }
            );
            for cut in 0..h.as_ref().len() {
                assert_eq!(
                    p.parse(&h.as_ref()[..cut]).unwrap(),
                    Parsed::NeedHeader(cut + 1)
                );
            }
        }
        // A total (header + payload) that overflows usize is too large.
        let h = p.encode_header(usize::MAX).unwrap();
        assert!(matches!(
            p.parse(h.as_ref()),
            Err(Error::FrameTooLarge { .. })
        ));
        assert!(p.parse(&[0xff; 10]).is_err());
        assert!(p
            .parse(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02])
            .is_err());
    }

    #[test]
    fn all_ones_prefixes_fail_without_allocating() {
        for width in [1usize, 2, 3, 4, 8] {
            for p in [
                LengthPrefix::new(width),
                LengthPrefix::new(width).little_endian(),
            ] {
                let p = p.max_frame_len(100);
                match p.parse(&[0xff; 8]) {
                    Err(Error::FrameTooLarge { len, max: 100 }) => assert!(len > 100),
                    other => panic!("{other:?}"),
                }
            }
        }
    }

    #[test]
    fn exactly_max_passes_max_plus_one_fails() {
        let p = LengthPrefix::new(2).max_frame_len(1000);
        assert_eq!(
            p.parse(&1000u16.to_be_bytes()).unwrap(),
            Parsed::Frame {
                header: 2,
                payload: 1000
            }
        );
        assert!(matches!(
            p.parse(&1001u16.to_be_bytes()),
            Err(Error::FrameTooLarge {
                len: 1001,
                max: 1000
            })
        ));
        assert!(p.encode_header(1000).is_ok());
        assert!(matches!(
            p.encode_header(1001),
            Err(Error::FrameTooLarge { .. })
        ));
    }

    #[test]
    fn adjustment_is_checked_both_ways() {
        let p = LengthPrefix::new(1).length_adjustment(-2);
        assert!(
            matches!(p.parse(&[1]), Err(Error::Io(_))),
            "negative after adjustment"
        );
        assert_eq!(
            p.parse(&[5]).unwrap(),
            Parsed::Frame {
                header: 1,
                payload: 3
            }
        );
        let p = LengthPrefix::new(8)
            .length_adjustment(i64::MAX)
            .max_frame_len(usize::MAX);
        assert!(matches!(
            p.parse(&[0xff; 8]),
            Err(Error::FrameTooLarge { len: u64::MAX, .. })
        ));
        let p = LengthPrefix::new(1).length_adjustment(10);
        assert!(p.encode_header(5).is_err(), "5 - 10 cannot be sent");
    }

    #[test]
    fn a_skip_past_the_header_is_checked_on_both_paths() {
        // Fast path (2-byte field, no offset, no adjustment) and general
        // path (3 bytes, adjustment) give the same answers.
        for p in [
            LengthPrefix::new(2).num_skip(3),
            LengthPrefix::new(2).length_adjustment(0).num_skip(3),
        ] {
            assert!(
                matches!(p.parse(&[0, 0]), Err(Error::Io(e)) if e.kind() == io::ErrorKind::InvalidData)
            );
            assert_eq!(
                p.parse(&[0, 1]).unwrap(),
                Parsed::Frame {
                    header: 2,
                    payload: 1
                }
            );
            assert_eq!(p.skipped(2), 3);
        }
        let p = LengthPrefix::new(3).length_adjustment(1).num_skip(4);
        assert_eq!(
            p.parse(&[0, 0, 0]).unwrap(),
            Parsed::Frame {
                header: 3,
                payload: 1
            }
        );
        // No overflow at the extremes.
        let p = LengthPrefix::new(8)
            .max_frame_len(usize::MAX)
            .num_skip(usize::MAX);
        assert!(p.parse(&[0; 8]).is_err());
    }

    #[test]
    #[should_panic(expected = "width must be 1, 2, 3, 4 or 8")]
    fn width_five_is_rejected_at_build_time() {
        let _ = LengthPrefix::new(5);
    }
}
