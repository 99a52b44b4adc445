//! Incremental delimiter search, shared by `StreamReader::read_until` and
//! the `Delimited` decoder: bytes already searched are never searched
//! again, and the search stops at a limit.

use memchr::memmem;

/// A searcher for one delimiter: `memchr` for a single byte, `memmem` for
/// longer ones. Building a `memmem` searcher costs more than scanning a
/// short line, so callers keep one per delimiter.
#[derive(Clone, Debug)]
pub(crate) enum Finder {
    Byte(u8),
    // Boxed: the searcher is ~300 bytes and would bloat every reader.
    Seq(Box<memmem::Finder<'static>>),
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
    /// A searcher for `delim`, which must not be empty.
    pub(crate) fn new(delim: &[u8]) -> Self {
        debug_assert!(!delim.is_empty());
        match delim {
            [b] => Finder::Byte(*b),
            _ => Finder::Seq(Box::new(memmem::Finder::new(delim).into_owned())),
        }
    }

    /// The delimiter.
    #[inline]
    pub(crate) fn needle(&self) -> &[u8] {
        match self {
            Finder::Byte(b) => std::slice::from_ref(b),
            Finder::Seq(f) => f.needle(),
        }
    }

    /// Searches `haystack[..limit]` for the delimiter, skipping what earlier
    /// calls searched (`*searched`, kept by the caller and shifted by it as
    /// bytes are consumed) except the last `delim.len() - 1` bytes, where a
    /// delimiter may straddle the old end. Updates `*searched`.
    #[inline]
    pub(crate) fn scan(&self, haystack: &[u8], searched: &mut usize, limit: usize) -> Scan {
        let dlen = self.needle().len();
        let window = haystack.len().min(limit);
        let from = searched.saturating_sub(dlen - 1).min(window);
        #[cfg(test)]
        SCANNED.with(|s| s.set(s.get() + (window - from)));
        let window_bytes = &haystack[from..window];
        let at = match self {
            Finder::Byte(b) => memchr::memchr(*b, window_bytes),
            Finder::Seq(f) => f.find(window_bytes),
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

#[cfg(test)]
thread_local! {
    /// Bytes handed to the searcher on this thread: tests prove linearity.
    pub(crate) static SCANNED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}
