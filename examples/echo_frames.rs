//! A length-prefixed echo server and many concurrent clients, on smol
//! (`tokio_echo` is the same server on tokio).
//!
//! Each client sends frames of varying sizes (`LengthPrefix::new(4)`) with
//! `StreamWriter::send_frame` (header and payload in one vectored write) and
//! reads the echoes with `read_frame`; the server echoes each frame's
//! payload back as the same zero-copy `Bytes` it received.
//!
//! ```text
//! cargo run --release --example echo_frames
//! ```

use std::time::Instant;

use bytes::Bytes;
use intake::{Error, LengthPrefix, StreamReader, StreamWriter};
use smol::net::{TcpListener, TcpStream};

const PREFIX: LengthPrefix = LengthPrefix::new(4).max_frame_len(1 << 20);
const CLIENTS: usize = 64;
const FRAMES_PER_CLIENT: usize = 500;

/// Echoes frames until the client closes its side.
async fn echo(sock: TcpStream) -> Result<u64, Error> {
    let mut reader = StreamReader::new(sock.clone());
    let mut writer = StreamWriter::new(sock);
    let mut echoed = 0;
    while let Some(frame) = reader.read_frame(&PREFIX).await? {
        echoed += frame.len() as u64;
        // The received slice goes back out as it is: no copy when large.
        writer.send_frame(&PREFIX, frame).await?;
        if reader.buffer().len() < 4 {
            writer.flush().await?; // nothing more to batch right now
        }
    }
    writer.flush().await?;
    Ok(echoed)
}

async fn client(addr: std::net::SocketAddr, id: usize) -> Result<u64, Error> {
    let sock = TcpStream::connect(addr).await?;
    let mut reader = StreamReader::new(sock.clone());
    let mut writer = StreamWriter::new(sock.clone());
    let frames: Vec<Bytes> = (0..FRAMES_PER_CLIENT)
        .map(|i| Bytes::from(vec![(id + i) as u8; (i * 131 + id) % 20_000]))
        .collect();
    let send = async {
        for f in &frames {
            writer.send_frame(&PREFIX, f.clone()).await?;
        }
        writer.flush().await?;
        sock.shutdown(std::net::Shutdown::Write)?;
        Ok::<_, Error>(())
    };
    let receive = async {
        let mut bytes = 0;
        for f in &frames {
            let echoed = reader
                .read_frame(&PREFIX)
                .await?
                .expect("one echo per frame");
            assert_eq!(&echoed, f, "client {id}: echo differs");
            bytes += echoed.len() as u64;
        }
        Ok::<_, Error>(bytes)
    };
    let (sent, got) = futures_lite::future::zip(send, receive).await;
    sent?;
    got
}

fn main() -> Result<(), Error> {
    smol::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        smol::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    break;
                };
                smol::spawn(async move {
                    if let Err(e) = echo(sock).await {
                        eprintln!("echo: {e}");
                    }
                })
                .detach();
            }
        })
        .detach();
        let start = Instant::now();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| smol::spawn(client(addr, id)))
            .collect();
        let mut total = 0;
        for c in clients {
            total += c.await?;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{CLIENTS} clients x {FRAMES_PER_CLIENT} frames echoed and checked: {:.1} MB round trip in {secs:.2} s ({:.0} MB/s)",
            total as f64 / 1e6,
            total as f64 / secs / 1e6
        );
        Ok(())
    })
}
