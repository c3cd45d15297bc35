//! The in-memory key set every key provider answers from (swapped whole on refresh), and the
//! errors for a failed lookup.

use std::collections::HashMap;
use std::sync::Arc;

use super::algorithm::JwtAlgorithm;
use super::key::VerificationKey;
use crate::{ClaimsError, ClaimsErrorKind};

/// An immutable key set, swapped whole on refresh.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    /// Looked up on every call with a cached token (the key must still be in the set), so
    /// with a fast keyed hasher; the keys are the operator's, a caller only picks a `kid`.
    by_kid: HashMap<String, Vec<Arc<VerificationKey>>, foldhash::fast::RandomState>,
    len: usize,
}

/// The outcome of a key-set lookup.
pub(crate) enum Lookup {
    Found(Arc<VerificationKey>),
    /// The `kid` exists, but none of its keys verifies the algorithm.
    WrongAlgorithm,
    Missing,
}

impl KeySet {
    /// A set from `(kid, key)` entries. Keys equal to one in `previous` keep its `Arc`, so
    /// tokens cached against an unchanged key stay valid across refreshes cheaply.
    pub(crate) fn new(
        entries: Vec<(String, VerificationKey)>,
        previous: Option<&KeySet>,
    ) -> KeySet {
        let mut set = KeySet::default();
        for (kid, key) in entries {
            let reused = previous
                .and_then(|p| p.by_kid.get(&kid))
                .and_then(|keys| keys.iter().find(|k| ***k == key).cloned());
            let key = reused.unwrap_or_else(|| Arc::new(key));
            set.by_kid.entry(kid).or_default().push(key);
            set.len += 1;
        }
        set
    }

    /// Whether `self` holds exactly `other`'s keys (the same `Arc`s, as [`new`](Self::new)
    /// keeps them for unchanged keys) under the same key ids, in the same order.
    #[cfg(any(test, feature = "jwks"))]
    pub(crate) fn same_keys(&self, other: &KeySet) -> bool {
        self.len == other.len
            && self.by_kid.len() == other.by_kid.len()
            && self.by_kid.iter().all(|(kid, keys)| {
                other.by_kid.get(kid).is_some_and(|theirs| {
                    keys.len() == theirs.len()
                        && keys.iter().zip(theirs).all(|(a, b)| Arc::ptr_eq(a, b))
                })
            })
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn lookup(&self, alg: JwtAlgorithm, kid: &str) -> Lookup {
        match self.entry(alg, kid) {
            Ok(key) => Lookup::Found(Arc::clone(key)),
            Err(missed) => missed,
        }
    }

    /// The key `lookup` finds, by reference; the failed lookup otherwise.
    fn entry(&self, alg: JwtAlgorithm, kid: &str) -> Result<&Arc<VerificationKey>, Lookup> {
        let Some(keys) = self.by_kid.get(kid) else {
            return Err(Lookup::Missing);
        };
        // A later entry for the same kid wins, as in Temporal.
        keys.iter()
            .rev()
            .find(|k| k.supports(alg))
            .ok_or(Lookup::WrongAlgorithm)
    }

    /// Whether `key` is the key `lookup` finds (the same, or an equal one), without taking a
    /// reference to it.
    pub(crate) fn holds(&self, alg: JwtAlgorithm, kid: &str, key: &Arc<VerificationKey>) -> bool {
        self.entry(alg, kid)
            .is_ok_and(|k| Arc::ptr_eq(k, key) || **k == **key)
    }

    pub(crate) fn get(&self, alg: JwtAlgorithm, kid: &str) -> Option<Arc<VerificationKey>> {
        match self.lookup(alg, kid) {
            Lookup::Found(key) => Some(key),
            _ => None,
        }
    }
}

/// The error for a failed lookup; `kid` comes from the token, so it is quoted and shortened.
pub(crate) fn lookup_error(lookup: &Lookup, alg: JwtAlgorithm, kid: &str) -> ClaimsError {
    match lookup {
        Lookup::WrongAlgorithm => ClaimsError::new(
            ClaimsErrorKind::Algorithm,
            format!("no key for key id {} can verify {alg}", quote_kid(kid)),
        ),
        _ => ClaimsError::new(
            ClaimsErrorKind::UnknownKey,
            format!("no key for key id {}", quote_kid(kid)),
        ),
    }
}

/// Quotes an untrusted key id for logs, at most 64 characters.
pub(crate) fn quote_kid(kid: &str) -> String {
    const MAX: usize = 64;
    match kid.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}...", &kid[..cut]),
        None => format!("{kid:?}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    fn secret(byte: u8) -> VerificationKey {
        VerificationKey::insecure_hmac_secret(&[byte; 32]).unwrap()
    }

    fn found(set: &KeySet, alg: JwtAlgorithm, kid: &str) -> Arc<VerificationKey> {
        match set.lookup(alg, kid) {
            Lookup::Found(key) => key,
            _ => panic!("no key for {kid}"),
        }
    }

    #[test]
    fn same_keys_tells_an_unchanged_refresh_from_a_changed_one() {
        let entries = || vec![("a".to_owned(), secret(1)), ("b".to_owned(), secret(2))];
        let first = KeySet::new(entries(), None);
        assert!(KeySet::new(entries(), Some(&first)).same_keys(&first));
        assert!(
            !KeySet::new(entries(), None).same_keys(&first),
            "equal keys not carried over from the previous set"
        );
        let removed = KeySet::new(vec![("a".to_owned(), secret(1))], Some(&first));
        assert!(!removed.same_keys(&first) && !first.same_keys(&removed));
        let replaced = KeySet::new(
            vec![("a".to_owned(), secret(1)), ("b".to_owned(), secret(3))],
            Some(&first),
        );
        assert!(!replaced.same_keys(&first));
        let moved = KeySet::new(
            vec![("a".to_owned(), secret(1)), ("c".to_owned(), secret(2))],
            Some(&first),
        );
        assert!(!moved.same_keys(&first), "a key under another kid");
    }

    #[test]
    fn holds_answers_as_lookup_does() {
        let set = KeySet::new(
            vec![("a".to_owned(), secret(1)), ("b".to_owned(), secret(2))],
            None,
        );
        let a = found(&set, JwtAlgorithm::HS256, "a");
        assert!(set.holds(JwtAlgorithm::HS256, "a", &a), "the same key");
        assert!(
            set.holds(JwtAlgorithm::HS256, "a", &Arc::new(secret(1))),
            "an equal key"
        );
        assert!(
            !set.holds(JwtAlgorithm::HS256, "b", &a),
            "another kid's key"
        );
        assert!(
            !set.holds(JwtAlgorithm::HS256, "c", &a),
            "a kid not in the set"
        );
        assert!(
            !set.holds(JwtAlgorithm::RS256, "a", &a),
            "an algorithm the key cannot verify"
        );
    }

    #[test]
    fn holds_sees_the_later_key_of_a_repeated_kid() {
        let set = KeySet::new(
            vec![("a".to_owned(), secret(1)), ("a".to_owned(), secret(2))],
            None,
        );
        let later = found(&set, JwtAlgorithm::HS256, "a");
        assert!(set.holds(JwtAlgorithm::HS256, "a", &later));
        assert!(!set.holds(JwtAlgorithm::HS256, "a", &Arc::new(secret(1))));
    }
}
