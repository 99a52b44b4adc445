//! 200 loopback connections each send a header claiming an 8 MiB frame,
//! 1000 bytes of it, then stall. Resident memory (RSS, from /proc) must grow
//! with the bytes that arrived, not with the 1.6 GB the headers claim.
//! One test in this binary, so nothing else moves the RSS meanwhile; it
//! runs on smol, async-std and (with the `compio` feature) compio.
mod common;

use std::time::Duration;

use common::{read_until_stalled, rss_bytes};
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::AsyncWriteExt;
use intake::{LengthPrefix, StreamReader};

const CONNECTIONS: usize = 200;
const CLAIM: u32 = 8 << 20;
const SENT: usize = 1000;

fn hostile_bytes() -> Vec<u8> {
    let mut v = CLAIM.to_be_bytes().to_vec();
    v.extend(std::iter::repeat(0xAB).take(SENT));
    v
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

/// Opens `CONNECTIONS` pairs with `pair`, has each client send a hostile
/// header and stall, reads every server side until it stalls, and returns
/// how much RSS grew, with the connections (kept alive by the caller).
async fn stall_all<S, F, Fut>(runtime: &str, mut pair: F) -> (usize, Vec<S>, Vec<StreamReader<S>>)
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (S, S)>,
{
    let (mut clients, mut readers) = (Vec::new(), Vec::new());
    for _ in 0..CONNECTIONS {
        let (mut c, s) = pair().await;
        c.write_all(&hostile_bytes()).await.unwrap();
        clients.push(c); // held open: the peer stalls, never closes
        readers.push(StreamReader::new(s));
    }
    let before = rss_bytes();
    for r in &mut readers {
        read_until_stalled(r, &LengthPrefix::new(4), 4 + SENT, Duration::from_millis(5)).await;
    }
    (report(runtime, before, rss_bytes()), clients, readers)
}

#[test]
#[cfg_attr(miri, ignore = "needs real sockets and /proc/self/statm")]
fn stalled_connections_rss_grows_with_arrived_bytes_not_claims() {
    // Budget: the normal 8 KiB buffer, growth steps, socket and task
    // overhead: 64 KiB per connection is generous, and still 128 times less
    // than the 8 MiB each header claims.
    let budget = CONNECTIONS * 64 * 1024;

    // Kept alive to the end, so the async-std run cannot reuse their memory.
    let (grew, _smol_clients, _smol_readers) = smol::block_on(stall_all("smol", common::smol_pair));
    assert!(grew < budget, "smol: RSS grew {grew} bytes");
    let (grew, _async_std_clients, _async_std_readers) =
        async_std::task::block_on(stall_all("async-std", common::async_std_pair));
    assert!(grew < budget, "async-std: RSS grew {grew} bytes");
    #[cfg(all(feature = "compio", not(miri)))]
    {
        let grew = stall_all_on_compio();
        assert!(grew < budget, "compio: RSS grew {grew} bytes");
    }
}

/// The same on compio's runtime (io_uring, or its polling driver): each
/// stalled reader has a read in flight, holding the memory it was lent, so
/// this also measures what a completion read keeps while it waits. Returns
/// how much RSS grew.
#[cfg(all(feature = "compio", not(miri)))]
fn stall_all_on_compio() -> usize {
    use compio::io::AsyncWriteExt as _;
    use intake::CompioIo;

    common::compio_runtime().block_on(async {
        let listener = compio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mut clients, mut readers) = (Vec::new(), Vec::new());
        for _ in 0..CONNECTIONS {
            let (c, s) =
                futures_lite::future::zip(compio::net::TcpStream::connect(addr), listener.accept())
                    .await;
            let mut c = c.unwrap();
            let compio::BufResult(sent, _) = c.write_all(hostile_bytes()).await;
            sent.unwrap();
            clients.push(c);
            readers.push(StreamReader::new(CompioIo::new(s.unwrap().0)));
        }
        let before = rss_bytes();
        let prefix = LengthPrefix::new(4);
        for r in &mut readers {
            while r.buffer().len() < 4 + SENT {
                // Cut by the timer: the read stays in flight in the reader.
                let cut =
                    compio::time::timeout(Duration::from_millis(5), r.read_frame(&prefix)).await;
                assert!(cut.is_err(), "the frame can never complete");
            }
        }
        let grew = report("compio", before, rss_bytes());
        drop((clients, readers));
        grew
    })
}
