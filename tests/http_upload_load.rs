//! The load test of the upload server (examples/file_upload), on
//! 127.0.0.1: 200 concurrent 5 MiB uploads (PUT, multipart and tus mixed)
//! while 200 idle connections and 100 slow heads (a byte every 500 ms, cut
//! with 408 by a 3 s head deadline) are open; every upload is stored and verified by SHA-256 (the server's
//! answer and the file on disk against what was sent), within a time bound.
//! The server's peak RSS (VmHWM) is printed and published in the README.
//!
//! Ignored by a plain `cargo test` (a gigabyte through the server); CI runs
//! it on its own: `cargo test --test http_upload_load -- --ignored --nocapture`.
#![cfg(not(miri))]

mod http_upload_kit;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http_upload_kit::bodies::*;
use http_upload_kit::*;

const UPLOADS: u64 = 200;
const SIZE: u64 = 5 * MIB;
const IDLE: usize = 200;
const SLOW: usize = 100;
/// The whole run (uploads and checks) must end within this.
const BOUND: Duration = Duration::from_secs(240);

/// This process holds about 900 descriptors at the peak (500 sockets, two
/// pipes for each upload's `sha256sum`), and the server, which inherits the
/// limit, about 700: a soft limit of 1024, common on CI machines, is raised
/// to the hard limit (at most 65536).
fn raise_descriptor_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max.min(65536).max(lim.rlim_cur);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

#[test]
#[ignore = "load test (1 GB through the server): CI runs it with --ignored"]
fn two_hundred_concurrent_uploads_beside_idle_connections_and_slow_heads() {
    raise_descriptor_limit();
    let dir = TempDir::new("load");
    let mut s = Server::start(
        dir.path(),
        &["--max-connections", "1000", "--head-timeout", "3"],
    );
    std::thread::sleep(Duration::from_millis(200));
    let (idle_rss, _) = s.rss();
    let start = Instant::now();

    // 200 connections that send nothing.
    let idle: Vec<TcpStream> = (0..IDLE)
        .map(|_| TcpStream::connect(s.addr).unwrap())
        .collect();
    // 100 heads that trickle in, a byte every 500 ms, until the uploads end
    // (and for 4 s at least): the head deadline answers each 408 meanwhile.
    let done = AtomicBool::new(false);
    let head = b"GET /files HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let results: Vec<(String, String)> = std::thread::scope(|sc| {
        let slow = sc.spawn(|| {
            let mut conns: Vec<Option<TcpStream>> = (0..SLOW)
                .map(|_| Some(TcpStream::connect(s.addr).unwrap()))
                .collect();
            let mut timed_out = 0;
            let mut at = 0;
            let trickle = Instant::now();
            // Until the uploads end (4 s at least), and then until every
            // head is answered (a head the server accepted late under load
            // is answered late), 30 s at most.
            let mut ended: Option<Instant> = None;
            loop {
                if done.load(Ordering::Relaxed) && trickle.elapsed() >= Duration::from_secs(4) {
                    let ended = *ended.get_or_insert_with(Instant::now);
                    if conns.iter().all(Option::is_none)
                        || ended.elapsed() > Duration::from_secs(30)
                    {
                        break;
                    }
                }
                for c in conns.iter_mut() {
                    let Some(sock) = c else { continue };
                    // A client stops sending once answered: look for the
                    // 408 before each byte. (Writing on after the server's
                    // lingering close ends gets a reset, and the next write
                    // fails: the answer must be read before that.)
                    match answer(sock, false) {
                        Answer::Pending => {}
                        Answer::TimedOut => {
                            timed_out += 1;
                            *c = None;
                            continue;
                        }
                        Answer::Other => {
                            *c = None;
                            continue;
                        }
                    }
                    if sock.write_all(&head[at % head.len()..][..1]).is_err() {
                        timed_out += usize::from(answer(sock, true) == Answer::TimedOut);
                        *c = None;
                    }
                }
                at += 1;
                std::thread::sleep(Duration::from_millis(500));
            }
            // The rest were answered 408 (the head deadline): read back now.
            for sock in conns.iter_mut().flatten() {
                timed_out += usize::from(answer(sock, true) == Answer::TimedOut);
            }
            timed_out
        });
        let uploads: Vec<_> = (0..UPLOADS)
            .map(|i| {
                let s = &s;
                sc.spawn(move || {
                    let name = format!("load-{i:03}.bin");
                    let sha = match i % 3 {
                        0 => put(s, &name, SIZE, 5000 + i),
                        1 => multipart(s, &name, SIZE, 5000 + i),
                        _ => tus(s, &name, SIZE, 5000 + i, 2),
                    };
                    (name, sha)
                })
            })
            .collect();
        let results = uploads.into_iter().map(|h| h.join().unwrap()).collect();
        done.store(true, Ordering::Relaxed);
        let timed_out = slow.join().unwrap();
        assert_eq!(timed_out, SLOW, "every slow head was answered 408");
        results
    });
    let upload_secs = start.elapsed().as_secs_f64();
    let (_, peak) = s.rss();
    assert!(s.running(), "the server is still running");
    drop(idle);

    // Every upload: listed with its size and the SHA-256 of what was sent,
    // and the file on disk hashes to it too.
    let listed = s.files();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), UPLOADS as usize);
    for (name, sha) in &results {
        let e = listed.iter().find(|e| e["name"] == name.as_str()).unwrap();
        assert_eq!(e["size"], SIZE, "{name}");
        assert_eq!(e["sha256"], sha.as_str(), "{name}");
        assert_eq!(&hash_file(&dir.path().join(name)), sha, "{name} on disk");
    }
    assert!(temps(dir.path()).is_empty());
    let total = start.elapsed();
    assert!(total < BOUND, "the load test took {total:?}");
    println!(
        "load: {UPLOADS} concurrent 5 MiB uploads (PUT, multipart, tus) beside {IDLE} idle \
         connections and {SLOW} slow heads: all stored and verified; uploads {upload_secs:.1} s, \
         with the checks {:.1} s; server peak RSS {:.1} MiB (idle {:.1} MiB)",
        total.as_secs_f64(),
        peak as f64 / MIB as f64,
        idle_rss as f64 / MIB as f64,
    );
}

#[derive(PartialEq)]
enum Answer {
    /// Nothing has come back yet.
    Pending,
    /// `HTTP/1.1 408` came back.
    TimedOut,
    /// Something else came back, or the connection failed.
    Other,
}

/// What the server has answered on a slow head's connection; with `wait`,
/// waits up to 500 ms for it, else only looks.
fn answer(sock: &mut TcpStream, wait: bool) -> Answer {
    let mut buf = [0u8; 64];
    let got = if wait {
        sock.set_nonblocking(false).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        sock.read(&mut buf)
    } else {
        sock.set_nonblocking(true).unwrap();
        let got = sock.read(&mut buf);
        sock.set_nonblocking(false).unwrap();
        got
    };
    match got {
        Ok(n) if buf[..n].starts_with(b"HTTP/1.1 408 ") => Answer::TimedOut,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && !wait => Answer::Pending,
        _ => Answer::Other,
    }
}
