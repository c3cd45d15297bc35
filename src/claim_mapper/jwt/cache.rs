//! The verified-token cache: token (by SHA-256, so raw tokens are not kept in memory) to the
//! claims it verified to.
//!
//! An entry lives at most until the token's `exp` and at most the configured maximum age; on
//! every hit the mapper re-checks `exp`, the caller's expected audience, and that the signing
//! key is still in the key set, so a cache hit is exactly as strict as a full check, minus the
//! signature verification.
//!
//! Lookups are counted in `tonic_authz_token_cache_requests_total{result="hit"|"miss"}`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::future::Cache;
use sha2::{Digest, Sha256};

use crate::Claims;
use crate::claim_mapper::jwt::checks::Audience;
use crate::keys::{JwtAlgorithm, VerificationKey};

#[cfg(feature = "metrics")]
const REQUESTS: &str = "tonic_authz_token_cache_requests_total";

/// What a verified token stands for.
#[derive(Debug)]
pub(crate) struct VerifiedToken {
    pub(crate) claims: Claims,
    pub(crate) exp: Option<i64>,
    pub(crate) audience: Audience,
    pub(crate) alg: JwtAlgorithm,
    pub(crate) kid: String,
    pub(crate) key: Arc<VerificationKey>,
    /// Which of the mapper's issuers verified it (its keys are re-checked on a hit).
    pub(crate) issuer: usize,
    /// How long the entry may live, fixed at insertion.
    pub(crate) ttl: Duration,
}

pub(crate) type CacheKey = [u8; 32];

pub(crate) fn cache_key(token: &str) -> CacheKey {
    Sha256::digest(token.as_bytes()).into()
}

struct PerEntryTtl;

impl Expiry<CacheKey, Arc<VerifiedToken>> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &CacheKey,
        value: &Arc<VerifiedToken>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// A bounded cache of verified tokens.
#[derive(Clone, Debug)]
pub(crate) struct TokenCache {
    cache: Cache<CacheKey, Arc<VerifiedToken>>,
}

impl TokenCache {
    pub(crate) fn new(capacity: u64) -> TokenCache {
        #[cfg(feature = "metrics")]
        metrics::describe_counter!(
            REQUESTS,
            metrics::Unit::Count,
            "Verified-token cache lookups, by result: hit (signature verification skipped) or \
             miss."
        );
        TokenCache {
            cache: Cache::builder()
                .max_capacity(capacity)
                .expire_after(PerEntryTtl)
                .build(),
        }
    }

    pub(crate) async fn get(&self, key: &CacheKey) -> Option<Arc<VerifiedToken>> {
        let found = self.cache.get(key).await;
        #[cfg(feature = "metrics")]
        metrics::counter!(
            REQUESTS,
            "result" => if found.is_some() { "hit" } else { "miss" }
        )
        .increment(1);
        found
    }

    pub(crate) async fn insert(&self, key: CacheKey, token: Arc<VerifiedToken>) {
        if !token.ttl.is_zero() {
            self.cache.insert(key, token).await;
        }
    }

    pub(crate) async fn remove(&self, key: &CacheKey) {
        self.cache.invalidate(key).await;
    }

    pub(crate) fn entry_count(&self) -> u64 {
        self.cache.entry_count()
    }

    pub(crate) async fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks().await;
    }
}
