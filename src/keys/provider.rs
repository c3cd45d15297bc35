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
