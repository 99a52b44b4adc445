//! Where uploads live on disk, and the rules that keep them safe:
//!
//! ```text
//! DIR/NAME                   stored files (never overwritten)
//! DIR/.upload/tmp/           bodies being received (removed at start-up)
//! DIR/.upload/sha256/NAME    "HEX SIZE": the SHA-256 of DIR/NAME, computed
//!                            while it arrived, so GET /files never rehashes
//! DIR/.upload/tus/ID         a tus upload's bytes so far (its length is the
//!                            offset HEAD reports)
//! DIR/.upload/tus/ID.info    its state: length, file name, metadata, and
//!                            once complete, when (kept until terminated
//!                            or expired, so HEAD still answers)
//! ```
//!
//! Names starting with '.' are refused, so no upload can reach the server's
//! own files. A finished body is published with `hard_link`, which fails if
//! the name exists: two uploads racing for one name cannot both win, and the
//! loser never replaces the winner's file.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_io::AsyncWrite;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Longest file name accepted (the usual file system limit).
const MAX_NAME: usize = 255;

/// Pipe between the async side and the blocking thread that writes a file.
/// `blocking`'s default is 8 MiB per file, which a hundred concurrent
/// uploads would multiply; 256 KiB keeps the thread busy just as well.
const FILE_PIPE: usize = 256 * 1024;

/// Why a name from a request is refused (the text goes into the 400 body).
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("empty file name");
    }
    if name.len() > MAX_NAME {
        return Err("file name longer than 255 bytes");
    }
    if name.contains(['/', '\\']) {
        return Err("file name contains a path separator");
    }
    if name.chars().any(char::is_control) {
        return Err("file name contains a control character");
    }
    // Covers "." and ".." and every internal name (".upload", temp files).
    // "my..notes.txt" is fine: ".." only matters as a whole path component.
    if name.starts_with('.') {
        return Err("file name starts with '.' (hidden and server names are reserved)");
    }
    Ok(())
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One stored file, as GET /files lists it and as the 201 of an upload
/// describes it: `{"name", "size", "sha256"}`.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub name: String,
    pub size: u64,
    /// `None` (null) for a file put into DIR by hand (no sidecar).
    pub sha256: Option<String>,
}

impl Entry {
    pub fn new(name: &str, size: u64, sha256: &str) -> Entry {
        Entry {
            name: name.to_string(),
            size,
            sha256: Some(sha256.to_string()),
        }
    }
}

/// A tus upload's persistent state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TusInfo {
    /// `None` until a PATCH sets it (created with `Upload-Defer-Length`).
    pub length: Option<u64>,
    pub name: String,
    /// The Upload-Metadata header as sent, returned by HEAD.
    #[serde(default)]
    pub metadata: String,
    /// When the upload completed (Unix seconds): its data file is then
    /// published and gone, and HEAD answers from this state alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<u64>,
}

/// A temp file removed when dropped, unless it was published (then the
/// removal finds nothing). Also covers a handler dropped mid-way.
pub struct TempFile(pub PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// One tus upload's in-memory part: the SHA-256 of its first `.1` bytes,
/// kept while PATCHes arrive in order, so finishing needs no rehash. After
/// a restart it is gone and the finished file is hashed once from disk.
#[derive(Default)]
pub struct LiveHash {
    pub hash: Option<(Sha256, u64)>,
}

/// One tus upload's lock: `busy` while a PATCH is being received (a second
/// PATCH is refused at once with 423, never queued behind it), and an async
/// lock that HEAD and DELETE wait for, so HEAD right after a cut-off PATCH
/// reports what that PATCH stored, not a moment before.
#[derive(Default)]
pub struct UploadSlot {
    pub busy: AtomicBool,
    pub live: smol::lock::Mutex<LiveHash>,
}

/// The tus uploads being worked on, by id.
#[derive(Default)]
pub struct UploadLocks {
    slots: Mutex<HashMap<String, Arc<UploadSlot>>>,
}

impl UploadLocks {
    pub fn slot(&self, id: &str) -> Arc<UploadSlot> {
        let mut map = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(id.to_string()).or_default().clone()
    }

    pub fn forget(&self, id: &str) {
        let mut map = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(id);
    }
}

/// How publishing a finished body can fail.
#[derive(Debug)]
pub enum PublishError {
    /// The name is taken (409).
    Exists,
    /// The disk failed (507 if full, 500 otherwise).
    Io(io::Error),
}

/// The upload directory.
#[derive(Debug)]
pub struct Store {
    pub dir: PathBuf,
    tmp: PathBuf,
    sums: PathBuf,
    pub tus: PathBuf,
    next: AtomicU64,
}

impl Store {
    /// Creates the folders and removes what a previous run left half done:
    /// every temp body, and tus files without their other half. Complete tus
    /// uploads in progress (data and info) are kept, to be resumed.
    pub fn open(dir: &Path) -> io::Result<Store> {
        let work = dir.join(".upload");
        let store = Store {
            dir: dir.to_path_buf(),
            tmp: work.join("tmp"),
            sums: work.join("sha256"),
            tus: work.join("tus"),
            next: AtomicU64::new(0),
        };
        for d in [&store.tmp, &store.sums, &store.tus] {
            std::fs::create_dir_all(d)?;
        }
        for e in std::fs::read_dir(&store.tmp)? {
            let _ = std::fs::remove_file(e?.path());
        }
        for e in std::fs::read_dir(&store.tus)? {
            let path = e?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let keep = match name.strip_suffix(".info") {
                // A finished upload has no data file (it was published)
                // and is kept, to answer HEAD until it expires.
                Some(id) => {
                    store.tus.join(id).exists()
                        || store.tus_info(id).is_some_and(|i| i.completed.is_some())
                }
                None if name.contains('.') => false, // a state file being written
                None => store.tus.join(format!("{name}.info")).exists(),
            };
            if !keep {
                let _ = std::fs::remove_file(&path);
            }
        }
        Ok(store)
    }

    /// A tus upload's state, DIR/.upload/tus/ID.info (`None` if there is
    /// no such upload). Blocking.
    pub fn tus_info(&self, id: &str) -> Option<TusInfo> {
        serde_json::from_slice(&std::fs::read(self.tus.join(format!("{id}.info"))).ok()?).ok()
    }

    /// Writes a tus upload's state through a temp name and a rename, synced:
    /// a reader sees the old state or the new, never half of one. Blocking.
    pub fn write_tus_info(&self, id: &str, info: &TusInfo) -> io::Result<()> {
        let path = self.tus.join(format!("{id}.info"));
        let tmp = path.with_extension("info.tmp");
        std::fs::write(&tmp, serde_json::to_vec(info).map_err(io::Error::other)?)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(&self.tus)?.sync_all()
    }

    /// A fresh temp path (unique in this process; the folder is emptied at
    /// start-up, so earlier processes' names cannot collide).
    pub fn temp_path(&self) -> PathBuf {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.tmp.join(format!("{}-{n}", std::process::id()))
    }

    /// Whether `name` is taken (an early 409; the publish step decides).
    pub fn exists(&self, name: &str) -> bool {
        self.dir.join(name).symlink_metadata().is_ok()
    }

    /// Publishes the finished file `src` as DIR/`name` without ever replacing
    /// an existing file, records its SHA-256 sidecar, and removes `src`.
    /// Blocking: call it through `smol::unblock`.
    pub fn publish(
        &self,
        src: &Path,
        name: &str,
        sha256: &str,
        size: u64,
    ) -> Result<(), PublishError> {
        // The sidecar is written first (to a temp) so that a full disk fails
        // before the name is taken; it is moved into place only once the
        // file is ours, so a loser of a race never touches the winner's.
        let side_tmp = self.temp_path();
        let written = (|| {
            let mut f = std::fs::File::create(&side_tmp)?;
            writeln!(f, "{sha256} {size}")?;
            f.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&side_tmp);
            return Err(PublishError::Io(e));
        }
        let target = self.dir.join(name);
        if let Err(e) = std::fs::hard_link(src, &target) {
            let _ = std::fs::remove_file(&side_tmp);
            return Err(if e.kind() == io::ErrorKind::AlreadyExists {
                PublishError::Exists
            } else {
                PublishError::Io(e)
            });
        }
        let _ = std::fs::remove_file(src);
        if let Err(e) = std::fs::rename(&side_tmp, self.sums.join(name)) {
            // Without its sidecar the file would be listed with no checksum.
            let _ = std::fs::remove_file(&target);
            let _ = std::fs::remove_file(&side_tmp);
            return Err(PublishError::Io(e));
        }
        // The new directory entries survive a crash once the folders are
        // synced (the file's own data was synced before).
        for d in [&self.dir, &self.sums] {
            if let Ok(d) = std::fs::File::open(d) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }

    /// Undoes a publish (a later part of the same multipart form failed).
    pub fn unpublish(&self, name: &str) {
        let _ = std::fs::remove_file(self.dir.join(name));
        let _ = std::fs::remove_file(self.sums.join(name));
    }

    /// The stored files, sorted by name. Blocking.
    pub fn list(&self) -> io::Result<Vec<Entry>> {
        let mut out = BTreeMap::new();
        for e in std::fs::read_dir(&self.dir)? {
            let e = e?;
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            let Ok(meta) = e.metadata() else { continue };
            if name.starts_with('.') || !meta.is_file() {
                continue;
            }
            let size = meta.len();
            // A sidecar counts only if it describes a file of this size.
            let sha256 = std::fs::read_to_string(self.sums.join(&name))
                .ok()
                .and_then(|s| {
                    let (sum, len) = s.trim().split_once(' ')?;
                    (len.parse() == Ok(size)).then(|| sum.to_string())
                });
            out.insert(name.clone(), Entry { name, size, sha256 });
        }
        Ok(out.into_values().collect())
    }
}

/// SHA-256 of a file on disk, in 64 KiB reads (bounded memory). Blocking.
pub fn hash_file(path: &Path) -> io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok((hex(&hasher.finalize()), total));
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
}

/// Why writing a body to disk stopped on the disk's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskFailure {
    /// More bytes than the limit (413).
    TooLarge,
    /// The file system said no; the kind tells a full disk (507) from the rest.
    Io(io::ErrorKind),
}

/// Progress callback (the demo's "received" bar).
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// An open file that hashes and counts what it is given, refuses to grow
/// past a limit, and remembers whether *it* failed, so the caller can tell
/// a disk error (answer 507/500) or an over-long body (413) from the
/// client going away (nobody to answer).
pub struct DiskFile {
    file: smol::Unblock<std::fs::File>,
    pub hasher: Sha256,
    pub written: u64,
    limit: u64,
    pub failure: Option<DiskFailure>,
    progress: Option<Progress>,
}

impl DiskFile {
    /// Creates a new file (it must not exist).
    pub fn create(path: &Path, limit: u64, progress: Option<Progress>) -> io::Result<DiskFile> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        Ok(DiskFile::wrap(f, Sha256::new(), limit, progress))
    }

    /// Appends to an existing file (a tus upload), hashing on from `hasher`.
    pub fn append(path: &Path, hasher: Sha256, limit: u64) -> io::Result<DiskFile> {
        let f = std::fs::OpenOptions::new().append(true).open(path)?;
        Ok(DiskFile::wrap(f, hasher, limit, None))
    }

    fn wrap(f: std::fs::File, hasher: Sha256, limit: u64, progress: Option<Progress>) -> DiskFile {
        DiskFile {
            file: smol::Unblock::with_capacity(FILE_PIPE, f),
            hasher,
            written: 0,
            limit,
            failure: None,
            progress,
        }
    }

    /// Flushes what is queued and syncs it to disk. After this the file
    /// holds exactly the bytes counted in `written`.
    pub async fn sync(&mut self) -> io::Result<()> {
        futures_lite::AsyncWriteExt::flush(self).await?;
        let r = self.file.with_mut(|f| f.sync_all()).await;
        if let Err(e) = &r {
            self.failure = Some(DiskFailure::Io(e.kind()));
        }
        r
    }

    /// Cuts the file back to `len` bytes (a refused tus chunk). Blocking
    /// work on the file's own thread.
    pub async fn truncate(&mut self, len: u64) -> io::Result<()> {
        let _ = futures_lite::AsyncWriteExt::flush(self).await;
        self.file
            .with_mut(move |f| {
                f.set_len(len)?;
                f.sync_all()
            })
            .await
    }

    fn fail(&mut self, e: io::Error) -> io::Error {
        self.failure.get_or_insert(DiskFailure::Io(e.kind()));
        e
    }
}

impl AsyncWrite for DiskFile {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let room = this.limit - this.written;
        if buf.len() as u64 > room {
            this.failure = Some(DiskFailure::TooLarge);
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "body over the size limit",
            )));
        }
        match Pin::new(&mut this.file).poll_write(cx, buf) {
            // The writing thread stopped (its error waits in the flush):
            // fetch the real error, e.g. a full disk.
            Poll::Ready(Ok(0)) if !buf.is_empty() => {
                match Pin::new(&mut this.file).poll_flush(cx) {
                    Poll::Ready(Err(e)) => Poll::Ready(Err(this.fail(e))),
                    Poll::Ready(Ok(())) => {
                        Poll::Ready(Err(this.fail(io::ErrorKind::WriteZero.into())))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
            Poll::Ready(Ok(n)) => {
                this.hasher.update(&buf[..n]);
                this.written += n as u64;
                if let Some(p) = &this.progress {
                    p(this.written);
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(this.fail(e))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.file).poll_flush(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.fail(e))),
            other => other,
        }
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.file).poll_close(cx)
    }
}

/// Whether a disk error means "no space" (507) rather than some other
/// failure (500).
pub fn is_full(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded | io::ErrorKind::FileTooLarge
    )
}
