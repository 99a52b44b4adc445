//! HTTP/1.1 request heads in, responses out. The head is read line by line
//! with the reader's `read_until(b"\n")` (each line bounded by the reader's
//! limit, the whole head by `HEAD_LIMIT`: over either, 431), and parsed by
//! `httparse`. A line must end in CRLF: a bare LF is answered 400 at once
//! (RFC 9112 section 2.2 allows either accepting it or refusing; refusing
//! keeps the server's framing from differing from a proxy's in front of
//! it).

use bytes::Bytes;
use futures_io::AsyncWrite;
use intake::{Error, StreamReader, StreamWriter};

use crate::idle::timed_out;

/// Most header lines a request may have.
const MAX_HEADERS: usize = 64;
/// Most bytes a request head (or a chunk-size line, or a multipart part's
/// headers) may take.
pub const HEAD_LIMIT: usize = 16 * 1024;

/// A parsed request head.
#[derive(Debug)]
pub struct Head {
    pub method: String,
    /// The path, still percent-encoded, without the query.
    pub path: String,
    /// HTTP/1.0 (false) or 1.1 (true).
    pub http11: bool,
    headers: Vec<(String, Vec<u8>)>,
}

impl Head {
    /// A header's value as text (`None` if absent or not UTF-8). Names
    /// compare without case, as HTTP says.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
            .map(str::trim)
    }

    fn all(&self, name: &str) -> impl Iterator<Item = &[u8]> + '_ {
        let name = name.to_string();
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(&name))
            .map(|(_, v)| &v[..])
    }

    /// Whether the client asked to close after this exchange (or speaks
    /// HTTP/1.0 without asking to keep the connection).
    pub fn wants_close(&self) -> bool {
        let conn = self.header("connection").unwrap_or("").to_ascii_lowercase();
        if self.http11 {
            conn.split(',').any(|t| t.trim() == "close")
        } else {
            !conn.split(',').any(|t| t.trim() == "keep-alive")
        }
    }

    /// Whether the client waits for `100 Continue` before sending the body.
    pub fn expects_continue(&self) -> bool {
        self.header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }

    /// What RFC 9112 refuses in any request, whatever its route: an
    /// HTTP/1.1 request without `Host`, more than one `Host`, a `Host`
    /// that is not a host (section 3.2), and faulty body framing
    /// (section 6). Answered 400, and the connection closes.
    pub fn check(&self) -> Result<(), &'static str> {
        let hosts: Vec<&[u8]> = self.all("host").collect();
        match hosts.as_slice() {
            [] if self.http11 => return Err("an HTTP/1.1 request needs a Host header"),
            [] => {}
            [h] => {
                // An empty Host is allowed (a URI without an authority).
                if !h.is_empty() && parse_net::parse_host_port(h).is_err() {
                    return Err("bad Host header");
                }
            }
            _ => return Err("more than one Host header"),
        }
        self.body().map(|_| ())
    }

    /// How the body is framed.
    pub fn body(&self) -> Result<Body, &'static str> {
        let te: Vec<&[u8]> = self.all("transfer-encoding").collect();
        let cl: Vec<&[u8]> = self.all("content-length").collect();
        if !te.is_empty() {
            // RFC 9112 section 6.1: Transfer-Encoding in an HTTP/1.0
            // message means faulty framing (1.0 has no chunked coding):
            // 400, and the connection closes.
            if !self.http11 {
                return Err("Transfer-Encoding in an HTTP/1.0 request");
            }
            // A body framed two ways is a request-smuggling shape: refuse.
            if !cl.is_empty() {
                return Err("both Transfer-Encoding and Content-Length");
            }
            let te = std::str::from_utf8(te[te.len() - 1]).map_err(|_| "bad Transfer-Encoding")?;
            if te.trim().eq_ignore_ascii_case("chunked") {
                return Ok(Body::Chunked);
            }
            return Err("unsupported Transfer-Encoding (only chunked)");
        }
        let mut len = None;
        for v in cl {
            let n = std::str::from_utf8(v)
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or("bad Content-Length")?;
            if len.is_some_and(|l| l != n) {
                return Err("conflicting Content-Length headers");
            }
            len = Some(n);
        }
        Ok(match len {
            None | Some(0) => Body::Empty,
            Some(n) => Body::Length(n),
        })
    }
}

/// How a request body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    Empty,
    Length(u64),
    Chunked,
}

/// Why no head could be read.
#[derive(Debug)]
pub enum HeadError {
    /// The client closed cleanly between requests.
    Closed,
    /// The head is over `HEAD_LIMIT` (431).
    TooLarge,
    /// Not HTTP, or a line ended by a bare LF (400).
    Bad(&'static str),
    /// The head started but stalled past the idle timeout (408).
    Stalled,
    /// The head did not complete within the head timeout (408).
    Deadline,
    /// The connection failed, or timed out between requests.
    Io,
}

/// Reads and parses one request head, a line at a time.
pub async fn read_head<S: intake::io::Source + Unpin>(
    reader: &mut StreamReader<S>,
) -> Result<Head, HeadError> {
    let mut raw: Vec<u8> = Vec::new();
    loop {
        let line = match reader.read_until(b"\n").await {
            Ok(Some(line)) => line,
            Ok(None) if raw.is_empty() => return Err(HeadError::Closed),
            Ok(None) => return Err(HeadError::Io),
            Err(Error::LimitExceeded { .. }) => return Err(HeadError::TooLarge),
            Err(e) if timed_out(&e) && (!raw.is_empty() || !reader.buffer().is_empty()) => {
                return Err(HeadError::Stalled)
            }
            Err(_) => return Err(HeadError::Io),
        };
        if !line.ends_with(b"\r\n") {
            return Err(HeadError::Bad("line ended by a bare LF (HTTP needs CRLF)"));
        }
        // RFC 9112 section 2.2: empty lines before the request line are
        // ignored (some clients send one after a body).
        if raw.is_empty() && &line[..] == b"\r\n" {
            continue;
        }
        if raw.len() + line.len() > HEAD_LIMIT {
            return Err(HeadError::TooLarge);
        }
        raw.extend_from_slice(&line);
        if &line[..] == b"\r\n" {
            break;
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(&raw) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HeadError::Bad("incomplete request head")),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(_) => return Err(HeadError::Bad("malformed request head")),
    }
    let target = req.path.unwrap_or("/");
    let path = target.split(['?', '#']).next().unwrap_or("/").to_string();
    Ok(Head {
        method: req.method.unwrap_or("").to_string(),
        path,
        http11: req.version == Some(1),
        headers: req
            .headers
            .iter()
            .map(|h| (h.name.to_string(), h.value.to_vec()))
            .collect(),
    })
}

/// Decodes `%XX` escapes (percent-encoding); refuses a `%` without two hex
/// digits after it (the crate would keep it as it is) and non-UTF-8
/// results.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let well_formed = b.iter().enumerate().all(|(i, &c)| {
        c != b'%' || (b.get(i + 1..i + 3)).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// An answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
    /// Close the connection after it (the body was not read, or the client
    /// asked).
    pub close: bool,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            close: false,
        }
    }

    /// A plain-text answer (refusals say why in one line).
    pub fn text(status: u16, text: &str) -> Self {
        Response::new(status)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(format!("{text}\n"))
    }

    pub fn json(status: u16, value: &impl serde::Serialize) -> Self {
        let text = serde_json::to_string(value).expect("plain data serializes");
        Response::new(status)
            .header("Content-Type", "application/json")
            .body(format!("{text}\n"))
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    pub fn close(mut self) -> Self {
        self.close = true;
        self
    }

    /// Writes the answer; for HEAD, the head only.
    pub async fn send<W: AsyncWrite + Unpin>(
        &self,
        w: &mut StreamWriter<W>,
        head_only: bool,
    ) -> Result<(), Error> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (n, v) in &self.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        // Same-origin pages need none of this; a page served elsewhere (a
        // tus client on another port) can read the upload headers with it.
        head.push_str(
            "Access-Control-Allow-Origin: *\r\n\
             Access-Control-Expose-Headers: Upload-Offset, Upload-Length, Upload-Metadata, Location, \
             Tus-Version, Tus-Resumable, Tus-Max-Size, Tus-Extension, Tus-Checksum-Algorithm, Upload-Sha256\r\n",
        );
        if !self.headers.iter().any(|(n, _)| *n == "Content-Length") {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        if self.close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        w.send(Bytes::from(head)).await?;
        if !head_only && !self.body.is_empty() {
            w.send(self.body.clone()).await?;
        }
        w.flush().await
    }
}

/// `100 Continue`: the checks passed, the client may send the body.
pub async fn send_continue<W: AsyncWrite + Unpin>(w: &mut StreamWriter<W>) -> Result<(), Error> {
    w.send(Bytes::from_static(b"HTTP/1.1 100 Continue\r\n\r\n"))
        .await?;
    w.flush().await
}

/// The reason phrase: the `http` crate's, and tus's own 460.
pub fn reason(status: u16) -> &'static str {
    match status {
        460 => "Checksum Mismatch",
        _ => ::http::StatusCode::from_u16(status)
            .ok()
            .and_then(|c| c.canonical_reason())
            .unwrap_or("Unknown"),
    }
}
