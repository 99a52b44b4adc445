//! The upload server (examples/file_upload) as a real process on 127.0.0.1,
//! driven over HTTP/1.1: PUT with Content-Length and chunked, multipart
//! forms, the page and the listing, and every refusal (400, 405, 408, 409,
//! 413, 431, 507), keep-alive, `Expect: 100-continue`, bodies cut at every
//! offset, a race for one name. tus is in tests/http_upload_tus.rs, memory
//! in tests/http_upload_memory.rs.
#![cfg(not(miri))]

mod http_upload_kit;

use std::time::{Duration, Instant};

use http_upload_kit::*;

#[test]
fn put_with_content_length_is_stored_with_its_sha256() {
    let dir = TempDir::new("put");
    let s = Server::start(dir.path(), &[]);
    let data = content(300_000, 1);
    let r = s.request("PUT", "/files/report.bin", &[], &data);
    assert_eq!(r.status, 201, "{}", r.text());
    let j = r.json();
    assert_eq!(j["name"], "report.bin");
    assert_eq!(j["size"], 300_000);
    assert_eq!(j["sha256"], sha256_hex(&data));
    assert_eq!(std::fs::read(dir.path().join("report.bin")).unwrap(), data);
    assert_eq!(
        s.files(),
        serde_json::json!([{ "name": "report.bin", "size": 300_000, "sha256": sha256_hex(&data) }])
    );
    assert!(temps(dir.path()).is_empty());
    // An empty body is a file too.
    let r = s.request("PUT", "/files/empty", &[], b"");
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["sha256"], sha256_hex(b""));
}

/// `curl -T FILE http://HOST:PORT/` sends `PUT /FILE`: the first thing a
/// new user tries works, as `PUT /files/FILE` does.
#[test]
fn put_to_the_root_as_curl_t_sends_it_is_stored() {
    let dir = TempDir::new("put-root");
    let s = Server::start(dir.path(), &[]);
    let data = content(5_000, 3);
    let r = s.request("PUT", "/notes.txt", &[], &data);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["sha256"], sha256_hex(&data));
    assert_eq!(std::fs::read(dir.path().join("notes.txt")).unwrap(), data);
    let r = s.request("PUT", "/notes.txt", &[], &data);
    assert_eq!(r.status, 409, "never overwritten");
    let r = s.request("PUT", "/a/b.txt", &[], &data);
    assert_eq!(r.status, 404, "{}", r.text());
}

#[test]
fn put_chunked_is_decoded_and_stored() {
    let dir = TempDir::new("chunked");
    let s = Server::start(dir.path(), &[]);
    let data = content(200_001, 2);
    for (i, step) in [1usize, 7, 4096, 65536, 200_001].into_iter().enumerate() {
        let name = format!("c{i}.bin");
        let mut c = s.conn();
        c.send_head(
            "PUT",
            &format!("/files/{name}"),
            &[("Transfer-Encoding", "chunked")],
        );
        c.send(&chunked(&data, step));
        let r = c.response(false);
        assert_eq!(r.status, 201, "step {step}: {}", r.text());
        assert_eq!(r.json()["sha256"], sha256_hex(&data));
        assert_eq!(std::fs::read(dir.path().join(&name)).unwrap(), data);
    }
    // Chunk extensions and trailers are skipped.
    let mut c = s.conn();
    c.send_head("PUT", "/files/ext.txt", &[("Transfer-Encoding", "chunked")]);
    c.send(b"5;name=value\r\nhello\r\n6 ; x\r\n world\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n");
    let r = c.response(false);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        std::fs::read(dir.path().join("ext.txt")).unwrap(),
        b"hello world"
    );
    // Bad framing: 400, nothing kept.
    for bad in [
        &b"zz\r\nhello\r\n0\r\n\r\n"[..],
        b"5\r\nhelloXX0\r\n\r\n",
        b"11111111111111111\r\n",
    ] {
        let mut c = s.conn();
        c.send_head("PUT", "/files/bad.txt", &[("Transfer-Encoding", "chunked")]);
        c.send(bad);
        assert_eq!(
            c.response(false).status,
            400,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    assert!(!dir.path().join("bad.txt").exists());
    eventually("temp files removed", || temps(dir.path()).is_empty());
}

#[test]
fn multipart_form_with_two_files_and_a_field() {
    let dir = TempDir::new("form");
    let s = Server::start(dir.path(), &[]);
    let (a, b) = (content(100_000, 3), content(70_000, 4));
    // Runs that begin the delimiter (`\r\n--XyZ`) without completing it.
    let mut b2 = b.clone();
    b2.extend_from_slice(b"\r\n--Xy\r\n-XyZ\r\n--X");
    let body = form(
        "XyZ",
        &[
            ("note", None, b"hello"),
            ("file", Some("a.bin"), &a),
            ("file", Some("b.bin"), &b2),
            ("file", Some(""), b""), // an empty file input
        ],
    );
    let r = s.request(
        "POST",
        "/files",
        &[("Content-Type", "multipart/form-data; boundary=\"XyZ\"")],
        &body,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!([
            { "name": "a.bin", "size": a.len(), "sha256": sha256_hex(&a) },
            { "name": "b.bin", "size": b2.len(), "sha256": sha256_hex(&b2) },
        ])
    );
    assert_eq!(std::fs::read(dir.path().join("a.bin")).unwrap(), a);
    assert_eq!(std::fs::read(dir.path().join("b.bin")).unwrap(), b2);
    assert_eq!(stored(dir.path()), ["a.bin", "b.bin"]);
    // Refusals: no boundary, no file, a bad name, a form cut short.
    let ct = ("Content-Type", "multipart/form-data; boundary=XyZ");
    let r = s.request("POST", "/files", &[("Content-Type", "text/plain")], b"x");
    assert_eq!(r.status, 400);
    let r = s.request(
        "POST",
        "/files",
        &[ct],
        &form("XyZ", &[("note", None, b"x")]),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = s.request(
        "POST",
        "/files",
        &[ct],
        &form("XyZ", &[("f", Some("../x"), b"x")]),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = s.request(
        "POST",
        "/files",
        &[ct],
        b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\nabc",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    // All or nothing: a second part with a taken name stores neither.
    let r = s.request(
        "POST",
        "/files",
        &[ct],
        &form(
            "XyZ",
            &[("f", Some("new.bin"), b"x"), ("f", Some("a.bin"), b"y")],
        ),
    );
    assert_eq!(r.status, 409);
    assert_eq!(stored(dir.path()), ["a.bin", "b.bin"]);
    eventually("temp files removed", || temps(dir.path()).is_empty());
}

/// A form sent with `Transfer-Encoding: chunked` (as `curl -F` with that
/// header, or a client streaming a form of unknown length): the reader's
/// `chunked` view cuts the framing out in place, so the boundary search
/// runs over the form itself, across chunk boundaries, on the one buffer.
#[test]
fn multipart_form_in_a_chunked_body() {
    let dir = TempDir::new("form-chunked");
    let s = Server::start(dir.path(), &[]);
    let (a, b) = (content(300_000, 5), content(9_000, 6));
    let ct = ("Content-Type", "multipart/form-data; boundary=XyZ");
    let te = ("Transfer-Encoding", "chunked");
    // Chunks of 1 byte (every boundary split), odd sizes, one chunk.
    for (i, step) in [1usize, 7, 4093, usize::MAX].into_iter().enumerate() {
        let (name_a, name_b) = (format!("a{i}.bin"), format!("b{i}.bin"));
        let body = form(
            "XyZ",
            &[
                ("note", None, b"hello"),
                ("file", Some(name_a.as_str()), &a),
                ("file", Some(name_b.as_str()), &b),
            ],
        );
        let mut c = s.conn();
        c.send_head("POST", "/files", &[ct, te]);
        c.send(&chunked(&body, step.min(body.len())));
        let r = c.response(false);
        assert_eq!(r.status, 201, "step {step}: {}", r.text());
        assert_eq!(std::fs::read(dir.path().join(&name_a)).unwrap(), a);
        assert_eq!(std::fs::read(dir.path().join(&name_b)).unwrap(), b);
        // The connection goes on after the body: keep-alive.
        c.send_request("GET", "/files", &[], b"");
        assert_eq!(c.response(false).status, 200, "step {step}");
    }
    // A form cut short by the body's end: 400, nothing stored.
    let cut = form("XyZ", &[("file", Some("cut.bin"), &a)]);
    let mut c = s.conn();
    c.send_head("POST", "/files", &[ct, te]);
    c.send(&chunked(&cut[..20_000], 999));
    let r = c.response(false);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(!dir.path().join("cut.bin").exists());
    // Bad framing inside a form: 400.
    let mut c = s.conn();
    c.send_head("POST", "/files", &[ct, te]);
    c.send(b"5\r\n--XyZ\r\nzz\r\n");
    assert_eq!(c.response(false).status, 400);
    eventually("temp files removed", || temps(dir.path()).is_empty());
}

#[test]
fn existing_names_are_never_overwritten() {
    let dir = TempDir::new("exists");
    let s = Server::start(dir.path(), &[]);
    assert_eq!(s.request("PUT", "/files/x.txt", &[], b"first").status, 201);
    let r = s.request("PUT", "/files/x.txt", &[], b"second");
    assert_eq!(r.status, 409);
    let ct = ("Content-Type", "multipart/form-data; boundary=B");
    assert_eq!(
        s.request(
            "POST",
            "/files",
            &[ct],
            &form("B", &[("f", Some("x.txt"), b"third")])
        )
        .status,
        409
    );
    assert_eq!(std::fs::read(dir.path().join("x.txt")).unwrap(), b"first");
}

#[test]
fn a_race_for_one_name_has_exactly_one_winner() {
    let dir = TempDir::new("race");
    let s = Server::start(dir.path(), &[]);
    for round in 0..5 {
        let name = format!("/files/race{round}.bin");
        let bodies: Vec<Vec<u8>> = (0..8).map(|i| content(200_000, 100 + i)).collect();
        // Every client sends its head first and waits at a barrier, so all
        // bodies arrive together and all pass the early exists-check.
        let barrier = std::sync::Barrier::new(bodies.len());
        let results: Vec<(u16, usize)> = std::thread::scope(|sc| {
            let hs: Vec<_> = bodies
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let (s, barrier, name) = (&s, &barrier, &name);
                    sc.spawn(move || {
                        let mut c = s.conn();
                        c.send_head("PUT", name, &[("Content-Length", &b.len().to_string())]);
                        barrier.wait();
                        c.send(b);
                        (c.response(false).status, i)
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<usize> = results.iter().filter(|r| r.0 == 201).map(|r| r.1).collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        assert!(
            results.iter().all(|r| r.0 == 201 || r.0 == 409),
            "{results:?}"
        );
        let on_disk = std::fs::read(dir.path().join(&name["/files/".len()..])).unwrap();
        assert_eq!(on_disk, bodies[winners[0]], "the winner's file, intact");
    }
    eventually("temp files removed", || temps(dir.path()).is_empty());
}

#[test]
fn bad_names_get_400_and_odd_good_names_are_stored() {
    let dir = TempDir::new("names");
    let s = Server::start(dir.path(), &[]);
    for bad in [
        "a/b",
        "..",
        ".",
        "%2e%2e",
        "%2E%2E",
        "a%2Fb",
        "a%5Cb",
        "..%2Fetc",
        "%00",
        "x%01y",
        "x%0Ay",
        "x%7F",
        ".x.part-1-1",
        ".upload",
        ".hidden",
        "%zz",
        "%ff%fe",
        "",
    ] {
        let r = s.request("PUT", &format!("/files/{bad}"), &[], b"data");
        assert_eq!(r.status, 400, "{bad:?}: {} {}", r.status, r.text());
    }
    // ".." as part of a name is fine, and percent-decoding applies.
    for (raw, name) in [
        ("my..notes.txt", "my..notes.txt"),
        ("a%20b%2Bc.txt", "a b+c.txt"),
        ("%C3%A9t%C3%A9", "été"),
    ] {
        let r = s.request("PUT", &format!("/files/{raw}"), &[], b"data");
        assert_eq!(r.status, 201, "{raw}: {}", r.text());
        assert_eq!(std::fs::read(dir.path().join(name)).unwrap(), b"data");
    }
    assert_eq!(stored(dir.path()), ["a b+c.txt", "my..notes.txt", "été"]);
}

#[test]
fn bodies_over_max_size_get_413_before_any_byte_is_written() {
    let dir = TempDir::new("large");
    let s = Server::start(dir.path(), &["--max-size", "1M"]);
    // Content-Length over the limit: refused at the head; the client has
    // sent no body byte yet, and the answer comes anyway.
    let mut c = s.conn();
    c.send_head(
        "PUT",
        "/files/big.bin",
        &[("Content-Length", &(2u64 << 20).to_string())],
    );
    let r = c.response(false);
    assert_eq!(r.status, 413);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed_by_server());
    // The same with Expect: no 100 Continue, the 413 instead.
    let mut c = s.conn();
    c.send_head(
        "PUT",
        "/files/big.bin",
        &[("Content-Length", "1048577"), ("Expect", "100-continue")],
    );
    assert_eq!(c.response(false).status, 413);
    // Exactly the limit is fine.
    assert_eq!(
        s.request("PUT", "/files/limit.bin", &[], &content(1 << 20, 5))
            .status,
        201
    );
    // Chunked: refused as soon as the count passes the limit.
    let mut c = s.conn();
    c.send_head(
        "PUT",
        "/files/big2.bin",
        &[("Transfer-Encoding", "chunked")],
    );
    let _ = c.try_send(&chunked(&content(1_500_000, 6), 100_000));
    assert_eq!(c.response(false).status, 413);
    // A form larger than the limit: refused at the head.
    let body = form("B", &[("f", Some("big3.bin"), &content((1 << 20) + 1, 7))]);
    let mut c = s.conn();
    c.send_head(
        "POST",
        "/files",
        &[
            ("Content-Type", "multipart/form-data; boundary=B"),
            ("Content-Length", &body.len().to_string()),
        ],
    );
    assert_eq!(c.response(false).status, 413);
    assert_eq!(stored(dir.path()), ["limit.bin"]);
    eventually("temp files removed", || temps(dir.path()).is_empty());
}

#[test]
fn a_stalled_client_gets_408_and_nothing_is_kept() {
    let dir = TempDir::new("idle");
    let s = Server::start(dir.path(), &["--idle-timeout", "1"]);
    // Mid-body.
    let mut c = s.conn();
    c.send_head("PUT", "/files/slow.bin", &[("Content-Length", "1000")]);
    c.send(&[7u8; 10]);
    let start = Instant::now();
    let r = c.response(false);
    assert_eq!(r.status, 408, "{}", r.text());
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(c.closed_by_server());
    // Mid-head.
    let mut c = s.conn();
    c.send(b"PUT /files/slow.bin HTTP/1.1\r\nHost: x\r\n");
    assert_eq!(c.response(false).status, 408);
    // Mid-chunk-line of a chunked body.
    let mut c = s.conn();
    c.send_head(
        "PUT",
        "/files/slow.bin",
        &[("Transfer-Encoding", "chunked")],
    );
    c.send(b"5\r\nab");
    assert_eq!(c.response(false).status, 408);
    // An idle keep-alive connection is just closed, no answer.
    let mut c = s.conn();
    assert!(c.closed_by_server());
    assert!(stored(dir.path()).is_empty());
    eventually("temp files removed", || temps(dir.path()).is_empty());
}

#[test]
fn keep_alive_carries_several_requests_on_one_connection() {
    let dir = TempDir::new("keepalive");
    let s = Server::start(dir.path(), &[]);
    let mut c = s.conn();
    c.send_request("PUT", "/files/one.txt", &[], b"one");
    assert_eq!(c.response(false).status, 201);
    c.send_request(
        "PUT",
        "/files/two.txt",
        &[("Transfer-Encoding", "chunked")],
        b"3\r\ntwo\r\n0\r\n\r\n",
    );
    assert_eq!(c.response(false).status, 201);
    let ct = ("Content-Type", "multipart/form-data; boundary=B");
    c.send_request(
        "POST",
        "/files",
        &[ct],
        &form("B", &[("f", Some("three.txt"), b"three")]),
    );
    assert_eq!(c.response(false).status, 201);
    // A refusal whose body was fully read (none) keeps the connection too.
    c.send_request("GET", "/nope", &[], b"");
    assert_eq!(c.response(false).status, 404);
    c.send_request("GET", "/files", &[], b"");
    let r = c.response(false);
    assert_eq!(r.status, 200);
    assert_eq!(r.json().as_array().unwrap().len(), 3);
    // Two requests sent back to back (pipelined) are answered in order.
    c.send(b"GET /files HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(c.response(false).status, 200);
    let head = c.response(true);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    // Connection: close is honoured.
    c.send_request("GET", "/files", &[("Connection", "close")], b"");
    assert_eq!(c.response(false).header("connection"), Some("close"));
    assert!(c.closed_by_server());
}

#[test]
fn expect_100_continue_is_answered_after_the_checks() {
    let dir = TempDir::new("continue");
    let s = Server::start(dir.path(), &[]);
    let data = content(50_000, 8);
    let mut c = s.conn();
    c.send_head(
        "PUT",
        "/files/c.bin",
        &[
            ("Content-Length", &data.len().to_string()),
            ("Expect", "100-continue"),
        ],
    );
    assert_eq!(c.response(false).status, 100);
    c.send(&data);
    let r = c.response(false);
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["sha256"], sha256_hex(&data));
    // A refused request gets its refusal instead of 100 (409 here, 400
    // and 413 elsewhere), and the connection closes: the body never came.
    let mut c = s.conn();
    c.send_head(
        "PUT",
        "/files/c.bin",
        &[
            ("Content-Length", &data.len().to_string()),
            ("Expect", "100-continue"),
        ],
    );
    assert_eq!(c.response(false).status, 409);
    assert!(c.closed_by_server());
    let mut c = s.conn();
    c.send_head(
        "PUT",
        "/files/a%2Fb",
        &[("Content-Length", "5"), ("Expect", "100-continue")],
    );
    assert_eq!(c.response(false).status, 400);
}

/// Sends `head` and the first `k` bytes of `body`, then cuts, for every
/// `k` short of the whole body: nothing may be stored or left behind.
fn cut_everywhere(s: &Server, head: &str, body: &[u8]) {
    for k in 0..body.len() {
        let mut c = s.conn();
        c.send(head.as_bytes());
        c.send(&body[..k]);
        c.cut();
    }
    assert!(stored(&s.dir).is_empty(), "{:?}", stored(&s.dir));
    eventually("temp files removed", || temps(&s.dir).is_empty());
}

#[test]
fn bodies_cut_at_every_offset_leave_nothing() {
    let dir = TempDir::new("cut");
    let s = Server::start(dir.path(), &[]);
    let data = content(150, 9);
    cut_everywhere(
        &s,
        "PUT /files/cut.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 150\r\n\r\n",
        &data,
    );
    cut_everywhere(
        &s,
        "PUT /files/cut.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        &chunked(&data, 40),
    );
    let body = form(
        "B",
        &[
            ("f", Some("cut1.bin"), &data[..70]),
            ("f", Some("cut2.bin"), &data[70..]),
        ],
    );
    let head = format!(
        "POST /files HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    cut_everywhere(&s, &head, &body);
    // The server is fine afterwards.
    assert_eq!(s.request("PUT", "/files/cut.bin", &[], &data).status, 201);
}

#[test]
fn malformed_requests_get_400_431_405_404() {
    let dir = TempDir::new("malformed");
    let s = Server::start(dir.path(), &[]);
    let mut c = s.conn();
    c.send(b"NOT HTTP AT ALL\r\n\r\n");
    assert_eq!(c.response(false).status, 400);
    let mut c = s.conn();
    c.send(b"PUT /files/x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(c.response(false).status, 400);
    let mut c = s.conn();
    c.send(b"PUT /files/x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd");
    assert_eq!(c.response(false).status, 400);
    let mut c = s.conn();
    c.send(b"PUT /files/x HTTP/1.1\r\nContent-Length: -3\r\n\r\n");
    assert_eq!(c.response(false).status, 400);
    let mut c = s.conn();
    c.send(b"PUT /files/x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n");
    assert_eq!(c.response(false).status, 400);
    // A head over the limit (16 KiB), and too many header lines.
    let mut c = s.conn();
    let _ =
        c.try_send(format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(20_000)).as_bytes());
    assert_eq!(c.response(false).status, 431);
    let mut c = s.conn();
    let many: String = (0..100).map(|i| format!("X-{i}: 1\r\n")).collect();
    c.send(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes());
    assert_eq!(c.response(false).status, 431);
    assert_eq!(s.request("DELETE", "/files/x", &[], b"").status, 405);
    assert_eq!(s.request("GET", "/nothing", &[], b"").status, 404);
    assert!(stored(dir.path()).is_empty());
}

#[test]
fn the_page_the_tus_client_and_the_listing_are_served() {
    let dir = TempDir::new("page");
    let s = Server::start(dir.path(), &[]);
    let r = s.request("GET", "/", &[], b"");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let page = r.text();
    for id in [
        "id=\"file\"",
        "id=\"form\"",
        "id=\"tus-file\"",
        "id=\"tus-upload\"",
        "id=\"progress\"",
        "id=\"files\"",
        "/tus.min.js",
        "action=\"/files\"",
        "multipart/form-data",
    ] {
        assert!(page.contains(id), "{id}");
    }
    let js = s.request("GET", "/tus.min.js", &[], b"");
    assert_eq!(js.status, 200);
    assert!(js.text().contains("tus"));
    assert_eq!(s.files(), serde_json::json!([]));
    // A file put into the folder by hand is listed, without a checksum.
    std::fs::write(dir.path().join("by-hand.txt"), b"x").unwrap();
    assert_eq!(
        s.files(),
        serde_json::json!([{ "name": "by-hand.txt", "size": 1, "sha256": null }])
    );
}

#[test]
fn start_up_removes_temp_files_left_by_a_crash() {
    let dir = TempDir::new("cleanup");
    std::fs::create_dir_all(dir.path().join(".upload/tmp")).unwrap();
    std::fs::write(dir.path().join(".upload/tmp/123-4"), b"half an upload").unwrap();
    let s = Server::start(dir.path(), &[]);
    assert!(temps(dir.path()).is_empty());
    assert_eq!(s.files(), serde_json::json!([]));
}

/// A 1 MiB tmpfs, mounted for the test (needs root; skipped otherwise).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &std::path::Path) -> Option<Tmpfs> {
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1M", "tmpfs"])
            .arg(dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_gets_507_and_nothing_is_left_behind() {
    let dir = TempDir::new("full");
    let Some(_fs) = Tmpfs::mount(dir.path()) else {
        // CI (`.ci/run`, as root) sets INTAKE_REQUIRE_TMPFS so that this
        // test can never pass there without running.
        assert!(
            std::env::var_os("INTAKE_REQUIRE_TMPFS").is_none(),
            "cannot mount a tmpfs, and INTAKE_REQUIRE_TMPFS is set"
        );
        eprintln!("SKIPPED: cannot mount a tmpfs here (not root?): the full-disk test did not run");
        return;
    };
    let s = Server::start(dir.path(), &[]);
    let data = content(2 << 20, 10);
    let r = s.request("PUT", "/files/full.bin", &[], &data);
    assert_eq!(r.status, 507, "{}", r.text());
    let mut c = s.conn();
    c.send_head(
        "PUT",
        "/files/full.bin",
        &[("Transfer-Encoding", "chunked")],
    );
    let _ = c.try_send(&chunked(&data, 65536));
    assert_eq!(c.response(false).status, 507);
    let body = form("B", &[("f", Some("full.bin"), &data)]);
    let r = s.request(
        "POST",
        "/files",
        &[("Content-Type", "multipart/form-data; boundary=B")],
        &body,
    );
    assert_eq!(r.status, 507);
    assert!(stored(dir.path()).is_empty());
    eventually("temp files removed", || temps(dir.path()).is_empty());
    // The space came back: a small upload fits.
    assert_eq!(
        s.request("PUT", "/files/small.bin", &[], &data[..100_000])
            .status,
        201
    );
    drop(s);
}
