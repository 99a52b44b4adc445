//! Memory promises, measured with a counting global allocator (this file is
//! its own test binary, so the allocator sees only these tests). Counters
//! are per thread, so tests running in parallel do not disturb each other.
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use common::{miri_or, on_both_runtimes};
use futures_io::AsyncRead;
use intake::{Error, StreamReader};

struct Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
    static BIG: Cell<usize> = const { Cell::new(0) };
}

/// Allocations above this size count as big (frame memory, not buffers).
const BIG_SIZE: usize = 128 * 1024;

fn grew(size: usize) {
    let _ = LIVE.try_with(|l| {
        let now = l.get() + size;
        l.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
        let _ = LARGEST.try_with(|m| m.set(m.get().max(size)));
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        if size > BIG_SIZE {
            let _ = BIG.try_with(|c| c.set(c.get() + 1));
        }
    });
}

fn shrank(size: usize) {
    let _ = LIVE.try_with(|l| l.set(l.get().saturating_sub(size)));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrank(layout.size());
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        shrank(layout.size());
        grew(new_size);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Heap figures since `reset`: (live now, peak, largest single allocation, count).
struct Meter {
    base: usize,
}

impl Meter {
    fn start() -> Self {
        // Memory the reader maps (large frames on Linux) counts as if it
        // came from this allocator: a map is an alloc, a growth a realloc.
        intake::observe_mappings(|old, new| {
            if old != 0 {
                shrank(old);
            }
            if new != 0 {
                grew(new);
            }
        });
        let base = LIVE.with(Cell::get);
        PEAK.with(|p| p.set(base));
        LARGEST.with(|m| m.set(0));
        COUNT.with(|c| c.set(0));
        BIG.with(|c| c.set(0));
        Meter { base }
    }
    fn live(&self) -> usize {
        LIVE.with(Cell::get).saturating_sub(self.base)
    }
    fn peak(&self) -> usize {
        PEAK.with(Cell::get).saturating_sub(self.base)
    }
    fn largest(&self) -> usize {
        LARGEST.with(Cell::get)
    }
    fn count(&self) -> usize {
        COUNT.with(Cell::get)
    }
    /// Allocations (and reallocations) above `BIG_SIZE`.
    fn big(&self) -> usize {
        BIG.with(Cell::get)
    }
}

/// A source over a borrowed slice that allocates nothing, returning at most
/// `chunk` bytes per read.
struct SliceSource<'a> {
    data: &'a [u8],
    chunk: usize,
    stall_after: Option<usize>,
}

impl AsyncRead for SliceSource<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.stall_after == Some(0) {
            return Poll::Pending;
        }
        let mut n = buf.len().min(self.chunk).min(self.data.len());
        if let Some(s) = self.stall_after.as_mut() {
            n = n.min(*s);
            *s -= n;
        }
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(n))
    }
}

fn source(data: &[u8], chunk: usize) -> SliceSource<'_> {
    SliceSource {
        data,
        chunk,
        stall_after: None,
    }
}

/// A socket under load: 64 KiB, then "not ready", then 64 KiB...
struct Bursty<'a> {
    inner: SliceSource<'a>,
    ready: bool,
}

impl AsyncRead for Bursty<'_> {
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

fn bursty(data: &[u8]) -> Bursty<'_> {
    Bursty {
        inner: source(data, 64 * 1024),
        ready: false,
    }
}

const CAP: usize = 8 * 1024;

#[test]
fn new_reader_allocates_nothing_before_first_read() {
    let data = vec![1u8; 16];
    let m = Meter::start();
    let r = StreamReader::with_capacity(CAP, source(&data, 16));
    assert_eq!(m.count(), 0);
    drop(r);
}

#[test]
fn read_exactly_peak_heap_is_at_most_n_plus_capacity() {
    on_both_runtimes(|| async {
        let n = 4 << 20;
        let data = vec![7u8; n + 100];
        for chunk in [1500usize, 64 * 1024] {
            let mut r = StreamReader::with_capacity(CAP, source(&data, chunk));
            r.read_exactly(100).await.unwrap(); // the normal buffer exists
            let m = Meter::start();
            let frame = r.read_exactly(n).await.unwrap();
            assert_eq!(frame.len(), n);
            // One allocation of n (plus the bytes shared-ownership header).
            assert!(m.peak() <= n + CAP + 256, "peak {} for n {n}", m.peak());
            assert!(m.largest() <= n, "largest allocation {}", m.largest());
            assert!(m.peak() >= n, "the meter saw the frame (same thread)");
        }
    });
}

#[test]
fn reader_returns_to_normal_capacity_after_large_frame() {
    on_both_runtimes(|| async {
        let data = vec![3u8; (2 << 20) + 10_000];
        let mut r = StreamReader::with_capacity(CAP, source(&data, 64 * 1024));
        let m = Meter::start();
        let big = r.read_exactly(2 << 20).await.unwrap();
        assert!(m.peak() >= 2 << 20, "the meter saw the frame");
        drop(big);
        // The reader may keep the large allocation for a next large frame
        // (the next header is read into it), but once a normal buffer's
        // worth of small reads follows, it has let go of it.
        assert!(m.live() <= (2 << 20) + 256, "live {}", m.live());
        for _ in 0..(CAP / 1000 + 2) {
            r.read_exactly(1000).await.unwrap();
        }
        assert!(
            m.live() <= CAP + 256,
            "back to the normal capacity, live {}",
            m.live()
        );
    });
}

#[test]
fn held_small_bytes_does_not_grow_the_buffer() {
    on_both_runtimes(|| async {
        let total = miri_or(2 << 20, 64 << 10);
        let data = vec![5u8; total];
        let mut r = StreamReader::with_capacity(CAP, source(&data, 64 * 1024));
        let m = Meter::start();
        let held = r.read_exactly(10).await.unwrap();
        for _ in 0..total / 100 - 1 {
            drop(r.read_exactly(100).await.unwrap());
        }
        // The held frame pins one old allocation; the reader keeps one more.
        assert!(m.live() <= 2 * CAP + 512, "live {}", m.live());
        assert!(m.peak() <= 3 * CAP + 512, "peak {}", m.peak());
        drop(held);
    });
}

#[test]
fn missing_delimiter_memory_bounded_by_limit_plus_one_read() {
    on_both_runtimes(|| async {
        let data = vec![b'x'; 1 << 20];
        let limit = 100_000;
        let mut r = StreamReader::with_capacity(CAP, source(&data, 16 * 1024)).with_limit(limit);
        let m = Meter::start();
        assert!(matches!(
            r.read_until(b"\n").await,
            Err(Error::LimitExceeded { .. })
        ));
        // Geometric growth up to the limit; old and new buffer coexist
        // during one copy.
        assert!(m.largest() <= limit, "largest {}", m.largest());
        assert!(m.peak() <= 2 * limit + CAP, "peak {}", m.peak());
    });
}

#[test]
fn steady_small_frames_do_not_allocate_per_frame() {
    on_both_runtimes(|| async {
        let total = miri_or(1 << 20, 64 << 10);
        let data = vec![9u8; total];
        let mut r = StreamReader::with_capacity(CAP, source(&data, 64 * 1024));
        r.read_exactly(64).await.unwrap();
        let m = Meter::start();
        let frames = total / 64 - 1;
        for _ in 0..frames {
            drop(r.read_exactly(64).await.unwrap());
        }
        // Frames are split off a reclaimed buffer: at most one small
        // bookkeeping allocation per buffer fill, never one per frame.
        assert!(
            m.count() <= frames / 50,
            "{} allocations for {frames} frames",
            m.count()
        );
    });
}

/// A header claiming `claim` bytes, then `sent` payload bytes, then a stall.
fn stalled(claim: u32, sent: usize) -> Vec<u8> {
    let mut v = claim.to_be_bytes().to_vec();
    // `vec!` of a byte is one memset, also under Miri (`resize` loops).
    v.extend_from_slice(&vec![1u8; sent]);
    v
}

#[test]
fn stalled_huge_header_costs_memory_in_proportion_to_arrived_bytes() {
    on_both_runtimes(|| async {
        let prefix = intake::LengthPrefix::new(4);
        // Under Miri the growth (zeroed byte by byte there) is kept small.
        let sents = if cfg!(miri) {
            &[0usize, 100, 1_000, 20_000][..]
        } else {
            &[0usize, 100, 10_000, 100_000, 1_000_000][..]
        };
        for &sent in sents {
            let wire = stalled(8 << 20, sent);
            let src = SliceSource {
                data: &wire,
                chunk: 4096,
                stall_after: Some(wire.len()),
            };
            let mut r = StreamReader::with_capacity(CAP, src);
            let m = Meter::start();
            assert!(
                common::poll_at_most(r.read_frame(&prefix), miri_or(10_000, 1_000)).is_none(),
                "stalled"
            );
            assert_eq!(
                r.buffer().len(),
                wire.len(),
                "every arrived byte is buffered"
            );
            // At most four times what arrived, plus the normal buffer
            // (which coexists with the first growth step).
            let bound = CAP + 4 * (sent + 4) + 256;
            assert!(
                m.peak() <= bound,
                "sent {sent}: peak {} > {bound}",
                m.peak()
            );
        }
    });
}

#[test]
fn all_ones_prefixes_fail_without_a_large_allocation() {
    on_both_runtimes(|| async {
        let ones = [0xffu8; 16];
        for width in [1usize, 2, 3, 4, 8] {
            for prefix in [
                intake::LengthPrefix::new(width),
                intake::LengthPrefix::new(width).little_endian(),
            ] {
                let prefix = prefix.max_frame_len(100);
                let mut r = StreamReader::with_capacity(CAP, source(&ones, 16));
                let m = Meter::start();
                assert!(matches!(
                    r.read_frame(&prefix).await,
                    Err(Error::FrameTooLarge { .. })
                ));
                assert!(m.largest() <= CAP, "largest allocation {}", m.largest());
            }
        }
    });
}

#[test]
fn large_read_frame_peak_heap_is_at_most_n_plus_capacity() {
    on_both_runtimes(|| async {
        // Under Miri: still over 8 times CAP (a large frame).
        let n = miri_or(8 << 20, 128 << 10);
        let mut wire = (n as u32).to_be_bytes().to_vec();
        wire.extend_from_slice(&vec![2u8; n]);
        for chunk in [1500usize, 64 * 1024] {
            let mut r = StreamReader::with_capacity(CAP, source(&wire, chunk));
            let m = Meter::start();
            let frame = r
                .read_frame(&intake::LengthPrefix::new(4))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(frame.len(), n);
            assert!(m.peak() >= n, "the meter saw the frame");
            assert!(m.peak() <= n + 4 + CAP + 256, "peak {} for n {n}", m.peak());
            drop(frame);
            // The end of the stream is a small read: the large allocation
            // goes, nothing is left.
            assert!(r
                .read_frame(&intake::LengthPrefix::new(4))
                .await
                .unwrap()
                .is_none());
            assert!(m.live() <= CAP + 256, "released, live {}", m.live());
        }
    });
}

#[test]
fn absurd_read_exactly_allocates_with_arrival_and_never_panics() {
    on_both_runtimes(|| async {
        let data = vec![1u8; 10_000];
        for n in [
            usize::MAX,
            usize::MAX / 2,
            1 << 40,
            intake::EXACT_ALLOC_MAX + 1,
        ] {
            let mut r = StreamReader::with_capacity(CAP, source(&data, 1500));
            let m = Meter::start();
            match r.read_exactly(n).await {
                Err(Error::UnexpectedEof { partial, expected }) => {
                    assert_eq!(partial.len(), 10_000);
                    assert_eq!(expected, Some(n - 10_000));
                }
                other => panic!("{other:?}"),
            }
            assert!(
                m.peak() <= CAP + 4 * 10_000 + 256,
                "n = {n}: peak {}",
                m.peak()
            );
        }
    });
}

#[test]
fn stream_of_large_frames_reuses_one_allocation() {
    on_both_runtimes(|| async {
        // Under Miri: still a large frame, over 8 times the 64 KiB capacity
        // (smaller frames grow the normal buffer, peak up to about 4n).
        let n = miri_or(1 << 20, 576 << 10);
        let frames = miri_or(16, 3);
        let mut wire = Vec::new();
        for i in 0..frames {
            wire.extend_from_slice(&(n as u32).to_be_bytes());
            wire.extend_from_slice(&vec![i as u8; n]);
        }
        // Frame `i`'s payload (all bytes `i`), compared with one memcmp.
        let payload = |i: usize| &wire[(n + 4) * i + 4..][..n];
        let prefix = intake::LengthPrefix::new(4).max_frame_len(n);
        for chunk in [1500usize, 64 * 1024] {
            let mut r = StreamReader::with_capacity(64 * 1024, source(&wire, chunk));
            let m = Meter::start();
            for i in 0..frames {
                let frame = r.read_frame(&prefix).await.unwrap().unwrap();
                assert_eq!(frame.len(), n);
                assert!(frame[..] == *payload(i));
            }
            // Growing toward the first frame takes a few allocations; the
            // fifteen after it reuse that memory in place. Where large
            // frames live in mapped memory (Linux), each frame handed out
            // carries one small record of its owner (`Bytes::from_owner`),
            // a few dozen bytes; the frame memory itself is not allocated
            // again.
            assert!(m.big() <= 3, "{} big allocations", m.big());
            let owners = if cfg!(target_os = "linux") { frames } else { 0 };
            assert!(
                m.count() <= 8 + owners,
                "{} allocations for {frames} frames",
                m.count()
            );
            assert!(m.peak() <= n + 4 + 64 * 1024 + 256, "peak {}", m.peak());

            // The same frames read as a 4-byte header, then `read_exactly`
            // of the length: the body's unread bytes sit just past the
            // consumed header, and still move into the kept allocation.
            let mut r = StreamReader::with_capacity(64 * 1024, source(&wire, chunk));
            let m = Meter::start();
            for i in 0..frames {
                let header = r.read_exactly(4).await.unwrap();
                let len = u32::from_be_bytes(header[..].try_into().unwrap()) as usize;
                drop(header);
                let frame = r.read_exactly(len).await.unwrap();
                assert_eq!(frame.len(), n);
                assert!(frame[..] == *payload(i));
            }
            // Per frame at most one small allocation (those bytes are moved
            // to the front through a copy of at most the capacity); the
            // frame memory itself is reused.
            assert!(m.big() <= 3, "{} big allocations", m.big());
            assert!(m.count() <= 8 + frames, "{} allocations", m.count());
            assert!(m.largest() <= n, "largest {}", m.largest());
            assert!(m.peak() <= n + 2 * 64 * 1024 + 256, "peak {}", m.peak());
        }
    });
}

#[test]
fn mid_size_frames_reuse_one_allocation_the_size_of_a_frame() {
    on_both_runtimes(|| async {
        // Frames larger than the 8 KiB capacity but small enough for the
        // buffer to keep (up to 8 times it): the buffer grows to the frame,
        // not to room for several, and is reused for each next frame once
        // the caller drops the last (a buffer that stays in the cache).
        let (n, frames) = (16 * 1024, miri_or(64, 8));
        let mut wire = Vec::new();
        for i in 0..frames {
            wire.extend_from_slice(&(n as u32).to_be_bytes());
            wire.extend_from_slice(&vec![i as u8; n]);
        }
        let prefix = intake::LengthPrefix::new(4);
        for chunk in [1500usize, 64 * 1024] {
            let mut r = StreamReader::with_capacity(CAP, source(&wire, chunk));
            let m = Meter::start();
            for i in 0..frames {
                let frame = r.read_frame(&prefix).await.unwrap().unwrap();
                // One memcmp against the wire (Miri reads an `all` byte by
                // byte).
                assert!(frame[..] == wire[(n + 4) * i + 4..][..n]);
            }
            assert!(m.largest() <= n + 4 + 64, "largest {}", m.largest());
            assert!(m.count() <= 4, "{} allocations", m.count());
            assert!(m.peak() <= n + 4 + CAP + 64, "peak {}", m.peak());
        }
    });
}

#[test]
fn huge_peek_grows_with_arrival_and_never_aborts() {
    on_both_runtimes(|| async {
        for sent in [0usize, 100, miri_or(100_000, 8_000)] {
            let data = vec![3u8; sent];
            let src = SliceSource {
                data: &data,
                chunk: 4096,
                stall_after: Some(sent),
            };
            let mut r = StreamReader::with_capacity(CAP, src).with_limit(usize::MAX);
            let m = Meter::start();
            assert!(
                common::poll_at_most(r.peek(1 << 40), miri_or(10_000, 1_000)).is_none(),
                "stalled"
            );
            assert_eq!(r.buffer().len(), sent, "every arrived byte is buffered");
            let bound = CAP + 4 * sent + 256;
            assert!(
                m.peak() <= bound,
                "sent {sent}: peak {} > {bound}",
                m.peak()
            );
        }
        // At end of stream it returns what arrived.
        let data = vec![4u8; 10_000];
        let mut r = StreamReader::with_capacity(CAP, source(&data, 1500)).with_limit(usize::MAX);
        let m = Meter::start();
        assert_eq!(r.peek(usize::MAX).await.unwrap().len(), 10_000);
        assert!(m.peak() <= CAP + 4 * 10_000 + 256, "peak {}", m.peak());
    });
}

/// Peak heap of discarding 8 MiB of bad input (an over-long line or an
/// oversized frame) that arrives 1500 bytes per read.
#[test]
fn discarding_bad_input_holds_at_most_the_capacity() {
    on_both_runtimes(|| async {
        let huge = miri_or(8 << 20, 64 << 10);
        // An over-long line, through skip_until.
        let mut line = vec![b'x'; huge];
        line.extend_from_slice(b"\r\nok\r\n");
        let mut r = StreamReader::with_capacity(CAP, source(&line, 1500));
        let m = Meter::start();
        assert_eq!(r.skip_until(b"\r\n").await.unwrap(), Some(huge as u64 + 2));
        // The normal buffer, plus the boxed multi-byte delimiter searcher.
        assert!(m.peak() <= CAP + 1024, "skip_until: peak {}", m.peak());
        // The same through Delimited::discard_overlong.
        let mut r = StreamReader::with_capacity(CAP, source(&line, 1500));
        let mut d = intake::frame::Delimited::new(b"\r\n")
            .max_length(1024)
            .discard_overlong();
        let m = Meter::start();
        assert!(matches!(
            r.decode(&mut d).await,
            Err(Error::LimitExceeded { .. })
        ));
        assert_eq!(
            r.decode(&mut d).await.unwrap().as_deref(),
            Some(&b"ok\r\n"[..])
        );
        assert!(
            m.peak() <= CAP + 4 * 1024 + 1024,
            "discard_overlong: peak {}",
            m.peak()
        );
        // An oversized frame, through skip_frame.
        let prefix = intake::LengthPrefix::new(4).max_frame_len(1024);
        let mut frame = (huge as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&vec![1u8; huge]);
        frame.extend_from_slice(b"\x00\x00\x00\x02ok");
        let mut r = StreamReader::with_capacity(CAP, source(&frame, 1500));
        let m = Meter::start();
        assert!(matches!(
            r.read_frame(&prefix).await,
            Err(Error::FrameTooLarge { .. })
        ));
        assert_eq!(r.skip_frame(&prefix).await.unwrap(), Some(huge as u64));
        assert_eq!(
            r.read_frame(&prefix).await.unwrap().as_deref(),
            Some(&b"ok"[..])
        );
        assert!(m.peak() <= CAP + 256, "skip_frame: peak {}", m.peak());
    });
}

/// A large `read_exact_into` cancelled again and again (a timeout around
/// each attempt): each put-back reuses the reader's memory instead of
/// allocating anew while the last put-back's memory is still held.
#[test]
fn cancelled_read_exact_into_puts_back_without_doubling_memory() {
    on_both_runtimes(|| async {
        let n = 16 << 20;
        let data = common::pattern(n, 9);
        let mut r = StreamReader::with_capacity(CAP, bursty(&data));
        let mut dst = vec![0u8; n];
        let m = Meter::start();
        let mut cancels = 0;
        loop {
            // 40 polls per attempt: each attempt makes a little progress.
            match common::poll_at_most(r.read_exact_into(&mut dst), 40) {
                Some(result) => break result.unwrap(),
                None => cancels += 1,
            }
        }
        assert!(cancels >= 5, "{cancels} cancellations");
        assert!(dst == data, "every byte once, in order");
        // Beyond the caller's buffer: one put-back copy at most, plus the
        // normal buffer (it was 1.9 times the read before).
        assert!(m.peak() <= n + 2 * CAP + 1024, "peak {} for {n}", m.peak());
        assert!(
            m.big() <= cancels + 1,
            "{} large allocations for {cancels} cancels",
            m.big()
        );
    });
}

/// The same body read under a timeout that fires again and again, through
/// `read_exact_into_resumable`: nothing is put back, so the heap beyond the
/// caller's buffer stays at the reader's capacity, and each attempt moves
/// only the bytes that arrived during it (the stream position always equals
/// the bytes in `dst`, and nothing is copied back).
#[test]
fn cancelled_resumable_read_holds_only_the_capacity() {
    on_both_runtimes(|| async {
        let n = miri_or(16 << 20, 512 << 10);
        let data = common::pattern(n, 9);
        let mut r = StreamReader::with_capacity(CAP, bursty(&data));
        // A small read first, so the reader's normal buffer exists.
        let mut head = [0u8; 16];
        r.read_exact_into(&mut head).await.unwrap();
        let mut dst = vec![0u8; n - 16];
        let mut filled = 0;
        let m = Meter::start();
        let mut cancels = 0;
        // Each `Ready` poll of `Bursty` moves 64 KiB: Miri's smaller body
        // needs fewer polls per attempt to be cancelled as often.
        let polls = miri_or(40, 2);
        loop {
            match common::poll_at_most(r.read_exact_into_resumable(&mut dst, &mut filled), polls) {
                Some(result) => break result.unwrap(),
                None => {
                    cancels += 1;
                    assert_eq!(r.position(), 16 + filled as u64);
                    assert!(r.buffer().len() <= CAP);
                }
            }
        }
        assert!(cancels >= miri_or(5, 3), "{cancels} cancellations");
        assert!(head == data[..16] && dst == data[16..], "every byte once");
        assert!(
            m.peak() <= CAP + 1024,
            "peak {} beyond the caller's buffer",
            m.peak()
        );
        assert_eq!(m.big(), 0, "no large allocation");
    });
}

/// A source of `len` bytes that never hold the delimiter (the cycled
/// `block`), then `tail`; at most 64 KiB per read, allocating nothing.
struct LongPart<'a> {
    block: &'a [u8],
    left: u64,
    tail: &'a [u8],
}

impl AsyncRead for LongPart<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let max = buf.len().min(64 * 1024);
        if self.left == 0 {
            let n = max.min(self.tail.len());
            buf[..n].copy_from_slice(&self.tail[..n]);
            self.tail = &self.tail[n..];
            return Poll::Ready(Ok(n));
        }
        let n = max.min(self.block.len()).min(self.left as usize);
        buf[..n].copy_from_slice(&self.block[..n]);
        self.left -= n as u64;
        Poll::Ready(Ok(n))
    }
}

/// A writer that counts what it is given and checks it is all `byte`.
struct CheckedSink {
    byte: u8,
    count: u64,
}

impl futures_io::AsyncWrite for CheckedSink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = buf.len().min(64 * 1024);
        // The ends of each write: a boundary byte would show at one of them
        // (checking every byte would dominate this 1 GiB test's time).
        assert!(n == 0 || (buf[0] == self.byte && buf[n - 1] == self.byte));
        self.count += n as u64;
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// `copy_until` moves a 1 GiB multipart part to a writer up to a 70-byte
/// boundary with the heap at the reader's capacity plus the delimiter (and
/// its searcher).
#[test]
fn copy_until_a_huge_part_holds_capacity_plus_delimiter() {
    on_both_runtimes(|| async {
        let len = miri_or(1 << 30, 256 << 10) as u64;
        let boundary = [b"\r\n--".as_slice(), &[b'b'; 66]].concat();
        assert_eq!(boundary.len(), 70);
        let block = vec![b'x'; 64 * 1024];
        let tail = [boundary.as_slice(), b"--\r\n"].concat();
        let mut r = StreamReader::with_capacity(
            CAP,
            LongPart {
                block: &block,
                left: len,
                tail: &tail,
            },
        );
        let mut sink = CheckedSink {
            byte: b'x',
            count: 0,
        };
        let m = Meter::start();
        let copied = r.copy_until(&boundary, &mut sink).await.unwrap();
        assert_eq!(copied, Some(len));
        assert_eq!(sink.count, len);
        // The capacity, the delimiter, and its searcher (memchr's `memmem`
        // finder, about 300 bytes, kept by the reader).
        assert!(
            m.peak() <= CAP + boundary.len() + 512,
            "peak {} for a {len}-byte part",
            m.peak()
        );
        assert_eq!(&r.read_exactly(4).await.unwrap()[..], b"--\r\n");
    });
}

/// A socket-like sink that allocates nothing: it takes at most `max` bytes
/// per call and keeps only a count.
struct CountingSink {
    max: usize,
    taken: usize,
}

impl futures_io::AsyncWrite for CountingSink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = buf.len().min(self.max);
        self.taken += n;
        Poll::Ready(Ok(n))
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        let n = total.min(self.max);
        self.taken += n;
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn writer_frames_of_16_kib_make_no_allocation_per_frame() {
    use intake::{LengthPrefix, StreamWriter};
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(4);
        let payload = bytes::Bytes::from(vec![3u8; 16 << 10]);
        for max in [1500, 64 << 10] {
            let mut w = StreamWriter::new(CountingSink { max, taken: 0 });
            for _ in 0..4 {
                w.write_frame(&prefix, &payload).await.unwrap();
                w.send_frame(&prefix, payload.clone()).await.unwrap();
            }
            let m = Meter::start();
            let frames = miri_or(2000, 20);
            for _ in 0..frames {
                w.write_frame(&prefix, &payload).await.unwrap();
                w.send_frame(&prefix, payload.clone()).await.unwrap();
            }
            w.flush().await.unwrap();
            // The kept-item queue may grow once to its steady length; the
            // coalescing buffer is reused.
            assert!(
                m.count() <= 2,
                "C={max}: {} allocations for {} frames",
                m.count(),
                2 * frames
            );
        }
    });
}

/// [`CountingSink`] that answers `Pending` to every other call (and wakes
/// at once): a socket that is full half the time.
struct BusyEveryOther {
    sink: CountingSink,
    flip: bool,
}

impl futures_io::AsyncWrite for BusyEveryOther {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[io::IoSlice::new(buf)])
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.flip = !self.flip;
        if self.flip {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Pin::new(&mut self.sink).poll_write_vectored(cx, bufs)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Writes faster than a busy sink takes them pile up to the writer's cap,
/// by design; the heap must stay near the cap, whatever copies them
/// (`write_frame`, the `AsyncWrite` path) and whatever their size. Copied
/// into a coalescing buffer that grew by doubling, they took it past the
/// cap: for this 256 KiB cap, 827 KiB of heap with 16 KiB frames (3.0 MiB
/// for the default 1 MiB in the writes bench), 512 KiB with 8 KiB frames
/// or writes, 768 KiB with 16 KiB writes, 640 KiB with 2 KiB writes.
#[test]
fn writes_piling_up_on_a_busy_sink_keep_the_heap_near_the_cap() {
    use futures_lite::AsyncWriteExt;
    use intake::{LengthPrefix, StreamWriter};
    for (frames, size) in [
        (true, 16 << 10),
        (true, 8 << 10),
        (false, 16 << 10),
        (false, 2 << 10),
    ] {
        on_both_runtimes(|| async move {
            let prefix = LengthPrefix::new(4);
            let payload = vec![7u8; size];
            let cap = 256 << 10;
            let count = miri_or(3 << 20, 1 << 20) / size;
            let m = Meter::start();
            let sink = BusyEveryOther {
                sink: CountingSink {
                    max: 1500,
                    taken: 0,
                },
                flip: false,
            };
            let mut w = StreamWriter::new(sink).with_max_pending(cap);
            let mut most = 0;
            for _ in 0..count {
                if frames {
                    w.write_frame(&prefix, &payload).await.unwrap();
                } else {
                    w.write_all(&payload).await.unwrap();
                }
                most = most.max(w.pending());
            }
            assert!(most >= cap - (20 << 10), "piled up to {most} only");
            // The pending bytes (the cap and one item), the newest
            // coalescing buffer (one largest write), the spare (a written
            // one kept for reuse) and the unused tails and written fronts
            // of the retired ones not yet freed: 187 KiB over the cap at
            // most, measured.
            assert!(
                m.peak() < cap + (224 << 10),
                "frames {frames}, {size} bytes: peak heap {} for a cap of {cap}",
                m.peak()
            );
            // Memory is reused while bytes pile up and drain: a handful of
            // allocations in all, not one per item (regression: every
            // 64 KiB piled up took a new buffer, and freezing it into
            // `Bytes` a second allocation: 0.67 per 16 KiB frame).
            assert!(
                m.count() <= 24,
                "frames {frames}, {size} bytes: {} allocations for {count} items",
                m.count()
            );
            w.flush().await.unwrap();
            let header = if frames { 4 } else { 0 };
            assert_eq!(w.get_ref().sink.taken, count * (header + size));
        });
    }
}

#[test]
fn writer_small_items_hold_one_write_worth_of_memory() {
    use intake::{LengthPrefix, StreamWriter};
    on_both_runtimes(|| async {
        let prefix = LengthPrefix::new(4);
        let payload = [5u8; 64];
        let owned = bytes::Bytes::copy_from_slice(&payload);
        for max in [1500, 64 << 10] {
            let m = Meter::start();
            let mut w = StreamWriter::new(CountingSink { max, taken: 0 });
            for _ in 0..miri_or(100_000, 600) {
                w.write_frame(&prefix, &payload).await.unwrap();
                w.send_frame(&prefix, owned.clone()).await.unwrap();
                w.send(owned.clone()).await.unwrap();
            }
            w.flush().await.unwrap();
            // One write's worth (at most 64 KiB) and one item, whatever the
            // number of items.
            assert!(
                m.peak() <= (64 << 10) + 1024,
                "C={max}: peak {} bytes",
                m.peak()
            );
            assert!(m.count() <= 4, "C={max}: {} allocations", m.count());
        }
    });
}
