//! The JWKS key provider against a real HTTP server on loopback (in-process, counting hits)
//! and against `file://` key sets under paused time.

use tonic_authz_testkit::jwks_server;
use tonic_authz_testkit::jwt as jwt_keys;

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use jwks_server::{JwksServer, Reply, unused_addr};
use jwt_keys::{b64_json, jwks, p256, rsa, rsa2, temporal_payload, unix_now};
use serde_json::{Value, json};
use tonic_authz::{
    AuthInfo, ClaimMapper, Claims, ClaimsError, ClaimsErrorKind, JwksKeyProvider, JwtAlgorithm,
    JwtClaimMapper, Role, TokenKeyProvider,
};

fn payload() -> Value {
    temporal_payload(unix_now(), &["default:read"])
}

async fn map(mapper: &JwtClaimMapper, token: &str) -> Result<Claims, ClaimsError> {
    mapper
        .get_claims(&AuthInfo::with_token(format!("Bearer {token}")))
        .await
}

/// A token whose header names `kid`; the signature is garbage, which does not matter when
/// the key lookup fails first.
fn token_for_kid(kid: &str) -> String {
    format!(
        "{}.{}.c2ln",
        b64_json(&json!({"alg": "RS256", "kid": kid})),
        b64_json(&payload())
    )
}

async fn provider(uri: &str) -> JwksKeyProvider {
    JwksKeyProvider::builder()
        .uri(uri)
        .refresh_interval(Duration::ZERO)
        .build()
        .await
        .expect("valid config")
}

#[tokio::test]
async fn initial_fetch_loads_rsa_and_ec_keys() {
    let server = JwksServer::start(Reply::json(jwks(&[
        rsa().jwk_with_kid("r1"),
        p256().jwk_with_kid("e1"),
    ])))
    .await;
    let keys = Arc::new(provider(&server.uri()).await);
    assert_eq!(
        (keys.keys_loaded(), keys.fetches(), server.hits()),
        (2, 1, 1)
    );
    assert!(keys.is_loaded());
    let mapper = JwtClaimMapper::new(keys.clone());
    let claims = map(&mapper, &rsa().sign("r1", &payload()))
        .await
        .expect("RS256");
    assert_eq!(claims.namespace_role("default"), Role::READER);
    map(&mapper, &p256().sign("e1", &payload()))
        .await
        .expect("ES256");
    assert_eq!(server.hits(), 1, "known kids need no fetch");
}

#[tokio::test]
async fn rotated_key_is_accepted_within_one_request_with_one_fetch() {
    let server = JwksServer::start(Reply::json(jwks(&[rsa().jwk_with_kid("r1")]))).await;
    let keys = Arc::new(provider(&server.uri()).await);
    let mapper = JwtClaimMapper::new(keys.clone());
    server.set_reply(Reply::json(jwks(&[
        rsa().jwk_with_kid("r1"),
        rsa2().jwk_with_kid("r2"),
    ])));
    map(&mapper, &rsa2().sign("r2", &payload()))
        .await
        .expect("new kid works at once");
    assert_eq!(server.hits(), 2);
    assert_eq!(keys.kid_miss_refetches(), 1);
    assert_eq!(keys.keys_loaded(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_unknown_kids_causes_one_fetch_per_cooldown() {
    let server = JwksServer::start(Reply::json(jwks(&[rsa().jwk_with_kid("r1")]))).await;
    let keys = Arc::new(provider(&server.uri()).await);
    let mapper = JwtClaimMapper::new(keys.clone());
    let calls = (0..1000).map(|i| {
        let mapper = mapper.clone();
        tokio::spawn(async move { map(&mapper, &token_for_kid(&format!("random-{i}"))).await })
    });
    for result in join_all(calls).await {
        let err = result.expect("task").expect_err("unknown kid");
        assert_eq!(err.kind(), ClaimsErrorKind::UnknownKey);
        assert!(err.message().starts_with("no key for key id \"random-"));
    }
    assert_eq!(server.hits(), 2, "initial fetch plus one shared refetch");
    assert_eq!(keys.kid_miss_refetches(), 1);
    // Still within the cooldown: more misses fetch nothing.
    for i in 0..100 {
        assert!(
            map(&mapper, &token_for_kid(&format!("again-{i}")))
                .await
                .is_err()
        );
    }
    assert_eq!(server.hits(), 2);
    // Known keys keep working meanwhile.
    map(&mapper, &rsa().sign("r1", &payload()))
        .await
        .expect("r1");
}

#[tokio::test]
async fn endpoint_down_at_start_then_up() {
    let addr = unused_addr().await;
    let uri = format!("http://{addr}/jwks.json");
    let keys = Arc::new(
        JwksKeyProvider::builder()
            .uri(&uri)
            .refresh_interval(Duration::ZERO)
            .kid_miss_cooldown(Duration::ZERO)
            .build()
            .await
            .expect("start-up does not fail when the endpoint is down"),
    );
    assert!(!keys.is_loaded());
    assert_eq!((keys.keys_loaded(), keys.fetches()), (0, 1));
    let err = keys.refresh().await.expect_err("still down");
    assert_eq!(err.message(), format!("{uri}: cannot connect"));
    let mapper = JwtClaimMapper::new(keys.clone());
    let token = rsa().sign("r1", &payload());
    let err = map(&mapper, &token).await.expect_err("no keys yet");
    assert_eq!(
        (err.kind(), err.message()),
        (
            ClaimsErrorKind::KeysUnavailable,
            "no token keys have been loaded yet"
        )
    );

    let server = JwksServer::start_on(addr, Reply::json(jwks(&[rsa().jwk_with_kid("r1")]))).await;
    map(&mapper, &token)
        .await
        .expect("keys arrive on the next miss");
    assert_eq!(server.hits(), 1);
    assert!(keys.is_loaded());
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_old_keys() {
    let server = JwksServer::start(Reply::json(jwks(&[rsa().jwk_with_kid("r1")]))).await;
    let keys = Arc::new(provider(&server.uri()).await);
    let mapper = JwtClaimMapper::builder(keys.clone())
        .cache_capacity(0)
        .build();
    let token = rsa().sign("r1", &payload());
    let uri = server.uri();
    let cases = [
        (
            Reply::status(500, jwks(&[])),
            format!("{uri}: unexpected HTTP status 500 Internal Server Error"),
        ),
        (
            Reply::status(404, "not found"),
            format!("{uri}: unexpected HTTP status 404 Not Found"),
        ),
        (
            Reply::json("<html>oops</html>"),
            format!("{uri}: key set is not valid JSON"),
        ),
        (
            Reply::json(r#"{"error":"unavailable"}"#),
            format!("{uri}: key set has no \"keys\" array"),
        ),
    ];
    for (reply, expected) in cases {
        server.set_reply(reply);
        let err = keys.refresh().await.expect_err("refresh fails");
        assert_eq!(err.message(), expected);
        assert_eq!(keys.keys_loaded(), 1, "old keys kept after: {expected}");
        map(&mapper, &token).await.expect("old key still verifies");
    }
    assert_eq!(mapper.verifications(), 4);
}

#[tokio::test]
async fn a_slow_endpoint_hits_the_timeout() {
    let server = JwksServer::start(
        Reply::json(jwks(&[rsa().jwk_with_kid("r1")])).delayed(Duration::from_secs(30)),
    )
    .await;
    let started = std::time::Instant::now();
    let keys = JwksKeyProvider::builder()
        .uri(server.uri())
        .refresh_interval(Duration::ZERO)
        .timeout(Duration::from_millis(300))
        .build()
        .await
        .expect("build");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(!keys.is_loaded());
    assert_eq!(server.hits(), 1);
    let err = keys.refresh().await.expect_err("times out");
    assert_eq!(
        err.message(),
        format!("{}: request timed out after 300ms", server.uri())
    );
}

#[tokio::test]
async fn oversized_documents_are_refused() {
    let big = jwks(&[rsa().jwk_with_kid("r1"), rsa2().jwk_with_kid("r2")]);
    let server = JwksServer::start(Reply::json(big.clone())).await;
    let keys = JwksKeyProvider::builder()
        .uri(server.uri())
        .refresh_interval(Duration::ZERO)
        .max_document_size(big.len() - 1)
        .build()
        .await
        .expect("build");
    assert!(!keys.is_loaded());
    let err = keys.refresh().await.expect_err("too large");
    assert_eq!(
        err.message(),
        format!(
            "{}: key set larger than {} bytes",
            server.uri(),
            big.len() - 1
        )
    );
}

#[tokio::test]
async fn one_unsupported_key_still_yields_the_others() {
    let short_rsa = json!({"kty": "RSA", "kid": "short", "n": "AQAB", "e": "AQAB"});
    let mut enc = rsa2().jwk_with_kid("enc");
    enc["use"] = "enc".into();
    let doc = jwks(&[
        json!({"kty": "oct", "kid": "h", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}),
        json!({"kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA"}),
        json!({"kty": "XYZ", "kid": "x"}),
        short_rsa,
        enc,
        rsa().jwk_with_kid("r1"),
        p256().jwk_with_kid("e1"),
    ]);
    let server = JwksServer::start(Reply::json(doc)).await;
    let keys = Arc::new(provider(&server.uri()).await);
    assert_eq!(keys.keys_loaded(), 2);
    let mapper = JwtClaimMapper::new(keys.clone());
    map(&mapper, &rsa().sign("r1", &payload()))
        .await
        .expect("r1");
    map(&mapper, &p256().sign("e1", &payload()))
        .await
        .expect("e1");
    let err = map(&mapper, &rsa2().sign("enc", &payload()))
        .await
        .expect_err("enc key skipped");
    assert_eq!(err.kind(), ClaimsErrorKind::UnknownKey);
}

#[tokio::test]
async fn jwk_alg_pins_the_algorithm() {
    // The JWK says RS384: an RS256 token under that kid is refused even with the right key.
    let mut jwk = rsa().jwk_without_alg("r1");
    jwk["alg"] = "RS384".into();
    let server = JwksServer::start(Reply::json(jwks(&[jwk]))).await;
    let keys = Arc::new(provider(&server.uri()).await);
    assert!(keys.current_key(JwtAlgorithm::RS384, "r1").is_some());
    assert!(keys.current_key(JwtAlgorithm::RS256, "r1").is_none());
    let mapper = JwtClaimMapper::new(keys);
    let err = map(&mapper, &rsa().sign("r1", &payload()))
        .await
        .expect_err("pinned");
    assert_eq!(
        (err.kind(), err.message()),
        (
            ClaimsErrorKind::Algorithm,
            "no key for key id \"r1\" can verify RS256"
        )
    );
}

#[tokio::test]
async fn background_refresh_over_http() {
    let server = JwksServer::start(Reply::json(jwks(&[rsa().jwk_with_kid("r1")]))).await;
    let keys = JwksKeyProvider::builder()
        .uri(server.uri())
        .refresh_interval(Duration::from_millis(100))
        .build()
        .await
        .expect("build");
    server.set_reply(Reply::json(jwks(&[rsa2().jwk_with_kid("r2")])));
    tokio::time::timeout(Duration::from_secs(20), keys.wait_for_fetches(3))
        .await
        .expect("refreshes run in the background");
    assert!(server.hits() >= 3);
    assert_eq!(keys.kid_miss_refetches(), 0);
    assert!(keys.current_key(JwtAlgorithm::RS256, "r2").is_some());
    assert!(
        keys.current_key(JwtAlgorithm::RS256, "r1").is_none(),
        "removed keys disappear"
    );
}

#[tokio::test]
async fn redirects_are_followed_a_few_times() {
    let target = JwksServer::start(Reply::json(jwks(&[rsa().jwk_with_kid("r1")]))).await;
    let hop = JwksServer::start(Reply::redirect(target.uri())).await;
    let keys = provider(&hop.uri()).await;
    assert_eq!(keys.keys_loaded(), 1);
    assert_eq!((hop.hits(), target.hits()), (1, 1));
    // A redirect loop ends with an error, keeping the keys.
    target.set_reply(Reply::redirect(hop.uri()));
    hop.set_reply(Reply::redirect(target.uri()));
    let err = keys.refresh().await.expect_err("loop");
    assert_eq!(err.message(), format!("{}: request failed", hop.uri()));
    assert_eq!(keys.keys_loaded(), 1);
}

#[tokio::test]
async fn invalid_configuration_fails_the_build_naming_the_uri() {
    let err = JwksKeyProvider::builder()
        .uri("ftp://idp.example/jwks")
        .build()
        .await
        .expect_err("bad scheme");
    assert!(
        err.message().contains("ftp://idp.example/jwks"),
        "{}",
        err.message()
    );
    let err = JwksKeyProvider::builder()
        .uri("file://remotehost/tmp/test.json")
        .build()
        .await
        .expect_err("remote host");
    assert_eq!(
        err.message(),
        "file URI with remote host is not supported: file://remotehost/tmp/test.json"
    );
    // Blank entries are skipped, as in Temporal.
    let keys = JwksKeyProvider::builder()
        .uris(["", "  "])
        .build()
        .await
        .expect("no sources");
    assert_eq!((keys.fetches(), keys.keys_loaded()), (0, 0));
}

// ---- file:// (spec G.4) and paused time ----

fn write(path: &std::path::Path, doc: &str) {
    std::fs::write(path, doc).expect("write key set");
}

#[tokio::test]
async fn g4_file_uris() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keys.json");
    write(&path, r#"{"keys":[]}"#);
    for uri in [
        format!("file://{}", path.display()),
        format!("file://localhost{}", path.display()),
    ] {
        let keys = provider(&uri).await;
        assert!(keys.is_loaded(), "{uri}");
        assert_eq!(keys.keys_loaded(), 0);
    }
    let missing = format!("file://{}/nope.json", dir.path().display());
    let keys = provider(&missing).await;
    assert!(!keys.is_loaded());
    let err = keys.refresh().await.expect_err("missing file");
    assert_eq!(err.message(), format!("{missing}: cannot read file"));
}

#[tokio::test(start_paused = true)]
async fn periodic_refresh_under_paused_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keys.json");
    write(&path, &jwks(&[rsa().jwk_with_kid("r1")]));
    let started = tokio::time::Instant::now();
    let keys = JwksKeyProvider::builder()
        .uri(format!("file://{}", path.display()))
        .refresh_interval(Duration::from_secs(60))
        .build()
        .await
        .expect("build");
    assert_eq!((keys.fetches(), keys.keys_loaded()), (1, 1));
    write(
        &path,
        &jwks(&[rsa().jwk_with_kid("r1"), p256().jwk_with_kid("e1")]),
    );
    keys.wait_for_fetches(2).await;
    assert_eq!(started.elapsed(), Duration::from_secs(60));
    assert_eq!(keys.keys_loaded(), 2);
    // A broken file at the next tick keeps the keys.
    write(&path, "garbage");
    keys.wait_for_fetches(3).await;
    assert_eq!(started.elapsed(), Duration::from_secs(120));
    assert_eq!(keys.keys_loaded(), 2);
    assert_eq!(keys.fetches(), 3);
}

#[tokio::test(start_paused = true)]
async fn kid_miss_cooldown_under_paused_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keys.json");
    write(&path, &jwks(&[rsa().jwk_with_kid("r1")]));
    let keys = Arc::new(
        JwksKeyProvider::builder()
            .uri(format!("file://{}", path.display()))
            .refresh_interval(Duration::ZERO)
            .kid_miss_cooldown(Duration::from_secs(30))
            .build()
            .await
            .expect("build"),
    );
    let mapper = JwtClaimMapper::new(keys.clone());
    assert!(map(&mapper, &token_for_kid("x1")).await.is_err());
    assert_eq!(keys.fetches(), 2, "first miss refetches");
    assert!(map(&mapper, &token_for_kid("x2")).await.is_err());
    tokio::time::advance(Duration::from_secs(29)).await;
    assert!(map(&mapper, &token_for_kid("x3")).await.is_err());
    assert_eq!(
        keys.fetches(),
        2,
        "misses within the cooldown fetch nothing"
    );
    // The IdP rotates; once the cooldown has passed the new kid works within one request.
    write(
        &path,
        &jwks(&[rsa().jwk_with_kid("r1"), rsa2().jwk_with_kid("r2")]),
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    map(&mapper, &rsa2().sign("r2", &payload()))
        .await
        .expect("rotated key");
    assert_eq!((keys.fetches(), keys.kid_miss_refetches()), (3, 2));
}
