//! Every sample configuration builds, and the server it builds enforces what the sample says:
//! `AuthzLayer::from_config` and `Config::frontend_tls` from YAML alone, served on loopback,
//! called by real tonic clients with real tokens and real client certificates.
//!
//! The samples name their files through `${TONIC_AUTHZ_CERT_DIR}` and `${TONIC_AUTHZ_JWKS_URI}`;
//! this test points those at certificates and a key set it makes in a temporary directory.

// A failed unwrap here is a failed test, with the error in its message.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use common::certs::{Ca, Leaf, write};
use common::jwt::{SigningKey, now};
use common::tls::tonic_tls;
use tokio::net::TcpListener;
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint, Server};
use tonic_authz::AuthzLayer;
use tonic_authz::config::{Config, ConfigErrorKind, ConfigLoader};

const START_WORKFLOW: &str =
    "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";

/// The namespace field of Temporal's `StartWorkflowExecutionRequest` (field 1).
#[derive(Clone, PartialEq, prost::Message)]
struct StartWorkflowExecutionRequest {
    #[prost(string, tag = "1")]
    namespace: String,
}

/// What a sample's variables point at: a CA, the server's certificate, a JWT key set.
struct Fixture {
    dir: tempfile::TempDir,
    ca: Ca,
    signing_key: SigningKey,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("tonic-authz test CA");
        let server = ca.server(&["localhost", "127.0.0.1"]);
        write(dir.path(), "server.pem", &server.cert_pem);
        write(dir.path(), "server.key", &server.key_pem);
        write(dir.path(), "ca.pem", &ca.pem);

        let signing_key = SigningKey::es256("test-key");
        write(dir.path(), "jwks.json", signing_key.jwks());
        Fixture {
            dir,
            ca,
            signing_key,
        }
    }

    fn cert_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    fn load(&self, sample: &str) -> Config {
        let cert_dir = self.cert_dir().to_string_lossy().into_owned();
        let jwks_uri = format!("file://{cert_dir}/jwks.json");
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/config")
            .join(sample);
        ConfigLoader::new()
            .env(move |name| match name {
                "TONIC_AUTHZ_CERT_DIR" => Some(cert_dir.clone()),
                "TONIC_AUTHZ_JWKS_URI" => Some(jwks_uri.clone()),
                _ => None,
            })
            .load_file(path)
            .unwrap_or_else(|e| panic!("{sample}: {e}"))
    }

    /// A token for `permissions`, with the audience and issuer the samples require.
    fn token(&self, permissions: &[&str]) -> String {
        let now = now();
        let claims = serde_json::json!({
            "sub": "test-user",
            "iss": "https://issuer.example/",
            "aud": "temporal-frontend",
            "iat": now,
            "exp": now + 600,
            "permissions": permissions,
        });
        self.signing_key.sign(&claims)
    }
}

/// Serves the health service behind the layer (and TLS) built from `config` on 127.0.0.1:0.
/// Calls to other methods pass the layer and then get UNIMPLEMENTED from the health server, so
/// UNIMPLEMENTED means "allowed" and PERMISSION_DENIED means "denied by the layer".
async fn serve(config: &Config) -> SocketAddr {
    let layer = AuthzLayer::from_config(config).await.unwrap();
    let tls = config.frontend_tls().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_reporter, health) = tonic_health::server::health_reporter();
    tokio::spawn(async move {
        let server = Server::builder().layer(layer);
        match tls {
            Some(tls) => {
                let incoming = tls.acceptor().incoming(listener);
                // `tls` lives as long as the server: it owns the certificate reloader.
                let _tls = tls;
                server.serve_with_incoming(health, incoming).await.unwrap();
            }
            None => {
                let incoming = tonic::transport::server::TcpIncoming::from(listener);
                server.serve_with_incoming(health, incoming).await.unwrap();
            }
        }
    });
    addr
}

async fn plain_channel(addr: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

async fn tls_channel(addr: SocketAddr, ca: &Ca, client: Option<&Leaf>) -> Result<Channel, String> {
    Endpoint::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tonic_tls(ca, "localhost", client))
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("{e:?}"))
}

/// Calls StartWorkflowExecution in `namespace`; returns the status code and message.
async fn start_workflow(channel: &Channel, namespace: &str, token: Option<&str>) -> (Code, String) {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    let mut request = tonic::Request::new(StartWorkflowExecutionRequest {
        namespace: namespace.to_owned(),
    });
    if let Some(token) = token {
        let value: MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
        request.metadata_mut().insert("authorization", value);
    }
    let codec: tonic_prost::ProstCodec<StartWorkflowExecutionRequest, ()> =
        tonic_prost::ProstCodec::default();
    let path = http::uri::PathAndQuery::from_static(START_WORKFLOW);
    match grpc.unary(request, path, codec).await {
        Ok(_) => (Code::Ok, String::new()),
        Err(status) => (status.code(), status.message().to_owned()),
    }
}

/// The TLS layer refused the client: no call reaches the server's gRPC stack.
async fn assert_refused(channel: Result<Channel, String>) {
    let Ok(channel) = channel else { return };
    let (code, message) = start_workflow(&channel, "payments", None).await;
    assert_eq!(code, Code::Unknown, "{message}");
    assert!(message.contains("transport error"), "{message}");
}

const DENIED: (Code, &str) = (Code::PermissionDenied, "Request unauthorized.");

fn code_message(result: &(Code, String)) -> (Code, &str) {
    (result.0, result.1.as_str())
}

#[tokio::test]
async fn jwt_sample_serves_with_jwt_only() {
    let fixture = Fixture::new();
    let config = fixture.load("jwt.yaml");
    assert_eq!(
        config
            .services
            .frontend
            .rpc
            .listen_addr()
            .unwrap()
            .to_string(),
        "127.0.0.1:7233"
    );
    assert!(
        config.frontend_tls().unwrap().is_none(),
        "the JWT-only sample has no TLS"
    );
    let addr = serve(&config).await;
    let channel = plain_channel(addr).await;
    let writer = fixture.token(&["payments:write"]);

    let allowed = start_workflow(&channel, "payments", Some(&writer)).await;
    assert_eq!(
        allowed.0,
        Code::Unimplemented,
        "allowed calls reach the service: {allowed:?}"
    );
    let other = start_workflow(&channel, "billing", Some(&writer)).await;
    assert_eq!(code_message(&other), DENIED);
    let reader = fixture.token(&["payments:read"]);
    let read_only = start_workflow(&channel, "payments", Some(&reader)).await;
    assert_eq!(code_message(&read_only), DENIED);
    let anonymous = start_workflow(&channel, "payments", None).await;
    assert_eq!(code_message(&anonymous), DENIED);
    let forged = start_workflow(&channel, "payments", Some(&format!("{writer}x"))).await;
    assert_eq!(code_message(&forged), DENIED);
}

#[tokio::test]
async fn mtls_sample_serves_with_client_certificates_only() {
    let fixture = Fixture::new();
    let config = fixture.load("mtls.yaml");
    let addr = serve(&config).await;
    let ca = &fixture.ca;

    let admin = ca.leaf().cn("temporal-admin").client_auth().sign();
    let channel = tls_channel(addr, ca, Some(&admin)).await.unwrap();
    assert_eq!(
        start_workflow(&channel, "anything", None).await.0,
        Code::Unimplemented
    );

    let worker = ca
        .leaf()
        .cn("worker-7")
        .ou("payments-workers")
        .client_auth()
        .sign();
    let channel = tls_channel(addr, ca, Some(&worker)).await.unwrap();
    assert_eq!(
        start_workflow(&channel, "payments", None).await.0,
        Code::Unimplemented
    );
    assert_eq!(
        code_message(&start_workflow(&channel, "billing", None).await),
        DENIED
    );

    let stranger = ca.leaf().cn("stranger").client_auth().sign();
    let channel = tls_channel(addr, ca, Some(&stranger)).await.unwrap();
    assert_eq!(
        code_message(&start_workflow(&channel, "payments", None).await),
        DENIED
    );

    // requireClientAuth: no certificate, no connection; nor with a certificate from another
    // CA. (With TLS 1.3 the client may finish its handshake before the server refuses, so the
    // refusal shows on the first call, as a transport error rather than a gRPC answer.)
    assert_refused(tls_channel(addr, ca, None).await).await;
    let other_ca = Ca::new("another CA");
    let outsider = other_ca.leaf().cn("temporal-admin").client_auth().sign();
    assert_refused(tls_channel(addr, ca, Some(&outsider)).await).await;
}

#[tokio::test]
async fn jwt_mtls_sample_serves_with_both() {
    let fixture = Fixture::new();
    let config = fixture.load("jwt-mtls.yaml");
    let addr = serve(&config).await;
    let ca = &fixture.ca;

    // A client certificate with no rule of its own, plus a token: the token decides.
    let client = ca.leaf().cn("sdk-client").client_auth().sign();
    let channel = tls_channel(addr, ca, Some(&client)).await.unwrap();
    let writer = fixture.token(&["payments:write"]);
    assert_eq!(
        start_workflow(&channel, "payments", Some(&writer)).await.0,
        Code::Unimplemented
    );
    assert_eq!(
        code_message(&start_workflow(&channel, "billing", Some(&writer)).await),
        DENIED
    );
    assert_eq!(
        code_message(&start_workflow(&channel, "payments", None).await),
        DENIED
    );
    // A bad token is never rescued by the certificate.
    let admin = ca.leaf().cn("temporal-admin").client_auth().sign();
    let admin_channel = tls_channel(addr, ca, Some(&admin)).await.unwrap();
    assert_eq!(
        start_workflow(&admin_channel, "payments", None).await.0,
        Code::Unimplemented
    );
    assert_eq!(
        code_message(&start_workflow(&admin_channel, "payments", Some("not-a-jwt")).await),
        DENIED
    );
}

#[tokio::test]
async fn build_errors_name_the_key_and_the_file() {
    let fixture = Fixture::new();
    let dir = fixture.cert_dir();
    let file = dir.join("frontend.yaml");
    std::fs::write(
        &file,
        "global:\n  tls:\n    frontend:\n      server:\n        certFile: /nonexistent/server.pem\n        keyFile: /nonexistent/server.key\n",
    )
    .unwrap();
    let config = Config::load_file(&file).unwrap();
    let e = config.frontend_tls().unwrap_err();
    assert_eq!(e.kind(), ConfigErrorKind::Build);
    assert_eq!(e.file(), Some(file.as_path()));
    assert_eq!(e.key_path(), Some("global.tls.frontend.server.certFile"));
    assert!(
        e.to_string().starts_with(&format!(
            "{}: global.tls.frontend.server.certFile: ",
            file.display()
        )),
        "{e}"
    );

    std::fs::write(
        &file,
        "global:\n  authorization:\n    jwtKeyProvider:\n      keySourceURIs: [\"ftp://keys.example/jwks.json\"]\n",
    )
    .unwrap();
    let config = Config::load_file(&file).unwrap();
    let e = AuthzLayer::from_config(&config).await.unwrap_err();
    assert_eq!(e.kind(), ConfigErrorKind::Build);
    assert_eq!(
        e.key_path(),
        Some("global.authorization.jwtKeyProvider.keySourceURIs")
    );
    assert!(e.message().contains("ftp://keys.example/jwks.json"), "{e}");

    std::fs::write(
        &file,
        "global:\n  authorization:\n    certificateClaimRules:\n      - field: commonName\n        value: a\n        permissions: [\"payments:write\"]\n      - field: commonName\n        value: b\n        permissions: [\"payments:boss\"]\n",
    )
    .unwrap();
    let config = Config::load_file(&file).unwrap();
    let e = AuthzLayer::from_config(&config).await.unwrap_err();
    assert_eq!(e.kind(), ConfigErrorKind::Invalid);
    assert_eq!(
        e.key_path(),
        Some("global.authorization.certificateClaimRules[1]")
    );
    assert!(
        e.to_string().starts_with(&format!(
            "{}: global.authorization.certificateClaimRules[1]: ",
            file.display()
        )),
        "{e}"
    );

    std::fs::write(
        &file,
        "global:\n  authorization:\n    authHeaderName: \"bad header\"\n",
    )
    .unwrap();
    let config = Config::load_file(&file).unwrap();
    let e = AuthzLayer::from_config(&config).await.unwrap_err();
    assert_eq!(e.key_path(), Some("global.authorization.authHeaderName"));
}

/// `from_config`'s error for `yaml`, as the frontend prints it.
async fn build_error(yaml: &str) -> (Option<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("frontend.yaml");
    std::fs::write(&file, yaml).unwrap();
    let config = Config::load_file(&file).unwrap();
    let e = AuthzLayer::from_config(&config).await.unwrap_err();
    let shown = e.to_string();
    assert!(shown.starts_with(&file.display().to_string()), "{shown}");
    (e.key_path().map(str::to_owned), shown)
}

#[tokio::test]
async fn an_unusable_permissions_regex_stops_start_up() {
    // Temporal falls back to `namespace:role` with a warning; here it is an error.
    for (regex, says) in [
        ("(", "does not compile"),
        (
            "(?P<role>\\\\w+):(\\\\w+)",
            "must have the named groups `namespace` and `role`",
        ),
    ] {
        let (key, shown) = build_error(&format!(
            "global:\n  authorization:\n    jwtKeyProvider:\n      refreshInterval: 0\n    permissionsRegex: \"{regex}\"\n"
        ))
        .await;
        assert_eq!(
            key.as_deref(),
            Some("global.authorization.permissionsRegex")
        );
        assert!(shown.contains(says), "{shown}");
    }
}

#[tokio::test]
async fn a_message_size_above_one_gib_stops_start_up() {
    let (key, shown) =
        build_error("global:\n  authorization:\n    maxMessageSize: 1073741825\n").await;
    assert_eq!(key.as_deref(), Some("global.authorization.maxMessageSize"));
    assert!(shown.contains("more than the largest accepted"), "{shown}");
    // 1 GiB itself is accepted.
    let config = ConfigLoader::new()
        .load_str("global:\n  authorization:\n    maxMessageSize: 1073741824\n")
        .unwrap();
    assert!(AuthzLayer::from_config(&config).await.is_ok());
}

#[tokio::test]
async fn noop_selectors_allow_everything() {
    let config = ConfigLoader::new()
        .load_str("global:\n  authorization:\n    authorizer: noop\n    claimMapper: noop\n")
        .unwrap();
    let addr = serve(&config).await;
    let channel = plain_channel(addr).await;
    assert_eq!(
        start_workflow(&channel, "anything", None).await.0,
        Code::Unimplemented
    );

    // The default pair with no keys and no rules refuses what it cannot verify.
    let config = ConfigLoader::new().load_str("global: {}\n").unwrap();
    let addr = serve(&config).await;
    let channel = plain_channel(addr).await;
    assert_eq!(
        code_message(&start_workflow(&channel, "anything", None).await),
        DENIED
    );
}
