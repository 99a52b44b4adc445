//! A length-prefixed echo server on compio (io_uring where the kernel
//! allows it, else compio's polling driver), with intake's reader and
//! writer over two clones of one `compio::net::TcpStream`, and a client
//! that checks every echo.
//!
//! ```text
//! cargo run --release --features compio --example compio_echo
//! ```
//!
//! The reader lends the kernel its buffer's free tail for every read: the
//! bytes land where the frame will live, and each frame leaves as a
//! zero-copy `Bytes`.

use bytes::Bytes;
use compio::net::{TcpListener, TcpStream};
use futures_lite::AsyncWriteExt;
use intake::{CompioIo, Error, LengthPrefix, StreamReader, StreamWriter};

const PREFIX: LengthPrefix = LengthPrefix::new(4).max_frame_len(1 << 20);

/// Echoes frames until the client closes its side.
async fn echo(sock: TcpStream) -> Result<(), Error> {
    let mut reader = StreamReader::new(CompioIo::new(sock.clone()));
    let mut writer = StreamWriter::new(CompioIo::new(sock));
    while let Some(frame) = reader.read_frame(&PREFIX).await? {
        // The received slice goes back out as it is.
        writer.send_frame(&PREFIX, frame).await?;
        if reader.buffer().is_empty() {
            writer.flush().await?; // nothing more to batch right now
        }
    }
    writer.flush().await
}

#[compio::main]
async fn main() -> Result<(), Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    compio::runtime::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            compio::runtime::spawn(async move {
                if let Err(e) = echo(sock).await {
                    eprintln!("echo: {e}");
                }
            })
            .detach();
        }
    })
    .detach();

    let sock = TcpStream::connect(addr).await?;
    let mut reader = StreamReader::new(CompioIo::new(sock.clone()));
    let mut writer = StreamWriter::new(CompioIo::new(sock));
    let frames: Vec<Bytes> = (0..1000usize)
        .map(|i| Bytes::from(vec![i as u8; i * 97 % 70_000]))
        .collect();
    let send = async {
        for f in &frames {
            writer.send_frame(&PREFIX, f.clone()).await?;
        }
        // Flushes, then shuts the write half down.
        writer.close().await
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
    let (sent, got) = futures_lite::future::zip(send, receive).await;
    sent?;
    println!(
        "{} frames, {} bytes echoed and checked on compio ({:?} driver)",
        frames.len(),
        got?,
        compio::runtime::Runtime::with_current(|r| r.driver_type()),
    );
    Ok(())
}
