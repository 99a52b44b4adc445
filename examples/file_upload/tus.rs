//! tus 1.0 resumable uploads under /tus/: core (OPTIONS, HEAD, PATCH) and
//! the creation, termination and checksum extensions.
//!
//! An upload's bytes live in DIR/.upload/tus/ID and its state (length,
//! file name, metadata) in ID.info, both on disk, so an upload survives a
//! server restart. The offset is the data file's length, nothing else: a
//! PATCH appends what arrives and syncs it, even when the client is cut off,
//! so HEAD reports exactly the bytes that arrived and there is no second
//! counter to disagree with the file. A chunk with `Upload-Checksum` is
//! all or nothing instead (cut back if it fails or is cut off), as the
//! checksum extension asks.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::http::{Body, Response};
use crate::server::{disk_error, preflight, receive_body, App, Exchange, Reply, TempFile};
use crate::storage::{check_name, hash_file, hex, DiskFile, PublishError};

const VERSION: &str = "1.0.0";
const EXTENSIONS: &str = "creation,termination,checksum";

/// One upload's in-memory part: the SHA-256 of its first `.1` bytes, kept
/// while PATCHes arrive in order, so finishing needs no rehash. After a
/// restart it is gone and the finished file is hashed once from disk.
#[derive(Default)]
pub struct Live {
    hash: Option<(Sha256, u64)>,
}

/// The uploads being worked on. Each has an async lock: a PATCH, HEAD or
/// DELETE waits for the one before it, so HEAD right after a cut-off PATCH
/// reports what that PATCH stored, not a moment before.
#[derive(Default)]
pub struct Uploads {
    live: Mutex<HashMap<String, Arc<smol::lock::Mutex<Live>>>>,
}

impl Uploads {
    fn lock_for(&self, id: &str) -> Arc<smol::lock::Mutex<Live>> {
        let mut map = self.live.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(id.to_string()).or_default().clone()
    }

    fn forget(&self, id: &str) {
        let mut map = self.live.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(id);
    }
}

/// The persistent state, DIR/.upload/tus/ID.info.
struct Info {
    length: u64,
    name: String,
    /// The Upload-Metadata header as sent, returned by HEAD.
    metadata: String,
}

fn data_path(app: &App, id: &str) -> PathBuf {
    app.store.tus.join(id)
}

fn info_path(app: &App, id: &str) -> PathBuf {
    app.store.tus.join(format!("{id}.info"))
}

fn read_info(app: &App, id: &str) -> Option<Info> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(info_path(app, id)).ok()?).ok()?;
    Some(Info {
        length: v["length"].as_u64()?,
        name: v["name"].as_str()?.to_string(),
        metadata: v["metadata"].as_str().unwrap_or("").to_string(),
    })
}

/// Every tus answer carries the protocol version.
fn tus(r: Response) -> Response {
    r.header("Tus-Resumable", VERSION)
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
                return tus(Response::text(404, "no such upload")).into();
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
    if ex.head.header("upload-defer-length").is_some() {
        return Response::text(400, "Upload-Defer-Length is not supported").into();
    }
    let Some(length) = ex.head.header("upload-length").and_then(parse_u64) else {
        return Response::text(400, "Upload-Length required").into();
    };
    if length > app.max_size {
        return Response::text(
            413,
            &format!(
                "upload of {length} bytes is over the limit of {} bytes",
                app.max_size
            ),
        )
        .into();
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
    let id = new_id();
    let (data, info) = (data_path(app, &id), info_path(app, &id));
    let state =
        serde_json::json!({ "length": length, "name": name, "metadata": metadata }).to_string();
    // Data file first, state last (via a temp name and rename): an info
    // file always has its data file, and start-up removes a data file
    // whose info never made it.
    let created = smol::unblock(move || -> std::io::Result<()> {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&data)?
            .sync_all()?;
        let tmp = info.with_extension("info.tmp");
        std::fs::write(&tmp, state)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &info)?;
        if let Some(dir) = info.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })
    .await;
    if let Err(e) = created {
        remove(app, &id);
        return disk_error(e.kind()).into();
    }
    if length == 0 {
        // Nothing to send: the upload is complete at once.
        let lock = app.tus.lock_for(&id);
        let mut live = lock.lock().await;
        if let Err(r) = finish(app, &id, &name, length, &mut live).await {
            return r.into();
        }
    }
    let location = match ex.head.header("host") {
        Some(host) => format!("http://{host}/tus/{id}"),
        None => format!("/tus/{id}"),
    };
    Response::new(201)
        .header("Location", location)
        .header("Upload-Offset", "0")
        .into()
}

/// HEAD /tus/ID: the offset (the data file's length) and the length.
async fn head(app: &Arc<App>, id: &str) -> Response {
    let lock = app.tus.lock_for(id);
    let _live = lock.lock().await;
    let Some(info) = read_info(app, id) else {
        app.tus.forget(id);
        return Response::text(404, "no such upload");
    };
    let offset = match std::fs::metadata(data_path(app, id)) {
        Ok(m) => m.len(),
        Err(_) => return Response::text(404, "no such upload"),
    };
    let mut r = Response::new(200)
        .header("Upload-Offset", offset.to_string())
        .header("Upload-Length", info.length.to_string())
        .header("Cache-Control", "no-store");
    if !info.metadata.is_empty() {
        r = r.header("Upload-Metadata", info.metadata);
    }
    r.header("Content-Length", "0")
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
    let lock = app.tus.lock_for(id);
    let mut live = lock.lock().await;
    let Some(info) = read_info(app, id) else {
        app.tus.forget(id);
        return Response::text(404, "no such upload").into();
    };
    let data = data_path(app, id);
    let current = match std::fs::metadata(&data) {
        Ok(m) => m.len(),
        Err(_) => return Response::text(404, "no such upload").into(),
    };
    if offset != current {
        return Response::text(409, &format!("offset mismatch: the upload is at {current}"))
            .header("Upload-Offset", current.to_string())
            .into();
    }
    let room = info.length - current;
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
    let mut r = Response::new(204).header("Upload-Offset", new_offset.to_string());
    if new_offset == info.length {
        match finish(app, id, &info.name, info.length, &mut live).await {
            Ok(sha) => r = r.header("Upload-Sha256", sha),
            Err(resp) => return resp.into(),
        }
    }
    r.into()
}

/// The upload is complete: publish it under its file name (never replacing
/// a file) and drop its state.
async fn finish(
    app: &Arc<App>,
    id: &str,
    name: &str,
    length: u64,
    live: &mut Live,
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
    let (app2, d, n, s) = (app.clone(), data.clone(), name.to_string(), sha.clone());
    let published = smol::unblock(move || app2.store.publish(&d, &n, &s, length)).await;
    // Published or not, this upload is over (a 409 cannot be fixed by
    // sending it again).
    remove(app, id);
    match published {
        Ok(()) => Ok(sha),
        Err(PublishError::Exists) => Err(Response::text(409, &format!("{name} exists"))),
        Err(PublishError::Io(e)) => Err(disk_error(e.kind())),
    }
}

/// DELETE /tus/ID (termination).
async fn delete(app: &Arc<App>, id: &str) -> Response {
    let lock = app.tus.lock_for(id);
    let _live = lock.lock().await;
    if read_info(app, id).is_none() {
        app.tus.forget(id);
        return Response::text(404, "no such upload");
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

fn parse_u64(s: &str) -> Option<u64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// A random upload id (32 hex digits).
fn new_id() -> String {
    let mut b = [0u8; 16];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .is_err()
    {
        // No /dev/urandom: time and a counter, hashed. Unguessable enough
        // for a demo; ids only need to be unique.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seed = format!(
            "{:?}{}{}",
            std::time::SystemTime::now(),
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        b.copy_from_slice(&Sha256::digest(seed.as_bytes())[..16]);
    }
    hex(&b)
}

/// `key base64,key2 base64,flag` -> the decoded value of `key`.
fn metadata_value(header: &str, key: &str) -> Result<Option<String>, &'static str> {
    for pair in header.split(',') {
        let mut it = pair.trim().splitn(2, ' ');
        if it.next() == Some(key) {
            let raw = base64_decode(it.next().unwrap_or("").trim())
                .ok_or("bad base64 in Upload-Metadata")?;
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
        base64_decode(sum.trim()).ok_or("bad base64 in Upload-Checksum")?,
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

/// Standard base64 (padding optional).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
