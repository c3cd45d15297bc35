//! Mutual TLS through the authorization layer: a certificate-only call (no token) reaches the
//! certificate claim mapper via our acceptor, and its roles decide the call.

#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod common;

use common::certs::{Ca, b64};
use common::tls::tonic_tls;
use tokio::net::TcpListener;
use tonic_authz::tls::{GroupTls, TlsAcceptor};
use tonic_authz::{
    AuthzLayer, CallTarget, CertificateClaimMapper, CertificateField, CertificateRule, Claims,
    Decision, Role,
};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[tokio::test]
async fn certificate_only_calls_are_authorized_by_their_certificate() {
    let server_ca = Ca::new("server-ca");
    let client_ca = Ca::new("client-ca");
    let server = server_ca.server(&["localhost"]);
    let group: GroupTls = serde_json::from_value(serde_json::json!({ "server": {
        "certData": b64(&server.cert_pem),
        "keyData": b64(&server.key_pem),
        "clientCaData": [b64(&client_ca.pem)],
        "requireClientAuth": true,
    }}))
    .unwrap();
    let acceptor = TlsAcceptor::new(&group).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = acceptor.incoming(listener);

    let mapper = CertificateClaimMapper::new(vec![CertificateRule::new(
        CertificateField::Uri,
        "spiffe://example/ns/billing/*",
        ["billing:write"],
    )])
    .unwrap();
    let authorizer = |claims: Option<&Claims>, _target: &CallTarget| {
        let allowed = claims.is_some_and(|c| {
            c.auth_type() == "certificate"
                && c.subject() == "worker-1"
                && c.namespace_role("billing").contains(Role::WRITER)
        });
        async move {
            Ok(if allowed {
                Decision::Allow
            } else {
                Decision::deny()
            })
        }
    };
    let layer = AuthzLayer::builder()
        .claim_mapper(mapper)
        .authorizer(authorizer)
        .build();
    let (_reporter, health) = tonic_health::server::health_reporter();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(layer)
            .serve_with_incoming(health, incoming)
            .await
            .unwrap();
    });

    let call = |leaf: common::certs::Leaf| {
        let tls = tonic_tls(&server_ca, "localhost", Some(&leaf));
        async move {
            let channel = tonic::transport::Endpoint::from_shared(format!("https://{addr}"))
                .unwrap()
                .tls_config(tls)
                .unwrap()
                .connect()
                .await
                .unwrap();
            HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
        }
    };

    let allowed = client_ca
        .leaf()
        .cn("worker-1")
        .uri("spiffe://example/ns/billing/sa/worker")
        .client_auth()
        .sign();
    let resp = call(allowed).await.unwrap();
    assert_eq!(resp.into_inner().status(), ServingStatus::Serving);

    // Same CA, no matching rule: the mapper gives no roles, the authorizer denies.
    let other = client_ca
        .leaf()
        .cn("worker-1")
        .uri("spiffe://example/ns/payments/sa/worker")
        .client_auth()
        .sign();
    let status = call(other).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    assert_eq!(status.message(), "Request unauthorized.");
}
