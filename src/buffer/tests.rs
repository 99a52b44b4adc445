//! The buffer's memory policy, carried out on real memory. Every test
//! runs twice: reading as futures-io does (initialized memory) and as
//! tokio does (uninitialized memory); under Miri that proves no
//! uninitialized byte is ever read.

use super::policy::ZERO_AHEAD;
use super::*;
use std::cell::Cell;

thread_local! {
    /// Whether this thread's tests read as a source that reads into
    /// uninitialized memory (see `every_policy_test_reading_uninit`).
    static UNINIT: Cell<bool> = const { Cell::new(false) };
}

fn uninit() -> bool {
    UNINIT.with(Cell::get)
}

fn buffer(capacity: usize) -> Buffer {
    Buffer::new(capacity)
}

/// Makes room for `fill` as a read does.
fn prep(b: &mut Buffer, fill: Fill) {
    let reads = if uninit() {
        Reads::Uninitialized
    } else {
        Reads::Initialized
    };
    b.prepare(fill, reads);
}

/// What a read does: writes into the free tail and commits (a large
/// frame's mapping is initialized whole, and handed out so to every
/// source).
fn fill(b: &mut Buffer, data: &[u8]) {
    if uninit() && !b.region.is_mapped() {
        let tail = b.region.uninit_window(usize::MAX);
        let n = data.len().min(tail.len());
        for (slot, &x) in tail.iter_mut().zip(&data[..n]) {
            slot.write(x);
        }
        // SAFETY: the loop initialized the first `n` bytes of the window.
        unsafe { b.commit_uninit(n) };
    } else {
        let tail = b.region.init_window(usize::MAX, usize::MAX);
        let n = data.len().min(tail.len());
        tail[..n].copy_from_slice(&data[..n]);
        b.commit(n);
    }
}

/// Reads every byte of the initialized free window (Miri checks each is
/// initialized); reading into uninitialized memory, it is only written.
fn read_free_tail(b: &mut Buffer) {
    if !uninit() {
        let tail = b.region.init_window(usize::MAX, ZERO_AHEAD);
        let sum: u32 = tail.iter().map(|&x| u32::from(x)).sum();
        assert!(sum < u32::MAX);
    }
}

/// A 16-byte-capacity buffer that handed out a 1000-byte frame, which
/// the caller dropped; and where that frame's memory starts.
fn after_dropped_large_frame() -> (Buffer, *const u8) {
    let mut b = buffer(16);
    prep(&mut b, Fill::Exactly { n: 1000 });
    fill(&mut b, &[7u8; 1000]);
    let first = b.take(1000);
    let base = first.as_ptr();
    drop(first);
    (b, base)
}

/// A toy chunked coding for the buffer's own test (the real one is the
/// codec layer's): a head is one decimal digit and `;`, after a `|` that
/// ends the data before it; `0;` is the last chunk.
fn toy_head(raw: &[u8], first: bool) -> std::io::Result<Option<(usize, Option<u64>)>> {
    let skip = usize::from(!first);
    match raw.get(..skip + 2) {
        None => Ok(None),
        Some(h) if (first || h[0] == b'|') && h[skip + 1] == b';' => {
            let n = u64::from(h[skip] - b'0');
            Ok(Some((skip + 2, (n != 0).then_some(n))))
        }
        Some(_) => Err(std::io::ErrorKind::InvalidData.into()),
    }
}

#[test]
fn dechunk_cuts_heads_in_one_pass_and_keeps_the_rest() {
    let mut b = buffer(64);
    let outer = b.open_chunked();
    prep(&mut b, Fill::More);
    fill(&mut b, b"3;abc|2;de|1;f|4;gh");
    assert!(b.view_exhausted() && b.at_chunk_end());
    // Three heads cut, the fourth chunk's data partly here.
    assert_eq!(b.dechunk(toy_head).unwrap(), 8);
    assert_eq!(b.unread(), b"abcdefgh");
    assert!(!b.view_exhausted(), "two bytes of the fourth chunk to come");
    prep(&mut b, Fill::More);
    fill(&mut b, b"ij|0;NEXT");
    assert_eq!(b.unread(), b"abcdefghij");
    b.consume(9);
    assert!(b.view_exhausted() && b.at_chunk_end());
    // The last chunk: the body ends, what follows stays, hidden until the
    // view closes.
    assert_eq!(b.dechunk(toy_head).unwrap(), 0);
    assert!(!b.at_chunk_end());
    assert_eq!(b.unread(), b"j");
    b.consume(1);
    b.close_chunked(outer);
    assert_eq!(b.unread(), b"NEXT");
    // The stream offset counts the framing again: every byte before `NEXT`.
    assert_eq!(b.position(), b"3;abc|2;de|1;f|4;ghij|0;".len() as u64);
}

#[test]
fn dechunk_stops_at_bad_framing_after_cutting_what_came_before() {
    let mut b = buffer(64);
    let _outer = b.open_chunked();
    prep(&mut b, Fill::More);
    fill(&mut b, b"2;ab#1;cd");
    assert!(b.dechunk(toy_head).is_err());
    assert_eq!(b.unread(), b"ab");
    b.consume(2);
    assert!(b.dechunk(toy_head).is_err(), "the same error again");
}

#[test]
fn allocates_nothing_until_asked() {
    let b = buffer(8192);
    assert_eq!(b.allocated(), 0);
    assert!(b.unread().is_empty());
}

#[test]
fn take_is_zero_copy_and_keeps_order() {
    let mut b = buffer(16);
    prep(&mut b, Fill::More);
    fill(&mut b, b"hello world");
    let base = b.unread().as_ptr();
    let hello = b.take(5);
    assert_eq!(&hello[..], b"hello");
    assert_eq!(hello.as_ptr(), base, "split off the buffer, not copied");
    assert_eq!(b.unread(), b" world");
}

#[test]
fn oversized_allocation_is_released_when_small_reads_follow() {
    let mut b = buffer(16);
    prep(&mut b, Fill::Exactly { n: 1000 });
    assert_eq!(b.allocated(), 1000);
    fill(&mut b, &[7u8; 1000]);
    drop(b.take(1000));
    // One small read (the next header) sets it aside and reads into a
    // normal allocation...
    prep(&mut b, Fill::More);
    assert_eq!(b.region.free(), 16);
    fill(&mut b, &[1u8; 16]);
    b.consume(10);
    // ...and the next small read that needs room lets go of it.
    assert_eq!(b.spare.size(), 1000);
    prep(&mut b, Fill::Exactly { n: 16 });
    assert_eq!(b.spare.size(), 0);
    assert_eq!(b.allocated(), 16);
    assert_eq!(b.unread(), &[1u8; 6]);
}

#[test]
fn oversized_allocation_is_released_when_idle() {
    let mut b = buffer(16);
    prep(&mut b, Fill::Exactly { n: 1000 });
    fill(&mut b, &[7u8; 1000]);
    drop(b.take(1000));
    b.release_if_empty();
    assert_eq!(b.allocated(), 0);
    // Also once set aside behind a header.
    prep(&mut b, Fill::Exactly { n: 1000 });
    fill(&mut b, &[7u8; 1000]);
    drop(b.take(1000));
    prep(&mut b, Fill::More);
    assert_eq!(b.spare.size(), 1000);
    b.release_if_empty();
    assert_eq!((b.allocated(), b.spare.size()), (0, 0));
}

#[test]
fn large_allocation_is_reused_for_the_next_large_frame_once_dropped() {
    let (mut b, base) = after_dropped_large_frame();
    // The next frame claims 1000 bytes; only 16 are justified, but the
    // memory already held is reused whole: no new allocation.
    prep(&mut b, Fill::Untrusted { need: 1000 });
    assert_eq!(b.allocated(), 1000);
    assert_eq!(b.region.free(), 1000);
    assert_eq!(b.region.free_ptr(), base);
}

#[test]
fn large_allocation_is_reused_when_unread_bytes_overlap_its_front() {
    // A header consumed separately, then a large frame right behind it:
    // the unread bytes sit just past the front and must move there.
    let (mut b, base) = after_dropped_large_frame();
    prep(&mut b, Fill::More); // the header read: a normal allocation
    fill(&mut b, b"HDR:abcdefghijkl");
    b.consume(4);
    prep(&mut b, Fill::Exactly { n: 1000 });
    assert_eq!(b.allocated(), 1000, "reused, not a second allocation");
    assert_eq!(b.unread(), b"abcdefghijkl");
    assert_eq!(b.unread().as_ptr(), base);
}

#[test]
fn held_header_pins_only_the_normal_allocation() {
    let (mut b, base) = after_dropped_large_frame();
    prep(&mut b, Fill::Exactly { n: 4 });
    fill(&mut b, b"HDR:");
    let header = b.take(4); // the caller keeps the header
    prep(&mut b, Fill::Exactly { n: 1000 });
    assert_eq!(b.allocated(), 1000);
    assert_eq!(b.region.free_ptr(), base, "the large memory is reused");
    assert_eq!(&header[..], b"HDR:");
}

#[test]
fn held_large_frame_is_not_reused_and_the_claim_allocates_nothing() {
    let mut b = buffer(16);
    prep(&mut b, Fill::Exactly { n: 1000 });
    fill(&mut b, &[7u8; 1000]);
    let held = b.take(1000);
    // The caller still holds the frame: its memory cannot be reused, and
    // an unproven claim gets only the justified target.
    prep(&mut b, Fill::Untrusted { need: 1_000_000 });
    assert_eq!(b.allocated(), 16);
    assert!(held.iter().all(|&x| x == 7));
}

#[test]
fn reclaims_in_place_when_frames_are_dropped() {
    let mut b = buffer(16);
    prep(&mut b, Fill::More);
    fill(&mut b, &[1u8; 16]);
    let base = b.unread().as_ptr();
    drop(b.take(12));
    prep(&mut b, Fill::Exactly { n: 8 });
    assert_eq!(b.unread(), &[1u8; 4]);
    assert_eq!(b.unread().as_ptr(), base, "the same allocation was reused");
}

#[test]
fn consume_moves_only_the_head_and_rewinds_when_empty() {
    let mut b = buffer(16);
    prep(&mut b, Fill::More);
    fill(&mut b, b"line one\nline");
    let base = b.unread().as_ptr();
    b.consume(9);
    assert_eq!(b.unread(), b"line");
    // A split after a consume starts at the first unread byte.
    let two = b.take(2);
    assert_eq!(&two[..], b"li");
    b.consume(2);
    assert_eq!(b.len(), 0);
    drop(two);
    // Nothing unread: the next read lands at the front again.
    prep(&mut b, Fill::More);
    fill(&mut b, b"abc");
    assert_eq!(b.unread(), b"abc");
    assert_eq!(b.unread().as_ptr(), base.wrapping_add(11));
    b.consume(1);
    // Making room drops the consumed prefix and keeps the unread bytes.
    prep(&mut b, Fill::Exactly { n: 15 });
    assert_eq!(b.unread(), b"bc");
    assert!(b.region.free() >= 13);
}

#[test]
fn held_frame_does_not_grow_the_buffer() {
    let mut b = buffer(16);
    let mut held = Vec::new();
    for _ in 0..100 {
        prep(&mut b, Fill::More);
        fill(&mut b, &[1u8; 16]);
        held.push(b.take(1));
        b.consume(15);
        assert!(b.allocated() <= 16);
    }
}

#[test]
fn reuse_after_growth_exposes_only_initialized_memory() {
    // Grow in place past the capacity, hand the bytes out, drop them,
    // and reuse the allocation without re-zeroing: every byte of the
    // free tail must be readable (Miri checks this).
    let mut b = buffer(8);
    for round in 0..4u8 {
        prep(&mut b, Fill::More);
        fill(&mut b, &[round; 8]);
        prep(&mut b, Fill::Exactly { n: 24 }); // grows: unread bytes beyond the capacity
        fill(&mut b, &[round; 16]);
        let frame = b.take(b.len());
        assert!(frame.iter().all(|&x| x == round));
        drop(frame);
        prep(&mut b, Fill::More);
        read_free_tail(&mut b);
    }
}

#[test]
fn idle_release_and_refill() {
    let mut b = buffer(16);
    prep(&mut b, Fill::More);
    b.release_if_empty();
    assert_eq!(b.allocated(), 0);
    prep(&mut b, Fill::More);
    fill(&mut b, b"x");
    b.release_if_empty();
    assert_eq!(b.unread(), b"x", "unread bytes keep their buffer");
}

#[test]
fn unread_front_reuses_a_drained_allocation_in_place() {
    let mut b = buffer(16);
    prep(&mut b, Fill::More);
    fill(&mut b, b"0123456789");
    let base = b.unread().as_ptr();
    b.consume(10);
    b.unread_front(b"put back");
    assert_eq!(b.unread(), b"put back");
    assert_eq!(b.unread().as_ptr(), base, "no new allocation");
    // A put-back larger than the allocation grows it, and the bytes
    // after it are initialized (Miri checks the free tail is readable).
    b.consume(8);
    let big = [7u8; 100];
    b.unread_front(&big);
    assert_eq!(b.unread(), &big[..]);
    assert!(b.allocated() >= 100);
    read_free_tail(&mut b);
    // A held frame keeps its memory; the put-back goes elsewhere.
    let held = b.take(50);
    b.consume(50);
    b.unread_front(b"xy");
    assert_eq!(b.unread(), b"xy");
    assert!(held.iter().all(|&x| x == 7));
}

#[test]
fn unread_front_restores_order() {
    let mut b = buffer(4);
    prep(&mut b, Fill::More);
    fill(&mut b, b"cd");
    b.unread_front(b"ab");
    assert_eq!(b.unread(), b"abcd");
}

/// The whole memory policy again with reads into uninitialized memory
/// (tokio sources): every test above, reading that way. Under Miri this
/// also proves no uninitialized byte is ever read.
#[test]
fn every_policy_test_reading_uninit() {
    UNINIT.with(|u| u.set(true));
    let tests: [fn(); 16] = [
        dechunk_cuts_heads_in_one_pass_and_keeps_the_rest,
        allocates_nothing_until_asked,
        take_is_zero_copy_and_keeps_order,
        oversized_allocation_is_released_when_small_reads_follow,
        oversized_allocation_is_released_when_idle,
        large_allocation_is_reused_for_the_next_large_frame_once_dropped,
        large_allocation_is_reused_when_unread_bytes_overlap_its_front,
        held_header_pins_only_the_normal_allocation,
        held_large_frame_is_not_reused_and_the_claim_allocates_nothing,
        reclaims_in_place_when_frames_are_dropped,
        consume_moves_only_the_head_and_rewinds_when_empty,
        held_frame_does_not_grow_the_buffer,
        reuse_after_growth_exposes_only_initialized_memory,
        idle_release_and_refill,
        unread_front_reuses_a_drained_allocation_in_place,
        unread_front_restores_order,
    ];
    for test in tests {
        test();
    }
    UNINIT.with(|u| u.set(false));
}

/// The source reads as futures-io does: into the window of `prepare_init`.
fn read_init(b: &mut Buffer, fill: Fill, data: &[u8]) -> usize {
    let (window, _, _) = b.prepare_init(fill);
    let n = data.len().min(window.len());
    window[..n].copy_from_slice(&data[..n]);
    b.commit(n);
    n
}

#[test]
fn a_growing_frame_is_zeroed_only_ahead_of_its_bytes() {
    // A 4 MiB frame whose length came off the wire, 64 KiB per read: the
    // memory grows with the bytes, and what the reader zeroes itself stays
    // within a bounded window ahead of them, never one pass over the grown
    // allocation. On Linux, memory past `MAP_MIN` is a mapping that the
    // kernel zero-fills, and the reader zeroes none of it.
    let zeroed = || region::ZEROED.with(std::cell::Cell::get);
    let start = zeroed();
    let mut b = buffer(16);
    // Past `MAP_MIN`, so that the mapping takes over (smaller under Miri).
    let need = if cfg!(miri) {
        policy::MAP_MIN + (128 << 10)
    } else {
        4 << 20
    };
    let chunk = vec![3u8; 64 << 10];
    while b.len() < need {
        let before = b.len();
        read_init(&mut b, Fill::Untrusted { need }, &chunk);
        assert!(b.len() > before);
        let z = zeroed() - start;
        assert!(
            z <= b.len() + ZERO_AHEAD,
            "{z} zeroed for {} bytes",
            b.len()
        );
    }
    #[cfg(target_os = "linux")]
    assert!(
        zeroed() - start <= policy::MAP_MIN,
        "{} zeroed in all",
        zeroed() - start
    );
    let frame = b.take(need);
    assert!(frame[..] == vec![3u8; need][..]);
}

#[test]
fn memory_reused_in_place_is_not_zeroed_again() {
    // A large frame's memory, set aside behind a header and reused for the
    // next large frame, keeps what it knew to be initialized: the next
    // frame's window is all of it at once.
    let mut b = buffer(16);
    let need = 1 << 20;
    let data = vec![5u8; need];
    while b.len() < need {
        let got = b.len();
        read_init(&mut b, Fill::Exactly { n: need }, &data[got..]);
    }
    drop(b.take(need));
    read_init(&mut b, Fill::Exactly { n: 4 }, b"HDR:"); // sets it aside
    b.consume(4);
    let (window, _, _) = b.prepare_init(Fill::Untrusted { need });
    assert_eq!(
        window.len(),
        need,
        "the whole reused allocation, no zeroing"
    );
    assert!(window[..] == data[..], "stale bytes, initialized");
}

#[test]
fn a_source_reading_uninit_memory_keeps_what_a_put_back_buffered() {
    let mut b = buffer(16);
    b.unread_front(b"abc");
    // Now reads go into uninitialized memory (a tokio source).
    let (Window::Uninit(window), _, _) = b.prepare_uninit(Fill::More) else {
        panic!("a small buffer is heap memory, handed out uninitialized");
    };
    assert_eq!(window.len(), 13);
    for (slot, &x) in window.iter_mut().zip(b"defghijklmnop") {
        slot.write(x);
    }
    // SAFETY: the loop initialized all 13 bytes of the window.
    unsafe { b.commit_uninit(13) };
    assert_eq!(b.unread(), b"abcdefghijklmnop");
    // A large frame grows without zeroing and keeps every byte.
    let (Window::Uninit(window), _, _) = b.prepare_uninit(Fill::Exactly { n: 100 }) else {
        panic!("100 bytes are heap memory, handed out uninitialized");
    };
    let n = window.len().min(84);
    for slot in &mut window[..n] {
        slot.write(9);
    }
    // SAFETY: the loop initialized the first `n` bytes of the window.
    unsafe { b.commit_uninit(n) };
    let frame = b.take(16 + n);
    assert_eq!(&frame[..16], b"abcdefghijklmnop");
    assert!(frame[16..].iter().all(|&x| x == 9));
}

// ------------------------------------------------ lending (completion I/O)

/// What a completion source does with lent memory: writes `data` at its
/// front (within its capacity, so the memory is not moved).
fn kernel_writes(tail: &mut bytes::BytesMut, max: usize, data: &[u8]) {
    let n = data.len().min(max).min(tail.capacity());
    tail.extend_from_slice(&data[..n]);
}

#[test]
fn lent_tail_comes_back_joined_in_place() {
    let mut b = buffer(64);
    let (mut tail, max) = b.lend(Fill::More);
    assert!(b.is_lent());
    assert!(max > 0 && max <= tail.capacity());
    let at = tail.as_ptr();
    kernel_writes(&mut tail, max, b"hello world");
    assert_eq!(b.give_back(tail), Some(11));
    assert!(!b.is_lent());
    assert_eq!(b.unread(), b"hello world");
    // The bytes are where the lent memory was: no copy.
    assert_eq!(b.unread().as_ptr(), at);
    // The next lend continues right after them, in the same allocation.
    let (tail, _) = b.lend(Fill::More);
    assert_eq!(tail.as_ptr(), at.wrapping_add(11));
    assert_eq!(b.give_back(tail), Some(0));
    assert_eq!(b.take(5), &b"hello"[..]);
}

#[test]
fn frames_taken_while_lent_leave_the_join_intact() {
    let mut b = buffer(64);
    let (mut tail, max) = b.lend(Fill::More);
    kernel_writes(&mut tail, max, b"abcdefgh");
    b.give_back(tail).unwrap();
    let (mut tail, max) = b.lend(Fill::More);
    // Meanwhile the caller takes every unread byte (and drops the frames).
    assert_eq!(b.take(3), &b"abc"[..]);
    b.consume(5);
    assert_eq!(b.len(), 0);
    kernel_writes(&mut tail, max, b"ijk");
    assert_eq!(b.give_back(tail), Some(3));
    assert_eq!(b.unread(), b"ijk");
    b.region.debug_check();
}

#[test]
fn memory_other_than_the_lent_is_refused_and_the_region_stays_valid() {
    let mut b = buffer(64);
    let (mut tail, max) = b.lend(Fill::More);
    kernel_writes(&mut tail, max, b"kept");
    b.give_back(tail).unwrap();
    let (_lent, _) = b.lend(Fill::More);
    let mut foreign = bytes::BytesMut::with_capacity(16);
    foreign.extend_from_slice(b"evil");
    assert_eq!(b.give_back(foreign), None);
    assert_eq!(b.unread(), b"kept", "the unread bytes are untouched");
    b.region.debug_check();
    // The reader goes on: room is made anew.
    let (mut tail, max) = b.lend(Fill::More);
    kernel_writes(&mut tail, max, b"!");
    assert_eq!(b.give_back(tail), Some(1));
    assert_eq!(b.unread(), b"kept!");
}

#[test]
fn a_forgotten_lent_tail_leaves_a_working_buffer() {
    let mut b = buffer(32);
    let (mut tail, max) = b.lend(Fill::More);
    kernel_writes(&mut tail, max, b"xy");
    b.give_back(tail).unwrap();
    let (lost, _) = b.lend(Fill::More);
    drop(lost); // gone with its source
    b.forget_lent();
    assert!(!b.is_lent());
    b.region.debug_check();
    let (mut tail, max) = b.lend(Fill::Exactly { n: 100 });
    kernel_writes(&mut tail, max, &[7; 98]);
    assert_eq!(b.give_back(tail), Some(98.min(max)));
    assert_eq!(&b.unread()[..2], b"xy");
}

#[test]
fn an_empty_lent_reader_keeps_its_memory_until_the_read_is_back() {
    let mut b = buffer(32);
    let (mut tail, max) = b.lend(Fill::More);
    // A waiting reader lets go of empty memory, but not of lent memory.
    b.release_if_empty();
    assert!(b.allocated() > 0);
    kernel_writes(&mut tail, max, b"late bytes");
    assert_eq!(b.give_back(tail), Some(10));
    assert_eq!(b.unread(), b"late bytes");
}

#[test]
fn bytes_put_back_while_lent_come_before_the_bytes_read() {
    for unread in [&b""[..], b"mid"] {
        let mut b = buffer(32);
        let (mut tail, max) = b.lend(Fill::More);
        kernel_writes(&mut tail, max, unread);
        b.give_back(tail).unwrap();
        let (mut tail, max) = b.lend(Fill::More);
        // A cancelled read into caller memory puts its bytes back in front
        // while the tail is out: the unread bytes move to other memory.
        b.unread_front(b"front-");
        kernel_writes(&mut tail, max, b"-late");
        assert_eq!(b.give_back(tail), Some(5));
        assert_eq!(b.unread(), [&b"front-"[..], unread, b"-late"].concat());
        b.region.debug_check();
        // And the buffer goes on lending from its new memory.
        let (mut tail, max) = b.lend(Fill::More);
        kernel_writes(&mut tail, max, b"!");
        assert_eq!(b.give_back(tail), Some(1));
        assert!(b.unread().ends_with(b"-late!"));
    }
}

#[test]
#[cfg(target_os = "linux")]
fn a_large_frame_for_a_source_reading_uninit_memory_is_a_mapping_handed_out_initialized() {
    // A claim past the mapping threshold gets a mapping for every source
    // but a completion one; the mapping is initialized whole, so a tokio
    // source is handed it as initialized memory (and gets huge pages).
    let mut b = buffer(16);
    let (window, _, _) = b.prepare_uninit(Fill::Untrusted { need: 4 << 20 });
    let Window::Init(window) = window else {
        panic!("a large claim's memory is a mapping, handed out initialized");
    };
    let n = window.len().min(64);
    window[..n].fill(5);
    b.commit(n);
    assert!(b.region.is_mapped());
    assert!(b.unread().iter().all(|&x| x == 5));
}

#[test]
fn further_reads_go_into_the_room_made_until_the_frame_is_there() {
    // A 1000-byte frame from a source that gives 100 bytes a read: after
    // the first read the room made for the frame takes the next ones with
    // no policy question, until the frame is whole; never more than the
    // room (memory grows only through `prepare`), never for a search or a
    // plain fill, whose caller looks at every read.
    let mut b = buffer(64);
    let (window, _, room) = b.prepare_init(Fill::Exactly { n: 1000 });
    let mut read = window.len().min(100);
    b.commit(read);
    while let Some(max) = b.more_room(&room, read) {
        let (window, _) = b.init_window(max);
        assert!(!window.is_empty(), "a further window is never empty");
        let n = window.len().min(100);
        b.commit(n);
        read += n;
    }
    assert_eq!(b.len(), 1000, "the frame, read into the room made for it");
    let held = b.region.allocated();
    assert!(
        (1000..2000).contains(&held),
        "no room beyond the frame's: {held}"
    );

    // A hostile length: the room made for the first step is filled, no more.
    let mut b = buffer(64);
    let (window, _, room) = b.prepare_init(Fill::Untrusted { need: 1 << 30 });
    let mut read = window.len().min(10);
    b.commit(read);
    let allocated = b.region.allocated();
    while let Some(max) = b.more_room(&room, read) {
        let (window, _) = b.init_window(max);
        let n = window.len().min(10);
        b.commit(n);
        read += n;
    }
    assert_eq!(
        b.region.allocated(),
        allocated,
        "no growth without the policy"
    );
    assert_eq!(b.region.free(), 0, "the step's room is full");
    assert!(b.len() < 1 << 20);

    for fill in [Fill::More, Fill::Search { limit: 1 << 20 }] {
        let mut b = buffer(64);
        let (_, _, room) = b.prepare_init(fill);
        b.commit(1);
        assert_eq!(b.more_room(&room, 1), None, "{fill:?}: one read a call");
    }
}
