//! The connection loop (keep-alive, refusals, lingering close), the routes,
//! and the PUT and GET handlers. Multipart and tus have modules of their own.

use std::net::Shutdown;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::future;
use intake::{Error, StreamReader, StreamWriter};
use sha2::Digest;
use smol::net::TcpStream;

use crate::chunked::{self, ChunkError};
use crate::http::{self, read_head, Body, Head, HeadError, Response};
use crate::idle::{timed_out, IdleIo};
use crate::storage::{
    check_name, hex, is_full, DiskFailure, DiskFile, Progress, PublishError, Store,
};
use crate::{multipart, tus};

/// Read buffer per connection: one socket read's worth; bodies stream
/// through it to disk, so it is also the body's whole footprint here.
const READ_CAPACITY: usize = 64 * 1024;
/// Most bytes a request head (or a chunk-size line, or a multipart part's
/// headers) may take: past it, `read_until` stops with `LimitExceeded`.
pub const HEAD_LIMIT: usize = 16 * 1024;
/// How long a refused client may go on sending before the socket closes.
const LINGER: Duration = Duration::from_secs(2);

static PAGE: &str = include_str!("page.html");
static TUS_JS: &[u8] = include_bytes!("assets/tus.min.js");

pub type Reader = StreamReader<IdleIo>;
pub type Writer = StreamWriter<IdleIo>;

/// Everything the handlers share.
pub struct App {
    pub store: Store,
    pub max_size: u64,
    pub idle: Duration,
    /// The demo's "received" bar.
    pub progress: Option<Progress>,
    pub tus: tus::Uploads,
}

impl App {
    pub fn new(
        dir: PathBuf,
        max_size: u64,
        idle: Duration,
        progress: Option<Progress>,
    ) -> std::io::Result<App> {
        std::fs::create_dir_all(&dir)?;
        Ok(App {
            store: Store::open(&dir)?,
            max_size,
            idle,
            progress,
            tus: tus::Uploads::default(),
        })
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
    continued: bool,
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

/// Accepts connections until the listener fails.
pub async fn run(app: Arc<App>, listener: smol::net::TcpListener) -> std::io::Result<()> {
    loop {
        let (sock, _) = listener.accept().await?;
        let app = app.clone();
        smol::spawn(serve_conn(app, sock)).detach();
    }
}

/// Serves requests on one connection until it closes.
pub async fn serve_conn(app: Arc<App>, sock: TcpStream) {
    let _ = sock.set_nodelay(true);
    let mut reader =
        StreamReader::with_capacity(READ_CAPACITY, IdleIo::new(sock.clone(), app.idle))
            .with_limit(HEAD_LIMIT);
    let mut writer = StreamWriter::new(IdleIo::new(sock.clone(), app.idle));
    loop {
        let refusal = match read_head(&mut reader).await {
            Ok(head) => {
                let head_only = head.method == "HEAD";
                let wants_close = head.wants_close();
                let body_done = matches!(head.body(), Ok(Body::Empty));
                let mut ex = Exchange {
                    head,
                    reader: &mut reader,
                    writer: &mut writer,
                    body_done,
                    continued: false,
                };
                match route(&app, &mut ex).await {
                    Reply::Gone => return,
                    Reply::Send(mut resp) => {
                        resp.close |= wants_close || !ex.body_done;
                        if resp.send(&mut writer, head_only).await.is_err() {
                            return;
                        }
                        if !resp.close {
                            continue;
                        }
                        linger(&sock).await;
                        return;
                    }
                }
            }
            Err(HeadError::Closed) => return,
            Err(HeadError::TooLarge) => Response::text(431, "request head too large"),
            Err(HeadError::Bad(why)) => Response::text(400, why),
            // Silence between requests is a normal keep-alive end; a head
            // that stopped halfway is answered.
            Err(HeadError::Io(e)) if timed_out(&e) && !reader.buffer().is_empty() => {
                Response::text(408, "request head not completed in time")
            }
            Err(HeadError::Io(_)) => return,
        };
        let _ = refusal.close().send(&mut writer, false).await;
        linger(&sock).await;
        return;
    }
}

/// Closes our side, then reads and drops what the client still sends for
/// a moment: closing with unread bytes makes the kernel send a reset, which
/// can destroy the answer before the client reads it.
async fn linger(sock: &TcpStream) {
    let _ = sock.shutdown(Shutdown::Write);
    let mut sock = sock.clone();
    let drain = async {
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = futures_lite::AsyncReadExt::read(&mut sock, &mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    future::or(drain, async {
        smol::Timer::after(LINGER).await;
    })
    .await;
}

async fn route(app: &Arc<App>, ex: &mut Exchange<'_>) -> Reply {
    let path = ex.head.path.clone();
    let method = ex.head.method.clone();
    match (method.as_str(), path.as_str()) {
        ("GET" | "HEAD", "/") => Response::new(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(PAGE)
            .into(),
        ("GET" | "HEAD", "/tus.min.js") => Response::new(200)
            .header("Content-Type", "text/javascript; charset=utf-8")
            .header("Cache-Control", "max-age=3600")
            .body(TUS_JS)
            .into(),
        ("GET" | "HEAD", "/files") => list(app).await.into(),
        ("POST", "/files" | "/files/") => multipart::post(app, ex).await,
        ("PUT", p) if p.starts_with("/files/") => put(app, ex, &p["/files/".len()..]).await,
        (_, "/tus") => tus::handle(app, ex, "/").await,
        (_, p) if p.starts_with("/tus/") => tus::handle(app, ex, &p["/tus".len()..]).await,
        // `curl -T FILE http://HOST:PORT/` appends the file's name: `PUT /NAME`
        // stores it as `PUT /files/NAME` would.
        ("PUT", p) if p.len() > 1 && !p[1..].contains('/') => put(app, ex, &p[1..]).await,
        ("OPTIONS", _) => preflight(Response::new(204)).into(),
        (_, "/" | "/tus.min.js") => not_allowed("GET, HEAD"),
        (_, "/files") => not_allowed("GET, HEAD, POST"),
        (_, p) if p.starts_with("/files/") => not_allowed("PUT"),
        _ => Response::text(404, "not found").into(),
    }
}

fn not_allowed(allow: &str) -> Reply {
    Response::text(405, "method not allowed")
        .header("Allow", allow)
        .into()
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
         Tus-Resumable, Upload-Metadata, Upload-Defer-Length, Upload-Concat, Upload-Checksum",
    )
    .header("Access-Control-Max-Age", "86400")
}

/// GET /files: name, size and SHA-256 of every stored file (from the
/// sidecars written at store time, never rehashed here).
async fn list(app: &Arc<App>) -> Response {
    let app = app.clone();
    match smol::unblock(move || app.store.list()).await {
        Ok(entries) => Response::json(
            200,
            &serde_json::Value::Array(entries.iter().map(|e| e.to_json()).collect()),
        )
        .header("Cache-Control", "no-store"),
        Err(e) => Response::text(500, &format!("cannot list files: {e}")),
    }
}

/// The name in a URL path: percent-decoded, then checked.
pub fn name_from_path(raw: &str) -> Result<String, Response> {
    let name = http::percent_decode(raw)
        .ok_or_else(|| Response::text(400, "bad percent-encoding in the file name"))?;
    check_name(&name).map_err(|why| Response::text(400, why))?;
    Ok(name)
}

/// A temp file removed when dropped, unless it was published (then the
/// removal finds nothing). Also covers a handler dropped mid-way.
pub struct TempFile(pub PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
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

/// PUT /files/NAME: the body (Content-Length or chunked) to DIR/NAME.
async fn put(app: &Arc<App>, ex: &mut Exchange<'_>, raw_name: &str) -> Reply {
    let name = match name_from_path(raw_name) {
        Ok(n) => n,
        Err(r) => return r.into(),
    };
    let body = match ex.head.body() {
        Ok(b) => b,
        Err(why) => return Response::text(400, why).into(),
    };
    // Every refusal comes before the body is read (and before 100
    // Continue), so a refused client need not send it.
    if let Body::Length(n) = body {
        if n > app.max_size {
            return Response::text(
                413,
                &format!(
                    "body of {n} bytes is over the limit of {} bytes",
                    app.max_size
                ),
            )
            .into();
        }
    }
    if app.store.exists(&name) {
        return Response::text(409, &format!("{name} exists")).into();
    }
    let temp = TempFile(app.store.temp_path());
    let mut file = match DiskFile::create(&temp.0, app.max_size, app.progress.clone()) {
        Ok(f) => f,
        Err(e) => return disk_error(e.kind()).into(),
    };
    if ex.proceed().await.is_err() {
        return Reply::Gone;
    }
    let size = match receive_body(ex, body, &mut file).await {
        Ok(n) => n,
        Err(Some(r)) => return r.into(),
        Err(None) => return Reply::Gone,
    };
    if let Err(e) = file.sync().await {
        return disk_error(e.kind()).into();
    }
    let sha256 = hex(&std::mem::take(&mut file.hasher).finalize());
    drop(file);
    match publish(app, &temp, &name, &sha256, size).await {
        Ok(()) => Response::json(
            201,
            &serde_json::json!({ "name": name, "size": size, "sha256": sha256 }),
        )
        .header("Location", format!("/files/{raw_name}"))
        .into(),
        Err(r) => r.into(),
    }
}

/// Publishes a finished temp file as DIR/NAME (on a blocking thread).
pub async fn publish(
    app: &Arc<App>,
    temp: &TempFile,
    name: &str,
    sha256: &str,
    size: u64,
) -> Result<(), Response> {
    let (app, src, name2, sha) = (
        app.clone(),
        temp.0.clone(),
        name.to_string(),
        sha256.to_string(),
    );
    match smol::unblock(move || app.store.publish(&src, &name2, &sha, size)).await {
        Ok(()) => Ok(()),
        Err(PublishError::Exists) => Err(Response::text(409, &format!("{name} exists"))),
        Err(PublishError::Io(e)) => Err(disk_error(e.kind())),
    }
}
