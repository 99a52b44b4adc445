//! 16 loopback connections each send a header claiming a 64 MiB frame, 3 MiB
//! of it, then stall. A large frame read from a futures-io source lives in
//! an anonymous mapping that may be backed by 2 MiB huge pages, so resident
//! memory (RSS, from /proc) may run ahead of the bytes that arrived by at
//! most one huge page per frame: it must stay within what arrived plus
//! 2 MiB (plus the usual per-connection overhead) per connection, far from
//! the 1 GiB the headers claim.
//! One test in this binary, so nothing else moves the RSS meanwhile; it
//! runs on smol and async-std (the futures-io paths, which map large
//! frames).
mod common;

use std::time::Duration;

use common::{read_until_stalled, rss_bytes};
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::future::zip;
use futures_lite::AsyncWriteExt;
use intake::{LengthPrefix, StreamReader};

const CONNECTIONS: usize = 16;
const CLAIM: u32 = 64 << 20;
const SENT: usize = 3 << 20;

fn partial_frame() -> Vec<u8> {
    let mut v = CLAIM.to_be_bytes().to_vec();
    v.extend(std::iter::repeat(0xCD).take(SENT));
    v
}

/// Opens `CONNECTIONS` pairs with `pair`; each client sends its partial
/// frame while the server side reads it until it stalls. Returns how much
/// RSS grew, with the connections (kept alive by the caller).
async fn stall_all<S, F, Fut>(runtime: &str, mut pair: F) -> (usize, Vec<S>, Vec<StreamReader<S>>)
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (S, S)>,
{
    let wire = partial_frame();
    let prefix = LengthPrefix::new(4).max_frame_len(CLAIM as usize);
    let mut pairs = Vec::new();
    for _ in 0..CONNECTIONS {
        pairs.push(pair().await);
    }
    let before = rss_bytes();
    let (mut clients, mut readers) = (Vec::new(), Vec::new());
    for (mut c, s) in pairs {
        let mut r = StreamReader::new(s);
        let (sent, ()) = zip(
            c.write_all(&wire),
            read_until_stalled(&mut r, &prefix, 4 + SENT, Duration::from_millis(20)),
        )
        .await;
        sent.unwrap();
        clients.push(c); // held open: the peer stalls, never closes
        readers.push(r);
    }
    let grew = rss_bytes().saturating_sub(before);
    println!(
        "{runtime}: {CONNECTIONS} connections, {} MiB of a {} MiB frame each: RSS grew {} KiB ({} KiB per connection)",
        SENT >> 20,
        CLAIM >> 20,
        grew / 1024,
        grew / CONNECTIONS / 1024
    );
    (grew, clients, readers)
}

#[test]
#[cfg_attr(miri, ignore = "needs real sockets and /proc/self/statm")]
fn partial_large_frames_cost_what_arrived_plus_at_most_a_huge_page() {
    // What arrived, one 2 MiB huge page of rounding, and 256 KiB for the
    // socket, the task and the growth steps' transient memory.
    let budget = CONNECTIONS * (SENT + (2 << 20) + (256 << 10));

    let (grew, _smol_clients, _smol_readers) = smol::block_on(stall_all("smol", common::smol_pair));
    assert!(
        grew < budget,
        "smol: RSS grew {grew} bytes, budget {budget}"
    );
    let (grew, _async_std_clients, _async_std_readers) =
        async_std::task::block_on(stall_all("async-std", common::async_std_pair));
    assert!(
        grew < budget,
        "async-std: RSS grew {grew} bytes, budget {budget}"
    );
}
