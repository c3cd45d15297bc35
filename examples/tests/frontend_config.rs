//! The `frontend` binary configured from YAML alone: `--config examples/config/jwt-mtls.yaml`
//! serves with mutual TLS and JWTs, and `--metrics-listen` shows the decisions it made.
//! Certificates and the JWT key set are made here and reached through the sample's
//! `${TONIC_AUTHZ_CERT_DIR}` / `${TONIC_AUTHZ_JWKS_URI}` variables.

// A failed unwrap here is a failed test, with the error in its message.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    SanType,
};
use temporalio_protos::protos::temporal::api::workflowservice::v1::DescribeNamespaceRequest;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic_authz_examples::workflow_client;

/// A CA, a server certificate for 127.0.0.1 and two client certificates.
struct Pki {
    ca_pem: String,
    server: (String, String),
    admin: (String, String),
    client: (String, String),
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "frontend test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca_params.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf = |cn: &str, server: bool| {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, cn);
        if server {
            params.subject_alt_names = vec![
                SanType::DnsName("localhost".try_into().unwrap()),
                SanType::IpAddress("127.0.0.1".parse().unwrap()),
            ];
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        } else {
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    Pki {
        server: leaf("localhost", true),
        admin: leaf("temporal-admin", false),
        client: leaf("sdk-client", false),
        ca_pem,
    }
}

/// An ES256 key: the JWK Set of its public half, and a signer.
fn jwt_key() -> (String, jsonwebtoken::EncodingKey) {
    let key = KeyPair::generate().unwrap();
    let point = key.public_key_raw();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let jwks = serde_json::json!({"keys": [{
        "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
        "x": b64(&point[1..33]), "y": b64(&point[33..]),
    }]});
    let signer = jsonwebtoken::EncodingKey::from_ec_pem(key.serialize_pem().as_bytes()).unwrap();
    (jwks.to_string(), signer)
}

fn token(signer: &jsonwebtoken::EncodingKey, permissions: &[&str]) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "sub": "alice", "iss": "https://issuer.example/", "aud": "temporal-frontend",
        "iat": now, "exp": now + 600, "permissions": permissions,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("k1".to_owned());
    jsonwebtoken::encode(&header, &claims, signer).unwrap()
}

async fn channel(addr: SocketAddr, pki: &Pki, identity: &(String, String)) -> Channel {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&pki.ca_pem))
        .domain_name("localhost")
        .identity(Identity::from_pem(&identity.0, &identity.1));
    Endpoint::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap()
}

async fn describe(channel: &Channel, namespace: &str, token: Option<&str>) -> Code {
    let mut request = tonic::Request::new(DescribeNamespaceRequest {
        namespace: namespace.to_owned(),
        ..Default::default()
    });
    if let Some(token) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    match workflow_client(channel.clone(), true)
        .describe_namespace(request)
        .await
    {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

/// `GET /metrics` over plain HTTP/1.1.
async fn scrape(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

async fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test]
async fn frontend_serves_jwt_and_mtls_from_yaml_and_shows_its_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("ca.pem", &pki.ca_pem);
    write("server.pem", &pki.server.0);
    write("server.key", &pki.server.1);
    let (jwks, signer) = jwt_key();
    write("jwks.json", &jwks);

    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/jwt-mtls.yaml");
    let metrics_addr = free_port().await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_frontend"))
        .arg("--config")
        .arg(&sample)
        .args(["--listen", "127.0.0.1:0", "--metrics-listen"])
        .arg(metrics_addr.to_string())
        .env("TONIC_AUTHZ_CERT_DIR", dir.path())
        .env(
            "TONIC_AUTHZ_JWKS_URI",
            format!("file://{}", dir.path().join("jwks.json").display()),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the frontend starts")
        .unwrap()
        .expect("a first line");
    let addr: SocketAddr = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .parse()
        .unwrap();

    // mTLS + token: the token's permissions decide.
    let client = channel(addr, &pki, &pki.client).await;
    let reader = token(&signer, &["default:read"]);
    assert_eq!(describe(&client, "default", Some(&reader)).await, Code::Ok);
    assert_eq!(
        describe(&client, "default", None).await,
        Code::PermissionDenied
    );
    let elsewhere = token(&signer, &["payments:read"]);
    assert_eq!(
        describe(&client, "default", Some(&elsewhere)).await,
        Code::PermissionDenied
    );
    // Certificate only: the sample's certificate rule makes temporal-admin a system admin.
    let admin = channel(addr, &pki, &pki.admin).await;
    assert_eq!(describe(&admin, "default", None).await, Code::Ok);

    let metrics = scrape(metrics_addr).await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    for line in [
        "tonic_authz_decisions_total{outcome=\"allowed\"} 2",
        "tonic_authz_decisions_total{outcome=\"denied\"} 2",
        "service_errors_unauthorized{operation=\"Authorization\",namespace=\"default\"} 2",
        "service_authorization_latency_count{operation=\"Authorization\",namespace=\"default\"} 4",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no `{line}` in:\n{metrics}"
        );
    }
    child.kill().await.unwrap();
}

#[tokio::test]
async fn frontend_refuses_a_bad_config_naming_key_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("frontend.yaml");
    std::fs::write(&file, "global:\n  authorization:\n    authorizer: opa\n").unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_frontend"))
        .arg("--config")
        .arg(&file)
        .env("RUST_LOG", "off")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "frontend: {}:3:17: global.authorization.authorizer: unknown authorizer: opa",
            file.display()
        )
    );
}
