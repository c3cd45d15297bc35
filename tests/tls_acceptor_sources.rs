//! The acceptor's other sources besides a Temporal `GroupTls`: PEM files named in code
//! (with and without client CAs), and a rustls `ServerConfig` built elsewhere. Real handshakes
//! and health checks on 127.0.0.1; each accepted client has its refused twin.

#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

mod common;

use std::sync::Arc;

use common::certs::{Ca, write};
use common::tls::{check, refusal, rustls_client, serve, tonic_tls};
use rustls::AlertDescription;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject as _;
use tonic_authz::tls::{TlsAcceptor, TlsErrorKind};
use tonic_health::pb::health_check_response::ServingStatus;

#[tokio::test]
async fn pem_files_with_client_cas_require_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let server_ca = Ca::new("server-ca");
    let client_ca = Ca::new("client-ca");
    let server = server_ca.server(&["localhost"]);
    let acceptor = TlsAcceptor::from_pem_files(
        write(dir.path(), "server.pem", &server.cert_pem),
        write(dir.path(), "server.key", &server.key_pem),
        [write(dir.path(), "clients.pem", &client_ca.pem)],
    )
    .unwrap();
    let served = serve(&acceptor).await;

    let client = client_ca.client("worker-1");
    let status = check(
        served.addr,
        tonic_tls(&server_ca, "localhost", Some(&client)),
    )
    .await
    .unwrap();
    assert_eq!(status, ServingStatus::Serving);
    let seen = served.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].as_ref().unwrap().0.common_name, "worker-1");

    let err = refusal(served.addr, rustls_client(&server_ca, None), "localhost").await;
    assert_eq!(
        err,
        Some(rustls::Error::AlertReceived(
            AlertDescription::CertificateRequired
        ))
    );
}

#[tokio::test]
async fn pem_files_without_client_cas_ask_for_no_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let server_ca = Ca::new("server-ca");
    let server = server_ca.server(&["localhost"]);
    let acceptor = TlsAcceptor::from_pem_files(
        write(dir.path(), "server.pem", &server.cert_pem),
        write(dir.path(), "server.key", &server.key_pem),
        Vec::<String>::new(),
    )
    .unwrap();
    let served = serve(&acceptor).await;
    let client = Ca::new("client-ca").client("worker-1");
    let status = check(
        served.addr,
        tonic_tls(&server_ca, "localhost", Some(&client)),
    )
    .await
    .unwrap();
    assert_eq!(status, ServingStatus::Serving);
    // Offered, but never requested: the call has no verified peer.
    assert_eq!(*served.seen.lock().unwrap(), [None]);
}

#[tokio::test]
async fn a_missing_pem_file_is_a_read_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.pem");
    let err = TlsAcceptor::from_pem_files(&missing, &missing, Vec::<String>::new()).unwrap_err();
    assert_eq!(err.kind(), TlsErrorKind::Read);
    assert_eq!(err.path(), Some(missing.as_path()));
}

#[tokio::test]
async fn a_rustls_server_config_is_served_as_is_with_h2() {
    let server_ca = Ca::new("server-ca");
    let server = server_ca.server(&["localhost"]);
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![server.der.clone()],
            PrivateKeyDer::from_pem_slice(server.key_pem.as_bytes()).unwrap(),
        )
        .unwrap();
    assert!(config.alpn_protocols.is_empty());
    let acceptor = TlsAcceptor::from_server_config(Arc::new(config));
    assert_eq!(acceptor.server_config().alpn_protocols, [b"h2".to_vec()]);
    // Nothing to re-read: a reload changes nothing.
    assert!(!acceptor.reload_now().unwrap());

    let served = serve(&acceptor).await;
    let status = check(served.addr, tonic_tls(&server_ca, "localhost", None))
        .await
        .unwrap();
    assert_eq!(status, ServingStatus::Serving);
    // A client that does not trust the server's CA is refused in the handshake.
    let stranger = Ca::new("other-ca");
    let err = check(served.addr, tonic_tls(&stranger, "localhost", None))
        .await
        .unwrap_err();
    assert!(err.contains("UnknownIssuer"), "{err}");
}
