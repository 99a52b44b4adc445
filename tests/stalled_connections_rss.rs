//! 200 loopback connections each send a header claiming an 8 MiB frame,
//! 1000 bytes of it, then stall. Resident memory (RSS, from /proc) must grow
//! with the bytes that arrived, not with the 1.6 GB the headers claim.
//! One test in this binary, so nothing else moves the RSS meanwhile.
mod common;

use std::time::Duration;

use futures_io::AsyncRead;
use futures_lite::future::{or, zip};
use futures_lite::AsyncWriteExt;
use intake::{LengthPrefix, StreamReader};

const CONNECTIONS: usize = 200;
const CLAIM: u32 = 8 << 20;
const SENT: usize = 1000;

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn hostile_bytes() -> Vec<u8> {
    let mut v = CLAIM.to_be_bytes().to_vec();
    v.extend(std::iter::repeat(0xAB).take(SENT));
    v
}

/// Reads until the connection stalls: each `read_frame` is cancelled by a
/// short timer (cancel-safe: the bytes stay buffered) until all arrived.
async fn read_until_stalled<S: AsyncRead + Unpin>(r: &mut StreamReader<S>) {
    let prefix = LengthPrefix::new(4);
    while r.buffer().len() < 4 + SENT {
        let timed_out = or(
            async { r.read_frame(&prefix).await.map(|_| false) },
            async {
                smol::Timer::after(Duration::from_millis(5)).await;
                Ok(true)
            },
        )
        .await
        .expect("no error while stalled");
        assert!(timed_out, "the frame can never complete");
    }
}

fn report(runtime: &str, before: usize, after: usize) -> usize {
    let grew = after.saturating_sub(before);
    println!(
        "{runtime}: {CONNECTIONS} stalled connections claiming {} MiB each: RSS grew {} KiB ({} bytes per connection)",
        CLAIM >> 20,
        grew / 1024,
        grew / CONNECTIONS
    );
    grew
}

#[test]
fn stalled_connections_rss_grows_with_arrived_bytes_not_claims() {
    // Budget: the normal 8 KiB buffer, growth steps, socket and task
    // overhead: 64 KiB per connection is generous, and still 128 times less
    // than the 8 MiB each header claims.
    let budget = CONNECTIONS * 64 * 1024;

    // Kept alive to the end, so the async-std run cannot reuse their memory.
    let _smol_connections = smol::block_on(async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mut clients, mut readers) = (Vec::new(), Vec::new());
        for _ in 0..CONNECTIONS {
            // Accept as we connect: the listen backlog is smaller than 200.
            let (c, s) = zip(smol::net::TcpStream::connect(addr), listener.accept()).await;
            let mut c = c.unwrap();
            c.write_all(&hostile_bytes()).await.unwrap();
            clients.push(c); // held open: the peer stalls, never closes
            readers.push(StreamReader::new(s.unwrap().0));
        }
        let before = rss_bytes();
        for r in &mut readers {
            read_until_stalled(r).await;
        }
        let grew = report("smol", before, rss_bytes());
        assert!(grew < budget, "RSS grew {grew} bytes");
        (clients, readers)
    });

    async_std::task::block_on(async {
        let listener = async_std::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (mut clients, mut readers) = (Vec::new(), Vec::new());
        for _ in 0..CONNECTIONS {
            // Accept as we connect: the listen backlog is smaller than 200.
            let (c, s) = zip(async_std::net::TcpStream::connect(addr), listener.accept()).await;
            let mut c = c.unwrap();
            c.write_all(&hostile_bytes()).await.unwrap();
            clients.push(c); // held open: the peer stalls, never closes
            readers.push(StreamReader::new(s.unwrap().0));
        }
        let before = rss_bytes();
        for r in &mut readers {
            read_until_stalled(r).await;
        }
        let grew = report("async-std", before, rss_bytes());
        assert!(grew < budget, "RSS grew {grew} bytes");
    });
}
