//! HTTP/1.1 request heads in, responses out. The head is found with the
//! reader's `read_until(b"\r\n\r\n")` (bounded by its limit, so an endless
//! head is a typed `LimitExceeded`, answered 431) and parsed by `httparse`.

use bytes::Bytes;
use futures_io::AsyncWrite;
use intake::{Error, StreamReader, StreamWriter};

/// Most header lines a request may have.
const MAX_HEADERS: usize = 64;

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

    /// How the body is framed.
    pub fn body(&self) -> Result<Body, &'static str> {
        let te: Vec<&[u8]> = self.all("transfer-encoding").collect();
        let cl: Vec<&[u8]> = self.all("content-length").collect();
        if !te.is_empty() {
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
    /// The head is over the reader's limit (431).
    TooLarge,
    /// Not HTTP (400).
    Bad(&'static str),
    /// The connection failed or timed out.
    Io(Error),
}

/// Reads and parses one request head.
pub async fn read_head<S: intake::io::Source + Unpin>(
    reader: &mut StreamReader<S>,
) -> Result<Head, HeadError> {
    let raw = match reader.read_until(b"\r\n\r\n").await {
        Ok(Some(raw)) => raw,
        Ok(None) => return Err(HeadError::Closed),
        Err(Error::LimitExceeded { .. }) => return Err(HeadError::TooLarge),
        Err(e) => return Err(HeadError::Io(e)),
    };
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

/// Decodes `%XX` escapes; refuses bad escapes and non-UTF-8 results.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
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

    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Response::new(status)
            .header("Content-Type", "application/json")
            .body(format!("{value}\n"))
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

pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        460 => "Checksum Mismatch",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        507 => "Insufficient Storage",
        _ => "Unknown",
    }
}
