//! The upload server (examples/file_upload) out of descriptors: under a
//! low `ulimit -n`, a flood of connections makes `accept` fail with EMFILE;
//! the server logs it, backs off, goes on, and serves a normal upload once
//! the flood is gone. Past `--max-connections` (by default derived from
//! the descriptor limit) a connection gets a 503 and is closed at once.
#![cfg(not(miri))]

mod http_upload_kit;

use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;

use http_upload_kit::*;

/// Opens `n` connections that send nothing (the flood).
fn flood(s: &Server, n: usize) -> Vec<TcpStream> {
    (0..n)
        .filter_map(|_| TcpStream::connect(s.addr).ok())
        .collect()
}

fn upload_works(s: &Server, name: &str) {
    let data = content(300_000, 5);
    let r = s.request("PUT", &format!("/files/{name}"), &[], &data);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["sha256"], sha256_hex(&data).as_str());
    assert_eq!(std::fs::read(s.dir.join(name)).unwrap(), data);
}

#[test]
fn running_out_of_descriptors_does_not_end_the_server() {
    let dir = TempDir::new("emfile");
    // The connection limit is set far past what 64 descriptors allow, so
    // `accept` itself runs out (EMFILE), as it did before the limit existed.
    let mut s = Server::start_with_nofile(dir.path(), &["--max-connections", "10000"], 64);
    let conns = flood(&s, 120);
    assert!(conns.len() >= 100, "the flood connected ({})", conns.len());
    eventually("accept failed with EMFILE and was logged", || {
        s.log().contains("accept failed")
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(s.running(), "the server is still running: {}", s.log());
    drop(conns);
    // The backlog drains as descriptors come back; then a normal upload.
    std::thread::sleep(Duration::from_millis(500));
    assert!(s.running(), "the server is still running: {}", s.log());
    upload_works(&s, "after-flood.bin");
    assert!(s.log().contains("Too many open files"), "{}", s.log());
}

#[test]
fn connections_past_the_limit_get_503_and_the_default_follows_ulimit() {
    let dir = TempDir::new("max-conn");
    // 256 descriptors: (256 - 32) / 2 = 112 connections by default.
    let mut s = Server::start_with_nofile(dir.path(), &[], 256);
    eventually("the start-up line", || s.log().contains("at most"));
    assert!(s.log().contains("at most 112 connections"), "{}", s.log());
    // The case: 300 connections against 256 descriptors.
    let mut conns = flood(&s, 300);
    assert_eq!(conns.len(), 300);
    // Those past the limit get a 503 and are closed; the first 112 wait.
    let mut busy = 0;
    let mut held = Vec::new();
    for mut c in conns.drain(..) {
        c.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut buf = Vec::new();
        match c.read_to_end(&mut buf) {
            Ok(_) => {
                assert!(
                    buf.is_empty() || buf.starts_with(b"HTTP/1.1 503 "),
                    "{}",
                    String::from_utf8_lossy(&buf)
                );
                busy += 1;
            }
            Err(_) => held.push(c),
        }
    }
    assert_eq!(held.len(), 112, "{busy} turned away");
    assert!(s.running());
    // While the limit is reached, a new connection is turned away too.
    let mut extra = s.conn();
    extra.send_request("GET", "/files", &[], b"");
    assert_eq!(extra.response(false).status, 503);
    // Once the flood is gone, uploads work.
    drop(held);
    eventually("a connection is served again", || {
        let mut c = s.conn();
        c.send_request("GET", "/files", &[], b"");
        c.try_response(false).is_ok_and(|r| r.status == 200)
    });
    upload_works(&s, "after-limit.bin");
    assert!(s.running());
}
