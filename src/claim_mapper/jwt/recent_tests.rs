//! The cache's memory of the entry a token text found last (`cache::Recent`), through the
//! mapper's answer without waiting, as the layer calls it: an entry found by a text id gets
//! every check a hit gets, and belongs to its own cache only.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::json;
use tonic_authz_testkit::jwks_server::{JwksServer, Reply};
use tonic_authz_testkit::jwt::{NOW, jwks, moving_clock, rsa, rsa2, temporal_payload, unix_now};

use crate::{
    AuthInfo, ClaimMapper, ClaimsErrorKind, JwksKeyProvider, JwtClaimMapper, JwtClaimMapperBuilder,
    Role, StaticKeyProvider, VerificationKey,
};

/// The layer's credentials for `token` as its text number `text_id`.
fn info(token: &str, text_id: u64) -> AuthInfo {
    AuthInfo {
        auth_token: format!("Bearer {token}"),
        text_id,
        ..AuthInfo::default()
    }
}

/// Whether `mapper` accepts `token`, text number `text_id`, without waiting.
fn accepts(mapper: &JwtClaimMapper, token: &str, text_id: u64) -> bool {
    mapper
        .get_claims_now(&info(token, text_id))
        .expect("an answer without waiting")
        .is_ok()
}

/// A mapper over the RSA test key (kid `k`) with a clock the test moves.
fn mapper_with_clock() -> (JwtClaimMapperBuilder, Arc<AtomicU64>) {
    let (now, clock) = moving_clock();
    let key = VerificationKey::from_pem(rsa().public_pem.as_bytes()).expect("pem");
    let keys = Arc::new(StaticKeyProvider::new().with_key("k", key));
    (JwtClaimMapper::builder(keys).clock(clock), now)
}

/// A mapper with the test clock, and an RSA token (kid `k`) granting `permission`.
fn mapper_and_token(permission: &str) -> (JwtClaimMapper, String) {
    let (builder, _) = mapper_with_clock();
    let token = rsa().sign("k", &temporal_payload(NOW, &[permission]));
    (builder.build(), token)
}

#[test]
fn a_text_id_answers_from_the_entry_its_text_found_last() {
    let (mapper, token) = mapper_and_token("default:write");
    for _ in 0..3 {
        let claims = mapper.get_claims_now(&info(&token, 7)).expect("now");
        assert_eq!(
            claims.expect("valid").namespace_role("default"),
            Role::WRITER
        );
    }
    assert_eq!(mapper.verifications(), 1);
    // The text id alone finds the entry: the token is not read. Only the layer numbers
    // texts, one number per exact text, so this cannot happen to a call; here it shows the
    // entry came from the memory, not from a lookup of the token.
    let claims = mapper.get_claims_now(&info("not.a.token", 7)).expect("now");
    assert_eq!(
        claims.expect("remembered").namespace_role("default"),
        Role::WRITER
    );
    // Without a text id the same text is read, and refused.
    let refused = mapper.get_claims_now(&info("not.a.token", 0)).expect("now");
    assert!(refused.is_err());
    // Another text id is not this one.
    let refused = mapper.get_claims_now(&info("not.a.token", 8)).expect("now");
    assert!(refused.is_err());
}

#[test]
fn a_clone_of_the_layers_credentials_has_no_text_id() {
    let layer = info("a.b.c", 7);
    assert_eq!(layer.text_id, 7);
    let mut clone = layer.clone();
    assert_eq!(clone.text_id, 0);
    // A clone's token can be changed; it must then be read, never answered by number.
    clone.auth_token = "Bearer other".into();
    assert_eq!(clone.auth_token, "Bearer other");
    assert_eq!(AuthInfo::default().text_id, 0);
}

#[test]
fn an_entry_found_by_text_id_is_refused_past_exp_and_past_its_maximum_age() {
    let (builder, now) = mapper_with_clock();
    let mapper = builder.cache_max_age(Duration::from_secs(60)).build();
    let mut payload = temporal_payload(NOW, &["default:read"]);
    payload["exp"] = json!(NOW + 100);
    let token = rsa().sign("k", &payload);
    // Verified, then found (and remembered), then answered by number.
    for at in [NOW, NOW + 1, NOW + 2] {
        now.store(at, Ordering::SeqCst);
        assert!(accepts(&mapper, &token, 11));
    }
    assert_eq!(mapper.verifications(), 1);
    // Past the entry's maximum age: verified afresh, not answered from memory.
    now.store(NOW + 61, Ordering::SeqCst);
    assert!(accepts(&mapper, &token, 11));
    assert_eq!(mapper.verifications(), 2);
    for at in [NOW + 62, NOW + 63] {
        now.store(at, Ordering::SeqCst);
        assert!(accepts(&mapper, &token, 11));
    }
    assert_eq!(mapper.verifications(), 2, "the new entry is remembered");
    // Past `exp`: refused from the remembered entry as from the cache.
    now.store(NOW + 100, Ordering::SeqCst);
    let err = mapper
        .get_claims_now(&info(&token, 11))
        .expect("now")
        .expect_err("expired");
    assert_eq!(
        (err.kind(), err.message()),
        (ClaimsErrorKind::Time, "Token is expired")
    );
    assert_eq!(mapper.verifications(), 2);
}

#[test]
fn a_text_id_never_answers_from_another_mappers_cache() {
    let (trusting, token) = mapper_and_token("default:admin");
    for _ in 0..3 {
        assert!(accepts(&trusting, &token, 21));
    }
    // Another mapper, whose key `k` is another key: the token's signature fails there.
    let other_keys = StaticKeyProvider::new().with_key(
        "k",
        VerificationKey::from_pem(rsa2().public_pem.as_bytes()).expect("pem"),
    );
    let other = JwtClaimMapper::new(Arc::new(other_keys));
    let err = other
        .get_claims_now(&info(&token, 21))
        .expect("now")
        .expect_err("not this mapper's key");
    assert_eq!(err.kind(), ClaimsErrorKind::Signature);
    // And the first still answers from its own.
    assert!(accepts(&trusting, &token, 21));
    assert_eq!(trusting.verifications(), 1);
}

#[tokio::test]
async fn an_entry_found_by_text_id_is_dropped_when_its_key_leaves_the_set() {
    let now = unix_now();
    let server = JwksServer::start(Reply::json(jwks(&[rsa().jwk_with_kid("r1")]))).await;
    let keys = JwksKeyProvider::builder()
        .uri(server.uri())
        .refresh_interval(Duration::ZERO);
    let keys = Arc::new(keys.build().await.expect("a key provider"));
    let mapper = JwtClaimMapper::new(keys.clone());
    let token = rsa().sign("r1", &temporal_payload(now, &["default:read"]));
    for _ in 0..3 {
        assert!(accepts(&mapper, &token, 31));
    }
    assert_eq!(mapper.verifications(), 1);
    server.set_reply(Reply::json(jwks(&[rsa2().jwk_with_kid("r2")])));
    keys.refresh().await.expect("refresh");
    // The key is gone: no answer from memory or cache. The mapper has to look for the key
    // (it may fetch it), and then refuses.
    let layer = info(&token, 31);
    if let Some(answer) = mapper.get_claims_now(&layer) {
        assert!(answer.is_err());
    }
    let err = mapper.get_claims(&layer).await.expect_err("key gone");
    assert_eq!(err.kind(), ClaimsErrorKind::UnknownKey);
    assert!(mapper.get_claims_now(&layer).is_none_or(|a| a.is_err()));
}

#[test]
fn a_thread_answers_a_repeated_text_from_its_own_copy_of_the_claims() {
    let (mapper, token) = mapper_and_token("default:write");
    let answer = |text_id| {
        mapper
            .get_claims_now(&info(&token, text_id))
            .expect("now")
            .expect("valid")
    };
    // Verified and cached; then the lookup answers with the entry's claims and remembers the
    // entry; the first answer from the memory makes the thread's copy, and the next ones
    // hand out that copy.
    answer(11);
    let looked_up = answer(11);
    let first = answer(11);
    let second = answer(11);
    assert_eq!(first, looked_up);
    assert!(!first.shares_data_with(&looked_up));
    assert!(second.shares_data_with(&first));
    // A lookup by the token alone (no text id) still answers with the entry's own claims.
    let by_token = answer(0);
    assert!(by_token.shares_data_with(&looked_up));
    // Another thread has a copy of its own.
    let other = std::thread::scope(|s| {
        s.spawn(|| {
            answer(11);
            answer(11)
        })
        .join()
        .expect("thread")
    });
    assert_eq!(other, first);
    assert!(!other.shares_data_with(&first) && !other.shares_data_with(&looked_up));
    assert_eq!(mapper.verifications(), 1);
}
