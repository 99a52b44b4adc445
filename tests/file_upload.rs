//! The file-upload example's code (examples/file_upload/upload.rs), driven
//! over loopback TCP on smol and async-std: good uploads, bad names, sizes
//! over the limit, a client that dies midway, a full disk, a bad checksum,
//! several uploads at once.
#![allow(clippy::incompatible_msrv)]

#[path = "../examples/file_upload/upload.rs"]
mod upload;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::future::zip;
use futures_lite::AsyncWriteExt;
use intake::{StreamReader, StreamWriter};
use upload::{send_upload, serve_upload, Outcome, Storage, FRAME};

trait Sock: AsyncRead + AsyncWrite + Unpin + Clone + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Clone + Send + 'static> Sock for T {}

fn temp_dir(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!(
        "intake-upload-test-{}-{tag}-{n}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// Runs `case` with a connected (client, server) pair on smol, then on
/// async-std.
macro_rules! on_both {
    ($case:ident) => {{
        smol::block_on(async {
            let l = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let (c, s) = zip(
                smol::net::TcpStream::connect(l.local_addr().unwrap()),
                l.accept(),
            )
            .await;
            $case(c.unwrap(), s.unwrap().0).await;
        });
        async_std::task::block_on(async {
            let l = async_std::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap();
            let (c, s) = zip(
                async_std::net::TcpStream::connect(l.local_addr().unwrap()),
                l.accept(),
            )
            .await;
            $case(c.unwrap(), s.unwrap().0).await;
        });
    }};
}

fn storage(dir: &Path) -> Storage {
    Storage {
        dir: dir.to_path_buf(),
        max_size: 1 << 20,
        quota: None,
    }
}

async fn good_upload<S: Sock>(client: S, server: S) {
    let dir = temp_dir("good");
    let data = content(300_000);
    let st = storage(&dir);
    let (outcome, answer) = zip(
        serve_upload(server, &st, &mut |_| {}),
        send_upload(
            client,
            "report.bin",
            data.len() as u64,
            &data[..],
            &mut |_| {},
        ),
    )
    .await;
    let answer = answer.unwrap();
    match outcome.unwrap() {
        Outcome::Stored { name, size, sha256 } => {
            assert_eq!((name.as_str(), size), ("report.bin", 300_000));
            assert_eq!(answer, format!("OK {sha256}"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(dir.join("report.bin")).unwrap(), data);
    assert_eq!(files_in(&dir), ["report.bin"], "no temporary file left");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "needs a real socket (loopback TCP) and files")]
fn upload_is_stored_and_verified() {
    on_both!(good_upload);
}

async fn bad_names<S: Sock>(client: S, server: S) {
    let dir = temp_dir("names");
    let st = storage(&dir);
    // A refusal ends the connection, so one bad name goes over the wire and
    // the others go through the same `check_name` the server calls.
    let (outcome, answer) = zip(
        serve_upload(server, &st, &mut |_| {}),
        send_upload(client, "../etc/passwd", 3, &b"abc"[..], &mut |_| {}),
    )
    .await;
    assert!(matches!(outcome.unwrap(), Outcome::Refused(_)));
    assert!(
        answer.unwrap().starts_with("ERR "),
        "refusal reaches the client"
    );
    for bad in [
        &b".."[..],
        b"a/b",
        b"a\\b",
        b"nul\0",
        b"",
        &[b'x'; 256],
        b"\xff\xfe",
    ] {
        assert!(upload::check_name(bad).is_err(), "{bad:?}");
    }
    assert!(upload::check_name(b"fine.name-1").is_ok());
    assert!(files_in(&dir).is_empty(), "nothing written");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "needs a real socket (loopback TCP) and files")]
fn bad_names_are_refused_before_any_byte_is_written() {
    on_both!(bad_names);
}

async fn too_large<S: Sock>(client: S, server: S) {
    let dir = temp_dir("large");
    let st = storage(&dir);
    // The client claims 2 MiB (limit 1 MiB) and would send it: refused at
    // the header, before any payload.
    let data = content(10);
    let (outcome, answer) = zip(
        serve_upload(server, &st, &mut |_| {}),
        send_upload(client, "big.bin", 2 << 20, &data[..], &mut |_| {}),
    )
    .await;
    match outcome.unwrap() {
        Outcome::Refused(why) => assert!(why.contains("exceeds the limit"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(answer.unwrap().contains("exceeds the limit"));
    assert!(files_in(&dir).is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "needs a real socket (loopback TCP) and files")]
fn size_over_the_limit_is_refused_before_any_byte_is_written() {
    on_both!(too_large);
}

async fn dies_midway<S: Sock>(client: S, server: S) {
    let dir = temp_dir("dies");
    let st = storage(&dir);
    let client_side = async move {
        let mut w = StreamWriter::new(client.clone());
        let mut r = StreamReader::new(client.clone());
        let mut header = 100_000u64.to_be_bytes().to_vec();
        header.extend_from_slice(b"half.bin");
        w.send_frame(&FRAME, Bytes::from(header)).await.unwrap();
        w.flush().await.unwrap();
        assert_eq!(&r.read_frame(&FRAME).await.unwrap().unwrap()[..], b"READY");
        w.send(Bytes::from(content(40_000))).await.unwrap();
        w.flush().await.unwrap();
        let mut c = client;
        c.close().await.unwrap(); // the client goes away mid-upload
    };
    let (outcome, ()) = zip(serve_upload(server, &st, &mut |_| {}), client_side).await;
    assert!(outcome.is_err(), "the upload failed: {outcome:?}");
    assert!(
        files_in(&dir).is_empty(),
        "no partial file left behind: {:?}",
        files_in(&dir)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "needs a real socket (loopback TCP) and files")]
fn connection_dying_midway_leaves_no_partial_file() {
    on_both!(dies_midway);
}

async fn disk_full<S: Sock>(client: S, server: S) {
    let dir = temp_dir("full");
    let st = Storage {
        quota: Some(Arc::new(AtomicU64::new(50_000))),
        ..storage(&dir)
    };
    let data = content(200_000);
    let (outcome, answer) = zip(
        serve_upload(server, &st, &mut |_| {}),
        send_upload(
            client,
            "full.bin",
            data.len() as u64,
            &data[..],
            &mut |_| {},
        ),
    )
    .await;
    match outcome.unwrap() {
        Outcome::Refused(why) => assert!(why.starts_with("disk full"), "{why}"),
        other => panic!("{other:?}"),
    }
    // The client may see the refusal or a reset, depending on timing, but
    // never a success.
    if let Ok(answer) = answer {
        assert!(answer.starts_with("ERR disk full"), "{answer}");
    }
    assert!(files_in(&dir).is_empty(), "the partial file was removed");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "needs a real socket (loopback TCP) and files")]
fn full_disk_is_reported_and_nothing_kept() {
    on_both!(disk_full);
}

async fn bad_checksum<S: Sock>(client: S, server: S) {
    let dir = temp_dir("sum");
    let st = storage(&dir);
    let client_side = async move {
        let mut w = StreamWriter::new(client.clone());
        let mut r = StreamReader::new(client);
        let mut header = 1000u64.to_be_bytes().to_vec();
        header.extend_from_slice(b"x.bin");
        w.send_frame(&FRAME, Bytes::from(header)).await.unwrap();
        w.flush().await.unwrap();
        assert_eq!(&r.read_frame(&FRAME).await.unwrap().unwrap()[..], b"READY");
        w.send(Bytes::from(content(1000))).await.unwrap();
        w.send(Bytes::from(vec![0u8; 32])).await.unwrap(); // wrong SHA-256
        w.flush().await.unwrap();
        r.read_frame(&FRAME).await.unwrap().unwrap()
    };
    let (outcome, answer) = zip(serve_upload(server, &st, &mut |_| {}), client_side).await;
    assert_eq!(
        outcome.unwrap(),
        Outcome::Refused("checksum mismatch".into())
    );
    assert_eq!(&answer[..], b"ERR checksum mismatch");
    assert!(files_in(&dir).is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "needs a real socket (loopback TCP) and files")]
fn checksum_mismatch_is_refused_and_nothing_kept() {
    on_both!(bad_checksum);
}

#[test]
#[cfg_attr(miri, ignore = "needs a real socket (loopback TCP) and files")]
fn several_uploads_at_once() {
    smol::block_on(async {
        let dir = temp_dir("many");
        let st = storage(&dir);
        let l = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = async {
            let mut tasks = Vec::new();
            for _ in 0..8 {
                let (s, _) = l.accept().await.unwrap();
                let st = st.clone();
                tasks.push(smol::spawn(async move {
                    serve_upload(s, &st, &mut |_| {}).await.unwrap()
                }));
            }
            let mut stored = 0;
            for t in tasks {
                stored += matches!(t.await, Outcome::Stored { .. }) as usize;
            }
            stored
        };
        let clients = async {
            let mut tasks = Vec::new();
            for i in 0..8usize {
                tasks.push(smol::spawn(async move {
                    let c = smol::net::TcpStream::connect(addr).await.unwrap();
                    let data = content(50_000 + i);
                    send_upload(
                        c,
                        &format!("f{i}.bin"),
                        data.len() as u64,
                        &data[..],
                        &mut |_| {},
                    )
                    .await
                    .unwrap()
                }));
            }
            for t in tasks {
                assert!(t.await.starts_with("OK "));
            }
        };
        let (stored, ()) = zip(server, clients).await;
        assert_eq!(stored, 8);
        for i in 0..8usize {
            assert_eq!(
                std::fs::read(dir.join(format!("f{i}.bin"))).unwrap(),
                content(50_000 + i)
            );
        }
        std::fs::remove_dir_all(dir).unwrap();
    });
}
