//! The peer identity lives with the connection: the acceptor parses the client certificate
//! once per connection, every call on that connection shares the parsed identity, another
//! connection gets its own, and the service behind the layer still finds tonic's TLS connect
//! info (peer certificates and remote address).

#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use common::certs::{Ca, Leaf, b64};
use common::tls::tonic_tls;
use rustls::pki_types::CertificateDer;
use tokio::net::TcpListener;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tonic_authz::tls::{GroupTls, PeerConnectInfo, TlsAcceptor};
use tonic_authz::{AuthInfo, AuthzLayer, CallTarget, Claims, Decision, TlsSubject};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// What the service behind the layer saw: tonic's peer certificates and remote address, and
/// how many connection infos the request carried.
type Behind = (
    Option<Vec<CertificateDer<'static>>>,
    Option<SocketAddr>,
    usize,
);

/// Records what `tonic::Request::peer_certs` and `remote_addr` read: tonic's TLS connect info.
fn record(behind: &Mutex<Vec<Behind>>, req: &http::Request<tonic::body::Body>) {
    let info = req.extensions().get::<TlsConnectInfo<TcpConnectInfo>>();
    let certs = info.and_then(|i| i.peer_certs()).map(|c| c.to_vec());
    let remote = info.and_then(|i| i.get_ref().remote_addr());
    let infos = usize::from(info.is_some())
        + usize::from(req.extensions().get::<PeerConnectInfo>().is_some());
    behind.lock().unwrap().push((certs, remote, infos));
}

struct Setup {
    addr: SocketAddr,
    server_ca: Ca,
    client_ca: Ca,
    /// The subject each call's claim mapper received.
    subjects: Arc<Mutex<Vec<Arc<TlsSubject>>>>,
    behind: Arc<Mutex<Vec<Behind>>>,
}

async fn serve() -> Setup {
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

    let subjects = Arc::new(Mutex::new(Vec::new()));
    let seen = subjects.clone();
    let mapper = move |info: &AuthInfo| {
        if let Some(subject) = &info.tls_subject {
            seen.lock().unwrap().push(Arc::clone(subject));
        }
        let claims = Claims::new().with_subject(
            info.tls_subject
                .as_ref()
                .map_or("", |s| s.common_name.as_str()),
        );
        async move { Ok(claims) }
    };
    let authorizer = |claims: Option<&Claims>, _target: &CallTarget| {
        let allowed = claims.is_some_and(|c| c.subject() == "worker-1");
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
    let behind = Arc::new(Mutex::new(Vec::new()));
    let log = behind.clone();
    let recorder =
        tower::util::MapRequestLayer::new(move |req: http::Request<tonic::body::Body>| {
            record(&log, &req);
            req
        });
    let (_reporter, health) = tonic_health::server::health_reporter();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(layer)
            .layer(recorder)
            .serve_with_incoming(health, incoming)
            .await
            .unwrap();
    });
    Setup {
        addr,
        server_ca,
        client_ca,
        subjects,
        behind,
    }
}

async fn channel(s: &Setup, leaf: &Leaf) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(format!("https://{}", s.addr))
        .unwrap()
        .tls_config(tonic_tls(&s.server_ca, "localhost", Some(leaf)))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

async fn check(channel: &tonic::transport::Channel) -> Result<(), tonic::Status> {
    HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .map(|_| ())
}

#[tokio::test]
async fn calls_on_one_connection_share_one_parsed_identity() {
    let s = serve().await;
    let leaf = s.client_ca.client("worker-1");
    let first = channel(&s, &leaf).await;
    check(&first).await.unwrap();
    check(&first).await.unwrap();
    let second = channel(&s, &leaf).await;
    check(&second).await.unwrap();

    let subjects = s.subjects.lock().unwrap();
    assert_eq!(subjects.len(), 3);
    assert!(subjects.iter().all(|x| x.common_name == "worker-1"));
    // Parsed once per connection: the same allocation for both calls on the first connection,
    // a separate one for the second connection.
    assert!(Arc::ptr_eq(&subjects[0], &subjects[1]));
    assert!(!Arc::ptr_eq(&subjects[0], &subjects[2]));
}

#[tokio::test]
async fn the_service_behind_the_layer_sees_tonics_tls_connect_info() {
    let s = serve().await;
    let leaf = s.client_ca.client("worker-1");
    check(&channel(&s, &leaf).await).await.unwrap();

    let behind = s.behind.lock().unwrap();
    assert_eq!(behind.len(), 1);
    let (certs, remote, infos) = behind[0].clone();
    assert_eq!(certs, Some(vec![leaf.der.clone()]));
    // The acceptor's own connect info was taken out: tonic's is there in its place.
    assert_eq!(infos, 1);
    let remote = remote.unwrap();
    assert!(remote.ip().is_loopback());
    assert_ne!(remote.port(), s.addr.port());
}

#[tokio::test]
async fn a_denied_caller_never_reaches_the_service() {
    let s = serve().await;
    let other = s.client_ca.client("worker-2");
    let status = check(&channel(&s, &other).await).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    assert_eq!(status.message(), "Request unauthorized.");
    assert!(s.behind.lock().unwrap().is_empty());
    let subjects = s.subjects.lock().unwrap();
    assert_eq!(subjects.len(), 1);
    assert_eq!(subjects[0].common_name, "worker-2");
}
