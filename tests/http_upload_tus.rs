//! tus 1.0 on the upload server (examples/file_upload) as a real process:
//! OPTIONS, creation, PATCH and HEAD, resume after a cut at every offset,
//! termination, checksums, refusals, and an upload that survives a killed
//! server.
#![cfg(not(miri))]

mod http_upload_kit;

use http_upload_kit::*;
use sha1::{Digest, Sha1};

#[test]
fn options_announces_version_extensions_and_max_size() {
    let dir = TempDir::new("tus-options");
    let s = Server::start(dir.path(), &["--max-size", "2G"]);
    let r = s.request("OPTIONS", "/tus/", &[], b"");
    assert_eq!(r.status, 204);
    assert_eq!(r.header("tus-version"), Some("1.0.0"));
    assert_eq!(r.header("tus-resumable"), Some("1.0.0"));
    let ext = r.header("tus-extension").unwrap();
    for e in ["creation", "termination", "checksum"] {
        assert!(ext.split(',').any(|x| x == e), "{ext}");
    }
    assert_eq!(r.header("tus-max-size"), Some("2147483648"));
    assert!(r.header("tus-checksum-algorithm").unwrap().contains("sha1"));
    // CORS: a browser may send the tus headers and read the answers'.
    assert!(r
        .header("access-control-allow-headers")
        .unwrap()
        .contains("Upload-Offset"));
    assert!(r
        .header("access-control-allow-methods")
        .unwrap()
        .contains("PATCH"));
    let expose = r.header("access-control-expose-headers").unwrap();
    for h in [
        "Upload-Offset",
        "Location",
        "Upload-Length",
        "Tus-Resumable",
    ] {
        assert!(expose.contains(h), "{expose}");
    }
}

#[test]
fn create_patch_head_and_finish() {
    let dir = TempDir::new("tus-basic");
    let s = Server::start(dir.path(), &[]);
    let data = content(1_000_000, 1);
    let up = tus_create(&s, "movie.bin", data.len() as u64);
    assert_eq!(tus_offset(&s, &up), 0);
    let r = s.request("HEAD", &up, &[TUS], b"");
    assert_eq!(r.header("upload-length"), Some("1000000"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(r
        .header("upload-metadata")
        .unwrap()
        .starts_with("filename "));
    let mut at = 0;
    for piece in data.chunks(300_000) {
        let r = tus_patch(&s, &up, at, piece);
        assert_eq!(r.status, 204, "{}", r.text());
        at += piece.len() as u64;
        assert_eq!(r.header("upload-offset"), Some(at.to_string().as_str()));
        if at < data.len() as u64 {
            assert_eq!(tus_offset(&s, &up), at);
            assert!(
                stored(dir.path()).is_empty(),
                "not published before the end"
            );
        }
    }
    assert_eq!(std::fs::read(dir.path().join("movie.bin")).unwrap(), data);
    assert_eq!(
        s.files(),
        serde_json::json!([{ "name": "movie.bin", "size": 1_000_000, "sha256": sha256_hex(&data) }])
    );
    // Finished: the upload's state is gone.
    assert_eq!(s.request("HEAD", &up, &[TUS], b"").status, 404);
    assert_eq!(
        std::fs::read_dir(dir.path().join(".upload/tus"))
            .unwrap()
            .count(),
        0
    );
    // Expect: 100-continue on PATCH, and chunked PATCH bodies.
    let up = tus_create(&s, "two.bin", 10);
    let mut c = s.conn();
    c.send_patch_head(&up, 0, 4, &[("Expect", "100-continue")]);
    assert_eq!(c.response(false).status, 100);
    c.send(b"0123");
    assert_eq!(c.response(false).status, 204);
    c.send_head(
        "PATCH",
        &up,
        &[
            TUS,
            ("Content-Type", "application/offset+octet-stream"),
            ("Upload-Offset", "4"),
            ("Transfer-Encoding", "chunked"),
        ],
    );
    c.send(b"6\r\n456789\r\n0\r\n\r\n");
    let r = c.response(false);
    assert_eq!(r.status, 204);
    assert_eq!(r.header("upload-offset"), Some("10"));
    assert_eq!(
        std::fs::read(dir.path().join("two.bin")).unwrap(),
        b"0123456789"
    );
    // A zero-length upload is complete when created.
    tus_create(&s, "nothing.txt", 0);
    assert_eq!(std::fs::read(dir.path().join("nothing.txt")).unwrap(), b"");
}

#[test]
fn refusals() {
    let dir = TempDir::new("tus-refusals");
    let s = Server::start(dir.path(), &["--max-size", "1M"]);
    let meta = |name: &str| format!("filename {}", base64(name.as_bytes()));
    let create = |headers: &[(&str, &str)]| s.request("POST", "/tus/", headers, b"").status;
    assert_eq!(
        create(&[("Upload-Length", "10"), ("Upload-Metadata", &meta("a"))]),
        412,
        "no Tus-Resumable"
    );
    assert_eq!(
        create(&[TUS, ("Upload-Metadata", &meta("a"))]),
        400,
        "no Upload-Length"
    );
    assert_eq!(create(&[TUS, ("Upload-Length", "10")]), 400, "no filename");
    assert_eq!(
        create(&[
            TUS,
            ("Upload-Length", "10"),
            ("Upload-Metadata", "filename !!!")
        ]),
        400
    );
    for bad in ["../x", "a/b", "..", ".x.part-1-1", "x\u{1}"] {
        assert_eq!(
            create(&[
                TUS,
                ("Upload-Length", "10"),
                ("Upload-Metadata", &meta(bad))
            ]),
            400,
            "{bad:?}"
        );
    }
    assert_eq!(
        create(&[
            TUS,
            ("Upload-Length", "1048577"),
            ("Upload-Metadata", &meta("big"))
        ]),
        413
    );
    std::fs::write(dir.path().join("taken"), b"x").unwrap();
    assert_eq!(
        create(&[
            TUS,
            ("Upload-Length", "10"),
            ("Upload-Metadata", &meta("taken"))
        ]),
        409
    );

    let up = tus_create(&s, "a.bin", 10);
    // Offset mismatch: 409, nothing written.
    let r = tus_patch(&s, &up, 3, b"abc");
    assert_eq!(r.status, 409);
    assert_eq!(tus_offset(&s, &up), 0);
    // Past the declared length: 413 before any byte is written.
    assert_eq!(tus_patch(&s, &up, 0, &[1u8; 11]).status, 413);
    assert_eq!(tus_offset(&s, &up), 0);
    // Wrong content type.
    let r = s.request(
        "PATCH",
        &up,
        &[TUS, ("Content-Type", "text/plain"), ("Upload-Offset", "0")],
        b"abc",
    );
    assert_eq!(r.status, 415);
    // Unknown upload.
    assert_eq!(
        tus_patch(&s, "/tus/00000000000000000000000000000000", 0, b"x").status,
        404
    );
    assert_eq!(s.request("HEAD", "/tus/nope", &[TUS], b"").status, 404);
    // Two uploads of one name: the second to finish gets 409, and the
    // first one's file stays.
    let (u1, u2) = (tus_create(&s, "same.bin", 3), tus_create(&s, "same.bin", 3));
    assert_eq!(tus_patch(&s, &u1, 0, b"one").status, 204);
    assert_eq!(tus_patch(&s, &u2, 0, b"two").status, 409);
    assert_eq!(std::fs::read(dir.path().join("same.bin")).unwrap(), b"one");
    assert_eq!(s.request("HEAD", &u2, &[TUS], b"").status, 404);
}

#[test]
fn checksums_are_checked_per_chunk() {
    let dir = TempDir::new("tus-checksum");
    let s = Server::start(dir.path(), &[]);
    let data = content(100_000, 2);
    let up = tus_create(&s, "sum.bin", data.len() as u64);
    let patch = |offset: u64, chunk: &[u8], sum: &str| {
        s.request(
            "PATCH",
            &up,
            &[
                TUS,
                ("Content-Type", "application/offset+octet-stream"),
                ("Upload-Offset", &offset.to_string()),
                ("Upload-Checksum", sum),
            ],
            chunk,
        )
    };
    let (first, rest) = data.split_at(40_000);
    let good = format!("sha1 {}", base64(&Sha1::digest(first)));
    let wrong = format!("sha1 {}", base64(&Sha1::digest(rest)));
    assert_eq!(patch(0, first, &wrong).status, 460);
    assert_eq!(
        tus_offset(&s, &up),
        0,
        "a chunk that fails its checksum is not kept"
    );
    assert_eq!(patch(0, first, "md5 AAAA").status, 400);
    assert_eq!(patch(0, first, &good).status, 204);
    assert_eq!(tus_offset(&s, &up), 40_000);
    let sha256 = format!("sha256 {}", base64(&sha2::Sha256::digest(rest)));
    assert_eq!(patch(40_000, rest, &sha256).status, 204);
    assert_eq!(std::fs::read(dir.path().join("sum.bin")).unwrap(), data);
}

#[test]
fn a_patch_cut_at_any_offset_resumes_from_what_arrived() {
    let dir = TempDir::new("tus-cut");
    let s = Server::start(dir.path(), &[]);
    let data = content(64, 3);
    for k in 0..data.len() {
        let name = format!("cut{k}.bin");
        let up = tus_create(&s, &name, data.len() as u64);
        let mut c = s.conn();
        c.send_patch_head(&up, 0, 64, &[]);
        c.send(&data[..k]);
        c.cut();
        assert_eq!(tus_offset(&s, &up), k as u64, "cut after {k} bytes");
        assert!(!dir.path().join(&name).exists());
        let r = tus_patch(&s, &up, k as u64, &data[k..]);
        assert_eq!(r.status, 204, "{}", r.text());
        assert_eq!(
            std::fs::read(dir.path().join(&name)).unwrap(),
            data,
            "resumed at {k}"
        );
        let listed = s.files();
        let entry = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name.as_str())
            .unwrap();
        assert_eq!(entry["sha256"], sha256_hex(&data));
    }
}

#[test]
fn a_stalled_patch_keeps_what_arrived() {
    let dir = TempDir::new("tus-stall");
    let s = Server::start(dir.path(), &["--idle-timeout", "1"]);
    let up = tus_create(&s, "slow.bin", 100);
    let mut c = s.conn();
    c.send_patch_head(&up, 0, 100, &[]);
    c.send(&[5u8; 30]);
    let r = c.response(false);
    assert_eq!(r.status, 408);
    assert_eq!(r.header("upload-offset"), Some("30"));
    assert_eq!(tus_offset(&s, &up), 30);
}

#[test]
fn termination_removes_the_upload() {
    let dir = TempDir::new("tus-delete");
    let s = Server::start(dir.path(), &[]);
    let up = tus_create(&s, "gone.bin", 100);
    assert_eq!(tus_patch(&s, &up, 0, &[1u8; 50]).status, 204);
    let r = s.request("DELETE", &up, &[TUS], b"");
    assert_eq!(r.status, 204);
    assert_eq!(s.request("HEAD", &up, &[TUS], b"").status, 404);
    assert_eq!(tus_patch(&s, &up, 50, &[1u8; 50]).status, 404);
    assert_eq!(s.request("DELETE", &up, &[TUS], b"").status, 404);
    assert_eq!(
        std::fs::read_dir(dir.path().join(".upload/tus"))
            .unwrap()
            .count(),
        0
    );
    assert!(stored(dir.path()).is_empty());
}

#[test]
fn an_upload_survives_a_killed_server() {
    let dir = TempDir::new("tus-restart");
    let data = content(3_000_000, 4);
    let mut s = Server::start(dir.path(), &[]);
    let up = tus_create(&s, "survivor.bin", data.len() as u64);
    assert_eq!(tus_patch(&s, &up, 0, &data[..1_000_000]).status, 204);
    // A second PATCH cut off midway, then the server dies (SIGKILL).
    let mut c = s.conn();
    c.send_patch_head(&up, 1_000_000, 2_000_000, &[]);
    c.send(&data[1_000_000..1_500_000]);
    c.cut();
    // Start-up removes strays but keeps the upload.
    let tus_dir = dir.path().join(".upload/tus");
    std::fs::write(
        tus_dir.join("0123456789abcdef0123456789abcdef"),
        b"orphan data",
    )
    .unwrap();
    std::fs::write(
        tus_dir.join("fedcba9876543210fedcba9876543210.info.tmp"),
        b"{",
    )
    .unwrap();
    s.kill();
    let s = Server::start(dir.path(), &[]);
    let mut left: Vec<String> = std::fs::read_dir(&tus_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    let id = &up["/tus/".len()..];
    assert_eq!(left, [id.to_string(), format!("{id}.info")]);
    let offset = tus_offset(&s, &up);
    assert_eq!(offset, 1_500_000);
    let r = tus_patch(&s, &up, offset, &data[offset as usize..]);
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(r.header("upload-sha256"), Some(sha256_hex(&data).as_str()));
    assert_eq!(
        std::fs::read(dir.path().join("survivor.bin")).unwrap(),
        data
    );
    assert_eq!(s.files()[0]["sha256"], sha256_hex(&data));
}

#[test]
fn a_server_killed_mid_patch_resumes_from_what_it_stored() {
    let dir = TempDir::new("tus-kill-mid");
    let data = content(4_000_000, 5);
    let mut s = Server::start(dir.path(), &[]);
    let up = tus_create(&s, "mid.bin", data.len() as u64);
    let mut c = s.conn();
    c.send_patch_head(&up, 0, 4_000_000, &[]);
    c.send(&data[..2_500_000]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    s.kill(); // mid-body, nothing synced by the PATCH's end
    drop(c);
    let s = Server::start(dir.path(), &[]);
    let offset = tus_offset(&s, &up);
    assert!(offset <= 2_500_000, "{offset}");
    let id = &up["/tus/".len()..];
    let kept = std::fs::read(dir.path().join(".upload/tus").join(id)).unwrap();
    assert_eq!(kept.len() as u64, offset);
    assert_eq!(
        kept[..],
        data[..offset as usize],
        "exactly the bytes that arrived"
    );
    let r = tus_patch(&s, &up, offset, &data[offset as usize..]);
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(std::fs::read(dir.path().join("mid.bin")).unwrap(), data);
}
