//! A length-prefixed echo server on tokio, with intake's reader and writer
//! over the two halves of a `tokio::net::TcpStream` (no compat layer), and
//! a client that checks every echo.
//!
//! ```text
//! cargo run --release --features tokio --example tokio_echo
//! ```

use bytes::Bytes;
use intake::{Error, LengthPrefix, StreamReader, StreamWriter, TokioIo};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

const PREFIX: LengthPrefix = LengthPrefix::new(4).max_frame_len(1 << 20);

/// Echoes frames until the client closes its side.
async fn echo(sock: TcpStream) -> Result<(), Error> {
    let (rd, wr) = sock.into_split();
    let mut reader = StreamReader::new(TokioIo::new(rd));
    let mut writer = StreamWriter::new(TokioIo::new(wr));
    while let Some(frame) = reader.read_frame(&PREFIX).await? {
        // The received slice goes back out as it is: no copy when large.
        writer.send_frame(&PREFIX, frame).await?;
        if reader.buffer().is_empty() {
            writer.flush().await?; // nothing more to batch right now
        }
    }
    writer.flush().await
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Err(e) = echo(sock).await {
                    eprintln!("echo: {e}");
                }
            });
        }
    });

    let (rd, wr) = TcpStream::connect(addr).await?.into_split();
    let mut reader = StreamReader::new(TokioIo::new(rd));
    let mut writer = StreamWriter::new(TokioIo::new(wr));
    let frames: Vec<Bytes> = (0..1000usize)
        .map(|i| Bytes::from(vec![i as u8; i * 97 % 70_000]))
        .collect();
    let send = async {
        for f in &frames {
            writer.send_frame(&PREFIX, f.clone()).await?;
        }
        // Flushes, then shuts the write half down (tokio's `AsyncWrite`).
        writer.shutdown().await
    };
    let receive = async {
        let mut bytes = 0;
        for f in &frames {
            let echoed = reader
                .read_frame(&PREFIX)
                .await?
                .expect("one echo per frame");
            assert_eq!(&echoed, f, "the echo differs");
            bytes += echoed.len();
        }
        Ok::<_, Error>(bytes)
    };
    let (sent, got) = tokio::join!(send, receive);
    sent?;
    println!(
        "{} frames, {} bytes echoed and checked on tokio",
        frames.len(),
        got?
    );
    Ok(())
}
