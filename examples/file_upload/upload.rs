//! The file-upload protocol, server side and client side, generic over any
//! `AsyncRead + AsyncWrite` stream (kept apart from `main.rs` so that the
//! integration tests in `tests/file_upload.rs` drive the same code).
//!
//! ```text
//! client -> server  header frame: u16 BE length L, then L bytes:
//!                   [file size: u64 BE][file name: UTF-8, 1..=255 bytes]
//! server -> client  reply frame (u16 BE length + text): "READY" or "ERR <reason>"
//! client -> server  the file's bytes, then their SHA-256 (32 bytes)
//! server -> client  reply frame: "OK <sha256 hex>" or "ERR <reason>"
//! ```
//!
//! The server refuses a bad name (`..`, `/`, `\`, NUL, empty, too long) or a
//! size over its limit before it writes any byte. It writes to a temporary
//! name and renames on success, so an upload that dies midway leaves no
//! partial file behind; a full disk (or quota) is reported to the client.
#![allow(dead_code)]

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use intake::{Error, LengthPrefix, StreamReader, StreamWriter};
use sha2::{Digest, Sha256};

/// Header and reply frames: a u16 length, at most 8 + 255 bytes.
pub const FRAME: LengthPrefix = LengthPrefix::new(2).max_frame_len(8 + 255);
const MAX_NAME: usize = 255;

/// Where and how much the server stores.
#[derive(Clone, Debug)]
pub struct Storage {
    pub dir: PathBuf,
    /// Largest file accepted.
    pub max_size: u64,
    /// Bytes the server may still write in all; `None` for no quota. Past it,
    /// writes fail as a full disk does (`StorageFull`).
    pub quota: Option<Arc<AtomicU64>>,
}

/// What one connection's upload came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The file is stored under its name.
    Stored {
        name: String,
        size: u64,
        sha256: String,
    },
    /// Refused with a reason that was sent to the client.
    Refused(String),
    /// The client closed the connection before sending a header.
    Closed,
}

/// Validates a file name from the wire.
pub fn check_name(raw: &[u8]) -> Result<String, String> {
    let name = std::str::from_utf8(raw).map_err(|_| "file name is not UTF-8".to_string())?;
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(format!("file name must be 1 to {MAX_NAME} bytes"));
    }
    if name.contains("..") || name.contains(['/', '\\', '\0']) {
        return Err(format!(
            "file name {name:?} contains '..', '/', '\\' or NUL"
        ));
    }
    Ok(name.to_string())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn refuse<W: AsyncWrite + Unpin>(
    w: &mut StreamWriter<W>,
    why: String,
) -> Result<Outcome, Error> {
    reply(w, &format!("ERR {why}")).await?;
    Ok(Outcome::Refused(why))
}

async fn reply<W: AsyncWrite + Unpin>(w: &mut StreamWriter<W>, text: &str) -> Result<(), Error> {
    w.send_frame(&FRAME, Bytes::copy_from_slice(text.as_bytes()))
        .await?;
    w.flush().await
}

/// A file writer that hashes what it writes, reports progress and enforces
/// the quota. It remembers whether it failed, to tell storage errors from
/// network errors.
struct HashingFile<'a, F> {
    file: F,
    hasher: Sha256,
    written: u64,
    failed: Option<io::ErrorKind>,
    quota: Option<&'a AtomicU64>,
    progress: &'a mut (dyn FnMut(u64) + Send),
}

impl<F: AsyncWrite + Unpin> AsyncWrite for HashingFile<'_, F> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if let Some(quota) = this.quota {
            let take = buf.len() as u64;
            if quota
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |q| q.checked_sub(take))
                .is_err()
            {
                this.failed = Some(io::ErrorKind::StorageFull);
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::StorageFull,
                    "quota exhausted",
                )));
            }
        }
        let res = Pin::new(&mut this.file).poll_write(cx, buf);
        match &res {
            Poll::Ready(Ok(n)) => {
                if let (Some(q), true) = (this.quota, *n < buf.len()) {
                    q.fetch_add((buf.len() - n) as u64, Ordering::SeqCst);
                }
                this.hasher.update(&buf[..*n]);
                this.written += *n as u64;
                (this.progress)(this.written);
            }
            Poll::Ready(Err(e)) => this.failed = Some(e.kind()),
            Poll::Pending => {
                if let Some(q) = this.quota {
                    q.fetch_add(buf.len() as u64, Ordering::SeqCst);
                }
            }
        }
        res
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let res = Pin::new(&mut self.file).poll_flush(cx);
        if let Poll::Ready(Err(e)) = &res {
            self.failed = Some(e.kind());
        }
        res
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.file).poll_close(cx)
    }
}

static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

/// Serves one upload on one connection. Network errors (the client died)
/// are returned as `Err` after the temporary file is removed; everything
/// the client can be told is answered and returned as an `Outcome`.
pub async fn serve_upload<S>(
    sock: S,
    storage: &Storage,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Outcome, Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Clone,
{
    let mut reader = StreamReader::with_capacity(64 * 1024, sock.clone());
    let mut writer = StreamWriter::new(sock);
    let header = match reader.read_frame(&FRAME).await {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(Outcome::Closed),
        Err(Error::FrameTooLarge { .. }) => {
            let why = format!("header longer than {} bytes", FRAME.max());
            reply(&mut writer, &format!("ERR {why}")).await?;
            return Ok(Outcome::Refused(why));
        }
        Err(e) => return Err(e),
    };
    if header.len() < 9 {
        return refuse(&mut writer, "malformed header".into()).await;
    }
    let size = u64::from_be_bytes(header[..8].try_into().expect("8 bytes"));
    let name = match check_name(&header[8..]) {
        Ok(n) => n,
        Err(why) => return refuse(&mut writer, why).await,
    };
    if size > storage.max_size {
        return refuse(
            &mut writer,
            format!(
                "size {size} exceeds the limit of {} bytes",
                storage.max_size
            ),
        )
        .await;
    }
    let n = NEXT_TEMP.fetch_add(1, Ordering::Relaxed);
    let temp = storage
        .dir
        .join(format!(".{name}.part-{}-{n}", std::process::id()));
    let file = match async_fs::File::create(&temp).await {
        Ok(f) => f,
        Err(e) => return refuse(&mut writer, format!("cannot create file: {e}")).await,
    };
    reply(&mut writer, "READY").await?;

    let mut sink = HashingFile {
        file,
        hasher: Sha256::new(),
        written: 0,
        failed: None,
        quota: storage.quota.as_deref(),
        progress,
    };
    // The payload goes from the socket to the file through the reader's
    // buffer only: memory is bounded by its 64 KiB, whatever the size.
    let copied = reader.copy_exact(size, &mut sink).await;
    let storage_error = sink.failed;
    let HashingFile { file, hasher, .. } = sink;
    let result = match copied {
        Ok(()) => file.sync_all().await.map_err(Error::Io),
        Err(e) => Err(e),
    };
    drop(file);
    if let Err(e) = result {
        let _ = async_fs::remove_file(&temp).await;
        return match storage_error {
            Some(io::ErrorKind::StorageFull) => {
                refuse(&mut writer, format!("disk full: {e}")).await
            }
            Some(_) => refuse(&mut writer, format!("write failed: {e}")).await,
            None => Err(e), // the connection died: nobody to tell
        };
    }
    let sent = match reader.read_exactly(32).await {
        Ok(s) => s,
        Err(e) => {
            let _ = async_fs::remove_file(&temp).await;
            return Err(e);
        }
    };
    let ours = hasher.finalize();
    if sent[..] != ours[..] {
        let _ = async_fs::remove_file(&temp).await;
        return refuse(&mut writer, "checksum mismatch".into()).await;
    }
    if let Err(e) = async_fs::rename(&temp, storage.dir.join(&name)).await {
        let _ = async_fs::remove_file(&temp).await;
        return refuse(&mut writer, format!("cannot store file: {e}")).await;
    }
    let sha256 = hex(&ours);
    reply(&mut writer, &format!("OK {sha256}")).await?;
    Ok(Outcome::Stored { name, size, sha256 })
}

/// The client side: uploads `size` bytes from `file` under `name` and
/// returns the server's final answer (`OK <sha256>` or `ERR <reason>`).
pub async fn send_upload<S, F>(
    sock: S,
    name: &str,
    size: u64,
    mut file: F,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<String, Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Clone,
    F: AsyncRead + Unpin,
{
    let mut reader = StreamReader::new(sock.clone());
    let mut writer = StreamWriter::new(sock);
    let mut header = size.to_be_bytes().to_vec();
    header.extend_from_slice(name.as_bytes());
    writer.send_frame(&FRAME, Bytes::from(header)).await?;
    writer.flush().await?;
    let answer = read_reply(&mut reader).await?;
    if answer != "READY" {
        return Ok(answer);
    }
    let mut hasher = Sha256::new();
    let mut sent = 0u64;
    while sent < size {
        // Each piece is a fresh `Bytes` handed to the writer without a copy.
        let want = (size - sent).min(256 * 1024) as usize;
        let mut piece = vec![0u8; want];
        file.read_exact(&mut piece).await?;
        hasher.update(&piece);
        writer.send(Bytes::from(piece)).await?;
        sent += want as u64;
        progress(sent);
    }
    writer
        .send(Bytes::copy_from_slice(&hasher.finalize()))
        .await?;
    writer.flush().await?;
    read_reply(&mut reader).await
}

async fn read_reply<R: AsyncRead + Unpin>(r: &mut StreamReader<R>) -> Result<String, Error> {
    match r.read_frame(&FRAME).await? {
        Some(f) => Ok(String::from_utf8_lossy(&f).into_owned()),
        None => Err(Error::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "server closed without a reply",
        ))),
    }
}

/// Peak resident memory of this process (VmHWM), in bytes, on Linux.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Generates `size` bytes of pseudo-random content into `path`.
pub async fn generate_file(path: &Path, size: u64) -> io::Result<()> {
    let mut f = async_fs::File::create(path).await?;
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        for chunk in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n]).await?;
        left -= n as u64;
    }
    f.sync_all().await
}
