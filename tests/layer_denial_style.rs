//! How refusals are answered: Temporal's `PERMISSION_DENIED` for everything by default, the
//! gRPC convention on request (`UNAUTHENTICATED` for missing or invalid credentials, still
//! `PERMISSION_DENIED` for a known caller without the role), and the `on_denial` hook that
//! shapes the response last.

mod common;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response};
use prost::Message;
use tonic_authz::{
    AuthInfo, AuthzLayer, AuthzLayerBuilder, Claims, ClaimsError, ClaimsErrorKind, DenialKind,
    DenialStyle, Role,
};
use tower::{Layer, ServiceExt, service_fn};

use common::grpc::{assert_temporal_denial, frame, header_status};

const START_WORKFLOW: &str =
    "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";

#[derive(Clone, PartialEq, prost::Message)]
struct NamespaceRequest {
    #[prost(string, tag = "1")]
    namespace: String,
}

/// `good` is a writer on `payments`; any other token is refused as a bad signature.
fn builder() -> AuthzLayerBuilder {
    AuthzLayer::builder().claim_mapper(|info: &AuthInfo| {
        let token = info.auth_token.clone();
        async move {
            if token == "Bearer good" {
                Ok(Claims::new()
                    .with_subject("alice")
                    .with_namespace("payments", Role::WRITER))
            } else {
                Err(ClaimsError::new(
                    ClaimsErrorKind::Signature,
                    "token signature is invalid",
                ))
            }
        }
    })
}

/// One call to StartWorkflowExecution in `namespace`: `None` when it reached the service,
/// else the status it was answered with.
async fn call(layer: &AuthzLayer, namespace: &str, token: Option<&str>) -> Option<tonic::Status> {
    let inner = service_fn(|_req: Request<tonic::body::Body>| async {
        Ok::<_, Infallible>(Response::new(tonic::body::Body::empty()))
    });
    let message = NamespaceRequest {
        namespace: namespace.to_owned(),
    }
    .encode_to_vec();
    let mut request = Request::post(START_WORKFLOW)
        .header("content-type", "application/grpc")
        .body(tonic::body::Body::new(http_body_util::Full::new(
            Bytes::from(frame(&message)),
        )))
        .expect("request");
    if let Some(token) = token {
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
    }
    let response = layer
        .layer(inner)
        .oneshot(request)
        .await
        .expect("infallible");
    header_status(&response)
}

#[tokio::test]
async fn temporal_style_answers_every_refusal_with_permission_denied() {
    let layer = builder().build();
    assert!(call(&layer, "payments", Some("good")).await.is_none());
    for token in [None, Some("forged")] {
        let status = call(&layer, "payments", token).await.expect("refused");
        assert_temporal_denial(&status, "");
    }
    let status = call(&layer, "billing", Some("good"))
        .await
        .expect("refused");
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
}

#[tokio::test]
async fn grpc_style_answers_missing_or_invalid_credentials_with_unauthenticated() {
    let layer = builder().denial_style(DenialStyle::Grpc).build();
    assert!(call(&layer, "payments", Some("good")).await.is_none());
    for token in [None, Some("forged")] {
        let status = call(&layer, "payments", token).await.expect("refused");
        assert_eq!(status.code(), tonic::Code::Unauthenticated, "{token:?}");
        assert_eq!(status.message(), "Request unauthenticated.");
        assert!(status.details().is_empty());
    }
    // A valid caller without the role: Temporal's denial, detail included.
    let status = call(&layer, "billing", Some("good"))
        .await
        .expect("refused");
    assert_temporal_denial(&status, "");
}

#[tokio::test]
async fn the_hook_sees_each_denial_and_shapes_the_answer() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let layer = builder()
        .denial_style(DenialStyle::Grpc)
        .on_denial(move |denial, status| {
            record.lock().expect("lock").push((
                denial.kind(),
                denial.api().to_owned(),
                denial.namespace().to_owned(),
                denial.reason().to_owned(),
                denial.claims().map(|c| c.subject().to_owned()),
                status.code(),
            ));
            match denial.kind() {
                DenialKind::PermissionDenied => tonic::Status::permission_denied(format!(
                    "ask for a role on {}",
                    denial.namespace()
                )),
                _ => status,
            }
        })
        .build();
    assert!(call(&layer, "payments", Some("good")).await.is_none());
    let status = call(&layer, "billing", Some("good"))
        .await
        .expect("refused");
    assert_eq!(
        (status.code(), status.message()),
        (tonic::Code::PermissionDenied, "ask for a role on billing")
    );
    let status = call(&layer, "payments", Some("forged"))
        .await
        .expect("refused");
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(
        seen,
        vec![
            (
                DenialKind::PermissionDenied,
                START_WORKFLOW.to_owned(),
                "billing".to_owned(),
                String::new(),
                Some("alice".to_owned()),
                tonic::Code::PermissionDenied,
            ),
            (
                DenialKind::Unauthenticated,
                START_WORKFLOW.to_owned(),
                // Credentials are checked before the body is read: a forged token is refused
                // without the layer reading the request, so its namespace is never known.
                String::new(),
                "token signature is invalid".to_owned(),
                None,
                tonic::Code::Unauthenticated,
            ),
        ]
    );
}

#[tokio::test]
async fn dry_run_calls_no_hook() {
    let called = Arc::new(Mutex::new(0));
    let count = Arc::clone(&called);
    let layer = builder()
        .dry_run(true)
        .on_denial(move |_, status| {
            *count.lock().expect("lock") += 1;
            status
        })
        .build();
    assert!(call(&layer, "billing", Some("good")).await.is_none());
    assert!(call(&layer, "payments", None).await.is_none());
    assert_eq!(*called.lock().expect("lock"), 0);
}
