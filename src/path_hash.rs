//! The hasher of the tables looked up by gRPC method path on every call (the layer's method
//! plans, the default authorizer's access table). A path is 50–80 bytes and shares its first
//! 30–50 (`/temporal.api.workflowservice.v1.WorkflowService/`) with its neighbours, so it is
//! hashed by its length and its last [`TAIL`] bytes only, where the method names differ:
//! a few nanoseconds instead of a pass over every byte. Two paths that share both only share
//! a bucket, and a lookup still compares the whole key. The tables are built from the
//! operator's and Temporal's method lists and never grow at run time, so a caller's path can
//! only probe them, never fill a bucket.

use std::hash::{BuildHasher, Hasher};

/// How many bytes at the end of a path its hash covers.
const TAIL: usize = 16;

/// Builds [`PathHasher`]s, keyed at random per table like foldhash's own.
#[derive(Clone, Debug, Default)]
pub(crate) struct PathHash(foldhash::fast::RandomState);

impl BuildHasher for PathHash {
    type Hasher = PathHasher;

    fn build_hasher(&self) -> PathHasher {
        PathHasher(self.0.build_hasher())
    }
}

/// A foldhash hasher that takes each byte string by its length and its tail.
pub(crate) struct PathHasher(foldhash::fast::FoldHasher<'static>);

impl Hasher for PathHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write_usize(bytes.len());
        self.0.write(&bytes[bytes.len().saturating_sub(TAIL)..]);
    }

    fn write_u8(&mut self, byte: u8) {
        self.0.write_u8(byte);
    }

    fn finish(&self) -> u64 {
        self.0.finish()
    }
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
        let a = "/a.Service/VeryLongMethodNameHere";
        let b = "/b.Service/VeryLongMethodNameHere";
        assert_eq!(hash.hash_one(a), hash.hash_one(b));
        assert_ne!(
            hash.hash_one(a),
            hash.hash_one("/a.Service/VeryLongMethodNameHerf")
        );
        assert_ne!(
            hash.hash_one(a),
            hash.hash_one("/a.Servic/VeryLongMethodNameHere")
        );
    }
}
