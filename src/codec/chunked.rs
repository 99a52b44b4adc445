//! HTTP/1.1 chunked transfer coding (RFC 9112, section 7.1): where one
//! chunk's framing ends and how much data follows. No I/O and no memory
//! policy: the reader's [`chunked`](crate::StreamReader::chunked) view cuts
//! what this finds out of its buffer.
//!
//! ```text
//! chunked-body = *chunk last-chunk trailer-section CRLF
//! chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! last-chunk   = 1*("0") [ chunk-ext ] CRLF
//! ```
//!
//! The view sees the body as a run of *heads*: the framing between two
//! chunks' data. The first head is the first size line; every later one is
//! the CRLF that ends the data before it, then the next size line; the last
//! one runs from that CRLF through the trailer section and its final CRLF.
//! The size line is parsed by `httparse` (hex digits, extensions skipped);
//! the trailer section by `httparse` too, as header fields.

use std::io;

/// The longest head accepted: a size line with its extensions, or a last
/// chunk with its trailer fields. A peer that sends more without ending it
/// gets `InvalidData`, so the buffer never grows with it.
pub(crate) const MAX_HEAD: usize = 16 * 1024;

/// Most trailer fields in a last chunk (more is `InvalidData`).
const MAX_TRAILERS: usize = 64;

/// One head of a chunked body, as found at the start of the bytes after
/// the data before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkHead {
    /// Bytes of framing, to cut out.
    pub(crate) len: usize,
    /// Bytes of data after it; `None` for the last chunk (the body ends
    /// after its trailer section).
    pub(crate) data: Option<u64>,
}

/// Parses the head at the start of `raw`: the body's first (`first`, no
/// CRLF of data before it) or a later one. `Ok(None)`: not all of it is
/// there yet.
///
/// # Errors
///
/// `InvalidData` for framing that is not chunked coding, or a head longer
/// than [`MAX_HEAD`] (or with more than 64 trailer fields).
pub(crate) fn parse_head(raw: &[u8], first: bool) -> io::Result<Option<ChunkHead>> {
    let head = parse(raw, first)?;
    if head.is_none() && raw.len() > MAX_HEAD {
        return Err(invalid("chunk head longer than 16 KiB"));
    }
    Ok(head)
}

fn parse(raw: &[u8], first: bool) -> io::Result<Option<ChunkHead>> {
    let mut at = 0;
    if !first {
        // The CRLF that ends the data before this head.
        match raw {
            [b'\r', b'\n', ..] => at = 2,
            [] | [b'\r'] => return Ok(None),
            _ => return Err(invalid("chunk data not followed by CRLF")),
        }
    }
    // A size line ends at its first LF, which must follow a CR. `httparse`
    // would let a bare LF through inside extensions; it is refused here: a
    // peer and a proxy that split lines differently disagree on where the
    // body ends (request smuggling). Until the LF is there, one `memchr`
    // says so: a head that arrives a byte at a time is not parsed again
    // and again.
    let size_line = &raw[at..];
    let Some(lf) = memchr::memchr(b'\n', size_line) else {
        return Ok(None);
    };
    if lf == 0 || size_line[lf - 1] != b'\r' {
        return Err(invalid("bare LF in a chunk size line"));
    }
    let size = match httparse::parse_chunk_size(&size_line[..=lf]) {
        Ok(httparse::Status::Complete((n, size))) if n == lf + 1 => size,
        _ => return Err(invalid("invalid chunk size line")),
    };
    at += lf + 1;
    if size != 0 {
        return Ok(Some(ChunkHead {
            len: at,
            data: Some(size),
        }));
    }
    // The last chunk: the trailer section, up to the empty line (found
    // first, as the size line's LF is).
    let rest = &raw[at..];
    let section = if rest.starts_with(b"\r\n") {
        2
    } else {
        match memchr::memmem::find(rest, b"\r\n\r\n") {
            Some(i) => i + 4,
            None => {
                // Trailer fields, still arriving; a bare LF among them is
                // refused at once.
                if memchr::memchr_iter(b'\n', rest).any(|i| i == 0 || rest[i - 1] != b'\r') {
                    return Err(invalid("bare LF in the trailer section"));
                }
                return Ok(None);
            }
        }
    };
    let section = &rest[..section];
    if memchr::memchr_iter(b'\n', section).any(|i| i == 0 || section[i - 1] != b'\r') {
        return Err(invalid("bare LF in the trailer section"));
    }
    let mut fields = [httparse::EMPTY_HEADER; MAX_TRAILERS];
    match httparse::parse_headers(section, &mut fields) {
        Ok(httparse::Status::Complete((n, _))) if n == section.len() => Ok(Some(ChunkHead {
            len: at + n,
            data: None,
        })),
        Err(httparse::Error::TooManyHeaders) => Err(invalid("more than 64 trailer fields")),
        _ => Err(invalid("invalid trailer section")),
    }
}

fn invalid(why: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A head's expected `(len, data)`, `None` while incomplete.
    type Want = Option<(usize, Option<u64>)>;

    #[test]
    fn heads_in_every_position() {
        let cases: &[(&[u8], bool, Want)] = &[
            (b"1a\r\nxyz", true, Some((4, Some(26)))),
            (b"\r\n1A;name=v\r\nxyz", false, Some((13, Some(26)))),
            (b"0\r\n\r\nNEXT", true, Some((5, None))),
            (b"\r\n0\r\nA: b\r\n\r\nNEXT", false, Some((13, None))),
            (b"000\r\n\r\n", true, Some((7, None))),
            // Not all there yet: at every cut of a complete head.
            (b"", true, None),
            (b"", false, None),
            (b"\r", false, None),
            (b"\r\n", false, None),
            (b"\r\n1a", false, None),
            (b"1a\r", true, None),
            (b"0\r\n", true, None),
            (b"0\r\nA: b\r\n", true, None),
            (b"0\r\n\r", true, None),
        ];
        for &(raw, first, want) in cases {
            let got = parse_head(raw, first).unwrap();
            assert_eq!(
                got,
                want.map(|(len, data)| ChunkHead { len, data }),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn bad_framing_is_invalid_data() {
        let cases: &[(&[u8], bool)] = &[
            (b"xyz\r\n", true),
            (b"-1\r\n", true),
            (b"ab", false),                   // data longer than its size
            (b"\rx", false),                  // CR not followed by LF
            (b"11111111111111111\r\n", true), // more than 64 bits
            (b"0\r\n\x01bad\r\n\r\n", true),
            (b"3\nabc", true), // bare LF
            (b"\r\n3;x\nabc", false),
            (b"3;x\nabc\r\n", true), // a LF inside an extension
            (b"0\r\nT: 1\n\r\n", true),
            (b"0\r\n\n", true),
        ];
        for &(raw, first) in cases {
            let e = parse_head(raw, first).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{raw:?}");
        }
    }

    #[test]
    fn a_head_that_never_ends_is_refused_past_the_bound() {
        let mut raw = b"1;".to_vec();
        raw.resize(MAX_HEAD, b'x');
        assert!(parse_head(&raw, true).unwrap().is_none());
        raw.push(b'x');
        assert_eq!(
            parse_head(&raw, true).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        let mut trailers = b"0\r\n".to_vec();
        for i in 0..65 {
            trailers.extend_from_slice(format!("T{i}: v\r\n").as_bytes());
        }
        trailers.extend_from_slice(b"\r\n");
        assert_eq!(
            parse_head(&trailers, true).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }
}
