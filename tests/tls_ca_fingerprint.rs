//! Certificate rules bound to their CA, over real mutual TLS on loopback: two trusted CAs
//! issue client certificates with the same subject, and a rule bound to one CA's fingerprint
//! grants to that CA's certificate only. The acceptor and the rules come from a YAML config
//! (`global.tls.frontend` and `certificateClaimRules[].caFingerprint`), as in production.

#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod common;

use std::net::SocketAddr;

use common::certs::{Ca, Leaf, b64};
use common::tls::tonic_tls;
use tokio::net::TcpListener;
use tonic_authz::config::Config;
use tonic_authz::tls::TlsAcceptor;
use tonic_authz::{
    AuthzLayer, CaFingerprint, CallTarget, CertificateClaimMapper, CertificateField,
    CertificateRule, Claims, Decision, Role,
};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// Serves health checks behind the layer with `mapper`; a call is allowed when its claims
/// carry the system admin role.
async fn serve(acceptor: &TlsAcceptor, mapper: CertificateClaimMapper) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = acceptor.incoming(listener);
    let authorizer = |claims: Option<&Claims>, _target: &CallTarget| {
        let allowed = claims.is_some_and(|c| c.system().contains(Role::ADMIN));
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
        let _reporter = _reporter;
        tonic::transport::Server::builder()
            .layer(layer)
            .serve_with_incoming(health, incoming)
            .await
            .unwrap();
    });
    addr
}

/// One health check with `client`'s certificate; the gRPC code.
async fn call(addr: SocketAddr, server_ca: &Ca, client: &Leaf) -> tonic::Code {
    let channel = tonic::transport::Endpoint::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tonic_tls(server_ca, "localhost", Some(client)))
        .unwrap()
        .connect()
        .await
        .unwrap();
    match HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
    {
        Ok(_) => tonic::Code::Ok,
        Err(status) => status.code(),
    }
}

/// `global.tls.frontend` trusting `cas`, and `rules` as YAML under `certificateClaimRules`.
fn config(server_ca: &Ca, cas: &[&Ca], rules: &str) -> Config {
    let server = server_ca.server(&["localhost"]);
    let cas: Vec<String> = cas
        .iter()
        .map(|ca| format!("\"{}\"", b64(&ca.pem)))
        .collect();
    let yaml = format!(
        "global:\n  tls:\n    frontend:\n      server:\n        certData: \"{}\"\n        \
         keyData: \"{}\"\n        clientCaData: [{}]\n        requireClientAuth: true\n  \
         authorization:\n    certificateClaimRules:\n{rules}",
        b64(&server.cert_pem),
        b64(&server.key_pem),
        cas.join(", "),
    );
    Config::load_str(&yaml).unwrap()
}

fn mapper(config: &Config) -> CertificateClaimMapper {
    CertificateClaimMapper::new(config.global.authorization.certificate_claim_rules.clone())
        .unwrap()
}

#[tokio::test]
async fn a_rule_bound_to_ca_a_grants_to_as_certificate_and_not_to_bs_twin() {
    let server_ca = Ca::new("server-ca");
    let ca_a = Ca::new("clients-a");
    let ca_b = Ca::new("clients-b");
    // The colon, upper-case form `openssl x509 -fingerprint -sha256` prints.
    let fingerprint_a = CaFingerprint::of_der(&ca_a.der)
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let rules = format!(
        "      - field: commonName\n        value: deployer\n        permissions: \
         [\"temporal-system:admin\"]\n        caFingerprint: \"{fingerprint_a}\"\n"
    );
    let config = config(&server_ca, &[&ca_a, &ca_b], &rules);
    let tls = config.frontend_tls().unwrap().unwrap();
    let addr = serve(tls.acceptor(), mapper(&config)).await;

    let from_a = ca_a.client("deployer");
    let from_b = ca_b.client("deployer");
    assert_eq!(call(addr, &server_ca, &from_a).await, tonic::Code::Ok);
    // Same subject, other trusted CA: the handshake succeeds, the bound rule does not match.
    assert_eq!(
        call(addr, &server_ca, &from_b).await,
        tonic::Code::PermissionDenied
    );
    // And the other way round: bound to B, only B's certificate is granted.
    let rule_b = CertificateRule::new(
        CertificateField::CommonName,
        "deployer",
        ["temporal-system:admin"],
    )
    .with_ca_fingerprint(CaFingerprint::of_der(&ca_b.der));
    let addr = serve(
        tls.acceptor(),
        CertificateClaimMapper::new(vec![rule_b]).unwrap(),
    )
    .await;
    assert_eq!(
        call(addr, &server_ca, &from_a).await,
        tonic::Code::PermissionDenied
    );
    assert_eq!(call(addr, &server_ca, &from_b).await, tonic::Code::Ok);
}

#[tokio::test]
async fn an_unbound_rule_grants_to_both_cas() {
    let server_ca = Ca::new("server-ca");
    let ca_a = Ca::new("clients-a");
    let ca_b = Ca::new("clients-b");
    let rules = "      - field: commonName\n        value: deployer\n        permissions: \
                 [\"temporal-system:admin\"]\n";
    let config = config(&server_ca, &[&ca_a, &ca_b], rules);
    let tls = config.frontend_tls().unwrap().unwrap();
    let addr = serve(tls.acceptor(), mapper(&config)).await;
    assert_eq!(
        call(addr, &server_ca, &ca_a.client("deployer")).await,
        tonic::Code::Ok
    );
    assert_eq!(
        call(addr, &server_ca, &ca_b.client("deployer")).await,
        tonic::Code::Ok
    );
    assert_eq!(
        call(addr, &server_ca, &ca_b.client("someone-else")).await,
        tonic::Code::PermissionDenied
    );
}

#[tokio::test]
async fn the_issuing_ca_travels_with_the_connection_and_is_unknown_without_our_ca_files() {
    let server_ca = Ca::new("server-ca");
    let ca_a = Ca::new("clients-a");
    let ca_b = Ca::new("clients-b");
    let rule = CertificateRule::new(
        CertificateField::CommonName,
        "deployer",
        ["temporal-system:admin"],
    )
    .with_ca_fingerprint(CaFingerprint::of_der(&ca_a.der));
    // A ready-made rustls config: the acceptor cannot tell which CA its verifier trusts, so
    // the connection carries no issuing CA and the bound rule fails closed.
    let config = config(&server_ca, &[&ca_a, &ca_b], "      []\n");
    let ready = config
        .frontend_tls()
        .unwrap()
        .unwrap()
        .acceptor()
        .server_config();
    let acceptor = TlsAcceptor::from_server_config(ready);
    let addr = serve(
        &acceptor,
        CertificateClaimMapper::new(vec![rule.clone()]).unwrap(),
    )
    .await;
    assert_eq!(
        call(addr, &server_ca, &ca_a.client("deployer")).await,
        tonic::Code::PermissionDenied
    );
    // The same config loaded from its CA data: A's certificate is granted.
    let tls = config.frontend_tls().unwrap().unwrap();
    let addr = serve(
        tls.acceptor(),
        CertificateClaimMapper::new(vec![rule]).unwrap(),
    )
    .await;
    assert_eq!(
        call(addr, &server_ca, &ca_a.client("deployer")).await,
        tonic::Code::Ok
    );
}

#[tokio::test]
async fn the_issuing_ca_is_the_configured_anchor_not_a_presented_intermediate() {
    let server_ca = Ca::new("server-ca");
    let root = Ca::new("clients-root");
    let intermediate = root.intermediate("clients-intermediate");
    let other = Ca::new("clients-other");
    let leaf = intermediate.client("deployer");
    // The client sends its leaf and the intermediate; only the root is configured.
    let with_chain = Leaf {
        cert_pem: format!("{}{}", leaf.cert_pem, intermediate.pem),
        ..leaf
    };
    let config = config(&server_ca, &[&root, &other], "      []\n");
    let tls = config.frontend_tls().unwrap().unwrap();
    let bound_to = |ca: &Ca| {
        CertificateClaimMapper::new(vec![
            CertificateRule::new(
                CertificateField::CommonName,
                "deployer",
                ["temporal-system:admin"],
            )
            .with_ca_fingerprint(CaFingerprint::of_der(&ca.der)),
        ])
        .unwrap()
    };
    let addr = serve(tls.acceptor(), bound_to(&root)).await;
    assert_eq!(call(addr, &server_ca, &with_chain).await, tonic::Code::Ok);
    // The intermediate the client presented is not a CA the server trusts: bound to it, the
    // rule matches nothing.
    let addr = serve(tls.acceptor(), bound_to(&intermediate)).await;
    assert_eq!(
        call(addr, &server_ca, &with_chain).await,
        tonic::Code::PermissionDenied
    );
}
