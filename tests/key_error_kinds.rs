//! `KeyError::kind()` tells apart what went wrong with keys: a bad key, a bad key-set
//! document, a bad source URI, a source that cannot be read. Real documents, a real loopback
//! HTTP server and real files.

#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

use tonic_authz_testkit::jwks_server;
use tonic_authz_testkit::jwt as jwt_keys;

use std::time::Duration;

use jwks_server::{JwksServer, Reply};
use jwt_keys::{jwks, rsa};
use tonic_authz::{JwksKeyProvider, KeyErrorKind, StaticKeyProvider, VerificationKey};

#[test]
fn a_malformed_key_is_invalid_key() {
    let err = VerificationKey::from_jwk(r#"{"kty":"RSA","kid":"r1"}"#).unwrap_err();
    assert_eq!(err.kind(), KeyErrorKind::InvalidKey);
    assert_eq!(err.message(), "missing \"n\"");
    let err = VerificationKey::insecure_hmac_secret(b"short").unwrap_err();
    assert_eq!(err.kind(), KeyErrorKind::InvalidKey);
}

#[test]
fn a_document_without_keys_is_invalid_key_set() {
    let err = StaticKeyProvider::from_jwks(r#"{"error":"unavailable"}"#).unwrap_err();
    assert_eq!(err.kind(), KeyErrorKind::InvalidKeySet);
    let err = StaticKeyProvider::from_jwks("<html>").unwrap_err();
    assert_eq!(err.kind(), KeyErrorKind::InvalidKeySet);
    // The twin: a well-formed document is accepted.
    assert_eq!(
        StaticKeyProvider::from_jwks(&jwks(&[rsa().jwk_with_kid("r1")]))
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_bad_source_uri_is_invalid_source() {
    for uri in [
        "ftp://keys.example/jwks.json",
        "not a uri",
        "file://remote/jwks.json",
    ] {
        let err = JwksKeyProvider::builder()
            .uri(uri)
            .build()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), KeyErrorKind::InvalidSource, "{uri}");
    }
}

#[tokio::test]
async fn an_unreadable_source_is_fetch_and_a_bad_document_is_not() {
    let server = JwksServer::start(Reply::json(jwks(&[rsa().jwk_with_kid("r1")]))).await;
    let keys = JwksKeyProvider::builder()
        .uri(server.uri())
        .refresh_interval(Duration::ZERO)
        .build()
        .await
        .unwrap();
    assert_eq!(keys.keys_loaded(), 1);

    server.set_reply(Reply::status(503, "down"));
    assert_eq!(
        keys.refresh().await.unwrap_err().kind(),
        KeyErrorKind::Fetch
    );
    server.set_reply(Reply::json("<html>oops</html>"));
    let err = keys.refresh().await.unwrap_err();
    assert_eq!(err.kind(), KeyErrorKind::InvalidKeySet);

    let dir = tempfile::tempdir().unwrap();
    let err = StaticKeyProvider::new()
        .with_pem_file("k1", dir.path().join("absent.pem"))
        .unwrap_err();
    assert_eq!(err.kind(), KeyErrorKind::Fetch);
}
