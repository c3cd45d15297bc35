//! The bounded store behind the entity cache and the decision cache: values found by a hash
//! of what they were computed from (foldhash, keyed per store), and handed out only when that
//! input compares equal in full, so a hash collision can only cost a recomputation. When it
//! holds `CAPACITY` hash buckets it is emptied and fills again.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, Mutex, PoisonError};

use foldhash::fast::RandomState;

/// The values whose inputs hash alike (almost always one), each with its input.
type Bucket<K, V> = Vec<(K, Arc<V>)>;

/// Values of type `V`, each kept with its owned input `K`; at most `CAPACITY` buckets (almost
/// always one value each).
#[derive(Debug)]
pub(super) struct Memo<K, V, const CAPACITY: usize> {
    state: RandomState,
    entries: Mutex<HashMap<u64, Bucket<K, V>>>,
}

impl<K, V, const CAPACITY: usize> Default for Memo<K, V, CAPACITY> {
    fn default() -> Self {
        Memo {
            state: RandomState::default(),
            entries: Mutex::default(),
        }
    }
}

impl<K, V, const CAPACITY: usize> Memo<K, V, CAPACITY> {
    /// The value computed from `input`, found by its hash, when a kept one `is` for it;
    /// otherwise `build` computes it and `keep` gives the owned input to keep it under
    /// (`None`: not kept).
    ///
    /// # Errors
    /// Those of `build` (nothing is kept then).
    pub(super) fn get_or_insert<E>(
        &self,
        input: &impl Hash,
        is: impl Fn(&K) -> bool,
        build: impl FnOnce() -> Result<V, E>,
        keep: impl FnOnce(&V) -> Option<K>,
    ) -> Result<Arc<V>, E> {
        let hash = self.state.hash_one(input);
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
        if entries.len() >= CAPACITY {
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
