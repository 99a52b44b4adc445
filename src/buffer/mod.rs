//! The bottom layer: the one contiguous buffer behind a
//! [`StreamReader`](crate::StreamReader), the queue of pending bytes behind
//! a [`StreamWriter`](crate::StreamWriter) (`write_queue`), and the
//! incremental delimiter search (`search`).
//!
//! The reader's buffer is three parts, each with one job:
//! - [`region`]: the memory. One allocation, the unread bytes in it, and an
//!   initialized watermark (`head <= filled <= init`, `filled <= end <=
//!   capacity`), as tokio's `ReadBuf` keeps one;
//! - [`policy`]: when to make room, how much, and with which memory. Pure
//!   functions from what is held and what a read asks to a plan, tested as
//!   a table;
//! - [`cursor`]: the stream bookkeeping that every consumption shifts:
//!   position, scan progress, the decode run, an open run, end of stream.
//!
//! [`Buffer`] joins them behind the API the reader uses. A read says what
//! it wants ([`Fill`]), and gets the window to read into
//! ([`Buffer::prepare_init`], [`Buffer::prepare_uninit`]); every
//! consumption goes through one method, which moves the cursor with the
//! region.

use std::io;
use std::mem::MaybeUninit;

use bytes::Bytes;

mod cursor;
#[cfg(target_os = "linux")]
mod mapped;
pub(crate) mod policy;
mod region;
pub(crate) mod search;
mod write_queue;

pub(crate) use cursor::{ChunkedOuter, Dechunk, DecodeSession};
#[cfg(target_os = "linux")]
pub use mapped::observe_mappings;
/// Where memory is never mapped, there is nothing to observe.
#[cfg(not(target_os = "linux"))]
#[doc(hidden)]
pub fn observe_mappings(_observer: fn(usize, usize)) {}
pub(crate) use policy::Fill;
pub(crate) use write_queue::WriteQueue;
pub use write_queue::MAX_IOVECS;

use cursor::Cursor;
pub(crate) use policy::Reads;
use policy::{Held, Last, Memory, Plan};
use region::{Region, Spare};
use search::{Finder, Scan};

/// The reader's buffer: its memory, the spare, and the stream bookkeeping.
pub(crate) struct Buffer {
    region: Region,
    /// The allocation of the last large frame, set aside (empty) while
    /// small reads (its successor's header) use a normal one; or the
    /// normal one while a large frame is read. See [`policy`].
    spare: Spare,
    cursor: Cursor,
    /// The normal allocation size (the reader's capacity).
    capacity: usize,
}

impl Buffer {
    /// A buffer that allocates nothing until its first read.
    pub(crate) fn new(capacity: usize) -> Self {
        Buffer {
            region: Region::default(),
            spare: Spare::default(),
            cursor: Cursor::default(),
            capacity,
        }
    }

    /// The reader's normal capacity.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The size of one ordinary read: at least one byte, so that a reader
    /// with capacity 0 still makes progress.
    #[inline]
    fn normal(&self) -> usize {
        self.capacity.max(1)
    }

    /// The unread bytes (within the view, if one is open).
    #[inline]
    pub(crate) fn unread(&self) -> &[u8] {
        &self.region.unread()[..self.len()]
    }

    /// Number of unread bytes (within the view, if one is open).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.cursor.visible(self.region.len())
    }

    // ------------------------------------------------------ bounded views

    /// Where the innermost `limited` view ends, as a stream offset.
    #[inline]
    pub(crate) fn limit_end(&self) -> Option<u64> {
        self.cursor.limit_end()
    }

    /// Opens (or closes, with `None`) a `limited` view ending at stream
    /// offset `end`; returns the last end.
    #[inline]
    pub(crate) fn set_limit_end(&mut self, end: Option<u64>) -> Option<u64> {
        self.cursor.set_limit_end(end)
    }

    /// Whether a view (`limited` or `chunked`) is open.
    #[inline]
    pub(crate) fn in_view(&self) -> bool {
        self.cursor.in_view()
    }

    // ------------------------------------------------------ chunked views

    /// Opens a chunked view at the first unread byte (see [`Dechunk`]).
    pub(crate) fn open_chunked(&mut self) -> ChunkedOuter {
        self.cursor.open_chunked()
    }

    /// Closes the chunked view `open_chunked` opened.
    pub(crate) fn close_chunked(&mut self, outer: ChunkedOuter) {
        self.cursor.close_chunked(outer);
    }

    /// The open chunked view's state.
    #[inline]
    pub(crate) fn chunked(&self) -> Option<&Dechunk> {
        self.cursor.chunked()
    }

    /// Whether the view ends at the chunk data decoded so far, with more
    /// of the body to come.
    #[inline]
    pub(crate) fn at_chunk_end(&self) -> bool {
        self.cursor.at_chunk_end()
    }

    /// Within a chunked view whose decoded data is all buffered: cuts each
    /// complete head (`parse` finds one at the start of the bytes it is
    /// given, as `(length, data bytes after it)`, `None` for the last
    /// chunk's) out of the bytes buffered past the data, moving each
    /// chunk's data once, to right after the data before it. One pass over
    /// what is buffered, however many chunks it holds. Returns how many
    /// decoded bytes became visible.
    ///
    /// # Errors
    ///
    /// `parse`'s: the heads before the bad one are cut, it stays in front.
    pub(crate) fn dechunk(
        &mut self,
        mut parse: impl FnMut(&[u8], bool) -> io::Result<Option<(usize, Option<u64>)>>,
    ) -> io::Result<usize> {
        debug_assert!(!self.region.is_lent() && self.at_chunk_end());
        let before = self.len();
        let unread = self.region.unread_mut();
        let total = unread.len();
        // Framing is read at `read`; data is moved down to `write`.
        let (mut read, mut write) = (before, before);
        let mut found = Ok(());
        while let Some(state) = self.cursor.chunked() {
            if state.done() || state.nested() {
                break;
            }
            let (len, data) = match parse(&unread[read..], state.first()) {
                Ok(Some(head)) => head,
                Ok(None) => break,
                Err(e) => {
                    found = Err(e);
                    break;
                }
            };
            read += len;
            self.cursor.cut_head(len, data);
            let Some(size) = data else { break };
            let here = usize::try_from(size).map_or(total - read, |s| s.min(total - read));
            unread.copy_within(read..read + here, write);
            read += here;
            write += here;
            if (here as u64) < size {
                break;
            }
        }
        // What follows (a head cut short, or nothing) moves along.
        unread.copy_within(read..total, write);
        self.region.truncate_unread(total - (read - write));
        found.map(|()| self.len() - before)
    }

    /// Lets the next read go past the chunk data, for framing (bounded
    /// only by an enclosing `limited`); returns what to pass to
    /// [`end_raw_read`](Self::end_raw_read) right after it.
    #[inline]
    pub(crate) fn begin_raw_read(&mut self) -> u64 {
        self.cursor.begin_raw_read()
    }

    #[inline]
    pub(crate) fn end_raw_read(&mut self, saved: u64) {
        self.cursor.end_raw_read(saved);
    }

    /// Whether every byte of the open view is buffered: a read would go
    /// past its end. The view is at its end of stream, or, in a chunked
    /// view, at the end of the data decoded so far ([`at_chunk_end`]).
    ///
    /// [`at_chunk_end`]: Self::at_chunk_end
    #[inline]
    pub(crate) fn view_exhausted(&self) -> bool {
        self.cursor.view_unbuffered(self.region.len()) == Some(0)
    }

    /// How many bytes a read straight into caller memory may take: `want`,
    /// or less within a view.
    #[inline]
    pub(crate) fn direct_cap(&self, want: usize) -> usize {
        match self.cursor.view_unbuffered(self.region.len()) {
            Some(left) => usize::try_from(left).map_or(want, |left| left.min(want)),
            None => want,
        }
    }

    /// The stream offset of the first unread byte.
    #[inline]
    pub(crate) fn position(&self) -> u64 {
        self.cursor.position()
    }

    /// Whether the last read from the source returned end of stream.
    #[inline]
    pub(crate) fn eof(&self) -> bool {
        self.cursor.eof()
    }

    /// Size of the allocation currently held (0 if none). For tests of the
    /// memory policy.
    #[cfg(test)]
    pub(crate) fn allocated(&self) -> usize {
        self.region.allocated()
    }

    // ---------------------------------------------------- consumption
    // Every consumption goes through `consume` or `take_payload`, which
    // move the cursor with the region.

    /// Discards up to `n` unread bytes (clamped, never panics).
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        let n = self.region.consume(n.min(self.len()));
        self.cursor.consumed(n);
    }

    /// Splits the first `n` unread bytes off as a zero-copy `Bytes`.
    /// `n <= len()`; callers check first.
    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Bytes {
        self.take_payload(0, n)
    }

    /// Splits the first `header + payload` unread bytes off and returns the
    /// payload alone: one split, the header dropped with it.
    #[inline]
    pub(crate) fn take_payload(&mut self, header: usize, payload: usize) -> Bytes {
        let total = header + payload;
        let out = self.region.take(header, total);
        self.cursor.consumed(total);
        self.cursor.item_taken();
        out
    }

    /// Splits off every unread byte.
    pub(crate) fn take_all(&mut self) -> Bytes {
        self.take(self.len())
    }

    /// Copies unread bytes into `dst` and consumes them. Returns the count.
    #[inline]
    pub(crate) fn copy_to(&mut self, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.len());
        dst[..n].copy_from_slice(&self.unread()[..n]);
        self.consume(n);
        n
    }

    /// Drops every unread byte without handing it out (a seek makes them
    /// stale), and records that the first unread byte is now at stream
    /// offset `position`.
    pub(crate) fn discard_at(&mut self, position: u64) {
        let all = self.region.len();
        self.region.consume(all);
        self.cursor.moved_to(position);
    }

    /// Moves `offset` bytes within what is buffered (a relative seek):
    /// forward over unread bytes, or back over bytes consumed but still
    /// held. Returns whether the buffer could serve it.
    pub(crate) fn seek_within(&mut self, offset: i64) -> bool {
        if offset >= 0 {
            let Ok(n) = usize::try_from(offset) else {
                return false;
            };
            if n > self.len() {
                return false;
            }
            self.consume(n);
            return true;
        }
        let Ok(n) = usize::try_from(offset.unsigned_abs()) else {
            return false;
        };
        if self.in_view() || !self.region.unconsume(n) {
            return false;
        }
        // Bytes back in front: every scan starts again.
        self.cursor.put_back(n);
        true
    }

    /// `n` bytes went from the source straight into caller memory.
    #[inline]
    pub(crate) fn passed_through(&mut self, n: usize) {
        self.cursor.passed_through(n);
    }

    /// Puts `bytes` back in front of the unread bytes (cancellation of a
    /// read into caller memory). A read cancelled again and again holds one
    /// put-back copy at a time, never two.
    pub(crate) fn unread_front(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let (whole, fresh_len) = policy::put_back(&self.held(), bytes.len());
        if self.len() == 0 {
            self.spare = Spare::default();
        }
        self.region.put_front(bytes, whole, fresh_len);
        self.cursor.put_back(bytes.len());
    }

    // ------------------------------------------------------------ search

    /// Searches the unread bytes with `finder`, up to `limit`, resuming where
    /// the last search for the same delimiter stopped. Always inlined: it
    /// runs once per line, and left to itself the compiler made it a call
    /// in some builds (lines on tokio 13% slower than before the split).
    #[inline(always)]
    pub(crate) fn scan(&mut self, finder: &Finder, limit: usize) -> Scan {
        let visible = self.len();
        let mut searched = self.cursor.searched();
        let scan = finder.scan(&self.region.unread()[..visible], &mut searched, limit);
        self.cursor.set_searched(searched);
        scan
    }

    /// A search for another delimiter starts from the front.
    #[inline]
    pub(crate) fn restart_search(&mut self) {
        self.cursor.restart_search();
    }

    // -------------------------------------------------------------- runs

    /// Consumes `n` bytes of a delimited run that goes on past them (bytes
    /// before a delimiter not found yet: `copy_until`, `skip_until`) and
    /// remembers where the run stopped, so that a call resuming there
    /// continues it.
    #[inline]
    pub(crate) fn consume_in_run(&mut self, n: usize) {
        if n > 0 {
            self.consume(n);
            self.cursor.run_goes_on();
        }
    }

    /// The run reached its end (its delimiter, or an end of stream that
    /// was reported as cutting it).
    #[inline]
    pub(crate) fn end_run(&mut self) {
        self.cursor.end_run();
    }

    /// At an end of stream: whether it falls between runs, so that it is a
    /// clean end. Nothing is buffered, the call under way consumed nothing
    /// (`consumed`), and no earlier call stopped here inside a run.
    #[inline]
    pub(crate) fn ended_between_runs(&self, consumed: u64) -> bool {
        consumed == 0 && self.len() == 0 && !self.cursor.in_open_run()
    }

    // ------------------------------------------------------- decode runs

    /// Starts a decoding run (see [`DecodeSession`]).
    pub(crate) fn begin_decode(&mut self) -> DecodeSession {
        self.cursor.begin_decode()
    }

    /// Continues `session`; if another run recorded progress since, it
    /// starts again without that progress.
    #[inline]
    pub(crate) fn resume_decode(&mut self, session: DecodeSession) {
        self.cursor.resume_decode(session);
    }

    /// How many unread bytes the decoder waits for (0: none).
    #[inline]
    pub(crate) fn decode_need(&self) -> usize {
        self.cursor.decode_need()
    }

    #[inline]
    pub(crate) fn set_decode_need(&mut self, need: usize) {
        self.cursor.set_decode_need(need);
    }

    /// The decoder's view of the buffer.
    #[inline]
    pub(crate) fn decode_view(&mut self) -> DecodeView<'_> {
        DecodeView { buf: self }
    }

    // ------------------------------------------------------------- reads

    /// What is held, for the policy.
    #[inline]
    fn held(&self) -> Held {
        Held {
            normal: self.normal(),
            allocated: self.region.allocated(),
            unread: self.region.len(),
            room: self.region.room(),
            spare: self.spare.size(),
        }
    }

    /// Makes room as the policy says for `fill` and returns how many bytes
    /// the next read may bring, and how many unread bytes the fill wants.
    #[inline]
    fn prepare(&mut self, fill: Fill, reads: Reads) -> Room {
        let normal = self.normal();
        let ask = policy::ask(fill, self.region.len(), normal);
        let (room, free) = (self.region.room(), self.region.free());
        if !policy::fits(&ask, room, free, self.spare.size()) {
            let plan = policy::plan(&self.held(), &ask, free);
            self.make_room(plan, |target| policy::memory(&ask, target, reads));
        }
        self.region.debug_check();
        debug_assert!(self.region.free() > 0);
        let cap = policy::read_cap(&ask, self.region.len(), normal, self.spare.is_some());
        Room {
            // Within a view, never past its end (the caller checked that
            // some of it is left: `view_exhausted`).
            max: self.direct_cap(cap),
            until: policy::read_until(&ask),
        }
    }

    /// The window for one read toward `fill` from a source that reads into
    /// initialized memory (futures-io), the end-of-stream flag the read
    /// sets, and the room made (for [`more_room`](Self::more_room)).
    /// Non-empty.
    #[inline]
    pub(crate) fn prepare_init(&mut self, fill: Fill) -> (&mut [u8], &mut bool, Room) {
        let room = self.prepare(fill, Reads::Initialized);
        let (window, eof) = self.init_window(room.max);
        (window, eof, room)
    }

    /// The window for one read toward `fill` from a source that reads into
    /// uninitialized memory (tokio's `ReadBuf`): nothing is zeroed. A large
    /// frame's mapping is initialized whole, so its window is handed out as
    /// initialized memory ([`Window::Init`]).
    #[inline]
    pub(crate) fn prepare_uninit(&mut self, fill: Fill) -> (Window<'_>, &mut bool, Room) {
        let room = self.prepare(fill, Reads::Uninitialized);
        let (window, eof) = self.uninit_window(room.max);
        (window, eof, room)
    }

    /// After a read of `read` bytes in all into the `room` made by the
    /// last `prepare_*`: whether another read into that same room serves
    /// the fill, and for at most how many bytes. It does while the fill
    /// wants more unread bytes than are held (a frame still arriving),
    /// the free tail is not empty and the read cap is not spent. No policy
    /// question is asked again: the memory is the one already made, so
    /// it still grows only as the policy said.
    #[inline]
    pub(crate) fn more_room(&self, room: &Room, read: usize) -> Option<usize> {
        let more = self.region.len() < room.until && self.region.free() != 0 && read < room.max;
        more.then(|| room.max - read)
    }

    /// The window for a further read of at most `max` bytes (see
    /// [`more_room`](Self::more_room)), as [`prepare_init`](Self::prepare_init)'s.
    #[inline]
    pub(crate) fn init_window(&mut self, max: usize) -> (&mut [u8], &mut bool) {
        let ahead = policy::zero_ahead(self.normal());
        (self.region.init_window(max, ahead), self.cursor.eof_mut())
    }

    /// The window for a further read of at most `max` bytes (see
    /// [`more_room`](Self::more_room)), as [`prepare_uninit`](Self::prepare_uninit)'s.
    #[inline]
    pub(crate) fn uninit_window(&mut self, max: usize) -> (Window<'_>, &mut bool) {
        let window = if self.region.is_mapped() {
            Window::Init(self.region.init_window(max, 0))
        } else {
            Window::Uninit(self.region.uninit_window(max))
        };
        (window, self.cursor.eof_mut())
    }

    /// The read ahead, for a source that reads into uninitialized memory
    /// (`uninit`) or not: [`prepare_uninit`](Self::prepare_uninit) or
    /// [`prepare_init`](Self::prepare_init).
    #[inline]
    pub(crate) fn prepare_read(
        &mut self,
        fill: Fill,
        uninit: bool,
    ) -> (Window<'_>, &mut bool, Room) {
        if uninit {
            self.prepare_uninit(fill)
        } else {
            let (window, eof, room) = self.prepare_init(fill);
            (Window::Init(window), eof, room)
        }
    }

    /// A further read's window (see [`more_room`](Self::more_room)), as
    /// [`prepare_read`](Self::prepare_read) hands it out.
    #[inline]
    pub(crate) fn read_window(&mut self, max: usize, uninit: bool) -> (Window<'_>, &mut bool) {
        if uninit {
            self.uninit_window(max)
        } else {
            let (window, eof) = self.init_window(max);
            (Window::Init(window), eof)
        }
    }

    /// For a completion source: makes room toward `fill` as for any read,
    /// then lends the free tail (see [`Region::lend`]). Returns it and the
    /// most the read may bring.
    #[inline]
    pub(crate) fn lend(&mut self, fill: Fill) -> (bytes::BytesMut, usize) {
        let max = self.prepare(fill, Reads::Lent).max.min(self.region.free());
        (self.region.lend(), max)
    }

    /// Whether the free tail is lent to a read in flight.
    #[inline]
    pub(crate) fn is_lent(&self) -> bool {
        self.region.is_lent()
    }

    /// Takes back the lent tail with the bytes read into it; `None` if it
    /// is not the memory lent (see [`Region::give_back`]).
    #[inline]
    pub(crate) fn give_back(&mut self, tail: bytes::BytesMut) -> Option<usize> {
        self.region.give_back(tail)
    }

    /// Forgets a lent tail whose read was dropped with its source.
    pub(crate) fn forget_lent(&mut self) {
        self.region.forget_lent();
    }

    /// Records that the source wrote `n` bytes into the window of
    /// [`prepare_init`](Self::prepare_init).
    #[inline]
    pub(crate) fn commit(&mut self, n: usize) {
        self.region.commit(n);
    }

    /// Records that the source initialized the first `n` bytes of the
    /// window of [`prepare_uninit`](Self::prepare_uninit).
    ///
    /// # Safety
    ///
    /// That window was the last one handed out, and its first `n` bytes
    /// were initialized since.
    #[inline]
    pub(crate) unsafe fn commit_uninit(&mut self, n: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.region.commit_uninit(n) }
    }

    /// Whether the reading under way has gone on long enough that the
    /// reader should give the executor its thread back now (see
    /// [`Cursor::yield_due`] and `poll_fill`).
    #[inline]
    pub(crate) fn yield_due(
        &mut self,
        gate: usize,
        max_step: usize,
        interval: std::time::Duration,
    ) -> bool {
        self.cursor.yield_due(gate, max_step, interval)
    }

    /// Whether the reads since the last wait or item have passed `gate`
    /// bytes: a loop of reads stops there, so that the next call's
    /// [`yield_due`](Self::yield_due) looks at the clock.
    #[inline]
    pub(crate) fn past_yield_gate(&self, gate: usize) -> bool {
        self.cursor.past_yield_gate(gate)
    }

    /// Counts `n` bytes read from the source toward the budget.
    #[inline]
    pub(crate) fn read_from_source(&mut self, n: usize) {
        self.cursor.read_from_source(n);
    }

    /// The source answered `Pending`.
    #[inline]
    pub(crate) fn waited(&mut self) {
        self.cursor.waited();
    }

    /// The end-of-stream flag, for a read straight into caller memory.
    #[inline]
    pub(crate) fn eof_mut(&mut self) -> &mut bool {
        self.cursor.eof_mut()
    }

    /// Whether a read of `len` bytes into caller memory should bypass the
    /// buffer (nothing buffered, and the caller's memory holds a whole
    /// ordinary read).
    #[inline]
    pub(crate) fn reads_direct(&self, len: usize) -> bool {
        // (Not at the end of a chunk's data: the next bytes are framing,
        // which `poll_fill` cuts out first.)
        policy::read_direct(len, self.capacity) && !self.at_chunk_end_exhausted()
    }

    /// Whether the view is at the end of a chunk's data, all of it
    /// buffered: the next read is of framing.
    #[inline]
    fn at_chunk_end_exhausted(&self) -> bool {
        self.cursor.chunked().is_some() && self.view_exhausted() && self.at_chunk_end()
    }

    /// Lets go of the memory if nothing is unread: a reader waiting for
    /// data, or at the end of its stream, holds no buffer.
    pub(crate) fn release_if_empty(&mut self) {
        self.region.release_if_empty();
        self.spare = Spare::default();
    }

    /// Carries out a plan (see [`policy::Plan`]): each step that needs
    /// memory nothing else holds may fail, and then the next one runs.
    #[cold]
    fn make_room(&mut self, plan: Plan, memory: impl Fn(usize) -> Memory) {
        let Plan::Room {
            use_spare,
            set_aside,
            reuse,
            stash,
            last,
        } = plan
        else {
            return;
        };
        if let Some(spare) = use_spare {
            match self
                .region
                .switch_to(std::mem::take(&mut self.spare), spare.want, spare.whole)
            {
                // The normal allocation is the spare now, for the next
                // header.
                Ok(normal) => {
                    self.spare = normal;
                    return;
                }
                // Not usable for this frame: let it go before memory is
                // made for the frame, so that two large allocations are
                // never held.
                Err(held_elsewhere) => drop(held_elsewhere),
            }
        }
        if let Some(normal) = set_aside {
            let old_spare = std::mem::take(&mut self.spare);
            self.spare = match self.region.switch_to(old_spare, normal.want, normal.whole) {
                Ok(large) => large,
                Err(_) => self
                    .region
                    .switch_to_fresh(normal.want, memory(normal.want)),
            };
            return;
        }
        self.spare = Spare::default();
        if let Some(r) = reuse {
            if self.region.reuse(r.want, r.whole, stash) {
                return;
            }
        }
        match last {
            Last::Grow(target) => self.region.grow(target, memory(target)),
            Last::Fresh(target) => self.region.fresh(target, memory(target)),
        }
    }
}

/// What a `prepare_*` made room for (see [`Buffer::more_room`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Room {
    /// The most the reads into this room may bring, together.
    max: usize,
    /// The unread bytes the fill wants before its caller can use them
    /// (0: any read will do, as for a search, which scans what came).
    until: usize,
}

/// The window of [`Buffer::prepare_uninit`]: memory that may be
/// uninitialized, or (a large frame's mapping) memory that is initialized
/// already, which the source must be handed as such.
pub(crate) enum Window<'a> {
    Uninit(&'a mut [MaybeUninit<u8>]),
    Init(&'a mut [u8]),
}

/// A decoder's view of the buffer: the unread bytes, splitting and
/// consuming at the front, and the decode run's scan progress. What the
/// codec layer sees of the buffer.
pub(crate) struct DecodeView<'a> {
    buf: &'a mut Buffer,
}

impl DecodeView<'_> {
    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        self.buf.unread()
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Bytes {
        self.buf.take(n)
    }

    #[inline]
    pub(crate) fn take_payload(&mut self, header: usize, payload: usize) -> Bytes {
        self.buf.take_payload(header, payload)
    }

    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        self.buf.consume(n);
    }

    #[inline]
    pub(crate) fn position(&self) -> u64 {
        self.buf.position()
    }

    /// The run's scan progress, never more than the unread bytes.
    #[inline]
    pub(crate) fn scanned(&self) -> usize {
        self.buf.cursor.decode_scanned().min(self.buf.len())
    }

    #[inline]
    pub(crate) fn set_scanned(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        self.buf.cursor.set_decode_scanned(n);
    }

    /// Searches the unread bytes with `finder` within `limit`, resuming
    /// from the run's scan progress.
    #[inline]
    pub(crate) fn scan(&mut self, finder: &Finder, limit: usize) -> Scan {
        let visible = self.buf.len();
        let mut scanned = self.buf.cursor.decode_scanned();
        let scan = finder.scan(&self.buf.region.unread()[..visible], &mut scanned, limit);
        self.buf.cursor.set_decode_scanned(scanned);
        scan
    }
}

#[cfg(test)]
mod tests;
