//! Zero-copy I/O in both directions.
//!
//! - Serving: a large in-memory media file (one `Bytes`) is served in
//!   chunks at arbitrary offsets: each chunk is a `Bytes::slice` (a pointer
//!   and a reference count, no copy) handed to `StreamWriter`, which sends it
//!   with vectored writes without copying it either.
//! - Receiving: a live stream is written into a preallocated cache at a
//!   given offset with `read_exact_into`: large reads go from the socket
//!   straight into the cache's memory, no detour through a buffer.
//!
//! ```text
//! cargo run --release --example media_cache
//! ```

use std::time::Instant;

use bytes::Bytes;
use futures_lite::future::zip;
use intake::{Error, StreamReader, StreamWriter};

const MEDIA: usize = 256 << 20;
const CHUNK: usize = 1 << 20;

/// (offset, length) requests at scattered positions.
fn requests() -> Vec<(usize, usize)> {
    (0..256)
        .map(|i| ((i * 7919 * 4096) % (MEDIA - CHUNK), CHUNK - (i % 3) * 4096))
        .collect()
}

fn main() -> Result<(), Error> {
    let media = Bytes::from((0..MEDIA).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let reqs = requests();
    let total: usize = reqs.iter().map(|r| r.1).sum();
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;

        // Serve: slices of one Bytes, no copy on our side.
        let server = async {
            let (sock, _) = listener.accept().await?;
            let mut w = StreamWriter::new(sock).with_max_pending(8 << 20);
            for &(offset, len) in &reqs {
                w.send(media.slice(offset..offset + len)).await?;
            }
            w.flush().await?;
            Ok::<_, Error>(())
        };

        // Receive: each chunk lands at its offset in a preallocated cache.
        let client = async {
            let sock = smol::net::TcpStream::connect(addr).await?;
            let mut r = StreamReader::with_capacity(64 * 1024, sock);
            let mut cache = vec![0u8; MEDIA];
            let start = Instant::now();
            for &(offset, len) in &reqs {
                r.read_exact_into(&mut cache[offset..offset + len]).await?;
            }
            let secs = start.elapsed().as_secs_f64();
            for &(offset, len) in &reqs {
                assert_eq!(
                    &cache[offset..offset + len],
                    &media[offset..offset + len],
                    "chunk at {offset}"
                );
            }
            Ok::<_, Error>((secs, r.buffer().len()))
        };
        let (served, received) = zip(server, client).await;
        served?;
        let (secs, left) = received?;
        println!(
            "served {} chunks ({} MiB) as zero-copy slices, cached at their offsets: {:.2} GB/s over loopback",
            reqs.len(),
            total >> 20,
            total as f64 / secs / 1e9
        );
        println!("every chunk verified in the cache; {left} bytes left buffered in the reader");
        Ok(())
    })
}
