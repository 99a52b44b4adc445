//! 10,000 idle readers, each polled once on a source that is always
//! `Pending`: the memory each costs, measured with a counting allocator
//! (own test binary). The figure is recorded in the README.
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use common::{poll_at_most, NeverReady};
use intake::{LengthPrefix, StreamReader};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Relaxed);
        System.alloc(l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Relaxed);
        System.alloc_zeroed(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_sub(l.size(), Relaxed);
        LIVE.fetch_add(n, Relaxed);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static A: Counting = Counting;

const READERS: usize = common::miri_or(10_000, 500);

/// One test in this binary: nothing else allocates meanwhile.
#[test]
fn ten_thousand_idle_readers_memory_per_reader() {
    let prefix = LengthPrefix::new(4);
    // Mapped memory (large frames on Linux) counts as allocated.
    intake::observe_mappings(|old, new| {
        LIVE.fetch_sub(old, Relaxed);
        LIVE.fetch_add(new, Relaxed);
    });
    let before = LIVE.load(Relaxed);
    let mut readers: Vec<StreamReader<NeverReady>> = Vec::with_capacity(READERS);
    for _ in 0..READERS {
        readers.push(StreamReader::new(NeverReady::default()));
    }
    for (i, r) in readers.iter_mut().enumerate() {
        // Each reader is polled once, through one operation or another.
        let pending = match i % 3 {
            0 => poll_at_most(r.read_frame(&prefix), 1).is_none(),
            1 => poll_at_most(r.read_until(b"\n"), 1).is_none(),
            _ => poll_at_most(r.read_exactly(10), 1).is_none(),
        };
        assert!(pending);
        assert_eq!(r.get_ref().polls, 1);
    }
    let per_reader = (LIVE.load(Relaxed) - before) / READERS;
    println!(
        "{READERS} idle readers: {per_reader} bytes of heap each (size_of StreamReader = {} bytes; read_until readers also cache their delimiter search)",
        std::mem::size_of::<StreamReader<NeverReady>>()
    );
    // An idle reader holds no buffer: its struct plus small bookkeeping,
    // far from the 8 KiB buffer it would otherwise keep.
    assert!(per_reader < 512, "{per_reader} bytes per idle reader");
    // And it works again when data comes: a ready reader after idling.
    let mut r = StreamReader::new(&b"\x00\x00\x00\x02hi"[..]);
    assert_eq!(
        &futures_lite::future::block_on(r.read_frame(&prefix))
            .unwrap()
            .unwrap()[..],
        b"hi"
    );
}
