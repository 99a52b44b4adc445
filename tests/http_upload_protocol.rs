//! The upload server (examples/file_upload) on the RFC 9112 cases the
//! issue lists (no Host on HTTP/1.1, Transfer-Encoding on HTTP/1.0, bare
//! LF answered at once), the whole-head deadline, `filename*` in multipart
//! parts, and the optional bearer token.
#![cfg(not(miri))]

mod http_upload_kit;

use std::time::{Duration, Instant};

use http_upload_kit::*;

/// Sends `raw` on a fresh connection; the answer must come within 3 s
/// (the idle timeout is 30 s, so waiting for it does not count), and the
/// server must close after it.
fn refused_at_once(s: &Server, raw: &[u8]) -> Resp {
    let mut c = s.conn();
    c.stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let start = Instant::now();
    c.send(raw);
    let r = c
        .try_response(false)
        .expect("an answer before the idle timeout");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(
        c.closed_by_server(),
        "the connection closes after the refusal"
    );
    r
}

#[test]
fn an_http_11_request_without_exactly_one_valid_host_gets_400() {
    let dir = TempDir::new("host");
    let s = Server::start(dir.path(), &[]);
    let r = refused_at_once(
        &s,
        b"PUT /files/a.txt HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("Host"));
    let r = refused_at_once(
        &s,
        b"PUT /files/a.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 3\r\n\r\nabc",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = refused_at_once(&s, b"GET /files HTTP/1.1\r\nHost: a b/c\r\n\r\n");
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(stored(dir.path()).is_empty());
    // HTTP/1.0 needs no Host; an empty Host is allowed.
    let mut c = s.conn();
    c.send(b"PUT /files/old.txt HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!(c.response(false).status, 201);
    let mut c = s.conn();
    c.send(b"GET /files HTTP/1.1\r\nHost:\r\n\r\n");
    assert_eq!(c.response(false).status, 200);
}

#[test]
fn transfer_encoding_on_http_10_gets_400_and_the_connection_closes() {
    let dir = TempDir::new("te10");
    let s = Server::start(dir.path(), &[]);
    let r = refused_at_once(
        &s,
        b"PUT /files/a.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.header("connection"), Some("close"));
    // On a route that never reads a body, too.
    let r = refused_at_once(
        &s,
        b"GET /files HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(stored(dir.path()).is_empty());
}

#[test]
fn a_bare_lf_in_a_head_or_a_chunk_line_gets_400_at_once() {
    let dir = TempDir::new("bare-lf");
    let s = Server::start(dir.path(), &[]);
    for raw in [
        &b"GET /files HTTP/1.1\nHost: x\n\n"[..],
        b"GET /files HTTP/1.1\r\nHost: x\n\n",
        b"PUT /files/a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\n\r\nabc",
    ] {
        let r = refused_at_once(&s, raw);
        assert_eq!(
            r.status,
            400,
            "{:?}: {}",
            String::from_utf8_lossy(raw),
            r.text()
        );
    }
    let r = refused_at_once(
        &s,
        b"PUT /files/b.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = refused_at_once(
        &s,
        b"PUT /files/c.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: 1\n\n",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(stored(dir.path()).is_empty());
    assert!(temps(dir.path()).is_empty());
}

#[test]
fn a_head_sent_a_byte_at_a_time_meets_the_head_deadline() {
    let dir = TempDir::new("head-deadline");
    // The idle timeout (5 s) never fires: a byte comes every 200 ms.
    let s = Server::start(
        dir.path(),
        &["--head-timeout", "1.5", "--idle-timeout", "5"],
    );
    let mut c = s.conn();
    let head = b"GET /files HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let start = Instant::now();
    let mut refused = false;
    for b in head {
        if c.try_send(&[*b]).is_err() {
            refused = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        if start.elapsed() > Duration::from_secs(4) {
            break;
        }
    }
    let _ = refused;
    let r = c.try_response(false).expect("a 408");
    assert_eq!(r.status, 408, "{}", r.text());
    let t = start.elapsed();
    assert!(
        t >= Duration::from_millis(1400) && t < Duration::from_secs(4),
        "{t:?}"
    );
    // Waiting between requests is the idle timeout's, not the head's: a
    // keep-alive connection quiet for longer than the head timeout is fine.
    let mut c = s.conn();
    c.send_request("GET", "/files", &[], b"");
    assert_eq!(c.response(false).status, 200);
    std::thread::sleep(Duration::from_millis(2000));
    c.send_request("GET", "/files", &[], b"");
    assert_eq!(c.response(false).status, 200);
}

#[test]
fn multipart_file_names_take_filename_star_and_raw_utf8() {
    let dir = TempDir::new("filename-star");
    let s = Server::start(dir.path(), &[]);
    let boundary = "XyZ";
    let mut body = Vec::new();
    for (cd, data) in [
        // RFC 6266/8187: filename* wins over the ASCII fallback.
        (
            "form-data; name=\"a\"; filename=\"naive.txt\"; filename*=UTF-8''na%C3%AFve%20%E2%82%AC.txt",
            &b"one"[..],
        ),
        // What browsers send: raw UTF-8 in the quoted string.
        ("form-data; name=\"b\"; filename=\"r\u{e9}sum\u{e9}.txt\"", b"two"),
        // A quoted-pair and a ';' inside quotes.
        ("form-data; name=\"c\"; filename=\"a\\\"b;c.txt\"", b"three"),
    ] {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: {cd}\r\n\r\n").as_bytes());
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let r = s.request(
        "POST",
        "/files",
        &[("Content-Type", "multipart/form-data; boundary=\"XyZ\"")],
        &body,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let mut names = stored(dir.path());
    names.sort();
    let mut want = vec![
        "na\u{ef}ve \u{20ac}.txt".to_string(),
        "r\u{e9}sum\u{e9}.txt".to_string(),
        "a\"b;c.txt".to_string(),
    ];
    want.sort();
    assert_eq!(names, want);
    assert_eq!(
        std::fs::read(dir.path().join("na\u{ef}ve \u{20ac}.txt")).unwrap(),
        b"one"
    );
    // A filename* that does not decode is refused, not silently replaced.
    let bad = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"a\"; filename=\"x.txt\"; filename*=UTF-8''%ZZ\r\n\r\nx\r\n--{boundary}--\r\n"
    );
    let r = s.request(
        "POST",
        "/files",
        &[("Content-Type", "multipart/form-data; boundary=XyZ")],
        bad.as_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(!dir.path().join("x.txt").exists());
}

#[test]
fn with_a_token_every_write_and_delete_needs_it() {
    let dir = TempDir::new("token");
    let s = Server::start(dir.path(), &["--token", "s3cret-token"]);
    let auth = ("Authorization", "Bearer s3cret-token");
    // Without it, or with a wrong one (even a prefix of it): 401.
    for headers in [
        vec![],
        vec![("Authorization", "Bearer s3cret")],
        vec![("Authorization", "Bearer s3cret-token-and-more")],
        vec![("Authorization", "Basic czNjcmV0LXRva2Vu")],
    ] {
        let r = s.request("PUT", "/files/a.txt", &headers, b"abc");
        assert_eq!(r.status, 401, "{headers:?}: {}", r.text());
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"uploads\"")
        );
        let mut h = headers.clone();
        h.extend([
            TUS,
            ("Upload-Length", "3"),
            ("Upload-Metadata", "filename YS50eHQ="),
        ]);
        assert_eq!(s.request("POST", "/tus/", &h, b"").status, 401);
        let form = form("b", &[("f", Some("m.txt"), b"m")]);
        let r = s.request(
            "POST",
            "/files",
            &[("Content-Type", "multipart/form-data; boundary=b")],
            &form,
        );
        assert_eq!(r.status, 401);
    }
    assert!(stored(dir.path()).is_empty());
    // Reading needs none.
    assert_eq!(s.request("GET", "/files", &[], b"").status, 200);
    assert_eq!(s.request("GET", "/", &[], b"").status, 200);
    assert_eq!(s.request("OPTIONS", "/tus/", &[TUS], b"").status, 204);
    // With it: stored; tus create, PATCH and DELETE check it too.
    assert_eq!(
        s.request("PUT", "/files/a.txt", &[auth], b"abc").status,
        201
    );
    let r = s.request(
        "POST",
        "/tus/",
        &[
            auth,
            TUS,
            ("Upload-Length", "3"),
            ("Upload-Metadata", "filename Yi50eHQ="),
        ],
        b"",
    );
    assert_eq!(r.status, 201);
    let loc = r.header("location").unwrap();
    let up = loc[loc.find("/tus/").unwrap()..].to_string();
    let patch = |extra: &[(&str, &str)]| {
        let mut h = vec![
            TUS,
            ("Content-Type", "application/offset+octet-stream"),
            ("Upload-Offset", "0"),
        ];
        h.extend_from_slice(extra);
        s.request("PATCH", &up, &h, b"x")
    };
    assert_eq!(patch(&[]).status, 401);
    assert_eq!(patch(&[auth]).status, 204);
    assert_eq!(s.request("HEAD", &up, &[TUS], b"").status, 200);
    assert_eq!(s.request("DELETE", &up, &[TUS], b"").status, 401);
    assert_eq!(s.request("DELETE", &up, &[TUS, auth], b"").status, 204);
    // Bound to 127.0.0.1 with a token: no warning.
    assert!(!s.log().contains("warning:"), "{}", s.log());
}

#[test]
fn no_warning_on_a_loopback_address_without_a_token() {
    let dir = TempDir::new("loopback");
    let s = Server::start(dir.path(), &[]);
    assert_eq!(s.request("GET", "/files", &[], b"").status, 200);
    assert!(!s.log().contains("warning:"), "{}", s.log());
}

/// A non-loopback address without a token prints a warning. The address is
/// from TEST-NET-1 (RFC 5737), which this machine does not have: the bind
/// fails, so nothing ever listens beyond 127.0.0.1; the warning comes first.
#[test]
fn a_non_loopback_address_without_a_token_is_warned_about() {
    let dir = TempDir::new("exposed");
    let run = |extra: &[&str]| {
        std::process::Command::new(server_binary())
            .args(["serve", "--listen", "192.0.2.1:0", "--dir"])
            .arg(dir.path())
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the bind to 192.0.2.1 fails: {err}");
    assert!(
        err.contains("warning: listening on 192.0.2.1:0") && err.contains("without --token"),
        "{err}"
    );
    let out = run(&["--token", "t"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("warning:"), "{err}");
}
