//! Server-side TLS end to end on 127.0.0.1: the handshake matrix of `requireClientAuth`, host
//! overrides by SNI, the client side's `serverName` check, and the verified peer identity
//! reaching a claim mapper, through our acceptor and through tonic's built-in TLS alike.

#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use common::certs::{Ca, b64, write};
use common::tls::{
    check, check_on, connect, refusal, rustls_client, serve, serve_builtin, server_cert, tonic_tls,
};
use rustls::AlertDescription;
use tonic_authz::tls::{GroupTls, TlsAcceptor};
use tonic_authz::{
    AuthInfo, CertificateClaimMapper, CertificateField, CertificateRule, ClaimMapper, Role,
};
use tonic_health::pb::health_check_response::ServingStatus;

/// A frontend group from JSON (the config shape operators write).
fn group(json: serde_json::Value) -> GroupTls {
    serde_json::from_value(json).unwrap()
}

struct Setup {
    _dir: tempfile::TempDir,
    server_ca: Ca,
    client_ca: Ca,
    group: GroupTls,
}

fn mtls_setup(require_client_auth: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let server_ca = Ca::new("server-ca");
    let client_ca = Ca::new("client-ca");
    let server = server_ca.server(&["localhost"]);
    let group = group(serde_json::json!({
        "server": {
            "certFile": write(dir.path(), "server.pem", &server.cert_pem),
            "keyFile": write(dir.path(), "server.key", &server.key_pem),
            "clientCaFiles": [write(dir.path(), "clients.pem", &client_ca.pem)],
            "requireClientAuth": require_client_auth,
        }
    }));
    Setup {
        _dir: dir,
        server_ca,
        client_ca,
        group,
    }
}

#[tokio::test]
async fn require_client_auth_refuses_a_client_without_certificate() {
    let s = mtls_setup(true);
    let served = serve(&TlsAcceptor::new(&s.group).unwrap()).await;
    let err = refusal(served.addr, rustls_client(&s.server_ca, None), "localhost").await;
    assert_eq!(
        err,
        Some(rustls::Error::AlertReceived(
            AlertDescription::CertificateRequired
        ))
    );
    let err = check(served.addr, tonic_tls(&s.server_ca, "localhost", None))
        .await
        .unwrap_err();
    // TLS 1.3: the client finishes first; the server's refusal ends the first call.
    assert_eq!(err, "Unknown: transport error");
    assert!(served.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn require_client_auth_refuses_a_certificate_from_another_ca() {
    let s = mtls_setup(true);
    let served = serve(&TlsAcceptor::new(&s.group).unwrap()).await;
    let stranger = Ca::new("other-ca").client("worker-1");
    let err = refusal(
        served.addr,
        rustls_client(&s.server_ca, Some(&stranger)),
        "localhost",
    )
    .await;
    assert_eq!(
        err,
        Some(rustls::Error::AlertReceived(AlertDescription::UnknownCA))
    );
    assert!(served.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn require_client_auth_refuses_an_expired_certificate() {
    let s = mtls_setup(true);
    let served = serve(&TlsAcceptor::new(&s.group).unwrap()).await;
    let expired = s
        .client_ca
        .leaf()
        .cn("worker-1")
        .client_auth()
        .expired()
        .sign();
    let err = refusal(
        served.addr,
        rustls_client(&s.server_ca, Some(&expired)),
        "localhost",
    )
    .await;
    assert_eq!(
        err,
        Some(rustls::Error::AlertReceived(
            AlertDescription::CertificateExpired
        ))
    );
}

#[tokio::test]
async fn require_client_auth_serves_a_valid_certificate_and_sees_its_subject() {
    let s = mtls_setup(true);
    let served = serve(&TlsAcceptor::new(&s.group).unwrap()).await;
    let client = s.client_ca.client("worker-1");
    assert_eq!(
        refusal(
            served.addr,
            rustls_client(&s.server_ca, Some(&client)),
            "localhost"
        )
        .await,
        None
    );
    let status = check(
        served.addr,
        tonic_tls(&s.server_ca, "localhost", Some(&client)),
    )
    .await
    .unwrap();
    assert_eq!(status, ServingStatus::Serving);
    let seen = served.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let (subject, conn) = seen[0].clone().unwrap();
    assert_eq!(subject.common_name, "worker-1");
    assert_eq!(conn.peer_certificates, vec![client.der.clone()]);
}

#[tokio::test]
async fn without_require_client_auth_serves_and_has_no_subject() {
    let s = mtls_setup(false);
    let served = serve(&TlsAcceptor::new(&s.group).unwrap()).await;
    // The client offers a certificate, but none is requested, so none is sent.
    let client = s.client_ca.client("worker-1");
    let status = check(
        served.addr,
        tonic_tls(&s.server_ca, "localhost", Some(&client)),
    )
    .await
    .unwrap();
    assert_eq!(status, ServingStatus::Serving);
    let status = check(served.addr, tonic_tls(&s.server_ca, "localhost", None))
        .await
        .unwrap();
    assert_eq!(status, ServingStatus::Serving);
    assert_eq!(*served.seen.lock().unwrap(), vec![None, None]);
}

#[tokio::test]
async fn the_acceptor_negotiates_h2_and_tls13() {
    let s = mtls_setup(false);
    let served = serve(&TlsAcceptor::new(&s.group).unwrap()).await;
    let stream =
        common::tls::handshake(served.addr, rustls_client(&s.server_ca, None), "localhost")
            .await
            .unwrap();
    let conn = stream.get_ref().1;
    assert_eq!(conn.alpn_protocol(), Some(&b"h2"[..]));
    assert_eq!(
        conn.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
}

#[tokio::test]
async fn a_stalled_handshake_does_not_block_others() {
    let s = mtls_setup(false);
    let acceptor = TlsAcceptor::new(&s.group).unwrap();
    let served = serve(&acceptor).await;
    // Connect and send nothing: the acceptor must keep serving other clients meanwhile.
    let _stalled = tokio::net::TcpStream::connect(served.addr).await.unwrap();
    let status = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        check(served.addr, tonic_tls(&s.server_ca, "localhost", None)),
    )
    .await
    .expect("served while another handshake stalls")
    .unwrap();
    assert_eq!(status, ServingStatus::Serving);
}

#[tokio::test]
async fn a_handshake_that_exceeds_the_timeout_is_dropped() {
    let s = mtls_setup(false);
    let acceptor = TlsAcceptor::new(&s.group)
        .unwrap()
        .with_handshake_timeout(std::time::Duration::from_millis(100));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tcp, _client) = tokio::join!(
        async { listener.accept().await.unwrap().0 },
        tokio::net::TcpStream::connect(addr)
    );
    let err = acceptor.accept(tcp).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert_eq!(err.to_string(), "tls handshake timed out");
}

#[tokio::test]
async fn subject_and_sans_reach_a_claim_mapper_exactly() {
    let s = mtls_setup(true);
    let served = serve(&TlsAcceptor::new(&s.group).unwrap()).await;
    let client = s
        .client_ca
        .leaf()
        .cn("worker-1")
        .org("Example")
        .ou("ops")
        .country("US")
        .province("CA")
        .locality("San Francisco")
        .dns("worker-1.example.com")
        .ip(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)))
        .uri("spiffe://example/ns/billing/sa/worker")
        .email("worker@example.com")
        .client_auth()
        .sign();
    let status = check(
        served.addr,
        tonic_tls(&s.server_ca, "localhost", Some(&client)),
    )
    .await
    .unwrap();
    assert_eq!(status, ServingStatus::Serving);
    let (subject, conn) = served.seen.lock().unwrap()[0].clone().unwrap();

    // The identity a claim mapper receives, as the authz layer builds it.
    let mut info = AuthInfo::default();
    info.tls_subject = Some(Arc::new(subject));
    info.tls_connection = Some(Arc::new(conn));
    let recorded = Arc::new(std::sync::Mutex::new(None));
    let rec = recorded.clone();
    let recorder = move |info: &AuthInfo| {
        *rec.lock().unwrap() = Some(info.clone());
        async { Ok(tonic_authz::Claims::new()) }
    };
    recorder.get_claims(&info).await.unwrap();
    let got = recorded.lock().unwrap().clone().unwrap();
    let subject = got.tls_subject.as_deref().unwrap();
    assert_eq!(subject.common_name, "worker-1");
    assert_eq!(subject.organization, vec!["Example"]);
    assert_eq!(subject.organizational_unit, vec!["ops"]);
    assert_eq!(subject.country, vec!["US"]);
    assert_eq!(subject.province, vec!["CA"]);
    assert_eq!(subject.locality, vec!["San Francisco"]);
    assert_eq!(
        subject.distinguished_name,
        "CN=worker-1, O=Example, OU=ops, C=US, ST=CA, L=San Francisco"
    );
    let conn = got.tls_connection.as_deref().unwrap();
    assert_eq!(conn.dns_names, vec!["worker-1.example.com"]);
    assert_eq!(
        conn.ip_addresses,
        vec![IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))]
    );
    assert_eq!(conn.uris, vec!["spiffe://example/ns/billing/sa/worker"]);
    assert_eq!(conn.emails, vec!["worker@example.com"]);
    assert_eq!(
        conn.spiffe_id(),
        Some("spiffe://example/ns/billing/sa/worker")
    );
    assert_eq!(conn.peer_certificates, vec![client.der.clone()]);

    // And the certificate claim mapper turns it into roles.
    let mapper = CertificateClaimMapper::new(vec![
        CertificateRule::new(
            CertificateField::Uri,
            "spiffe://example/ns/billing/*",
            ["billing:write"],
        ),
        CertificateRule::new(CertificateField::CommonName, "worker-*", ["billing:worker"]),
        CertificateRule::new(
            CertificateField::OrganizationalUnit,
            "ops",
            ["temporal-system:read"],
        ),
        CertificateRule::new(
            CertificateField::DnsName,
            "other.example.com",
            ["other:admin"],
        ),
    ])
    .unwrap();
    let claims = mapper.get_claims(&info).await.unwrap();
    assert_eq!(claims.subject(), "worker-1");
    assert_eq!(claims.auth_type(), "certificate");
    assert_eq!(claims.system(), Role::READER);
    assert_eq!(
        claims.namespace_role("billing"),
        Role::WRITER | Role::WORKER
    );
    assert_eq!(claims.namespaces().len(), 1);
}

#[tokio::test]
async fn tonic_builtin_tls_gives_the_same_peer_identity() {
    let server_ca = Ca::new("server-ca");
    let client_ca = Ca::new("client-ca");
    let server = server_ca.server(&["localhost"]);
    let tls = tonic::transport::ServerTlsConfig::new()
        .identity(tonic::transport::Identity::from_pem(
            &server.cert_pem,
            &server.key_pem,
        ))
        .client_ca_root(tonic::transport::Certificate::from_pem(&client_ca.pem));
    let served = serve_builtin(tls).await;
    let client = client_ca
        .leaf()
        .cn("worker-2")
        .uri("spiffe://example/ns/default/sa/w2")
        .client_auth()
        .sign();
    let status = check(
        served.addr,
        tonic_tls(&server_ca, "localhost", Some(&client)),
    )
    .await
    .unwrap();
    assert_eq!(status, ServingStatus::Serving);
    let (subject, conn) = served.seen.lock().unwrap()[0].clone().unwrap();
    assert_eq!(subject.common_name, "worker-2");
    assert_eq!(conn.spiffe_id(), Some("spiffe://example/ns/default/sa/w2"));
}

#[tokio::test]
async fn host_overrides_pick_certificate_and_client_auth_by_sni() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("server-ca");
    let client_ca = Ca::new("client-ca");
    let default_cert = ca.server(&["localhost"]);
    let api_cert = ca.server(&["api.example.com"]);
    let g = group(serde_json::json!({
        "server": {
            "certData": b64(&default_cert.cert_pem),
            "keyData": b64(&default_cert.key_pem),
        },
        "hostOverrides": {
            "API.example.com": {
                "certFile": write(dir.path(), "api.pem", &api_cert.cert_pem),
                "keyFile": write(dir.path(), "api.key", &api_cert.key_pem),
                "clientCaData": [b64(&client_ca.pem)],
                "requireClientAuth": true,
            }
        }
    }));
    let acceptor = TlsAcceptor::new(&g).unwrap();
    let served = serve(&acceptor).await;
    let client = client_ca.client("worker-1");

    // The override's certificate, and its client-certificate requirement.
    assert_eq!(
        server_cert(
            served.addr,
            rustls_client(&ca, Some(&client)),
            "api.example.com"
        )
        .await,
        api_cert.der
    );
    assert_eq!(
        refusal(served.addr, rustls_client(&ca, None), "api.example.com").await,
        Some(rustls::Error::AlertReceived(
            AlertDescription::CertificateRequired
        ))
    );
    let status = check(
        served.addr,
        tonic_tls(&ca, "api.example.com", Some(&client)),
    )
    .await
    .unwrap();
    assert_eq!(status, ServingStatus::Serving);

    // Any other name: the default certificate and no client certificate needed (nothing
    // inherited either way).
    assert_eq!(
        server_cert(served.addr, rustls_client(&ca, None), "localhost").await,
        default_cert.der
    );
    assert_eq!(
        refusal(served.addr, rustls_client(&ca, None), "localhost").await,
        None
    );
    let status = check(served.addr, tonic_tls(&ca, "localhost", None))
        .await
        .unwrap();
    assert_eq!(status, ServingStatus::Serving);
    let seen = served.seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].as_ref().unwrap().0.common_name, "worker-1");
    assert_eq!(seen[1], None);
}

#[tokio::test]
async fn client_side_checks_server_name() {
    let s = mtls_setup(false);
    let served = serve(&TlsAcceptor::new(&s.group).unwrap()).await;
    let client_group = |server_name: &str| {
        group(serde_json::json!({
            "client": { "serverName": server_name, "rootCaData": [b64(&s.server_ca.pem)] }
        }))
    };

    // Wrong name: the client refuses the server (rustls config and tonic config alike).
    let wrong = client_group("evil.example.com");
    let config = wrong.client_config().unwrap().unwrap();
    let err = common::tls::handshake(served.addr, config, &wrong.client.server_name)
        .await
        .unwrap_err();
    let err = err
        .get_ref()
        .unwrap()
        .downcast_ref::<rustls::Error>()
        .unwrap();
    assert!(
        matches!(
            err,
            rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                    | rustls::CertificateError::NotValidForNameContext { .. }
            )
        ),
        "{err:?}"
    );
    let err = connect(served.addr, wrong.client_tls_config().unwrap().unwrap())
        .await
        .unwrap_err();
    assert!(err.contains("NotValidForName"), "{err}");

    // Right name: served.
    let right = client_group("localhost");
    let config = right.client_config().unwrap().unwrap();
    assert_eq!(refusal(served.addr, config, "localhost").await, None);
    let channel = connect(served.addr, right.client_tls_config().unwrap().unwrap())
        .await
        .unwrap();
    assert_eq!(check_on(&channel).await.unwrap(), ServingStatus::Serving);

    // Another CA's roots: refused too.
    let other = group(serde_json::json!({
        "client": { "serverName": "localhost", "rootCaData": [b64(&Ca::new("x").pem)] }
    }));
    let err = common::tls::handshake(
        served.addr,
        other.client_config().unwrap().unwrap(),
        "localhost",
    )
    .await
    .unwrap_err();
    let err = err
        .get_ref()
        .unwrap()
        .downcast_ref::<rustls::Error>()
        .unwrap();
    assert_eq!(
        *err,
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
    );
}

#[tokio::test]
async fn internode_client_presents_the_internode_server_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("internode-ca");
    let node = ca
        .leaf()
        .cn("history-1")
        .dns("localhost")
        .server_auth()
        .client_auth()
        .sign();
    let internode = group(serde_json::json!({
        "server": {
            "certFile": write(dir.path(), "node.pem", &node.cert_pem),
            "keyFile": write(dir.path(), "node.key", &node.key_pem),
            "clientCaFiles": [write(dir.path(), "ca.pem", &ca.pem)],
            "requireClientAuth": true,
        },
        "client": { "serverName": "localhost", "rootCaFiles": [write(dir.path(), "ca2.pem", &ca.pem)] }
    }));
    let served = serve(&TlsAcceptor::new(&internode).unwrap()).await;
    let channel = connect(served.addr, internode.client_tls_config().unwrap().unwrap())
        .await
        .unwrap();
    assert_eq!(check_on(&channel).await.unwrap(), ServingStatus::Serving);
    let config = internode.client_config().unwrap().unwrap();
    assert_eq!(refusal(served.addr, config, "localhost").await, None);
    let seen = served.seen.lock().unwrap();
    assert_eq!(seen[0].as_ref().unwrap().0.common_name, "history-1");
}

#[tokio::test]
async fn disable_host_verification_trusts_any_server() {
    let s = mtls_setup(false);
    let served = serve(&TlsAcceptor::new(&s.group).unwrap()).await;
    let g = group(serde_json::json!({
        "client": { "serverName": "evil.example.com", "disableHostVerification": true, "forceTLS": true }
    }));
    let config = g.client_config().unwrap().unwrap();
    assert_eq!(refusal(served.addr, config, "evil.example.com").await, None);
    let err = g.client_tls_config().unwrap_err();
    assert_eq!(err.field(), "client.disableHostVerification");
}

#[tokio::test]
async fn client_tls_off_gives_no_config() {
    let g = GroupTls::default();
    assert!(g.client_config().unwrap().is_none());
    assert!(g.client_tls_config().unwrap().is_none());
}

#[tokio::test]
async fn idle_connections_from_one_address_do_not_starve_a_real_client() {
    let s = mtls_setup(false);
    let acceptor = TlsAcceptor::new(&s.group).unwrap();
    let served = serve(&acceptor).await;
    // 2 000 connections that never speak, all from one loopback address (127.0.0.2)...
    let mut idle = Vec::with_capacity(2000);
    for _ in 0..2000 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        let stream = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            socket.connect(served.addr),
        )
        .await
        .expect("connected in time")
        .unwrap();
        idle.push(stream);
    }
    // ...and a real client from another (127.0.0.1) still completes its handshake and call.
    let status = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        check(served.addr, tonic_tls(&s.server_ca, "localhost", None)),
    )
    .await
    .expect("served within 2 s while 2 000 idle connections are open")
    .unwrap();
    assert_eq!(status, ServingStatus::Serving);
    drop(idle);
}
