//! Cross-namespace workflow commands, with Temporal's own test cases: a completed workflow task
//! whose commands signal, start or cancel workflows in another namespace is authorized again
//! for each, as the API that does the same directly, in that namespace. The requests are real
//! Temporal messages (`temporalio-protos`), so a field number the layer gets wrong fails here.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use prost::Message;
use temporalio_protos::protos::temporal::api::command::v1::{
    Command, RequestCancelExternalWorkflowExecutionCommandAttributes,
    SignalExternalWorkflowExecutionCommandAttributes, StartChildWorkflowExecutionCommandAttributes,
    command::Attributes,
};
use temporalio_protos::protos::temporal::api::enums::v1::CommandType;
use temporalio_protos::protos::temporal::api::workflowservice::v1::RespondWorkflowTaskCompletedRequest;
use tonic_authz::{AuthzLayer, CallTarget, Claims, Decision};
use tower::{Layer, ServiceExt};

const WS: &str = "/temporal.api.workflowservice.v1.WorkflowService/";

/// What the authorizer was asked: (API without the service prefix, namespace).
type Asked = Arc<Mutex<Vec<(String, String)>>>;

#[derive(Clone, Copy)]
enum Kind {
    Signal,
    StartChild,
    CancelExternal,
}

// The attributes' `namespace` fields are deprecated in Temporal's API, but Temporal's server
// still honours them for cross-namespace commands, which is what this file tests.
#[allow(deprecated)]
fn command(kind: Kind, namespace: &str) -> Command {
    let namespace = namespace.to_owned();
    let (command_type, attributes) = match kind {
        Kind::Signal => (
            CommandType::SignalExternalWorkflowExecution,
            Attributes::SignalExternalWorkflowExecutionCommandAttributes(
                SignalExternalWorkflowExecutionCommandAttributes {
                    namespace,
                    signal_name: "ping".to_owned(),
                    ..Default::default()
                },
            ),
        ),
        Kind::StartChild => (
            CommandType::StartChildWorkflowExecution,
            Attributes::StartChildWorkflowExecutionCommandAttributes(
                StartChildWorkflowExecutionCommandAttributes {
                    namespace,
                    workflow_id: "child".to_owned(),
                    ..Default::default()
                },
            ),
        ),
        Kind::CancelExternal => (
            CommandType::RequestCancelExternalWorkflowExecution,
            Attributes::RequestCancelExternalWorkflowExecutionCommandAttributes(
                RequestCancelExternalWorkflowExecutionCommandAttributes {
                    namespace,
                    workflow_id: "other".to_owned(),
                    ..Default::default()
                },
            ),
        ),
    };
    Command {
        command_type: command_type.into(),
        attributes: Some(attributes),
        ..Default::default()
    }
}

/// Sends a `RespondWorkflowTaskCompleted` in namespace `tn` with `commands` through the layer;
/// the authorizer denies the (API, namespace) pairs in `deny`. Returns the gRPC status code
/// (0 when the inner service answered), what the authorizer was asked, and whether the inner
/// service was called.
async fn respond(
    enabled: bool,
    commands: Vec<Command>,
    deny: &[(&str, &str)],
) -> (i32, Vec<(String, String)>, bool) {
    let asked: Asked = Arc::default();
    let deny: Vec<(String, String)> = deny
        .iter()
        .map(|(a, n)| ((*a).to_owned(), (*n).to_owned()))
        .collect();
    let record = Arc::clone(&asked);
    let authorizer = move |_claims: Option<&Claims>, target: &CallTarget| {
        let api = target.api_name().trim_start_matches(WS).to_owned();
        let namespace = target.namespace().to_owned();
        let denied = deny.contains(&(api.clone(), namespace.clone()));
        record.lock().expect("not poisoned").push((api, namespace));
        async move {
            Ok(if denied {
                Decision::deny()
            } else {
                Decision::Allow
            })
        }
    };
    let layer = AuthzLayer::builder()
        .authorizer(authorizer)
        .cross_namespace_commands(enabled)
        .build();
    let called = Arc::new(Mutex::new(false));
    let seen = Arc::clone(&called);
    let inner = tower::service_fn(move |_req: Request<tonic::body::Body>| {
        *seen.lock().expect("not poisoned") = true;
        async { Ok::<_, Infallible>(Response::new(tonic::body::Body::empty())) }
    });
    let message = RespondWorkflowTaskCompletedRequest {
        namespace: "tn".to_owned(),
        commands,
        identity: "worker".to_owned(),
        ..Default::default()
    }
    .encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend_from_slice(&u32::try_from(message.len()).expect("small").to_be_bytes());
    frame.extend_from_slice(&message);
    let req = Request::builder()
        .method("POST")
        .uri(format!("http://localhost{WS}RespondWorkflowTaskCompleted"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Full::new(Bytes::from(frame)))
        .expect("request");
    let resp = layer.layer(inner).oneshot(req).await.expect("infallible");
    let code = resp
        .headers()
        .get("grpc-status")
        .map_or(0, |v| v.to_str().expect("ascii").parse().expect("a code"));
    let asked = asked.lock().expect("not poisoned").clone();
    let called = *called.lock().expect("not poisoned");
    (code, asked, called)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, n)| ((*a).to_owned(), (*n).to_owned()))
        .collect()
}

#[tokio::test]
async fn each_command_is_authorized_as_its_api_in_the_target_namespace() {
    for (kind, api) in [
        (Kind::Signal, "SignalWorkflowExecution"),
        (Kind::StartChild, "StartWorkflowExecution"),
        (Kind::CancelExternal, "RequestCancelWorkflowExecution"),
    ] {
        let (code, asked, called) =
            respond(true, vec![command(kind, "target-namespace")], &[]).await;
        assert_eq!(code, 0, "{api}");
        assert!(called, "{api}");
        assert_eq!(
            asked,
            pairs(&[
                ("RespondWorkflowTaskCompleted", "tn"),
                (api, "target-namespace")
            ])
        );
    }
}

#[tokio::test]
async fn a_denied_command_denies_the_call_before_the_handler() {
    let (code, asked, called) = respond(
        true,
        vec![command(Kind::Signal, "target-namespace")],
        &[("SignalWorkflowExecution", "target-namespace")],
    )
    .await;
    assert_eq!(code, 7, "PERMISSION_DENIED");
    assert!(!called);
    assert_eq!(asked.len(), 2);

    // Its twin: the same command, the target namespace allowed.
    let (code, _, called) = respond(
        true,
        vec![command(Kind::Signal, "target-namespace")],
        &[("SignalWorkflowExecution", "elsewhere")],
    )
    .await;
    assert_eq!(code, 0);
    assert!(called);
}

#[tokio::test]
async fn own_and_empty_namespaces_need_no_extra_check() {
    for enabled in [false, true] {
        for namespace in ["tn", ""] {
            let (code, asked, _) =
                respond(enabled, vec![command(Kind::Signal, namespace)], &[]).await;
            assert_eq!(code, 0);
            assert_eq!(asked, pairs(&[("RespondWorkflowTaskCompleted", "tn")]));
        }
    }
}

#[tokio::test]
async fn disabled_by_default_as_in_temporal() {
    let (code, asked, called) = respond(
        false,
        vec![command(Kind::Signal, "target-namespace")],
        &[("SignalWorkflowExecution", "target-namespace")],
    )
    .await;
    assert_eq!(code, 0);
    assert!(called);
    assert_eq!(asked, pairs(&[("RespondWorkflowTaskCompleted", "tn")]));
}

#[tokio::test]
async fn repeated_pairs_are_checked_once() {
    let (code, asked, _) = respond(
        true,
        vec![
            command(Kind::Signal, "target-namespace"),
            command(Kind::StartChild, "target-namespace"),
            command(Kind::CancelExternal, "target-namespace"),
            command(Kind::Signal, "target-namespace"),
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(
        asked,
        pairs(&[
            ("RespondWorkflowTaskCompleted", "tn"),
            ("SignalWorkflowExecution", "target-namespace"),
            ("StartWorkflowExecution", "target-namespace"),
            ("RequestCancelWorkflowExecution", "target-namespace"),
        ])
    );
}

#[tokio::test]
async fn several_target_namespaces_each_get_their_check() {
    let (code, asked, _) = respond(
        true,
        vec![
            command(Kind::Signal, "target-namespace"),
            command(Kind::StartChild, "another-namespace"),
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(
        asked,
        pairs(&[
            ("RespondWorkflowTaskCompleted", "tn"),
            ("SignalWorkflowExecution", "target-namespace"),
            ("StartWorkflowExecution", "another-namespace"),
        ])
    );
}

#[tokio::test]
async fn a_denied_source_call_makes_no_cross_checks() {
    let (code, asked, called) = respond(
        true,
        vec![command(Kind::Signal, "target-namespace")],
        &[("RespondWorkflowTaskCompleted", "tn")],
    )
    .await;
    assert_eq!(code, 7);
    assert!(!called);
    assert_eq!(asked, pairs(&[("RespondWorkflowTaskCompleted", "tn")]));
}
