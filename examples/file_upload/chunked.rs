//! `Transfer-Encoding: chunked` bodies (what `curl -T -` sends from a
//! pipe), decoded with the reader's own operations: `read_until(b"\n")`
//! for each size line (bounded by the reader's limit; a line must end in
//! CRLF, a bare LF is refused at once), `httparse::parse_chunk_size` for
//! its size, `copy_exact` for the chunk data (straight to the file, bounded
//! memory), trailers skipped.

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
        ChunkError::Io(e)
    }
}

/// Copies the decoded body to `dst` and returns its length. `dst` is
/// flushed once at the end, not after every chunk.
pub async fn copy<S, W>(reader: &mut StreamReader<S>, dst: &mut W) -> Result<u64, ChunkError>
where
    S: intake::io::Source + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut total = 0u64;
    loop {
        let line = next_line(reader).await?;
        let size = match httparse::parse_chunk_size(&line) {
            Ok(httparse::Status::Complete((_, size))) => size,
            _ => return Err(ChunkError::Bad("bad chunk size line")),
        };
        if size == 0 {
            // Trailer fields, up to the empty line, are skipped.
            while next_line(reader).await? != b"\r\n"[..] {}
            futures_lite::AsyncWriteExt::flush(dst)
                .await
                .map_err(Error::Io)?;
            return Ok(total);
        }
        // `copy_exact` leaves flushing to the caller: a file's flush waits
        // for its writing thread, once at the end rather than per chunk
        // (curl sends 64 KiB or less).
        reader.copy_exact(size, dst).await?;
        total += size;
        if &reader.read_exactly(2).await?[..] != b"\r\n" {
            return Err(ChunkError::Bad("chunk data not followed by CRLF"));
        }
    }
}

async fn next_line<S: intake::io::Source + Unpin>(
    reader: &mut StreamReader<S>,
) -> Result<bytes::Bytes, ChunkError> {
    match reader.read_until(b"\n").await {
        Ok(Some(line)) if line.ends_with(b"\r\n") => Ok(line),
        Ok(Some(_)) => Err(ChunkError::Bad("chunk line ended by a bare LF")),
        Ok(None) => Err(ChunkError::Io(Error::UnexpectedEof {
            partial: bytes::Bytes::new(),
            expected: None,
        })),
        Err(Error::LimitExceeded { .. }) => Err(ChunkError::Bad("chunk line too long")),
        Err(e) => Err(ChunkError::Io(e)),
    }
}
