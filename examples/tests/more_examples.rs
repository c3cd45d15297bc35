//! The `any_service` and `custom_authorizer` binaries, run as child processes and called with
//! the generated demo client: one allow and one deny each (plus the cases that show why).

use std::{path::Path, process::Stdio, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use tonic::{Code, Request, transport::Channel};
use tonic_authz_examples::{
    demo::pb::{CreateOrderRequest, Order, tenant_service_client::TenantServiceClient},
    dev::{DevDir, SigningKey, TokenRequest},
};

async fn spawn(binary: &str, args: &[&str]) -> (Child, TenantServiceClient<Channel>) {
    let mut child = Command::new(binary)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("example starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let line = tokio::time::timeout(
        Duration::from_secs(30),
        BufReader::new(stdout).lines().next_line(),
    )
    .await
    .expect("prints its address in time")
    .expect("stdout readable")
    .expect("a line");
    let addr = line.strip_prefix("listening on ").expect("address line");
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("url")
        .connect()
        .await
        .expect("connect");
    (child, TenantServiceClient::new(channel))
}

fn order(namespace: &str, quantity: i64, token: &str) -> Request<CreateOrderRequest> {
    let mut request = Request::new(CreateOrderRequest {
        namespace: namespace.to_owned(),
        quantity,
        // A nested `namespace` that must never be taken for the request's.
        order: Some(Order {
            namespace: "payments".to_owned(),
            item: "book".to_owned(),
            count: 1,
        }),
        ..Default::default()
    });
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii"),
    );
    request
}

fn assert_denied(result: Result<tonic::Response<impl std::fmt::Debug>, tonic::Status>) {
    let status = result.expect_err("denied");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(status.message(), "Request unauthorized.");
}

fn mint(dir: &Path, permission: &str) -> String {
    SigningKey::load_or_create(&DevDir::new(dir))
        .expect("key")
        .mint(&TokenRequest::new(
            "test",
            [permission],
            Duration::from_secs(60),
        ))
        .expect("token")
}

#[tokio::test]
async fn any_service_reads_the_namespace_through_the_descriptor_pool() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_str().expect("utf-8");
    let (_child, mut client) = spawn(env!("CARGO_BIN_EXE_any_service"), &["--dev-dir", dir]).await;
    let writer = mint(tmp.path(), "payments:write");
    let created = client
        .create_order(order("payments", 1, &writer))
        .await
        .expect("a payments writer creates a payments order")
        .into_inner();
    assert_eq!(created.order_id, "payments-1");
    // The request's namespace (field 7) is `default`; the nested order's `payments` is data.
    assert_denied(client.create_order(order("default", 1, &writer)).await);
    let reader = mint(tmp.path(), "payments:read");
    assert_denied(client.create_order(order("payments", 1, &reader)).await);
}

#[tokio::test]
async fn custom_authorizer_structs_and_closures() {
    let binary = env!("CARGO_BIN_EXE_custom_authorizer");
    let (_structs, mut client) = spawn(binary, &[]).await;
    client
        .create_order(order("payments", 5, "key-alice"))
        .await
        .expect("a writer orders a few");
    // The struct authorizer reads the request: big orders need an admin.
    assert_denied(
        client
            .create_order(order("payments", 500, "key-alice"))
            .await,
    );
    client
        .create_order(order("payments", 500, "key-root"))
        .await
        .expect("an admin orders many");
    assert_denied(client.create_order(order("payments", 1, "key-bob")).await);
    assert_denied(
        client
            .create_order(order("payments", 1, "key-nobody"))
            .await,
    );

    // The closures: any role on the namespace is enough, and there is no quantity rule.
    let (_closures, mut client) = spawn(binary, &["--closures"]).await;
    client
        .create_order(order("payments", 500, "key-bob"))
        .await
        .expect("a member orders");
    assert_denied(client.create_order(order("default", 1, "key-alice")).await);
    assert_denied(
        client
            .create_order(order("payments", 1, "key-nobody"))
            .await,
    );
}
