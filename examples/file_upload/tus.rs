//! tus 1.0 resumable uploads under /tus/: core (OPTIONS, HEAD, PATCH) and
//! the creation (with creation-defer-length), termination, checksum and
//! expiration extensions.
//!
//! An upload's bytes live in DIR/.upload/tus/ID and its state (length,
//! file name, metadata) in ID.info, both on disk, so an upload survives a
//! server restart. The offset is the data file's length, nothing else: a
//! PATCH appends what arrives and syncs it, even when the client is cut off,
//! so HEAD reports exactly the bytes that arrived and there is no second
//! counter to disagree with the file. A chunk with `Upload-Checksum` is
//! all or nothing instead (cut back if it fails or is cut off), as the
//! checksum extension asks.
//!
//! As tusd does, a finished upload stays answerable: its file is published
//! under its name, and its state (marked completed) answers HEAD with the
//! final offset until it is terminated (DELETE, which leaves the published
//! file alone) or expires. One PATCH at a time per upload: a second one
//! while the first is being received gets 423 at once, one that comes after
//! it with the old offset gets 409; bytes never interleave. An upload
//! expires `--tus-expiry` after its last PATCH (or its completion):
//! `Upload-Expires` says when, and a sweep removes it then.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::exchange::{
    disk_error, preflight, publish, receive_body, too_large, App, Exchange, Reply,
};
use crate::http::{Body, Response};
use crate::storage::{
    check_name, hash_file, hex, DiskFile, LiveHash, TempFile, TusInfo, UploadSlot,
};

const VERSION: &str = "1.0.0";
const EXTENSIONS: &str = "creation,creation-defer-length,termination,checksum,expiration";

fn data_path(app: &App, id: &str) -> PathBuf {
    app.store.tus.join(id)
}

fn info_path(app: &App, id: &str) -> PathBuf {
    app.store.tus.join(format!("{id}.info"))
}

/// Every tus answer carries the protocol version.
fn tus(r: Response) -> Response {
    r.header("Tus-Resumable", VERSION)
}

fn no_such_upload() -> Response {
    Response::text(404, "no such upload")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// When the upload expires: `--tus-expiry` after its last PATCH (the data
/// file's modification time; creation counts as one) or its completion.
fn expires_at(app: &App, id: &str, info: &TusInfo) -> Option<SystemTime> {
    let since = match info.completed {
        Some(secs) => UNIX_EPOCH + Duration::from_secs(secs),
        None => std::fs::metadata(data_path(app, id))
            .ok()?
            .modified()
            .ok()?,
    };
    since.checked_add(app.tus_expiry)
}

/// `Upload-Expires: Sun, 06 Nov 1994 08:49:37 GMT` (an IMF-fixdate).
fn http_date(t: SystemTime) -> Option<String> {
    let d = parse_net::HttpDate::from_system_time(t).ok()?;
    String::from_utf8(d.format().to_vec()).ok()
}

fn with_expiry(r: Response, when: Option<SystemTime>) -> Response {
    match when.and_then(http_date) {
        Some(date) => r.header("Upload-Expires", date),
        None => r,
    }
}

/// The upload's state, or `None` if there is none or it has expired (then
/// it is removed). Call with the upload's lock held.
fn current(app: &App, id: &str) -> Option<TusInfo> {
    let info = app.store.tus_info(id)?;
    if expires_at(app, id, &info).is_some_and(|t| t <= SystemTime::now()) {
        remove(app, id);
        return None;
    }
    Some(info)
}

pub async fn handle(app: &Arc<App>, ex: &mut Exchange<'_>, rest: &str) -> Reply {
    let method = ex.head.method.clone();
    if method == "OPTIONS" {
        return preflight(tus(Response::new(204)))
            .header("Tus-Version", VERSION)
            .header("Tus-Extension", EXTENSIONS)
            .header("Tus-Max-Size", app.max_size.to_string())
            .header("Tus-Checksum-Algorithm", "sha1,sha256")
            .into();
    }
    if ex.head.header("tus-resumable") != Some(VERSION) {
        return tus(Response::text(412, "Tus-Resumable: 1.0.0 required"))
            .header("Tus-Version", VERSION)
            .into();
    }
    let reply = match rest {
        "/" => match method.as_str() {
            "POST" => create(app, ex).await,
            _ => Response::text(405, "method not allowed")
                .header("Allow", "POST, OPTIONS")
                .into(),
        },
        id => {
            let id = &id[1..];
            if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                return tus(no_such_upload()).into();
            }
            match method.as_str() {
                "HEAD" => head(app, id).await.into(),
                "PATCH" => patch(app, ex, id).await,
                "DELETE" => delete(app, id).await.into(),
                _ => Response::text(405, "method not allowed")
                    .header("Allow", "HEAD, PATCH, DELETE, OPTIONS")
                    .into(),
            }
        }
    };
    match reply {
        Reply::Send(r) => tus(r).into(),
        Reply::Gone => Reply::Gone,
    }
}

/// POST /tus/: Upload-Length and Upload-Metadata (with `filename`).
async fn create(app: &Arc<App>, ex: &mut Exchange<'_>) -> Reply {
    if !matches!(ex.head.body(), Ok(Body::Empty)) {
        return Response::text(
            400,
            "creation-with-upload is not supported: send the data with PATCH",
        )
        .into();
    }
    let length = match (
        ex.head.header("upload-length"),
        ex.head.header("upload-defer-length"),
    ) {
        (Some(len), None) => match parse_u64(len) {
            Some(n) => Some(n),
            None => return Response::text(400, "bad Upload-Length").into(),
        },
        (None, Some("1")) => None,
        (None, Some(_)) => return Response::text(400, "Upload-Defer-Length must be 1").into(),
        (Some(_), Some(_)) => {
            return Response::text(400, "Upload-Length and Upload-Defer-Length: choose one").into()
        }
        (None, None) => {
            return Response::text(400, "Upload-Length (or Upload-Defer-Length: 1) required").into()
        }
    };
    if let Some(n) = length.filter(|&n| n > app.max_size) {
        return too_large("upload", n, app.max_size).into();
    }
    let metadata = ex.head.header("upload-metadata").unwrap_or("").to_string();
    let name = match metadata_value(&metadata, "filename") {
        Ok(Some(n)) => n,
        Ok(None) => return Response::text(400, "Upload-Metadata needs a filename").into(),
        Err(why) => return Response::text(400, why).into(),
    };
    if let Err(why) = check_name(&name) {
        return Response::text(400, why).into();
    }
    if app.store.exists(&name) {
        return Response::text(409, &format!("{name} exists")).into();
    }
    let Some(id) = new_id() else {
        return Response::text(500, "no random source for an upload id").into();
    };
    let info = TusInfo {
        length,
        name: name.clone(),
        metadata,
        completed: None,
    };
    // Data file first, state last: an info file always has its data file
    // (until completion), and start-up removes a data file whose info never
    // made it.
    let (app2, id2, data) = (app.clone(), id.clone(), data_path(app, &id));
    let created = smol::unblock(move || -> std::io::Result<()> {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&data)?
            .sync_all()?;
        app2.store.write_tus_info(&id2, &info)
    })
    .await;
    if let Err(e) = created {
        remove(app, &id);
        return disk_error(e.kind()).into();
    }
    let slot = app.tus.slot(&id);
    let mut live = slot.live.lock().await;
    let mut expires = None;
    if length == Some(0) {
        // Nothing to send: the upload is complete at once.
        if let Err(r) = finish(app, &id, &name, 0, &mut live).await {
            return r.into();
        }
    } else if let Some(info) = app.store.tus_info(&id) {
        expires = expires_at(app, &id, &info);
    }
    let location = match ex.head.header("host") {
        Some(host) if !host.is_empty() => format!("http://{host}/tus/{id}"),
        _ => format!("/tus/{id}"),
    };
    with_expiry(
        Response::new(201)
            .header("Location", location)
            .header("Upload-Offset", "0"),
        expires,
    )
    .into()
}

/// HEAD /tus/ID: the offset (the data file's length, or the length once
/// complete) and the length.
async fn head(app: &Arc<App>, id: &str) -> Response {
    let slot = app.tus.slot(id);
    let _live = slot.live.lock().await;
    let Some(info) = current(app, id) else {
        app.tus.forget(id);
        return no_such_upload();
    };
    let offset = match (info.completed, info.length) {
        (Some(_), Some(length)) => length,
        _ => match std::fs::metadata(data_path(app, id)) {
            Ok(m) => m.len(),
            Err(_) => return no_such_upload(),
        },
    };
    let expires = expires_at(app, id, &info);
    let mut r = Response::new(200)
        .header("Upload-Offset", offset.to_string())
        .header("Cache-Control", "no-store");
    r = match info.length {
        Some(length) => r.header("Upload-Length", length.to_string()),
        None => r.header("Upload-Defer-Length", "1"),
    };
    if !info.metadata.is_empty() {
        r = r.header("Upload-Metadata", info.metadata);
    }
    with_expiry(r, expires).header("Content-Length", "0")
}

/// Marks an upload's PATCH in progress; cleared when dropped.
struct Busy(Arc<UploadSlot>);

impl Busy {
    fn claim(slot: &Arc<UploadSlot>) -> Option<Busy> {
        (!slot.busy.swap(true, Ordering::AcqRel)).then(|| Busy(slot.clone()))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.store(false, Ordering::Release);
    }
}

/// PATCH /tus/ID: appends the body at Upload-Offset.
async fn patch(app: &Arc<App>, ex: &mut Exchange<'_>, id: &str) -> Reply {
    if ex.head.header("content-type") != Some("application/offset+octet-stream") {
        return Response::text(415, "Content-Type must be application/offset+octet-stream").into();
    }
    let Some(offset) = ex.head.header("upload-offset").and_then(parse_u64) else {
        return Response::text(400, "Upload-Offset required").into();
    };
    let body = match ex.head.body() {
        Ok(b) => b,
        Err(why) => return Response::text(400, why).into(),
    };
    let checksum = match ex.head.header("upload-checksum").map(parse_checksum) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(why)) => return Response::text(400, why).into(),
    };
    let slot = app.tus.slot(id);
    // A PATCH already being received for this upload: refused at once, so
    // the two can never interleave (tus-js-client retries a 423).
    let Some(_busy) = Busy::claim(&slot) else {
        return Response::text(423, "another PATCH to this upload is in progress").into();
    };
    let mut live = slot.live.lock().await;
    let Some(mut info) = current(app, id) else {
        app.tus.forget(id);
        return no_such_upload().into();
    };
    if let (Some(_), Some(length)) = (info.completed, info.length) {
        // Finished: only a PATCH at its end with nothing in it is fine.
        return if offset != length {
            Response::text(409, "offset mismatch: the upload is complete")
                .header("Upload-Offset", length.to_string())
                .into()
        } else if body != Body::Empty {
            Response::text(413, "the upload is complete: no room left").into()
        } else {
            Response::new(204)
                .header("Upload-Offset", length.to_string())
                .into()
        };
    }
    let data = data_path(app, id);
    let current = match std::fs::metadata(&data) {
        Ok(m) => m.len(),
        Err(_) => return no_such_upload().into(),
    };
    if offset != current {
        return Response::text(409, &format!("offset mismatch: the upload is at {current}"))
            .header("Upload-Offset", current.to_string())
            .into();
    }
    // A deferred length is set by the first PATCH that carries it, once.
    if let Some(v) = ex.head.header("upload-length") {
        let Some(n) = parse_u64(v) else {
            return Response::text(400, "bad Upload-Length").into();
        };
        match info.length {
            Some(length) if length != n => {
                return Response::text(400, "Upload-Length cannot change once set").into()
            }
            Some(_) => {}
            None if n > app.max_size => return too_large("upload", n, app.max_size).into(),
            None if n < current => {
                return Response::text(400, "Upload-Length below the bytes already received")
                    .header("Upload-Offset", current.to_string())
                    .into()
            }
            None => {
                info.length = Some(n);
                let (app2, id2, info2) = (app.clone(), id.to_string(), info.clone());
                if let Err(e) = smol::unblock(move || app2.store.write_tus_info(&id2, &info2)).await
                {
                    return disk_error(e.kind()).into();
                }
            }
        }
    }
    // Until the length is known, the room is what --max-size leaves.
    let room = info.length.unwrap_or(app.max_size).saturating_sub(current);
    if let Body::Length(n) = body {
        if n > room {
            return Response::text(
                413,
                &format!("{n} bytes would pass the upload's length ({room} left)"),
            )
            .into();
        }
    }
    let hashed = live.hash.take().filter(|(_, at)| *at == current);
    let in_order = hashed.is_some();
    let hasher = hashed.map(|(h, _)| h).unwrap_or_default();
    let mut file = match DiskFile::append(&data, hasher, room) {
        Ok(f) => f,
        Err(e) => return disk_error(e.kind()).into(),
    };
    if ex.proceed().await.is_err() {
        return Reply::Gone;
    }
    let received = receive_body(ex, body, &mut file).await;
    // Whatever happened, what was accepted goes to disk now; the file's
    // length is the offset the next HEAD reports.
    let synced = file.sync().await;
    let mut keep = synced.is_ok() && file.failure.is_none();
    if keep && received.is_ok() {
        if let Some((algo, want)) = &checksum {
            let (data, from, len) = (data.clone(), current, file.written);
            let algo = *algo;
            let got = smol::unblock(move || chunk_digest(&data, from, len, algo)).await;
            if got.as_ref().ok() != Some(want) {
                let _ = file.truncate(current).await;
                return Response::text(460, "checksum mismatch")
                    .header("Upload-Offset", current.to_string())
                    .into();
            }
        }
    }
    if received.is_err() && checksum.is_some() {
        // A checksummed chunk that did not fully arrive cannot be verified.
        keep = false;
    }
    if !keep {
        let _ = file.truncate(current).await;
        return match received {
            Err(None) => Reply::Gone,
            Err(Some(r)) => r.header("Upload-Offset", current.to_string()).into(),
            Ok(_) => {
                disk_error(synced.err().map_or(std::io::ErrorKind::Other, |e| e.kind())).into()
            }
        };
    }
    let new_offset = current + file.written;
    if in_order || current == 0 {
        live.hash = Some((std::mem::take(&mut file.hasher), new_offset));
    }
    drop(file);
    match received {
        Err(None) => return Reply::Gone,
        Err(Some(r)) => return r.header("Upload-Offset", new_offset.to_string()).into(),
        Ok(_) => {}
    }
    let r = Response::new(204).header("Upload-Offset", new_offset.to_string());
    if let Some(length) = info.length.filter(|&l| l == new_offset) {
        return match finish(app, id, &info.name, length, &mut live).await {
            Ok(sha) => r.header("Upload-Sha256", sha).into(),
            Err(resp) => resp.into(),
        };
    }
    with_expiry(r, expires_at(app, id, &info)).into()
}

/// The upload is complete: publish it under its file name (never replacing
/// a file) and mark its state completed, so HEAD goes on answering.
async fn finish(
    app: &Arc<App>,
    id: &str,
    name: &str,
    length: u64,
    live: &mut LiveHash,
) -> Result<String, Response> {
    let data = data_path(app, id);
    let sha = match live.hash.take() {
        Some((h, at)) if at == length => hex(&h.finalize()),
        _ => {
            let d = data.clone();
            match smol::unblock(move || hash_file(&d)).await {
                Ok((sha, _)) => sha,
                Err(e) => return Err(disk_error(e.kind())),
            }
        }
    };
    if let Err(r) = publish(app, &data, name, &sha, length).await {
        // Not published: this upload is over (a 409 cannot be fixed by
        // sending it again).
        remove(app, id);
        return Err(r);
    }
    let Some(mut info) = app.store.tus_info(id) else {
        return Err(no_such_upload());
    };
    info.completed = Some(unix_now());
    let (app2, id2) = (app.clone(), id.to_string());
    if let Err(e) = smol::unblock(move || app2.store.write_tus_info(&id2, &info)).await {
        // The file is stored; only HEAD after completion is lost.
        remove(app, id);
        eprintln!("tus {id}: completed, but its state could not be kept: {e}");
    }
    Ok(sha)
}

/// DELETE /tus/ID (termination). A completed upload's record goes; its
/// published file stays (it is a stored file like any other).
async fn delete(app: &Arc<App>, id: &str) -> Response {
    let slot = app.tus.slot(id);
    let _live = slot.live.lock().await;
    if current(app, id).is_none() {
        app.tus.forget(id);
        return no_such_upload();
    }
    remove(app, id);
    Response::new(204)
}

fn remove(app: &App, id: &str) {
    // Info first: without it the upload no longer exists, whatever is left.
    let _ = std::fs::remove_file(info_path(app, id));
    drop(TempFile(data_path(app, id)));
    app.tus.forget(id);
}

/// Removes expired uploads, every quarter of the expiry age (at least every
/// minute, at most 20 times a second). Runs for the server's life.
pub async fn expire_loop(app: Arc<App>) {
    let every = (app.tus_expiry / 4).clamp(Duration::from_millis(50), Duration::from_secs(60));
    loop {
        smol::Timer::after(every).await;
        let app2 = app.clone();
        let ids: Vec<String> = smol::unblock(move || {
            std::fs::read_dir(&app2.store.tus)
                .map(|rd| {
                    rd.filter_map(|e| {
                        let name = e.ok()?.file_name().into_string().ok()?;
                        name.strip_suffix(".info").map(str::to_string)
                    })
                    .collect()
                })
                .unwrap_or_default()
        })
        .await;
        for id in ids {
            let slot = app.tus.slot(&id);
            if slot.busy.load(Ordering::Acquire) {
                continue;
            }
            // Never waits: an upload in use is looked at next time.
            if let Some(_live) = slot.live.try_lock() {
                let _ = current(&app, &id);
            };
        }
    }
}

fn parse_u64(s: &str) -> Option<u64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// A random upload id (32 hex digits) from the OS (getrandom).
fn new_id() -> Option<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).ok()?;
    Some(hex(&b))
}

/// `key base64,key2 base64,flag` -> the decoded value of `key`. Values are
/// standard base64 with padding, checked strictly (a `=` inside, or bits
/// left over, is refused).
fn metadata_value(header: &str, key: &str) -> Result<Option<String>, &'static str> {
    for pair in header.split(',') {
        let mut it = pair.trim().splitn(2, ' ');
        if it.next() == Some(key) {
            let raw = BASE64
                .decode(it.next().unwrap_or("").trim())
                .map_err(|_| "bad base64 in Upload-Metadata")?;
            return String::from_utf8(raw)
                .map(Some)
                .map_err(|_| "file name is not UTF-8");
        }
    }
    Ok(None)
}

#[derive(Clone, Copy)]
enum Algo {
    Sha1,
    Sha256,
}

/// `Upload-Checksum: sha1 BASE64`.
fn parse_checksum(v: &str) -> Result<(Algo, Vec<u8>), &'static str> {
    let (algo, sum) = v.split_once(' ').ok_or("bad Upload-Checksum")?;
    let algo = match algo {
        "sha1" => Algo::Sha1,
        "sha256" => Algo::Sha256,
        _ => return Err("unsupported checksum algorithm (sha1, sha256)"),
    };
    Ok((
        algo,
        BASE64
            .decode(sum.trim())
            .map_err(|_| "bad base64 in Upload-Checksum")?,
    ))
}

/// The digest of `len` bytes of `path` from `from`, read back from disk
/// (bounded memory; usually from the page cache, just written).
fn chunk_digest(
    path: &std::path::Path,
    from: u64,
    len: u64,
    algo: Algo,
) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    f.seek(SeekFrom::Start(from))?;
    let mut f = f.take(len);
    let mut buf = vec![0u8; 64 * 1024];
    let (mut s1, mut s256) = (Sha1::new(), Sha256::new());
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        match algo {
            Algo::Sha1 => s1.update(&buf[..n]),
            Algo::Sha256 => s256.update(&buf[..n]),
        }
    }
    Ok(match algo {
        Algo::Sha1 => s1.finalize().to_vec(),
        Algo::Sha256 => s256.finalize().to_vec(),
    })
}
