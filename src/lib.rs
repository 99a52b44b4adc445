//! # intake
//!
//! A runtime-neutral buffered async stream reader (and its matching writer)
//! for smol, async-std and anything else that speaks
//! [`futures_io::AsyncRead`] / `AsyncWrite`, for tokio (the `tokio`
//! feature, `TokioIo`) and for completion I/O, io_uring through compio (the
//! `compio` feature, `CompioIo`: the kernel reads into the reader's buffer).
//!
//! [`StreamReader`] keeps **one contiguous buffer** per stream. The inner
//! reader writes straight into the memory where the bytes will live (the
//! buffer's free tail, or caller memory), frames leave as zero-copy
//! [`bytes::Bytes`] slices of it, and every byte read stays in the reader
//! until it is handed to the caller, so dropping a read future (a timeout,
//! `select`) loses nothing.
//!
//! ```
//! # futures_lite::future::block_on(async {
//! use intake::StreamReader;
//!
//! let wire: &[u8] = b"PING 4\r\nabcd";
//! let mut reader = StreamReader::new(wire);
//! let line = reader.read_until(b"\r\n").await?;        // zero-copy slice
//! assert_eq!(line.as_deref(), Some(&b"PING 4\r\n"[..]));
//! let body = reader.read_exactly(4).await?;             // zero-copy slice
//! assert_eq!(&body[..], b"abcd");
//! # Ok::<(), intake::Error>(())
//! # }).unwrap();
//! ```
//!
//! Frames: [`StreamReader::read_frame`] with a [`LengthPrefix`], or any
//! protocol through the [`frame::Decoder`] trait and the
//! [`frame::FramedRead`] stream.
//!
//! Every async method returns a named future that is
//! [`FusedFuture`](futures_core::future::FusedFuture), and
//! [`FramedRead`](frame::FramedRead) is a
//! [`FusedStream`](futures_core::stream::FusedStream), so `futures::select!`
//! takes them without `.fuse()`. Each method documents its cancel safety.
//!
//! # End of stream: one rule
//!
//! **An item read returns `Ok(None)` at a clean end of stream between
//! items**, so a protocol loop is `while let Some(item) = ...? {}` and
//! cannot spin on an empty result. Byte-count reads keep std's conventions.
//! An end of stream *inside* an item is always [`Error::UnexpectedEof`],
//! which hands over the bytes that did arrive.
//!
//! | read | clean end (nothing buffered) | end inside an item or count |
//! |---|---|---|
//! | [`read_until`](StreamReader::read_until), [`peek_until`](StreamReader::peek_until), [`skip_until`](StreamReader::skip_until), [`copy_until`](StreamReader::copy_until), [`read_frame`](StreamReader::read_frame), [`decode`](StreamReader::decode) | `Ok(None)` | `Err(UnexpectedEof)` |
//! | [`FramedRead`](frame::FramedRead) (a `Stream`) | `None` | `Some(Err(UnexpectedEof))`, then `None` |
//! | [`read_into`](StreamReader::read_into), `AsyncRead::poll_read` | `Ok(0)` | (no items) |
//! | [`read_exactly`](StreamReader::read_exactly), [`read_exact_into`](StreamReader::read_exact_into), [`read_exact_into_resumable`](StreamReader::read_exact_into_resumable), [`skip`](StreamReader::skip), [`copy_exact`](StreamReader::copy_exact) | `Err(UnexpectedEof)` | `Err(UnexpectedEof)` |
//! | [`peek(n)`](StreamReader::peek) (a look-ahead) | `Ok` with fewer than `n` bytes | `Ok` with fewer than `n` bytes |
//!
//! A bounded view ([`limited(n)`](StreamReader::limited)) ends its stream
//! `n` bytes ahead: every row above holds there as at the stream's own end
//! (an item cut by the view's end is `UnexpectedEof`), and nothing past it
//! is read, searched or handed out. A chunked body
//! ([`chunked()`](StreamReader::chunked)) ends its stream at its last
//! chunk in the same way; a stream that ends before that chunk is an
//! [`Error::Io`] of kind `UnexpectedEof`.
//!
//! The end of stream answers the call that met it. The next call that
//! needs bytes asks the inner reader again (a source may end and later
//! have more), so the rule above is per call, as with every `BufReader`.
//!
//! ```
//! # futures_lite::future::block_on(async {
//! let mut reader = intake::StreamReader::new(&b"one\ntwo\n"[..]);
//! let mut count = 0;
//! while let Some(_line) = reader.read_until(b"\n").await? {
//!     count += 1;
//! }
//! assert_eq!(count, 2);
//! # Ok::<(), intake::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Runtimes
//!
//! On **smol** (and async-std, and anything with `futures_io` traits), wrap
//! the socket as it is: `StreamReader::new(stream)`. smol's `TcpStream` is
//! `Clone`, so one clone reads and another writes.
//!
//! On **tokio**, enable the `tokio` feature and wrap tokio's I/O types in
//! `TokioIo` (no compat layer, no `futures` crate). The reader and the
//! writer then also implement tokio's `AsyncRead`, `AsyncBufRead` and
//! `AsyncWrite`, so they can be handed to tokio code, and
//! [`FramedRead`](frame::FramedRead) / [`FramedWrite`](frame::FramedWrite)
//! stay a `Stream` and a `Sink`. Both families run the same code: the
//! reader and the writer are written once against [`io::Source`] and
//! [`io::Destination`].
//!
//! ```toml
//! intake = { version = "0.1", features = ["tokio"] }
//! ```
//!
#![cfg_attr(feature = "tokio", doc = "```")]
#![cfg_attr(not(feature = "tokio"), doc = "```ignore")]
//! use intake::{LengthPrefix, StreamReader, StreamWriter, TokioIo};
//! use tokio::net::{TcpListener, TcpStream};
//!
//! /// Answers each length-prefixed request with its length, as a line.
//! async fn serve(sock: TcpStream) -> Result<(), intake::Error> {
//!     let (rd, wr) = sock.into_split();
//!     let mut reader = StreamReader::new(TokioIo::new(rd));
//!     let mut writer = StreamWriter::new(TokioIo::new(wr));
//!     while let Some(request) = reader.read_frame(&LengthPrefix::new(4)).await? {
//!         writer.send(format!("{}\n", request.len()).into()).await?;
//!         writer.flush().await?;
//!     }
//!     Ok(())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), intake::Error> {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! tokio::spawn(async move {
//!     while let Ok((sock, _)) = listener.accept().await {
//!         tokio::spawn(serve(sock));
//!     }
//! });
//! let (rd, wr) = TcpStream::connect(addr).await?.into_split();
//! let mut writer = StreamWriter::new(TokioIo::new(wr));
//! writer.send_frame(&LengthPrefix::new(4), "hello".into()).await?;
//! writer.flush().await?;
//! let mut reader = StreamReader::new(TokioIo::new(rd));
//! assert_eq!(reader.read_until(b"\n").await?.as_deref(), Some(&b"5\n"[..]));
//! # Ok(())
//! # }
//! ```
//!
//! The library depends on no runtime: only `futures-io`, `futures-core`,
//! `futures-sink`, `bytes`, `memchr` and `pin-project-lite` (and `libc` on
//! Linux), plus tokio's I/O traits (no runtime) with the `tokio` feature,
//! and compio's I/O and buffer traits (`compio-io`, `compio-buf`; no
//! runtime) with the `compio` feature.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]

// The layers, bottom-up. A module imports only from its own layer and the
// layers below it; `tests/layering.rs` holds the code to this list.

// Bottom: memory and I/O. `error` stands beside every layer.
mod buffer; // the read buffer, the write queue, delimiter search
mod error; // `Error`, importable from anywhere
mod future; // the scaffolding every named future shares
pub mod io; // every call into an inner reader or writer

// Protocols, pure: no I/O.
mod codec; // LengthPrefix, Delimited, Decoder, Encoder

// The reader and the writer, over `io` and `buffer`.
mod reader; // StreamReader and its read operations
mod writer; // StreamWriter and its write operations

// The Stream and Sink adapters over the reader and the writer.
mod framed; // FramedRead / FramedWrite

// The public face of `codec` and `framed`.
pub mod frame;

pub use bytes::Bytes;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
/// Counts mapped memory in tests and benchmarks (see the buffer docs).
#[doc(hidden)]
pub use buffer::observe_mappings;
pub use codec::LengthPrefix;
pub use error::Error;
#[cfg(feature = "compio")]
#[cfg_attr(docsrs, doc(cfg(feature = "compio")))]
pub use io::CompioIo;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use io::TokioIo;
pub use reader::{
    Chunked, CopyExact, CopyUntil, Decode, Limited, Peek, PeekUntil, PeekUntilAny, ReadExactInto,
    ReadExactIntoResumable, ReadExactly, ReadFrame, ReadInto, ReadUntil, ReadUntilAny,
    SeekRelative, Skip, SkipBody, SkipFrame, SkipUntil, StreamReader, DEFAULT_CAPACITY,
    DEFAULT_LIMIT, EXACT_ALLOC_MAX, MAX_CAPACITY,
};
pub use writer::{
    Flush, SendBytes, SendFrame, StreamWriter, WriteFrame, DEFAULT_COPY_THRESHOLD,
    DEFAULT_MAX_PENDING, DIRECT_WRITE, MAX_IOVECS,
};
