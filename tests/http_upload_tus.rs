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
    // Finished: HEAD still answers with the final offset (tus 1.0: "even
    // if ... the upload is already considered completed"); only the state
    // is kept, the data went to movie.bin.
    let r = s.request("HEAD", &up, &[TUS], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("upload-offset"), Some("1000000"));
    assert_eq!(r.header("upload-length"), Some("1000000"));
    let left: Vec<String> = std::fs::read_dir(dir.path().join(".upload/tus"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, [format!("{}.info", &up["/tus/".len()..])]);
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

#[test]
fn a_finished_upload_answers_head_until_terminated_and_across_a_restart() {
    let dir = TempDir::new("tus-finished");
    let mut s = Server::start(dir.path(), &[]);
    let data = content(50_000, 7);
    let up = tus_create(&s, "done.bin", data.len() as u64);
    let r = tus_patch(&s, &up, 0, &data);
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(r.header("upload-sha256"), Some(sha256_hex(&data).as_str()));
    let head = |s: &Server| s.request("HEAD", &up, &[TUS], b"");
    assert_eq!(head(&s).status, 200);
    assert_eq!(head(&s).header("upload-offset"), Some("50000"));
    // A client resuming a finished upload: a PATCH at the end with nothing
    // in it is fine, one anywhere else is told the offset.
    let r = tus_patch(&s, &up, 50_000, b"");
    assert_eq!((r.status, r.header("upload-offset")), (204, Some("50000")));
    let r = tus_patch(&s, &up, 10, b"x");
    assert_eq!((r.status, r.header("upload-offset")), (409, Some("50000")));
    // It survives a restart (start-up keeps a finished upload's state).
    s.kill();
    let s = Server::start(dir.path(), &[]);
    assert_eq!(head(&s).header("upload-offset"), Some("50000"));
    // Terminated: gone, and the stored file stays.
    assert_eq!(s.request("DELETE", &up, &[TUS], b"").status, 204);
    assert_eq!(head(&s).status, 404);
    assert_eq!(std::fs::read(dir.path().join("done.bin")).unwrap(), data);
}

/// Two connections PATCH the same upload at the same offset: the one whose
/// body is being received keeps going, the other gets 423 at once (before
/// sending its body), whichever connection was opened first; afterwards
/// the loser's offset is stale and gets 409. The bytes are exactly the
/// winner's.
#[test]
fn a_second_patch_racing_the_first_gets_423_then_409_in_both_orders() {
    let dir = TempDir::new("tus-race");
    let s = Server::start(dir.path(), &[]);
    for first_opened_wins in [true, false] {
        let name = format!("race-{first_opened_wins}.bin");
        let up = tus_create(&s, &name, 20);
        let (mut a, mut b) = (s.conn(), s.conn());
        let (winner, loser) = if first_opened_wins {
            (&mut a, &mut b)
        } else {
            (&mut b, &mut a)
        };
        // The winner's PATCH is mid-body: head and 5 of its 10 bytes sent.
        winner.send_patch_head(&up, 0, 10, &[]);
        winner.send(b"AAAAA");
        eventually("the first PATCH's bytes are stored", || {
            std::fs::metadata(dir.path().join(".upload/tus").join(&up["/tus/".len()..]))
                .is_ok_and(|m| m.len() == 5)
        });
        loser.send_patch_head(&up, 0, 10, &[]);
        let r = loser.response(false);
        assert_eq!(r.status, 423, "{}", r.text());
        winner.send(b"AAAAA");
        let r = winner.response(false);
        assert_eq!((r.status, r.header("upload-offset")), (204, Some("10")));
        // The loser tries again with what it believed the offset was.
        let r = tus_patch(&s, &up, 0, b"BBBBBBBBBB");
        assert_eq!((r.status, r.header("upload-offset")), (409, Some("10")));
        let r = tus_patch(&s, &up, 10, b"CCCCCCCCCC");
        assert_eq!(r.status, 204, "{}", r.text());
        assert_eq!(
            std::fs::read(dir.path().join(&name)).unwrap(),
            b"AAAAAAAAAACCCCCCCCCC"
        );
    }
}

#[test]
fn uploads_expire_after_the_configured_age_and_say_when() {
    let dir = TempDir::new("tus-expire");
    let s = Server::start(dir.path(), &["--tus-expiry", "1"]);
    let ext = s.request("OPTIONS", "/tus/", &[TUS], b"");
    assert!(ext
        .header("tus-extension")
        .unwrap()
        .split(',')
        .any(|e| e == "expiration"));
    // Upload-Expires on creation and on every PATCH of an unfinished upload.
    let meta = format!("filename {}", base64(b"slow.bin"));
    let r = s.request(
        "POST",
        "/tus/",
        &[TUS, ("Upload-Length", "10"), ("Upload-Metadata", &meta)],
        b"",
    );
    assert_eq!(r.status, 201);
    let expires = r
        .header("upload-expires")
        .expect("Upload-Expires")
        .to_string();
    assert!(
        expires.ends_with(" GMT") && expires.len() == 29,
        "{expires}"
    );
    let loc = r.header("location").unwrap();
    let slow = loc[loc.find("/tus/").unwrap()..].to_string();
    let r = tus_patch(&s, &slow, 0, b"12345");
    assert!(r.header("upload-expires").is_some());
    let done = tus_create(&s, "done.bin", 3);
    assert_eq!(tus_patch(&s, &done, 0, b"abc").status, 204);
    assert_eq!(tus_offset(&s, &done), 3);
    // Past the age: both are gone, their files too; the stored file stays.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(s.request("HEAD", &slow, &[TUS], b"").status, 404);
    assert_eq!(tus_patch(&s, &slow, 5, b"67890").status, 404);
    assert_eq!(s.request("HEAD", &done, &[TUS], b"").status, 404);
    eventually("the sweep removed every expired upload", || {
        std::fs::read_dir(dir.path().join(".upload/tus"))
            .unwrap()
            .count()
            == 0
    });
    assert_eq!(std::fs::read(dir.path().join("done.bin")).unwrap(), b"abc");
}

#[test]
fn an_upload_nobody_asks_about_is_swept_when_it_expires() {
    let dir = TempDir::new("tus-sweep");
    let s = Server::start(dir.path(), &["--tus-expiry", "0.5"]);
    tus_create(&s, "forgotten.bin", 100);
    assert_eq!(
        std::fs::read_dir(dir.path().join(".upload/tus"))
            .unwrap()
            .count(),
        2
    );
    eventually("the sweep removed the expired upload", || {
        std::fs::read_dir(dir.path().join(".upload/tus"))
            .unwrap()
            .count()
            == 0
    });
}

#[test]
fn malformed_base64_in_metadata_and_checksums_is_refused() {
    let dir = TempDir::new("tus-base64");
    let s = Server::start(dir.path(), &[]);
    // "a.txt" is YS50eHQ=; a '=' inside, bits left over, no padding, or a
    // stray character are all refused.
    for bad in ["YS=50eHQ=", "YS50eHR=", "YS50eHQ", "YS50eHQ=!"] {
        let meta = format!("filename {bad}");
        let r = s.request(
            "POST",
            "/tus/",
            &[TUS, ("Upload-Length", "1"), ("Upload-Metadata", &meta)],
            b"",
        );
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }
    let up = tus_create(&s, "a.txt", 1);
    let r = s.request(
        "PATCH",
        &up,
        &[
            TUS,
            ("Content-Type", "application/offset+octet-stream"),
            ("Upload-Offset", "0"),
            ("Upload-Checksum", "sha1 hvfkN/qlp/zhXR3cuerq6jd2Z7h="),
        ],
        b"a",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(tus_offset(&s, &up), 0);
}

/// The creation-defer-length extension: created with
/// `Upload-Defer-Length: 1`, the length comes with a later PATCH, once.
#[test]
fn a_deferred_length_is_set_by_a_later_patch() {
    let dir = TempDir::new("tus-defer");
    let s = Server::start(dir.path(), &["--max-size", "1M"]);
    let ext = s.request("OPTIONS", "/tus/", &[TUS], b"");
    assert!(ext
        .header("tus-extension")
        .unwrap()
        .split(',')
        .any(|e| e == "creation-defer-length"));
    let create = |extra: &[(&str, &str)]| {
        let meta = format!("filename {}", base64(b"later.bin"));
        let mut h = vec![TUS, ("Upload-Metadata", meta.as_str())];
        h.extend_from_slice(extra);
        s.request("POST", "/tus/", &h, b"")
    };
    assert_eq!(create(&[("Upload-Defer-Length", "2")]).status, 400);
    assert_eq!(
        create(&[("Upload-Defer-Length", "1"), ("Upload-Length", "3")]).status,
        400
    );
    let r = create(&[("Upload-Defer-Length", "1")]);
    assert_eq!(r.status, 201, "{}", r.text());
    let loc = r.header("location").unwrap();
    let up = loc[loc.find("/tus/").unwrap()..].to_string();
    let head = s.request("HEAD", &up, &[TUS], b"");
    assert_eq!(head.header("upload-defer-length"), Some("1"));
    assert_eq!(head.header("upload-length"), None);
    assert_eq!(head.header("upload-offset"), Some("0"));
    // Bytes before the length is known.
    assert_eq!(tus_patch(&s, &up, 0, b"01234").status, 204);
    let patch_with_length = |at: u64, len: &str, data: &[u8]| {
        s.request(
            "PATCH",
            &up,
            &[
                TUS,
                ("Content-Type", "application/offset+octet-stream"),
                ("Upload-Offset", &at.to_string()),
                ("Upload-Length", len),
            ],
            data,
        )
    };
    // A length below what arrived, or over --max-size, is refused.
    assert_eq!(patch_with_length(5, "3", b"").status, 400);
    assert_eq!(patch_with_length(5, "2000000", b"").status, 413);
    // Set with the next PATCH, which completes it.
    let r = patch_with_length(5, "10", b"56789");
    assert_eq!((r.status, r.header("upload-offset")), (204, Some("10")));
    assert_eq!(
        std::fs::read(dir.path().join("later.bin")).unwrap(),
        b"0123456789"
    );
    let head = s.request("HEAD", &up, &[TUS], b"");
    assert_eq!(head.header("upload-length"), Some("10"));
    assert_eq!(head.header("upload-defer-length"), None);
    // Once set, it cannot change.
    let up2 = {
        let r = s.request(
            "POST",
            "/tus/",
            &[
                TUS,
                ("Upload-Defer-Length", "1"),
                (
                    "Upload-Metadata",
                    &format!("filename {}", base64(b"two.bin")),
                ),
            ],
            b"",
        );
        let loc = r.header("location").unwrap();
        loc[loc.find("/tus/").unwrap()..].to_string()
    };
    let r = s.request(
        "PATCH",
        &up2,
        &[
            TUS,
            ("Content-Type", "application/offset+octet-stream"),
            ("Upload-Offset", "0"),
            ("Upload-Length", "4"),
        ],
        b"ab",
    );
    assert_eq!(r.status, 204);
    let r = s.request(
        "PATCH",
        &up2,
        &[
            TUS,
            ("Content-Type", "application/offset+octet-stream"),
            ("Upload-Offset", "2"),
            ("Upload-Length", "5"),
        ],
        b"cd",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(tus_offset(&s, &up2), 2);
}
