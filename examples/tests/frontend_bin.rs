//! The `frontend` binary itself, run as a child process: its flags select the layer's
//! configuration, it prints the address it listens on, and Ctrl-C (SIGINT) stops it cleanly.

use std::{process::Stdio, time::Duration};

use temporalio_protos::protos::temporal::api::workflowservice::v1::{
    DescribeNamespaceRequest, GetSystemInfoRequest,
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use tonic::{Code, transport::Endpoint};
use tonic_authz_examples::workflow_client;

/// Starts `frontend` on an ephemeral port and returns it with the URL it printed.
async fn spawn(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontend"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("frontend starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("frontend prints its address in time")
        .expect("stdout readable")
        .expect("a line");
    let addr = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (child, format!("http://{addr}"))
}

async fn describe(url: &str, namespace: &str) -> Result<(), tonic::Status> {
    let channel = Endpoint::from_shared(url.to_owned())
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let mut client = workflow_client(channel, true);
    client
        .get_system_info(GetSystemInfoRequest {})
        .await
        .expect("GetSystemInfo is always allowed");
    client
        .describe_namespace(DescribeNamespaceRequest {
            namespace: namespace.to_owned(),
            ..Default::default()
        })
        .await
        .map(|_| ())
}

/// Sends SIGINT and expects a clean exit.
async fn interrupt(mut child: Child) {
    let pid = child.id().expect("running").to_string();
    let sent = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .expect("kill runs");
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("frontend stops after SIGINT")
        .expect("exit status");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn the_default_authorizer_without_a_claim_mapper_denies_namespace_calls() {
    let (child, url) = spawn(&["--authorizer", "default"]).await;
    let status = describe(&url, "default").await.expect_err("no claims");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(status.message(), "Request unauthorized.");
    interrupt(child).await;
}

#[tokio::test]
async fn the_noop_claim_mapper_allows_registered_namespaces() {
    let (child, url) = spawn(&["--claim-mapper", "noop", "--namespace", "payments"]).await;
    describe(&url, "payments").await.expect("system admin");
    let status = describe(&url, "unknown").await.expect_err("not registered");
    assert_eq!(status.code(), Code::NotFound);
    interrupt(child).await;
}

#[tokio::test]
async fn the_noop_authorizer_and_no_authz_allow_everything() {
    for args in [&["--authorizer", "noop"][..], &["--no-authz"][..]] {
        let (child, url) = spawn(args).await;
        describe(&url, "default").await.expect("allowed");
        interrupt(child).await;
    }
}

#[tokio::test]
async fn bad_flags_are_rejected() {
    for args in [
        &["--authorizer", "bogus"][..],
        &["--no-authz", "--claim-mapper", "noop"][..],
        &["--listen", "not-an-address"][..],
        &["--tls-cert", "server.pem"][..],
        &["--require-client-auth"][..],
        &["--certificate-rule", "color=red=default:read"][..],
        &["--no-authz", "--jwks-uri", "http://127.0.0.1:1/jwks.json"][..],
        &["token"][..],
        &["token", "--permission", "default:read", "--ttl", "soon"][..],
        // One duration syntax: Go's, as in the config file, which has no days.
        &["token", "--permission", "default:read", "--ttl", "7d"][..],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_frontend"))
            .args(args)
            .output()
            .await
            .expect("frontend runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}

#[tokio::test]
async fn a_config_file_configures_the_layer() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("frontend.yaml");
    // The no-op claim mapper makes everyone system admin; the default authorizer still
    // refuses namespaces that do not exist.
    std::fs::write(
        &path,
        "global:\n  authorization:\n    authorizer: default\n    claimMapper: noop\n",
    )
    .expect("write config");
    let (child, url) = spawn(&["--config", path.to_str().expect("utf-8")]).await;
    describe(&url, "default").await.expect("system admin");
    interrupt(child).await;

    std::fs::write(
        &path,
        "global:\n  authorization:\n    authoriser: default\n",
    )
    .expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_frontend"))
        .args(["--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .output()
        .await
        .expect("frontend runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    assert!(stderr.contains("frontend.yaml"), "{stderr}");
    assert!(stderr.contains("authoriser"), "{stderr}");

    // A config excludes the explicit security flags.
    let output = Command::new(env!("CARGO_BIN_EXE_frontend"))
        .args([
            "--config",
            "x.yaml",
            "--jwks-uri",
            "http://127.0.0.1:1/jwks.json",
        ])
        .output()
        .await
        .expect("frontend runs");
    assert_eq!(output.status.code(), Some(2));
}

#[tokio::test]
async fn the_banner_says_when_authorization_is_off() {
    for (args, says) in [
        (
            &["--authorizer", "noop"][..],
            "the no-op authorizer allows every call",
        ),
        (
            &["--claim-mapper", "noop"][..],
            "the no-op claim mapper makes every caller system admin",
        ),
        (
            &["--no-authz"][..],
            "served without the authorization layer",
        ),
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_frontend"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("frontend starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut next = async || {
            tokio::time::timeout(Duration::from_secs(30), lines.next_line())
                .await
                .expect("a line in time")
                .expect("stdout readable")
                .expect("a line")
        };
        let first = next().await;
        let addr = first
            .strip_prefix("listening on ")
            .expect("the address first");
        let addr = addr.to_owned();
        assert_eq!(
            next().await,
            format!("AUTHORIZATION IS OFF: {says}"),
            "{args:?}"
        );
        // Serving (so the Ctrl-C handler is in place) before it is interrupted.
        describe(&format!("http://{addr}"), "default")
            .await
            .expect("allowed");
        interrupt(child).await;
    }
}
