//! Large allocations as anonymous memory mappings (Linux).
//!
//! A source that reads into `&mut [u8]` (futures-io) must be handed
//! initialized memory. Heap memory grown by `realloc` is not initialized,
//! so it has to be zeroed before the source writes it: every byte of a
//! large frame written twice, once by a memset and once by the source. The
//! kernel hands out anonymous mappings zero-filled, lazily, page by page as
//! they are first touched, and `mremap` grows them the same way, moving
//! page tables rather than bytes. So a large frame's memory here is
//! initialized from the start, grows with the bytes that arrive, and each
//! byte is written once: by the source. This is what `calloc` gives a peer
//! that trusts a length and allocates it whole up front; intake gets it
//! while still growing with arrival.
//!
//! Frames split off a mapping leave as `Bytes` that share it (through
//! `Bytes::from_owner`); the mapping is moved, grown or rewritten only
//! while no frame shares it ([`Arc::get_mut`]).
//!
//! Mapped memory is not seen by the global allocator, so a counting
//! allocator would miss it: [`observe_mappings`] lets one count it too.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;

/// A private anonymous mapping, read-write, owned by this value.
#[derive(Debug)]
struct Mapping {
    /// INVARIANT: `ptr..ptr + len` is one mapping made by `mmap` (or moved
    /// and grown by `mremap`) and not unmapped while this value lives;
    /// every byte of it is initialized (zero-filled by the kernel, or
    /// written since).
    ptr: NonNull<u8>,
    len: usize,
    /// How much of it was asked for (`<= len`, which is whole pages): the
    /// views see this much, so that a frame that asked for exactly its
    /// size fills its memory exactly, as a heap allocation would.
    asked: usize,
}

// SAFETY: a `Mapping` is plain memory owned by this value, like a
// `Box<[u8]>`; it is written only through `&mut` access to its owner
// (`Arc::get_mut`, or the one view that writes past every shared frame).
unsafe impl Send for Mapping {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for Mapping {}

/// The system's page size.
fn page_size() -> usize {
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    match PAGE.load(Ordering::Relaxed) {
        0 => {
            // SAFETY: `sysconf` with a valid name has no preconditions.
            let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            let size = usize::try_from(size)
                .ok()
                .filter(|&s| s > 0)
                .unwrap_or(4096);
            PAGE.store(size, Ordering::Relaxed);
            size
        }
        size => size,
    }
}

/// `len` rounded up to whole pages (`None` on overflow).
fn whole_pages(len: usize) -> Option<usize> {
    let page = page_size();
    len.max(1).checked_add(page - 1).map(|l| l / page * page)
}

impl Mapping {
    /// A new mapping of at least `len` bytes, or `None` if the kernel
    /// refuses (the caller falls back to the heap).
    fn new(asked: usize) -> Option<Mapping> {
        let len = whole_pages(asked)?;
        // SAFETY: an anonymous private mapping at an address of the
        // kernel's choosing: it touches no existing memory.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        // Huge pages where the mapping holds whole ones: the source's first
        // touch of each 2 MiB then costs one fault instead of 512, and
        // the kernel zero-fills it in one pass. Memory still follows
        // arrival: the mapping itself is never larger than the policy lets
        // it grow (at most four times what arrived), and the kernel only
        // backs whole, aligned 2 MiB ranges inside it with a huge page.
        // Advice only: where the kernel ignores it, pages stay 4 KiB.
        #[cfg(not(miri))]
        // SAFETY: advice on the mapping just made; it changes no contents
        // and no other memory.
        unsafe {
            libc::madvise(ptr, len, libc::MADV_HUGEPAGE)
        };
        // Counted as asked, as a counting allocator counts layouts.
        observed(0, asked.max(1));
        Some(Mapping {
            ptr: NonNull::new(ptr.cast())?,
            len,
            asked: asked.max(1),
        })
    }

    /// Grows the mapping to at least `len` bytes; the new bytes are zero.
    /// The mapping may move. `false` if the kernel refuses (nothing
    /// changed).
    fn grow(&mut self, asked: usize) -> bool {
        let Some(len) = whole_pages(asked) else {
            return false;
        };
        if len <= self.len {
            if asked > self.asked {
                observed(self.asked, asked);
                self.asked = asked;
            }
            return true;
        }
        // SAFETY: `ptr..ptr + self.len` is exactly one mapping this value
        // made (the INVARIANT on `ptr`); `&mut self` means no reference
        // into it is alive, so it may move. MREMAP_MAYMOVE without a fixed
        // address touches no other memory.
        let ptr = unsafe {
            libc::mremap(
                self.ptr.as_ptr().cast(),
                self.len,
                len,
                libc::MREMAP_MAYMOVE,
            )
        };
        if ptr == libc::MAP_FAILED {
            return false;
        }
        let Some(ptr) = NonNull::new(ptr.cast()) else {
            return false;
        };
        observed(self.asked, asked);
        self.ptr = ptr;
        self.len = len;
        self.asked = asked;
        true
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping is this value's (the INVARIANT on `ptr`), and
        // no reference into it outlives it: views and frames hold the
        // `Arc` that owns it.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
        observed(self.asked, 0);
    }
}

/// A view of a mapping from `start` to its end: what a `BytesMut` is for
/// heap memory. Every byte of it is initialized.
#[derive(Debug)]
pub(crate) struct MappedBuf {
    map: Arc<Mapping>,
    /// INVARIANT: `start <= map.asked`; frames split off this mapping (the
    /// other holders of `map`) lie wholly before `start`, so the view's
    /// bytes are this view's alone.
    start: usize,
}

impl MappedBuf {
    /// A new mapping of at least `len` bytes, all zero.
    pub(crate) fn new(len: usize) -> Option<MappedBuf> {
        Some(MappedBuf {
            map: Arc::new(Mapping::new(len)?),
            start: 0,
        })
    }

    /// The view's length (all of it initialized).
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.map.asked - self.start
    }

    /// The view's first address. Only compared, never read through.
    #[inline]
    pub(crate) fn as_ptr(&self) -> *const u8 {
        self.map.ptr.as_ptr().wrapping_add(self.start)
    }

    #[inline]
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `start..map.asked` lies in the mapping (INVARIANT on
        // `start`), every byte of which is initialized (INVARIANT on
        // `ptr`); no `&mut` to it is alive while `self` is borrowed.
        unsafe { std::slice::from_raw_parts(self.as_ptr(), self.capacity()) }
    }

    #[inline]
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`; and the view's bytes are its alone
        // (frames lie before `start`), so this is the only reference to
        // them. The pointer comes from the mapping itself, not from a
        // shared reference.
        unsafe {
            std::slice::from_raw_parts_mut(self.map.ptr.as_ptr().add(self.start), self.capacity())
        }
    }

    /// Splits the first `n` bytes off as a frame sharing the mapping.
    pub(crate) fn split_to(&mut self, n: usize) -> Bytes {
        assert!(n <= self.capacity());
        let frame = MappedFrame {
            map: Arc::clone(&self.map),
            start: self.start,
            len: n,
        };
        self.start += n;
        Bytes::from_owner(frame)
    }

    /// Drops the first `n` bytes from the view.
    #[inline]
    pub(crate) fn advance(&mut self, n: usize) {
        assert!(n <= self.capacity());
        self.start += n;
    }

    /// Makes the view at least `want` bytes long, keeping its first `kept`
    /// bytes: as it is if it is long enough, else moved to the mapping's
    /// start, which only works if no frame shares the mapping.
    pub(crate) fn reclaim(&mut self, kept: usize, want: usize) -> bool {
        debug_assert!(kept <= self.capacity());
        if self.capacity() >= want {
            return true;
        }
        let start = self.start;
        match Arc::get_mut(&mut self.map) {
            Some(map) if map.asked >= want => {
                // SAFETY: both ranges lie in the mapping (`start + kept <=
                // len`), which no one else holds; `copy` allows overlap.
                unsafe { std::ptr::copy(map.ptr.as_ptr().add(start), map.ptr.as_ptr(), kept) };
                self.start = 0;
                true
            }
            _ => false,
        }
    }

    /// Grows the view to at least `len` bytes, keeping its first `kept`
    /// bytes, in place with `mremap` (no bytes are copied unless the view
    /// must move to the mapping's start). `false` if a frame shares the
    /// mapping or the kernel refuses; nothing is lost then.
    pub(crate) fn grow(&mut self, kept: usize, len: usize) -> bool {
        let start = self.start;
        let Some(map) = Arc::get_mut(&mut self.map) else {
            return false;
        };
        if start != 0 {
            // SAFETY: as in `reclaim`.
            unsafe { std::ptr::copy(map.ptr.as_ptr().add(start), map.ptr.as_ptr(), kept) };
        }
        self.start = 0;
        map.grow(len)
    }
}

/// A frame split off a mapping: keeps the mapping alive.
struct MappedFrame {
    map: Arc<Mapping>,
    start: usize,
    len: usize,
}

impl AsRef<[u8]> for MappedFrame {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `start..start + len` lies in the mapping (it was split off
        // a view of it); its bytes are initialized and never written again:
        // the view that writes starts after them, and the mapping is moved
        // or rewritten only while no frame shares it.
        unsafe { std::slice::from_raw_parts(self.map.ptr.as_ptr().add(self.start), self.len) }
    }
}

/// Told `(old_len, new_len)` of each change in mapped memory.
type Observer = fn(usize, usize);

/// The observer of mapped memory, if one was set.
static OBSERVER: RwLock<Option<Observer>> = RwLock::new(None);

fn observed(old_len: usize, new_len: usize) {
    if let Some(observer) = *OBSERVER.read().unwrap_or_else(|e| e.into_inner()) {
        observer(old_len, new_len);
    }
}

/// Calls `observer(old_len, new_len)` each time the reader maps (`old_len`
/// 0), grows, or unmaps (`new_len` 0) memory for a large frame (Linux), as
/// a counting allocator sees `alloc`, `realloc` and `dealloc`: lengths as
/// asked for, before rounding up to whole pages. For
/// counting allocators in tests and benchmarks: mapped memory does not go
/// through the global allocator, so without this it would go uncounted.
/// The call happens on the thread that maps or unmaps (unmapping happens
/// where the last frame of a mapping is dropped).
#[doc(hidden)]
pub fn observe_mappings(observer: Observer) {
    *OBSERVER.write().unwrap_or_else(|e| e.into_inner()) = Some(observer);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_is_zeroed_grows_in_place_and_frames_keep_it_alive() {
        // Miri checks the same code on 64 KiB: it emulates every page of a
        // grown mapping.
        let grown = if cfg!(miri) { 64 << 10 } else { 1 << 20 };
        let mut m = MappedBuf::new(10_000).expect("mmap");
        assert_eq!(m.capacity(), 10_000);
        assert!(m.as_slice() == vec![0u8; 10_000]);
        m.as_mut_slice()[..5].copy_from_slice(b"hello");
        let frame = m.split_to(5);
        assert_eq!(&frame[..], b"hello");
        // A frame shares the mapping: no move, no growth.
        assert!(!m.grow(0, grown));
        assert!(!m.reclaim(0, m.capacity() + 1));
        drop(frame);
        m.as_mut_slice()[..3].copy_from_slice(b"abc");
        assert!(m.grow(3, grown));
        assert!(m.capacity() >= grown);
        assert_eq!(&m.as_slice()[..3], b"abc");
        let old_end = whole_pages(10_000).unwrap();
        // One memcmp (Miri ran an `iter().all` byte by byte: about 7 min
        // for 1 MiB on a slow machine).
        let grown_part = &m.as_slice()[old_end..];
        assert!(grown_part == vec![0u8; grown_part.len()], "grown zeroed");
        assert_eq!(m.capacity(), grown, "the size asked for");
        let whole = m.split_to(m.capacity());
        drop(m);
        assert_eq!(&whole[..3], b"abc", "the frame outlives the view");
    }
}
