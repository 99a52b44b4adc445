//! Shared by the upload server's tests (tests/file_upload.rs,
//! tests/http_upload_tus.rs, tests/http_upload_memory.rs): the server binary
//! started as a child process on 127.0.0.1 (killed on drop), a tiny raw
//! HTTP/1.1 client over `std::net::TcpStream` whose responses are parsed by
//! `httparse`, and helpers for bodies, forms and the upload folder.
//!
//! The server is the release build of `examples/file_upload`, built once
//! per test binary with `cargo build --release --example file_upload`:
//! memory is measured on the real process, and 1 GiB bodies need the
//! optimized SHA-256.
#![allow(dead_code)]

pub mod bodies;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The path of the release server binary, built on first use.
pub fn server_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "build",
                "--release",
                "--example",
                "file_upload",
                "--message-format=json-render-diagnostics",
            ])
            .stderr(Stdio::inherit())
            .output()
            .expect("run cargo build");
        assert!(
            out.status.success(),
            "cargo build --release --example file_upload failed"
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "file_upload")
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo reported the example's executable")
    })
}

/// A folder removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let d = std::env::temp_dir().join(format!(
            "intake-http-upload-{}-{tag}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The server as a child process, listening on 127.0.0.1 (port 0, read
/// back from its first line). Killed on drop.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub dir: PathBuf,
    log: Arc<Mutex<String>>,
}

impl Server {
    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        let mut cmd = Command::new(server_binary());
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--dir"])
            .arg(dir)
            .args(extra);
        Server::spawn(cmd, dir)
    }

    /// As `start`, with the descriptor limit (`ulimit -n`) set to `nofile`
    /// for the server process.
    pub fn start_with_nofile(dir: &Path, extra: &[&str], nofile: u32) -> Server {
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "ulimit -n \"$1\" || exit 99; shift; exec \"$@\"",
            "sh",
        ])
        .arg(nofile.to_string())
        .arg(server_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--dir"])
        .arg(dir)
        .args(extra);
        Server::spawn(cmd, dir)
    }

    fn spawn(mut cmd: Command, dir: &Path) -> Server {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let addr = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .parse()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (stderr, sink) = (child.stderr.take().unwrap(), log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&line);
                sink.lock().unwrap().push('\n');
            }
        });
        Server {
            child,
            addr,
            dir: dir.to_path_buf(),
            log,
        }
    }

    /// Whether the server process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// (VmRSS, VmHWM) of the server, in bytes.
    pub fn rss(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let field = |name: &str| -> u64 {
            let line = status.lines().find(|l| l.starts_with(name)).unwrap();
            line.split_whitespace()
                .nth(1)
                .unwrap()
                .parse::<u64>()
                .unwrap()
                * 1024
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// Resets the server's peak RSS (VmHWM) to its current RSS.
    pub fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").unwrap();
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn conn(&self) -> Conn {
        Conn::open(self.addr)
    }

    /// One request on a fresh connection.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let mut c = self.conn();
        c.send_request(method, path, headers, body);
        c.response(method == "HEAD")
    }

    /// GET /files as JSON.
    pub fn files(&self) -> serde_json::Value {
        let r = self.request("GET", "/files", &[], b"");
        assert_eq!(r.status, 200);
        serde_json::from_slice(&r.body).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A client connection.
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Sends, but a server that already answered and closed is not an error.
    pub fn try_send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// The head of a tus PATCH of `len` bytes (Content-Length) at `offset`,
    /// with `extra` headers; the body follows with `send`.
    pub fn send_patch_head(&mut self, path: &str, offset: u64, len: u64, extra: &[(&str, &str)]) {
        let (offset, len) = (offset.to_string(), len.to_string());
        let mut headers = vec![
            TUS,
            ("Content-Type", "application/offset+octet-stream"),
            ("Upload-Offset", offset.as_str()),
            ("Content-Length", len.as_str()),
        ];
        headers.extend_from_slice(extra);
        self.send_head("PATCH", path, &headers);
    }

    pub fn send_head(&mut self, method: &str, path: &str, headers: &[(&str, &str)]) {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str("\r\n");
        self.send(head.as_bytes());
    }

    /// A request with a Content-Length body (unless the headers frame it).
    pub fn send_request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) {
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        let len = body.len().to_string();
        let framed = headers.iter().any(|(n, _)| {
            n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("transfer-encoding")
        });
        if !framed && (!body.is_empty() || matches!(method, "PUT" | "POST" | "PATCH")) {
            all.push(("Content-Length", &len));
        }
        self.send_head(method, path, &all);
        self.send(body);
    }

    /// Closes our sending side and waits until the server closes its side:
    /// by then the server has dealt with the cut.
    pub fn cut(mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
        let mut sink = Vec::new();
        let _ = self.stream.read_to_end(&mut sink);
    }

    fn fill(&mut self) -> std::io::Result<usize> {
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Reads one response (a `100 Continue` is a response too).
    pub fn response(&mut self, head_only: bool) -> Resp {
        self.try_response(head_only).expect("a response")
    }

    pub fn try_response(&mut self, head_only: bool) -> std::io::Result<Resp> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&self.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let status = resp.code.unwrap();
                    let headers: Vec<(String, String)> = resp
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_string(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect();
                    self.buf.drain(..n);
                    let mut r = Resp {
                        status,
                        headers,
                        body: Vec::new(),
                    };
                    let len: usize = if head_only || status == 100 || status == 204 {
                        0
                    } else {
                        r.header("content-length").map_or(0, |v| v.parse().unwrap())
                    };
                    while self.buf.len() < len {
                        if self.fill()? == 0 {
                            return Err(std::io::ErrorKind::UnexpectedEof.into());
                        }
                    }
                    r.body = self.buf.drain(..len).collect();
                    return Ok(r);
                }
                Ok(httparse::Status::Partial) => {
                    if self.fill()? == 0 {
                        return Err(std::io::ErrorKind::UnexpectedEof.into());
                    }
                }
                Err(e) => panic!(
                    "bad response: {e}: {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
            }
        }
    }

    /// Whether the server closed the connection (EOF within a few seconds).
    pub fn closed_by_server(&mut self) -> bool {
        self.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut b = [0u8; 1024];
        loop {
            match self.stream.read(&mut b) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }
}

/// Deterministic pseudo-random bytes (different for each seed).
pub fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut out = vec![0u8; len];
    fill(
        &mut out,
        &mut (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
    );
    out
}

/// Fills `buf` from the xorshift state `x`.
pub fn fill(buf: &mut [u8], x: &mut u64) {
    for chunk in buf.chunks_mut(8) {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// A multipart/form-data body: (field name, file name, content) parts.
pub fn form(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (field, file, data) in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => out.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{field}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => out.extend_from_slice(format!("Content-Disposition: form-data; name=\"{field}\"\r\n\r\n").as_bytes()),
        }
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// A chunked encoding of `data` in pieces of `step` bytes.
pub fn chunked(data: &[u8], step: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in data.chunks(step) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// The non-hidden files in the upload folder.
pub fn stored(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

/// The server's temp files (bodies being received).
pub fn temps(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir.join(".upload/tmp")) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Waits until `cond` holds (the server cleans up right after a cut).
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never happened: {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// base64 (standard, padded), for tus metadata and checksums.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub const TUS: (&str, &str) = ("Tus-Resumable", "1.0.0");

/// POST /tus/: creates an upload, returns its path (/tus/ID).
pub fn tus_create(server: &Server, name: &str, len: u64) -> String {
    let meta = format!("filename {}", base64(name.as_bytes()));
    let r = server.request(
        "POST",
        "/tus/",
        &[
            TUS,
            ("Upload-Length", &len.to_string()),
            ("Upload-Metadata", &meta),
        ],
        b"",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let loc = r.header("location").unwrap();
    loc[loc.find("/tus/").unwrap()..].to_string()
}

/// PATCH one chunk at `offset`.
pub fn tus_patch(server: &Server, path: &str, offset: u64, data: &[u8]) -> Resp {
    server.request(
        "PATCH",
        path,
        &[
            TUS,
            ("Content-Type", "application/offset+octet-stream"),
            ("Upload-Offset", &offset.to_string()),
        ],
        data,
    )
}

/// HEAD: the upload's offset.
pub fn tus_offset(server: &Server, path: &str) -> u64 {
    let r = server.request("HEAD", path, &[TUS], b"");
    assert_eq!(r.status, 200);
    r.header("upload-offset").unwrap().parse().unwrap()
}
