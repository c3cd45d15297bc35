//! Dev mode end to end: the `frontend` binary started with no security flags makes its
//! certificates and signing key, serves mutual TLS with JWTs from its own JWKS issuer, and
//! the tokens it prints (and those `frontend token` mints) are authorized by Temporal's
//! default authorizer. The printed tokens name the embedded issuer's URL as `iss`, and the
//! Frontend trusts that issuer through OpenID discovery. Real child processes, real TLS on
//! loopback, real generated clients.

use std::{path::Path, process::Stdio, time::Duration};

use temporalio_protos::protos::temporal::api::{
    common::v1::WorkflowType,
    taskqueue::v1::TaskQueue,
    workflowservice::v1::{DescribeNamespaceRequest, StartWorkflowExecutionRequest},
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use tonic::{
    Code, Request,
    transport::{Certificate, ClientTlsConfig, Endpoint, Identity},
};
use tonic_authz_examples::dev::{DevDir, SigningKey, TokenRequest};
use tonic_authz_examples::{Backend, BackendConfig, Frontend, workflow_client};

/// Starts `frontend` in dev mode on an ephemeral port with `dev_dir`; returns it with its
/// address and everything it printed up to the CLI commands.
async fn spawn_dev(dev_dir: &Path) -> (Child, String, String) {
    spawn_dev_with(dev_dir, &[]).await
}

/// As [`spawn_dev`], with `extra` arguments.
async fn spawn_dev_with(dev_dir: &Path, extra: &[&str]) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontend"))
        .args(["--listen", "127.0.0.1:0", "--dev-dir"])
        .arg(dev_dir)
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("frontend starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = String::new();
    loop {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("frontend prints its guide in time")
            .expect("stdout readable")
            .expect("the guide is complete");
        printed.push_str(&line);
        printed.push('\n');
        if line.contains("temporal workflow list") {
            break;
        }
    }
    // Keep draining stdout so the server never writes into a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let addr = printed
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("listening on "))
        .expect("first line is the address")
        .to_owned();
    (child, addr, printed)
}

/// The payload of a JWT, decoded (no verification).
fn payload(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let part = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// A TLS channel trusting the dev CA, with the dev client certificate unless `identity` is
/// `None`.
async fn connect(
    addr: &str,
    dir: &Path,
    identity: Option<&str>,
) -> Result<tonic::transport::Channel, tonic::transport::Error> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("dev file");
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read("ca.pem")))
        .domain_name("localhost");
    if let Some(name) = identity {
        tls = tls.identity(Identity::from_pem(
            read(&format!("{name}.pem")),
            read(&format!("{name}.key")),
        ));
    }
    Endpoint::from_shared(format!("https://{addr}"))?
        .tls_config(tls)?
        .connect()
        .await
}

fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii"),
    );
    request
}

fn describe() -> DescribeNamespaceRequest {
    DescribeNamespaceRequest {
        namespace: "default".to_owned(),
        ..Default::default()
    }
}

fn start(workflow_id: &str) -> StartWorkflowExecutionRequest {
    StartWorkflowExecutionRequest {
        namespace: "default".to_owned(),
        workflow_id: workflow_id.to_owned(),
        workflow_type: Some(WorkflowType {
            name: "Hello".to_owned(),
        }),
        task_queue: Some(TaskQueue {
            name: "hello".to_owned(),
            ..Default::default()
        }),
        request_id: workflow_id.to_owned(),
        ..Default::default()
    }
}

fn assert_denied(status: &tonic::Status) {
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(status.message(), "Request unauthorized.");
}

#[tokio::test]
async fn dev_mode_serves_mtls_and_jwt_with_its_printed_tokens() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("dev");
    let (child, addr, printed) = spawn_dev(&dir).await;
    assert!(
        printed.contains("--tls-server-name localhost --api-key ey"),
        "{printed}"
    );
    assert!(printed.contains(&format!("--tls-ca-path {}", dir.join("ca.pem").display())));
    let token = |name: &str| {
        std::fs::read_to_string(dir.join("tokens").join(format!("{name}.jwt"))).expect("token")
    };
    let (admin, writer, reader) = (token("admin"), token("writer"), token("reader"));
    // The printed tokens are the ones in the files.
    for t in [&admin, &writer, &reader] {
        assert!(printed.contains(t.as_str()));
    }

    let channel = connect(&addr, &dir, Some("client")).await.expect("mTLS");
    let mut client = workflow_client(channel, true);
    let described = client
        .describe_namespace(with_token(describe(), &admin))
        .await
        .expect("system admin describes")
        .into_inner();
    assert_eq!(
        described.namespace_info.expect("info").name,
        "default".to_owned()
    );
    client
        .describe_namespace(with_token(describe(), &reader))
        .await
        .expect("a reader describes");
    client
        .start_workflow_execution(with_token(start("by-writer"), &writer))
        .await
        .expect("a writer starts a workflow");
    assert_denied(
        &client
            .start_workflow_execution(with_token(start("by-reader"), &reader))
            .await
            .expect_err("a reader cannot start a workflow"),
    );
    // The client certificate alone grants nothing.
    assert_denied(
        &client
            .describe_namespace(Request::new(describe()))
            .await
            .expect_err("no token"),
    );
    // The printed tokens name the embedded issuer, which the Frontend found by discovery.
    let issuer = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("token issuer"))
        .and_then(|l| l.split_whitespace().next())
        .expect("the guide names the token issuer")
        .to_owned();
    assert!(issuer.starts_with("http://127.0.0.1:"), "{printed}");
    assert!(
        printed.contains(&format!(
            "OpenID discovery: {issuer}/.well-known/openid-configuration"
        )),
        "{printed}"
    );
    assert_eq!(payload(&admin)["iss"], issuer.as_str());
    // Deny twin: the same key, with an `iss` that is neither that issuer nor the offline one.
    let key = SigningKey::load_or_create(&DevDir::new(&dir)).expect("dev key");
    let stranger = key
        .mint(
            &TokenRequest::new(
                "dev-admin",
                ["temporal-system:admin"],
                Duration::from_secs(60),
            )
            .with_issuer("http://127.0.0.1:1"),
        )
        .expect("mint");
    assert_denied(
        &client
            .describe_namespace(with_token(describe(), &stranger))
            .await
            .expect_err("an unknown issuer"),
    );
    let named = key
        .mint(
            &TokenRequest::new(
                "dev-admin",
                ["temporal-system:admin"],
                Duration::from_secs(60),
            )
            .with_issuer(issuer.clone()),
        )
        .expect("mint");
    client
        .describe_namespace(with_token(describe(), &named))
        .await
        .expect("a token of the embedded issuer");
    // A token with a bad signature is refused.
    let mut forged = admin.clone();
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    assert_denied(
        &client
            .describe_namespace(with_token(describe(), &forged))
            .await
            .expect_err("forged token"),
    );

    // The admin certificate is system admin without a token.
    let admin_channel = connect(&addr, &dir, Some("admin-client"))
        .await
        .expect("mTLS");
    workflow_client(admin_channel, true)
        .describe_namespace(Request::new(describe()))
        .await
        .expect("admin certificate");

    // No client certificate: the handshake is refused, so no call reaches the layer (whose
    // answer would be PERMISSION_DENIED) or the service.
    if let Ok(channel) = connect(&addr, &dir, None).await {
        let status = workflow_client(channel, true)
            .describe_namespace(with_token(describe(), &admin))
            .await
            .expect_err("a client without a certificate must not get through");
        assert!(
            matches!(
                status.code(),
                Code::Unavailable | Code::Unknown | Code::Cancelled
            ),
            "{status:?}"
        );
    }
    drop(child);
}

#[tokio::test]
async fn dev_files_are_reused_and_frontend_token_mints_with_the_same_key() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("dev");
    let (first, _, _) = spawn_dev(&dir).await;
    drop(first);
    let ca = std::fs::read_to_string(dir.join("ca.pem")).expect("ca");
    let (child, addr, _) = spawn_dev(&dir).await;
    assert_eq!(std::fs::read_to_string(dir.join("ca.pem")).expect("ca"), ca);

    let output = Command::new(env!("CARGO_BIN_EXE_frontend"))
        .args([
            "token",
            "--permission",
            "default:read",
            "--ttl",
            "10m",
            "--dev-dir",
        ])
        .arg(&dir)
        .output()
        .await
        .expect("frontend token runs");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "just the token: {stdout:?}");
    let minted = lines[0];

    let channel = connect(&addr, &dir, Some("client")).await.expect("mTLS");
    let mut client = workflow_client(channel, true);
    client
        .describe_namespace(with_token(describe(), minted))
        .await
        .expect("a minted reader describes");
    assert_denied(
        &client
            .start_workflow_execution(with_token(start("minted"), minted))
            .await
            .expect_err("a minted reader cannot start"),
    );

    let bad = Command::new(env!("CARGO_BIN_EXE_frontend"))
        .args(["token", "--permission", "default:owner", "--dev-dir"])
        .arg(&dir)
        .output()
        .await
        .expect("frontend token runs");
    assert_eq!(bad.status.code(), Some(1));
    assert!(bad.stdout.is_empty());
    let stderr = String::from_utf8(bad.stderr).expect("utf-8");
    assert!(
        stderr.contains("invalid permission \"default:owner\""),
        "{stderr}"
    );
    drop(child);
}

#[tokio::test]
async fn dev_mode_in_front_of_a_real_upstream_forwards_only_allowed_calls() {
    let backend = Backend::new(BackendConfig::default());
    let upstream = Frontend::new(backend.clone())
        .spawn("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("upstream");
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("dev");
    let upstream_addr = upstream.addr().to_string();
    let (child, addr, printed) = spawn_dev_with(&dir, &["--upstream", &upstream_addr]).await;
    assert!(
        printed.contains(&format!(
            "forwarding allowed calls to the Temporal frontend at {upstream_addr}"
        )),
        "{printed}"
    );
    assert!(
        printed.contains("temporal workflow start -n default"),
        "{printed}"
    );
    let token = |name: &str| {
        std::fs::read_to_string(dir.join("tokens").join(format!("{name}.jwt"))).expect("token")
    };
    let channel = connect(&addr, &dir, Some("client")).await.expect("mTLS");
    let mut client = workflow_client(channel, true);
    client
        .start_workflow_execution(with_token(start("through-proxy"), &token("writer")))
        .await
        .expect("a writer starts a workflow on the upstream");
    assert!(backend.workflow("default", "through-proxy").is_some());
    assert_denied(
        &client
            .start_workflow_execution(with_token(start("refused"), &token("reader")))
            .await
            .expect_err("a reader cannot start a workflow"),
    );
    assert!(backend.workflow("default", "refused").is_none());
    drop(child);
}
