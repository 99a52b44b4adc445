//! POST /files with `multipart/form-data` (a browser `<form>`, `curl -F`).
//!
//! Each file part goes to its temp file as it arrives, through
//! `copy_until(b"\r\n--BOUNDARY", file)`: memory stays at the reader's
//! buffer whatever the part's size. The body is read through a view of the
//! connection's reader, on its one buffer: `limited(Content-Length)`, or
//! `chunked()` for a chunked form (its framing cut out in place, so the
//! boundary search sees only the form). No search can run past the body
//! into the next request. The files are
//! published only once the whole form has arrived: a form cut short stores
//! nothing.

use std::collections::HashSet;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use intake::{Chunked, Error, Limited, StreamReader};
use sha2::Digest;

use crate::exchange::{
    body_failure, disk_error, publish, temp_file, too_large, App, Exchange, Reader, Reply,
};
use crate::http::{Body, Response};
use crate::idle::IdleIo;
use crate::storage::{check_name, hex, Entry, TempFile};

/// A received part, waiting for the end of the form to be published.
struct Part {
    temp: TempFile,
    name: String,
    size: u64,
    sha256: String,
}

pub async fn post(app: &Arc<App>, ex: &mut Exchange<'_>) -> Reply {
    let boundary = match ex.head.header("content-type").and_then(boundary) {
        Some(b) => b,
        None => {
            return Response::text(
                400,
                "expected Content-Type: multipart/form-data with a boundary",
            )
            .into()
        }
    };
    // `None`: a chunked form (its files are bounded one by one).
    let len = match ex.head.body() {
        Ok(Body::Length(n)) => Some(n),
        Ok(Body::Chunked) => None,
        Ok(Body::Empty) => return Response::text(400, "empty form").into(),
        Err(why) => return Response::text(400, why).into(),
    };
    if let Some(len) = len.filter(|&len| len > app.max_size) {
        return too_large("body", len, app.max_size).into();
    }
    if ex.proceed().await.is_err() {
        return Reply::Gone;
    }
    let parts = match receive(app, ex, len, &boundary).await {
        Ok(parts) => parts,
        Err(reply) => return reply,
    };
    if parts.is_empty() {
        return Response::text(400, "no file in the form").into();
    }
    // All or nothing: a name taken meanwhile undoes the parts published
    // before it.
    let mut done: Vec<Entry> = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if let Err(r) = publish(app, &p.temp.0, &p.name, &p.sha256, p.size).await {
            for q in &parts[..i] {
                app.store.unpublish(&q.name);
            }
            return r.into();
        }
        done.push(Entry::new(&p.name, p.size, &p.sha256));
    }
    Response::json(201, &done).into()
}

/// The form's body as a view of the connection's reader, on its one
/// buffer: bounded by its `Content-Length`, or decoded from chunked coding
/// in place. Either way the view's end is the body's, and no search runs
/// past it into the next request.
enum FormBody<'a> {
    Length(Limited<'a, IdleIo>),
    Chunked(Chunked<'a, IdleIo>),
}

impl FormBody<'_> {
    /// Whether the body's end was reached (not the connection's).
    fn ended(&self) -> bool {
        match self {
            FormBody::Length(body) => body.remaining() == 0,
            FormBody::Chunked(body) => body.at_eof(),
        }
    }

    /// Reads the rest of the body (the epilogue), so the connection can go
    /// on.
    async fn skip_rest(&mut self) -> Result<(), Error> {
        match self {
            FormBody::Length(body) => body.skip_rest().await,
            FormBody::Chunked(body) => body.skip_rest().await,
        }
    }
}

impl Deref for FormBody<'_> {
    type Target = Reader;

    fn deref(&self) -> &Reader {
        match self {
            FormBody::Length(body) => body,
            FormBody::Chunked(body) => body,
        }
    }
}

impl DerefMut for FormBody<'_> {
    fn deref_mut(&mut self) -> &mut Reader {
        match self {
            FormBody::Length(body) => body,
            FormBody::Chunked(body) => body,
        }
    }
}

/// Reads the whole form; every file part is in a temp file on success.
async fn receive(
    app: &Arc<App>,
    ex: &mut Exchange<'_>,
    len: Option<u64>,
    boundary: &str,
) -> Result<Vec<Part>, Reply> {
    let mut body = match len {
        Some(len) => FormBody::Length(ex.reader.limited(len)),
        None => FormBody::Chunked(ex.reader.chunked()),
    };
    let first = format!("--{boundary}");
    let delim = format!("\r\n--{boundary}");
    // The stream ended before the form did: a body shorter than the form
    // (400: the view's end was reached), bad chunked framing (400), or the
    // client gone (bytes of the body were still to come).
    let cut = |body: &FormBody<'_>, e: Error| -> Reply {
        if crate::idle::timed_out(&e) {
            Response::text(408, "body not received in time").into()
        } else if body.ended() && e.is_unexpected_eof() {
            Response::text(400, "form ended before its closing boundary").into()
        } else if matches!(&e, Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData) {
            Response::text(400, "bad chunked framing").into()
        } else {
            Reply::Gone
        }
    };
    // The preamble (usually empty) up to the first boundary.
    match body.skip_until(first.as_bytes()).await {
        Ok(Some(_)) => {}
        Ok(None) => return Err(Response::text(400, "no boundary in the form").into()),
        Err(e) => return Err(cut(&body, e)),
    }
    let mut parts: Vec<Part> = Vec::new();
    let mut names = HashSet::new();
    loop {
        match body.read_exactly(2).await {
            Ok(b) if &b[..] == b"--" => break,
            Ok(b) if &b[..] == b"\r\n" => {}
            Ok(_) => return Err(Response::text(400, "bad boundary line").into()),
            Err(e) => return Err(cut(&body, e)),
        }
        let filename = match part_headers(&mut body).await {
            Ok(f) => f,
            Err(Ok(r)) => return Err(r.into()),
            Err(Err(e)) => return Err(cut(&body, e)),
        };
        let Some(name) = filename.filter(|n| !n.is_empty()) else {
            // A form field, or a file input left empty: discarded.
            if let Err(e) = body
                .copy_until(delim.as_bytes(), &mut futures_lite::io::sink())
                .await
            {
                return Err(cut(&body, e));
            }
            continue;
        };
        if let Err(why) = check_name(&name) {
            return Err(Response::text(400, why).into());
        }
        if app.store.exists(&name) || !names.insert(name.clone()) {
            return Err(Response::text(409, &format!("{name} exists")).into());
        }
        let (temp, mut file) = temp_file(app).map_err(Reply::from)?;
        let size = match body.copy_until(delim.as_bytes(), &mut file).await {
            Ok(Some(n)) => n,
            Ok(None) => {
                return Err(cut(
                    &body,
                    Error::UnexpectedEof {
                        partial: Default::default(),
                        expected: None,
                    },
                ))
            }
            Err(e) => {
                return Err(match body_failure(&file, Some(&e)) {
                    Some(r) => r.into(),
                    None => cut(&body, e),
                })
            }
        };
        if let Err(e) = file.sync().await {
            return Err(disk_error(e.kind()).into());
        }
        let sha256 = hex(&std::mem::take(&mut file.hasher).finalize());
        parts.push(Part {
            temp,
            name,
            size,
            sha256,
        });
    }
    // The epilogue (usually "\r\n"), so the connection can go on.
    if let Err(e) = body.skip_rest().await {
        return Err(cut(&body, e));
    }
    drop(body);
    ex.body_done = true;
    Ok(parts)
}

/// Reads one part's headers; `Ok(Some(filename))` for a file part.
async fn part_headers<R: intake::io::Source + Unpin>(
    body: &mut StreamReader<R>,
) -> Result<Option<String>, Result<Response, Error>> {
    // A part without headers starts with its empty line at once.
    if body.peek(2).await.map_err(Err)? == b"\r\n" {
        body.consume(2);
        return Ok(None);
    }
    let block = match body.read_until(b"\r\n\r\n").await {
        Ok(Some(b)) => b,
        Ok(None) => {
            return Err(Err(Error::UnexpectedEof {
                partial: Default::default(),
                expected: None,
            }))
        }
        Err(Error::LimitExceeded { .. }) => {
            return Err(Ok(Response::text(431, "part headers too large")))
        }
        Err(e) => return Err(Err(e)),
    };
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let parsed = match httparse::parse_headers(&block, &mut headers) {
        Ok(httparse::Status::Complete((_, h))) => h,
        _ => return Err(Ok(Response::text(400, "malformed part headers"))),
    };
    let Some(cd) = parsed
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-disposition"))
    else {
        return Err(Ok(Response::text(400, "part without Content-Disposition")));
    };
    filename(cd.value).map_err(|why| Ok(Response::text(400, why)))
}

/// The file name of a part's `Content-Disposition` (parsed by parse-net):
/// `filename*` (RFC 8187, `UTF-8''na%C3%AFve.txt`) when present, else
/// `filename` (quoted-string escapes undone; raw UTF-8, as browsers send it,
/// kept). `None` for a field without a file.
fn filename(value: &[u8]) -> Result<Option<String>, &'static str> {
    let cd = parse_net::parse_content_disposition(value)
        .map_err(|_| "malformed Content-Disposition in a part")?;
    let Some(name) = cd.filename() else {
        return Ok(None);
    };
    let mut buf = vec![0u8; name.max_decoded_len()];
    name.decode_into(&mut buf)
        .map(|s| Some(s.to_string()))
        .map_err(|_| "part file name is not UTF-8 text")
}

/// `multipart/form-data; boundary=XYZ` -> `XYZ` (quoted or not, 1 to 70
/// characters as RFC 2046 says; parsed by parse-net).
fn boundary(content_type: &str) -> Option<String> {
    let mt = parse_net::parse_media_type(content_type.as_bytes()).ok()?;
    if !mt.is_multipart_form_data() {
        return None;
    }
    let b = mt.boundary().ok()??;
    String::from_utf8(b.as_bytes().to_vec()).ok()
}
