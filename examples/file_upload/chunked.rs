//! `Transfer-Encoding: chunked` bodies (what `curl -T -` sends from a
//! pipe), read through the reader's `chunked` view: the framing is cut out
//! of the connection's one buffer as it arrives, so the body's data lies
//! there contiguous and goes to the file straight from it. The view refuses
//! bad framing (a bad size line, a bare LF, data longer than its size, a
//! size line or trailers over 16 KiB) with `InvalidData`: 400 here.

use futures_io::AsyncWrite;
use intake::{Error, StreamReader};

/// Why a chunked body stopped.
#[derive(Debug)]
pub enum ChunkError {
    /// Not valid chunked framing (400).
    Bad(&'static str),
    /// The connection (or the destination) failed.
    Io(Error),
}

impl From<Error> for ChunkError {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
                ChunkError::Bad("bad chunked framing")
            }
            e => ChunkError::Io(e),
        }
    }
}

/// Copies the decoded body to `dst` and returns its length; the reader is
/// then right after the body. `dst` is flushed once at the end, not after
/// every chunk.
pub async fn copy<S, W>(reader: &mut StreamReader<S>, dst: &mut W) -> Result<u64, ChunkError>
where
    S: intake::io::Source + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut body = reader.chunked();
    let mut total = 0u64;
    loop {
        // What is buffered of the body's data (a read if nothing is), then
        // that much to the file. (`copy_exact` leaves flushing to the
        // caller: a file's flush waits for its writing thread.)
        let n = futures_lite::AsyncBufReadExt::fill_buf(&mut body)
            .await
            .map_err(Error::Io)?
            .len();
        if n == 0 {
            break;
        }
        body.copy_exact(n as u64, dst).await?;
        total += n as u64;
    }
    futures_lite::AsyncWriteExt::flush(dst)
        .await
        .map_err(Error::Io)?;
    Ok(total)
}
