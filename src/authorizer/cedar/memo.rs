//! The bounded store behind the entity cache and the decision cache: values found by a hash
//! of what they were computed from, and handed out only when that input compares equal in
//! full, so a hash collision can only cost a recomputation. When it holds its capacity of
//! hash buckets it is emptied and fills again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The values whose inputs hash alike (almost always one), each with its input.
type Bucket<K, V> = Vec<(K, Arc<V>)>;

/// Values of type `V`, each kept with its owned input `K`.
#[derive(Debug)]
pub(super) struct Memo<K, V> {
    capacity: usize,
    entries: Mutex<HashMap<u64, Bucket<K, V>>>,
}

impl<K, V> Memo<K, V> {
    /// An empty store holding at most `capacity` buckets (almost always one value each).
    pub(super) fn new(capacity: usize) -> Memo<K, V> {
        Memo {
            capacity,
            entries: Mutex::default(),
        }
    }

    /// The value whose input hashes to `hash` and `is` the one asked for; otherwise `build`
    /// computes it and `keep` gives the input to keep it under (`None`: not kept).
    ///
    /// # Errors
    /// Those of `build` (nothing is kept then).
    pub(super) fn get_or_insert<E>(
        &self,
        hash: u64,
        is: impl Fn(&K) -> bool,
        build: impl FnOnce() -> Result<V, E>,
        keep: impl FnOnce(&V) -> Option<K>,
    ) -> Result<Arc<V>, E> {
        if let Some(found) = self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&hash)
            .and_then(|bucket| bucket.iter().find(|(k, _)| is(k)))
        {
            return Ok(Arc::clone(&found.1));
        }
        let built = Arc::new(build()?);
        let Some(key) = keep(&built) else {
            return Ok(built);
        };
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            entries.clear();
        }
        let bucket = entries.entry(hash).or_default();
        if !bucket.iter().any(|(k, _)| is(k)) {
            bucket.push((key, Arc::clone(&built)));
        }
        Ok(built)
    }

    /// How many values the store holds.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .map(Vec::len)
            .sum()
    }
}
