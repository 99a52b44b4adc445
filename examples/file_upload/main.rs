//! A real file-upload receiver built on `StreamReader::copy_exact`.
//!
//! ```text
//! cargo run --release --example file_upload                 # self-contained 1 GiB demo
//! cargo run --release --example file_upload -- serve --listen 127.0.0.1:7070 --dir ./uploads
//! cargo run --release --example file_upload -- send FILE --to 127.0.0.1:7070
//! ```
//!
//! With no arguments it starts a receiver on 127.0.0.1, generates a 1 GiB
//! file, and runs the sender as a child process (so the receiver's peak
//! resident memory is its own). The receiver streams the upload to disk
//! through `copy_exact` with memory bounded by its 64 KiB buffer, checks a
//! SHA-256 end to end, and prints throughput and its peak RSS. The wire
//! protocol is documented in `upload.rs`.

// The library's MSRV is 1.75 (clippy's incompatible_msrv lint enforces it
// there); examples build with the dev-dependencies, which need newer Rust.
#![allow(clippy::incompatible_msrv)]

mod upload;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use upload::{generate_file, peak_rss, send_upload, serve_upload, Outcome, Storage};

const DEMO_SIZE: u64 = 1 << 30;
const DEFAULT_MAX_SIZE: u64 = 64 << 30;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn bar(multi: &MultiProgress, size: u64, label: &str) -> ProgressBar {
    let pb = multi.add(ProgressBar::new(size));
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix:>9} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    pb.set_prefix(label.to_string());
    pb
}

fn usage() -> ! {
    eprintln!(
        "usage:\n  file_upload                                   run the 1 GiB loopback demo\n  \
         file_upload serve --listen ADDR --dir DIR [--max-size BYTES]\n  \
         file_upload send FILE --to ADDR"
    );
    std::process::exit(2)
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None => demo(),
        Some("serve") => {
            let (Some(listen), Some(dir)) = (flag(&args, "--listen"), flag(&args, "--dir")) else {
                usage()
            };
            let max_size = flag(&args, "--max-size")
                .map_or(Ok(DEFAULT_MAX_SIZE), |s| s.parse())
                .unwrap_or_else(|_| usage());
            serve(&listen, PathBuf::from(dir), max_size)
        }
        Some("send") => {
            let (Some(file), Some(to)) = (args.get(1), flag(&args, "--to")) else {
                usage()
            };
            send(
                Path::new(file),
                &to,
                args.iter().any(|a| a == "--report-progress"),
            )
        }
        Some(_) => usage(),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// `serve`: accepts uploads until killed, several at once.
fn serve(listen: &str, dir: PathBuf, max_size: u64) -> Result<(), BoxError> {
    std::fs::create_dir_all(&dir)?;
    let storage = Storage {
        dir,
        max_size,
        quota: None,
    };
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind(listen).await?;
        eprintln!(
            "receiving into {} on {}",
            storage.dir.display(),
            listener.local_addr()?
        );
        loop {
            let (sock, peer) = listener.accept().await?;
            let storage = storage.clone();
            smol::spawn(async move {
                match serve_upload(sock, &storage, &mut |_| {}).await {
                    Ok(Outcome::Stored { name, size, sha256 }) => {
                        eprintln!("{peer}: stored {name} ({size} bytes, sha256 {sha256})")
                    }
                    Ok(Outcome::Refused(why)) => eprintln!("{peer}: refused: {why}"),
                    Ok(Outcome::Closed) => {}
                    Err(e) => eprintln!("{peer}: upload failed, nothing kept: {e}"),
                }
            })
            .detach();
        }
    })
}

/// `send`: uploads one file. With `--report-progress` it prints the bytes
/// sent as lines on stdout (for the demo's parent), otherwise a bar.
fn send(path: &Path, to: &str, report: bool) -> Result<(), BoxError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("the file needs a UTF-8 name")?
        .to_string();
    smol::block_on(async {
        let file = async_fs::File::open(path).await?;
        let size = file.metadata().await?.len();
        let sock = smol::net::TcpStream::connect(to).await?;
        let pb = if report {
            ProgressBar::hidden()
        } else {
            bar(&MultiProgress::new(), size, "sent")
        };
        let mut last = 0;
        let answer = send_upload(sock, &name, size, file, &mut |sent| {
            pb.set_position(sent);
            if report && (sent - last >= 8 << 20 || sent == size) {
                println!("{sent}");
                last = sent;
            }
        })
        .await?;
        pb.finish();
        if report {
            println!("answer {answer}");
        } else {
            eprintln!("server: {answer}");
        }
        if answer.starts_with("OK ") {
            Ok(())
        } else {
            Err(answer.into())
        }
    })
}

/// No arguments: the self-contained demo.
fn demo() -> Result<(), BoxError> {
    let work = std::env::temp_dir().join(format!("intake-upload-demo-{}", std::process::id()));
    let incoming = work.join("incoming");
    std::fs::create_dir_all(&incoming)?;
    let source = work.join("upload.bin");
    let result = smol::block_on(async {
        eprintln!("generating a {} MiB file...", DEMO_SIZE >> 20);
        generate_file(&source, DEMO_SIZE).await?;

        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let multi = MultiProgress::new();
        let sent_bar = bar(&multi, DEMO_SIZE, "sent");
        let recv_bar = bar(&multi, DEMO_SIZE, "received");

        // The sender runs as a child process: the receiver's peak RSS
        // below is then the receiver's alone.
        let mut child = Command::new(std::env::current_exe()?)
            .args([
                "send",
                source.to_str().ok_or("temp path is not UTF-8")?,
                "--to",
                &addr.to_string(),
                "--report-progress",
            ])
            .stdout(Stdio::piped())
            .spawn()?;
        let child_out = child.stdout.take().expect("piped");
        let sender_lines = std::thread::spawn(move || {
            let mut answer = String::new();
            for line in BufReader::new(child_out).lines().map_while(Result::ok) {
                match line.strip_prefix("answer ") {
                    Some(a) => answer = a.to_string(),
                    None => sent_bar.set_position(line.parse().unwrap_or(0)),
                }
            }
            sent_bar.finish();
            answer
        });

        let rss_before = peak_rss();
        let (sock, _) = listener.accept().await?;
        let start = Instant::now();
        let storage = Storage {
            dir: incoming.clone(),
            max_size: DEFAULT_MAX_SIZE,
            quota: None,
        };
        let outcome = serve_upload(sock, &storage, &mut |n| recv_bar.set_position(n)).await?;
        let secs = start.elapsed().as_secs_f64();
        recv_bar.finish();
        let status = child.wait()?;
        let answer = sender_lines.join().map_err(|_| "sender thread panicked")?;

        let Outcome::Stored { name, size, sha256 } = outcome else {
            return Err(format!("upload not stored: {outcome:?}").into());
        };
        if !status.success() || !answer.starts_with("OK ") {
            return Err(format!("sender failed: {answer}").into());
        }
        let stored = std::fs::metadata(incoming.join(&name))?.len();
        println!("stored {name}: {stored} bytes, SHA-256 {sha256} verified by both sides");
        println!(
            "throughput: {:.2} GB/s ({:.1} s for {} MiB over loopback TCP, to disk)",
            size as f64 / secs / 1e9,
            secs,
            size >> 20
        );
        if let (Some(before), Some(peak)) = (rss_before, peak_rss()) {
            println!(
                "receiver peak resident memory: {:.1} MiB (process total; {:.1} MiB before the upload), for a {} MiB upload",
                peak as f64 / (1 << 20) as f64,
                before as f64 / (1 << 20) as f64,
                size >> 20
            );
        }
        Ok::<_, BoxError>(())
    });
    let _ = std::fs::remove_dir_all(&work);
    std::thread::sleep(Duration::from_millis(10));
    result
}
