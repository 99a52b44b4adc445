//! A 256 MiB frame over compio TCP with a 1 ms timeout around every read:
//! each timeout drops the read future mid-read, the read in flight stays
//! with the reader, and the frame comes out whole, with peak heap (counted
//! by this binary's allocator, on the reading thread) at the frame plus
//! the reader's capacity.
#![cfg(feature = "compio")]
#![cfg(not(miri))]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::time::Duration;

use intake::{CompioIo, Error, StreamReader};

struct Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn grew(size: usize) {
    let _ = LIVE.try_with(|l| {
        let now = l.get() + size;
        l.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

fn shrank(size: usize) {
    let _ = LIVE.try_with(|l| l.set(l.get().saturating_sub(size)));
}

// SAFETY: forwards to the system allocator, counting sizes on the side.
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

const N: usize = 256 << 20;
const CAPACITY: usize = 64 * 1024;

/// The sender repeats one 1 MiB piece of this pattern.
fn byte_at(i: usize) -> u8 {
    (i % (1 << 20) % 251) as u8
}

#[test]
fn a_1ms_timeout_around_every_read_of_a_256_mib_frame_loses_nothing() {
    let rt = common::compio_runtime();
    let listener = rt
        .block_on(compio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    // The sender: a plain thread with a blocking socket, writing a
    // pattern in 1 MiB pieces (its memory is not on the reading thread).
    let sender = std::thread::spawn(move || {
        let mut sock = std::net::TcpStream::connect(addr).unwrap();
        let piece: Vec<u8> = (0..1 << 20).map(byte_at).collect();
        for _ in 0..N >> 20 {
            sock.write_all(&piece).unwrap();
        }
    });
    let (timeouts, frame_ok, peak, live_before) = rt.block_on(async {
        let (sock, _) = listener.accept().await.unwrap();
        let mut r = StreamReader::with_capacity(CAPACITY, CompioIo::new(sock));
        let live_before = LIVE.with(Cell::get);
        PEAK.with(|p| p.set(live_before));
        let mut timeouts = 0u64;
        let frame = loop {
            match compio::time::timeout(Duration::from_millis(1), r.read_exactly(N)).await {
                Ok(res) => break res,
                Err(_elapsed) => timeouts += 1,
            }
        };
        let frame = frame.map_err(|e: Error| e.to_string()).unwrap();
        let peak = PEAK.with(Cell::get);
        let bad = frame.iter().enumerate().position(|(i, &b)| b != byte_at(i));
        let ok = match bad {
            None => frame.len() == N,
            Some(i) => {
                eprintln!("first wrong byte at {i} of {}", frame.len());
                false
            }
        };
        (timeouts, ok, peak, live_before)
    });
    sender.join().unwrap();
    assert!(frame_ok, "the frame came out whole and in order");
    assert!(timeouts > 0, "some reads were cut by the timeout");
    let used = peak - live_before;
    println!(
        "256 MiB frame, {timeouts} reads cut by a 1 ms timeout; peak heap: the frame + {} KiB \
         (capacity {} KiB)",
        (used as i64 - N as i64) / 1024,
        CAPACITY / 1024
    );
    assert!(
        used <= N + CAPACITY,
        "peak heap {used} for a {N}-byte frame with capacity {CAPACITY}"
    );
}
