//! Temporal's own config files load unchanged and start the frontend: a development config,
//! a docker-compose style config with JWT authorization and a config with mutual TLS on both
//! of Temporal's TLS groups (fixtures in `examples/config/temporal/`). Every section the
//! crate does not act on is skipped, as Temporal's loader does; a Go-template file is refused
//! with a message saying how to render it.

// A failed unwrap here is a failed test, with the error in its message.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    SanType,
};
use temporalio_protos::protos::temporal::api::workflowservice::v1::DescribeNamespaceRequest;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::Child;
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic_authz::config::{Config, ConfigLoader};
use tonic_authz_examples::workflow_client;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config/temporal")
        .join(name)
}

fn load(name: &str, vars: &[(&str, &str)]) -> Config {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    ConfigLoader::new()
        .env(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
        .load_file(fixture(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn temporal_configs_load_as_they_are() {
    let dev = load("development.yaml", &[]);
    // `bindOnLocalHost: true` binds loopback.
    assert_eq!(
        dev.services.frontend.rpc.listen_addr().unwrap().to_string(),
        "127.0.0.1:7233"
    );

    let vars = [("TEMPORAL_JWKS_URI", "https://issuer.example/jwks.json")];
    let compose = load("docker-compose-jwt.yaml", &vars);
    let authz = &compose.global.authorization;
    assert_eq!(
        authz.jwt_key_provider.key_source_uris,
        ["https://issuer.example/jwks.json"]
    );
    // `${NAME:-default}`: the defaults apply when the variables are unset...
    assert_eq!(authz.audience, "temporal");
    assert_eq!(
        compose
            .services
            .frontend
            .rpc
            .listen_addr()
            .unwrap()
            .to_string(),
        "0.0.0.0:7233"
    );
    // ...and the variables win when set.
    let compose = load(
        "docker-compose-jwt.yaml",
        &[
            vars[0],
            ("TEMPORAL_AUDIENCE", "my-cluster"),
            ("FRONTEND_GRPC_PORT", "17233"),
            ("BIND_ON_IP", "127.0.0.1"),
        ],
    );
    assert_eq!(compose.global.authorization.audience, "my-cluster");
    assert_eq!(
        compose
            .services
            .frontend
            .rpc
            .listen_addr()
            .unwrap()
            .to_string(),
        "127.0.0.1:17233"
    );
    // The template's empty TLS values mean "no TLS", as in Temporal.
    assert!(compose.frontend_tls().unwrap().is_none());

    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().to_str().unwrap();
    let tls = load("mtls.yaml", &[("TEMPORAL_TLS_CERTS_DIR", certs)]);
    assert_eq!(
        tls.global.tls.frontend.server.cert_file,
        format!("{certs}/server.pem")
    );
    assert!(tls.global.tls.frontend.server.require_client_auth);
}

#[test]
fn a_missing_variable_without_default_names_itself() {
    let e = ConfigLoader::new()
        .env(|_| None)
        .load_file(fixture("docker-compose-jwt.yaml"))
        .unwrap_err();
    assert_eq!(
        e.key_path(),
        Some("global.authorization.jwtKeyProvider.keySourceURIs[0]")
    );
    assert!(
        e.to_string()
            .ends_with("environment variable `TEMPORAL_JWKS_URI` is not set"),
        "{e}"
    );
}

#[test]
fn go_templates_are_refused_with_a_way_out() {
    let e = Config::load_file(fixture("template.yaml")).unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "{}:1:1: this file is a Go template (`# enable-template`) and templates are not rendered here: render it first",
            fixture("template.yaml").display()
        )),
        "{text}"
    );
}

/// Starts the frontend on `config`; returns it and the address it listens on.
async fn start(
    config: &Path,
    listen: Option<&str>,
    vars: &[(&str, String)],
) -> (Child, SocketAddr) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_frontend"));
    command.arg("--config").arg(config);
    if let Some(listen) = listen {
        command.args(["--listen", listen]);
    }
    for (name, value) in vars {
        command.env(name, value);
    }
    let mut child = command
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
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
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .parse()
        .unwrap();
    (child, addr)
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

async fn plaintext(addr: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_development_config_starts_the_frontend() {
    let (mut child, addr) = start(&fixture("development.yaml"), Some("127.0.0.1:0"), &[]).await;
    let channel = plaintext(addr).await;
    // The no-op claim mapper makes every caller a system admin; the default authorizer
    // still answers for namespaces.
    assert_eq!(describe(&channel, "default", None).await, Code::Ok);
    child.kill().await.unwrap();
}

#[tokio::test]
async fn the_docker_compose_jwt_config_starts_the_frontend_where_it_says() {
    let dir = tempfile::tempdir().unwrap();
    let key = KeyPair::generate().unwrap();
    let point = key.public_key_raw();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let jwks = serde_json::json!({"keys": [{
        "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
        "x": b64(&point[1..33]), "y": b64(&point[33..]),
    }]});
    let jwks_path = dir.path().join("jwks.json");
    std::fs::write(&jwks_path, jwks.to_string()).unwrap();
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    // No --listen: the address comes from the file's `${NAME:-default}` references.
    let (mut child, addr) = start(
        &fixture("docker-compose-jwt.yaml"),
        None,
        &[
            (
                "TEMPORAL_JWKS_URI",
                format!("file://{}", jwks_path.display()),
            ),
            ("FRONTEND_GRPC_PORT", port.to_string()),
            ("BIND_ON_IP", "127.0.0.1".to_owned()),
        ],
    )
    .await;
    assert_eq!(addr.to_string(), format!("127.0.0.1:{port}"));

    let signer = jsonwebtoken::EncodingKey::from_ec_pem(key.serialize_pem().as_bytes()).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = |aud: &str| {
        let claims = serde_json::json!({
            "sub": "alice", "aud": aud, "iat": now, "exp": now + 600,
            "permissions": ["default:read"],
        });
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some("k1".to_owned());
        jsonwebtoken::encode(&header, &claims, &signer).unwrap()
    };
    let channel = plaintext(addr).await;
    assert_eq!(
        describe(&channel, "default", Some(&token("temporal"))).await,
        Code::Ok
    );
    // The audience default `temporal` is enforced.
    assert_eq!(
        describe(&channel, "default", Some(&token("elsewhere"))).await,
        Code::PermissionDenied
    );
    assert_eq!(
        describe(&channel, "default", None).await,
        Code::PermissionDenied
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn the_mtls_config_starts_the_frontend() {
    let dir = tempfile::tempdir().unwrap();
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "temporal test CA");
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
        params.extended_key_usages = if server {
            vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ]
        } else {
            vec![ExtendedKeyUsagePurpose::ClientAuth]
        };
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let server = leaf("localhost", true);
    std::fs::write(dir.path().join("ca.pem"), &ca_pem).unwrap();
    std::fs::write(dir.path().join("server.pem"), &server.0).unwrap();
    std::fs::write(dir.path().join("server.key"), &server.1).unwrap();

    let (mut child, addr) = start(
        &fixture("mtls.yaml"),
        Some("127.0.0.1:0"),
        &[(
            "TEMPORAL_TLS_CERTS_DIR",
            dir.path().to_str().unwrap().to_owned(),
        )],
    )
    .await;
    let connect = |identity: (String, String)| {
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&ca_pem))
            .domain_name("localhost")
            .identity(Identity::from_pem(identity.0, identity.1));
        async move {
            Endpoint::from_shared(format!("https://{addr}"))
                .unwrap()
                .tls_config(tls)
                .unwrap()
                .connect()
                .await
                .unwrap()
        }
    };
    let admin = connect(leaf("temporal-admin", false)).await;
    assert_eq!(describe(&admin, "default", None).await, Code::Ok);
    let other = connect(leaf("someone-else", false)).await;
    assert_eq!(
        describe(&other, "default", None).await,
        Code::PermissionDenied
    );
    child.kill().await.unwrap();
}
