//! The hasher of the tables looked up by gRPC method path on every call (the layer's method
//! plans, the default authorizer's access table). A path is 50–80 bytes and shares its first
//! 30–50 (`/temporal.api.workflowservice.v1.WorkflowService/`) with its neighbours, so it is
//! hashed by its length and its last [`TAIL`] bytes only, where the method names differ, with
//! two multiplies: a few nanoseconds instead of a pass over every byte. Two paths that share
//! both only share a bucket, and a lookup still compares the whole key. The tables are built
//! from the operator's and Temporal's method lists and never grow at run time, so a caller's
//! path can only probe them, never fill a bucket.

use std::hash::{BuildHasher, Hasher};

/// How many bytes at the end of a path its hash covers: enough to tell apart the method
/// names of one service that share a length and an ending (`ListWorkflowExecutions`,
/// `ScanWorkflowExecutions`).
const TAIL: usize = 32;

/// Builds [`PathHasher`]s, keyed at random per table: two seeds drawn from a new foldhash
/// `RandomState`.
#[derive(Clone, Debug)]
pub(crate) struct PathHash {
    seeds: [u64; 2],
}

impl Default for PathHash {
    fn default() -> PathHash {
        let random = foldhash::fast::RandomState::default();
        PathHash {
            seeds: [random.hash_one(0u64), random.hash_one(1u64)],
        }
    }
}

impl BuildHasher for PathHash {
    type Hasher = PathHasher;

    fn build_hasher(&self) -> PathHasher {
        PathHasher {
            state: self.seeds[0],
            seed: self.seeds[1],
        }
    }
}

/// Hashes each byte string by its length and its last [`TAIL`] bytes, read as four words and
/// mixed by two folded multiplies (foldhash's mixing step): a lookup by path costs a few
/// instructions rather than a general-purpose hasher's rounds.
pub(crate) struct PathHasher {
    state: u64,
    seed: u64,
}

impl Hasher for PathHasher {
    // Inlined into the layer's allowed path with its other steps (see `layer::call`).
    #[inline(always)]
    fn write(&mut self, bytes: &[u8]) {
        let [a, b, c, d] = tail_words(bytes);
        let first = folded_multiply(a ^ self.state ^ bytes.len() as u64, b ^ self.seed);
        self.state = folded_multiply(c ^ first, d ^ self.seed.rotate_left(32));
    }

    /// The terminator `str`'s `Hash` writes after its bytes: [`write`](Self::write) has
    /// already mixed in the length, which keeps keys apart as the terminator would.
    fn write_u8(&mut self, _byte: u8) {}

    fn finish(&self) -> u64 {
        self.state
    }
}

/// The last [`TAIL`] bytes of `bytes` as four words, zeros in front when it is shorter.
#[inline(always)]
fn tail_words(bytes: &[u8]) -> [u64; 4] {
    let mut tail = [0u8; TAIL];
    let n = bytes.len().min(TAIL);
    tail[TAIL - n..].copy_from_slice(&bytes[bytes.len() - n..]);
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&tail[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    [word(0), word(1), word(2), word(3)]
}

/// The high and low halves of the full product, folded together.
fn folded_multiply(x: u64, y: u64) -> u64 {
    let full = u128::from(x) * u128::from(y);
    // Truncation is the point: the two halves of the product.
    #[allow(clippy::cast_possible_truncation)]
    let (low, high) = (full as u64, (full >> 64) as u64);
    low ^ high
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn paths_are_found_by_their_whole_text() {
        let mut table: HashMap<Box<str>, u8, PathHash> = HashMap::default();
        let service = "/temporal.api.workflowservice.v1.WorkflowService/";
        table.insert(format!("{service}DescribeNamespace").into(), 1);
        table.insert(format!("{service}ListNamespaces").into(), 2);
        // Same length and tail as the first: same bucket, another key.
        table.insert(
            "/temporal.api.workflowservice.v1.WorkflowServicX/DescribeNamespace".into(),
            3,
        );
        assert_eq!(table.get(&*format!("{service}DescribeNamespace")), Some(&1));
        assert_eq!(table.get(&*format!("{service}ListNamespaces")), Some(&2));
        assert_eq!(
            table.get("/temporal.api.workflowservice.v1.WorkflowServicX/DescribeNamespace"),
            Some(&3)
        );
        assert_eq!(
            table.get("/temporal.api.workflowservice.v1.WorkflowServicY/DescribeNamespace"),
            None
        );
        assert_eq!(table.get("DescribeNamespace"), None);
        assert_eq!(table.get(""), None);
    }

    #[test]
    fn only_the_length_and_the_tail_are_hashed() {
        let hash = PathHash::default();
        let a = "/a.Service/AVeryLongMethodNameHereOfThirtyTwo";
        let b = "/b.Service/AVeryLongMethodNameHereOfThirtyTwo";
        assert_eq!(hash.hash_one(a), hash.hash_one(b));
        assert_ne!(
            hash.hash_one(a),
            hash.hash_one("/a.Service/AVeryLongMethodNameHereOfThirtyTwx")
        );
        assert_ne!(
            hash.hash_one(a),
            hash.hash_one("/a.Servic/AVeryLongMethodNameHereOfThirtyTwo")
        );
    }

    #[test]
    fn temporals_method_paths_get_distinct_hashes() {
        let hash = PathHash::default();
        let table = crate::ApiAccess::temporal();
        let hashes: Vec<u64> = table.methods().map(|(p, _)| hash.hash_one(p)).collect();
        let distinct: std::collections::HashSet<_> = hashes.iter().collect();
        assert!(hashes.len() > 100, "{}", hashes.len());
        // Only paths with the same length and tail could share one, and a lookup would
        // still compare the whole path; Temporal's differ within their tails.
        assert_eq!(distinct.len(), hashes.len());
        // Short keys (shorter than the tail, or than a word) are hashed too.
        for (a, b) in [
            ("", "a"),
            ("a", "b"),
            ("/a/b", "/a/c"),
            ("12345678", "12345679"),
        ] {
            assert_ne!(hash.hash_one(a), hash.hash_one(b), "{a} {b}");
        }
    }
}
