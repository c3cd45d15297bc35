//! [`TokenKeyProvider`]: the plug-in point that finds the key verifying a token.

use std::sync::Arc;

use super::algorithm::JwtAlgorithm;
use super::key::VerificationKey;
use crate::{BoxFuture, ClaimsError};

/// Looks up the key that verifies a token, by the token's `alg` and `kid` (Temporal's
/// `TokenKeyProvider`).
///
/// Implementations keep keys in memory and return them without I/O on the hot path; a
/// provider that can fetch (like [`JwksKeyProvider`](crate::JwksKeyProvider)) may do so in
/// [`key`](Self::key) when a `kid` is unknown.
pub trait TokenKeyProvider: Send + Sync + 'static {
    /// The key for a token signed with `alg` under `kid`.
    ///
    /// # Errors
    /// [`UnknownKey`](crate::ClaimsErrorKind::UnknownKey) when no key has this `kid`,
    /// [`Algorithm`](crate::ClaimsErrorKind::Algorithm) when the key cannot verify `alg`,
    /// [`KeysUnavailable`](crate::ClaimsErrorKind::KeysUnavailable) when no key set has been
    /// loaded yet.
    fn key<'a>(
        &'a self,
        alg: JwtAlgorithm,
        kid: &'a str,
    ) -> BoxFuture<'a, Result<Arc<VerificationKey>, ClaimsError>>;

    /// The key held now for `alg` and `kid`, without any I/O. The verified-token cache uses
    /// it to drop tokens whose signing key has left the key set, and the JWT claim mapper
    /// verifies a token not in its cache with it, without waiting on [`key`](Self::key): when
    /// it answers `Some`, it must be the key `key` would return.
    fn current_key(&self, alg: JwtAlgorithm, kid: &str) -> Option<Arc<VerificationKey>>;

    /// Whether `key` is still the key held for `alg` and `kid`, as [`current_key`] would
    /// answer it. The verified-token cache asks this on every hit. The default asks
    /// [`current_key`]; the crate's providers answer without taking a reference to the key,
    /// so hits on several cores never write to the key's shared count.
    ///
    /// [`current_key`]: Self::current_key
    fn holds_key(&self, alg: JwtAlgorithm, kid: &str, key: &Arc<VerificationKey>) -> bool {
        self.current_key(alg, kid)
            .is_some_and(|k| Arc::ptr_eq(&k, key) || *k == **key)
    }

    /// A number that changes whenever the keys behind [`holds_key`] change, or `None` when
    /// the provider cannot tell. The verified-token cache notes it when a token's key is
    /// found held, and on later hits skips [`holds_key`] while the number is the same, so a
    /// hit costs one atomic load instead of a key lookup.
    ///
    /// A provider that answers `Some` must answer a different number after any change that
    /// could turn a `holds_key` answer from `true` to `false`, and must change the number
    /// only once `holds_key` sees the new keys. Defaults to `None`: every hit asks
    /// `holds_key`.
    ///
    /// [`holds_key`]: Self::holds_key
    fn keys_version(&self) -> Option<u64> {
        None
    }
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

    fn holds_key(&self, alg: JwtAlgorithm, kid: &str, key: &Arc<VerificationKey>) -> bool {
        (**self).holds_key(alg, kid, key)
    }

    fn keys_version(&self) -> Option<u64> {
        (**self).keys_version()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    /// A provider that only answers `current_key`, as a user's might.
    struct One(Option<Arc<VerificationKey>>);

    impl TokenKeyProvider for One {
        fn key<'a>(
            &'a self,
            _alg: JwtAlgorithm,
            _kid: &'a str,
        ) -> BoxFuture<'a, Result<Arc<VerificationKey>, ClaimsError>> {
            Box::pin(async { Err(ClaimsError::new(crate::ClaimsErrorKind::UnknownKey, "none")) })
        }

        fn current_key(&self, _alg: JwtAlgorithm, _kid: &str) -> Option<Arc<VerificationKey>> {
            self.0.clone()
        }
    }

    fn secret(byte: u8) -> Arc<VerificationKey> {
        Arc::new(VerificationKey::insecure_hmac_secret(&[byte; 32]).unwrap())
    }

    #[test]
    fn the_default_key_check_asks_current_key() {
        let key = secret(1);
        let provider = Arc::new(One(Some(Arc::clone(&key))));
        assert!(provider.holds_key(JwtAlgorithm::HS256, "k", &key));
        assert!(
            provider.holds_key(JwtAlgorithm::HS256, "k", &secret(1)),
            "equal"
        );
        assert!(!provider.holds_key(JwtAlgorithm::HS256, "k", &secret(2)));
        assert!(!One(None).holds_key(JwtAlgorithm::HS256, "k", &key));
    }
}
