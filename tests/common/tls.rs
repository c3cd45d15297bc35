//! A real tonic server (the health service) behind a TLS acceptor on 127.0.0.1, recording the
//! peer identity each call arrives with, and raw rustls clients to probe handshakes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use rustls::pki_types::ServerName;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tonic_authz::tls::{PeerConnectInfo, TlsAcceptor};
use tonic_authz::{TlsConnection, TlsSubject, peer_identity};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use super::certs::{Ca, Leaf};

/// What one call saw: `None` when it had no verified client certificate.
pub type Seen = Option<(TlsSubject, TlsConnection)>;

/// A running server and the identities its calls carried.
pub struct Served {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

/// The interceptor that reads the peer identity as the authz layer does: parsed once per
/// connection by the acceptor, or from the chain in tonic's own TLS connect info.
#[derive(Clone)]
struct Recorder(Arc<Mutex<Vec<Seen>>>);

impl tonic::service::Interceptor for Recorder {
    fn call(&mut self, req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let identity = match req.extensions().get::<PeerConnectInfo>() {
            Some(info) => info.peer_identity().map(|p| {
                (
                    TlsSubject::clone(p.subject()),
                    TlsConnection::clone(p.connection()),
                )
            }),
            None => req
                .extensions()
                .get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|info| info.peer_certs())
                .and_then(|chain| peer_identity(&chain)),
        };
        self.0.lock().unwrap().push(identity);
        Ok(req)
    }
}

fn recording_layer(seen: Arc<Mutex<Vec<Seen>>>) -> tonic::service::InterceptorLayer<Recorder> {
    tonic::service::InterceptorLayer::new(Recorder(seen))
}

/// Serves the health service behind `acceptor`.
pub async fn serve(acceptor: &TlsAcceptor) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = acceptor.incoming(listener);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (_reporter, health) = tonic_health::server::health_reporter();
    let layer = recording_layer(seen.clone());
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(layer)
            .serve_with_incoming(health, incoming)
            .await
            .unwrap();
    });
    Served { addr, seen }
}

/// Serves the health service with tonic's own TLS (`ServerTlsConfig`).
pub async fn serve_builtin(tls: tonic::transport::ServerTlsConfig) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (_reporter, health) = tonic_health::server::health_reporter();
    let layer = recording_layer(seen.clone());
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .tls_config(tls)
            .unwrap()
            .layer(layer)
            .serve_with_incoming(health, incoming)
            .await
            .unwrap();
    });
    Served { addr, seen }
}

/// tonic's client TLS config trusting `ca`, for `domain`, with an optional client cert.
pub fn tonic_tls(
    ca: &Ca,
    domain: &str,
    client: Option<&Leaf>,
) -> tonic::transport::ClientTlsConfig {
    let mut tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(&ca.pem))
        .domain_name(domain);
    if let Some(leaf) = client {
        tls = tls.identity(tonic::transport::Identity::from_pem(
            &leaf.cert_pem,
            &leaf.key_pem,
        ));
    }
    tls
}

/// One health check over a fresh channel.
pub async fn check(
    addr: SocketAddr,
    tls: tonic::transport::ClientTlsConfig,
) -> Result<ServingStatus, String> {
    let channel = connect(addr, tls).await?;
    check_on(&channel).await
}

/// A channel (one HTTP/2 connection) to `addr`.
pub async fn connect(
    addr: SocketAddr,
    tls: tonic::transport::ClientTlsConfig,
) -> Result<tonic::transport::Channel, String> {
    tonic::transport::Endpoint::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tls)
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("{e:?}"))
}

/// One health check on an existing channel.
pub async fn check_on(channel: &tonic::transport::Channel) -> Result<ServingStatus, String> {
    let resp = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .map_err(|s| format!("{:?}: {}", s.code(), s.message()))?;
    Ok(resp.into_inner().status())
}

/// A raw rustls client config trusting `ca`, with an optional client cert.
pub fn rustls_client(ca: &Ca, client: Option<&Leaf>) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der.clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match client {
        Some(leaf) => builder
            .with_client_auth_cert(
                vec![leaf.der.clone()],
                rustls::pki_types::PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    config
}

use rustls::pki_types::pem::PemObject as _;

/// Handshakes with `sni`; returns the connection (to inspect the server certificate).
pub async fn handshake(
    addr: SocketAddr,
    config: rustls::ClientConfig,
    sni: &str,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    connector
        .connect(ServerName::try_from(sni.to_owned()).unwrap(), tcp)
        .await
}

/// The server certificate a handshake with `sni` presents.
pub async fn server_cert(
    addr: SocketAddr,
    config: rustls::ClientConfig,
    sni: &str,
) -> rustls::pki_types::CertificateDer<'static> {
    let stream = handshake(addr, config, sni).await.unwrap();
    stream.get_ref().1.peer_certificates().unwrap()[0].clone()
}

/// Handshakes and reads: the TLS error that ended the connection (the server's alert, when it
/// refuses the client certificate after a TLS 1.3 handshake), or `None` if the connection
/// stayed open.
pub async fn refusal(
    addr: SocketAddr,
    config: rustls::ClientConfig,
    sni: &str,
) -> Option<rustls::Error> {
    let to_rustls = |e: std::io::Error| {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .cloned()
            .unwrap_or_else(|| rustls::Error::General(e.to_string()))
    };
    let mut stream = match handshake(addr, config, sni).await {
        Ok(s) => s,
        Err(e) => return Some(to_rustls(e)),
    };
    let mut buf = [0u8; 64];
    match tokio::time::timeout(std::time::Duration::from_millis(500), stream.read(&mut buf)).await {
        Ok(Err(e)) => Some(to_rustls(e)),
        Ok(Ok(0)) => Some(rustls::Error::General("closed".into())),
        // The server sent data (HTTP/2 settings) or waited: the handshake was accepted.
        Ok(Ok(_)) | Err(_) => None,
    }
}
