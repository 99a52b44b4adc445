//! The stream bookkeeping that rides on the buffer: where the stream is,
//! how far searches got, the decode session under way, an open run, and
//! whether the source reported its end.
//!
//! It lives beside the memory rather than in the layers above because
//! every consumption, by whichever read, must shift it: a scan offset
//! kept anywhere else would go stale the moment another read took bytes.
//! All of it moves in [`Cursor::consumed`], the one place consumption
//! reaches. Beside it, the yield budget's counters (how long the reading
//! under way has gone on) move with reads, waits and items handed out
//! ([`Cursor::yield_due`]).

use std::time::{Duration, Instant};

/// Identifies one decoding run (a [`decode`](crate::StreamReader::decode)
/// call, a [`FramedRead`](crate::frame::FramedRead)): scan progress and the
/// need hint belong to the run that recorded them, and another run starts
/// without them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DecodeSession(u64);

/// The decode run that owns `scanned` and `need`.
#[derive(Debug, Default)]
struct DecodeState {
    /// INVARIANT: `session <= next_session` (0 is "none yet").
    session: u64,
    next_session: u64,
    /// Up to which stream offset the run's decoder has examined the
    /// unread bytes (see [`Cursor::searched_to`]).
    scanned_to: u64,
    /// How many unread bytes the run waits for before the decoder is
    /// called again; 0 once anything is consumed, so a stale hint can
    /// never stall another read.
    need: usize,
}

/// Where the innermost bounded view ends, as a stream offset; `u64::MAX`
/// when there is none (a stream never gets that far).
#[derive(Debug, Clone, Copy)]
struct ViewEnd(u64);

impl Default for ViewEnd {
    fn default() -> Self {
        ViewEnd(u64::MAX)
    }
}

/// A chunked view's bookkeeping (see
/// [`StreamReader::chunked`](crate::StreamReader::chunked)). Its framing is
/// cut out of the buffer as it is found, so within the view, stream offsets
/// (`position`, view ends) count decoded bytes: an offset past the view's
/// start stands for `cut` more bytes of the stream. The view's close adds
/// `cut` back, and the reader is at the right stream offset again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dechunk {
    /// The end of the chunk data decoded so far (a decoded offset).
    /// INVARIANT: `position <= chunk_end`; every buffered byte before it is
    /// decoded data, every one after it is still framing and data as sent.
    chunk_end: u64,
    /// Bytes of framing cut out so far.
    cut: u64,
    /// The stream offset the view may not read past (an enclosing
    /// `limited`), `u64::MAX` for none.
    outer: u64,
    /// No head found yet: the next is the body's first (no CRLF before it).
    first: bool,
    /// The last chunk and its trailers were cut: the body has ended.
    done: bool,
    /// Opened inside another chunked view: every read fails.
    nested: bool,
}

impl Dechunk {
    /// No head found yet.
    #[inline]
    pub(crate) fn first(&self) -> bool {
        self.first
    }

    /// The last chunk and its trailers were cut.
    #[inline]
    pub(crate) fn done(&self) -> bool {
        self.done
    }

    /// Opened inside another chunked view.
    #[inline]
    pub(crate) fn nested(&self) -> bool {
        self.nested
    }
}

/// What [`Cursor::open_chunked`] replaced, for [`Cursor::close_chunked`].
#[derive(Debug)]
pub(crate) struct ChunkedOuter {
    limit_end: ViewEnd,
    chunked: Option<Dechunk>,
}

/// Stream bookkeeping. Scan progress (`searched_to`, `scanned_to`) is kept
/// as stream offsets, so consumption leaves it alone: bytes consumed were
/// scanned or are gone, and what is left of the progress is what lies past
/// the first unread byte.
#[derive(Debug, Default)]
pub(crate) struct Cursor {
    /// The stream offset of the first unread byte: every byte handed out
    /// so far, from the buffer or straight into caller memory, minus any
    /// put back.
    position: u64,
    /// Up to which stream offset a delimiter search (`read_until`,
    /// `peek_until`, `skip_until`, `copy_until`) has scanned the unread
    /// bytes: the first `searched_to - position` of them (none if that is
    /// not positive).
    searched_to: u64,
    decode: DecodeState,
    /// Where a `copy_until` or `skip_until` that consumed part of a run
    /// (bytes before a delimiter not found yet) stopped without reaching
    /// its end. A call starting at this position continues the run, so an
    /// end of stream there cuts it (`UnexpectedEof`) rather than being a
    /// clean end.
    open_run: Option<u64>,
    /// The last read from the source returned end of stream.
    eof: bool,
    /// Where reads see an end: the nearer of `limit_end` and, within a
    /// chunked view, the end of the chunk data decoded so far. Bytes
    /// buffered past it stay hidden. Kept apart from the two so that the
    /// look at the buffer every read makes is one subtraction.
    /// INVARIANT: `position <= view_end == min(limit_end, chunk end)`.
    view_end: ViewEnd,
    /// Where the innermost bounded view ends, as a stream offset (see
    /// [`StreamReader::limited`](crate::StreamReader::limited)).
    limit_end: ViewEnd,
    /// The open chunked view, if any (see [`Dechunk`]).
    chunked: Option<Dechunk>,
    /// Bytes read from the source since the reader last gave the executor
    /// its thread back (a `Pending`, the source's or its own) or last
    /// handed out an item (an operation completed).
    since_wait: usize,
    /// When this stretch of reading first passed the byte gate of
    /// [`yield_due`](Cursor::yield_due); `None` before that. Meaningful
    /// only while `since_wait` is past the gate.
    timed_from: Option<Instant>,
    /// `since_wait` when `timed_from` was set: with it, the rate of the
    /// reads past the gate. Meaningful only past the gate.
    timed_at: usize,
    /// Past the gate, the clock is read again once `since_wait` reaches
    /// this (every so many bytes, not every read: see
    /// [`yield_due`](Cursor::yield_due)). Meaningful only past the gate.
    clock_at: usize,
}

impl Cursor {
    /// `n` unread bytes were handed out or discarded. Scan progress is in
    /// stream offsets, so bytes scanned stay scanned with no update here
    /// (every frame and line passes through this).
    #[inline]
    pub(crate) fn consumed(&mut self, n: usize) {
        self.position += n as u64;
        self.decode.need = 0;
    }

    /// An item (a frame, a line, bytes read exactly) left the buffer: the
    /// operation that asked for it is done, and the next one starts a new
    /// stretch of reading (see [`yield_due`](Cursor::yield_due)). Not on
    /// every consumption: a copy or a skip consumes as it goes and is one
    /// long operation. (`timed_from` is cleared by the next `yield_due`,
    /// off this path.)
    #[inline]
    pub(crate) fn item_taken(&mut self) {
        self.since_wait = 0;
    }

    /// Of the unread bytes, how many lie before stream offset `to`.
    #[inline]
    fn ahead(&self, to: u64) -> usize {
        usize::try_from(to.saturating_sub(self.position)).unwrap_or(usize::MAX)
    }

    /// `n` bytes were read straight into caller memory (never buffered).
    #[inline]
    pub(crate) fn passed_through(&mut self, n: usize) {
        self.position += n as u64;
    }

    /// `n` bytes were put back in front of the unread ones: they were
    /// never scanned, so every scan starts again.
    pub(crate) fn put_back(&mut self, n: usize) {
        self.position = self.position.saturating_sub(n as u64);
        self.rearranged();
    }

    #[inline]
    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    /// The source was repositioned (a seek): the first unread byte is now
    /// at stream offset `position`, and nothing scanned before applies.
    pub(crate) fn moved_to(&mut self, position: u64) {
        self.position = position;
        self.rearranged();
        self.open_run = None;
        self.eof = false;
    }

    /// Scan progress of the delimiter search: how many leading unread
    /// bytes were searched.
    #[inline]
    pub(crate) fn searched(&self) -> usize {
        self.ahead(self.searched_to)
    }

    #[inline]
    pub(crate) fn set_searched(&mut self, n: usize) {
        self.searched_to = self.position + n as u64;
    }

    /// A search for another delimiter starts from the front.
    #[inline]
    pub(crate) fn restart_search(&mut self) {
        self.searched_to = 0;
    }

    // ------------------------------------------------------ decode runs

    /// Starts a decoding run: what an earlier run recorded no longer
    /// applies.
    pub(crate) fn begin_decode(&mut self) -> DecodeSession {
        self.decode.next_session += 1;
        self.decode.session = self.decode.next_session;
        self.decode.scanned_to = 0;
        self.decode.need = 0;
        DecodeSession(self.decode.session)
    }

    /// Makes `session` the run under way. If another run recorded progress
    /// in between, `session` starts again without it.
    #[inline]
    pub(crate) fn resume_decode(&mut self, session: DecodeSession) {
        if self.decode.session != session.0 {
            self.decode.session = session.0;
            self.decode.scanned_to = 0;
            self.decode.need = 0;
        }
    }

    /// The decoder's scan progress: how many leading unread bytes it
    /// examined.
    #[inline]
    pub(crate) fn decode_scanned(&self) -> usize {
        self.ahead(self.decode.scanned_to)
    }

    #[inline]
    pub(crate) fn set_decode_scanned(&mut self, n: usize) {
        self.decode.scanned_to = self.position + n as u64;
    }

    /// How many unread bytes the decoder waits for (0: none).
    #[inline]
    pub(crate) fn decode_need(&self) -> usize {
        self.decode.need
    }

    #[inline]
    pub(crate) fn set_decode_need(&mut self, need: usize) {
        self.decode.need = need;
    }

    // ------------------------------------------------------------ runs

    /// A delimited run consumed bytes and goes on past them.
    #[inline]
    pub(crate) fn run_goes_on(&mut self) {
        self.open_run = Some(self.position);
    }

    /// The run reached its end (its delimiter, or a reported cut).
    #[inline]
    pub(crate) fn end_run(&mut self) {
        self.open_run = None;
    }

    /// Whether a run stopped right here, at the first unread byte.
    #[inline]
    pub(crate) fn in_open_run(&self) -> bool {
        self.open_run == Some(self.position)
    }

    // ------------------------------------------------------ bounded views

    /// Of `buffered` unread bytes, how many lie within the view. Without a
    /// view the end is `u64::MAX`, so this is one subtraction and a
    /// comparison either way: it runs on every look at the buffer.
    #[inline]
    pub(crate) fn visible(&self, buffered: usize) -> usize {
        let left = self.view_end.0 - self.position;
        if left >= buffered as u64 {
            buffered
        } else {
            left as usize
        }
    }

    /// How many bytes of the view are not buffered yet, with `buffered`
    /// unread (`None`: no view).
    #[inline]
    pub(crate) fn view_unbuffered(&self, buffered: usize) -> Option<u64> {
        self.view_end()
            .map(|end| (end - self.position).saturating_sub(buffered as u64))
    }

    #[inline]
    pub(crate) fn view_end(&self) -> Option<u64> {
        (self.view_end.0 != u64::MAX).then_some(self.view_end.0)
    }

    /// Where the innermost `limited` view ends.
    #[inline]
    pub(crate) fn limit_end(&self) -> Option<u64> {
        (self.limit_end.0 != u64::MAX).then_some(self.limit_end.0)
    }

    /// Whether any view is open (a seek would break it).
    #[inline]
    pub(crate) fn in_view(&self) -> bool {
        self.limit_end().is_some() || self.chunked.is_some()
    }

    /// Recomputes `view_end` from the two ends it is the nearer of.
    #[inline]
    fn update_view_end(&mut self) {
        let chunk_end = self.chunked.map_or(u64::MAX, |c| c.chunk_end);
        self.view_end = ViewEnd(self.limit_end.0.min(chunk_end).max(self.position));
    }

    // ------------------------------------------------------ chunked views

    /// Opens a chunked view at the first unread byte; returns what it
    /// replaced. Inside it no `limited` end applies until one is opened
    /// there (the enclosing one bounds what is read, as `outer`).
    pub(crate) fn open_chunked(&mut self) -> ChunkedOuter {
        let outer = ChunkedOuter {
            limit_end: self.limit_end,
            chunked: self.chunked,
        };
        self.chunked = Some(Dechunk {
            chunk_end: self.position,
            cut: 0,
            outer: self.limit_end.0,
            first: true,
            done: false,
            nested: outer.chunked.is_some(),
        });
        self.limit_end = ViewEnd::default();
        self.update_view_end();
        self.rearranged();
        outer
    }

    /// Every scan starts over: the bytes past the first unread one are no
    /// longer the ones scanned (bytes put back in front, a seek, or a
    /// chunked view opening, whose framing will be cut out of what a search
    /// of the stream as sent looked at, or closing, after which offsets
    /// count stream bytes again).
    fn rearranged(&mut self) {
        self.searched_to = 0;
        self.decode.scanned_to = 0;
        self.decode.need = 0;
    }

    /// Closes the chunked view: offsets count stream bytes again.
    pub(crate) fn close_chunked(&mut self, outer: ChunkedOuter) {
        if let Some(c) = self.chunked.take() {
            if !c.nested {
                self.position += c.cut;
                if let Some(run) = &mut self.open_run {
                    *run += c.cut;
                }
            }
        }
        self.limit_end = outer.limit_end;
        self.chunked = outer.chunked;
        self.update_view_end();
        self.rearranged();
    }

    /// The open chunked view's state.
    #[inline]
    pub(crate) fn chunked(&self) -> Option<&Dechunk> {
        self.chunked.as_ref()
    }

    /// Whether the view's end is the end of the chunk data decoded so far
    /// in an unfinished chunked body: more may come after the next head.
    #[inline]
    pub(crate) fn at_chunk_end(&self) -> bool {
        matches!(self.chunked, Some(c) if !c.done && c.chunk_end <= self.limit_end.0)
    }

    /// A head of `len` bytes was cut out after the decoded data, followed
    /// by `data` bytes of chunk data (`None`: the last chunk).
    pub(crate) fn cut_head(&mut self, len: usize, data: Option<u64>) {
        if let Some(c) = &mut self.chunked {
            c.cut += len as u64;
            c.first = false;
            match data {
                Some(n) => c.chunk_end = c.chunk_end.saturating_add(n),
                None => c.done = true,
            }
            if c.outer != u64::MAX {
                c.outer = c.outer.saturating_sub(len as u64);
            }
        }
        self.update_view_end();
    }

    /// The view for a read of framing past the chunk end: bounded only by
    /// an enclosing `limited` (as a decoded offset). Returns the end to
    /// put back with [`end_raw_read`](Self::end_raw_read).
    pub(crate) fn begin_raw_read(&mut self) -> u64 {
        let saved = self.view_end.0;
        if let Some(c) = &self.chunked {
            self.view_end = ViewEnd(c.outer.max(self.position));
        }
        saved
    }

    pub(crate) fn end_raw_read(&mut self, saved: u64) {
        self.view_end = ViewEnd(saved);
    }

    /// Sets where the innermost `limited` view ends (never before the
    /// position); returns the last end.
    #[inline]
    pub(crate) fn set_limit_end(&mut self, end: Option<u64>) -> Option<u64> {
        let last = self.limit_end();
        self.limit_end = ViewEnd(end.map_or(u64::MAX, |e| e.max(self.position)));
        self.update_view_end();
        last
    }

    // ------------------------------------------------------------ fairness

    /// Whether the reading under way has gone on long enough to give the
    /// executor its thread back: at least `gate` bytes read since the last
    /// wait or completed operation, and `interval` since the read first
    /// passed that gate. If so, the stretch starts again (the caller is
    /// about to yield).
    ///
    /// The clock is read only past the gate, so a reader whose operations
    /// complete within `gate` bytes never reads it; and past it not on
    /// every read but every so many bytes: what the reads so far bring in
    /// a quarter `interval`, at least a quarter gate and at most
    /// `max_step`. A look at the clock costs about what copying a KiB from
    /// memory does: once per read at 1500 bytes a read made reading
    /// 256 MiB into caller memory 40% slower, and once per 16 KiB still
    /// 5%. Steps by rate keep a slow source (a millisecond per read) to
    /// yields about one interval apart, where a fixed large step would
    /// make them late.
    #[inline]
    pub(crate) fn yield_due(&mut self, gate: usize, max_step: usize, interval: Duration) -> bool {
        if self.since_wait < gate {
            // No stretch past the gate is under way (an item handed out
            // or a wait ended the last one).
            self.timed_from = None;
            self.clock_at = 0;
            return false;
        }
        if self.since_wait < self.clock_at {
            return false;
        }
        self.yield_due_timed(gate / 4, max_step, interval)
    }

    /// Whether the stretch under way has passed `gate` bytes (see
    /// [`yield_due`](Self::yield_due)).
    #[inline]
    pub(crate) fn past_yield_gate(&self, gate: usize) -> bool {
        self.since_wait >= gate
    }

    #[cold]
    fn yield_due_timed(&mut self, min_step: usize, max_step: usize, interval: Duration) -> bool {
        #[cfg(test)]
        CLOCK_READS.with(|n| n.set(n.get() + 1));
        let now = Instant::now();
        let Some(from) = self.timed_from else {
            // The gate is just passed: the clock starts, no rate yet.
            self.timed_from = Some(now);
            self.timed_at = self.since_wait;
            self.clock_at = self.since_wait.saturating_add(min_step);
            return false;
        };
        let elapsed = now.saturating_duration_since(from);
        if elapsed >= interval {
            self.since_wait = 0;
            self.timed_from = None;
            return true;
        }
        // The next look: after what the reads so far bring in a quarter
        // interval, so a yield comes about a quarter interval late at most.
        let read = (self.since_wait.saturating_sub(self.timed_at)) as u128;
        let step = read.saturating_mul((interval / 4).as_nanos()) / elapsed.as_nanos().max(1);
        let step = usize::try_from(step).map_or(max_step, |s| s.clamp(min_step, max_step));
        self.clock_at = self.since_wait.saturating_add(step);
        false
    }

    /// `n` bytes were read from the source.
    #[inline]
    pub(crate) fn read_from_source(&mut self, n: usize) {
        self.since_wait = self.since_wait.saturating_add(n);
    }

    /// The source answered `Pending`: the executor has the thread back.
    #[inline]
    pub(crate) fn waited(&mut self) {
        self.since_wait = 0;
        self.timed_from = None;
    }

    // ------------------------------------------------------ end of stream

    #[inline]
    pub(crate) fn eof(&self) -> bool {
        self.eof
    }

    /// The flag a read from the source sets on `Ok(0)`.
    #[inline]
    pub(crate) fn eof_mut(&mut self) -> &mut bool {
        &mut self.eof
    }
}

#[cfg(test)]
thread_local! {
    /// How many times this thread's cursors read the clock.
    static CLOCK_READS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_read_of_small_reads_looks_at_the_clock_once_per_clock_step() {
        // 1 MiB read 1500 bytes at a time (instantly), with a 64 KiB gate,
        // steps of at most 256 KiB and an interval that never passes: the
        // clock is read once the gate is passed, a quarter gate later, then
        // every 256 KiB, not on each of the ~650 reads (nor every 16 KiB,
        // ~60 times).
        let mut c = Cursor::default();
        let before = CLOCK_READS.with(std::cell::Cell::get);
        let mut read = 0;
        while read < 1 << 20 {
            assert!(!c.yield_due(64 << 10, 256 << 10, Duration::from_secs(3600)));
            c.read_from_source(1500);
            read += 1500;
        }
        let reads = CLOCK_READS.with(std::cell::Cell::get) - before;
        assert_eq!(reads, 5, "{reads} clock reads");

        // An item handed out starts again below the gate: no clock.
        c.item_taken();
        let before = CLOCK_READS.with(std::cell::Cell::get);
        for _ in 0..40 {
            assert!(!c.yield_due(64 << 10, 256 << 10, Duration::from_secs(3600)));
            c.read_from_source(1500);
        }
        assert_eq!(CLOCK_READS.with(std::cell::Cell::get), before);
    }

    #[test]
    fn scan_progress_is_what_lies_past_the_first_unread_byte() {
        let mut c = Cursor::default();
        let s = c.begin_decode();
        c.set_searched(10);
        c.set_decode_scanned(7);
        c.set_decode_need(20);
        c.consumed(4);
        assert_eq!((c.position(), c.searched()), (4, 6));
        assert_eq!((c.decode_scanned(), c.decode_need()), (3, 0));
        c.consumed(100);
        assert_eq!((c.searched(), c.decode_scanned()), (0, 0));
        // Bytes put back were never scanned.
        c.set_searched(3);
        c.put_back(2);
        assert_eq!(c.searched(), 0);
        c.resume_decode(s);
        assert_eq!(c.position(), 102);
    }

    #[test]
    fn another_decode_run_starts_without_the_last_ones_progress() {
        let mut c = Cursor::default();
        let first = c.begin_decode();
        c.set_decode_scanned(5);
        c.set_decode_need(9);
        c.resume_decode(first);
        assert_eq!((c.decode_scanned(), c.decode_need()), (5, 9));
        let second = c.begin_decode();
        assert_ne!(first, second);
        assert_eq!((c.decode_scanned(), c.decode_need()), (0, 0));
        c.set_decode_scanned(2);
        // The first run comes back: the second's progress is not its own.
        c.resume_decode(first);
        assert_eq!(c.decode_scanned(), 0);
    }

    #[test]
    fn an_open_run_is_where_it_stopped_only() {
        let mut c = Cursor::default();
        c.consumed(3);
        c.run_goes_on();
        assert!(c.in_open_run());
        c.consumed(1);
        assert!(!c.in_open_run());
        c.put_back(1);
        assert!(c.in_open_run());
        c.end_run();
        assert!(!c.in_open_run());
    }
}
