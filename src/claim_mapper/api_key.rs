//! [`ApiKeyClaimMapper`]: opaque API keys (what `temporal --api-key` and the SDKs' `api_key`
//! send as `Bearer <key>`) looked up in a file of SHA-256 hashes, each with a subject,
//! permissions and an optional expiry.
//!
//! The file is a YAML list, one entry per key; `frontend api-key create` appends to it:
//! ```yaml
//! - sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//!   subject: ci-deployer
//!   permissions: ["default:write"]
//!   expiresAt: 2027-03-01T00:00:00Z   # optional (RFC 3339); absent: never expires
//! ```
//! Only hashes are stored, so the file does not give the keys away. The file is read again
//! every reload interval; a file that does not parse keeps the keys loaded before (and is
//! logged), so removing an entry revokes its key without a restart.
//!
//! A bearer value with a `.` in it is JWT-shaped and never looked up as an API key: it goes to
//! the token mapper (when there is one) or is refused, so a token can never be mistaken for a
//! key, nor a key for a token.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

use crate::claim_mapper::jwt::token::bearer_token;
use crate::permission::{DEFAULT_SYSTEM_NAMESPACES, PermissionFormat, PermissionParser};
use crate::{AuthInfo, BoxFuture, ClaimMapper, Claims, ClaimsError, ClaimsErrorKind, Role};

/// The auth type of claims from an API key.
pub const API_KEY_AUTH_TYPE: &str = "api-key";

const DEFAULT_RELOAD_INTERVAL: Duration = Duration::from_secs(10);
const MAX_FILE_BYTES: u64 = 16 << 20;

/// An API-key file that cannot be read or does not parse; the message names the entry.
#[derive(Debug)]
pub struct ApiKeyError {
    message: String,
}

impl ApiKeyError {
    fn new(message: impl Into<String>) -> ApiKeyError {
        ApiKeyError {
            message: message.into(),
        }
    }

    /// What is wrong, with the file and entry.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ApiKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiKeyError {}

/// One entry as written in the file.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawEntry {
    sha256: String,
    subject: String,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    expires_at: Option<String>,
}

/// A key's identity, ready to hand out.
#[derive(Debug)]
struct Entry {
    digest: [u8; 32],
    claims: Claims,
    expires_at: Option<SystemTime>,
}

/// The keys of one version of the file, by digest.
#[derive(Debug, Default)]
pub(crate) struct KeyTable {
    by_digest: HashMap<[u8; 32], Entry>,
}

impl KeyTable {
    /// How many keys the table holds.
    pub(crate) fn len(&self) -> usize {
        self.by_digest.len()
    }
}

/// Parses an API-key file's text. Every entry must be valid: a 64-hex-digit `sha256` (no
/// two alike), a non-blank `subject`, each permission a `namespace:role` with a known role,
/// and `expiresAt` an RFC 3339 time.
pub(crate) fn parse_key_file(text: &str) -> Result<KeyTable, String> {
    let is_empty = text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#')
    });
    if is_empty {
        return Ok(KeyTable::default());
    }
    let raw: Vec<RawEntry> = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    let parser = PermissionParser::new(
        PermissionFormat::NamespaceColonRole,
        DEFAULT_SYSTEM_NAMESPACES,
    );
    let mut table = KeyTable::default();
    for (i, entry) in raw.into_iter().enumerate() {
        let at = |m: String| format!("[{i}]: {m}");
        let digest = parse_hex_digest(&entry.sha256)
            .ok_or_else(|| at("sha256: must be 64 hexadecimal digits".to_owned()))?;
        if entry.subject.trim().is_empty() {
            return Err(at("subject: must not be blank".to_owned()));
        }
        let mut claims = Claims::new()
            .with_subject(entry.subject)
            .with_auth_type(API_KEY_AUTH_TYPE);
        for permission in &entry.permissions {
            match parser.parse(permission) {
                Some(grant) if grant.role != Role::UNDEFINED && !grant.namespace.is_empty() => {
                    grant.apply(&mut claims);
                }
                _ => {
                    return Err(at(format!(
                        "permissions: {permission:?} is not `namespace:role` with role read, write, admin or worker"
                    )));
                }
            }
        }
        let expires_at = match &entry.expires_at {
            None => None,
            Some(text) => Some(
                humantime::parse_rfc3339_weak(text)
                    .map_err(|e| at(format!("expiresAt: {text:?} is not an RFC 3339 time: {e}")))?,
            ),
        };
        if table.by_digest.contains_key(&digest) {
            return Err(at("sha256: the same key is listed twice".to_owned()));
        }
        table.by_digest.insert(
            digest,
            Entry {
                digest,
                claims,
                expires_at,
            },
        );
    }
    Ok(table)
}

fn parse_hex_digest(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

/// The SHA-256 of an API key, in lowercase hex: what the key file stores.
#[must_use]
pub fn api_key_sha256(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Equality of two digests that takes the same time wherever they differ.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Builds an [`ApiKeyClaimMapper`]; see each setter for its default.
#[must_use]
pub struct ApiKeyClaimMapperBuilder {
    path: PathBuf,
    reload_interval: Duration,
    token_mapper: Option<Arc<dyn ClaimMapper>>,
    clock: Clock,
}

impl ApiKeyClaimMapperBuilder {
    /// How often the file is read again; zero reads it only at start. Default: 10 seconds.
    pub fn reload_interval(mut self, interval: Duration) -> Self {
        self.reload_interval = interval;
        self
    }

    /// The mapper for bearer values that are not API keys (JWT-shaped ones, with a `.`), and
    /// for calls without a token. Default: none (such tokens are refused; no token gives
    /// empty claims).
    pub fn token_mapper(mut self, mapper: impl ClaimMapper) -> Self {
        self.token_mapper = Some(Arc::new(mapper));
        self
    }

    /// The clock expiries are checked against. Default: [`SystemTime::now`].
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Reads the file and starts the background reload (within a tokio runtime).
    ///
    /// # Errors
    /// The file cannot be read or does not parse: at start-up that is fatal, later it only
    /// keeps the previous keys.
    pub async fn build(self) -> Result<ApiKeyClaimMapper, ApiKeyError> {
        let text = read_file(&self.path).await?;
        let table = parse_key_file(&text)
            .map_err(|e| ApiKeyError::new(format!("{}: {e}", self.path.display())))?;
        tracing::info!(file = %self.path.display(), keys = table.len(), "API keys loaded");
        let (completed, _) = watch::channel(0);
        let inner = Arc::new(Inner {
            path: self.path,
            table: ArcSwap::from_pointee(table),
            last_text: Mutex::new(text),
            reloads: AtomicU64::new(0),
            completed,
            token_mapper: self.token_mapper,
            clock: self.clock,
        });
        let reloader = (!self.reload_interval.is_zero())
            .then(|| spawn_reloader(Arc::downgrade(&inner), self.reload_interval));
        Ok(ApiKeyClaimMapper {
            inner,
            _reloader: reloader.map(AbortOnDrop).map(Arc::new),
        })
    }
}

impl fmt::Debug for ApiKeyClaimMapperBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyClaimMapperBuilder")
            .field("path", &self.path)
            .field("reload_interval", &self.reload_interval)
            .finish_non_exhaustive()
    }
}

async fn read_file(path: &Path) -> Result<String, ApiKeyError> {
    use tokio::io::AsyncReadExt;
    let io = |e: std::io::Error| ApiKeyError::new(format!("{}: cannot read: {e}", path.display()));
    let file = tokio::fs::File::open(path).await.map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ApiKeyError::new(format!(
            "{}: larger than {MAX_FILE_BYTES} bytes",
            path.display()
        )));
    }
    String::from_utf8(bytes).map_err(|_| ApiKeyError::new(format!("{}: not UTF-8", path.display())))
}

/// API keys from a file of SHA-256 hashes with subject, permissions and expiry, reloaded
/// without a restart (see `docs/configuration.md`, `apiKeys`).
///
/// Cloning is cheap; clones share the keys and the reload task, which stops when the last
/// clone is dropped.
#[derive(Clone)]
pub struct ApiKeyClaimMapper {
    inner: Arc<Inner>,
    _reloader: Option<Arc<AbortOnDrop>>,
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Inner {
    path: PathBuf,
    table: ArcSwap<KeyTable>,
    /// The text last loaded, so an unchanged file is not parsed again.
    last_text: Mutex<String>,
    reloads: AtomicU64,
    completed: watch::Sender<u64>,
    token_mapper: Option<Arc<dyn ClaimMapper>>,
    clock: Clock,
}

impl ApiKeyClaimMapper {
    /// A builder reading the key file at `path`.
    pub fn builder(path: impl Into<PathBuf>) -> ApiKeyClaimMapperBuilder {
        ApiKeyClaimMapperBuilder {
            path: path.into(),
            reload_interval: DEFAULT_RELOAD_INTERVAL,
            token_mapper: None,
            clock: Arc::new(SystemTime::now),
        }
    }

    /// How many keys are loaded.
    #[must_use]
    pub fn keys_loaded(&self) -> usize {
        self.inner.table.load().len()
    }

    /// How many reloads (background or [`reload`](Self::reload)) have completed, successful
    /// or not.
    #[must_use]
    pub fn reloads(&self) -> u64 {
        self.inner.reloads.load(Ordering::Acquire)
    }

    /// Waits until at least `count` reloads have completed.
    pub async fn wait_for_reloads(&self, count: u64) {
        let mut rx = self.inner.completed.subscribe();
        // The sender lives in `self.inner`, so the channel cannot close while we wait.
        let _ = rx.wait_for(|done| *done >= count).await;
    }

    /// Reads the file again now; returns how many keys are loaded.
    ///
    /// # Errors
    /// The file cannot be read or does not parse; the previous keys are kept.
    pub async fn reload(&self) -> Result<usize, ApiKeyError> {
        self.inner.reload().await
    }

    /// Maps a bearer API key (the whole header value, `Bearer <key>`) to its claims.
    ///
    /// # Errors
    /// [`ClaimsErrorKind::ApiKey`] for an unknown or expired key;
    /// [`ClaimsErrorKind::MalformedHeader`] for a header that is not `Bearer <value>`.
    pub async fn claims_for_key(&self, auth_token: &str) -> Result<Claims, ClaimsError> {
        let info = AuthInfo {
            auth_token: auth_token.to_owned(),
            ..AuthInfo::default()
        };
        self.get_claims(&info).await
    }
}

impl Inner {
    async fn reload(&self) -> Result<usize, ApiKeyError> {
        let result = self.reload_once().await;
        #[cfg(feature = "metrics")]
        {
            let outcome = if result.is_ok() { "success" } else { "error" };
            metrics::counter!("tonic_authz_api_key_reloads_total", "outcome" => outcome)
                .increment(1);
        }
        if let Err(e) = &result {
            tracing::warn!(error = %e, keys_kept = self.table.load().len(), "cannot reload the API-key file; keeping the keys loaded before");
        }
        let done = self.reloads.fetch_add(1, Ordering::AcqRel) + 1;
        self.completed.send_replace(done);
        result
    }

    async fn reload_once(&self) -> Result<usize, ApiKeyError> {
        let text = read_file(&self.path).await?;
        let mut last = self.last_text.lock().await;
        if *last == text {
            return Ok(self.table.load().len());
        }
        let table = parse_key_file(&text)
            .map_err(|e| ApiKeyError::new(format!("{}: {e}", self.path.display())))?;
        let count = table.len();
        self.table.store(Arc::new(table));
        *last = text;
        tracing::info!(file = %self.path.display(), keys = count, "API keys reloaded");
        Ok(count)
    }

    fn lookup(&self, key: &str) -> Result<Claims, ClaimsError> {
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let table = self.table.load();
        // The map is searched by digest, which tells an attacker nothing about any stored
        // key; the final comparison is constant-time all the same.
        let entry = table
            .by_digest
            .get(&digest)
            .filter(|e| constant_time_eq(&e.digest, &digest))
            .ok_or_else(|| ClaimsError::new(ClaimsErrorKind::ApiKey, "unknown API key"))?;
        if entry.expires_at.is_some_and(|exp| (self.clock)() >= exp) {
            return Err(ClaimsError::new(
                ClaimsErrorKind::ApiKey,
                "API key is expired",
            ));
        }
        Ok(entry.claims.clone())
    }
}

fn spawn_reloader(inner: Weak<Inner>, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let start = tokio::time::Instant::now() + interval;
        let mut ticker = tokio::time::interval_at(start, interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let Some(inner) = inner.upgrade() else {
                break;
            };
            // Logged and counted inside.
            let _ = inner.reload().await;
        }
    })
}

impl ClaimMapper for ApiKeyClaimMapper {
    fn get_claims<'a>(
        &'a self,
        auth_info: &'a AuthInfo,
    ) -> BoxFuture<'a, Result<Claims, ClaimsError>> {
        match self.route(auth_info) {
            Route::Tokens(tokens) => tokens.get_claims(auth_info),
            Route::Answer(answer) => Box::pin(std::future::ready(answer)),
        }
    }

    fn get_claims_now(&self, auth_info: &AuthInfo) -> Option<Result<Claims, ClaimsError>> {
        match self.route(auth_info) {
            Route::Tokens(tokens) => tokens.get_claims_now(auth_info),
            Route::Answer(answer) => Some(answer),
        }
    }
}

/// Who answers a call: the token mapper (for a JWT-shaped token), or the key table here.
enum Route<'a> {
    Tokens(&'a Arc<dyn ClaimMapper>),
    Answer(Result<Claims, ClaimsError>),
}

impl ApiKeyClaimMapper {
    fn route(&self, auth_info: &AuthInfo) -> Route<'_> {
        let value = match bearer_token(&auth_info.auth_token) {
            Ok(value) => value,
            Err(e) => return Route::Answer(Err(e)),
        };
        match (value, &self.inner.token_mapper) {
            // JWT-shaped (or no token at all): never an API key.
            (None, Some(tokens)) => Route::Tokens(tokens),
            (Some(v), Some(tokens)) if v.contains('.') => Route::Tokens(tokens),
            (Some(v), None) if v.contains('.') => Route::Answer(Err(ClaimsError::new(
                ClaimsErrorKind::MalformedToken,
                "token is not an API key",
            ))),
            (None, None) => Route::Answer(Ok(Claims::new().with_auth_type(API_KEY_AUTH_TYPE))),
            (Some(key), _) => Route::Answer(self.inner.lookup(key)),
        }
    }
}

impl fmt::Debug for ApiKeyClaimMapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyClaimMapper")
            .field("path", &self.inner.path)
            .field("keys", &self.inner.table.load().len())
            .field("token_mapper", &self.inner.token_mapper.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(api_key_sha256("test"), KEY_HASH);
        assert_eq!(
            parse_hex_digest(&KEY_HASH.to_uppercase()),
            parse_hex_digest(KEY_HASH)
        );
        assert!(parse_hex_digest("zz").is_none());
        assert!(parse_hex_digest(&"g".repeat(64)).is_none());
    }

    #[test]
    fn file_entries_are_checked() {
        let table = parse_key_file(&format!(
            "- sha256: {KEY_HASH}\n  subject: ci\n  permissions: [default:write, temporal-system:read]\n  expiresAt: 2030-01-01T00:00:00Z\n"
        ))
        .expect("valid");
        let entry = table.by_digest.values().next().expect("one entry");
        assert_eq!(entry.claims.subject(), "ci");
        assert_eq!(entry.claims.namespace_role("default"), Role::WRITER);
        assert_eq!(entry.claims.system(), Role::READER);
        assert!(parse_key_file("# nothing yet\n").expect("valid").len() == 0);
        let err = |text: String| parse_key_file(&text).expect_err("must fail");
        assert_eq!(
            err("- sha256: abc\n  subject: ci\n".to_owned()),
            "[0]: sha256: must be 64 hexadecimal digits"
        );
        assert_eq!(
            err(format!("- sha256: {KEY_HASH}\n  subject: ' '\n")),
            "[0]: subject: must not be blank"
        );
        assert!(
            err(format!(
                "- sha256: {KEY_HASH}\n  subject: ci\n  permissions: [default:wrte]\n"
            ))
            .starts_with("[0]: permissions: \"default:wrte\"")
        );
        assert!(
            err(format!(
                "- sha256: {KEY_HASH}\n  subject: ci\n  expiresAt: soon\n"
            ))
            .starts_with("[0]: expiresAt: \"soon\"")
        );
        assert_eq!(
            err(format!(
                "- sha256: {KEY_HASH}\n  subject: a\n- sha256: {KEY_HASH}\n  subject: b\n"
            )),
            "[1]: sha256: the same key is listed twice"
        );
        assert!(err(format!("- sha256: {KEY_HASH}\n  subject: a\n  extra: 1\n")).contains("extra"));
    }
}
