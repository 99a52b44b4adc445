//! `StreamReader` where a futures-io `BufReader` was: the cases of
//! futures-rs's own `BufReader` tests (`tests/io_buf_reader.rs`: reads
//! through a small buffer, short reads and a source that ends and then has
//! more, seeking and `seek_relative`, sources that return `Pending`),
//! written anew here against intake's reader, plus a rewound source and a
//! check that nothing spins on an ended one.
mod common;

use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use common::*;
use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek};
use futures_lite::future::block_on;
use futures_lite::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, Cursor};
use intake::StreamReader;

const DATA: &[u8] = &[5, 6, 7, 0, 1, 2, 3, 4];

/// `poll_fill_buf` until ready, with a waker that does nothing.
fn fill_buf<R: AsyncBufRead + Unpin>(r: &mut R) -> io::Result<Vec<u8>> {
    let waker = futures_test::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = Pin::new(&mut *r).poll_fill_buf(&mut cx) {
            return out.map(<[u8]>::to_vec);
        }
    }
}

fn read_some<R: AsyncRead + Unpin>(r: &mut R, len: usize) -> (usize, Vec<u8>) {
    let mut buf = vec![0u8; len];
    let n = block_on(r.read(&mut buf)).unwrap();
    (n, buf)
}

/// Reads through a 2-byte buffer: reads as large as the buffer go straight
/// to the source, smaller ones through the buffer, and `buffer()` shows
/// what is left.
fn reads_through_a_small_buffer<R: AsyncRead + Unpin>(mut r: StreamReader<R>) {
    assert_eq!(read_some(&mut r, 3), (3, vec![5, 6, 7]));
    assert_eq!(r.buffer(), b"");
    assert_eq!(read_some(&mut r, 2), (2, vec![0, 1]));
    assert_eq!(r.buffer(), b"");
    assert_eq!(read_some(&mut r, 1), (1, vec![2]));
    assert_eq!(r.buffer(), [3]);
    assert_eq!(read_some(&mut r, 3), (1, vec![3, 0, 0]));
    assert_eq!(r.buffer(), b"");
    assert_eq!(read_some(&mut r, 3), (1, vec![4, 0, 0]));
    assert_eq!(read_some(&mut r, 3).0, 0);
}

#[test]
fn reads_through_a_small_buffer_from_a_slice() {
    reads_through_a_small_buffer(StreamReader::with_capacity(2, DATA));
}

/// Every read answers `Pending` once before it is served.
struct PendingFirst {
    inner: &'static [u8],
    ready: bool,
}

impl AsyncRead for PendingFirst {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.ready = !self.ready;
        if !self.ready {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

#[test]
fn reads_through_a_small_buffer_from_a_pending_source() {
    let src = PendingFirst {
        inner: DATA,
        ready: false,
    };
    reads_through_a_small_buffer(StreamReader::with_capacity(2, src));
}

#[test]
fn read_until_a_byte_through_the_extension_trait_and_pending() {
    // The one-line form the README gives for code written against
    // `AsyncBufReadExt::read_until` (intake's own `read_until` takes a
    // delimiter slice and returns `Bytes`).
    let src = PendingFirst {
        inner: &[0, 1, 2, 3, 1, 0],
        ready: false,
    };
    let mut r = StreamReader::with_capacity(2, src);
    let mut line = Vec::new();
    for (delim, want) in [(3u8, &[0u8, 1, 2, 3][..]), (1, &[1]), (8, &[0]), (9, &[])] {
        line.clear();
        block_on(AsyncBufReadExt::read_until(&mut r, delim, &mut line)).unwrap();
        assert_eq!(line, want, "until {delim}");
    }
}

/// Lengths to return, one per read (futures-rs's short-read source): 0
/// and then more is a source that ended and later had data.
struct ShortReads(Vec<usize>);

impl AsyncRead for ShortReads {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let n = if self.0.is_empty() {
            0
        } else {
            self.0.remove(0).min(buf.len())
        };
        buf[..n].fill(9);
        Poll::Ready(Ok(n))
    }
}

#[test]
fn short_reads_and_data_after_an_end_are_passed_on() {
    let mut r = StreamReader::new(ShortReads(vec![0, 1, 2, 0, 1, 0]));
    for want in [0, 1, 2, 0, 1, 0, 0] {
        assert_eq!(read_some(&mut r, 2).0, want);
    }
}

#[test]
fn every_read_operation_asks_again_after_an_end() {
    on_both_runtimes(|| async {
        // A log that is appended to after the reader saw its end.
        let steps = [
            Step::Data(b"one\n".to_vec()),
            Step::Eof,
            Step::Data(b"two\n\x00\x02hi".to_vec()),
            Step::Eof,
            Step::Data(b"tail".to_vec()),
        ];
        let mut r = StreamReader::new(ScriptedReader::new(steps));
        assert_eq!(
            r.read_until(b"\n").await.unwrap().as_deref(),
            Some(&b"one\n"[..])
        );
        assert!(r.read_until(b"\n").await.unwrap().is_none());
        assert!(r.at_eof());
        assert_eq!(
            r.read_until(b"\n").await.unwrap().as_deref(),
            Some(&b"two\n"[..])
        );
        let frame = r.read_frame(&intake::LengthPrefix::new(2)).await.unwrap();
        assert_eq!(frame.as_deref(), Some(&b"hi"[..]));
        assert!(r
            .read_frame(&intake::LengthPrefix::new(2))
            .await
            .unwrap()
            .is_none());
        assert_eq!(&r.read_exactly(4).await.unwrap()[..], b"tail");
        // Past the script each call asks once and is told the end: no spin.
        for _ in 0..3 {
            assert!(r.read_until(b"\n").await.unwrap().is_none());
        }
        assert_eq!(r.get_ref().reads_after_end, 3);
    });
}

#[test]
fn a_rewound_source_is_read_again() {
    block_on(async {
        let mut r = StreamReader::new(Cursor::new(b"a,b\nc,d\n".to_vec()));
        let mut rows = 0;
        while r.read_until(b"\n").await.unwrap().is_some() {
            rows += 1;
        }
        r.seek(SeekFrom::Start(0)).await.unwrap();
        while r.read_until(b"\n").await.unwrap().is_some() {
            rows += 1;
        }
        assert_eq!(rows, 4);
    });
}

#[test]
fn seek_discards_the_buffer_and_counts_from_the_first_unread_byte() {
    let mut r = StreamReader::with_capacity(2, Cursor::new(DATA));
    assert_eq!(block_on(r.seek(SeekFrom::Start(3))).unwrap(), 3);
    assert_eq!(fill_buf(&mut r).unwrap(), [0, 1]);
    // Too far back: the source refuses, and the reader stays usable.
    assert!(block_on(r.seek(SeekFrom::Current(i64::MIN))).is_err());
    assert_eq!(fill_buf(&mut r).unwrap(), [0, 1]);
    assert_eq!(block_on(r.seek(SeekFrom::Current(1))).unwrap(), 4);
    assert_eq!(fill_buf(&mut r).unwrap(), [1, 2]);
    r.consume(1);
    assert_eq!(block_on(r.seek(SeekFrom::Current(-2))).unwrap(), 3);
    assert_eq!(r.position(), 3);
}

#[test]
fn seek_relative_stays_in_the_buffer_when_it_can() {
    let mut r = StreamReader::with_capacity(2, Cursor::new(DATA));
    block_on(r.seek_relative(3)).unwrap();
    assert_eq!(fill_buf(&mut r).unwrap(), [0, 1]);
    block_on(r.seek_relative(0)).unwrap();
    assert_eq!(fill_buf(&mut r).unwrap(), [0, 1]);
    block_on(r.seek_relative(1)).unwrap();
    assert_eq!(fill_buf(&mut r).unwrap(), [1]);
    block_on(r.seek_relative(-1)).unwrap();
    assert_eq!(fill_buf(&mut r).unwrap(), [0, 1]);
    block_on(r.seek_relative(2)).unwrap();
    assert_eq!(fill_buf(&mut r).unwrap(), [2, 3]);
}

#[test]
fn seek_relative_after_a_direct_read_asks_the_source() {
    // The buffer emptied, then a read bypassed it: moving back must not
    // serve stale bytes from it.
    let mut r = StreamReader::with_capacity(3, Cursor::new(DATA));
    assert_eq!(fill_buf(&mut r).unwrap(), [5, 6, 7]);
    r.consume(3);
    assert_eq!(read_some(&mut r, 5), (5, vec![0, 1, 2, 3, 4]));
    block_on(r.seek_relative(-2)).unwrap();
    assert_eq!(read_some(&mut r, 2), (2, vec![3, 4]));
}

#[test]
fn seek_relative_after_a_seek_asks_the_source() {
    let mut r = StreamReader::with_capacity(3, Cursor::new(DATA));
    assert_eq!(fill_buf(&mut r).unwrap(), [5, 6, 7]);
    r.consume(3);
    block_on(r.seek(SeekFrom::Current(5))).unwrap();
    block_on(r.seek_relative(-2)).unwrap();
    assert_eq!(read_some(&mut r, 2), (2, vec![3, 4]));
}

/// Yields its position (mod 256) as each byte, and seeks with wrapping
/// arithmetic over the whole `u64` range.
struct Positions(u64);

impl AsyncRead for Positions {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        for b in buf.iter_mut() {
            *b = self.0 as u8;
            self.0 = self.0.wrapping_add(1);
        }
        Poll::Ready(Ok(buf.len()))
    }
}

impl AsyncSeek for Positions {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        self.0 = match pos {
            SeekFrom::Start(n) => n,
            SeekFrom::Current(n) => self.0.wrapping_add(n as u64),
            SeekFrom::End(n) => u64::MAX.wrapping_add(n as u64),
        };
        Poll::Ready(Ok(self.0))
    }
}

#[test]
fn a_seek_further_back_than_i64_says_takes_two_steps() {
    let mut r = StreamReader::with_capacity(5, Positions(0));
    assert_eq!(fill_buf(&mut r).unwrap(), [0, 1, 2, 3, 4]);
    assert_eq!(block_on(r.seek(SeekFrom::End(-5))).unwrap(), u64::MAX - 5);
    assert_eq!(fill_buf(&mut r).unwrap().len(), 5);
    // i64::MIN past 5 buffered bytes: back over them, then by i64::MIN.
    let expected = (u64::MAX - 5).wrapping_add(i64::MIN as u64);
    assert_eq!(
        block_on(r.seek(SeekFrom::Current(i64::MIN))).unwrap(),
        expected
    );
    assert_eq!(fill_buf(&mut r).unwrap().len(), 5);
    // Seeking by 0 lands on the first unread byte and empties the buffer.
    assert_eq!(block_on(r.seek(SeekFrom::Current(0))).unwrap(), expected);
    assert_eq!(r.get_ref().0, expected);
    assert!(r.buffer().is_empty());
}

/// A cursor whose every other seek answers `Pending`.
struct PendingSeeks {
    inner: Cursor<&'static [u8]>,
    ready: bool,
}

impl AsyncRead for PendingSeeks {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncSeek for PendingSeeks {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        self.ready = !self.ready;
        if !self.ready {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Pin::new(&mut self.inner).poll_seek(cx, pos)
    }
}

#[test]
fn seeks_that_return_pending_land_where_they_should() {
    let src = PendingSeeks {
        inner: Cursor::new(DATA),
        ready: false,
    };
    let mut r = StreamReader::with_capacity(2, src);
    assert_eq!(block_on(r.seek(SeekFrom::Current(3))).unwrap(), 3);
    assert_eq!(fill_buf(&mut r).unwrap(), [0, 1]);
    assert!(block_on(r.seek(SeekFrom::Current(i64::MIN))).is_err());
    assert_eq!(fill_buf(&mut r).unwrap(), [0, 1]);
    assert_eq!(block_on(r.seek(SeekFrom::Current(1))).unwrap(), 4);
    assert_eq!(fill_buf(&mut r).unwrap(), [1, 2]);
    r.consume(1);
    assert_eq!(block_on(r.seek(SeekFrom::Current(-2))).unwrap(), 3);
}

#[test]
fn a_bounded_view_refuses_to_seek() {
    let mut r = StreamReader::new(Cursor::new(DATA));
    let mut view = r.limited(4);
    let err = block_on((*view).seek(SeekFrom::Start(0))).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    drop(view);
    assert_eq!(block_on(r.seek(SeekFrom::Start(6))).unwrap(), 6);
}
