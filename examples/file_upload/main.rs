//! A small HTTP/1.1 upload server built on intake's `StreamReader`.
//!
//! ```text
//! cargo run --release --example file_upload                  # the 1 GiB demo
//! cargo run --release --example file_upload -- serve --listen 127.0.0.1:7070 --dir ./uploads [OPTIONS]
//! ```
//!
//! Routes (README, "Upload server", has curl and browser examples):
//!
//! - `PUT /files/NAME`, body by `Content-Length` or chunked: 201 and
//!   `{name, size, sha256}`.
//! - `POST /files`, `multipart/form-data`: 201 and a JSON array.
//! - `/tus/`: tus 1.0 resumable uploads (creation, termination, checksum,
//!   expiration).
//! - `GET /`: an upload page; `GET /files`: the stored files as JSON.
//!
//! With no arguments it runs the demo (module `demo`).
//!
//! Modules, bottom to top (none imports one above it): `idle` (the idle
//! timeout), `http` (request heads, responses), `chunked`, `storage` (names,
//! temp files, no-replace publish, start-up cleanup, tus upload locks),
//! `exchange` (the shared state, what a handler gets and the answers every
//! handler gives), `multipart`, `tus`, `server` (accepting, connections,
//! routes, PUT), `demo`.

// The library's MSRV is 1.75 (clippy's incompatible_msrv lint enforces it
// there); examples build with the dev-dependencies, which need newer Rust.
#![allow(clippy::incompatible_msrv)]

mod chunked;
mod demo;
mod exchange;
mod http;
mod idle;
mod multipart;
mod server;
mod storage;
mod tus;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use demo::BoxError;
use exchange::{App, Config};

fn usage() -> ! {
    eprintln!(
        "usage:\n  file_upload                       the 1 GiB loopback demo\n  \
         file_upload serve --listen ADDR --dir DIR [OPTIONS]\n\n\
         options:\n  \
         --max-size SIZE          largest body (default 64G); SIZE: bytes, or with K, M, G, T (powers of 1024)\n  \
         --max-connections N      connections served at once; past it a connection gets 503 and is closed\n                           \
         (default: from the descriptor limit, (RLIMIT_NOFILE - 32) / 2)\n  \
         --head-timeout SECS      the whole request head must arrive within this (default 10)\n  \
         --tus-expiry SECS        a tus upload expires this long after its last PATCH or its completion\n                           \
         (default 86400)\n  \
         --token TOKEN            require `Authorization: Bearer TOKEN` on every request that writes or deletes"
    );
    std::process::exit(2)
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn seconds(args: &[String], name: &str, default: Duration) -> Duration {
    match flag(args, name) {
        None => default,
        Some(s) => s
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or_else(|| usage()),
    }
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
        None => demo::demo(),
        Some("serve") => {
            let (Some(listen), Some(dir)) = (flag(&args, "--listen"), flag(&args, "--dir")) else {
                usage()
            };
            let d = Config::default();
            let cfg = Config {
                max_size: match flag(&args, "--max-size") {
                    None => d.max_size,
                    Some(s) => parse_size(&s).unwrap_or_else(|| usage()),
                },
                // Hidden: tests shorten it.
                idle: seconds(&args, "--idle-timeout", d.idle),
                head_timeout: seconds(&args, "--head-timeout", d.head_timeout),
                tus_expiry: seconds(&args, "--tus-expiry", d.tus_expiry),
                token: flag(&args, "--token").filter(|t| !t.is_empty()),
            };
            let max_connections = match flag(&args, "--max-connections") {
                None => server::default_max_connections(),
                Some(s) => s.parse().ok().filter(|&n| n > 0).unwrap_or_else(|| usage()),
            };
            serve(&listen, PathBuf::from(dir), cfg, max_connections)
        }
        // Hidden: the demo's client, run as a child process.
        Some("send") => {
            let (Some(file), Some(to)) = (args.get(1), flag(&args, "--to")) else {
                usage()
            };
            demo::send(Path::new(file), &to)
        }
        Some(_) => usage(),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// The warning printed when the server is reachable from other machines
/// and anyone there may write and delete.
fn exposure_warning(addr: SocketAddr, token: bool) -> Option<String> {
    (!addr.ip().is_loopback() && !token).then(|| {
        format!(
            "warning: listening on {addr}, which is not a loopback address, without --token: \
             anyone who can reach it can store files and delete uploads"
        )
    })
}

/// `serve`: answers until killed. The first line on stdout is the address
/// (tests start it on port 0 and read it).
fn serve(listen: &str, dir: PathBuf, cfg: Config, max_connections: usize) -> Result<(), BoxError> {
    let max_size = cfg.max_size;
    let token = cfg.token.is_some();
    let app = Arc::new(App::new(dir, cfg, None)?);
    // Warned before binding, from the address asked for, so that even a
    // bind that fails says it.
    for addr in std::net::ToSocketAddrs::to_socket_addrs(listen)? {
        if let Some(w) = exposure_warning(addr, token) {
            eprintln!("{w}");
        }
    }
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        println!("listening on {addr}");
        std::io::stdout().flush()?;
        eprintln!(
            "storing into {}, bodies up to {max_size} bytes, at most {max_connections} connections; \
             open http://{addr}/ for the upload page",
            app.store.dir.display(),
        );
        smol::spawn(tus::expire_loop(app.clone())).detach();
        server::run(app, listener, max_connections).await?;
        Ok(())
    })
}
