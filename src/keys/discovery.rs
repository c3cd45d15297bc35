//! [`DiscoveryKeyProvider`]: the keys of an OpenID provider known only by its issuer URL.
//!
//! The provider's metadata is read from `<issuer>/.well-known/openid-configuration`; its
//! `issuer` must equal the configured issuer exactly (so a document served for another
//! issuer, or rewritten on the way, is refused) and its `jwks_uri` is then loaded by a
//! [`JwksKeyProvider`], refreshed and refetched on an unknown `kid` as any key set is. The
//! metadata itself is read again periodically; when its `jwks_uri` changes, keys come from the
//! new location. A provider that is down at start-up is tried again in the background and on
//! the next token, without holding anything else up.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use serde_json::Value;
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::keys::algorithm::JwtAlgorithm;
use crate::keys::fetch::KeySource;
use crate::keys::http::HttpSettings;
use crate::keys::jwks::JwksKeyProvider;
use crate::keys::key::{KeyError, VerificationKey};
use crate::keys::provider::TokenKeyProvider;
use crate::{BoxFuture, ClaimsError, ClaimsErrorKind};

/// Where OpenID Connect Discovery puts the provider metadata, after the issuer.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

const DEFAULT_DISCOVERY_REFRESH: Duration = Duration::from_secs(3600);
const DEFAULT_RETRY: Duration = Duration::from_secs(30);
const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(60);
const DEFAULT_KID_MISS_COOLDOWN: Duration = Duration::from_secs(30);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_MAX_BYTES: usize = 1 << 20;

/// Builds a [`DiscoveryKeyProvider`]; see each setter for its default.
#[derive(Debug, Clone)]
#[must_use]
pub struct DiscoveryKeyProviderBuilder {
    issuer: String,
    discovery_refresh: Duration,
    retry: Duration,
    refresh_interval: Duration,
    kid_miss_cooldown: Duration,
    http: HttpSettings,
    max_bytes: usize,
}

impl DiscoveryKeyProviderBuilder {
    /// How often the provider metadata is read again (a changed `jwks_uri` is followed).
    /// Default: 1 hour.
    pub fn discovery_refresh_interval(mut self, interval: Duration) -> Self {
        self.discovery_refresh = interval;
        self
    }

    /// How soon a failed metadata read is retried in the background, and the least time
    /// between two reads a token causes while no metadata is loaded. Default: 30 seconds.
    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.retry = interval;
        self
    }

    /// How often the key set is fetched again (see
    /// [`JwksKeyProviderBuilder::refresh_interval`](crate::JwksKeyProviderBuilder::refresh_interval)).
    /// Default: 1 minute.
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh_interval = interval;
        self
    }

    /// The least time between two key-set refetches caused by unknown `kid`s. Default: 30
    /// seconds.
    pub fn kid_miss_cooldown(mut self, cooldown: Duration) -> Self {
        self.kid_miss_cooldown = cooldown;
        self
    }

    /// The TCP/TLS connect timeout. Default: 5 seconds.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.http.connect_timeout = timeout;
        self
    }

    /// The total time allowed for one fetch, body included. Default: 10 seconds.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http.timeout = timeout;
        self
    }

    /// The largest metadata or key-set document accepted, in bytes. Default: 1 MiB.
    pub fn max_document_size(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// Trusts the CA certificates in this PEM bundle too (a provider with a private CA).
    /// Repeatable. Default: the system's roots only.
    pub fn extra_root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.http.extra_roots_pem.push(pem.into());
        self
    }

    /// Fetches with this client instead of one of our own; the connect timeout and extra
    /// roots then do not apply. Default: our own client.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http.client = Some(client);
        self
    }

    /// Checks the issuer URL, reads the metadata and the key set once (awaiting at most the
    /// timeouts) and starts the background refresh. A provider that cannot be reached is
    /// logged and tried again later; tokens are refused
    /// ([`KeysUnavailable`](ClaimsErrorKind::KeysUnavailable)) until it answers. Must be
    /// called within a tokio runtime.
    ///
    /// # Errors
    /// When the issuer is not an `http(s)` URL or the HTTP client cannot be created.
    pub async fn build(self) -> Result<DiscoveryKeyProvider, KeyError> {
        let issuer = self.issuer.clone();
        let url = discovery_url(&issuer)?;
        let source = KeySource::parse(&url)?;
        let client = self.http.client()?;
        let (completed, _) = watch::channel(0);
        let inner = Arc::new(Inner {
            issuer,
            source,
            client: client.clone(),
            settings: self.clone(),
            current: ArcSwapOption::empty(),
            flight: Mutex::new(None),
            attempts: AtomicU64::new(0),
            version: Arc::default(),
            completed,
        });
        {
            let _flight = inner.flight.lock().await;
            if let Err(e) = inner.discover().await {
                tracing::error!(issuer = %inner.issuer, error = %e, "cannot read the OpenID provider metadata; tokens of this issuer are refused until it loads");
            }
        }
        let refresher = spawn_refresher(Arc::downgrade(&inner), self.discovery_refresh, self.retry);
        Ok(DiscoveryKeyProvider { inner, refresher })
    }
}

/// The metadata URL of an issuer: the issuer without a trailing `/`, then
/// [`DISCOVERY_PATH`].
fn discovery_url(issuer: &str) -> Result<String, KeyError> {
    let parsed = reqwest::Url::parse(issuer)
        .map_err(|e| KeyError::new(format!("invalid issuer URL {issuer:?}")).with_source(e))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(KeyError::new(format!(
            "issuer URL {issuer:?} must be http or https"
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(KeyError::new(format!(
            "issuer URL {issuer:?} must have no query or fragment"
        )));
    }
    Ok(format!("{}{DISCOVERY_PATH}", issuer.trim_end_matches('/')))
}

/// Reads an OpenID provider metadata document: a JSON object whose `issuer` equals
/// `expected_issuer` exactly and whose `jwks_uri` is an `http(s)` URL (`https` when the
/// issuer is). Returns the `jwks_uri`.
pub(crate) fn parse_discovery(body: &[u8], expected_issuer: &str) -> Result<String, KeyError> {
    let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(body) else {
        return Err(KeyError::new(
            "the OpenID provider metadata is not a JSON object",
        ));
    };
    match doc.get("issuer") {
        Some(Value::String(issuer)) if issuer == expected_issuer => {}
        Some(Value::String(_)) => {
            return Err(KeyError::new(format!(
                "the OpenID provider metadata names another issuer than {expected_issuer:?}"
            )));
        }
        _ => {
            return Err(KeyError::new(
                "the OpenID provider metadata has no string \"issuer\"",
            ));
        }
    }
    let Some(Value::String(jwks_uri)) = doc.get("jwks_uri") else {
        return Err(KeyError::new(
            "the OpenID provider metadata has no string \"jwks_uri\"",
        ));
    };
    let url = reqwest::Url::parse(jwks_uri)
        .map_err(|_| KeyError::new("the OpenID provider's jwks_uri is not a URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if !expected_issuer.starts_with("https:") => {}
        "http" => {
            return Err(KeyError::new(
                "the OpenID provider's jwks_uri is http for an https issuer",
            ));
        }
        _ => {
            return Err(KeyError::new(
                "the OpenID provider's jwks_uri is not http or https",
            ));
        }
    }
    Ok(jwks_uri.clone())
}

/// The keys of an OpenID provider found through its discovery document
/// (`<issuer>/.well-known/openid-configuration`), refreshed in the background.
///
/// Dropping it stops its background refreshes.
///
/// # Example
/// ```no_run
/// # async fn run() -> Result<(), tonic_authz::KeyError> {
/// use tonic_authz::DiscoveryKeyProvider;
///
/// let keys = DiscoveryKeyProvider::builder("https://idp.example/realms/acme")
///     .build()
///     .await?;
/// println!("keys from {:?}", keys.jwks_uri());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DiscoveryKeyProvider {
    inner: Arc<Inner>,
    refresher: JoinHandle<()>,
}

#[derive(Debug)]
struct Inner {
    issuer: String,
    source: KeySource,
    client: reqwest::Client,
    settings: DiscoveryKeyProviderBuilder,
    current: ArcSwapOption<Current>,
    /// Held while metadata is read; holds when a token last caused a read.
    flight: Mutex<Option<Instant>>,
    attempts: AtomicU64,
    /// Bumped when the key set followed changes, and by that key set's own provider when its
    /// keys change (see [`TokenKeyProvider::keys_version`]).
    version: Arc<AtomicU64>,
    completed: watch::Sender<u64>,
}

/// The key set found at the metadata's `jwks_uri`.
#[derive(Debug)]
struct Current {
    jwks_uri: String,
    keys: JwksKeyProvider,
}

impl DiscoveryKeyProvider {
    /// A builder for the issuer at `issuer` (e.g. `https://idp.example/realms/acme`), with
    /// the defaults stated on each setter.
    pub fn builder(issuer: impl Into<String>) -> DiscoveryKeyProviderBuilder {
        DiscoveryKeyProviderBuilder {
            issuer: issuer.into(),
            discovery_refresh: DEFAULT_DISCOVERY_REFRESH,
            retry: DEFAULT_RETRY,
            refresh_interval: DEFAULT_REFRESH_INTERVAL,
            kid_miss_cooldown: DEFAULT_KID_MISS_COOLDOWN,
            http: HttpSettings::new(DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT),
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }

    /// The issuer.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The key-set URI the metadata named, once it has loaded.
    #[must_use]
    pub fn jwks_uri(&self) -> Option<String> {
        self.inner
            .current
            .load()
            .as_ref()
            .map(|c| c.jwks_uri.clone())
    }

    /// How many keys the current key set holds.
    #[must_use]
    pub fn keys_loaded(&self) -> usize {
        self.inner
            .current
            .load()
            .as_ref()
            .map_or(0, |c| c.keys.keys_loaded())
    }

    /// How many metadata reads have completed, successfully or not.
    #[must_use]
    pub fn discoveries(&self) -> u64 {
        self.inner.attempts.load(Ordering::Acquire)
    }

    /// Waits until at least `count` metadata reads have completed.
    pub async fn wait_for_discoveries(&self, count: u64) {
        let mut rx = self.inner.completed.subscribe();
        // The sender lives in `self.inner`, so the channel cannot close while we wait.
        let _ = rx.wait_for(|done| *done >= count).await;
    }

    /// Reads the metadata now and, if its `jwks_uri` changed, loads the new key set; then
    /// refreshes the key set.
    ///
    /// # Errors
    /// When the metadata or the key set cannot be read; what was loaded before is kept.
    pub async fn refresh(&self) -> Result<usize, KeyError> {
        {
            let _flight = self.inner.flight.lock().await;
            self.inner.discover().await?;
        }
        match self.inner.current.load_full() {
            Some(current) => current.keys.refresh().await,
            None => Ok(0),
        }
    }
}

impl Drop for DiscoveryKeyProvider {
    fn drop(&mut self) {
        self.refresher.abort();
    }
}

impl Inner {
    /// One metadata read; the caller holds `flight`.
    async fn discover(&self) -> Result<(), KeyError> {
        let result = self.read_metadata().await;
        let result = match result {
            Ok(jwks_uri) => self.follow(jwks_uri).await,
            Err(e) => Err(e),
        };
        #[cfg(feature = "metrics")]
        {
            let outcome = if result.is_ok() { "success" } else { "error" };
            metrics::counter!("tonic_authz_oidc_discoveries_total", "outcome" => outcome)
                .increment(1);
        }
        let done = self.attempts.fetch_add(1, Ordering::AcqRel) + 1;
        self.completed.send_replace(done);
        result
    }

    async fn read_metadata(&self) -> Result<String, KeyError> {
        let body = self
            .source
            .read(
                &self.client,
                self.settings.max_bytes,
                self.settings.http.timeout,
            )
            .await?;
        parse_discovery(&body, &self.issuer)
            .map_err(|e| KeyError::new(format!("{}: {}", self.source.display(), e.message())))
    }

    /// Loads keys from `jwks_uri` unless they already come from there.
    async fn follow(&self, jwks_uri: String) -> Result<(), KeyError> {
        if let Some(current) = self.current.load().as_ref()
            && current.jwks_uri == jwks_uri
        {
            return Ok(());
        }
        let s = &self.settings;
        let keys = JwksKeyProvider::builder()
            .uri(jwks_uri.clone())
            .refresh_interval(s.refresh_interval)
            .kid_miss_cooldown(s.kid_miss_cooldown)
            .timeout(s.http.timeout)
            .max_document_size(s.max_bytes)
            .http_client(self.client.clone())
            .version_counter(Arc::clone(&self.version))
            .build()
            .await?;
        tracing::info!(issuer = %self.issuer, jwks_uri = %jwks_uri, keys = keys.keys_loaded(), "OpenID provider metadata loaded");
        self.current
            .store(Some(Arc::new(Current { jwks_uri, keys })));
        self.version.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Reads the metadata because a token came while none is loaded, at most once per retry
    /// interval, shared by concurrent callers.
    async fn discover_on_demand(&self) {
        let seen = self.attempts.load(Ordering::Acquire);
        let mut flight = self.flight.lock().await;
        if self.attempts.load(Ordering::Acquire) != seen || self.current.load().is_some() {
            return;
        }
        let now = Instant::now();
        if flight.is_some_and(|last| now.duration_since(last) < self.settings.retry) {
            return;
        }
        *flight = Some(now);
        if let Err(e) = self.discover().await {
            tracing::warn!(issuer = %self.issuer, error = %e, "cannot read the OpenID provider metadata");
        }
    }

    async fn key(&self, alg: JwtAlgorithm, kid: &str) -> Result<Arc<VerificationKey>, ClaimsError> {
        if self.current.load().is_none() {
            self.discover_on_demand().await;
        }
        match self.current.load_full() {
            Some(current) => current.keys.key(alg, kid).await,
            None => Err(ClaimsError::new(
                ClaimsErrorKind::KeysUnavailable,
                "the OpenID provider metadata has not been loaded yet",
            )),
        }
    }
}

fn spawn_refresher(
    inner: std::sync::Weak<Inner>,
    refresh: Duration,
    retry: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let wait = match inner.upgrade() {
                Some(inner) if inner.current.load().is_some() => refresh,
                Some(_) => retry,
                None => break,
            };
            if wait.is_zero() {
                break;
            }
            tokio::time::sleep(wait).await;
            let Some(inner) = inner.upgrade() else {
                break;
            };
            let _flight = inner.flight.lock().await;
            if let Err(e) = inner.discover().await {
                tracing::warn!(issuer = %inner.issuer, error = %e, "error while refreshing the OpenID provider metadata; keeping what was loaded");
            }
        }
    })
}

impl TokenKeyProvider for DiscoveryKeyProvider {
    fn key<'a>(
        &'a self,
        alg: JwtAlgorithm,
        kid: &'a str,
    ) -> BoxFuture<'a, Result<Arc<VerificationKey>, ClaimsError>> {
        Box::pin(self.inner.key(alg, kid))
    }

    fn current_key(&self, alg: JwtAlgorithm, kid: &str) -> Option<Arc<VerificationKey>> {
        self.inner
            .current
            .load()
            .as_ref()
            .and_then(|c| c.keys.current_key(alg, kid))
    }

    fn holds_key(&self, alg: JwtAlgorithm, kid: &str, key: &Arc<VerificationKey>) -> bool {
        self.inner
            .current
            .load()
            .as_ref()
            .is_some_and(|c| c.keys.holds_key(alg, kid, key))
    }

    fn keys_version(&self) -> Option<u64> {
        Some(self.inner.version.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_url_from_issuer() {
        assert_eq!(
            discovery_url("https://idp.example/realms/acme/").expect("valid"),
            "https://idp.example/realms/acme/.well-known/openid-configuration"
        );
        assert!(discovery_url("ftp://idp.example").is_err());
        assert!(discovery_url("idp.example").is_err());
        assert!(discovery_url("https://idp.example/?a=b").is_err());
    }

    #[test]
    fn metadata_checks() {
        let iss = "https://idp.example/realms/acme";
        let doc = |v: serde_json::Value| parse_discovery(v.to_string().as_bytes(), iss);
        assert_eq!(
            doc(serde_json::json!({"issuer": iss, "jwks_uri": "https://idp.example/certs"}))
                .expect("valid"),
            "https://idp.example/certs"
        );
        let err = |v: serde_json::Value| doc(v).expect_err("must fail").message().to_owned();
        assert_eq!(
            err(serde_json::json!({"issuer": format!("{iss}/"), "jwks_uri": "https://x/c"})),
            "the OpenID provider metadata names another issuer than \"https://idp.example/realms/acme\""
        );
        assert_eq!(
            err(serde_json::json!({"issuer": iss, "jwks_uri": "http://x/c"})),
            "the OpenID provider's jwks_uri is http for an https issuer"
        );
        assert_eq!(
            err(serde_json::json!({"issuer": iss})),
            "the OpenID provider metadata has no string \"jwks_uri\""
        );
        assert_eq!(
            err(serde_json::json!({"issuer": iss, "jwks_uri": "file:///etc/keys"})),
            "the OpenID provider's jwks_uri is not http or https"
        );
        assert!(parse_discovery(b"[]", iss).is_err());
    }
}
