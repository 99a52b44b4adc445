//! What every handler shares: the server's state (`App`), the request being
//! answered (`Exchange`), what a handler comes to (`Reply`), and the
//! answers and steps the handlers have in common (receiving a body into a
//! file, publishing it, the 413, 507 and 401 answers). The handlers
//! (`server`'s PUT, `multipart`, `tus`) import from here; nothing here
//! imports a handler.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use intake::{Error, StreamReader, StreamWriter};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::chunked::{self, ChunkError};
use crate::http::{self, Body, Head, Response};
use crate::idle::{timed_out, IdleIo};
use crate::storage::{
    check_name, is_full, DiskFailure, DiskFile, Progress, PublishError, Store, TempFile,
    UploadLocks,
};

pub type Reader = StreamReader<IdleIo>;
pub type Writer = StreamWriter<IdleIo>;

/// The server's settings (`serve`'s options).
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest body (and tus upload) accepted.
    pub max_size: u64,
    /// A connection with no progress for this long gets 408 or is closed.
    pub idle: Duration,
    /// The whole request head must arrive within this, from its first byte.
    pub head_timeout: Duration,
    /// A tus upload expires this long after its last PATCH (or completion).
    pub tus_expiry: Duration,
    /// If set, requests that write or delete need `Authorization: Bearer`
    /// with it.
    pub token: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_size: 64 << 30,
            idle: Duration::from_secs(30),
            head_timeout: Duration::from_secs(10),
            tus_expiry: Duration::from_secs(24 * 60 * 60),
            token: None,
        }
    }
}

/// Everything the handlers share.
pub struct App {
    pub store: Store,
    pub max_size: u64,
    pub idle: Duration,
    pub head_timeout: Duration,
    pub tus_expiry: Duration,
    /// SHA-256 of the token: compared in constant time, and the same
    /// length whatever the token's, so neither its bytes nor its length
    /// leak through timing.
    token: Option<[u8; 32]>,
    /// The demo's "received" bar.
    pub progress: Option<Progress>,
    pub tus: UploadLocks,
}

impl App {
    pub fn new(dir: PathBuf, cfg: Config, progress: Option<Progress>) -> std::io::Result<App> {
        std::fs::create_dir_all(&dir)?;
        Ok(App {
            store: Store::open(&dir)?,
            max_size: cfg.max_size,
            idle: cfg.idle,
            head_timeout: cfg.head_timeout,
            tus_expiry: cfg.tus_expiry,
            token: cfg.token.map(|t| Sha256::digest(t.as_bytes()).into()),
            progress,
            tus: UploadLocks::default(),
        })
    }

    /// `Ok` if no token is set or the request carries it as a bearer
    /// token; the 401 otherwise.
    pub fn authorize(&self, head: &Head) -> Result<(), Response> {
        let Some(want) = &self.token else {
            return Ok(());
        };
        let given = head
            .header("authorization")
            .and_then(|v| parse_net::bearer(v.as_bytes()).ok().flatten());
        let ok = given.is_some_and(|t| {
            let got: [u8; 32] = Sha256::digest(t).into();
            bool::from(got.ct_eq(want))
        });
        if ok {
            Ok(())
        } else {
            Err(
                Response::text(401, "a bearer token is required to write or delete")
                    .header("WWW-Authenticate", "Bearer realm=\"uploads\""),
            )
        }
    }
}

/// One request being answered.
pub struct Exchange<'a> {
    pub head: Head,
    pub reader: &'a mut Reader,
    pub writer: &'a mut Writer,
    /// The body was read to its end, so the connection can carry another
    /// request. Handlers that refuse without reading it leave this false
    /// and the connection closes after the answer.
    pub body_done: bool,
    pub continued: bool,
}

impl Exchange<'_> {
    /// Sends `100 Continue` if the client waits for it. Called only once
    /// every check has passed, right before the body is read.
    pub async fn proceed(&mut self) -> Result<(), Error> {
        if self.head.expects_continue() && !self.continued {
            self.continued = true;
            http::send_continue(self.writer).await?;
        }
        Ok(())
    }
}

/// What a handler came to.
pub enum Reply {
    Send(Response),
    /// The client went away: nobody to answer.
    Gone,
}

impl From<Response> for Reply {
    fn from(r: Response) -> Self {
        Reply::Send(r)
    }
}

/// The 413 for a body (or tus upload) of `len` bytes over `limit`.
pub fn too_large(what: &str, len: u64, limit: u64) -> Response {
    Response::text(
        413,
        &format!("{what} of {len} bytes is over the limit of {limit} bytes"),
    )
}

/// CORS preflight answer: what a page from another origin may send.
pub fn preflight(r: Response) -> Response {
    r.header(
        "Access-Control-Allow-Methods",
        "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
    )
    .header(
        "Access-Control-Allow-Headers",
        "Origin, X-Requested-With, Content-Type, Content-Length, Upload-Length, Upload-Offset, \
         Tus-Resumable, Upload-Metadata, Upload-Defer-Length, Upload-Concat, Upload-Checksum, \
         Authorization",
    )
    .header("Access-Control-Max-Age", "86400")
}

/// The name in a URL path: percent-decoded, then checked.
pub fn name_from_path(raw: &str) -> Result<String, Response> {
    let name = http::percent_decode(raw)
        .ok_or_else(|| Response::text(400, "bad percent-encoding in the file name"))?;
    check_name(&name).map_err(|why| Response::text(400, why))?;
    Ok(name)
}

/// The answer for a disk that failed.
pub fn disk_error(kind: std::io::ErrorKind) -> Response {
    if is_full(kind) {
        Response::text(507, "insufficient storage: the disk is full")
    } else {
        Response::text(500, &format!("cannot write the file: {kind}"))
    }
}

/// How receiving a body ended, when it did not end well: the answer to
/// give, or `None` if the client is gone.
pub fn body_failure(file: &DiskFile, err: Option<&Error>) -> Option<Response> {
    match file.failure {
        Some(DiskFailure::TooLarge) => {
            Some(Response::text(413, "body larger than the server's limit"))
        }
        Some(DiskFailure::Io(kind)) => Some(disk_error(kind)),
        None => match err {
            Some(e) if timed_out(e) => Some(Response::text(408, "body not received in time")),
            _ => None,
        },
    }
}

/// Copies a body (`Content-Length` or chunked) into `file`. `Err` carries
/// the answer, or `None` if the client is gone.
pub async fn receive_body(
    ex: &mut Exchange<'_>,
    body: Body,
    file: &mut DiskFile,
) -> Result<u64, Option<Response>> {
    let copied = match body {
        Body::Empty => Ok(0),
        Body::Length(n) => ex
            .reader
            .copy_exact(n, file)
            .await
            .map(|()| n)
            .map_err(ChunkError::Io),
        Body::Chunked => chunked::copy(ex.reader, file).await,
    };
    match copied {
        Ok(n) => {
            ex.body_done = true;
            Ok(n)
        }
        Err(ChunkError::Bad(why)) => {
            Err(body_failure(file, None).or(Some(Response::text(400, why))))
        }
        Err(ChunkError::Io(e)) => Err(body_failure(file, Some(&e))),
    }
}

/// Publishes a finished file as DIR/NAME (on a blocking thread), never
/// replacing one: 409 if the name is taken.
pub async fn publish(
    app: &Arc<App>,
    src: &std::path::Path,
    name: &str,
    sha256: &str,
    size: u64,
) -> Result<(), Response> {
    let (app, src, name2, sha) = (
        app.clone(),
        src.to_path_buf(),
        name.to_string(),
        sha256.to_string(),
    );
    match smol::unblock(move || app.store.publish(&src, &name2, &sha, size)).await {
        Ok(()) => Ok(()),
        Err(PublishError::Exists) => Err(Response::text(409, &format!("{name} exists"))),
        Err(PublishError::Io(e)) => Err(disk_error(e.kind())),
    }
}

/// A temp file for a body, with its writer (hashing, limited to the
/// server's maximum size).
pub fn temp_file(app: &App) -> Result<(TempFile, DiskFile), Response> {
    let temp = TempFile(app.store.temp_path());
    let file = DiskFile::create(&temp.0, app.max_size, app.progress.clone())
        .map_err(|e| disk_error(e.kind()))?;
    Ok((temp, file))
}
