//! The JWT claim mapper against Temporal's own test vectors (spec G.2, G.7) and the C.3 edge
//! cases, for RS256 and ES256, with keys generated at test time.

use tonic_authz_testkit::jwt as jwt_keys;

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_keys::{
    NOW, TestKey, alg_name, b64, b64_json, fixed_clock, p256, rsa, rsa2, sign_raw, temporal_payload,
};
use serde_json::{Value, json};
use tonic_authz::{
    AuthInfo, ClaimMapper, Claims, ClaimsError, ClaimsErrorKind, JwtAlgorithm, JwtClaimMapper,
    JwtClaimMapperBuilder, Role, StaticKeyProvider, VerificationKey,
};

const KID: &str = "test-key";

fn provider_for(key: &TestKey) -> StaticKeyProvider {
    let public = VerificationKey::from_pem(key.public_pem.as_bytes()).expect("public key");
    StaticKeyProvider::new().with_key(KID, public)
}

/// A mapper over the RSA and P-256 test keys (both under `test-key`), fixed clock at `NOW`.
fn builder() -> JwtClaimMapperBuilder {
    let rsa_key = VerificationKey::from_pem(rsa().public_pem.as_bytes()).expect("rsa");
    let ec_key = VerificationKey::from_pem(p256().public_pem.as_bytes()).expect("ec");
    let keys = StaticKeyProvider::new()
        .with_key(KID, rsa_key)
        .with_key(KID, ec_key);
    JwtClaimMapper::builder(Arc::new(keys)).clock(fixed_clock)
}

fn mapper() -> JwtClaimMapper {
    builder().build()
}

async fn map(mapper: &JwtClaimMapper, token: &str, audience: &str) -> Result<Claims, ClaimsError> {
    let mut info = AuthInfo::with_token(format!("Bearer {token}"));
    info.audience = audience.to_owned();
    mapper.get_claims(&info).await
}

/// Maps and expects a rejection of `kind` with exactly `message`, which never repeats the token.
async fn rejected(
    mapper: &JwtClaimMapper,
    token: &str,
    audience: &str,
    kind: ClaimsErrorKind,
    message: &str,
) {
    let err = map(mapper, token, audience)
        .await
        .expect_err("token must be rejected");
    assert_eq!(
        (err.kind(), err.message()),
        (kind, message),
        "token {token}"
    );
    for segment in token.split('.').filter(|s| s.len() > 8) {
        assert!(
            !err.to_string().contains(segment),
            "error text leaks the token"
        );
    }
}

fn both_keys() -> [&'static TestKey; 2] {
    [rsa(), p256()]
}

fn payload(permissions: &[&str]) -> Value {
    temporal_payload(NOW, permissions)
}

// ---- G.2 ----

#[tokio::test]
async fn g2_admin_permissions_rsa_and_ecdsa() {
    // Rows 1, 2, 6, 7.
    let m = mapper();
    for key in both_keys() {
        let token = key.sign(KID, &payload(&["temporal-system:admin", "default:read"]));
        let claims = map(&m, &token, "").await.expect("valid token");
        assert_eq!(claims.subject(), "test-user");
        assert_eq!(claims.auth_type(), "jwt");
        assert_eq!(claims.system(), Role::ADMIN);
        assert_eq!(claims.namespaces().len(), 1);
        assert_eq!(claims.namespace_role("default"), Role::READER);
    }
}

#[tokio::test]
async fn g2_token_without_subject_is_rejected() {
    // Row 3 (parse succeeds; GetClaims rejects, C.2 step 7).
    let m = mapper();
    for key in both_keys() {
        let mut p = payload(&["default:read"]);
        p.as_object_mut().expect("object").remove("sub");
        let token = key.sign(KID, &p);
        rejected(
            &m,
            &token,
            "",
            ClaimsErrorKind::Claim,
            "unexpected value type of \"sub\" claim",
        )
        .await;
    }
}

#[tokio::test]
async fn g2_token_without_kid_or_alg_is_rejected() {
    // Rows 4 and 5.
    let m = mapper();
    for key in both_keys() {
        let p = payload(&["default:read"]);
        let no_kid = key.sign_with(&key.alg, json!({"alg": alg_name(key.alg)}), &p);
        rejected(
            &m,
            &no_kid,
            "",
            ClaimsErrorKind::MissingKeyId,
            "malformed token - no \"kid\" header",
        )
        .await;
        let no_alg = key.sign_with(&key.alg, json!({"kid": KID}), &p);
        rejected(
            &m,
            &no_alg,
            "",
            ClaimsErrorKind::Algorithm,
            "signing method (alg) is unspecified.",
        )
        .await;
    }
}

#[tokio::test]
async fn g2_namespace_permission_is_case_sensitive() {
    // Row 8.
    let m = mapper();
    for key in both_keys() {
        let token = key.sign(KID, &payload(&["Temporal-system:admin", "Foo:read"]));
        let claims = map(&m, &token, "").await.expect("valid");
        assert_eq!(claims.system(), Role::UNDEFINED);
        assert_eq!(claims.namespaces().len(), 2);
        assert_eq!(claims.namespace_role("Foo"), Role::READER);
        assert_eq!(claims.namespace_role("Temporal-system"), Role::ADMIN);
    }
}

#[tokio::test]
async fn g2_reader_writer_worker_permissions() {
    // Rows 9 and 10.
    let m = mapper();
    for key in both_keys() {
        let token = key.sign(
            KID,
            &payload(&["default:read", "default:write", "default:worker"]),
        );
        let claims = map(&m, &token, "test-audience").await.expect("valid");
        assert_eq!(claims.subject(), "test-user");
        assert_eq!(claims.system(), Role::UNDEFINED);
        assert_eq!(claims.namespaces().len(), 1);
        assert_eq!(claims.namespace_role("default").bits(), 7);
    }
}

#[tokio::test]
async fn g2_permissions_regex() {
    // Rows 11, 18 and 19.
    let m = builder()
        .permissions_regex(r"(?P<role>\w+):(?P<namespace>\w+)")
        .build();
    for key in both_keys() {
        let token = key.sign(
            KID,
            &payload(&["read:default", "write:default", "worker:default"]),
        );
        let claims = map(&m, &token, "test-audience").await.expect("valid");
        assert_eq!(claims.system(), Role::UNDEFINED);
        assert_eq!(claims.namespaces().len(), 1);
        assert_eq!(claims.namespace_role("default").bits(), 7);
    }
    let m = builder()
        .permissions_regex(r"(?P<role>[\w-]+):(?P<namespace>[\w-]+)")
        .build();
    for key in both_keys() {
        let token = key.sign(KID, &payload(&["admin:temporal-system", "read:default"]));
        let claims = map(&m, &token, "").await.expect("valid");
        assert_eq!(claims.system(), Role::ADMIN);
        assert_eq!(claims.namespaces().len(), 1);
        assert_eq!(claims.namespace_role("default"), Role::READER);
    }
}

#[tokio::test]
async fn g2_unusable_regex_grants_nothing() {
    // Rows 15, 16 and 17: Temporal falls back to `ns:role` with a warning. Stricter here: the
    // configuration file refuses such a regex at start-up, and a mapper built with one in
    // code fails closed, granting nothing, instead of reading tokens in another format.
    for regex in [
        r"(?P<namespace\w+):(?P<role>\w+)",
        r"(?P<role>\w+):(\w+)",
        r"(?P<namespace>\w+):(\w+)",
    ] {
        let m = builder().permissions_regex(regex).build();
        let token = rsa().sign(KID, &payload(&["default:read", "temporal-system:admin"]));
        let claims = map(&m, &token, "").await.expect("valid");
        assert!(claims.namespaces().is_empty(), "{regex}");
        assert_eq!(claims.system(), Role::UNDEFINED, "{regex}");
    }
}

#[tokio::test]
async fn g2_audience() {
    // Rows 20, 21 and 22.
    let m = mapper();
    for key in both_keys() {
        let token = key.sign(KID, &payload(&["temporal-system:admin"]));
        rejected(
            &m,
            &token,
            "foo",
            ClaimsErrorKind::Audience,
            "audience mismatch",
        )
        .await;
        assert!(map(&m, &token, "test-audience").await.is_ok());
        assert!(map(&m, &token, "").await.is_ok());
    }
}

// ---- G.7: header parsing ----

#[tokio::test]
async fn g7_authorization_header_forms() {
    let m = mapper();
    let token = rsa().sign(KID, &payload(&["default:read"]));
    let call = |header: String| {
        let m = m.clone();
        async move { m.get_claims(&AuthInfo::with_token(header)).await }
    };
    let err = call("Bearer".into()).await.expect_err("no space");
    assert_eq!(
        (err.kind(), err.message()),
        (
            ClaimsErrorKind::MalformedHeader,
            "unexpected authorization token format"
        )
    );
    let err = call(format!("Bearer\t{token}")).await.expect_err("tab");
    assert_eq!(err.message(), "unexpected authorization token format");
    let err = call("Basic abc".into()).await.expect_err("basic");
    assert_eq!(
        (err.kind(), err.message()),
        (
            ClaimsErrorKind::MalformedHeader,
            "unexpected name in authorization token"
        )
    );
    for scheme in ["bearer", "BEARER", "bEaReR", "Bearer"] {
        let claims = call(format!("{scheme} {token}"))
            .await
            .expect("scheme is case-insensitive");
        assert_eq!(claims.namespace_role("default"), Role::READER);
    }
    let err = call(format!("Bearer  {token}"))
        .await
        .expect_err("two spaces");
    assert_eq!(err.kind(), ClaimsErrorKind::MalformedToken);
    let err = call(format!("Bearer Bearer {token}"))
        .await
        .expect_err("double bearer");
    assert_eq!(
        (err.kind(), err.message()),
        (
            ClaimsErrorKind::MalformedToken,
            "tokenstring should not contain 'bearer '"
        )
    );
}

#[tokio::test]
async fn empty_token_gives_empty_jwt_claims() {
    let m = mapper();
    assert!(m.auth_info_required());
    let claims = m
        .get_claims(&AuthInfo::default())
        .await
        .expect("no token is not an error");
    assert_eq!(claims.auth_type(), "jwt");
    assert_eq!(claims.subject(), "");
    assert_eq!(claims.system(), Role::UNDEFINED);
    assert!(claims.namespaces().is_empty());
}

// ---- C.3: structure ----

#[tokio::test]
async fn c3_segments_and_padding() {
    let m = mapper();
    let token = rsa().sign(KID, &payload(&["default:read"]));
    let [h, p, s]: [&str; 3] = token
        .split('.')
        .collect::<Vec<_>>()
        .try_into()
        .expect("3 parts");
    let segments = "token contains an invalid number of segments";
    rejected(
        &m,
        &format!("{h}.{p}"),
        "",
        ClaimsErrorKind::MalformedToken,
        segments,
    )
    .await;
    rejected(
        &m,
        &format!("{token}.{s}"),
        "",
        ClaimsErrorKind::MalformedToken,
        segments,
    )
    .await;
    rejected(&m, "", "", ClaimsErrorKind::MalformedToken, segments).await;

    // Padded base64 is refused in each segment (a header/payload length that needs padding).
    let mut header = json!({"alg": "RS256", "kid": KID});
    let mut pad = String::new();
    while b64_json(&header).len().is_multiple_of(4) {
        pad.push('x');
        header["typ"] = Value::String(pad.clone());
    }
    let mut body = payload(&["default:read"]);
    let mut filler = String::new();
    while b64_json(&body).len().is_multiple_of(4) {
        filler.push('x');
        body["pad"] = Value::String(filler.clone());
    }
    let good = rsa().sign_with(&Algorithm::RS256, header.clone(), &body);
    assert!(map(&m, &good, "").await.is_ok());
    let [h, p, s]: [&str; 3] = good
        .split('.')
        .collect::<Vec<_>>()
        .try_into()
        .expect("3 parts");
    let padded = |seg: &str| format!("{seg}{}", "=".repeat((4 - seg.len() % 4) % 4));
    rejected(
        &m,
        &format!("{}.{p}.{s}", padded(h)),
        "",
        ClaimsErrorKind::MalformedToken,
        "token header is not base64url-encoded JSON object",
    )
    .await;
    rejected(
        &m,
        &format!("{h}.{}.{s}", padded(p)),
        "",
        ClaimsErrorKind::MalformedToken,
        "token payload is not base64url-encoded JSON object",
    )
    .await;
    // Header or payload that is JSON but not an object.
    let array_header = format!("{}.{p}.{s}", b64(b"[1]"));
    rejected(
        &m,
        &array_header,
        "",
        ClaimsErrorKind::MalformedToken,
        "token header is not base64url-encoded JSON object",
    )
    .await;
}

#[tokio::test]
async fn c3_algorithms() {
    let m = mapper();
    let p = payload(&["default:read"]);
    let key = rsa();
    let forge = |alg: &str| key.sign_with(&Algorithm::RS256, json!({"alg": alg, "kid": KID}), &p);
    rejected(
        &m,
        &forge("rs256"),
        "",
        ClaimsErrorKind::Algorithm,
        "signing method (alg) is unavailable.",
    )
    .await;
    rejected(
        &m,
        &forge("XY999"),
        "",
        ClaimsErrorKind::Algorithm,
        "signing method (alg) is unavailable.",
    )
    .await;
    rejected(
        &m,
        &key.sign_with(&Algorithm::RS256, json!({"alg": 256, "kid": KID}), &p),
        "",
        ClaimsErrorKind::Algorithm,
        "signing method (alg) is unspecified.",
    )
    .await;
    for alg in ["HS256", "RS512", "ES384", "PS256", "EdDSA"] {
        rejected(
            &m,
            &forge(alg),
            "",
            ClaimsErrorKind::Algorithm,
            &format!("signing method {alg} is invalid"),
        )
        .await;
    }
    // alg none with an empty signature.
    let none = format!(
        "{}.{}.",
        b64_json(&json!({"alg": "none", "kid": KID})),
        b64_json(&p)
    );
    rejected(
        &m,
        &none,
        "",
        ClaimsErrorKind::Algorithm,
        "signing method none is invalid",
    )
    .await;
}

#[tokio::test]
async fn c3_hmac_signed_with_the_rsa_public_key_is_refused() {
    let p = payload(&["default:read"]);
    let secret = EncodingKey::from_secret(rsa().public_pem.as_bytes()).expect("secret");
    let token = sign_raw(
        &secret,
        Algorithm::HS256,
        &json!({"alg": "HS256", "kid": KID}),
        &p,
    );
    rejected(
        &mapper(),
        &token,
        "",
        ClaimsErrorKind::Algorithm,
        "signing method HS256 is invalid",
    )
    .await;
    // Even with HS256 allowed, an RSA key never verifies HMAC.
    let m = builder()
        .algorithms([JwtAlgorithm::RS256, JwtAlgorithm::HS256])
        .build();
    rejected(
        &m,
        &token,
        "",
        ClaimsErrorKind::Algorithm,
        "no key for key id \"test-key\" can verify HS256",
    )
    .await;
    assert_eq!(m.verifications(), 0);
}

#[tokio::test]
async fn hmac_works_only_with_an_explicit_secret_and_allow_list() {
    let secret = b"0123456789abcdef0123456789abcdef";
    assert_eq!(
        VerificationKey::insecure_hmac_secret(b"short")
            .expect_err("short")
            .message(),
        "HMAC secret must be at least 32 bytes"
    );
    let keys = StaticKeyProvider::new().with_key(
        "h",
        VerificationKey::insecure_hmac_secret(secret).expect("secret"),
    );
    let token = sign_raw(
        &EncodingKey::from_secret(secret).expect("secret"),
        Algorithm::HS256,
        &json!({"alg": "HS256", "kid": "h"}),
        &payload(&["default:write"]),
    );
    let keys = Arc::new(keys);
    let default = JwtClaimMapper::builder(keys.clone())
        .clock(fixed_clock)
        .build();
    rejected(
        &default,
        &token,
        "",
        ClaimsErrorKind::Algorithm,
        "signing method HS256 is invalid",
    )
    .await;
    let allowed = JwtClaimMapper::builder(keys)
        .clock(fixed_clock)
        .algorithms([JwtAlgorithm::HS256])
        .build();
    let claims = map(&allowed, &token, "").await.expect("explicit HMAC");
    assert_eq!(claims.namespace_role("default"), Role::WRITER);
}

#[tokio::test]
async fn other_algorithms_by_configuration() {
    let p = payload(&["default:admin"]);
    let cases: [(TestKey, Algorithm, JwtAlgorithm); 4] = [
        (TestKey::p384(), Algorithm::ES384, JwtAlgorithm::ES384),
        (TestKey::ed25519(), Algorithm::EdDSA, JwtAlgorithm::EdDSA),
        (TestKey::rsa(), Algorithm::PS256, JwtAlgorithm::PS256),
        (TestKey::rsa(), Algorithm::RS384, JwtAlgorithm::RS384),
    ];
    for (key, alg, ours) in cases {
        let keys = StaticKeyProvider::new().with_key(
            KID,
            VerificationKey::from_pem(key.public_pem.as_bytes()).expect("pem"),
        );
        let token = key.sign_with(&alg, json!({"alg": ours.as_str(), "kid": KID}), &p);
        let keys = Arc::new(keys);
        let default = JwtClaimMapper::builder(keys.clone())
            .clock(fixed_clock)
            .build();
        rejected(
            &default,
            &token,
            "",
            ClaimsErrorKind::Algorithm,
            &format!("signing method {ours} is invalid"),
        )
        .await;
        let m = JwtClaimMapper::builder(keys)
            .clock(fixed_clock)
            .algorithms([ours])
            .build();
        let claims = map(&m, &token, "")
            .await
            .unwrap_or_else(|e| panic!("{ours}: {e}"));
        assert_eq!(claims.namespace_role("default"), Role::ADMIN);
    }
}

#[tokio::test]
async fn c3_kid() {
    let m = mapper();
    let p = payload(&["default:read"]);
    let key = rsa();
    // Empty kid: looked up as "" (Temporal), which no key has here.
    rejected(
        &m,
        &key.sign("", &p),
        "",
        ClaimsErrorKind::UnknownKey,
        "no key for key id \"\"",
    )
    .await;
    rejected(
        &m,
        &key.sign("other", &p),
        "",
        ClaimsErrorKind::UnknownKey,
        "no key for key id \"other\"",
    )
    .await;
    let numeric = key.sign_with(&Algorithm::RS256, json!({"alg": "RS256", "kid": 7}), &p);
    rejected(
        &m,
        &numeric,
        "",
        ClaimsErrorKind::MissingKeyId,
        "malformed token - no \"kid\" header",
    )
    .await;
    // A key stored without kid serves tokens with an empty kid.
    let keys = StaticKeyProvider::new().with_key(
        "",
        VerificationKey::from_pem(key.public_pem.as_bytes()).expect("pem"),
    );
    let m = JwtClaimMapper::builder(Arc::new(keys))
        .clock(fixed_clock)
        .build();
    assert!(map(&m, &key.sign("", &p), "").await.is_ok());
    // An untrusted kid is quoted and shortened in the message.
    let long = "k\"".repeat(100);
    let err = map(&m, &key.sign(&long, &p), "")
        .await
        .expect_err("unknown");
    assert!(
        err.message().ends_with("...") && err.message().len() < 200,
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn c3_signature() {
    let m = mapper();
    let p = payload(&["default:read"]);
    for key in both_keys() {
        let token = key.sign(KID, &p);
        let [h, _, s]: [&str; 3] = token
            .split('.')
            .collect::<Vec<_>>()
            .try_into()
            .expect("3 parts");
        let mut tampered = p.clone();
        tampered["permissions"] = json!(["temporal-system:admin"]);
        let forged = format!("{h}.{}.{s}", b64_json(&tampered));
        rejected(
            &m,
            &forged,
            "",
            ClaimsErrorKind::Signature,
            "signature verification failed",
        )
        .await;
        rejected(
            &m,
            &format!("{h}.{}.", b64_json(&p)),
            "",
            ClaimsErrorKind::Signature,
            "signature verification failed",
        )
        .await;
        rejected(
            &m,
            &format!("{h}.{}.{s}=", b64_json(&p)),
            "",
            ClaimsErrorKind::MalformedToken,
            "token signature is not base64url",
        )
        .await;
    }
    // Signed by another RSA key under our kid.
    rejected(
        &m,
        &rsa2().sign(KID, &p),
        "",
        ClaimsErrorKind::Signature,
        "signature verification failed",
    )
    .await;
    // ES256 with a DER-encoded signature instead of raw R||S.
    let token = p256().sign(KID, &p);
    let (input, sig) = token.rsplit_once('.').expect("dot");
    let raw = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig)
        .expect("sig");
    let der = der_signature(&raw[..32], &raw[32..]);
    rejected(
        &m,
        &format!("{input}.{}", b64(&der)),
        "",
        ClaimsErrorKind::Signature,
        "signature verification failed",
    )
    .await;
}

fn der_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    let int = |v: &[u8]| {
        let v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
        let mut out = vec![0x02];
        if v.first().is_some_and(|b| *b >= 0x80) {
            out.push(v.len() as u8 + 1);
            out.push(0);
        } else {
            out.push(v.len() as u8);
        }
        out.extend(v);
        out
    };
    let body: Vec<u8> = [int(r), int(s)].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

#[tokio::test]
async fn c3_critical_header_is_refused() {
    let token = rsa().sign_with(
        &Algorithm::RS256,
        json!({"alg": "RS256", "kid": KID, "crit": ["exp"]}),
        &payload(&[]),
    );
    rejected(
        &mapper(),
        &token,
        "",
        ClaimsErrorKind::MalformedToken,
        "token has critical header parameters",
    )
    .await;
}

// ---- C.3 / G.7: time claims (now = N) ----

fn with(mut p: Value, claim: &str, value: Value) -> Value {
    p[claim] = value;
    p
}

#[tokio::test]
async fn c3_time_claims() {
    let m = mapper();
    let n = NOW;
    for key in both_keys() {
        let base = payload(&["default:read"]);
        let ok = |v: Value| key.sign(KID, &v);
        rejected(
            &m,
            &ok(with(base.clone(), "exp", json!(n))),
            "",
            ClaimsErrorKind::Time,
            "Token is expired",
        )
        .await;
        assert!(
            map(&m, &ok(with(base.clone(), "exp", json!(n + 1))), "")
                .await
                .is_ok()
        );
        assert!(
            map(&m, &ok(with(base.clone(), "exp", json!(0))), "")
                .await
                .is_ok(),
            "exp=0 counts as absent"
        );
        rejected(
            &m,
            &ok(with(base.clone(), "exp", json!((n + 100).to_string()))),
            "",
            ClaimsErrorKind::Time,
            "\"exp\" claim is not a number",
        )
        .await;
        rejected(
            &m,
            &ok(with(base.clone(), "exp", Value::Null)),
            "",
            ClaimsErrorKind::Time,
            "\"exp\" claim is not a number",
        )
        .await;
        rejected(
            &m,
            &ok(with(base.clone(), "iat", json!(n + 1))),
            "",
            ClaimsErrorKind::Time,
            "Token used before issued",
        )
        .await;
        assert!(
            map(&m, &ok(with(base.clone(), "iat", json!(n))), "")
                .await
                .is_ok()
        );
        rejected(
            &m,
            &ok(with(base.clone(), "nbf", json!(n + 1))),
            "",
            ClaimsErrorKind::Time,
            "Token is not valid yet",
        )
        .await;
        assert!(
            map(&m, &ok(with(base.clone(), "nbf", json!(n))), "")
                .await
                .is_ok()
        );
        let mut no_exp = base.clone();
        no_exp.as_object_mut().expect("object").remove("exp");
        assert!(map(&m, &ok(no_exp), "").await.is_ok(), "exp is optional");
    }
}

#[tokio::test]
async fn leeway_tolerates_clock_skew() {
    let m = builder().leeway(Duration::from_secs(10)).build();
    let key = rsa();
    let base = payload(&["default:read"]);
    assert!(
        map(
            &m,
            &key.sign(KID, &with(base.clone(), "exp", json!(NOW - 5))),
            ""
        )
        .await
        .is_ok()
    );
    assert!(
        map(
            &m,
            &key.sign(KID, &with(base.clone(), "nbf", json!(NOW + 5))),
            ""
        )
        .await
        .is_ok()
    );
    assert!(
        map(
            &m,
            &key.sign(KID, &with(base.clone(), "iat", json!(NOW + 10))),
            ""
        )
        .await
        .is_ok()
    );
    rejected(
        &m,
        &key.sign(KID, &with(base.clone(), "exp", json!(NOW - 10))),
        "",
        ClaimsErrorKind::Time,
        "Token is expired",
    )
    .await;
    rejected(
        &m,
        &key.sign(KID, &with(base, "nbf", json!(NOW + 11))),
        "",
        ClaimsErrorKind::Time,
        "Token is not valid yet",
    )
    .await;
}

// ---- C.2 / G.7: subject and permissions ----

#[tokio::test]
async fn c2_subject_must_be_a_string() {
    let m = mapper();
    for key in both_keys() {
        let base = payload(&[]);
        rejected(
            &m,
            &key.sign(KID, &with(base.clone(), "sub", json!(123))),
            "",
            ClaimsErrorKind::Claim,
            "unexpected value type of \"sub\" claim",
        )
        .await;
        rejected(
            &m,
            &key.sign(KID, &with(base.clone(), "sub", Value::Null)),
            "",
            ClaimsErrorKind::Claim,
            "unexpected value type of \"sub\" claim",
        )
        .await;
        let claims = map(&m, &key.sign(KID, &with(base, "sub", json!(""))), "")
            .await
            .expect("empty sub");
        assert_eq!(claims.subject(), "");
    }
}

#[tokio::test]
async fn c2_permissions_that_are_not_an_array_give_no_roles() {
    let m = mapper();
    for value in [
        json!("default:read"),
        json!({"default": "read"}),
        json!(42),
        Value::Null,
    ] {
        let token = rsa().sign(KID, &with(payload(&[]), "permissions", value.clone()));
        let claims = map(&m, &token, "").await.expect("token still valid");
        assert!(claims.namespaces().is_empty(), "{value}");
        assert_eq!(claims.system(), Role::UNDEFINED);
    }
    let token = rsa().sign(
        KID,
        &with(
            payload(&[]),
            "permissions",
            json!([
                "default:READ",
                "default",
                42,
                ":admin",
                "ns:read:extra",
                "temporal-system:worker",
                "TEMPORAL-SYSTEM:admin"
            ]),
        ),
    );
    let claims = map(&m, &token, "").await.expect("valid");
    assert_eq!(claims.namespace_role("default"), Role::READER);
    // Stricter than Temporal: a permission on the empty namespace grants nothing.
    assert_eq!(claims.namespace_role(""), Role::UNDEFINED);
    assert!(!claims.namespaces().contains_key(""));
    assert_eq!(claims.namespaces().get("ns"), Some(&Role::UNDEFINED));
    assert_eq!(claims.system(), Role::WORKER);
    assert_eq!(claims.namespace_role("TEMPORAL-SYSTEM"), Role::ADMIN);
}

#[tokio::test]
async fn system_namespaces_and_claim_name_are_configurable() {
    let token = rsa().sign(
        KID,
        &with(
            payload(&["system:admin", "temporal-system:read"]),
            "roles",
            json!(["ops:write"]),
        ),
    );
    let claims = map(&mapper(), &token, "").await.expect("valid");
    assert_eq!(
        claims.system(),
        Role::ADMIN | Role::READER,
        "both names mean system by default"
    );
    let m = builder().system_namespaces(["ops"]).build();
    let claims = map(&m, &token, "").await.expect("valid");
    assert_eq!(claims.system(), Role::UNDEFINED);
    assert_eq!(claims.namespace_role("system"), Role::ADMIN);
    let m = builder()
        .system_namespaces(["ops"])
        .permissions_claim_name("roles")
        .build();
    let claims = map(&m, &token, "").await.expect("valid");
    assert_eq!(claims.system(), Role::WRITER);
    assert!(claims.namespaces().is_empty());
}

// ---- C.3 / G.7: audience and issuer ----

#[tokio::test]
async fn c3_audience() {
    let m = mapper();
    let key = p256();
    let aud = |v: Value| key.sign(KID, &with(payload(&[]), "aud", v));
    assert!(map(&m, &aud(json!("A")), "A").await.is_ok());
    assert!(map(&m, &aud(json!(["x", "A"])), "A").await.is_ok());
    rejected(
        &m,
        &aud(json!(["A", 1])),
        "A",
        ClaimsErrorKind::Audience,
        "audience mismatch",
    )
    .await;
    rejected(
        &m,
        &aud(json!("")),
        "A",
        ClaimsErrorKind::Audience,
        "audience mismatch",
    )
    .await;
    rejected(
        &m,
        &aud(json!("a")),
        "A",
        ClaimsErrorKind::Audience,
        "audience mismatch",
    )
    .await;
    rejected(
        &m,
        &aud(json!({"A": true})),
        "A",
        ClaimsErrorKind::Audience,
        "audience mismatch",
    )
    .await;
    let mut missing = payload(&[]);
    missing.as_object_mut().expect("object").remove("aud");
    rejected(
        &m,
        &key.sign(KID, &missing),
        "A",
        ClaimsErrorKind::Audience,
        "audience mismatch",
    )
    .await;
    // No expected audience: aud is never looked at.
    assert!(map(&m, &aud(json!(["A", 1])), "").await.is_ok());
    assert!(map(&m, &aud(json!(["A", 1])), "   ").await.is_ok());
}

#[tokio::test]
async fn issuer_is_checked_when_configured() {
    let key = rsa();
    let token = key.sign(KID, &payload(&["default:read"]));
    assert!(
        map(&mapper(), &token, "").await.is_ok(),
        "not checked by default"
    );
    let m = builder().issuer("test").build();
    assert!(map(&m, &token, "").await.is_ok());
    let m = builder().issuer("https://idp.example/").build();
    rejected(&m, &token, "", ClaimsErrorKind::Issuer, "issuer mismatch").await;
    let mut no_iss = payload(&[]);
    no_iss.as_object_mut().expect("object").remove("iss");
    rejected(
        &m,
        &key.sign(KID, &no_iss),
        "",
        ClaimsErrorKind::Issuer,
        "token has no \"iss\" claim",
    )
    .await;
}

#[tokio::test]
async fn static_provider_from_jwks_and_pem_file() {
    let doc = jwt_keys::jwks(&[
        rsa().jwk_with_kid("r1"),
        p256().jwk_with_kid("e1"),
        json!({"kty": "oct", "k": "AAAA"}),
    ]);
    let keys = StaticKeyProvider::from_jwks(&doc).expect("jwks");
    assert_eq!(keys.len(), 2, "the oct key is skipped");
    let m = JwtClaimMapper::builder(Arc::new(keys))
        .clock(fixed_clock)
        .build();
    assert!(map(&m, &rsa().sign("r1", &payload(&[])), "").await.is_ok());
    assert!(map(&m, &p256().sign("e1", &payload(&[])), "").await.is_ok());
    rejected(
        &m,
        &p256().sign("r1", &payload(&[])),
        "",
        ClaimsErrorKind::Algorithm,
        "no key for key id \"r1\" can verify ES256",
    )
    .await;

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("key.pem");
    std::fs::write(&path, &p256().public_pem).expect("write");
    let keys = StaticKeyProvider::new()
        .with_pem_file("f", &path)
        .expect("pem file");
    let m = JwtClaimMapper::builder(Arc::new(keys))
        .clock(fixed_clock)
        .build();
    assert!(map(&m, &p256().sign("f", &payload(&[])), "").await.is_ok());
    let missing = dir.path().join("nope.pem");
    let err = StaticKeyProvider::new()
        .with_pem_file("f", &missing)
        .expect_err("missing file");
    assert_eq!(
        err.message(),
        format!("cannot read key file {}", missing.display())
    );
}

#[tokio::test]
async fn provider_key_helper_is_usable() {
    let keys = provider_for(rsa());
    let m = JwtClaimMapper::new(Arc::new(keys));
    // Real clock: a token valid for an hour from now.
    let token = rsa().sign(
        KID,
        &temporal_payload(jwt_keys::unix_now(), &["default:read"]),
    );
    assert!(map(&m, &token, "test-audience").await.is_ok());
}
