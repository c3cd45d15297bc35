//! The Grafana dashboard in `examples/grafana/` charts only what the frontend exports: the
//! frontend runs with the JWT + mutual TLS sample config and `--metrics-listen`, calls go
//! through it (allowed, denied, cached token, unknown key id, and a dry-run denial from a
//! second instance), and every metric name a panel's query uses must be in its Prometheus
//! output, with help text.

// A failed unwrap here is a failed test, with the error in its message.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
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
use tokio::process::Child;
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic_authz_examples::workflow_client;

/// The metric names a PromQL expression selects: what is left once strings, label matchers,
/// ranges and `by (...)` / `without (...)` groupings are removed, minus function names.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut stripped = String::new();
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        let close = match c {
            '"' => Some('"'),
            '{' => Some('}'),
            '[' => Some(']'),
            _ => None,
        };
        match close {
            Some(close) => {
                for d in chars.by_ref() {
                    if d == close {
                        break;
                    }
                }
                stripped.push(' ');
            }
            None => stripped.push(c),
        }
    }
    let mut names = BTreeSet::new();
    let mut rest = stripped.as_str();
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic() || c == '_') {
        let tail = &rest[start..];
        let len = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(tail.len());
        let word = &tail[..len];
        let after = tail[len..].trim_start();
        rest = &tail[len..];
        if matches!(word, "by" | "without") {
            // Skip the grouping's label list.
            if let Some(end) = after.find(')') {
                rest = &after[end + 1..];
            }
            continue;
        }
        // Numbers were skipped by the start character; a function is followed by `(`, an
        // aggregation also by its grouping.
        let aggregation = matches!(
            word,
            "sum" | "min" | "max" | "avg" | "count" | "topk" | "bottomk" | "quantile" | "group"
        );
        if !aggregation && !after.starts_with('(') {
            names.insert(word.to_owned());
        }
    }
    names
}

#[test]
fn the_query_parser_finds_metric_names() {
    assert_eq!(
        metric_names(
            "histogram_quantile(0.99, sum by (le) (rate(service_authorization_latency_bucket[$__rate_interval])))"
        ),
        BTreeSet::from(["service_authorization_latency_bucket".to_owned()])
    );
    assert_eq!(
        metric_names(
            "sum(rate(a_total{result=\"hit\"}[5m])) / sum without (x) (rate(b_total[5m])) + min(c)"
        ),
        BTreeSet::from(["a_total".to_owned(), "b_total".to_owned(), "c".to_owned()])
    );
}

/// Every query of every panel (rows included) in the dashboard.
fn dashboard_queries() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("grafana/tonic-authz.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(dashboard["uid"], "tonic-authz");
    let mut queries = Vec::new();
    let mut panels: Vec<&serde_json::Value> =
        dashboard["panels"].as_array().unwrap().iter().collect();
    while let Some(panel) = panels.pop() {
        if let Some(inner) = panel["panels"].as_array() {
            panels.extend(inner);
        }
        for target in panel["targets"].as_array().into_iter().flatten() {
            let title = panel["title"].as_str().unwrap().to_owned();
            queries.push((title, target["expr"].as_str().unwrap().to_owned()));
        }
    }
    queries
}

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
        .push(DnType::CommonName, "dashboard test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca_params.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf = |cn: &str, server: bool| {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into().unwrap()),
            SanType::IpAddress("127.0.0.1".parse().unwrap()),
        ];
        params.extended_key_usages = vec![if server {
            ExtendedKeyUsagePurpose::ServerAuth
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
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

async fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
}

async fn start(config: &Path, certs: &Path, metrics: SocketAddr) -> (Child, SocketAddr) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_frontend"))
        .arg("--config")
        .arg(config)
        .args(["--listen", "127.0.0.1:0", "--metrics-listen"])
        .arg(metrics.to_string())
        .env("TONIC_AUTHZ_CERT_DIR", certs)
        .env(
            "TONIC_AUTHZ_JWKS_URI",
            format!("file://{}", certs.join("jwks.json").display()),
        )
        .env("RUST_LOG", "off")
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
    let addr = first
        .strip_prefix("listening on ")
        .unwrap()
        .parse()
        .unwrap();
    (child, addr)
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

async fn describe(channel: &Channel, token: Option<&str>) -> Code {
    let mut request = tonic::Request::new(DescribeNamespaceRequest {
        namespace: "default".to_owned(),
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

/// `GET /metrics`: the metric names exported, and those with help text.
async fn scrape(addr: SocketAddr) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let (_, body) = response.split_once("\r\n\r\n").unwrap();
    let mut exported = BTreeSet::new();
    let mut described = BTreeSet::new();
    for line in body.lines() {
        if let Some(help) = line.strip_prefix("# HELP ") {
            described.insert(help.split(' ').next().unwrap().to_owned());
        } else if !line.starts_with('#') && !line.is_empty() {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            exported.insert(line[..end].to_owned());
        }
    }
    (exported, described)
}

#[tokio::test]
async fn every_panel_queries_a_metric_the_frontend_exports() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("ca.pem", &pki.ca_pem);
    write("server.pem", &pki.server.0);
    write("server.key", &pki.server.1);
    let key = KeyPair::generate().unwrap();
    let point = key.public_key_raw();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let jwks = serde_json::json!({"keys": [{
        "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
        "x": b64(&point[1..33]), "y": b64(&point[33..]),
    }]});
    write("jwks.json", &jwks.to_string());
    let signer = jsonwebtoken::EncodingKey::from_ec_pem(key.serialize_pem().as_bytes()).unwrap();
    let token = |kid: &str| {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let claims = serde_json::json!({
            "sub": "alice", "iss": "https://issuer.example/", "aud": "temporal-frontend",
            "iat": now, "exp": now + 600, "permissions": ["default:read"],
        });
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, &claims, &signer).unwrap()
    };

    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/jwt-mtls.yaml");
    let metrics = free_port().await;
    let (mut enforcing, addr) = start(&sample, dir.path(), metrics).await;
    let client = channel(addr, &pki, &pki.client).await;
    let reader = token("k1");
    assert_eq!(describe(&client, Some(&reader)).await, Code::Ok);
    // The same token again: answered from the token cache.
    assert_eq!(describe(&client, Some(&reader)).await, Code::Ok);
    assert_eq!(describe(&client, None).await, Code::PermissionDenied);
    // An unknown key id: a refetch, then a claim-mapper failure.
    assert_eq!(
        describe(&client, Some(&token("k2"))).await,
        Code::PermissionDenied
    );
    let admin = channel(addr, &pki, &pki.admin).await;
    assert_eq!(describe(&admin, None).await, Code::Ok);
    let (mut exported, mut described) = scrape(metrics).await;
    enforcing.kill().await.unwrap();

    // The same sample in dry-run mode: a would-be denial is counted apart.
    let text = std::fs::read_to_string(&sample).unwrap();
    assert!(text.contains("dryRun: false"));
    let dry = dir.path().join("dry-run.yaml");
    std::fs::write(&dry, text.replace("dryRun: false", "dryRun: true")).unwrap();
    let metrics = free_port().await;
    let (mut dry_run, addr) = start(&dry, dir.path(), metrics).await;
    let client = channel(addr, &pki, &pki.client).await;
    assert_eq!(describe(&client, None).await, Code::Ok);
    let (more, more_described) = scrape(metrics).await;
    dry_run.kill().await.unwrap();
    exported.extend(more);
    described.extend(more_described);

    let queries = dashboard_queries();
    assert!(queries.len() >= 10, "{queries:?}");
    let mut used = BTreeSet::new();
    for (title, expr) in &queries {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "{title}: no metric in {expr}");
        for name in names {
            assert!(
                exported.contains(&name),
                "panel {title:?} queries {name}, which the frontend does not export; exported: {exported:#?}"
            );
            let family = name.strip_suffix("_bucket").unwrap_or(&name).to_owned();
            assert!(
                described.contains(&family),
                "{family} has no help text; described: {described:#?}"
            );
            used.insert(family);
        }
    }
    // The dashboard covers what the issue asks for: decisions, denial reasons, latency, keys,
    // the token cache and certificates.
    for family in [
        "tonic_authz_decisions_total",
        "tonic_authz_api_decisions_total",
        "tonic_authz_claim_mapper_failures_total",
        "tonic_authz_dry_run_denials_total",
        "service_authorization_latency",
        "tonic_authz_jwks_fetches_total",
        "tonic_authz_jwks_keys_loaded",
        "tonic_authz_token_cache_requests_total",
        "tonic_authz_certificate_expiry_seconds",
        "certificates_expiring",
    ] {
        assert!(used.contains(family), "no panel charts {family}");
    }
}
