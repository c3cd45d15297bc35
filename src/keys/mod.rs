//! Where token signing keys come from: the [`TokenKeyProvider`] plug-in point, with
//! [`JwksKeyProvider`] (JWK Sets over HTTP(S) or from files, refreshed in the background) and
//! [`StaticKeyProvider`] (keys given in code or files).
//!
//! # Example
//! ```
//! use std::sync::Arc;
//! use tonic_authz::{JwtAlgorithm, StaticKeyProvider, TokenKeyProvider};
//!
//! let jwks = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1",
//!   "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
//!   "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;
//! let keys = StaticKeyProvider::from_jwks(jwks)?;
//! assert!(keys.current_key(JwtAlgorithm::ES256, "k1").is_some());
//! assert!(keys.current_key(JwtAlgorithm::RS256, "k1").is_none());
//! let provider: Arc<dyn TokenKeyProvider> = Arc::new(keys);
//! # let _ = provider;
//! # Ok::<_, tonic_authz::KeyError>(())
//! ```

mod algorithm;
mod fetch;
mod jwk;
mod jwks;
mod key;
mod static_keys;

use std::collections::HashMap;
use std::sync::Arc;

pub use algorithm::JwtAlgorithm;
pub use jwks::{JwksKeyProvider, JwksKeyProviderBuilder};
pub use key::{KeyError, VerificationKey};
pub use static_keys::StaticKeyProvider;

use crate::{BoxFuture, ClaimsError, ClaimsErrorKind};

/// Looks up the key that verifies a token, by the token's `alg` and `kid` (Temporal's
/// `TokenKeyProvider`).
///
/// Implementations keep keys in memory and return them without I/O on the hot path; a
/// provider that can fetch (like [`JwksKeyProvider`]) may do so in [`key`](Self::key) when a
/// `kid` is unknown.
pub trait TokenKeyProvider: Send + Sync + 'static {
    /// The key for a token signed with `alg` under `kid`.
    ///
    /// # Errors
    /// [`ClaimsErrorKind::UnknownKey`] when no key has this `kid`,
    /// [`ClaimsErrorKind::Algorithm`] when the key cannot verify `alg`,
    /// [`ClaimsErrorKind::KeysUnavailable`] when no key set has been loaded yet.
    fn key<'a>(
        &'a self,
        alg: JwtAlgorithm,
        kid: &'a str,
    ) -> BoxFuture<'a, Result<Arc<VerificationKey>, ClaimsError>>;

    /// The key held now for `alg` and `kid`, without any I/O. The verified-token cache uses
    /// it to drop tokens whose signing key has left the key set.
    fn current_key(&self, alg: JwtAlgorithm, kid: &str) -> Option<Arc<VerificationKey>>;
}

impl<P: TokenKeyProvider + ?Sized> TokenKeyProvider for Arc<P> {
    fn key<'a>(
        &'a self,
        alg: JwtAlgorithm,
        kid: &'a str,
    ) -> BoxFuture<'a, Result<Arc<VerificationKey>, ClaimsError>> {
        (**self).key(alg, kid)
    }

    fn current_key(&self, alg: JwtAlgorithm, kid: &str) -> Option<Arc<VerificationKey>> {
        (**self).current_key(alg, kid)
    }
}

/// An immutable key set, swapped whole on refresh.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    by_kid: HashMap<String, Vec<Arc<VerificationKey>>>,
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
