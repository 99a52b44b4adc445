//! A newline-delimited JSON protocol over loopback TCP, with a max line
//! length.
//!
//! The server reads one JSON value per line with `read_until` (each line a
//! zero-copy slice of the reader's buffer), answers every line with one JSON
//! line, and survives bad input without dropping the connection:
//!
//! - invalid JSON gets `{"error": "invalid JSON: ..."}`;
//! - a line over the limit gets `{"error": "line longer than N bytes"}` and
//!   is skipped up to its newline, with memory bounded by the limit.
//!
//! ```text
//! cargo run --example json_lines
//! ```

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::future::zip;
use intake::{Error, StreamReader, StreamWriter};
use serde_json::{json, Value};

/// Longest accepted line, newline included.
const MAX_LINE: usize = 1024;

/// Skips the rest of an overlong line: discards what is buffered and reads
/// on until the newline. Memory stays bounded by the limit.
async fn skip_line<R: AsyncRead + Unpin>(r: &mut StreamReader<R>) -> Result<(), Error> {
    loop {
        // Discard through the newline if it is buffered, else all that is
        // buffered (later lines may already be in the buffer: keep them).
        if let Some(at) = r.buffer().iter().position(|&b| b == b'\n') {
            r.consume(at + 1);
            return Ok(());
        }
        let n = r.buffer().len();
        r.consume(n);
        if r.peek(1).await?.is_empty() {
            return Ok(()); // the stream ended inside the long line
        }
    }
}

/// Answers one request line.
fn answer(line: &[u8]) -> Value {
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(req)) => match req.get("op").and_then(Value::as_str) {
            Some("add") => {
                let sum: f64 = req
                    .get("args")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_f64).sum())
                    .unwrap_or(0.0);
                json!({ "ok": sum })
            }
            Some("echo") => json!({ "ok": req.get("value").cloned().unwrap_or(Value::Null) }),
            other => json!({ "error": format!("unknown op {other:?}") }),
        },
        Ok(other) => json!({ "error": format!("expected an object, got {other}") }),
        Err(e) => json!({ "error": format!("invalid JSON: {e}") }),
    }
}

/// Serves one connection until the client closes it.
async fn serve<S: AsyncRead + AsyncWrite + Unpin + Clone>(sock: S) -> Result<usize, Error> {
    let mut reader = StreamReader::new(sock.clone()).with_limit(MAX_LINE);
    let mut writer = StreamWriter::new(sock);
    let mut served = 0;
    loop {
        let reply = match reader.read_until(b"\n").await {
            Ok(None) => break, // clean end of stream
            Ok(Some(line)) => answer(&line),
            Err(Error::LimitExceeded { limit }) => {
                skip_line(&mut reader).await?;
                json!({ "error": format!("line longer than {limit} bytes") })
            }
            Err(Error::UnexpectedEof { partial, .. }) => answer(&partial), // last line, no newline
            Err(e) => return Err(e),
        };
        let mut out = serde_json::to_vec(&reply).expect("a Value serializes");
        out.push(b'\n');
        writer.send(Bytes::from(out)).await?;
        // Flush when no further request is already buffered (pipelining).
        if !reader.buffer().contains(&b'\n') {
            writer.flush().await?;
        }
        served += 1;
    }
    writer.flush().await?;
    Ok(served)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = async {
            let (sock, _) = listener.accept().await?;
            serve(sock).await
        };
        let client = async {
            let sock = smol::net::TcpStream::connect(addr).await?;
            let mut w = StreamWriter::new(sock.clone());
            let mut r = StreamReader::new(sock.clone()).with_limit(64 * 1024);
            let long = format!("{{\"op\":\"echo\",\"value\":\"{}\"}}\n", "x".repeat(5000));
            let requests: Vec<String> = vec![
                "{\"op\":\"add\",\"args\":[1,2,3.5]}\n".into(),
                "{\"op\":\"add\",\"args\":[1,2\n".into(), // broken JSON
                long,                                     // over the limit
                "[1,2,3]\n".into(),                       // not an object
                "{\"op\":\"echo\",\"value\":{\"still\":\"connected\"}}\n".into(),
            ];
            for req in &requests {
                w.send(Bytes::from(req.clone())).await?;
            }
            w.flush().await?;
            sock.shutdown(std::net::Shutdown::Write)?;
            for req in &requests {
                let reply = r.read_until(b"\n").await?.unwrap_or_default();
                let shown: String = req.trim_end().chars().take(40).collect();
                println!(
                    "{shown:<42} -> {}",
                    String::from_utf8_lossy(&reply).trim_end()
                );
            }
            Ok::<_, Error>(requests.len())
        };
        let (served, sent) = zip(server, client).await;
        let (served, sent) = (served?, sent?);
        assert_eq!(served, sent, "every line answered, connection kept");
        println!("{served} requests answered on one connection, bad ones included");
        Ok(())
    })
}
