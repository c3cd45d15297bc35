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

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn lookup(&self, alg: JwtAlgorithm, kid: &str) -> Lookup {
        let Some(keys) = self.by_kid.get(kid) else {
            return Lookup::Missing;
        };
        // A later entry for the same kid wins, as in Temporal.
        match keys.iter().rev().find(|k| k.supports(alg)) {
            Some(key) => Lookup::Found(Arc::clone(key)),
            None => Lookup::WrongAlgorithm,
        }
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
