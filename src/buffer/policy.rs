//! The memory policy: when the reader's buffer makes room, how much, and
//! with which memory. Pure functions from what is held and what is asked
//! to a [`Plan`]; [`Buffer`](super::Buffer) carries plans out on the
//! [`Region`](super::region::Region). Nothing here touches memory, so the
//! whole policy is tested as a table (below).
//!
//! The rules, in one place:
//! - nothing is allocated until the first read;
//! - the normal allocation is the reader's capacity; it is reused in place
//!   once the caller has dropped the frames split off it;
//! - allocations up to [`keep_limit`] (8x the capacity) are kept for any
//!   read, so frames a little larger than the capacity cost no allocation
//!   each;
//! - a request for more than the capacity gets memory of its own: exactly
//!   its size when the caller knows it ([`Fill::Exactly`], up to
//!   [`EXACT_ALLOC_MAX`]), else growing with the bytes that arrive, at most
//!   four times what arrived and never past the claim ([`Fill::Untrusted`]),
//!   so a header that lies costs what actually came;
//! - a delimiter search grows geometrically up to its limit, so a long
//!   line costs amortized linear copying;
//! - once a large frame was handed out, the next small read (its
//!   successor's header) goes into a normal allocation again and the large
//!   one is set aside as the *spare*: if that header announces another
//!   large frame and the caller dropped the last one by then, the spare is
//!   reused in place (no allocation, no zeroing, no page faults). The spare
//!   goes at the next small read that needs room, and whenever the reader
//!   waits with nothing unread, so an idle reader holds no buffer;
//! - a read toward a frame with memory of its own (or while a spare is set
//!   aside) stops at the frame's end, so the frame fills its allocation
//!   exactly and no bytes of the next one must be moved out of it;
//! - memory a futures-io source reads into is zeroed at most
//!   [`ZERO_AHEAD`] bytes ahead of the bytes that arrived, never in one
//!   pass over a large allocation.

/// Up to this size `read_exactly` makes one zeroed allocation of exactly
/// `n` bytes up front (lazily faulted pages: the fastest way to get fresh
/// memory); above it the buffer grows with the bytes that arrive, so a huge
/// `n` costs nothing until the data is really there.
pub const EXACT_ALLOC_MAX: usize = 64 * 1024 * 1024;

/// How far past the unread bytes memory is zeroed for a source that reads
/// into initialized memory (futures-io's `&mut [u8]`): enough for any one
/// socket read to fill, small enough to stay in the CPU's cache until the
/// source writes it.
pub(crate) const ZERO_AHEAD: usize = 256 * 1024;

/// Allocations at least this large (or toward a claim at least this large)
/// are anonymous mappings where the source reads into initialized memory,
/// on Linux: the kernel zero-fills their pages as they are first touched,
/// and `mremap` grows them without copying, so the reader never zeroes a
/// large frame's memory itself. Below it, a heap allocation zeroed a
/// window at a time costs less than setting up a mapping.
pub(crate) const MAP_MIN: usize = 1 << 20;

/// The kind of memory a new allocation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Memory {
    /// Heap memory left uninitialized: the source reads into
    /// `MaybeUninit<u8>` (tokio's `ReadBuf`).
    Uninit,
    /// Heap memory, zeroed (large ones by `alloc_zeroed`, lazily faulted
    /// zero pages).
    Zeroed,
    /// An anonymous mapping, zero-filled by the kernel and grown by
    /// `mremap` (Linux); heap memory where there is none.
    Mapped,
}

/// How a source takes the memory it reads into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reads {
    /// Into initialized memory, `&mut [u8]` (futures-io).
    Initialized,
    /// Into memory that may be uninitialized (tokio's `ReadBuf`).
    Uninitialized,
    /// Into memory lent to it as an owned `BytesMut` (completion I/O).
    Lent,
}

/// The memory for an allocation of `target` bytes toward `ask`, for a
/// source that reads as `reads` says. A frame that will need a mapping gets
/// one from its first allocation, so that it grows by `mremap` all the way
/// and never holds heap and mapping at once. Large frames are mapped for
/// every source but a completion one (whose reads are lent a `BytesMut`):
/// the mapping's huge pages cost one fault per 2 MiB (see `mapped`).
#[inline]
pub(crate) fn memory(ask: &Ask, target: usize, reads: Reads) -> Memory {
    let large = cfg!(target_os = "linux") && ask.claim.max(target) >= MAP_MIN;
    match reads {
        Reads::Lent => Memory::Uninit,
        _ if large => Memory::Mapped,
        Reads::Initialized => Memory::Zeroed,
        Reads::Uninitialized => Memory::Uninit,
    }
}

/// What a read wants from the buffer: the reader says what, the policy
/// decides how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fill {
    /// At least one more byte: an ordinary read of up to the capacity.
    More,
    /// A delimiter search that may hold up to `limit` bytes.
    Search { limit: usize },
    /// Toward `need` unread bytes, a number that came off the wire.
    Untrusted { need: usize },
    /// Toward exactly `n` unread bytes, a number the caller chose.
    Exactly { n: usize },
}

/// What the buffer holds when a read asks for room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Held {
    /// The reader's normal allocation size (its capacity, at least 1).
    pub(crate) normal: usize,
    /// Size of the current allocation (0: none).
    pub(crate) allocated: usize,
    /// Unread bytes.
    pub(crate) unread: usize,
    /// Unread plus free bytes.
    pub(crate) room: usize,
    /// Size of the spare set aside (0: none).
    pub(crate) spare: usize,
}

/// A [`Fill`] in numbers, for what is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ask {
    /// Unread plus free bytes needed before reading (more than `unread`).
    pub(crate) min: usize,
    /// The size to make room for, when room must be made (>= `min`).
    pub(crate) target: usize,
    /// Contiguous bytes the caller will want eventually (0: unknown):
    /// memory already held is reused for up to this much, since reusing
    /// commits nothing new.
    pub(crate) claim: usize,
    /// Unread bytes the caller needs (`usize::MAX`: no number).
    pub(crate) need: usize,
}

/// Reusing an allocation in place for `want` bytes in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reuse {
    pub(crate) want: usize,
    /// The free tail ends at the capacity; otherwise at `want`, so that a
    /// large allocation reused for less is soon let go.
    pub(crate) whole: bool,
}

/// The last step of making room, which cannot fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Last {
    /// `realloc` the allocation to `target` bytes: many unread bytes, which
    /// a remap keeps in place.
    Grow(usize),
    /// A new allocation of `target` bytes, the few unread bytes copied.
    Fresh(usize),
}

/// How to make room. The steps run in order; a step that needs memory
/// nothing else holds can fail, and then the next one runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// The free tail is fine as it is.
    Keep,
    /// Make room.
    Room {
        /// A large frame is coming: switch to the spare (the current
        /// allocation becomes the spare). Fails if the caller still holds
        /// the frame the spare held.
        use_spare: Option<Reuse>,
        /// A small read after a large frame: the current allocation
        /// becomes the spare, and reading goes on in the old spare
        /// reclaimed like this, or in a fresh allocation of its `want`.
        /// Ends the plan.
        set_aside: Option<Reuse>,
        /// Reuse the current allocation in place (after the spare, if any,
        /// was let go).
        reuse: Option<Reuse>,
        /// With `reuse`: the unread bytes may be moved to the front by a
        /// small copy when they overlap it.
        stash: bool,
        last: Last,
    },
}

/// Allocations up to this size are kept and reused for any read; larger
/// ones only for another large frame.
#[inline]
pub(crate) fn keep_limit(normal: usize) -> usize {
    normal.saturating_mul(8)
}

/// `fill` in numbers, for `unread` bytes held and a normal size `normal`.
#[inline]
pub(crate) fn ask(fill: Fill, unread: usize, normal: usize) -> Ask {
    let one_more = unread + 1;
    let (min, target, need) = match fill {
        Fill::More => (one_more, normal.max(one_more), usize::MAX),
        Fill::Search { limit } => {
            let target = normal.max(limit.min(unread.saturating_mul(2)));
            (one_more, target.max(one_more), usize::MAX)
        }
        Fill::Exactly { n } if n > normal && n <= EXACT_ALLOC_MAX => (n, n, n),
        Fill::Untrusted { need } | Fill::Exactly { n: need } => {
            if need <= normal {
                (need, normal, need)
            } else {
                let justified = normal.max(unread.saturating_mul(4));
                let step = justified.min(need);
                (one_more, step.max(one_more), need)
            }
        }
    };
    let claim = if need != usize::MAX && need > normal {
        need
    } else {
        0
    };
    Ask {
        min: min.max(one_more),
        target: target.max(min),
        claim,
        need,
    }
}

/// Whether the free tail serves `ask` as it is (the plan is
/// [`Plan::Keep`]): the check every read makes, kept small to inline.
#[inline]
pub(crate) fn fits(ask: &Ask, room: usize, free: usize, spare: usize) -> bool {
    // With a spare that may hold the claimed frame, switch to it before
    // reading more into the normal allocation (which would be copied).
    let to_spare = spare != 0 && ask.claim > room;
    free != 0 && room >= ask.min && !to_spare
}

/// The plan for `ask`, given what is held and whether the free tail is
/// empty.
pub(crate) fn plan(held: &Held, ask: &Ask, free: usize) -> Plan {
    if fits(ask, held.room, free, held.spare) {
        return Plan::Keep;
    }
    let keep = keep_limit(held.normal);
    let few_unread = held.unread <= held.normal;
    let target = ask.target;
    let mut use_spare = None;
    if ask.claim > keep {
        // A large frame is coming: reuse the last large frame's
        // allocation, if the caller has dropped that frame by now.
        if held.spare != 0 && held.allocated <= keep && few_unread {
            use_spare = Some(Reuse {
                want: target.max(ask.claim.min(held.spare)),
                whole: held.spare <= keep,
            });
        }
    } else if held.allocated > keep && few_unread {
        // A small read after a large frame (its successor's header): set
        // the large allocation aside for a next large frame and go back to
        // a normal one, so that small frames split off now (a header the
        // caller keeps) do not pin the large memory.
        return Plan::Room {
            use_spare: None,
            set_aside: Some(Reuse {
                want: target,
                whole: held.spare <= keep,
            }),
            reuse: None,
            stash: false,
            last: Last::Fresh(target),
        };
    }
    // Reuse the current allocation in place unless it is oversized for
    // what is wanted now.
    let want = target.max(ask.claim.min(held.allocated));
    let reuse = (held.allocated != 0 && held.allocated <= keep.max(want)).then_some(Reuse {
        want,
        whole: held.allocated <= keep,
    });
    let stash = few_unread && want <= held.allocated;
    let last = if held.unread > held.normal {
        Last::Grow(target)
    } else {
        Last::Fresh(target)
    };
    Plan::Room {
        use_spare,
        set_aside: None,
        reuse,
        stash,
        last,
    }
}

/// The most one read may bring, once room is made: a read toward a frame
/// with memory of its own, or while a spare is set aside, stops at the
/// frame's end (see the module docs); other reads run on past it, since
/// stopping there would cost an extra read per frame.
#[inline]
pub(crate) fn read_cap(ask: &Ask, unread: usize, normal: usize, has_spare: bool) -> usize {
    let stop = ask.need != usize::MAX && (ask.need > keep_limit(normal) || has_spare);
    if stop {
        ask.need.saturating_sub(unread).max(1)
    } else {
        usize::MAX
    }
}

/// How many unread bytes `ask` wants before its caller can use them: a
/// frame or an exact read wants its whole length (reads into the room made
/// for it go on until it is there, the source runs dry or the room is
/// full); a search or a plain fill wants any new bytes (0), since its
/// caller looks at each read.
#[inline]
pub(crate) fn read_until(ask: &Ask) -> usize {
    if ask.need == usize::MAX {
        0
    } else {
        ask.need
    }
}

/// How far past the unread bytes to zero memory for a source that reads
/// into initialized memory.
#[inline]
pub(crate) fn zero_ahead(normal: usize) -> usize {
    normal.max(ZERO_AHEAD)
}

/// Whether a read into caller memory of `len` bytes, with nothing
/// buffered, should bypass the buffer (as std's `BufReader` does): the
/// caller's memory holds at least a whole ordinary read.
#[inline]
pub(crate) fn read_direct(len: usize, capacity: usize) -> bool {
    len >= capacity
}

/// Putting `n` bytes back with nothing unread: the free tail of the
/// reused allocation ends at its capacity if it is one the reader keeps.
/// With unread bytes, the size of the fresh allocation that takes both.
#[inline]
pub(crate) fn put_back(held: &Held, n: usize) -> (bool, usize) {
    (
        held.allocated <= keep_limit(held.normal),
        (n + held.unread).max(held.normal),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: usize = 16; // normal size
    const KEEP: usize = 128; // keep_limit(16)

    fn held(allocated: usize, unread: usize, room: usize, spare: usize) -> Held {
        Held {
            normal: N,
            allocated,
            unread,
            room,
            spare,
        }
    }

    fn room(
        use_spare: Option<(usize, bool)>,
        reuse: Option<(usize, bool)>,
        stash: bool,
        last: Last,
    ) -> Plan {
        let r = |(want, whole)| Reuse { want, whole };
        Plan::Room {
            use_spare: use_spare.map(r),
            set_aside: None,
            reuse: reuse.map(r),
            stash,
            last,
        }
    }

    #[test]
    fn asks_in_numbers() {
        let cases = [
            // (fill, unread) -> (min, target, claim, need)
            (Fill::More, 0, (1, N, 0, usize::MAX)),
            (Fill::More, 40, (41, 41, 0, usize::MAX)),
            (Fill::Search { limit: 1000 }, 4, (5, N, 0, usize::MAX)),
            (Fill::Search { limit: 1000 }, 10, (11, 20, 0, usize::MAX)),
            (Fill::Search { limit: 1000 }, 100, (101, 200, 0, usize::MAX)),
            (Fill::Search { limit: 150 }, 100, (101, 150, 0, usize::MAX)),
            (Fill::Untrusted { need: 10 }, 2, (10, N, 0, 10)),
            // A claim off the wire grows with what arrived, 4x at most.
            (
                Fill::Untrusted { need: 1 << 30 },
                0,
                (1, N, 1 << 30, 1 << 30),
            ),
            (
                Fill::Untrusted { need: 1 << 30 },
                100,
                (101, 400, 1 << 30, 1 << 30),
            ),
            (Fill::Untrusted { need: 300 }, 100, (101, 300, 300, 300)),
            // A size the caller chose is allocated at once, up to a bound.
            (Fill::Exactly { n: 10 }, 0, (10, N, 0, 10)),
            (Fill::Exactly { n: 5000 }, 3, (5000, 5000, 5000, 5000)),
            (
                Fill::Exactly {
                    n: EXACT_ALLOC_MAX + 1,
                },
                0,
                (1, N, EXACT_ALLOC_MAX + 1, EXACT_ALLOC_MAX + 1),
            ),
        ];
        for (fill, unread, (min, target, claim, need)) in cases {
            let want = Ask {
                min,
                target,
                claim,
                need,
            };
            assert_eq!(ask(fill, unread, N), want, "{fill:?} with {unread} unread");
        }
    }

    #[test]
    fn plans() {
        let small = ask(Fill::More, 0, N);
        let small_after = |unread| ask(Fill::More, unread, N);
        let large = |unread| ask(Fill::Untrusted { need: 1000 }, unread, N);
        let cases = [
            // (what is held, asked, free tail) -> plan
            (
                "nothing yet",
                held(0, 0, 0, 0),
                small,
                0,
                room(None, None, false, Last::Fresh(N)),
            ),
            (
                "room enough",
                held(N, 4, N, 0),
                small_after(4),
                12,
                Plan::Keep,
            ),
            (
                "full: reuse in place, else fresh",
                held(N, 4, 4, 0),
                small_after(4),
                0,
                room(None, Some((N, true)), true, Last::Fresh(N)),
            ),
            (
                "many unread: reuse, else grow",
                held(64, 64, 64, 0),
                small_after(64),
                0,
                room(None, Some((65, true)), false, Last::Grow(65)),
            ),
            (
                "room enough toward a claim",
                held(100, 2, 100, 0),
                large(2),
                98,
                Plan::Keep,
            ),
            (
                "a large frame coming: the spare, else in place",
                held(N, 4, 4, 1000),
                large(4),
                0,
                room(Some((1000, false)), Some((N, true)), true, Last::Fresh(N)),
            ),
            (
                "the spare is switched to before the normal tail fills",
                held(N, 4, N, 1000),
                large(4),
                12,
                room(Some((1000, false)), Some((N, true)), true, Last::Fresh(N)),
            ),
            (
                "a small read after a large frame sets it aside",
                held(1000, 0, 0, N),
                small,
                0,
                Plan::Room {
                    use_spare: None,
                    set_aside: Some(Reuse {
                        want: N,
                        whole: true,
                    }),
                    reuse: None,
                    stash: false,
                    last: Last::Fresh(N),
                },
            ),
            (
                "a large allocation is not reused for a small read",
                held(1000, 200, 200, 0),
                small_after(200),
                0,
                room(None, None, false, Last::Grow(201)),
            ),
            (
                "growing toward a large frame: in place up to the claim",
                held(400, 400, 400, 0),
                large(400),
                0,
                room(None, Some((1000, false)), false, Last::Grow(1000)),
            ),
        ];
        for (what, held, ask, free, want) in cases {
            assert_eq!(plan(&held, &ask, free), want, "{what}");
        }
        assert_eq!(KEEP, keep_limit(N));
    }

    #[test]
    fn memory_kinds() {
        let small = ask(Fill::More, 0, N);
        let huge = ask(Fill::Untrusted { need: 1 << 30 }, 0, N);
        let mapped = if cfg!(target_os = "linux") {
            Memory::Mapped
        } else {
            Memory::Zeroed
        };
        assert_eq!(memory(&small, N, Reads::Uninitialized), Memory::Uninit);
        assert_eq!(memory(&small, N, Reads::Lent), Memory::Uninit);
        assert_eq!(memory(&small, N, Reads::Initialized), Memory::Zeroed);
        assert_eq!(memory(&small, MAP_MIN, Reads::Initialized), mapped);
        // A large claim is mapped from its first, small allocation on, so
        // it grows by remapping all the way.
        assert_eq!(memory(&huge, N, Reads::Initialized), mapped);
        let heap_if_not_linux = if cfg!(target_os = "linux") {
            Memory::Mapped
        } else {
            Memory::Uninit
        };
        assert_eq!(memory(&huge, N, Reads::Uninitialized), heap_if_not_linux);
        // Lent memory is a `BytesMut`: never a mapping.
        assert_eq!(memory(&huge, N, Reads::Lent), Memory::Uninit);
    }

    #[test]
    fn reads_stop_at_a_frame_with_memory_of_its_own() {
        let big = ask(Fill::Untrusted { need: 1000 }, 10, N);
        assert_eq!(read_cap(&big, 10, N, false), 990);
        let mid = ask(Fill::Untrusted { need: 100 }, 10, N);
        assert_eq!(read_cap(&mid, 10, N, false), usize::MAX);
        assert_eq!(read_cap(&mid, 10, N, true), 90, "while a spare is aside");
        assert_eq!(read_cap(&ask(Fill::More, 0, N), 0, N, true), usize::MAX);
    }
}
