//! The self-contained demo (`file_upload` with no arguments): starts the
//! server on 127.0.0.1 in this process, generates a 1 GiB file, and PUTs it
//! from a child process (`file_upload send`, so the server's peak resident
//! memory is its own), checking the SHA-256 on both ends.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_lite::AsyncReadExt;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use intake::{StreamReader, StreamWriter};
use sha2::{Digest, Sha256};

use crate::exchange::{App, Config};
use crate::{server, storage};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

const DEMO_SIZE: u64 = 1 << 30;

fn bar(multi: &MultiProgress, size: u64, label: &str) -> ProgressBar {
    let pb = multi.add(ProgressBar::new(size));
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix:>9} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    pb.set_prefix(label.to_string());
    pb
}

/// `send`: PUTs one file with Content-Length, hashing what it sends;
/// prints progress lines and then `answer STATUS SHA256-OF-SENT BODY`.
pub fn send(path: &Path, to: &str) -> Result<(), BoxError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("the file needs a UTF-8 name")?;
    smol::block_on(async {
        let mut file = async_fs::File::open(path).await?;
        let size = file.metadata().await?.len();
        let sock = smol::net::TcpStream::connect(to).await?;
        let mut writer = StreamWriter::new(sock.clone());
        let mut reader = StreamReader::new(sock);
        let head =
            format!("PUT /files/{name} HTTP/1.1\r\nHost: {to}\r\nContent-Length: {size}\r\n\r\n");
        writer.send(Bytes::from(head)).await?;
        let mut hasher = Sha256::new();
        let (mut sent, mut reported) = (0u64, 0u64);
        while sent < size {
            // Each piece is a fresh `Bytes` handed to the writer uncopied.
            let want = (size - sent).min(256 * 1024) as usize;
            let mut piece = vec![0u8; want];
            file.read_exact(&mut piece).await?;
            hasher.update(&piece);
            writer.send(Bytes::from(piece)).await?;
            sent += want as u64;
            if sent - reported >= 8 << 20 || sent == size {
                println!("{sent}");
                reported = sent;
            }
        }
        writer.flush().await?;
        let raw = reader.read_until(b"\r\n\r\n").await?.ok_or("no answer")?;
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        resp.parse(&raw)?;
        let len: usize = resp
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("content-length"))
            .and_then(|h| std::str::from_utf8(h.value).ok()?.parse().ok())
            .unwrap_or(0);
        let body = reader.read_exactly(len).await?;
        println!(
            "answer {} {} {}",
            resp.code.unwrap_or(0),
            storage::hex(&hasher.finalize()),
            String::from_utf8_lossy(&body).trim()
        );
        Ok(())
    })
}

/// Peak resident memory of this process (VmHWM), in bytes, on Linux.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Writes `size` bytes of pseudo-random content to `path`.
fn generate_file(path: &Path, size: u64) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
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
        f.write_all(&block[..n])?;
        left -= n as u64;
    }
    f.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// No arguments: the self-contained demo.
pub fn demo() -> Result<(), BoxError> {
    let work = std::env::temp_dir().join(format!("intake-upload-demo-{}", std::process::id()));
    let incoming = work.join("incoming");
    std::fs::create_dir_all(&incoming)?;
    let source = work.join("upload.bin");
    let result = (|| {
        eprintln!("generating a {} MiB file...", DEMO_SIZE >> 20);
        generate_file(&source, DEMO_SIZE)?;

        let multi = MultiProgress::new();
        let sent_bar = bar(&multi, DEMO_SIZE, "sent");
        let recv_bar = bar(&multi, DEMO_SIZE, "received");
        let progress: storage::Progress = {
            let recv_bar = recv_bar.clone();
            Arc::new(move |n| recv_bar.set_position(n))
        };
        let app = Arc::new(App::new(
            incoming.clone(),
            Config::default(),
            Some(progress),
        )?);
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        // The server runs on its own thread in this process, the client in
        // a child process: the peak RSS below is the server's alone.
        let server_app = app.clone();
        std::thread::spawn(move || {
            smol::block_on(async {
                let listener = smol::net::TcpListener::try_from(listener)?;
                server::run(server_app, listener, server::default_max_connections()).await
            })
        });
        let rss_before = peak_rss();
        let start = Instant::now();
        let mut child = Command::new(std::env::current_exe()?)
            .args([
                "send",
                source.to_str().ok_or("temp path is not UTF-8")?,
                "--to",
                &addr.to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()?;
        let child_out = child.stdout.take().ok_or("no child stdout")?;
        let mut answer = String::new();
        for line in BufReader::new(child_out).lines().map_while(Result::ok) {
            match line.strip_prefix("answer ") {
                Some(a) => answer = a.to_string(),
                None => sent_bar.set_position(line.parse().unwrap_or(0)),
            }
        }
        let status = child.wait()?;
        let secs = start.elapsed().as_secs_f64();
        sent_bar.finish();
        recv_bar.finish();
        // "201 <sha of what the client sent> <server's JSON>"
        let mut fields = answer.splitn(3, ' ');
        let (code, client_sha, body) = (fields.next(), fields.next(), fields.next().unwrap_or(""));
        let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        let server_sha = json["sha256"].as_str();
        if !status.success()
            || code != Some("201")
            || client_sha.is_none()
            || client_sha != server_sha
        {
            return Err(format!("upload failed: {answer}").into());
        }
        let stored = std::fs::metadata(incoming.join("upload.bin"))?.len();
        println!(
            "stored upload.bin: {stored} bytes, SHA-256 {} (client and server agree)",
            server_sha.unwrap_or("")
        );
        println!(
            "throughput: {:.2} GB/s ({:.1} s for {} MiB: HTTP PUT over loopback TCP, to disk, synced)",
            stored as f64 / secs / 1e9,
            secs,
            stored >> 20
        );
        if let (Some(before), Some(peak)) = (rss_before, peak_rss()) {
            println!(
                "server peak resident memory: {:.1} MiB (process total; {:.1} MiB before the upload), for a {} MiB upload",
                peak as f64 / (1 << 20) as f64,
                before as f64 / (1 << 20) as f64,
                stored >> 20
            );
        }
        Ok::<_, BoxError>(())
    })();
    let _ = std::fs::remove_dir_all(&work);
    result
}
