//! Accepting connections (surviving descriptor exhaustion, at most
//! `--max-connections` at once), the connection loop (keep-alive, the head
//! deadline, refusals, lingering close), the routes, and the PUT and GET
//! handlers. Multipart and tus have modules of their own; what handlers
//! share is in `exchange`.

use std::io;
use std::net::Shutdown;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::{future, AsyncWriteExt};
use intake::{StreamReader, StreamWriter};
use sha2::Digest;
use smol::net::TcpStream;

use crate::exchange::{
    disk_error, name_from_path, preflight, publish, receive_body, temp_file, too_large, App,
    Exchange, Reply,
};
use crate::http::{read_head, Body, HeadError, Response, HEAD_LIMIT};
use crate::idle::IdleIo;
use crate::storage::{hex, Entry};
use crate::{multipart, tus};

/// Read buffer per connection: one socket read's worth; bodies stream
/// through it to disk, so it is also the body's whole footprint here.
const READ_CAPACITY: usize = 64 * 1024;
/// How long a refused client may go on sending before the socket closes.
const LINGER: Duration = Duration::from_secs(2);

static PAGE: &str = include_str!("page.html");
static TUS_JS: &[u8] = include_bytes!("assets/tus.min.js");

/// Descriptors kept for the process itself (the listener, the reactor,
/// stdio, files opened while publishing), out of RLIMIT_NOFILE.
const RESERVED_FDS: u64 = 32;

/// The default `--max-connections`: what the descriptor limit allows, two
/// descriptors per connection (its socket and the file its body goes to).
pub fn default_max_connections() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given, nothing else.
    let nofile = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        lim.rlim_cur
    } else {
        1024
    };
    // RLIM_INFINITY is u64::MAX: cap it.
    let nofile = nofile.min(1 << 20);
    (nofile.saturating_sub(RESERVED_FDS) / 2).max(1) as usize
}

/// Whether an accept error means the process or the system is out of
/// something (descriptors, buffers, memory): back off before trying again.
/// Anything else (a connection aborted before it was accepted, a signal) is
/// about one connection: go on at once.
fn out_of_resources(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// The answer to a connection past the limit, written without waiting.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n\
Retry-After: 1\r\nContent-Length: 34\r\nConnection: close\r\n\r\ntoo many connections, retry later\n";

/// Counts a connection being served; uncounted when dropped.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Accepts connections for as long as the process runs. An accept that
/// fails is logged (once a second at most) and retried, after a pause that
/// doubles up to a second while the error is a lack of resources: running
/// out of descriptors never ends the server. Past `max_connections`, a
/// connection gets a 503 written in one non-blocking attempt and is closed
/// at once: no task, no buffer.
pub async fn run(
    app: Arc<App>,
    listener: smol::net::TcpListener,
    max_connections: usize,
) -> io::Result<()> {
    let active = Arc::new(AtomicUsize::new(0));
    let mut pause = Duration::from_millis(5);
    let mut last_log: Option<Instant> = None;
    let mut unlogged = 0u64;
    loop {
        let sock = match listener.accept().await {
            Ok((sock, _)) => {
                pause = Duration::from_millis(5);
                sock
            }
            Err(e) => {
                if last_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                    let more = if unlogged > 0 {
                        format!(" ({unlogged} more since the last report)")
                    } else {
                        String::new()
                    };
                    eprintln!("accept failed: {e}{more}; retrying");
                    last_log = Some(Instant::now());
                    unlogged = 0;
                } else {
                    unlogged += 1;
                }
                if out_of_resources(&e) {
                    smol::Timer::after(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                continue;
            }
        };
        if active.fetch_add(1, Ordering::AcqRel) >= max_connections {
            active.fetch_sub(1, Ordering::AcqRel);
            turn_away(sock);
            continue;
        }
        let slot = Slot(active.clone());
        let app = app.clone();
        smol::spawn(async move {
            serve_conn(app, sock).await;
            drop(slot);
        })
        .detach();
    }
}

/// Past the limit: one non-blocking write of the 503, then close.
fn turn_away(mut sock: TcpStream) {
    let _ = future::block_on(future::poll_once(sock.write(BUSY)));
    let _ = sock.shutdown(Shutdown::Both);
}

/// Serves requests on one connection until it closes.
pub async fn serve_conn(app: Arc<App>, sock: TcpStream) {
    let _ = sock.set_nodelay(true);
    let mut reader =
        StreamReader::with_capacity(READ_CAPACITY, IdleIo::new(sock.clone(), app.idle))
            .with_limit(HEAD_LIMIT);
    let mut writer = StreamWriter::new(IdleIo::new(sock.clone(), app.idle));
    loop {
        // Between requests only the idle timeout applies; from a head's
        // first byte, the whole head must arrive within the head timeout
        // (a client sending one byte at a time resets the idle timer, not
        // this one).
        match reader.peek(1).await {
            Ok([]) | Err(_) => return,
            Ok(_) => {}
        }
        let deadline = async {
            smol::Timer::after(app.head_timeout).await;
            Err(HeadError::Deadline)
        };
        let refusal = match future::or(read_head(&mut reader), deadline).await {
            Ok(head) => {
                if let Err(why) = head.check() {
                    Response::text(400, why)
                } else {
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
            }
            Err(HeadError::Closed) => return,
            Err(HeadError::TooLarge) => Response::text(431, "request head too large"),
            Err(HeadError::Bad(why)) => Response::text(400, why),
            Err(HeadError::Stalled) => Response::text(408, "request head not completed in time"),
            Err(HeadError::Deadline) => Response::text(
                408,
                &format!(
                    "request head not completed within {} s",
                    app.head_timeout.as_secs_f64()
                ),
            ),
            Err(HeadError::Io) => return,
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
    // Every method that writes or deletes, on any route, needs the token
    // (when one is set).
    if matches!(method.as_str(), "PUT" | "POST" | "PATCH" | "DELETE") {
        if let Err(r) = app.authorize(&ex.head) {
            return r.into();
        }
    }
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

/// GET /files: name, size and SHA-256 of every stored file (from the
/// sidecars written at store time, never rehashed here).
async fn list(app: &Arc<App>) -> Response {
    let app = app.clone();
    match smol::unblock(move || app.store.list()).await {
        Ok(entries) => Response::json(200, &entries).header("Cache-Control", "no-store"),
        Err(e) => Response::text(500, &format!("cannot list files: {e}")),
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
            return too_large("body", n, app.max_size).into();
        }
    }
    if app.store.exists(&name) {
        return Response::text(409, &format!("{name} exists")).into();
    }
    let (temp, mut file) = match temp_file(app) {
        Ok(t) => t,
        Err(r) => return r.into(),
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
    match publish(app, &temp.0, &name, &sha256, size).await {
        Ok(()) => Response::json(201, &Entry::new(&name, size, &sha256))
            .header("Location", format!("/files/{raw_name}"))
            .into(),
        Err(r) => r.into(),
    }
}
