//! Reads lines from a loopback TCP socket with `StreamReader::read_until`.
//!
//! A writer task sends a million text lines over 127.0.0.1 in odd-sized
//! writes; the reader takes them back out as zero-copy `Bytes` slices of its
//! one buffer, checks every line, and prints the throughput.
//!
//! ```text
//! cargo run --release --example loopback_lines
//! ```

use std::time::Instant;

use futures_lite::future::zip;
use futures_lite::AsyncWriteExt;
use intake::StreamReader;

const LINES: usize = 1_000_000;

fn line(i: usize) -> String {
    format!("{i:>8} the quick brown fox jumps over the lazy dog\r\n")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;

        let writer = async move {
            let mut sock = smol::net::TcpStream::connect(addr).await?;
            let mut batch = Vec::with_capacity(64 * 1024);
            for i in 0..LINES {
                batch.extend_from_slice(line(i).as_bytes());
                if batch.len() >= 60_001 {
                    sock.write_all(&batch).await?;
                    batch.clear();
                }
            }
            sock.write_all(&batch).await?;
            sock.close().await?;
            Ok::<_, std::io::Error>(())
        };

        let reader = async {
            let (sock, peer) = listener.accept().await?;
            let mut reader = StreamReader::with_capacity(64 * 1024, sock).with_limit(1024);
            let start = Instant::now();
            let (mut count, mut bytes) = (0usize, 0usize);
            // Ok(None): a clean end of stream between lines.
            while let Some(l) = reader.read_until(b"\r\n").await? {
                assert_eq!(
                    &l[..],
                    line(count).as_bytes(),
                    "line {count} arrived intact"
                );
                bytes += l.len();
                count += 1;
            }
            let secs = start.elapsed().as_secs_f64();
            println!("read {count} lines ({bytes} bytes) from {peer} in {secs:.3} s");
            println!(
                "{:.1} M lines/s, {:.0} MB/s, every line checked",
                count as f64 / secs / 1e6,
                bytes as f64 / secs / 1e6
            );
            Ok::<_, intake::Error>(count)
        };

        let (w, r) = zip(writer, reader).await;
        w?;
        assert_eq!(r?, LINES);
        Ok(())
    })
}
