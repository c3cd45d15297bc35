//! End to end through the authorization layer: real generated Temporal clients over loopback
//! against the Frontend, with and without gzip. Every allow has its deny twin, and every denial
//! is checked to the byte Temporal clients read (code, message, `PermissionDeniedFailure`
//! detail) and to have never reached the backend.

mod common;

use prost::Message;
use temporalio_protos::protos::{
    google::rpc::Status as RpcStatus,
    temporal::api::{
        common::v1::WorkflowType,
        errordetails::v1::PermissionDeniedFailure,
        taskqueue::v1::TaskQueue,
        workflowservice::v1::{
            DescribeNamespaceRequest, DescribeWorkflowExecutionRequest, GetSystemInfoRequest,
            StartWorkflowExecutionRequest,
        },
    },
};
use tonic::{Code, Request};
use tonic_authz::{
    AuthInfo, AuthzLayer, ClaimMapper, Claims, ClaimsError, ClaimsErrorKind, DefaultAuthorizer,
    NoopClaimMapper, Role,
};
use tonic_authz_examples::{BackendConfig, STARTER_MEMO_KEY};

use common::{Harness, start};

const PERMISSION_DENIED_TYPE_URL: &str =
    "type.googleapis.com/temporal.api.errordetails.v1.PermissionDeniedFailure";

/// A claim mapper that needs a token: `Bearer <subject>`; `alice` writes `default`, `rita`
/// reads it, anyone else has no role.
fn token_mapper() -> impl ClaimMapper {
    |info: &AuthInfo| {
        let token = info.auth_token.clone();
        async move {
            let subject = token.strip_prefix("Bearer ").ok_or_else(|| {
                ClaimsError::new(ClaimsErrorKind::MalformedHeader, "expected a bearer token")
            })?;
            let role = match subject {
                "alice" => Role::WRITER,
                "rita" => Role::READER,
                _ => Role::UNDEFINED,
            };
            Ok(Claims::new()
                .with_subject(subject)
                .with_namespace("default", role))
        }
    }
}

fn token_layer() -> AuthzLayer {
    AuthzLayer::builder()
        .claim_mapper(token_mapper())
        .authorizer(DefaultAuthorizer::new())
        .build()
}

fn with_token<T>(message: T, token: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(token) = token {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("ascii token"),
        );
    }
    request
}

fn describe_namespace(namespace: &str) -> DescribeNamespaceRequest {
    DescribeNamespaceRequest {
        namespace: namespace.to_owned(),
        ..Default::default()
    }
}

fn start_request(workflow_id: &str) -> StartWorkflowExecutionRequest {
    StartWorkflowExecutionRequest {
        namespace: "default".to_owned(),
        workflow_id: workflow_id.to_owned(),
        workflow_type: Some(WorkflowType {
            name: "greet".to_owned(),
        }),
        task_queue: Some(TaskQueue {
            name: "queue".to_owned(),
            ..Default::default()
        }),
        identity: "tester@host".to_owned(),
        request_id: uuid::Uuid::new_v4().to_string(),
        ..Default::default()
    }
}

/// Asserts the exact denial Temporal sends: PERMISSION_DENIED, `Request unauthorized.`, and a
/// `google.rpc.Status` trailer with one `PermissionDeniedFailure`.
fn assert_denied(status: &tonic::Status) {
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(status.message(), "Request unauthorized.");
    let details = RpcStatus::decode(status.details()).expect("grpc-status-details-bin decodes");
    assert_eq!(details.code, Code::PermissionDenied as i32);
    assert_eq!(details.message, "Request unauthorized.");
    assert_eq!(details.details.len(), 1);
    assert_eq!(details.details[0].type_url, PERMISSION_DENIED_TYPE_URL);
    let failure = PermissionDeniedFailure::decode(details.details[0].value.as_slice())
        .expect("PermissionDeniedFailure decodes");
    // The default authorizer gives no reason; nothing internal leaks to the client.
    assert_eq!(failure.reason, "");
}

#[tokio::test]
async fn get_system_info_needs_no_credentials() {
    let harness = start(BackendConfig::default(), Some(token_layer())).await;
    for gzip in [false, true] {
        let response = harness
            .workflow(gzip)
            .get_system_info(GetSystemInfoRequest {})
            .await
            .expect("GetSystemInfo is allowed without credentials")
            .into_inner();
        let capabilities = response
            .capabilities
            .expect("capabilities are always present");
        assert!(capabilities.signal_and_query_header);
        assert!(capabilities.internal_error_differentiation);
        assert!(!capabilities.supports_schedules);
    }
    assert_eq!(harness.backend().calls_to("GetSystemInfo"), 2);
}

#[tokio::test]
async fn describe_namespace_without_credentials_is_denied_before_the_backend() {
    let harness = start(BackendConfig::default(), Some(token_layer())).await;
    for gzip in [false, true] {
        let status = harness
            .workflow(gzip)
            .describe_namespace(describe_namespace("default"))
            .await
            .expect_err("no credentials, no claims: denied");
        assert_denied(&status);
    }
    assert_eq!(harness.backend().calls(), 0);
}

#[tokio::test]
async fn describe_namespace_with_a_reader_token_is_allowed() {
    let harness = start(BackendConfig::default(), Some(token_layer())).await;
    for gzip in [false, true] {
        let response = harness
            .workflow(gzip)
            .describe_namespace(with_token(describe_namespace("default"), Some("rita")))
            .await
            .expect("a reader may describe its namespace")
            .into_inner();
        let info = response.namespace_info.expect("namespace_info is set");
        assert_eq!(info.name, "default");
    }
    assert_eq!(harness.backend().calls_to("DescribeNamespace"), 2);
}

#[tokio::test]
async fn a_role_in_one_namespace_does_not_open_another() {
    let config = BackendConfig::default().with_namespace("payments");
    let harness = start(config, Some(token_layer())).await;
    for gzip in [false, true] {
        let status = harness
            .workflow(gzip)
            .describe_namespace(with_token(describe_namespace("payments"), Some("alice")))
            .await
            .expect_err("alice has no role in payments");
        assert_denied(&status);
    }
    assert_eq!(harness.backend().calls(), 0);
}

#[tokio::test]
async fn a_reader_cannot_start_a_workflow() {
    let harness = start(BackendConfig::default(), Some(token_layer())).await;
    for gzip in [false, true] {
        let status = harness
            .workflow(gzip)
            .start_workflow_execution(with_token(start_request("wf-denied"), Some("rita")))
            .await
            .expect_err("a reader may not write");
        assert_denied(&status);
    }
    assert_eq!(harness.backend().calls(), 0);
    assert_eq!(harness.backend().workflow("default", "wf-denied"), None);
}

#[tokio::test]
async fn the_starter_is_the_subject_of_the_callers_claims() {
    let harness = start(BackendConfig::default(), Some(token_layer())).await;
    for (gzip, workflow_id) in [(false, "wf-plain"), (true, "wf-gzip")] {
        let mut client = harness.workflow(gzip);
        let started = client
            .start_workflow_execution(with_token(start_request(workflow_id), Some("alice")))
            .await
            .expect("a writer may start a workflow")
            .into_inner();
        assert!(started.started);

        let snapshot = harness
            .backend()
            .workflow("default", workflow_id)
            .expect("the workflow exists");
        assert_eq!(snapshot.starter.as_deref(), Some("alice"));
        assert_eq!(snapshot.identity, "tester@host");
        assert_eq!(snapshot.run_id, started.run_id);

        // The starter is reported to clients too, as a json/plain memo entry.
        let described = client
            .describe_workflow_execution(with_token(
                DescribeWorkflowExecutionRequest {
                    namespace: "default".to_owned(),
                    execution: Some(
                        temporalio_protos::protos::temporal::api::common::v1::WorkflowExecution {
                            workflow_id: workflow_id.to_owned(),
                            run_id: String::new(),
                        },
                    ),
                },
                Some("alice"),
            ))
            .await
            .expect("a writer may describe")
            .into_inner();
        let memo = described
            .workflow_execution_info
            .and_then(|info| info.memo)
            .expect("memo carries the starter");
        let payload = &memo.fields[STARTER_MEMO_KEY];
        assert_eq!(payload.data, br#""alice""#);
        assert_eq!(payload.metadata["encoding"], b"json/plain");
    }
}

#[tokio::test]
async fn the_noop_claim_mapper_lets_everyone_in_as_system_admin() {
    let layer = AuthzLayer::builder()
        .claim_mapper(NoopClaimMapper)
        .authorizer(DefaultAuthorizer::new())
        .build();
    let harness = start(BackendConfig::default(), Some(layer)).await;
    let mut client = harness.workflow(true);
    client
        .describe_namespace(describe_namespace("default"))
        .await
        .expect("system admin may describe");
    client
        .start_workflow_execution(start_request("wf-noop"))
        .await
        .expect("system admin may start");
    let snapshot = harness
        .backend()
        .workflow("default", "wf-noop")
        .expect("the workflow exists");
    // The no-op mapper's claims have an empty subject, and that is what the handler saw.
    assert_eq!(
        snapshot.starter.as_deref(),
        Some(Claims::system_admin().subject())
    );
}

#[tokio::test]
async fn without_the_layer_there_are_no_claims() {
    let harness = start(BackendConfig::default(), None).await;
    harness
        .workflow(false)
        .start_workflow_execution(start_request("wf-open"))
        .await
        .expect("no layer, no checks");
    let snapshot = harness
        .backend()
        .workflow("default", "wf-open")
        .expect("the workflow exists");
    assert_eq!(snapshot.starter, None);
}

#[tokio::test]
async fn no_claim_mapper_denies_namespace_calls_and_allows_system_info() {
    let layer = AuthzLayer::builder()
        .authorizer(DefaultAuthorizer::new())
        .build();
    let harness: Harness = start(BackendConfig::default(), Some(layer)).await;
    let mut client = harness.workflow(true);
    client
        .get_system_info(with_token(GetSystemInfoRequest {}, Some("alice")))
        .await
        .expect("GetSystemInfo is open to all");
    let status = client
        .describe_namespace(with_token(describe_namespace("default"), Some("alice")))
        .await
        .expect_err("without a claim mapper a token means nothing");
    assert_denied(&status);
    assert_eq!(harness.backend().calls(), 1);
}
