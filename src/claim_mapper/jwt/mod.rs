//! [`JwtClaimMapper`]: Temporal's default claim mapper (bearer JWT → [`Claims`] from the
//! `permissions` claim), with stricter validation and a verified-token cache.
//!
//! # Example
//! ```no_run
//! # async fn run() -> Result<(), tonic_authz::KeyError> {
//! use std::sync::Arc;
//! use tonic_authz::{JwksKeyProvider, JwtClaimMapper};
//!
//! let keys = JwksKeyProvider::builder()
//!     .uri("https://idp.example.com/.well-known/jwks.json")
//!     .build()
//!     .await?;
//! let mapper = JwtClaimMapper::builder(Arc::new(keys))
//!     .issuer("https://idp.example.com/")
//!     .build();
//! # let _ = mapper;
//! # Ok(()) }
//! ```

mod cache;
pub(crate) mod checks;
pub(crate) mod claim_path;
mod issuer;
#[cfg(test)]
mod recent_tests;
pub(crate) mod token;

pub use issuer::{IssuerError, TrustedIssuer, TrustedIssuerBuilder};

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use cache::{TokenCache, VerifiedToken};
use checks::Audience;
use issuer::{IssuerPolicy, IssuerRouter};
use token::bearer_token;

use crate::keys::{JwtAlgorithm, TokenKeyProvider};
use crate::permission::{DEFAULT_SYSTEM_NAMESPACES, PermissionFormat, PermissionParser};
use crate::{AuthInfo, BoxFuture, ClaimMapper, Claims, ClaimsError, ClaimsErrorKind};

const DEFAULT_CACHE_CAPACITY: u64 = 10_000;
const DEFAULT_CACHE_MAX_AGE: Duration = Duration::from_secs(300);

/// A clock set with [`JwtClaimMapperBuilder::clock`]; `None`: the system's.
type Clock = Option<Arc<dyn Fn() -> SystemTime + Send + Sync>>;

/// Builds a [`JwtClaimMapper`]; see each setter for its default.
#[must_use]
pub struct JwtClaimMapperBuilder {
    keys: Option<Arc<dyn TokenKeyProvider>>,
    trusted: Vec<TrustedIssuer>,
    claim_name: String,
    regex: Option<String>,
    system_namespaces: HashSet<String>,
    algorithms: Vec<JwtAlgorithm>,
    leeway: Duration,
    issuer: Option<String>,
    cache_capacity: u64,
    cache_max_age: Duration,
    clock: Clock,
}

impl JwtClaimMapperBuilder {
    /// The top-level claim holding the permissions array (Temporal's `permissionsClaimName`).
    /// Default: `permissions`.
    pub fn permissions_claim_name(mut self, name: impl Into<String>) -> Self {
        self.claim_name = name.into();
        self
    }

    /// A regex matched against each permission, with named groups `namespace` and `role`
    /// (Temporal's `permissionsRegex`), e.g. `(?P<role>\w+):(?P<namespace>\w+)`. A regex that
    /// does not compile or lacks either group is ignored with a warning and `namespace:role`
    /// parsing is used, as in Temporal. Default: none (`namespace:role`, split on the first `:`).
    pub fn permissions_regex(mut self, regex: impl Into<String>) -> Self {
        self.regex = Some(regex.into());
        self
    }

    /// The namespace names whose permissions grant system-wide roles (exact, case-sensitive).
    /// Default: `temporal-system` (what Temporal's server matches) and `system` (the form
    /// Temporal's documentation shows).
    pub fn system_namespaces<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.system_namespaces = names.into_iter().map(Into::into).collect();
        self
    }

    /// The algorithms a token may be signed with; a token is also checked against what its
    /// key allows. `none` is never accepted, and HMAC only verifies with a secret given
    /// explicitly ([`VerificationKey::insecure_hmac_secret`](crate::VerificationKey::insecure_hmac_secret)).
    /// Default: RS256 and ES256 (as Temporal).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = JwtAlgorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat` (whole seconds). Default: zero (as
    /// Temporal).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Requires the `iss` claim to equal `issuer` (Temporal does not check it). Default: not
    /// checked.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Trusts one more issuer, matched by the token's `iss` and verified only with its own
    /// keys and settings (see [`TrustedIssuer`]); adding the same issuer again replaces it.
    /// The settings above (claim name, regex, algorithms, issuer) concern only the default
    /// issuer given to [`JwtClaimMapper::builder`]. Default: none.
    pub fn trusted_issuer(mut self, issuer: TrustedIssuer) -> Self {
        self.trusted.push(issuer);
        self
    }

    /// The most verified tokens kept in the cache; zero disables the cache. Default: 10 000.
    pub fn cache_capacity(mut self, capacity: u64) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// The longest a verified token stays cached (never beyond its `exp`). Default: 5 minutes.
    pub fn cache_max_age(mut self, max_age: Duration) -> Self {
        self.cache_max_age = max_age;
        self
    }

    /// The clock used for time claims. Default: [`SystemTime::now`]; replace it in tests.
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Builds the mapper. Never fails: a bad permissions regex falls back with a warning.
    pub fn build(self) -> JwtClaimMapper {
        let permissions = PermissionParser::new(
            PermissionFormat::new(self.regex.as_deref()),
            self.system_namespaces,
        );
        let cache = (self.cache_capacity > 0).then(|| TokenCache::new(self.cache_capacity));
        let default = self.keys.map(|keys| {
            IssuerPolicy::default_issuer(
                keys,
                self.issuer,
                &self.claim_name,
                permissions,
                self.algorithms,
            )
        });
        JwtClaimMapper {
            inner: Arc::new(Inner {
                issuers: IssuerRouter::new(default, self.trusted),
                leeway: i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX),
                cache,
                cache_max_age: self.cache_max_age,
                clock: self.clock,
                verifications: AtomicU64::new(0),
            }),
        }
    }
}

impl fmt::Debug for JwtClaimMapperBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtClaimMapperBuilder")
            .field("permissions_claim_name", &self.claim_name)
            .field("permissions_regex", &self.regex)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

/// Temporal's default claim mapper: a `Bearer` JWT, verified against a
/// [`TokenKeyProvider`], mapped to [`Claims`] from its permissions claim.
///
/// - Header: `Bearer <jwt>`, scheme case-insensitive, split on the first space; no token gives
///   empty claims (auth type `jwt`), so a caller with only a client certificate is not an
///   error.
/// - Token: three unpadded base64url segments; `alg` in the allow-list and fitting the key;
///   `kid` present (a string); signature valid; `exp`/`iat`/`nbf` valid (a value of `0` is
///   absent, a non-number rejects); audience checked when [`AuthInfo::audience`] is not blank;
///   issuer checked when configured; `sub` a string.
/// - Permissions: each `namespace:role` entry (or regex match) adds `read`/`write`/`admin`/
///   `worker` (case-insensitive) to that namespace, or to the system role for a system
///   namespace; malformed entries are skipped.
/// - Every rejection is a [`ClaimsError`] whose kind and message say why (never containing
///   the token); the client only ever sees the generic denial.
/// - Verified tokens are cached (see [`JwtClaimMapperBuilder::cache_capacity`]): a hit skips
///   signature verification but still checks `exp`, audience, and that the signing key is
///   still in the key set.
///
/// Cloning is cheap and clones share the cache.
#[derive(Clone)]
pub struct JwtClaimMapper {
    inner: Arc<Inner>,
}

struct Inner {
    issuers: IssuerRouter,
    leeway: i64,
    cache: Option<TokenCache>,
    cache_max_age: Duration,
    clock: Clock,
    verifications: AtomicU64,
}

impl JwtClaimMapper {
    /// A builder over `keys`, with the defaults stated on each setter.
    pub fn builder(keys: Arc<dyn TokenKeyProvider>) -> JwtClaimMapperBuilder {
        JwtClaimMapperBuilder {
            keys: Some(keys),
            ..JwtClaimMapper::multi_issuer()
        }
    }

    /// A builder without a default issuer: only tokens from the issuers added with
    /// [`JwtClaimMapperBuilder::trusted_issuer`] are accepted, every other `iss` is refused.
    pub fn multi_issuer() -> JwtClaimMapperBuilder {
        JwtClaimMapperBuilder {
            keys: None,
            trusted: Vec::new(),
            claim_name: "permissions".to_owned(),
            regex: None,
            system_namespaces: DEFAULT_SYSTEM_NAMESPACES
                .into_iter()
                .map(String::from)
                .collect(),
            algorithms: vec![JwtAlgorithm::RS256, JwtAlgorithm::ES256],
            leeway: Duration::ZERO,
            issuer: None,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            cache_max_age: DEFAULT_CACHE_MAX_AGE,
            clock: None,
        }
    }

    /// A mapper over `keys` with every default.
    #[must_use]
    pub fn new(keys: Arc<dyn TokenKeyProvider>) -> JwtClaimMapper {
        JwtClaimMapper::builder(keys).build()
    }

    /// How many signature verifications this mapper (and its clones) has run; cache hits do
    /// not verify.
    #[must_use]
    pub fn verifications(&self) -> u64 {
        self.inner.verifications.load(Ordering::Relaxed)
    }

    /// How many verified tokens are cached, including any past their `exp` or maximum age
    /// that no call has dropped yet (see [`sync_cache`](Self::sync_cache)).
    #[must_use]
    pub fn cached_tokens(&self) -> u64 {
        self.inner.cache.as_ref().map_or(0, TokenCache::entry_count)
    }

    /// Drops the cached tokens past their `exp` or their maximum age now, rather than when a
    /// call or a full cache meets them.
    pub async fn sync_cache(&self) {
        if let Some(cache) = &self.inner.cache {
            cache.purge(self.inner.now());
        }
    }

    /// Maps an auth header value (`Bearer <jwt>`) and expected audience to claims; what
    /// [`ClaimMapper::get_claims`] does with [`AuthInfo::auth_token`] and
    /// [`AuthInfo::audience`].
    ///
    /// # Errors
    /// A [`ClaimsError`] for every reason a token is rejected.
    pub async fn claims_for_token(
        &self,
        auth_token: &str,
        audience: &str,
    ) -> Result<Claims, ClaimsError> {
        self.inner.claims_for_token(auth_token, audience).await
    }
}

/// What a cache entry says of a call's token.
enum Hit {
    /// The claims, or the audience check's refusal.
    Answer(Result<Claims, ClaimsError>),
    /// Past its `exp`: refused, and dropped from the cache.
    Expired,
    /// Its signing key left the key set: dropped from the cache and verified afresh.
    KeyGone,
}

impl Inner {
    /// The time for a full check, in Unix seconds.
    fn now(&self) -> i64 {
        match &self.clock {
            Some(clock) => crate::clock::unix_secs(clock()),
            None => crate::clock::unix_secs(SystemTime::now()),
        }
    }

    /// The time for a cache hit's checks (`exp`, the entry's maximum age), which only ever
    /// refuse a later time: never behind [`now`](Self::now), and cheaper to read.
    // Inlined into the layer's allowed path with its other steps (see `layer::call`).
    #[inline(always)]
    fn now_on_hit(&self) -> i64 {
        match &self.clock {
            Some(clock) => crate::clock::unix_secs(clock()),
            None => crate::clock::unix_secs_not_behind(),
        }
    }

    async fn claims_for_token(
        &self,
        auth_token: &str,
        audience: &str,
    ) -> Result<Claims, ClaimsError> {
        let Some(jwt) = bearer_token(auth_token)? else {
            return Ok(Claims::new().with_auth_type("jwt"));
        };
        if let Some(answer) = self.cached(jwt, 0, self.now_on_hit(), audience) {
            return answer;
        }
        let now = self.now();
        let verified = self.verify(jwt, now).await;
        self.settle(jwt, verified, now, audience)
    }

    /// The answer that needs no waiting: a malformed header, no token, a token in the cache,
    /// or a token whose signing key is held now, verified here. `None` when only the key
    /// provider's `key` can find the key (a `kid` it does not hold, which it may fetch).
    /// `text_id`: the layer's number for this exact token text, zero when there is none.
    fn claims_now(
        &self,
        auth_token: &str,
        text_id: u64,
        audience: &str,
    ) -> Option<Result<Claims, ClaimsError>> {
        // Without a cache there is no hit to look for: no clock read for nothing. With one, the
        // clock is read once for both lookups below.
        let hit_time = self.cache.as_ref().map(|cache| (cache, self.now_on_hit()));
        // A text the thread found in the cache just before: the same bytes, so the same
        // header and entry, answered without reading the token.
        if let Some((cache, now)) = hit_time {
            match cache.recent(text_id, now, |hit, claims| {
                self.check_hit(hit, claims, now, audience)
            }) {
                Some(Hit::Answer(answer)) => {
                    cache.count_hit();
                    return Some(answer);
                }
                // Looked up afresh, and dropped from the cache if it must be.
                Some(Hit::Expired | Hit::KeyGone) => cache.forget_recent(),
                None => {}
            }
        }
        let jwt = match bearer_token(auth_token) {
            Err(e) => return Some(Err(e)),
            Ok(None) => return Some(Ok(Claims::new().with_auth_type("jwt"))),
            Ok(Some(jwt)) => jwt,
        };
        if let Some((_, now)) = hit_time
            && let Some(answer) = self.cached(jwt, text_id, now, audience)
        {
            return Some(answer);
        }
        let now = self.now();
        let verified = self.verify_now(jwt, now)?;
        Some(self.settle(jwt, verified, now, audience))
    }

    /// What a verification of a token not in the cache comes to: counted as a miss, cached
    /// when it passed, then checked against the call's audience.
    fn settle(
        &self,
        jwt: &str,
        verified: Result<VerifiedToken, ClaimsError>,
        now: i64,
        audience: &str,
    ) -> Result<Claims, ClaimsError> {
        if let Some(cache) = &self.cache {
            cache.count_miss();
        }
        let verified = Arc::new(verified?);
        if let Some(cache) = &self.cache {
            cache.insert(jwt, Arc::clone(&verified), now);
        }
        verified.audience.check(audience)?;
        Ok(verified.claims.clone())
    }

    /// The answer from the cache entry for `jwt`, with every check a hit makes (expiry, the
    /// signing key still in its set, the audience); `None` when the token must be verified.
    /// `text_id` (not zero) is remembered with the entry found, for the next call with it.
    fn cached(
        &self,
        jwt: &str,
        text_id: u64,
        now: i64,
        audience: &str,
    ) -> Option<Result<Claims, ClaimsError>> {
        let cache = self.cache.as_ref()?;
        let hit = cache.get(jwt, text_id, now, |hit| {
            self.check_hit(hit, &hit.claims, now, audience)
        })?;
        match hit {
            Hit::Answer(answer) => Some(answer),
            Hit::Expired => {
                cache.remove(jwt);
                Some(Err(ClaimsError::new(
                    ClaimsErrorKind::Time,
                    "Token is expired",
                )))
            }
            // The signing key left the key set: forget the token and check it afresh.
            Hit::KeyGone => {
                cache.remove(jwt);
                None
            }
        }
    }

    /// What a cache entry says of a call's token at `now`, with the call's `audience`;
    /// `claims` are the entry's, or a copy of them (`cache::Recent`).
    #[inline(always)]
    fn check_hit(&self, hit: &VerifiedToken, claims: &Claims, now: i64, audience: &str) -> Hit {
        if checks::is_expired(hit.exp, now, self.leeway) {
            return Hit::Expired;
        }
        if !hit.key_still_held(&*self.issuers.get(hit.issuer).keys) {
            return Hit::KeyGone;
        }
        Hit::Answer(hit.audience.check(audience).map(|()| claims.clone()))
    }

    /// The full check of a token not in the cache (all but the audience).
    async fn verify(&self, jwt: &str, now: i64) -> Result<VerifiedToken, ClaimsError> {
        let (token, issuer) = self.unverified(jwt)?;
        let key = self
            .issuers
            .get(issuer)
            .keys
            .key(token.alg, &token.kid)
            .await?;
        self.verify_with(token, issuer, key, now)
    }

    /// [`verify`](Self::verify) without waiting, when the token's key is held now (the
    /// provider's `current_key`, which is the key its `key` returns); `None` when it is not.
    fn verify_now(&self, jwt: &str, now: i64) -> Option<Result<VerifiedToken, ClaimsError>> {
        let (token, issuer) = match self.unverified(jwt) {
            Ok(parsed) => parsed,
            Err(e) => return Some(Err(e)),
        };
        let key = self
            .issuers
            .get(issuer)
            .keys
            .current_key(token.alg, &token.kid)?;
        Some(self.verify_with(token, issuer, key, now))
    }

    /// The token's parts and the issuer it is routed to, when its algorithm is one that
    /// issuer accepts.
    fn unverified<'t>(
        &self,
        jwt: &'t str,
    ) -> Result<(token::UnverifiedToken<'t>, usize), ClaimsError> {
        let token = token::parse(jwt, self.issuers.algorithms())?;
        let issuer = self.issuers.route(&token.payload)?;
        let policy = self.issuers.get(issuer);
        if !policy.algorithms.contains(&token.alg) {
            return Err(ClaimsError::new(
                ClaimsErrorKind::Algorithm,
                format!("signing method {} is invalid", token.alg),
            ));
        }
        Ok((token, issuer))
    }

    /// The checks of a parsed token with the key its issuer holds for it: the signature,
    /// the times, the issuer, the audience against the issuer's, and the claims.
    fn verify_with(
        &self,
        token: token::UnverifiedToken<'_>,
        issuer: usize,
        key: Arc<crate::keys::VerificationKey>,
        now: i64,
    ) -> Result<VerifiedToken, ClaimsError> {
        let policy = self.issuers.get(issuer);
        if !key.supports(token.alg) {
            return Err(ClaimsError::new(
                ClaimsErrorKind::Algorithm,
                format!(
                    "key for key id {} is {} and cannot verify {}",
                    crate::keys::quote_kid(&token.kid),
                    key.key_type(),
                    token.alg
                ),
            ));
        }
        self.verifications.fetch_add(1, Ordering::Relaxed);
        if !key.verify(token.alg, token.signing_input.as_bytes(), &token.signature) {
            return Err(ClaimsError::new(
                ClaimsErrorKind::Signature,
                "signature verification failed",
            ));
        }
        let exp = checks::check_times(&token.payload, now, self.leeway)?;
        let audience = Audience::from_payload(&token.payload);
        checks::check_issuer(&token.payload, policy.issuer.as_deref())?;
        policy.check_audience(&audience)?;
        let claims = policy.claims(&token.payload)?;
        let max_age = i64::try_from(self.cache_max_age.as_secs()).unwrap_or(i64::MAX);
        let deadline = now.saturating_add(max_age);
        Ok(VerifiedToken {
            claims,
            exp,
            audience,
            alg: token.alg,
            kid: token.kid,
            key,
            issuer,
            deadline,
            keys_version: AtomicU64::new(cache::UNCHECKED),
        })
    }
}

impl ClaimMapper for JwtClaimMapper {
    fn get_claims<'a>(
        &'a self,
        auth_info: &'a AuthInfo,
    ) -> BoxFuture<'a, Result<Claims, ClaimsError>> {
        Box::pin(
            self.inner
                .claims_for_token(&auth_info.auth_token, &auth_info.audience),
        )
    }

    fn get_claims_now(&self, auth_info: &AuthInfo) -> Option<Result<Claims, ClaimsError>> {
        self.inner.claims_now(
            &auth_info.auth_token,
            auth_info.text_id,
            &auth_info.audience,
        )
    }
}

impl fmt::Debug for JwtClaimMapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default = self.inner.issuers.default_policy();
        f.debug_struct("JwtClaimMapper")
            .field(
                "permissions_claim_name",
                &default.map_or("", IssuerPolicy::permissions_claim),
            )
            .field(
                "permissions_regex",
                &default.is_some_and(|p| p.permissions.is_regex()),
            )
            .field(
                "system_namespaces",
                &default
                    .map(|p| p.permissions.system_namespaces())
                    .cloned()
                    .unwrap_or_default(),
            )
            .field("algorithms", &self.inner.issuers.algorithms())
            .field("leeway_secs", &self.inner.leeway)
            .field("issuer", &default.and_then(|p| p.issuer.as_deref()))
            .field("trusted_issuers", &self.inner.issuers.trusted_count())
            .field("cache", &self.inner.cache.is_some())
            .finish_non_exhaustive()
    }
}
