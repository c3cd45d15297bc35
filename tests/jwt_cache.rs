//! The verified-token cache: hits skip signature verification, yet expiry, audience and key
//! removal are still enforced.

use tonic_authz_testkit::jwks_server;
use tonic_authz_testkit::jwt as jwt_keys;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jwks_server::{JwksServer, Reply};
use jwt_keys::{NOW, jwks, rsa, rsa2, temporal_payload};
use serde_json::json;
use tonic_authz::{
    AuthInfo, ClaimMapper, Claims, ClaimsError, ClaimsErrorKind, JwksKeyProvider, JwtClaimMapper,
    JwtClaimMapperBuilder, Role, StaticKeyProvider, TokenKeyProvider, VerificationKey,
};

async fn map(mapper: &JwtClaimMapper, token: &str, audience: &str) -> Result<Claims, ClaimsError> {
    let mut info = AuthInfo::with_token(format!("Bearer {token}"));
    info.audience = audience.to_owned();
    mapper.get_claims(&info).await
}

/// A mapper over the RSA test key (kid `k`) with a clock the test moves.
fn mapper_with_clock() -> (JwtClaimMapperBuilder, Arc<AtomicU64>) {
    let (now, clock) = jwt_keys::moving_clock();
    let key = VerificationKey::from_pem(rsa().public_pem.as_bytes()).expect("pem");
    let keys = Arc::new(StaticKeyProvider::new().with_key("k", key));
    (JwtClaimMapper::builder(keys).clock(clock), now)
}

#[tokio::test]
async fn a_second_call_with_the_same_token_does_no_verification() {
    let (builder, _) = mapper_with_clock();
    let mapper = builder.build();
    let token = rsa().sign("k", &temporal_payload(NOW, &["default:write"]));
    let first = map(&mapper, &token, "").await.expect("valid");
    assert_eq!(mapper.verifications(), 1);
    for _ in 0..10 {
        let again = map(&mapper, &token, "test-audience").await.expect("cached");
        assert_eq!(again, first);
        assert_eq!(again.namespace_role("default"), Role::WRITER);
    }
    assert_eq!(mapper.verifications(), 1);
    mapper.sync_cache().await;
    assert_eq!(mapper.cached_tokens(), 1);
    // The audience is checked on every hit, against each call's expectation.
    let err = map(&mapper, &token, "other").await.expect_err("audience");
    assert_eq!(
        (err.kind(), err.message()),
        (ClaimsErrorKind::Audience, "audience mismatch")
    );
    assert_eq!(mapper.verifications(), 1);
    // Clones share the cache.
    let clone = mapper.clone();
    map(&clone, &token, "").await.expect("cached");
    assert_eq!(clone.verifications(), 1);
}

#[tokio::test]
async fn an_expired_token_is_rejected_even_when_cached() {
    let (builder, now) = mapper_with_clock();
    let mapper = builder.build();
    let mut payload = temporal_payload(NOW, &["default:read"]);
    payload["exp"] = json!(NOW + 10);
    let token = rsa().sign("k", &payload);
    map(&mapper, &token, "").await.expect("valid now");
    now.store(NOW + 9, Ordering::SeqCst);
    map(&mapper, &token, "")
        .await
        .expect("still valid, from cache");
    assert_eq!(mapper.verifications(), 1);
    now.store(NOW + 10, Ordering::SeqCst);
    let err = map(&mapper, &token, "").await.expect_err("expired");
    assert_eq!(
        (err.kind(), err.message()),
        (ClaimsErrorKind::Time, "Token is expired")
    );
    assert_eq!(mapper.verifications(), 1, "rejected from the cache entry");
    // And after the entry is gone, the full check rejects it too.
    let err = map(&mapper, &token, "").await.expect_err("expired");
    assert_eq!(err.message(), "Token is expired");
    assert_eq!(mapper.verifications(), 2);
}

#[tokio::test]
async fn rejected_tokens_are_not_cached_and_the_cache_can_be_disabled() {
    let (builder, _) = mapper_with_clock();
    let mapper = builder.build();
    let mut payload = temporal_payload(NOW, &[]);
    payload["sub"] = json!(42);
    let token = rsa().sign("k", &payload);
    for _ in 0..3 {
        assert!(map(&mapper, &token, "").await.is_err());
    }
    assert_eq!(mapper.verifications(), 3);

    let (builder, _) = mapper_with_clock();
    let uncached = builder.cache_capacity(0).build();
    let token = rsa().sign("k", &temporal_payload(NOW, &[]));
    for _ in 0..3 {
        map(&uncached, &token, "").await.expect("valid");
    }
    assert_eq!(uncached.verifications(), 3);
    assert_eq!(uncached.cached_tokens(), 0);
}

#[tokio::test]
async fn a_key_removed_from_the_jwks_invalidates_the_tokens_it_signed() {
    let now = jwt_keys::unix_now();
    let server = JwksServer::start(Reply::json(jwks(&[
        rsa().jwk_with_kid("r1"),
        rsa2().jwk_with_kid("r2"),
    ])))
    .await;
    let keys = Arc::new(
        JwksKeyProvider::builder()
            .uri(server.uri())
            .refresh_interval(Duration::ZERO)
            .kid_miss_cooldown(Duration::from_secs(3600))
            .build()
            .await
            .expect("build"),
    );
    let mapper = JwtClaimMapper::new(keys.clone());
    let by_r1 = rsa().sign("r1", &temporal_payload(now, &["default:read"]));
    let by_r2 = rsa2().sign("r2", &temporal_payload(now, &["default:write"]));
    map(&mapper, &by_r1, "").await.expect("r1");
    map(&mapper, &by_r2, "").await.expect("r2");
    map(&mapper, &by_r1, "").await.expect("r1 cached");
    assert_eq!(mapper.verifications(), 2);

    // A refresh that finds the same keys keeps the version hits compare against.
    let version = keys
        .keys_version()
        .expect("a JWKS provider counts versions");
    assert_eq!(keys.refresh().await.expect("refresh"), 2);
    assert_eq!(keys.keys_version(), Some(version));
    map(&mapper, &by_r1, "").await.expect("r1 still cached");
    assert_eq!(mapper.verifications(), 2);

    // r1 leaves the key set; r2 stays (same material, so its cached tokens stay valid).
    server.set_reply(Reply::json(jwks(&[rsa2().jwk_with_kid("r2")])));
    assert_eq!(keys.refresh().await.expect("refresh"), 1);
    assert_ne!(keys.keys_version(), Some(version), "the keys changed");
    let err = map(&mapper, &by_r1, "").await.expect_err("key gone");
    assert_eq!(
        (err.kind(), err.message()),
        (ClaimsErrorKind::UnknownKey, "no key for key id \"r1\"")
    );
    map(&mapper, &by_r2, "").await.expect("r2 still cached");
    assert_eq!(mapper.verifications(), 2);

    // A key replaced under the same kid also drops tokens signed by the old one.
    server.set_reply(Reply::json(jwks(&[rsa().jwk_with_kid("r2")])));
    keys.refresh().await.expect("refresh");
    let err = map(&mapper, &by_r2, "")
        .await
        .expect_err("old key replaced");
    assert_eq!(
        (err.kind(), err.message()),
        (ClaimsErrorKind::Signature, "signature verification failed")
    );
    assert_eq!(mapper.verifications(), 3);
}

#[tokio::test]
async fn answers_without_waiting_unless_the_key_must_be_found() {
    let (builder, now) = mapper_with_clock();
    let mapper = builder.build();
    let mut payload = temporal_payload(NOW, &["default:write"]);
    payload["exp"] = json!(NOW + 10);
    let token = rsa().sign("k", &payload);
    let info = |token: &str, audience: &str| {
        let mut info = AuthInfo::with_token(format!("Bearer {token}"));
        info.audience = audience.to_owned();
        info
    };
    // A key id the provider does not hold: only `get_claims` can answer (a provider may
    // fetch keys for it), and asking verified nothing.
    let unknown_kid = rsa().sign("not-held", &payload);
    assert!(mapper.get_claims_now(&info(&unknown_kid, "")).is_none());
    assert_eq!(mapper.verifications(), 0);
    // A malformed header and a missing token need no verification.
    let malformed = mapper
        .get_claims_now(&AuthInfo::with_token("Basic abc"))
        .expect("answered")
        .expect_err("malformed");
    assert_eq!(malformed.kind(), ClaimsErrorKind::MalformedHeader);
    let empty = mapper
        .get_claims_now(&AuthInfo::with_token(""))
        .expect("answered")
        .expect("no token: empty claims");
    assert_eq!(empty.auth_type(), "jwt");

    // A token whose key is held: verified now, and cached for the next call.
    let verified = mapper
        .get_claims_now(&info(&token, ""))
        .expect("answered: its key is held")
        .expect("valid");
    assert_eq!(mapper.verifications(), 1);
    assert_eq!(map(&mapper, &token, "").await.expect("valid"), verified);
    let cached = mapper
        .get_claims_now(&info(&token, "test-audience"))
        .expect("cached")
        .expect("valid");
    assert_eq!(cached, verified);
    assert_eq!(mapper.verifications(), 1);
    // Every check a hit makes: the audience, then expiry.
    let audience = mapper
        .get_claims_now(&info(&token, "other"))
        .expect("cached")
        .expect_err("audience");
    assert_eq!(audience.kind(), ClaimsErrorKind::Audience);
    now.store(NOW + 10, Ordering::SeqCst);
    let expired = mapper
        .get_claims_now(&info(&token, ""))
        .expect("answered from the entry")
        .expect_err("expired");
    assert_eq!(expired.kind(), ClaimsErrorKind::Time);
    assert_eq!(mapper.verifications(), 1);
}
