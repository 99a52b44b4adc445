//! Memory and load on the upload server (examples/file_upload), measured on
//! the real process: peak RSS for a 1 GiB upload on each body path (PUT,
//! multipart with a length and chunked, tus) against its idle RSS, and 100 concurrent 10 MiB uploads
//! all stored and verified. The numbers are printed (`--nocapture`) and
//! published in the README's upload section.
#![cfg(not(miri))]

mod http_upload_kit;

use std::time::Instant;

use http_upload_kit::bodies::*;
use http_upload_kit::*;

/// The budget over idle RSS, whatever the body's size.
const BUDGET: u64 = 16 * MIB;

#[test]
fn a_1_gib_upload_on_each_path_stays_within_16_mib_of_idle_rss() {
    let dir = TempDir::new("rss");
    let s = Server::start(dir.path(), &[]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let (idle, _) = s.rss();
    println!("server idle RSS: {:.1} MiB", idle as f64 / MIB as f64);
    let gib = 1u64 << 30;
    type Path = fn(&Server, &str, u64, u64) -> String;
    let paths: [(&str, Path); 4] = [
        ("PUT (Content-Length)", |s, n, l, seed| put(s, n, l, seed)),
        ("POST multipart/form-data", |s, n, l, seed| {
            multipart(s, n, l, seed)
        }),
        ("POST multipart/form-data, chunked", |s, n, l, seed| {
            multipart_chunked(s, n, l, seed)
        }),
        ("tus (4 PATCHes)", |s, n, l, seed| tus(s, n, l, seed, 4)),
    ];
    let mut report = Vec::new();
    for (i, (label, upload)) in paths.iter().enumerate() {
        s.reset_peak();
        let name = format!("big{i}.bin");
        let start = Instant::now();
        let sha = upload(&s, &name, gib, i as u64 + 1);
        let secs = start.elapsed().as_secs_f64();
        let (_, peak) = s.rss();
        let listed = s.files();
        let entry = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name.as_str())
            .unwrap();
        assert_eq!(entry["size"], gib);
        assert_eq!(entry["sha256"], sha.as_str());
        assert_eq!(hash_file(&dir.path().join(&name)), sha, "the bytes on disk");
        std::fs::remove_file(dir.path().join(&name)).unwrap(); // 1 GiB less on disk
        let line = format!(
            "{label}: 1 GiB in {secs:.1} s ({:.2} GB/s), server peak RSS {:.1} MiB, {:+.1} MiB over idle",
            gib as f64 / secs / 1e9,
            peak as f64 / MIB as f64,
            (peak as f64 - idle as f64) / MIB as f64
        );
        println!("{line}");
        report.push((line, peak));
    }
    for (line, peak) in report {
        assert!(peak <= idle + BUDGET, "over budget: {line}");
    }
}

#[test]
fn a_hundred_concurrent_10_mib_uploads_are_all_stored_and_verified() {
    let dir = TempDir::new("hundred");
    let s = Server::start(dir.path(), &[]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let (idle, _) = s.rss();
    let len = 10 * MIB;
    let start = Instant::now();
    // A third each on PUT, multipart and tus (two PATCHes).
    let shas: Vec<(String, String)> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..100u64)
            .map(|i| {
                let s = &s;
                sc.spawn(move || {
                    let name = format!("f{i:03}.bin");
                    let sha = match i % 3 {
                        0 => put(s, &name, len, 1000 + i),
                        1 => multipart(s, &name, len, 1000 + i),
                        _ => tus(s, &name, len, 1000 + i, 2),
                    };
                    (name, sha)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let secs = start.elapsed().as_secs_f64();
    let (_, peak) = s.rss();
    let listed = s.files();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 100);
    for (name, sha) in &shas {
        let e = listed.iter().find(|e| e["name"] == name.as_str()).unwrap();
        assert_eq!(e["size"], len);
        assert_eq!(e["sha256"], sha.as_str(), "{name}");
        assert_eq!(&hash_file(&dir.path().join(name)), sha, "{name} on disk");
    }
    assert!(temps(dir.path()).is_empty());
    println!(
        "100 concurrent 10 MiB uploads (PUT, multipart, tus): all stored and verified in {secs:.1} s; \
         server peak RSS {:.1} MiB ({:+.1} MiB over idle {:.1} MiB)",
        peak as f64 / MIB as f64,
        (peak as f64 - idle as f64) / MIB as f64,
        idle as f64 / MIB as f64
    );
}
