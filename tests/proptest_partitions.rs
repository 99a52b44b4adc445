//! Property tests: the same input split at random points, with random
//! `Pending`, gives the same result as a naive oracle.
mod common;

use common::*;
use intake::io::Source;
use intake::{Error, StreamReader};
use proptest::prelude::*;

/// One operation of a random program, and what the oracle expects of it.
#[derive(Clone, Debug)]
enum Op {
    Exactly(usize),
    Until(Vec<u8>),
    /// `peek_until`, then consume this many bytes of the line (clamped).
    PeekUntil(Vec<u8>, usize),
    Peek(usize),
    Skip(usize),
    Into(usize),
    ExactInto(usize),
}

fn delim() -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(vec![
        b"\n".to_vec(),
        b"\r\n".to_vec(),
        b"aab".to_vec(),
        b"a".to_vec(),
    ])
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..40).prop_map(Op::Exactly),
        delim().prop_map(Op::Until),
        (delim(), 0usize..40).prop_map(|(d, k)| Op::PeekUntil(d, k)),
        (0usize..20).prop_map(Op::Peek),
        (0usize..30).prop_map(Op::Skip),
        (1usize..25).prop_map(Op::Into),
        (0usize..30).prop_map(Op::ExactInto),
    ]
}

/// The naive oracle: a cursor over the whole input.
struct Oracle<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Oracle<'_> {
    fn rest(&self) -> &[u8] {
        &self.data[self.pos..]
    }
    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.rest().len());
        let out = self.rest()[..n].to_vec();
        self.pos += n;
        out
    }
    fn until(&self, delim: &[u8], limit: usize) -> Option<usize> {
        let rest = self.rest();
        (0..rest.len().saturating_sub(delim.len() - 1))
            .find(|&i| &rest[i..i + delim.len()] == delim)
            .map(|i| i + delim.len())
            .filter(|&end| end <= limit)
    }
}

/// Plays `ops` against the oracle, on a reader over `source(script)`: the
/// scripted reader itself (the futures-io path) or, with the `tokio`
/// feature, the same script behind `TokioIo` (the tokio path).
async fn run<S: Source + Unpin>(
    source: impl FnOnce(ScriptedReader) -> S,
    (data, cuts, pending, capacity): (Vec<u8>, Vec<usize>, bool, usize),
    ops: Vec<Op>,
) {
    let limit = 32;
    let src = source(ScriptedReader::split_at(&data, &cuts, pending));
    let mut r = StreamReader::with_capacity(capacity, src).with_limit(limit);
    let mut o = Oracle {
        data: &data,
        pos: 0,
    };
    for op in ops {
        match op {
            Op::Exactly(n) => match r.read_exactly(n).await {
                Ok(b) => assert_eq!(&b[..], &o.take(n)[..]),
                Err(Error::UnexpectedEof { partial, .. }) => {
                    assert!(o.rest().len() < n);
                    assert_eq!(&partial[..], &o.take(n)[..]);
                }
                Err(e) => panic!("{e}"),
            },
            Op::Until(d) => {
                let found = o.until(&d, limit);
                match r.read_until(&d).await {
                    Ok(None) => assert!(o.rest().is_empty()),
                    Ok(Some(b)) => {
                        assert_eq!(Some(b.len()), found);
                        assert_eq!(&b[..], &o.take(b.len())[..]);
                    }
                    Err(Error::LimitExceeded { .. }) => {
                        assert_eq!(found, None);
                        assert!(o.rest().len() >= limit.min(o.rest().len()));
                        assert_eq!(r.buffer(), &o.rest()[..r.buffer().len()]);
                    }
                    Err(Error::UnexpectedEof { partial, .. }) => {
                        assert_eq!(found, None);
                        assert!(o.rest().len() < limit);
                        assert_eq!(&partial[..], &o.take(usize::MAX)[..]);
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            Op::PeekUntil(d, k) => {
                let found = o.until(&d, limit);
                match r.peek_until(&d).await {
                    Ok(None) => assert!(o.rest().is_empty()),
                    Ok(Some(line)) => {
                        assert_eq!(Some(line.len()), found);
                        assert_eq!(line, &o.rest()[..line.len()]);
                        let k = k.min(line.len());
                        r.consume(k);
                        o.take(k);
                    }
                    Err(Error::LimitExceeded { .. }) => {
                        assert_eq!(found, None);
                        assert_eq!(r.buffer(), &o.rest()[..r.buffer().len()]);
                    }
                    Err(Error::UnexpectedEof { partial, .. }) => {
                        assert_eq!(found, None);
                        assert_eq!(&partial[..], o.rest());
                        assert_eq!(r.buffer(), o.rest(), "a peek consumes nothing");
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            Op::Peek(n) => {
                let seen = r.peek(n).await.unwrap();
                assert!(seen.len() >= n.min(o.rest().len()));
                assert_eq!(seen, &o.rest()[..seen.len()]);
            }
            Op::Skip(n) => match r.skip(n as u64).await {
                Ok(()) => {
                    assert!(o.rest().len() >= n);
                    o.take(n);
                }
                Err(Error::UnexpectedEof { .. }) => {
                    assert!(o.rest().len() < n);
                    o.take(n);
                }
                Err(e) => panic!("{e}"),
            },
            Op::Into(n) => {
                let mut dst = vec![0u8; n];
                let got = r.read_into(&mut dst).await.unwrap();
                assert!(got > 0 || o.rest().is_empty());
                assert_eq!(&dst[..got], &o.take(got)[..]);
            }
            Op::ExactInto(n) => {
                let mut dst = vec![0u8; n];
                match r.read_exact_into(&mut dst).await {
                    Ok(()) => assert_eq!(dst, o.take(n)),
                    Err(Error::UnexpectedEof { partial, .. }) => {
                        assert!(o.rest().len() < n);
                        assert_eq!(&partial[..], &o.take(n)[..]);
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        }
    }
    // Whatever is left comes out intact.
    let (_, rest) = r.into_parts();
    assert_eq!(&rest[..], &o.rest()[..rest.len()]);
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    // A small alphabet so delimiters (and their overlaps) are frequent.
    prop::collection::vec(prop::sample::select(b"ab\r\nxy".to_vec()), 0..300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(miri_or(256, 3) as u32))]

    #[test]
    fn random_partitions_match_the_oracle(
        data in input(),
        cuts in prop::collection::vec(0usize..300, 0..40),
        pending in any::<bool>(),
        capacity in prop::sample::select(vec![0usize, 1, 3, 16, 64, 8192]),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let mut cuts = cuts;
        cuts.sort_unstable();
        let input = (data, cuts, pending, capacity);
        on_both_runtimes(|| run(|s| s, input.clone(), ops.clone()));
        #[cfg(feature = "tokio")]
        on_both_runtimes(|| run(via_tokio, input.clone(), ops.clone()));
    }
}
