//! Incremental delimiter search, shared by `StreamReader::read_until`
//! (and `read_until_any`) and the `Delimited` decoder: bytes already
//! searched are never searched again, and the search stops at a limit.

use memchr::memmem;

/// A searcher for one delimiter (`memchr` for a single byte, `memmem` for
/// longer ones) or for the earliest of several ([`AnyFinder`]). Building a
/// `memmem` searcher costs more than scanning a short line, so callers
/// keep one per delimiter.
#[derive(Clone, Debug)]
pub(crate) enum Finder {
    Byte(u8),
    // Boxed: the searcher is ~300 bytes and would bloat every reader.
    Seq(Box<memmem::Finder<'static>>),
    Any(Box<AnyFinder>),
}

/// A searcher for several delimiters at once: a match is the one that
/// *ends* first in the stream (asyncio's `readuntil` with a tuple), which
/// is known as soon as its last byte arrives. One pass finds the bytes that
/// end some delimiter (`memchr`, `memchr2`, `memchr3`, or a table for more
/// distinct last bytes); at each, the delimiters ending with that byte are
/// compared backwards. Every byte is examined once as a possible end, so
/// the search stays linear however the bytes arrive.
#[derive(Clone, Debug)]
pub(crate) struct AnyFinder {
    /// The delimiters, longest first (so that the longest one ending at a
    /// match is the one reported: `\r\n` over `\n`).
    delims: Vec<Vec<u8>>,
    /// The distinct last bytes, for `memchr` when there are at most three.
    last: Vec<u8>,
    /// Whether a byte ends some delimiter, when there are more.
    table: Option<Box<[bool; 256]>>,
}

impl AnyFinder {
    fn new(delims: &[&[u8]]) -> Self {
        let mut sorted: Vec<Vec<u8>> = delims.iter().map(|d| d.to_vec()).collect();
        sorted.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        sorted.dedup();
        let mut last: Vec<u8> = sorted.iter().map(|d| d[d.len() - 1]).collect();
        last.sort_unstable();
        last.dedup();
        let table = (last.len() > 3).then(|| {
            let mut t = Box::new([false; 256]);
            for &b in &last {
                t[usize::from(b)] = true;
            }
            t
        });
        AnyFinder {
            delims: sorted,
            last,
            table,
        }
    }

    /// Whether this searches for exactly `delims` (in any order).
    fn is_for(&self, delims: &[&[u8]]) -> bool {
        delims.iter().all(|d| self.delims.iter().any(|x| x == d))
            && self.delims.iter().all(|x| delims.contains(&x.as_slice()))
    }

    /// The first byte in `hay` that ends some delimiter.
    #[inline]
    fn next_end(&self, hay: &[u8]) -> Option<usize> {
        match (&self.table, self.last.as_slice()) {
            (None, [a]) => memchr::memchr(*a, hay),
            (None, [a, b]) => memchr::memchr2(*a, *b, hay),
            (None, [a, b, c]) => memchr::memchr3(*a, *b, *c, hay),
            (Some(t), _) => hay.iter().position(|&x| t[usize::from(x)]),
            (None, _) => None,
        }
    }

    /// The longest delimiter that `hay[..end]` ends with, if any.
    #[inline]
    fn ending_at(&self, hay: &[u8], end: usize) -> Option<usize> {
        self.delims
            .iter()
            .find(|d| hay[..end].ends_with(d))
            .map(Vec::len)
    }

    fn longest(&self) -> usize {
        self.delims.first().map_or(1, Vec::len)
    }
}

/// The outcome of one [`Finder::scan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scan {
    /// The delimiter ends at this offset (exclusive), within the limit.
    Found(usize),
    /// Not found yet; more bytes may complete it.
    More,
    /// No delimiter ends within the limit.
    Limit,
}

impl Finder {
    /// A searcher for the earliest-ending of `delims` (each non-empty, at
    /// least one).
    pub(crate) fn any(delims: &[&[u8]]) -> Self {
        debug_assert!(!delims.is_empty() && delims.iter().all(|d| !d.is_empty()));
        match delims {
            [one] => Finder::new(one),
            _ => Finder::Any(Box::new(AnyFinder::new(delims))),
        }
    }

    /// Whether this searches for exactly `delims`.
    pub(crate) fn is_for(&self, delims: &[&[u8]]) -> bool {
        match (self, delims) {
            (Finder::Any(a), _) => a.is_for(delims),
            (_, [one]) => self.needle() == *one,
            _ => false,
        }
    }

    /// The longest delimiter's length: how many bytes before the end of
    /// what was searched may still begin a match.
    #[inline]
    pub(crate) fn max_len(&self) -> usize {
        match self {
            Finder::Any(a) => a.longest(),
            _ => self.needle().len(),
        }
    }

    /// The length of the delimiter that a match ending at `end` (from
    /// [`scan`](Self::scan) on `hay`) ended with.
    #[inline]
    pub(crate) fn matched_len(&self, hay: &[u8], end: usize) -> usize {
        match self {
            Finder::Any(a) => a.ending_at(hay, end).unwrap_or(1),
            _ => self.needle().len(),
        }
    }

    /// A searcher for `delim`, which must not be empty.
    pub(crate) fn new(delim: &[u8]) -> Self {
        debug_assert!(!delim.is_empty());
        match delim {
            [b] => Finder::Byte(*b),
            _ => Finder::Seq(Box::new(memmem::Finder::new(delim).into_owned())),
        }
    }

    /// The delimiter (the longest one, for several).
    #[inline]
    pub(crate) fn needle(&self) -> &[u8] {
        match self {
            Finder::Byte(b) => std::slice::from_ref(b),
            Finder::Seq(f) => f.needle(),
            Finder::Any(a) => &a.delims[0],
        }
    }

    /// Searches `haystack[..limit]` for the delimiter, skipping what earlier
    /// calls searched (`*searched`, kept by the caller and shifted by it as
    /// bytes are consumed) except the last `delim.len() - 1` bytes, where a
    /// delimiter may straddle the old end. Updates `*searched`.
    #[inline]
    pub(crate) fn scan(&self, haystack: &[u8], searched: &mut usize, limit: usize) -> Scan {
        if let Finder::Any(any) = self {
            return scan_any(any, haystack, searched, limit);
        }
        let dlen = self.needle().len();
        let window = haystack.len().min(limit);
        if *searched >= window && window > 0 {
            // Nothing arrived since the last search (a poll after a yield):
            // the overlap need not be searched again.
            return if window >= limit {
                Scan::Limit
            } else {
                Scan::More
            };
        }
        let from = searched.saturating_sub(dlen - 1).min(window);
        #[cfg(test)]
        SCANNED.with(|s| s.set(s.get() + (window - from)));
        let window_bytes = &haystack[from..window];
        let at = match self {
            Finder::Byte(b) => memchr::memchr(*b, window_bytes),
            Finder::Seq(f) => f.find(window_bytes),
            Finder::Any(_) => unreachable!("searched above"),
        };
        if let Some(at) = at {
            // A match inside the window ends within the limit.
            return Scan::Found(from + at + dlen);
        }
        *searched = window;
        if window >= limit {
            Scan::Limit
        } else {
            Scan::More
        }
    }
}

/// [`Finder::scan`] for several delimiters: ends are looked for from
/// `*searched` on (a match ending there may begin before it: the comparison
/// looks back), so no byte is examined twice as an end.
#[inline(never)]
fn scan_any(any: &AnyFinder, haystack: &[u8], searched: &mut usize, limit: usize) -> Scan {
    let window = haystack.len().min(limit);
    let mut from = (*searched).min(window);
    #[cfg(test)]
    SCANNED.with(|s| s.set(s.get() + (window - from)));
    while let Some(at) = any.next_end(&haystack[from..window]) {
        let end = from + at + 1;
        if any.ending_at(haystack, end).is_some() {
            return Scan::Found(end);
        }
        from = end;
    }
    *searched = window;
    if window >= limit {
        Scan::Limit
    } else {
        Scan::More
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The oracle: the smallest end of any delimiter in `hay[..limit]`.
    fn earliest_end(delims: &[&[u8]], hay: &[u8], limit: usize) -> Option<usize> {
        (1..=hay.len().min(limit)).find(|&end| delims.iter().any(|d| hay[..end].ends_with(d)))
    }

    #[test]
    fn several_delimiters_find_the_earliest_end_however_the_bytes_arrive() {
        let sets: [&[&[u8]]; 5] = [
            &[b"\r\n", b"\n"],
            &[b";", b",", b"|"],
            &[b"abcd", b"bc"],
            &[b"aab", b"ab", b"b"],
            &[b"1", b"2", b"3", b"4", b"xyz"],
        ];
        let hays: [&[u8]; 6] = [
            b"a\r\nb",
            b"xx,yy;",
            b"abcd",
            b"aaab",
            b"zzzxyz",
            b"no match here",
        ];
        for delims in sets {
            let f = Finder::any(delims);
            for hay in hays {
                for step in 1..=hay.len() {
                    // Bytes arrive `step` at a time; the scan resumes.
                    let mut searched = 0;
                    let mut got = None;
                    let mut len = 0;
                    while len < hay.len() {
                        len = (len + step).min(hay.len());
                        if let Scan::Found(end) = f.scan(&hay[..len], &mut searched, usize::MAX) {
                            got = Some(end);
                            break;
                        }
                    }
                    assert_eq!(
                        got,
                        earliest_end(delims, hay, usize::MAX),
                        "{delims:?} in {hay:?} by {step}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_matched_delimiter_is_the_longest_ending_there() {
        let f = Finder::any(&[b"\n", b"\r\n"]);
        let hay = b"line\r\n";
        let mut searched = 0;
        assert_eq!(f.scan(hay, &mut searched, usize::MAX), Scan::Found(6));
        assert_eq!(f.matched_len(hay, 6), 2);
        assert_eq!(f.matched_len(b"x\n", 2), 1);
        assert!(f.is_for(&[b"\r\n", b"\n"]));
        assert!(!f.is_for(&[b"\n"]));
    }

    #[test]
    fn several_delimiters_scan_each_byte_once() {
        // A long run without a match, arriving a byte at a time.
        let f = Finder::any(&[b"\r\n", b"\n", b";"]);
        // Under Miri 2,000 bytes: a rescan from the start would still
        // look at 2M.
        let hay = vec![b'x'; if cfg!(miri) { 2_000 } else { 10_000 }];
        let mut searched = 0;
        let before = SCANNED.with(|s| s.get());
        for len in 1..=hay.len() {
            assert_eq!(f.scan(&hay[..len], &mut searched, usize::MAX), Scan::More);
        }
        assert_eq!(SCANNED.with(|s| s.get()) - before, hay.len());
        assert_eq!(f.scan(&hay, &mut searched, 100), Scan::Limit);
    }
}

#[cfg(test)]
thread_local! {
    /// Bytes handed to the searcher on this thread: tests prove linearity.
    pub(crate) static SCANNED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}
