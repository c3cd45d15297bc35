//! The verified-token cache: a token's exact bytes to the claims it verified to.
//!
//! A lookup hashes the token once with a fast keyed hasher (no cryptographic hash per call) and
//! compares the whole stored token on a match, so two tokens that share a hash can only cost a
//! miss, never each other's identity. The cache is split into shards by that hash; each shard
//! is an immutable table behind an `ArcSwap`, so a lookup takes no lock and writes nothing that
//! other cores read: calls on both cores never contend on a cache line. Writers (a new token, a
//! token found expired or signed by a key that left the set) copy their shard's small table
//! under the shard's mutex; they run only after a signature verification, which costs a hundred
//! times more.
//!
//! An entry is used for at most the configured maximum age. On every hit the mapper re-checks
//! `exp`, the caller's expected audience, and that the signing key is still in the key set, so
//! a hit is exactly as strict as a full check, minus the signature verification; a token past
//! its `exp` is refused from its entry, as cheaply as a good one is accepted. A full shard
//! first drops the entries past their maximum age or their token's `exp`, then the one closest
//! to its maximum age.
//!
//! A lookup by a token's text id (`AuthInfo`'s, the layer's number for one exact token text)
//! first asks the thread's memory of the entry that text found last ([`Recent`]): the same
//! text id always means the same bytes, so the entry is the one the token would find, and a
//! call with a repeated token neither reads nor hashes it. Such an entry gets every check a hit
//! gets, so it is used for no longer than its maximum age, even after the shard has dropped it.
//!
//! Lookups are counted in `tonic_authz_token_cache_requests_total{result="hit"|"miss"}`.

use std::cell::RefCell;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use hashbrown::HashTable;

use crate::Claims;
use crate::claim_mapper::jwt::checks::Audience;
use crate::keys::{JwtAlgorithm, TokenKeyProvider, VerificationKey};

#[cfg(feature = "metrics")]
const REQUESTS: &str = "tonic_authz_token_cache_requests_total";

/// The lookup counters' keys, built at compile time: a lookup allocates no label.
#[cfg(feature = "metrics")]
static HIT_LABELS: [metrics::Label; 1] = [metrics::Label::from_static_parts("result", "hit")];
#[cfg(feature = "metrics")]
static MISS_LABELS: [metrics::Label; 1] = [metrics::Label::from_static_parts("result", "miss")];
#[cfg(feature = "metrics")]
static HIT: metrics::Key = metrics::Key::from_static_parts(REQUESTS, &HIT_LABELS);
#[cfg(feature = "metrics")]
static MISS: metrics::Key = metrics::Key::from_static_parts(REQUESTS, &MISS_LABELS);
/// One more lookup counted under `key`.
#[cfg(feature = "metrics")]
// Inlined into the layer's allowed path with its other steps (see `layer::call`).
#[inline(always)]
fn count(key: &'static metrics::Key) {
    metrics::with_recorder(|recorder| recorder.register_counter(key, &METADATA).increment(1));
}

#[cfg(feature = "metrics")]
static METADATA: metrics::Metadata<'static> =
    metrics::Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// Entries per shard the shard count aims for: small enough that copying a shard's table on
/// a write costs a few microseconds.
const ENTRIES_PER_SHARD: u64 = 64;
/// How many bytes at the end of a token its hash covers: 192 bits of its signature in
/// base64url.
const HASHED_TAIL: usize = 32;
/// The most shards, so a very large capacity does not mean a very large empty cache.
const MAX_SHARDS: u64 = 4096;

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
    /// The mapper's clock (Unix seconds) from which the entry is no longer used: the maximum
    /// age after verification. (A token past its `exp` is still found, so the mapper refuses
    /// it from the entry, as cheaply as it accepts a good one.)
    pub(crate) deadline: i64,
    /// The issuer's [`keys_version`](TokenKeyProvider::keys_version) when the signing key
    /// was last found held; [`UNCHECKED`] before that.
    pub(crate) keys_version: AtomicU64,
}

/// No key-set version noted yet. Providers count their versions up from zero, so they never
/// reach it.
pub(crate) const UNCHECKED: u64 = u64::MAX;

impl VerifiedToken {
    /// Whether the signing key is still in `keys`. While the provider's key-set version is
    /// the one noted when the key was last found, nothing can have removed it, so only the
    /// version is read; otherwise the key is looked up, and the version it was found under
    /// noted. The version is read before the lookup: a key set swapped in between has
    /// already moved the version on, so the noted one can only be older than the keys seen.
    #[inline(always)]
    pub(crate) fn key_still_held(&self, keys: &dyn TokenKeyProvider) -> bool {
        let version = keys.keys_version();
        if version.is_some_and(|v| v == self.keys_version.load(Ordering::Relaxed)) {
            return true;
        }
        let held = keys.holds_key(self.alg, &self.kid, &self.key);
        if let (true, Some(v)) = (held, version) {
            self.keys_version.store(v, Ordering::Relaxed);
        }
        held
    }

    /// Whether the entry is still worth keeping at `now`: within its maximum age and not past
    /// its `exp`.
    fn live(&self, now: i64) -> bool {
        now < self.deadline && self.exp.is_none_or(|exp| now < exp)
    }
}

/// One cached token: its exact text, its hash, what it verified to.
#[derive(Clone, Debug)]
struct Entry {
    hash: u64,
    token: Arc<str>,
    verified: Arc<VerifiedToken>,
}

impl Entry {
    /// Whether this entry is exactly `token` (whose hash is `hash`).
    fn is(&self, hash: u64, token: &str) -> bool {
        self.hash == hash && *self.token == *token
    }
}

#[derive(Debug, Default)]
struct Shard {
    table: ArcSwap<HashTable<Entry>>,
    /// Serializes writers, so two inserts into one shard never lose each other.
    write: Mutex<()>,
}

impl Shard {
    /// Replaces the table with `change` applied to a copy of it.
    fn update(&self, change: impl FnOnce(&mut HashTable<Entry>)) {
        let _writer = self.write.lock().unwrap_or_else(PoisonError::into_inner);
        let mut table = HashTable::clone(&self.table.load());
        change(&mut table);
        self.table.store(Arc::new(table));
    }
}

/// The entry a thread's last looked-up text found, in one cache.
struct Recent {
    /// The cache's [`TokenCache::id`].
    cache: u64,
    /// The text's id: never zero.
    text: u64,
    entry: Arc<VerifiedToken>,
    /// The thread's own copy of the entry's claims, made the first time the entry answers
    /// from here (the text's second call on this thread, after the lookup that remembered
    /// it). Each call hands the claims on with one more reference; counted on the entry's
    /// own copy, the server's threads would take turns at one counter and pass its cache
    /// line back and forth on every call. A thread that alternates between tokens never
    /// answers from here, so it copies nothing.
    own: Option<Claims>,
}

thread_local! {
    static RECENT: RefCell<Option<Recent>> = const { RefCell::new(None) };
}

/// The next cache's id, so two caches never take each other's [`Recent`].
static NEXT_CACHE: AtomicU64 = AtomicU64::new(1);

/// A bounded cache of verified tokens, shared by a mapper's clones.
#[derive(Debug)]
pub(crate) struct TokenCache {
    /// This cache's number among the process's caches, for [`Recent`].
    id: u64,
    shards: Box<[Shard]>,
    /// How many entries shard `i` may hold: the capacity spread over the shards.
    bounds: Box<[usize]>,
    hasher: foldhash::fast::RandomState,
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
        let shards = (capacity / ENTRIES_PER_SHARD)
            .clamp(1, MAX_SHARDS)
            .next_power_of_two()
            .min(MAX_SHARDS);
        let per_shard = capacity / shards;
        let extra = capacity % shards;
        TokenCache {
            id: NEXT_CACHE.fetch_add(1, Ordering::Relaxed),
            shards: (0..shards).map(|_| Shard::default()).collect(),
            bounds: (0..shards)
                .map(|i| usize::try_from(per_shard + u64::from(i < extra)).unwrap_or(usize::MAX))
                .collect(),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    /// The token's hash and shard. Only the token's length and last [`HASHED_TAIL`] bytes
    /// are hashed: a compact JWT ends in its signature, so two cached tokens differ there as
    /// surely as anywhere, and a hit compares the whole token anyway. Entries are only ever
    /// verified tokens, so a caller cannot fill a bucket by making up tokens that share a
    /// tail; such tokens can only miss.
    fn locate(&self, token: &str) -> (u64, usize) {
        let tail = &token.as_bytes()[token.len().saturating_sub(HASHED_TAIL)..];
        let hash = self.hasher.hash_one((token.len(), tail));
        // The table uses the low bits of the hash; the shard comes from the high ones.
        let shard = usize::try_from(hash >> 32).unwrap_or(0) & (self.shards.len() - 1);
        (hash, shard)
    }

    /// `read` applied to the entry the thread last found for text `text` (a text id, see
    /// the module's notes) in this cache, if it is not past its deadline at `now`; `None`
    /// when the thread remembers none (or `text` is zero). Not counted: the caller counts the
    /// answer it takes ([`count_hit`](Self::count_hit)).
    #[inline(always)]
    pub(crate) fn recent<T>(
        &self,
        text: u64,
        now: i64,
        read: impl FnOnce(&VerifiedToken, &Claims) -> T,
    ) -> Option<T> {
        if text == 0 {
            return None;
        }
        RECENT.with_borrow_mut(|recent| match recent {
            Some(r) if r.text == text && r.cache == self.id && now < r.entry.deadline => {
                let claims = r.own.get_or_insert_with(|| r.entry.claims.unshared());
                Some(read(&r.entry, claims))
            }
            _ => None,
        })
    }

    /// Forgets the thread's [`recent`](Self::recent) entry, whatever its text.
    pub(crate) fn forget_recent(&self) {
        RECENT.with_borrow_mut(|recent| {
            if recent.as_ref().is_some_and(|r| r.cache == self.id) {
                *recent = None;
            }
        });
    }

    /// `read` applied to the entry for exactly this token, if it is cached and not past its
    /// deadline at `now`; the entry is read in place, not cloned out. A hit is counted here; a
    /// miss only by [`count_miss`](Self::count_miss), when the token is verified, since a
    /// caller may look a token up twice before verifying it. A hit for a token whose text id
    /// is `text` (not zero) is remembered for [`recent`](Self::recent).
    pub(crate) fn get<T>(
        &self,
        token: &str,
        text: u64,
        now: i64,
        read: impl FnOnce(&VerifiedToken) -> T,
    ) -> Option<T> {
        let (hash, shard) = self.locate(token);
        let table = self.shards[shard].table.load();
        let entry = table
            .find(hash, |e| e.is(hash, token))
            .filter(|e| now < e.verified.deadline)?;
        if text != 0 {
            let entry = Arc::clone(&entry.verified);
            RECENT.set(Some(Recent {
                cache: self.id,
                text,
                entry,
                own: None,
            }));
        }
        self.count_hit();
        Some(read(&entry.verified))
    }

    /// Counts a lookup that found a usable entry.
    pub(crate) fn count_hit(&self) {
        #[cfg(feature = "metrics")]
        count(&HIT);
    }

    /// Counts a lookup that found nothing usable: the token is being verified.
    pub(crate) fn count_miss(&self) {
        #[cfg(feature = "metrics")]
        count(&MISS);
    }

    /// Caches a verified token, unless it is no longer live. A full shard drops its entries
    /// that are no longer live, then the one closest to its deadline.
    pub(crate) fn insert(&self, token: &str, verified: Arc<VerifiedToken>, now: i64) {
        if !verified.live(now) {
            return;
        }
        let (hash, shard) = self.locate(token);
        let bound = self.bounds[shard];
        if bound == 0 {
            return;
        }
        let entry = Entry {
            hash,
            token: Arc::from(token),
            verified,
        };
        self.shards[shard].update(|table| {
            if let Ok(old) = table.find_entry(hash, |e| e.is(hash, token)) {
                old.remove();
            }
            if table.len() >= bound {
                table.retain(|e| e.verified.live(now));
            }
            // The shard holds at most `bound` entries, so one removal makes room.
            if table.len() >= bound
                && let Some((soonest, soonest_token)) = table
                    .iter()
                    .min_by_key(|e| e.verified.deadline)
                    .map(|e| (e.hash, Arc::clone(&e.token)))
                && let Ok(e) = table.find_entry(soonest, |e| e.is(soonest, &soonest_token))
            {
                e.remove();
            }
            table.insert_unique(hash, entry, |e| e.hash);
        });
    }

    /// Forgets a token (found expired, or its key left the key set), and the thread's
    /// [`recent`](Self::recent) entry with it.
    pub(crate) fn remove(&self, token: &str) {
        self.forget_recent();
        let (hash, shard) = self.locate(token);
        let present = self.shards[shard]
            .table
            .load()
            .find(hash, |e| e.is(hash, token))
            .is_some();
        if present {
            self.shards[shard].update(|table| {
                if let Ok(e) = table.find_entry(hash, |e| e.is(hash, token)) {
                    e.remove();
                }
            });
        }
    }

    pub(crate) fn entry_count(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.table.load().len() as u64)
            .sum()
    }

    /// Drops every entry that is no longer live at `now`.
    pub(crate) fn purge(&self, now: i64) {
        for shard in &self.shards {
            let stale = shard.table.load().iter().any(|e| !e.verified.live(now));
            if stale {
                shard.update(|table| table.retain(|e| e.verified.live(now)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified(deadline: i64) -> Arc<VerifiedToken> {
        let key =
            Arc::new(VerificationKey::insecure_hmac_secret(&[7; 32]).expect("a 32-byte secret"));
        Arc::new(VerifiedToken {
            claims: Claims::new(),
            exp: None,
            audience: Audience::from_payload(&serde_json::Map::new()),
            alg: JwtAlgorithm::RS256,
            kid: String::new(),
            key,
            issuer: 0,
            deadline,
            keys_version: AtomicU64::new(UNCHECKED),
        })
    }

    #[test]
    fn a_hit_needs_the_whole_token_and_a_live_deadline() {
        let cache = TokenCache::new(100);
        cache.insert("token-a", verified(100), 10);
        assert!(cache.get("token-a", 0, 10, |_| ()).is_some());
        assert!(cache.get("token-a", 0, 99, |_| ()).is_some());
        assert!(
            cache.get("token-a", 0, 100, |_| ()).is_none(),
            "past its deadline"
        );
        assert!(cache.get("token-", 0, 10, |_| ()).is_none());
        assert!(cache.get("token-ab", 0, 10, |_| ()).is_none());
        cache.remove("token-a");
        assert!(cache.get("token-a", 0, 10, |_| ()).is_none());
        assert_eq!(cache.entry_count(), 0);
    }

    #[test]
    fn the_cache_stays_at_its_bound_and_drops_the_soonest_deadline_first() {
        let cache = TokenCache::new(1);
        cache.insert("late", verified(1000), 0);
        cache.insert("soon", verified(10), 0);
        assert_eq!(cache.entry_count(), 1);
        // "soon" replaced "late" (the only slot), then "later" replaces "soon".
        cache.insert("later", verified(2000), 0);
        assert!(cache.get("later", 0, 0, |_| ()).is_some());
        assert!(cache.get("soon", 0, 0, |_| ()).is_none());

        let cache = TokenCache::new(1000);
        for i in 0..10_000 {
            cache.insert(&format!("token-{i}"), verified(100 + i), 0);
        }
        assert!(cache.entry_count() <= 1000);
        assert!(cache.entry_count() >= 900, "{}", cache.entry_count());
        cache.purge(20_000);
        assert_eq!(cache.entry_count(), 0);
    }

    /// A provider whose answer and version the test sets, counting the lookups it answers.
    #[derive(Default)]
    struct Keys {
        held: std::sync::atomic::AtomicBool,
        version: Option<AtomicU64>,
        lookups: AtomicU64,
    }

    impl TokenKeyProvider for Keys {
        fn key<'a>(
            &'a self,
            _alg: JwtAlgorithm,
            _kid: &'a str,
        ) -> crate::BoxFuture<'a, Result<Arc<VerificationKey>, crate::ClaimsError>> {
            Box::pin(std::future::ready(Err(crate::ClaimsError::new(
                crate::ClaimsErrorKind::UnknownKey,
                "none",
            ))))
        }

        fn current_key(&self, _alg: JwtAlgorithm, _kid: &str) -> Option<Arc<VerificationKey>> {
            None
        }

        fn holds_key(&self, _: JwtAlgorithm, _: &str, _: &Arc<VerificationKey>) -> bool {
            self.lookups.fetch_add(1, Ordering::Relaxed);
            self.held.load(Ordering::Relaxed)
        }

        fn keys_version(&self) -> Option<u64> {
            self.version.as_ref().map(|v| v.load(Ordering::Relaxed))
        }
    }

    #[test]
    fn a_key_found_held_is_looked_up_again_only_after_the_keys_change() {
        let token = verified(100);
        let keys = Keys {
            version: Some(AtomicU64::new(7)),
            ..Keys::default()
        };
        assert!(!token.key_still_held(&keys), "not held");
        keys.held.store(true, Ordering::Relaxed);
        assert!(token.key_still_held(&keys));
        assert!(token.key_still_held(&keys));
        assert_eq!(
            keys.lookups.load(Ordering::Relaxed),
            2,
            "the second hit skipped it"
        );

        // The key leaves the set, and the version moves on: the next hit looks it up.
        keys.held.store(false, Ordering::Relaxed);
        if let Some(v) = &keys.version {
            v.store(8, Ordering::Relaxed);
        }
        assert!(!token.key_still_held(&keys));
        assert!(!token.key_still_held(&keys), "a gone key is never noted");
        assert_eq!(keys.lookups.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn a_provider_without_versions_is_asked_on_every_hit() {
        let token = verified(100);
        let keys = Keys::default();
        keys.held.store(true, Ordering::Relaxed);
        for _ in 0..3 {
            assert!(token.key_still_held(&keys));
        }
        assert_eq!(keys.lookups.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn an_entry_already_past_its_deadline_is_not_kept() {
        let cache = TokenCache::new(10);
        cache.insert("t", verified(5), 5);
        assert_eq!(cache.entry_count(), 0);
    }
}
