//! API keys: the key file (hashes, subject, permissions, expiry) read by the mapper, reloaded
//! without a restart, and served through the layer built from configuration next to a
//! trusted issuer, with the one rule that keeps keys and tokens apart: a JWT-shaped bearer is
//! never looked up as an API key.

// A failed unwrap here is a failed test, with the error in its message.
#![allow(clippy::unwrap_used)]

mod common;
use tonic_authz_testkit::jwt as jwt_keys;
#[path = "common/oidc_server.rs"]
mod oidc_server;

use std::convert::Infallible;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response};
use prost::Message;
use serde_json::json;
use tonic_authz::config::{ConfigErrorKind, ConfigLoader};
use tonic_authz::{
    API_KEY_AUTH_TYPE, ApiKeyClaimMapper, AuthInfo, AuthzLayer, ClaimMapper, ClaimsErrorKind,
    JwtClaimMapper, Role, StaticKeyProvider, api_key_sha256,
};
use tower::{Layer, ServiceExt, service_fn};

use common::grpc::{frame, header_status};
use jwt_keys::{TestKey, jwks, unix_now};
use oidc_server::OidcServer;

const KEY: &str = "tak_live_4f1c2e9a7b8d6c5e3f2a1b0c9d8e7f6a";
const OTHER_KEY: &str = "tak_live_0000000000000000000000000000000";

fn entry(key: &str, subject: &str, permissions: &str, expires: Option<&str>) -> String {
    let mut out = format!(
        "- sha256: {}\n  subject: {subject}\n  permissions: {permissions}\n",
        api_key_sha256(key)
    );
    if let Some(at) = expires {
        out.push_str(&format!("  expiresAt: {at}\n"));
    }
    out
}

fn bearer(value: &str) -> AuthInfo {
    AuthInfo::with_token(format!("Bearer {value}"))
}

#[tokio::test]
async fn keys_map_expire_and_are_refused_when_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("api-keys.yaml");
    std::fs::write(
        &file,
        entry(
            KEY,
            "ci-deployer",
            "[default:write, temporal-system:read]",
            Some("2030-01-01T00:00:00Z"),
        ) + &entry(
            OTHER_KEY,
            "old",
            "[default:read]",
            Some("2020-01-01T00:00:00Z"),
        ),
    )
    .unwrap();
    let mapper = ApiKeyClaimMapper::builder(&file)
        .reload_interval(Duration::ZERO)
        .build()
        .await
        .unwrap();
    assert_eq!(mapper.keys_loaded(), 2);
    let claims = mapper.get_claims(&bearer(KEY)).await.unwrap();
    // The key table answers without waiting, with the same answer.
    assert_eq!(
        mapper.get_claims_now(&bearer(KEY)).unwrap().unwrap(),
        claims
    );
    assert_eq!(
        mapper
            .get_claims_now(&bearer("tak_live_guess"))
            .unwrap()
            .unwrap_err()
            .message(),
        "unknown API key"
    );
    assert_eq!(claims.subject(), "ci-deployer");
    assert_eq!(claims.auth_type(), API_KEY_AUTH_TYPE);
    assert_eq!(claims.namespace_role("default"), Role::WRITER);
    assert_eq!(claims.system(), Role::READER);

    let refused = |r: Result<tonic_authz::Claims, tonic_authz::ClaimsError>| {
        let e = r.unwrap_err();
        (e.kind(), e.message().to_owned())
    };
    assert_eq!(
        refused(mapper.get_claims(&bearer(OTHER_KEY)).await),
        (ClaimsErrorKind::ApiKey, "API key is expired".to_owned())
    );
    assert_eq!(
        refused(mapper.get_claims(&bearer("tak_live_guess")).await),
        (ClaimsErrorKind::ApiKey, "unknown API key".to_owned())
    );
    // A key differing in one character is another key.
    let near = format!("{}x", &KEY[..KEY.len() - 1]);
    assert_eq!(
        refused(mapper.get_claims(&bearer(&near)).await).0,
        ClaimsErrorKind::ApiKey
    );
    assert_eq!(
        refused(mapper.get_claims(&AuthInfo::with_token(KEY)).await).0,
        ClaimsErrorKind::MalformedHeader
    );

    // The clock decides expiry: the valid key is expired in 2031.
    let later = ApiKeyClaimMapper::builder(&file)
        .reload_interval(Duration::ZERO)
        .clock(|| UNIX_EPOCH + Duration::from_secs(1_924_992_000))
        .build()
        .await
        .unwrap();
    assert_eq!(
        refused(later.get_claims(&bearer(KEY)).await).1,
        "API key is expired"
    );
}

#[tokio::test]
async fn a_jwt_shaped_bearer_never_falls_through_to_api_keys() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("api-keys.yaml");
    // The file lists the hash of a JWT-shaped value: it must still never match.
    let jwt_like = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig";
    std::fs::write(&file, entry(jwt_like, "sneaky", "[default:admin]", None)).unwrap();
    let alone = ApiKeyClaimMapper::builder(&file)
        .reload_interval(Duration::ZERO)
        .build()
        .await
        .unwrap();
    let e = alone.get_claims(&bearer(jwt_like)).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.message()),
        (ClaimsErrorKind::MalformedToken, "token is not an API key")
    );
    let tokens = JwtClaimMapper::new(std::sync::Arc::new(StaticKeyProvider::new()));
    let with_tokens = ApiKeyClaimMapper::builder(&file)
        .reload_interval(Duration::ZERO)
        .token_mapper(tokens)
        .build()
        .await
        .unwrap();
    let e = with_tokens.get_claims(&bearer(jwt_like)).await.unwrap_err();
    assert_eq!(
        e.kind(),
        ClaimsErrorKind::Algorithm,
        "the JWT mapper judged it"
    );
}

#[tokio::test]
async fn the_file_reloads_revokes_and_survives_a_broken_edit() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("api-keys.yaml");
    std::fs::write(&file, entry(KEY, "a", "[default:read]", None)).unwrap();
    let mapper = ApiKeyClaimMapper::builder(&file)
        .reload_interval(Duration::from_millis(20))
        .build()
        .await
        .unwrap();
    assert!(mapper.get_claims(&bearer(KEY)).await.is_ok());

    // A broken edit keeps the keys loaded before.
    std::fs::write(&file, "- sha256: nonsense\n").unwrap();
    assert!(mapper.reload().await.is_err());
    assert!(mapper.get_claims(&bearer(KEY)).await.is_ok());

    // Revocation: the entry is gone; the background reload picks it up.
    std::fs::write(&file, entry(OTHER_KEY, "b", "[default:read]", None)).unwrap();
    let seen = mapper.reloads();
    mapper.wait_for_reloads(seen + 1).await;
    let e = mapper.get_claims(&bearer(KEY)).await.unwrap_err();
    assert_eq!(e.message(), "unknown API key");
    assert!(mapper.get_claims(&bearer(OTHER_KEY)).await.is_ok());
}

#[derive(Clone, PartialEq, prost::Message)]
struct NamespaceRequest {
    #[prost(string, tag = "1")]
    namespace: String,
}

const START_WORKFLOW: &str =
    "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";

/// One call through `layer` with `auth` (an authorization header value); the gRPC code.
async fn call(layer: &AuthzLayer, auth: &str) -> tonic::Code {
    let inner = service_fn(|_req: Request<tonic::body::Body>| async {
        Ok::<_, Infallible>(Response::new(tonic::body::Body::empty()))
    });
    let body = frame(
        &NamespaceRequest {
            namespace: "default".to_owned(),
        }
        .encode_to_vec(),
    );
    let request = Request::post(START_WORKFLOW)
        .header("content-type", "application/grpc")
        .header("authorization", auth)
        .body(tonic::body::Body::new(http_body_util::Full::new(
            Bytes::from(body),
        )))
        .unwrap();
    let response = layer.layer(inner).oneshot(request).await.unwrap();
    header_status(&response).map_or(tonic::Code::Ok, |s| s.code())
}

#[tokio::test]
async fn config_serves_api_keys_and_issuer_tokens_side_by_side() {
    let key = TestKey::p256();
    let idp = OidcServer::start(jwks(&[key.jwk_with_kid("k")])).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("api-keys.yaml");
    std::fs::write(&file, entry(KEY, "ci", "[default:write]", None)).unwrap();
    let yaml = format!(
        r#"
global:
  authorization:
    issuers:
      - issuer: {issuer}
        audience: [temporal]
        permissionsClaimName: realm_access.roles
        groupPermissions:
          writers: ["default:write"]
    apiKeys:
      file: {file}
"#,
        issuer = idp.issuer(),
        file = file.display()
    );
    let config = ConfigLoader::new()
        .source_name("frontend.yaml")
        .load_str(&yaml)
        .unwrap();
    let layer = AuthzLayer::from_config(&config).await.unwrap();
    assert_eq!(
        call(&layer, &format!("Bearer {KEY}")).await,
        tonic::Code::Ok
    );
    assert_eq!(
        call(&layer, "Bearer tak_wrong").await,
        tonic::Code::PermissionDenied
    );
    let token = |roles: serde_json::Value| {
        key.sign(
            "k",
            &json!({"iss": idp.issuer(), "sub": "u", "aud": "temporal", "exp": unix_now() + 60,
                    "realm_access": {"roles": roles}}),
        )
    };
    assert_eq!(
        call(&layer, &format!("Bearer {}", token(json!(["writers"])))).await,
        tonic::Code::Ok
    );
    assert_eq!(
        call(&layer, &format!("Bearer {}", token(json!(["readers"])))).await,
        tonic::Code::PermissionDenied
    );
}

#[tokio::test]
async fn new_keys_fail_closed_naming_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "- sha256: 12\n  subject: x\n").unwrap();
    let cases = [
        (
            "apiKeys:\n      file: \"\"",
            "global.authorization.apiKeys.file",
            "must not be blank".to_owned(),
        ),
        (
            "apiKeys:\n      file: /nonexistent/api-keys.yaml",
            "global.authorization.apiKeys.file",
            "/nonexistent/api-keys.yaml: cannot read: No such file or directory (os error 2)"
                .to_owned(),
        ),
        (
            &*format!("apiKeys:\n      file: {}", broken.display()),
            "global.authorization.apiKeys.file",
            format!(
                "{}: [0]: sha256: must be 64 hexadecimal digits",
                broken.display()
            ),
        ),
        (
            "issuers:\n      - issuer: \"\"",
            "global.authorization.issuers[0].issuer",
            "must not be blank".to_owned(),
        ),
        (
            "issuers:\n      - issuer: https://idp.example\n        keySourceURIs: [\" \"]",
            "global.authorization.issuers[0].keySourceURIs[0]",
            "must not be blank".to_owned(),
        ),
        (
            "issuers:\n      - issuer: https://idp.example\n        keySourceURIs: [file:///nonexistent]\n        subjectClaim: \"\"",
            "global.authorization.issuers[0].subjectClaim",
            "must not be blank".to_owned(),
        ),
        (
            "issuers:\n      - issuer: https://idp.example\n        keySourceURIs: [file:///nonexistent]\n        permissionsClaimName: a..b",
            "global.authorization.issuers[0].permissionsClaimName",
            "claim path \"a..b\" has an empty segment".to_owned(),
        ),
        (
            "issuers:\n      - issuer: https://idp.example\n        keySourceURIs: [file:///nonexistent]\n        permissionsRegex: \"(\"",
            "global.authorization.issuers[0].permissionsRegex",
            String::new(),
        ),
        (
            "issuers:\n      - issuer: https://idp.example\n        keySourceURIs: [file:///nonexistent]\n        groupPermissions:\n          admins: [\"ns:boss\"]",
            "global.authorization.issuers[0].groupPermissions.admins",
            "\"ns:boss\" is not `namespace:role` with role read, write, admin or worker".to_owned(),
        ),
        (
            "issuers:\n      - issuer: not a url",
            "global.authorization.issuers[0].issuer",
            "invalid issuer URL \"not a url\"".to_owned(),
        ),
        (
            "issuers:\n      - issuer: https://a.example\n        keySourceURIs: [file:///x]\n      - issuer: https://a.example\n        keySourceURIs: [file:///x]",
            "global.authorization.issuers[1].issuer",
            "issuer \"https://a.example\" is listed twice".to_owned(),
        ),
        (
            "issuers:\n      - issuer: https://idp.example\n        caFile: /nonexistent/ca.pem",
            "global.authorization.issuers[0].caFile",
            "cannot read /nonexistent/ca.pem: No such file or directory (os error 2)".to_owned(),
        ),
    ];
    for (section, key_path, message) in cases {
        let yaml = format!("global:\n  authorization:\n    {section}\n");
        let config = ConfigLoader::new()
            .source_name("frontend.yaml")
            .load_str(&yaml)
            .unwrap();
        let e = AuthzLayer::from_config(&config)
            .await
            .err()
            .unwrap_or_else(|| panic!("{section} must fail"));
        assert_eq!(e.key_path(), Some(key_path), "{section}");
        assert_eq!(
            e.file(),
            Some(std::path::Path::new("frontend.yaml")),
            "{section}"
        );
        assert!(
            e.message().starts_with(&message),
            "{section}: {} does not start with {message}",
            e.message()
        );
        assert!(matches!(
            e.kind(),
            ConfigErrorKind::Invalid | ConfigErrorKind::Build
        ));
    }
}
