//! [`StaticKeyProvider`]: a fixed set of keys given in code, a JWK Set, or PEM files.

use std::path::Path;
use std::sync::Arc;

use crate::keys::algorithm::JwtAlgorithm;
use crate::keys::jwk;
use crate::keys::key::VerificationKey;
use crate::keys::key::{KeyError, KeyErrorKind};
use crate::keys::provider::TokenKeyProvider;
use crate::keys::set::{KeySet, Lookup, lookup_error};
use crate::{BoxFuture, ClaimsError};

/// A fixed key set that never changes and never does I/O after construction.
///
/// Build it with [`new`](Self::new) and [`with_key`](Self::with_key), or load a JWK Set
/// ([`from_jwks`](Self::from_jwks)) or PEM files ([`with_pem_file`](Self::with_pem_file)).
/// HMAC secrets are accepted only through
/// [`VerificationKey::insecure_hmac_secret`].
#[derive(Debug, Default)]
pub struct StaticKeyProvider {
    entries: Vec<(String, VerificationKey)>,
    set: KeySet,
}

impl StaticKeyProvider {
    /// An empty provider (every token is rejected until keys are added).
    #[must_use]
    pub fn new() -> StaticKeyProvider {
        StaticKeyProvider::default()
    }

    /// Adds `key` under key id `kid` (tokens name it in their `kid` header). Several keys may
    /// share a `kid` if they differ in type; for the same type the last one added wins.
    #[must_use]
    pub fn with_key(mut self, kid: impl Into<String>, key: VerificationKey) -> StaticKeyProvider {
        self.entries.push((kid.into(), key));
        self.rebuild();
        self
    }

    /// Adds the public key (or certificate) in a PEM file under `kid`.
    ///
    /// # Errors
    /// When the file cannot be read or holds no usable public key; the message names the file.
    pub fn with_pem_file(
        self,
        kid: impl Into<String>,
        path: impl AsRef<Path>,
    ) -> Result<StaticKeyProvider, KeyError> {
        let path = path.as_ref();
        let pem = std::fs::read(path).map_err(|e| {
            KeyError::new(format!("cannot read key file {}", path.display()))
                .with_kind(KeyErrorKind::Fetch)
                .with_source(e)
        })?;
        let key = VerificationKey::from_pem(&pem).map_err(|e| {
            KeyError::new(format!("key file {}: {e}", path.display())).with_source(e)
        })?;
        Ok(self.with_key(kid, key))
    }

    /// A provider holding the usable keys of a JWK Set (JSON text). Unusable keys are skipped
    /// with a warning, as [`JwksKeyProvider`](crate::JwksKeyProvider) does.
    ///
    /// # Errors
    /// When the text is not a JSON object with a `keys` array.
    pub fn from_jwks(json: &str) -> Result<StaticKeyProvider, KeyError> {
        let decoded = jwk::parse_jwks(json.as_bytes(), "static key set")?;
        let mut provider = StaticKeyProvider {
            entries: decoded.keys,
            set: KeySet::default(),
        };
        provider.rebuild();
        Ok(provider)
    }

    /// How many keys the provider holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether the provider holds no key.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.set.len() == 0
    }

    fn rebuild(&mut self) {
        self.set = KeySet::new(self.entries.clone(), Some(&self.set));
    }

    fn lookup(&self, alg: JwtAlgorithm, kid: &str) -> Result<Arc<VerificationKey>, ClaimsError> {
        match self.set.lookup(alg, kid) {
            Lookup::Found(key) => Ok(key),
            other => Err(lookup_error(&other, alg, kid)),
        }
    }
}

impl TokenKeyProvider for StaticKeyProvider {
    fn key<'a>(
        &'a self,
        alg: JwtAlgorithm,
        kid: &'a str,
    ) -> BoxFuture<'a, Result<Arc<VerificationKey>, ClaimsError>> {
        Box::pin(std::future::ready(self.lookup(alg, kid)))
    }

    fn current_key(&self, alg: JwtAlgorithm, kid: &str) -> Option<Arc<VerificationKey>> {
        self.set.get(alg, kid)
    }

    fn holds_key(&self, alg: JwtAlgorithm, kid: &str, key: &Arc<VerificationKey>) -> bool {
        self.set.holds(alg, kid, key)
    }

    // The keys are fixed once the provider is built (its setters take it by value).
    fn keys_version(&self) -> Option<u64> {
        Some(0)
    }
}
