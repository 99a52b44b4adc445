//! A small HTTP/1.1 upload server built on intake's `StreamReader`.
//!
//! ```text
//! cargo run --release --example file_upload                  # the 1 GiB demo
//! cargo run --release --example file_upload -- serve --listen 127.0.0.1:7070 --dir ./uploads [--max-size 64G]
//! ```
//!
//! Routes (README, "Upload server", has curl and browser examples):
//!
//! - `PUT /files/NAME`, body by `Content-Length` or chunked: 201 and
//!   `{name, size, sha256}`.
//! - `POST /files`, `multipart/form-data`: 201 and a JSON array.
//! - `/tus/`: tus 1.0 resumable uploads (creation, termination, checksum).
//! - `GET /`: an upload page; `GET /files`: the stored files as JSON.
//!
//! With no arguments it starts the server on 127.0.0.1, generates a 1 GiB
//! file, and PUTs it from a child process (so the server's peak resident
//! memory is its own), checking the SHA-256 on both ends.
//!
//! Modules: `http` (request heads, responses), `idle` (the idle timeout),
//! `chunked`, `multipart`, `tus`, `storage` (names, temp files, no-replace
//! publish, start-up cleanup), `server` (connections, routes, PUT).

// The library's MSRV is 1.75 (clippy's incompatible_msrv lint enforces it
// there); examples build with the dev-dependencies, which need newer Rust.
#![allow(clippy::incompatible_msrv)]

mod chunked;
mod http;
mod idle;
mod multipart;
mod server;
mod storage;
mod tus;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_lite::AsyncReadExt;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use intake::{StreamReader, StreamWriter};
use sha2::{Digest, Sha256};

const DEMO_SIZE: u64 = 1 << 30;
const DEFAULT_MAX_SIZE: u64 = 64 << 30;
const DEFAULT_IDLE: Duration = Duration::from_secs(30);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn usage() -> ! {
    eprintln!(
        "usage:\n  file_upload                       the 1 GiB loopback demo\n  \
         file_upload serve --listen ADDR --dir DIR [--max-size SIZE]\n                                    \
         SIZE: bytes, or with K, M, G, T (powers of 1024): 64G"
    );
    std::process::exit(2)
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// `1M`, `2G`, `64G`, `1048576` (K/M/G/T are powers of 1024).
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, shift) = match s.char_indices().last()? {
        (i, 'k' | 'K') => (&s[..i], 10),
        (i, 'm' | 'M') => (&s[..i], 20),
        (i, 'g' | 'G') => (&s[..i], 30),
        (i, 't' | 'T') => (&s[..i], 40),
        _ => (s, 0),
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None => demo(),
        Some("serve") => {
            let (Some(listen), Some(dir)) = (flag(&args, "--listen"), flag(&args, "--dir")) else {
                usage()
            };
            let max_size = match flag(&args, "--max-size") {
                None => DEFAULT_MAX_SIZE,
                Some(s) => parse_size(&s).unwrap_or_else(|| usage()),
            };
            // Hidden: tests shorten it.
            let idle = match flag(&args, "--idle-timeout") {
                None => DEFAULT_IDLE,
                Some(s) => Duration::from_secs_f64(s.parse().unwrap_or_else(|_| usage())),
            };
            serve(&listen, PathBuf::from(dir), max_size, idle)
        }
        // Hidden: the demo's client, run as a child process.
        Some("send") => {
            let (Some(file), Some(to)) = (args.get(1), flag(&args, "--to")) else {
                usage()
            };
            send(Path::new(file), &to)
        }
        Some(_) => usage(),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// `serve`: answers until killed. The first line on stdout is the address
/// (tests start it on port 0 and read it).
fn serve(listen: &str, dir: PathBuf, max_size: u64, idle: Duration) -> Result<(), BoxError> {
    let app = Arc::new(server::App::new(dir, max_size, idle, None)?);
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind(listen).await?;
        println!("listening on {}", listener.local_addr()?);
        std::io::stdout().flush()?;
        eprintln!(
            "storing into {}, bodies up to {max_size} bytes; open http://{}/ for the upload page",
            app.store.dir.display(),
            listener.local_addr()?
        );
        server::run(app, listener).await?;
        Ok(())
    })
}

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
fn send(path: &Path, to: &str) -> Result<(), BoxError> {
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
fn demo() -> Result<(), BoxError> {
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
        let app = Arc::new(server::App::new(
            incoming.clone(),
            DEFAULT_MAX_SIZE,
            DEFAULT_IDLE,
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
                server::run(server_app, listener).await
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
