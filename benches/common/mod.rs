//! Workloads and candidates shared by every bench file: the criterion
//! benches time them, `memory.rs` measures their heap. Each candidate is
//! written the way its users would write it, and returns a [`Check`] of what
//! it produced, compared with the expected one so none can skip work.
#![allow(dead_code)]

#[path = "../../tests/common/pairs.rs"]
mod pairs;
#[allow(unused_imports)] // not every binary sharing this kit uses both
pub use pairs::{async_std_pair, smol_pair};

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::future::block_on;
use futures_lite::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, StreamExt};

/// What a candidate produced: frame count, byte count, and a sample of
/// each frame's first and last bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Check {
    pub frames: u64,
    pub bytes: u64,
    pub sample: u64,
}

impl Check {
    #[inline]
    pub fn add(&mut self, frame: &[u8]) {
        self.frames += 1;
        self.bytes += frame.len() as u64;
        if let (Some(&a), Some(&b)) = (frame.first(), frame.last()) {
            self.sample = self
                .sample
                .wrapping_mul(31)
                .wrapping_add(u64::from(a) << 8 | u64::from(b));
        }
    }
}

/// An in-memory source returning at most `chunk` bytes per read.
pub struct Source<'a> {
    data: &'a [u8],
    chunk: usize,
}

pub fn source(data: &[u8], chunk: usize) -> Source<'_> {
    Source { data, chunk }
}

impl AsyncRead for Source<'_> {
    #[inline]
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let n = buf.len().min(self.chunk).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(n))
    }
}

// ---------------------------------------------------------------- inputs

/// `count` payloads of `size` bytes, each behind a 4-byte big-endian length.
pub fn frames_input(size: usize, count: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity((size + 4) * count);
    for i in 0..count {
        v.extend_from_slice(&(size as u32).to_be_bytes());
        let start = v.len();
        v.resize(start + size, 0);
        v[start] = i as u8;
        v[start + size - 1] = (i >> 8) as u8;
    }
    v
}

/// `count` lines of 90 to 110 bytes ending in `\n`.
pub fn lines_input(count: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(count * 101);
    for i in 0..count {
        let len = 90 + i % 21;
        v.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, len - 1));
        v.push(b'\n');
    }
    v
}

// ------------------------------------------------- length-prefixed frames

pub fn frames_intake(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let prefix = intake::LengthPrefix::new(4).max_frame_len(usize::MAX >> 1);
        let mut r = intake::StreamReader::new(source(input, chunk));
        let mut c = Check::default();
        while let Some(f) = r.read_frame(&prefix).await.unwrap() {
            c.add(&f);
        }
        c
    })
}

/// The caller trusts the length (it checked it itself): `read_exactly`
/// makes one zeroed allocation of exactly `n` (lazily faulted pages, no
/// memset) and the source writes straight into it.
pub fn frames_intake_exactly(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let mut r = intake::StreamReader::new(source(input, chunk));
        let mut c = Check::default();
        loop {
            let header = match r.read_exactly(4).await {
                Ok(h) => h,
                Err(intake::Error::UnexpectedEof { .. }) => break,
                Err(e) => panic!("{e}"),
            };
            let len = u32::from_be_bytes(header[..].try_into().unwrap()) as usize;
            c.add(&r.read_exactly(len).await.unwrap());
        }
        c
    })
}

pub fn frames_intake_framed(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let prefix = intake::LengthPrefix::new(4).max_frame_len(usize::MAX >> 1);
        let mut s = intake::frame::FramedRead::new(source(input, chunk), prefix);
        let mut c = Check::default();
        while let Some(f) = s.next().await {
            c.add(&f.unwrap());
        }
        c
    })
}

pub fn frames_futures_lite(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let mut r = futures_lite::io::BufReader::new(source(input, chunk));
        let mut c = Check::default();
        let mut header = [0u8; 4];
        loop {
            match r.read_exact(&mut header).await {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => panic!("{e}"),
            }
            let mut frame = vec![0u8; u32::from_be_bytes(header) as usize];
            r.read_exact(&mut frame).await.unwrap();
            c.add(&frame);
        }
        c
    })
}

pub fn frames_async_std(input: &[u8], chunk: usize) -> Check {
    use async_std::io::ReadExt;
    block_on(async {
        let mut r = async_std::io::BufReader::new(source(input, chunk));
        let mut c = Check::default();
        let mut header = [0u8; 4];
        loop {
            match ReadExt::read_exact(&mut r, &mut header).await {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => panic!("{e}"),
            }
            let mut frame = vec![0u8; u32::from_be_bytes(header) as usize];
            ReadExt::read_exact(&mut r, &mut frame).await.unwrap();
            c.add(&frame);
        }
        c
    })
}

pub fn frames_tokio_util(input: &[u8], chunk: usize) -> Check {
    use tokio_util::codec::{FramedRead, LengthDelimitedCodec};
    use tokio_util::compat::FuturesAsyncReadCompatExt;
    block_on(async {
        let codec = LengthDelimitedCodec::builder()
            .length_field_length(4)
            .max_frame_length(usize::MAX >> 1)
            .new_codec();
        let mut s = FramedRead::new(source(input, chunk).compat(), codec);
        let mut c = Check::default();
        while let Some(f) = s.next().await {
            c.add(&f.unwrap());
        }
        c
    })
}

/// A tokio-util encoder of borrowed payloads behind a u32 length, as users
/// who serialize into a scratch buffer write it (`LengthDelimitedCodec`
/// takes only `Bytes`).
pub struct Len4SliceEncoder;

impl<'a> tokio_util::codec::Encoder<&'a [u8]> for Len4SliceEncoder {
    type Error = io::Error;
    fn encode(&mut self, item: &'a [u8], dst: &mut BytesMut) -> Result<(), io::Error> {
        dst.reserve(4 + item.len());
        dst.extend_from_slice(&header(item.len()));
        dst.extend_from_slice(item);
        Ok(())
    }
}

/// tokio-util's `FramedWrite` fed borrowed payloads (`&[u8]`).
pub fn w_tokio_util_slices(msgs: &[Bytes], sink: Sink) -> SocketSink {
    use futures_lite::future::poll_fn;
    use futures_sink::Sink as _;
    let mut w = tokio_util::codec::FramedWrite::new(sink.make(), Len4SliceEncoder);
    block_on(async {
        for m in msgs {
            poll_fn(|cx| Pin::new(&mut w).poll_ready(cx)).await.unwrap();
            Pin::new(&mut w).start_send(&m[..]).unwrap();
        }
        poll_fn(|cx| futures_sink::Sink::<&[u8]>::poll_flush(Pin::new(&mut w), cx))
            .await
            .unwrap();
    });
    w.into_inner()
}

/// asynchronous-codec ships only a u64 `LengthCodec`; its users write a
/// decoder like this one.
pub struct Len4;

impl asynchronous_codec::Decoder for Len4 {
    type Item = Bytes;
    type Error = io::Error;
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, io::Error> {
        if src.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_be_bytes(src[..4].try_into().unwrap()) as usize;
        if src.len() < 4 + len {
            src.reserve(4 + len - src.len());
            return Ok(None);
        }
        let _ = src.split_to(4);
        Ok(Some(src.split_to(len).freeze()))
    }
}

pub fn frames_asynchronous_codec(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let mut s = asynchronous_codec::FramedRead::new(source(input, chunk), Len4);
        let mut c = Check::default();
        while let Some(f) = s.next().await {
            c.add(&f.unwrap());
        }
        c
    })
}

/// The design intake replaces: read 8 KiB blocks, keep a list of them, join
/// them into the frame at the end (the frame is held twice while joining).
struct Blocks<'a> {
    src: Source<'a>,
    leftover: Vec<u8>,
    eof: bool,
}

impl Blocks<'_> {
    async fn take(&mut self, want: usize) -> Vec<u8> {
        let mut have = self.leftover.len();
        let mut blocks = vec![std::mem::take(&mut self.leftover)];
        while have < want && !self.eof {
            let mut block = vec![0u8; 8192];
            let n = self.src.read(&mut block).await.unwrap();
            self.eof = n == 0;
            block.truncate(n);
            have += n;
            blocks.push(block);
        }
        let mut joined = blocks.concat();
        if joined.len() > want {
            self.leftover = joined.split_off(want);
        }
        joined
    }
}

pub fn frames_joined_blocks(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let mut b = Blocks {
            src: source(input, chunk),
            leftover: Vec::new(),
            eof: false,
        };
        let mut c = Check::default();
        loop {
            let header = b.take(4).await;
            if header.len() < 4 {
                break;
            }
            let len = u32::from_be_bytes(header[..4].try_into().unwrap()) as usize;
            let frame = b.take(len).await;
            c.add(&frame);
        }
        c
    })
}

/// The floor: one memcpy per frame from the input into a reused buffer.
pub fn frames_memcpy(input: &[u8], _chunk: usize) -> Check {
    let mut c = Check::default();
    let mut dst = Vec::new();
    let mut pos = 0;
    while pos + 4 <= input.len() {
        let len = u32::from_be_bytes(input[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 4;
        dst.clear();
        dst.extend_from_slice(&input[pos..pos + len]);
        pos += len;
        c.add(std::hint::black_box(&dst));
    }
    c
}

/// The floor for large frames: one memcpy per frame into fresh memory.
pub fn frames_memcpy_fresh(input: &[u8], _chunk: usize) -> Check {
    let mut c = Check::default();
    let mut pos = 0;
    while pos + 4 <= input.len() {
        let len = u32::from_be_bytes(input[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 4;
        let frame = input[pos..pos + len].to_vec();
        pos += len;
        c.add(std::hint::black_box(&frame));
    }
    c
}

pub type Candidate = (&'static str, fn(&[u8], usize) -> Check);

pub const FRAME_CANDIDATES: &[Candidate] = &[
    ("intake read_frame", frames_intake),
    ("intake FramedRead", frames_intake_framed),
    ("intake read_exactly", frames_intake_exactly),
    ("futures-lite BufReader", frames_futures_lite),
    ("async-std BufReader", frames_async_std),
    ("tokio-util FramedRead", frames_tokio_util),
    ("asynchronous-codec", frames_asynchronous_codec),
    ("joined blocks", frames_joined_blocks),
    ("memcpy (floor)", frames_memcpy),
    ("memcpy fresh (floor)", frames_memcpy_fresh),
];

// ------------------------------------------------------------------ lines

pub fn lines_intake(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let mut r = intake::StreamReader::new(source(input, chunk));
        let mut c = Check::default();
        while let Some(line) = r.read_until(b"\n").await.unwrap() {
            c.add(&line);
        }
        c
    })
}

/// Borrowed lines: no `Bytes` handle per line, consumed after use.
pub fn lines_intake_peek(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let mut r = intake::StreamReader::new(source(input, chunk));
        let mut c = Check::default();
        while let Some(line) = r.peek_until(b"\n").await.unwrap() {
            c.add(line);
            let used = line.len();
            r.consume(used);
        }
        c
    })
}

pub fn lines_futures_lite(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let mut r = futures_lite::io::BufReader::new(source(input, chunk));
        let mut c = Check::default();
        let mut line = Vec::new();
        loop {
            line.clear();
            if r.read_until(b'\n', &mut line).await.unwrap() == 0 {
                break;
            }
            c.add(&line);
        }
        c
    })
}

pub fn lines_async_std(input: &[u8], chunk: usize) -> Check {
    use async_std::io::BufReadExt;
    block_on(async {
        let mut r = async_std::io::BufReader::new(source(input, chunk));
        let mut c = Check::default();
        let mut line = Vec::new();
        loop {
            line.clear();
            if BufReadExt::read_until(&mut r, b'\n', &mut line)
                .await
                .unwrap()
                == 0
            {
                break;
            }
            c.add(&line);
        }
        c
    })
}

pub fn lines_tokio_util(input: &[u8], chunk: usize) -> Check {
    use tokio_util::codec::{FramedRead, LinesCodec};
    use tokio_util::compat::FuturesAsyncReadCompatExt;
    block_on(async {
        let mut s = FramedRead::new(source(input, chunk).compat(), LinesCodec::new());
        let mut c = Check::default();
        while let Some(line) = s.next().await {
            // LinesCodec strips the newline; count it back for the check.
            let line = line.unwrap();
            let mut with_nl = line.into_bytes();
            with_nl.push(b'\n');
            c.add(&with_nl);
        }
        c
    })
}

/// The floor: memchr for each newline, one memcpy of each line.
pub fn lines_memchr(input: &[u8], _chunk: usize) -> Check {
    let mut c = Check::default();
    let mut dst = Vec::new();
    let mut pos = 0;
    while let Some(at) = memchr::memchr(b'\n', &input[pos..]) {
        dst.clear();
        dst.extend_from_slice(&input[pos..pos + at + 1]);
        pos += at + 1;
        c.add(std::hint::black_box(&dst));
    }
    c
}

pub const LINE_CANDIDATES: &[Candidate] = &[
    ("intake read_until", lines_intake),
    ("intake peek_until", lines_intake_peek),
    ("futures-lite read_until", lines_futures_lite),
    ("async-std read_until", lines_async_std),
    ("tokio-util LinesCodec", lines_tokio_util),
    ("memchr + memcpy (floor)", lines_memchr),
];

// --------------------------------------------------------- caller memory

pub const PIECE: usize = 1 << 20;

pub fn into_intake(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let mut r = intake::StreamReader::new(source(input, chunk));
        let mut dst = vec![0u8; PIECE];
        let mut c = Check::default();
        for _ in 0..input.len() / PIECE {
            r.read_exact_into(&mut dst).await.unwrap();
            c.add(&dst);
        }
        c
    })
}

pub fn into_futures_lite(input: &[u8], chunk: usize) -> Check {
    block_on(async {
        let mut r = futures_lite::io::BufReader::new(source(input, chunk));
        let mut dst = vec![0u8; PIECE];
        let mut c = Check::default();
        for _ in 0..input.len() / PIECE {
            r.read_exact(&mut dst).await.unwrap();
            c.add(&dst);
        }
        c
    })
}

pub fn into_async_std(input: &[u8], chunk: usize) -> Check {
    use async_std::io::ReadExt;
    block_on(async {
        let mut r = async_std::io::BufReader::new(source(input, chunk));
        let mut dst = vec![0u8; PIECE];
        let mut c = Check::default();
        for _ in 0..input.len() / PIECE {
            ReadExt::read_exact(&mut r, &mut dst).await.unwrap();
            c.add(&dst);
        }
        c
    })
}

/// The floor: memcpy each piece into the caller's buffer.
pub fn into_memcpy(input: &[u8], _chunk: usize) -> Check {
    let mut dst = vec![0u8; PIECE];
    let mut c = Check::default();
    for piece in input.chunks_exact(PIECE) {
        dst.copy_from_slice(piece);
        c.add(std::hint::black_box(&dst));
    }
    c
}

/// The source's own floor: its `poll_read` called in a bare loop straight
/// into the caller's buffer, no reader in between. At C = 1500 this is
/// what any reader pays at least (700 source calls per MiB), where one
/// 1 MiB memcpy pays one.
pub fn into_source_loop(input: &[u8], chunk: usize) -> Check {
    let mut src = source(input, chunk);
    let mut dst = vec![0u8; PIECE];
    let mut c = Check::default();
    block_on(futures_lite::future::poll_fn(|cx| {
        for _ in 0..input.len() / PIECE {
            let mut filled = 0;
            while filled < PIECE {
                match Pin::new(&mut src).poll_read(cx, &mut dst[filled..]) {
                    Poll::Ready(Ok(n)) => filled += n,
                    other => panic!("{other:?}"),
                }
            }
            c.add(std::hint::black_box(&dst));
        }
        Poll::Ready(())
    }));
    c
}

pub const INTO_CANDIDATES: &[Candidate] = &[
    ("intake read_exact_into", into_intake),
    ("futures-lite read_exact", into_futures_lite),
    ("async-std read_exact", into_async_std),
    ("memcpy (floor)", into_memcpy),
    ("source read loop (floor)", into_source_loop),
];

// ------------------------------------------------------------------ writes

/// A writer that behaves like a socket's send path: it accepts at most
/// `max` bytes per call (the socket buffer's free space, the MTU), copies
/// what it accepts (as a kernel copies into socket buffers), counts its
/// calls, and, in its `pending` variant, returns `Pending` (after waking the
/// task) on every other poll, as a busy socket does. In `record` mode it
/// keeps every byte, for the check run that compares each candidate's
/// stream with the expected one; timed runs only copy.
///
/// Each call's copy starts [`SINK_STEP`] bytes further into the first page
/// of its scratch than the last call's (wrapping within the page), so the
/// copies sample every 64-byte offset of a page in turn. With one fixed
/// destination, a candidate's time depended on where the scratch happened
/// to land relative to the bytes it copied (address bits below 4 KiB, which
/// the CPU uses to match loads against pending stores): futures-lite's
/// 16 KiB frames at C = 1500 took 2.6 ms or 6.6 ms by the scratch's
/// address alone, and that address follows whatever the process allocated
/// before. A kernel's copies land in ever new places of its socket buffers.
#[derive(Debug)]
pub struct SocketSink {
    max: usize,
    pending: bool,
    flip: bool,
    pub calls: u64,
    pub bytes: u64,
    /// The copies' room, `len` bytes, behind a page of starting points.
    scratch: Vec<u8>,
    len: usize,
    pub recorded: Option<Vec<u8>>,
}

/// How much further into its scratch each call's copy starts than the
/// last one's: 17 cache lines, so 64 calls start at each 64-byte offset of
/// a 4 KiB page once.
const SINK_STEP: usize = 17 * 64;

impl SocketSink {
    pub fn new(max: usize, pending: bool) -> Self {
        SocketSink {
            max,
            pending,
            flip: false,
            calls: 0,
            bytes: 0,
            scratch: vec![0; max.min(64 * 1024) + 4096],
            len: max.min(64 * 1024),
            recorded: None,
        }
    }

    /// Where the copy of the call under way goes: `len` bytes, starting
    /// [`SINK_STEP`] bytes further into the scratch's first page than the
    /// last call's.
    #[inline]
    fn room(&mut self) -> &mut [u8] {
        let start = (self.calls as usize * SINK_STEP) % 4096;
        &mut self.scratch[start..start + self.len]
    }

    /// Copies what the socket takes of `bufs`; `None` for a busy poll.
    #[inline]
    fn take(&mut self, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        if self.pending {
            self.flip = !self.flip;
            if self.flip {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        let max = self.max;
        let room = self.room();
        let mut n = 0;
        for b in bufs {
            let k = b.len().min(max - n);
            let piece = &b[..k];
            // The kernel's copy into the socket buffer.
            let at = n % room.len();
            if k <= room.len() - at {
                room[at..at + k].copy_from_slice(piece);
            } else {
                for chunk in piece.chunks(room.len()) {
                    room[..chunk.len()].copy_from_slice(chunk);
                }
            }
            n += k;
            if n == max {
                break;
            }
        }
        std::hint::black_box(&self.scratch);
        if let Some(rec) = self.recorded.as_mut() {
            let mut left = n;
            for b in bufs {
                let k = b.len().min(left);
                rec.extend_from_slice(&b[..k]);
                left -= k;
            }
        }
        self.calls += 1;
        self.bytes += n as u64;
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for SocketSink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.take(cx, &[io::IoSlice::new(buf)])
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.take(cx, bufs)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for SocketSink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.take(cx, &[io::IoSlice::new(buf)])
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.take(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        true
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The sink a write candidate writes into: socket-like, C bytes per call.
#[derive(Clone, Copy, Debug)]
pub struct Sink {
    pub max: usize,
    pub pending: bool,
    pub record: bool,
}

impl Sink {
    pub fn make(self) -> SocketSink {
        let mut s = SocketSink::new(self.max, self.pending);
        if self.record {
            s.recorded = Some(Vec::new());
        }
        s
    }
}

/// What a write candidate leaves: the sink (bytes, calls, recording).
pub type WriteRun = fn(&[Bytes], Sink) -> SocketSink;

/// The length prefix every frame candidate writes: a u32, big-endian.
fn header(len: usize) -> [u8; 4] {
    (len as u32).to_be_bytes()
}

pub fn w_intake_write_all(msgs: &[Bytes], sink: Sink) -> SocketSink {
    block_on(async {
        let mut w = intake::StreamWriter::new(sink.make());
        for m in msgs {
            w.write_all(m).await.unwrap();
        }
        w.flush().await.unwrap();
        w.into_inner()
    })
}

pub fn w_intake_send(msgs: &[Bytes], sink: Sink) -> SocketSink {
    block_on(async {
        let mut w = intake::StreamWriter::new(sink.make());
        for m in msgs {
            w.send(m.clone()).await.unwrap();
        }
        w.flush().await.unwrap();
        w.into_inner()
    })
}

pub fn w_intake_send_frame(msgs: &[Bytes], sink: Sink) -> SocketSink {
    block_on(async {
        let prefix = intake::LengthPrefix::new(4).max_frame_len(usize::MAX);
        let mut w = intake::StreamWriter::new(sink.make());
        for m in msgs {
            w.send_frame(&prefix, m.clone()).await.unwrap();
        }
        w.flush().await.unwrap();
        w.into_inner()
    })
}

/// The borrowed twin of `send_frame`: the caller's payload is a `&[u8]`
/// (a scratch buffer it serializes into), copied with its header.
pub fn w_intake_write_frame(msgs: &[Bytes], sink: Sink) -> SocketSink {
    block_on(async {
        let prefix = intake::LengthPrefix::new(4).max_frame_len(usize::MAX);
        let mut w = intake::StreamWriter::new(sink.make());
        for m in msgs {
            w.write_frame(&prefix, m).await.unwrap();
        }
        w.flush().await.unwrap();
        w.into_inner()
    })
}

/// intake's `FramedWrite` with its `LengthPrefix` encoder, fed through the
/// `Sink` as tokio-util's users feed theirs.
pub fn w_intake_framed_write(msgs: &[Bytes], sink: Sink) -> SocketSink {
    let prefix = intake::LengthPrefix::new(4).max_frame_len(usize::MAX);
    let mut w = intake::frame::FramedWrite::new(sink.make(), prefix);
    feed_all_with(&mut w, msgs);
    w.into_parts().0.into_inner()
}

pub fn w_futures_lite(msgs: &[Bytes], sink: Sink) -> SocketSink {
    block_on(async {
        let mut w = futures_lite::io::BufWriter::new(sink.make());
        for m in msgs {
            w.write_all(m).await.unwrap();
        }
        w.flush().await.unwrap();
        w.into_inner()
    })
}

pub fn w_futures_lite_frames(msgs: &[Bytes], sink: Sink) -> SocketSink {
    block_on(async {
        let mut w = futures_lite::io::BufWriter::new(sink.make());
        for m in msgs {
            w.write_all(&header(m.len())).await.unwrap();
            w.write_all(m).await.unwrap();
        }
        w.flush().await.unwrap();
        w.into_inner()
    })
}

pub fn w_async_std(msgs: &[Bytes], sink: Sink) -> SocketSink {
    use async_std::io::prelude::WriteExt;
    block_on(async {
        let mut w = async_std::io::BufWriter::new(sink.make());
        for m in msgs {
            WriteExt::write_all(&mut w, m).await.unwrap();
        }
        WriteExt::flush(&mut w).await.unwrap();
        w.into_inner().await.unwrap()
    })
}

/// Feeds every message into a `Sink` (a peer's `FramedWrite`), as its users
/// do, then flushes it.
fn feed_all<S: futures_sink::Sink<Bytes, Error = io::Error> + Unpin>(w: &mut S, msgs: &[Bytes]) {
    feed_all_with(w, msgs)
}

/// [`feed_all`] for a `Sink` of any error type.
fn feed_all_with<S, E>(w: &mut S, msgs: &[Bytes])
where
    S: futures_sink::Sink<Bytes, Error = E> + Unpin,
    E: std::fmt::Debug,
{
    use futures_lite::future::poll_fn;
    block_on(async {
        for m in msgs {
            poll_fn(|cx| Pin::new(&mut *w).poll_ready(cx))
                .await
                .unwrap();
            Pin::new(&mut *w).start_send(m.clone()).unwrap();
        }
        poll_fn(|cx| Pin::new(&mut *w).poll_flush(cx))
            .await
            .unwrap();
    })
}

/// A tokio-util `FramedWrite` driven through its `Sink`, as its users do.
fn tokio_util_sink<E: tokio_util::codec::Encoder<Bytes, Error = io::Error>>(
    msgs: &[Bytes],
    sink: Sink,
    codec: E,
) -> SocketSink {
    let mut w = tokio_util::codec::FramedWrite::new(sink.make(), codec);
    feed_all(&mut w, msgs);
    w.into_inner()
}

pub fn w_tokio_util_bytes(msgs: &[Bytes], sink: Sink) -> SocketSink {
    tokio_util_sink(msgs, sink, tokio_util::codec::BytesCodec::new())
}

pub fn w_tokio_util_length(msgs: &[Bytes], sink: Sink) -> SocketSink {
    let codec = tokio_util::codec::LengthDelimitedCodec::builder()
        .length_field_length(4)
        .max_frame_length(usize::MAX)
        .new_codec();
    tokio_util_sink(msgs, sink, codec)
}

/// asynchronous-codec ships only a u64 `LengthCodec`; its users write an
/// encoder like this one for a u32 prefix.
pub struct Len4Encoder;

impl asynchronous_codec::Encoder for Len4Encoder {
    type Item<'a> = Bytes;
    type Error = io::Error;
    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), io::Error> {
        dst.reserve(4 + item.len());
        dst.extend_from_slice(&header(item.len()));
        dst.extend_from_slice(&item);
        Ok(())
    }
}

fn asynchronous_codec_sink<E>(msgs: &[Bytes], sink: Sink, codec: E) -> SocketSink
where
    E: for<'a> asynchronous_codec::Encoder<Item<'a> = Bytes, Error = io::Error>,
{
    let mut w = asynchronous_codec::FramedWrite::new(sink.make(), codec);
    feed_all(&mut w, msgs);
    w.into_inner()
}

pub fn w_asynchronous_codec_bytes(msgs: &[Bytes], sink: Sink) -> SocketSink {
    asynchronous_codec_sink(msgs, sink, asynchronous_codec::BytesCodec)
}

pub fn w_asynchronous_codec_length(msgs: &[Bytes], sink: Sink) -> SocketSink {
    asynchronous_codec_sink(msgs, sink, Len4Encoder)
}

/// The floor: the sink's own copy of every byte of the stream into its
/// buffer, as the kernel copies into a socket buffer, counting one call per
/// C bytes, with no writer in between.
pub fn w_sink_copy(msgs: &[Bytes], sink: Sink) -> SocketSink {
    let mut s = sink.make();
    let mut in_call = 0;
    for m in msgs {
        sink_copy(&mut s, m, &mut in_call);
    }
    end_floor(&mut s, in_call);
    s
}

/// The floor for a candidate that takes owned `Bytes`: the sink's copy as
/// in [`w_sink_copy`], plus the caller's clone of each item and its drop
/// (two atomic reference count updates), which every `send(Bytes)`
/// candidate pays and `write_all(&[u8])` does not.
pub fn w_sink_copy_cloning(msgs: &[Bytes], sink: Sink) -> SocketSink {
    let mut s = sink.make();
    let mut in_call = 0;
    for m in msgs {
        let owned = m.clone();
        sink_copy(&mut s, &owned, &mut in_call);
    }
    end_floor(&mut s, in_call);
    s
}

/// The floor for frames: the same, for each header and payload.
pub fn w_sink_copy_frames(msgs: &[Bytes], sink: Sink) -> SocketSink {
    let mut s = sink.make();
    let mut in_call = 0;
    for m in msgs {
        sink_copy_frame(&mut s, m, &mut in_call);
    }
    end_floor(&mut s, in_call);
    s
}

/// The floor for `send_frame` of `Bytes`: the sink's copy of each header
/// and payload, plus the caller's clone and drop of each `Bytes`.
pub fn w_sink_copy_frames_cloning(msgs: &[Bytes], sink: Sink) -> SocketSink {
    let mut s = sink.make();
    let mut in_call = 0;
    for m in msgs {
        let owned = m.clone();
        sink_copy_frame(&mut s, &owned, &mut in_call);
    }
    end_floor(&mut s, in_call);
    s
}

/// The last call of a floor: counted if bytes went into it.
fn end_floor(s: &mut SocketSink, in_call: usize) {
    std::hint::black_box(&s.scratch);
    s.calls += u64::from(in_call > 0);
}

/// Copies a frame's header and `payload` into the sink's buffer: as one
/// piece when both fit in the call under way (the bookkeeping of
/// [`sink_copy`] once per frame, as a writer's one write per many frames
/// has it), else as two.
#[inline]
fn sink_copy_frame(s: &mut SocketSink, payload: &[u8], in_call: &mut usize) {
    let head = header(payload.len());
    let end = *in_call + head.len() + payload.len();
    if end >= s.max || end > s.len || s.recorded.is_some() {
        sink_copy(s, &head, in_call);
        return sink_copy(s, payload, in_call);
    }
    let at = *in_call;
    let room = s.room();
    room[at..at + head.len()].copy_from_slice(&head);
    room[at + head.len()..end].copy_from_slice(payload);
    s.bytes += (end - at) as u64;
    *in_call = end;
}

/// Copies `piece` into the sink's buffer, counting a call per C bytes
/// (`in_call`: bytes of the call under way).
///
/// A floor must cost no more per byte than the sink's own `take`: so no
/// division per piece (the offset wraps only past 64 KiB, when C is
/// larger), and the optimizer is shown the scratch once per call, as
/// `take` does, not once per piece. (With a `black_box` per piece and per
/// clone, the floors for `send` and `send_frame` of 64-byte items took
/// 2x and 1.7x the time of intake's own `send` and `send_frame`.)
#[inline]
fn sink_copy(s: &mut SocketSink, mut piece: &[u8], in_call: &mut usize) {
    while !piece.is_empty() {
        let max = s.max;
        let room = s.room();
        let at = if *in_call < room.len() {
            *in_call
        } else {
            *in_call % room.len()
        };
        let k = piece.len().min(max - *in_call).min(room.len() - at);
        room[at..at + k].copy_from_slice(&piece[..k]);
        if let Some(rec) = s.recorded.as_mut() {
            rec.extend_from_slice(&piece[..k]);
        }
        piece = &piece[k..];
        *in_call += k;
        s.bytes += k as u64;
        if *in_call == s.max {
            std::hint::black_box(&s.scratch);
            s.calls += 1;
            *in_call = 0;
        }
    }
}

/// One write workload: its items, whether they are framed (a u32 length in
/// front of each), and its candidates, each as its users would write it.
pub struct WriteWorkload {
    pub name: &'static str,
    pub items: fn() -> Vec<Bytes>,
    pub framed: bool,
    pub candidates: &'static [(&'static str, WriteRun)],
}

/// Frames of a u32 length and a payload, written as each peer's users do.
/// The `Bytes`-taking candidates first, then the borrowed (`&[u8]`) ones,
/// each group with its floor.
const FRAME_WRITE_CANDIDATES: &[(&str, WriteRun)] = &[
    ("intake StreamWriter send_frame", w_intake_send_frame),
    ("intake FramedWrite LengthPrefix", w_intake_framed_write),
    ("tokio-util LengthDelimitedCodec", w_tokio_util_length),
    (
        "asynchronous-codec u32 encoder",
        w_asynchronous_codec_length,
    ),
    (
        "sink copy + clone and drop + header (floor for send_frame)",
        w_sink_copy_frames_cloning,
    ),
    (
        "intake StreamWriter write_frame (&[u8])",
        w_intake_write_frame,
    ),
    ("futures-lite BufWriter (&[u8])", w_futures_lite_frames),
    ("tokio-util FramedWrite &[u8] encoder", w_tokio_util_slices),
    ("sink copy only (floor)", w_sink_copy_frames),
];

pub const WRITE_WORKLOADS: &[WriteWorkload] = &[
    WriteWorkload {
        name: "writes 64B write_all",
        items: || messages(1_000_000, 64),
        framed: false,
        candidates: &[
            ("intake StreamWriter write_all", w_intake_write_all),
            ("futures-lite BufWriter", w_futures_lite),
            ("async-std BufWriter", w_async_std),
            ("sink copy only (floor)", w_sink_copy),
        ],
    },
    WriteWorkload {
        name: "writes 64B Bytes",
        items: || messages(1_000_000, 64),
        framed: false,
        candidates: &[
            ("intake StreamWriter send", w_intake_send),
            ("futures-lite BufWriter", w_futures_lite),
            ("tokio-util FramedWrite BytesCodec", w_tokio_util_bytes),
            ("asynchronous-codec BytesCodec", w_asynchronous_codec_bytes),
            ("sink copy only (floor)", w_sink_copy),
            (
                "sink copy + clone and drop of each Bytes (floor for send)",
                w_sink_copy_cloning,
            ),
        ],
    },
    WriteWorkload {
        name: "writes 64B frames",
        items: || messages(1_000_000, 64),
        framed: true,
        candidates: FRAME_WRITE_CANDIDATES,
    },
    WriteWorkload {
        name: "writes 16KiB frames",
        items: || messages(4096, 16 << 10),
        framed: true,
        candidates: FRAME_WRITE_CANDIDATES,
    },
    WriteWorkload {
        name: "writes 1MiB frames",
        items: || messages(256, 1 << 20),
        framed: true,
        candidates: FRAME_WRITE_CANDIDATES,
    },
    WriteWorkload {
        name: "writes 1MiB Bytes",
        items: || messages(256, 1 << 20),
        framed: false,
        candidates: &[
            ("intake StreamWriter send", w_intake_send),
            ("intake StreamWriter write_all", w_intake_write_all),
            ("futures-lite BufWriter", w_futures_lite),
            ("tokio-util FramedWrite BytesCodec", w_tokio_util_bytes),
            ("sink copy only (floor)", w_sink_copy),
        ],
    },
];

/// The sinks every write workload runs against.
pub const WRITE_SINKS: &[(&str, usize, bool)] = &[
    ("C=65536", 64 * 1024, false),
    ("C=1500", 1500, false),
    ("C=65536 pending", 64 * 1024, true),
    ("C=1500 pending", 1500, true),
];

/// The stream every candidate of `w` must write for `items`.
pub fn expected_stream(w: &WriteWorkload, items: &[Bytes]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in items {
        if w.framed {
            out.extend_from_slice(&header(m.len()));
        }
        out.extend_from_slice(m);
    }
    out
}

/// The bytes between two messages in their shared buffer.
///
/// Why: packed at a stride of their size (64 bytes), every message sat at
/// the same offset within a cache line, and each writer's buffer at a
/// fixed distance from the message it copied, modulo 4 KiB, for a whole
/// run. Times then hung on where the input and each writer's buffer
/// happened to land: futures-lite's 1M `write_all`s of 64 bytes took
/// 8.4 to 10.1 ms as the input moved by multiples of 512 bytes (12.2 ms
/// in one process), and intake's 10.0 to 13.8 ms. With 16 bytes between
/// messages, their offsets within a cache line and a page change from
/// one message to the next, and the same runs took 9.1-9.5 ms and
/// 11.0-11.5 ms (temporary builds of `benches/write_one.rs`, 2026-12-05).
const MESSAGE_GAP: usize = 16;

/// `count` messages of `size` bytes, sliced from one shared buffer (as
/// frames split off a read buffer are), [`MESSAGE_GAP`] bytes apart:
/// cloning one is a reference count increment, for every candidate alike.
fn messages(count: usize, size: usize) -> Vec<Bytes> {
    let stride = size + MESSAGE_GAP;
    let all = Bytes::from(
        (0..count * stride)
            .map(|i| (i / stride) as u8 ^ (i % 251) as u8)
            .collect::<Vec<u8>>(),
    );
    (0..count)
        .map(|i| all.slice(i * stride..i * stride + size))
        .collect()
}
