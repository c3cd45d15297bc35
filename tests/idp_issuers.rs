//! Several trusted issuers against real loopback OpenID providers (discovery metadata and
//! JWK Sets over HTTP): discovery and its issuer check, routing by `iss`, cross-issuer key
//! confusion, a provider down at start, key rotation per issuer, and the claim settings
//! (nested and space-separated permissions, group mapping, subject claim, audiences).

use tonic_authz_testkit::jwt as jwt_keys;
#[path = "common/oidc_server.rs"]
mod oidc_server;

use std::collections::HashMap;
use std::sync::Arc;

use jwt_keys::{TestKey, jwks, unix_now};
use oidc_server::OidcServer;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tonic_authz::{
    AuthInfo, ClaimMapper, Claims, ClaimsError, ClaimsErrorKind, DiscoveryKeyProvider,
    JwtClaimMapper, Role, StaticKeyProvider, TokenKeyProvider, TrustedIssuer,
};

async fn map(mapper: &JwtClaimMapper, token: &str) -> Result<Claims, ClaimsError> {
    mapper
        .get_claims(&AuthInfo::with_token(format!("Bearer {token}")))
        .await
}

fn payload(iss: &str, extra: Value) -> Value {
    let mut p = json!({"iss": iss, "sub": "alice", "exp": unix_now() + 3600});
    if let (Some(p), Value::Object(extra)) = (p.as_object_mut(), extra) {
        p.extend(extra);
    }
    p
}

async fn discovered(server: &OidcServer) -> Arc<DiscoveryKeyProvider> {
    Arc::new(
        DiscoveryKeyProvider::builder(server.issuer())
            .build()
            .await
            .expect("provider"),
    )
}

/// An issuer trusting `server` through discovery, reading `permissions`.
async fn trusted(server: &OidcServer) -> TrustedIssuer {
    TrustedIssuer::builder(server.issuer(), discovered(server).await)
        .build()
        .expect("issuer")
}

fn kind(result: Result<Claims, ClaimsError>) -> (ClaimsErrorKind, String) {
    let e = result.expect_err("must be refused");
    (e.kind(), e.message().to_owned())
}

#[tokio::test]
async fn discovery_finds_the_keys_and_insists_on_the_issuer() {
    let key = TestKey::rsa();
    let server = OidcServer::start(jwks(&[key.jwk_with_kid("k1")])).await;
    let keys = discovered(&server).await;
    assert_eq!(keys.jwks_uri(), Some(server.jwks_uri()));
    assert_eq!(keys.keys_loaded(), 1);
    assert_eq!((server.discovery_hits(), server.jwks_hits()), (1, 1));
    let mapper = JwtClaimMapper::multi_issuer()
        .trusted_issuer(
            TrustedIssuer::builder(server.issuer(), keys)
                .build()
                .expect("issuer"),
        )
        .build();
    let token = key.sign(
        "k1",
        &payload(&server.issuer(), json!({"permissions": ["default:write"]})),
    );
    let claims = map(&mapper, &token).await.expect("accepted");
    assert_eq!(claims.subject(), "alice");
    assert_eq!(claims.namespace_role("default"), Role::WRITER);

    // Metadata naming another issuer (here: with a trailing slash) is refused: no keys.
    let other = OidcServer::start(jwks(&[key.jwk_with_kid("k1")])).await;
    other.set_metadata(Some(
        json!({"issuer": format!("{}/", other.issuer()), "jwks_uri": other.jwks_uri()}).to_string(),
    ));
    let keys = discovered(&other).await;
    assert_eq!(keys.jwks_uri(), None);
    assert_eq!(other.jwks_hits(), 0);
    let mapper = JwtClaimMapper::multi_issuer()
        .trusted_issuer(
            TrustedIssuer::builder(other.issuer(), keys)
                .build()
                .expect("issuer"),
        )
        .build();
    let token = key.sign("k1", &payload(&other.issuer(), json!({})));
    assert_eq!(
        kind(map(&mapper, &token).await),
        (
            ClaimsErrorKind::KeysUnavailable,
            "the OpenID provider metadata has not been loaded yet".to_owned()
        )
    );
}

#[tokio::test]
async fn refreshed_metadata_moves_to_a_new_key_set() {
    let (old, new) = (TestKey::p256(), TestKey::p256());
    let server = OidcServer::start(jwks(&[old.jwk_with_kid("a")])).await;
    let elsewhere = OidcServer::start(jwks(&[new.jwk_with_kid("b")])).await;
    let keys = discovered(&server).await;
    let mapper = JwtClaimMapper::multi_issuer()
        .trusted_issuer(
            TrustedIssuer::builder(server.issuer(), Arc::clone(&keys) as _)
                .build()
                .expect("issuer"),
        )
        .build();
    let by_old = old.sign("a", &payload(&server.issuer(), json!({})));
    assert!(map(&mapper, &by_old).await.is_ok());
    assert!(map(&mapper, &by_old).await.is_ok(), "from the cache");
    assert_eq!(mapper.verifications(), 1);
    let version = keys.keys_version();
    server.set_metadata(Some(
        json!({"issuer": server.issuer(), "jwks_uri": elsewhere.jwks_uri()}).to_string(),
    ));
    keys.refresh().await.expect("refresh");
    assert_eq!(keys.jwks_uri(), Some(elsewhere.jwks_uri()));
    assert_ne!(keys.keys_version(), version, "another key set");
    let token = new.sign("b", &payload(&server.issuer(), json!({})));
    assert!(map(&mapper, &token).await.is_ok());
    // The cached token's key is not in the key set followed now.
    assert_eq!(
        kind(map(&mapper, &by_old).await).0,
        ClaimsErrorKind::UnknownKey
    );
}

#[tokio::test]
async fn tokens_go_to_their_issuer_only() {
    // Three providers, each with its own key under the same key id.
    let keys: Vec<TestKey> = (0..3).map(|_| TestKey::rsa()).collect();
    let mut servers = Vec::new();
    for key in &keys {
        servers.push(OidcServer::start(jwks(&[key.jwk_with_kid("same")])).await);
    }
    let mut builder = JwtClaimMapper::multi_issuer();
    for server in &servers {
        builder = builder.trusted_issuer(trusted(server).await);
    }
    let mapper = builder.build();
    for (key, server) in keys.iter().zip(&servers) {
        let token = key.sign(
            "same",
            &payload(&server.issuer(), json!({"permissions": ["ns:read"]})),
        );
        assert_eq!(
            map(&mapper, &token)
                .await
                .expect("own issuer")
                .namespace_role("ns"),
            Role::READER
        );
    }
    // Issuer 0's key never verifies a token claiming issuer 1, though the kid exists there.
    let forged = keys[0].sign("same", &payload(&servers[1].issuer(), json!({})));
    assert_eq!(
        kind(map(&mapper, &forged).await),
        (
            ClaimsErrorKind::Signature,
            "signature verification failed".to_owned()
        )
    );
    let stranger = keys[0].sign("same", &payload("https://elsewhere.example", json!({})));
    assert_eq!(
        kind(map(&mapper, &stranger).await),
        (ClaimsErrorKind::Issuer, "untrusted issuer".to_owned())
    );
    let mut no_iss = payload("x", json!({}));
    no_iss.as_object_mut().expect("object").remove("iss");
    let anonymous = keys[0].sign("same", &no_iss);
    assert_eq!(
        kind(map(&mapper, &anonymous).await),
        (
            ClaimsErrorKind::Issuer,
            "token has no \"iss\" claim".to_owned()
        )
    );
}

#[tokio::test]
async fn a_provider_down_at_start_blocks_no_other_and_is_picked_up_later() {
    let (up_key, down_key) = (TestKey::p256(), TestKey::p256());
    let up = OidcServer::start(jwks(&[up_key.jwk_with_kid("k")])).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let down_addr = listener.local_addr().expect("addr");
    drop(listener);
    let down_issuer = format!("http://{down_addr}");
    let down_keys = Arc::new(
        DiscoveryKeyProvider::builder(down_issuer.clone())
            .build()
            .await
            .expect("builds though down"),
    );
    assert_eq!(down_keys.discoveries(), 1);
    let mapper = JwtClaimMapper::multi_issuer()
        .trusted_issuer(trusted(&up).await)
        .trusted_issuer(
            TrustedIssuer::builder(down_issuer.clone(), Arc::clone(&down_keys) as _)
                .build()
                .expect("issuer"),
        )
        .build();
    let token = up_key.sign("k", &payload(&up.issuer(), json!({})));
    assert!(map(&mapper, &token).await.is_ok());
    let late = down_key.sign("k", &payload(&down_issuer, json!({})));
    assert_eq!(
        kind(map(&mapper, &late).await).0,
        ClaimsErrorKind::KeysUnavailable
    );
    // The provider comes up. The refused token above already made one on-demand read, and
    // the next is at least the retry interval later, so refresh by hand here (the test
    // below shows a token picking a late provider up by itself).
    let server = OidcServer::start_on(down_addr, jwks(&[down_key.jwk_with_kid("k")])).await;
    down_keys.refresh().await.expect("now up");
    assert!(map(&mapper, &late).await.is_ok());
    assert_eq!(server.discovery_hits(), 1);
}

#[tokio::test]
async fn a_token_from_a_late_provider_triggers_discovery() {
    let key = TestKey::p256();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let issuer = format!("http://{addr}");
    let keys = Arc::new(
        DiscoveryKeyProvider::builder(issuer.clone())
            .build()
            .await
            .expect("builds"),
    );
    let mapper = JwtClaimMapper::multi_issuer()
        .trusted_issuer(
            TrustedIssuer::builder(issuer.clone(), keys)
                .build()
                .expect("issuer"),
        )
        .build();
    let server = OidcServer::start_on(addr, jwks(&[key.jwk_with_kid("k")])).await;
    // No on-demand read happened yet, so this token's lookup reads the metadata at once.
    let token = key.sign("k", &payload(&issuer, json!({})));
    assert!(map(&mapper, &token).await.is_ok());
    assert_eq!(server.discovery_hits(), 1);
    // Once loaded, further tokens cause no metadata read.
    assert!(
        map(&mapper, &key.sign("k", &payload(&issuer, json!({"n": 1}))))
            .await
            .is_ok()
    );
    assert_eq!(server.discovery_hits(), 1);
}

#[tokio::test]
async fn keys_rotate_per_issuer() {
    let (a1, a2, b1) = (TestKey::p256(), TestKey::p256(), TestKey::p256());
    let a = OidcServer::start(jwks(&[a1.jwk_with_kid("a1")])).await;
    let b = OidcServer::start(jwks(&[b1.jwk_with_kid("b1")])).await;
    let mapper = JwtClaimMapper::multi_issuer()
        .trusted_issuer(trusted(&a).await)
        .trusted_issuer(trusted(&b).await)
        .build();
    a.set_jwks(jwks(&[a2.jwk_with_kid("a2")]));
    let (a_hits, b_hits) = (a.jwks_hits(), b.jwks_hits());
    let rotated = a2.sign("a2", &payload(&a.issuer(), json!({})));
    assert!(
        map(&mapper, &rotated).await.is_ok(),
        "the unknown kid refetches issuer a's keys"
    );
    assert_eq!(a.jwks_hits(), a_hits + 1);
    assert_eq!(b.jwks_hits(), b_hits, "issuer b is not asked");
    // Issuer a's new key id is unknown to b: a token claiming b with it is refused.
    let confused = a2.sign("a2", &payload(&b.issuer(), json!({})));
    assert_eq!(
        kind(map(&mapper, &confused).await).0,
        ClaimsErrorKind::UnknownKey
    );
}

#[tokio::test]
async fn claims_where_providers_put_them() {
    let key = TestKey::p256();
    let server = OidcServer::start(jwks(&[key.jwk_with_kid("k")])).await;
    let groups = HashMap::from([
        (
            "temporal-admins".to_owned(),
            vec!["temporal-system:admin".to_owned()],
        ),
        (
            "team-payments".to_owned(),
            vec!["payments:write".to_owned()],
        ),
    ]);
    let keycloak = TrustedIssuer::builder(server.issuer(), discovered(&server).await)
        .permissions_claim("realm_access.roles")
        .subject_claim("azp")
        .audiences(["temporal", "other"])
        .group_permissions(groups)
        .build()
        .expect("issuer");
    let mapper = JwtClaimMapper::multi_issuer()
        .trusted_issuer(keycloak)
        .build();
    let token = key.sign(
        "k",
        &payload(
            &server.issuer(),
            json!({
                "azp": "ci-client",
                "aud": ["account", "temporal"],
                "realm_access": {"roles": ["team-payments", "offline_access", "billing:read", "payments:read"]},
            }),
        ),
    );
    let claims = map(&mapper, &token).await.expect("accepted");
    assert_eq!(claims.subject(), "ci-client");
    assert_eq!(claims.system(), Role::UNDEFINED);
    assert_eq!(
        claims.namespace_role("payments"),
        Role::WRITER | Role::READER
    );
    assert_eq!(claims.namespace_role("billing"), Role::READER);
    // The issuer is the trusted issuer's `iss`; the groups are the values that grant no role
    // themselves, mapped by the table or not.
    assert_eq!(claims.issuer(), Some(server.issuer().as_str()));
    assert_eq!(claims.groups(), ["team-payments", "offline_access"]);
    let admin = key.sign(
        "k",
        &payload(
            &server.issuer(),
            json!({"azp": "ops", "aud": "other", "realm_access": {"roles": ["temporal-admins"]}}),
        ),
    );
    assert_eq!(
        map(&mapper, &admin).await.expect("accepted").system(),
        Role::ADMIN
    );
    // Deny twins: wrong audience, subject claim of the wrong type.
    let wrong_aud = key.sign(
        "k",
        &payload(&server.issuer(), json!({"azp": "x", "aud": "account"})),
    );
    assert_eq!(
        kind(map(&mapper, &wrong_aud).await),
        (ClaimsErrorKind::Audience, "audience mismatch".to_owned())
    );
    let no_azp = key.sign(
        "k",
        &payload(&server.issuer(), json!({"aud": "temporal", "azp": 7})),
    );
    assert_eq!(
        kind(map(&mapper, &no_azp).await),
        (
            ClaimsErrorKind::Claim,
            "unexpected value type of \"azp\" claim".to_owned()
        )
    );

    // A space-separated `scope` claim and a key with a dot in it.
    let scoped = TrustedIssuer::builder(server.issuer(), discovered(&server).await)
        .permissions_claim(r"ext.https://temporal\.io/scope")
        .build()
        .expect("issuer");
    let mapper = JwtClaimMapper::multi_issuer()
        .trusted_issuer(scoped)
        .build();
    let token = key.sign(
        "k",
        &payload(
            &server.issuer(),
            json!({"ext": {"https://temporal.io/scope": "openid default:read  default:worker"}}),
        ),
    );
    let claims = map(&mapper, &token).await.expect("accepted");
    assert_eq!(
        claims.namespace_role("default"),
        Role::READER | Role::WORKER
    );
    assert_eq!(claims.namespaces().len(), 1);
    assert_eq!(claims.groups(), ["openid"]);
}

#[tokio::test]
async fn trusted_issuer_settings_fail_closed() {
    let keys = Arc::new(StaticKeyProvider::new());
    let err = |b: tonic_authz::TrustedIssuerBuilder| b.build().expect_err("must fail").to_string();
    let b = || TrustedIssuer::builder("https://idp.example", Arc::clone(&keys) as _);
    assert_eq!(
        err(TrustedIssuer::builder(" ", Arc::clone(&keys) as _)),
        "issuer: must not be blank"
    );
    assert_eq!(
        err(b().permissions_claim("a..b")),
        "permissionsClaimName: claim path \"a..b\" has an empty segment"
    );
    assert_eq!(
        err(b().subject_claim("")),
        "subjectClaim: claim path is blank"
    );
    assert_eq!(
        err(b().permissions_regex(r"(?P<role>\w+)")),
        "permissionsRegex: needs the named groups `namespace` and `role`"
    );
    assert!(err(b().permissions_regex("(")).starts_with("permissionsRegex: "));
    assert_eq!(
        err(b().group_permissions(HashMap::from([(
            "g".to_owned(),
            vec!["ns:owner".to_owned()]
        )]))),
        "groupPermissions.g: \"ns:owner\" is not `namespace:role` with role read, write, admin or worker"
    );
    assert_eq!(err(b().audiences([""])), "audience: an entry is blank");
}

#[tokio::test]
async fn the_default_issuer_keeps_working_beside_trusted_ones() {
    let (legacy, other) = (TestKey::p256(), TestKey::p256());
    let legacy_keys =
        StaticKeyProvider::from_jwks(&jwks(&[legacy.jwk_with_kid("k")])).expect("keys");
    let server = OidcServer::start(jwks(&[other.jwk_with_kid("k")])).await;
    let mapper = JwtClaimMapper::builder(Arc::new(legacy_keys))
        .trusted_issuer(trusted(&server).await)
        .build();
    // Temporal's single provider: any other `iss` (no check configured).
    let token = legacy.sign(
        "k",
        &payload(
            "anything",
            json!({"permissions": ["a:read", "ops", "b:owner"]}),
        ),
    );
    let claims = map(&mapper, &token).await.expect("accepted");
    assert_eq!(claims.namespace_role("a"), Role::READER);
    // The default issuer checks no `iss`, so it reports none (an unchecked `iss` is not an
    // identity); the non-permission values are still groups.
    assert_eq!(claims.issuer(), None);
    assert_eq!(claims.groups(), ["ops", "b:owner"]);
    // A token naming the trusted issuer is verified with that issuer's keys only.
    let forged = legacy.sign("k", &payload(&server.issuer(), json!({})));
    assert_eq!(
        kind(map(&mapper, &forged).await).0,
        ClaimsErrorKind::Signature
    );
    let real = other.sign("k", &payload(&server.issuer(), json!({})));
    let claims = map(&mapper, &real).await.expect("accepted");
    assert_eq!(claims.issuer(), Some(server.issuer().as_str()));
    assert!(claims.groups().is_empty());
}
