//! gRPC errors the way Temporal sends them: a standard code and message, plus a typed
//! `temporal.api.errordetails.v1` failure packed as `google.rpc.Status` in the
//! `grpc-status-details-bin` trailer, so SDKs raise their typed errors (for example
//! `WorkflowAlreadyStartedError`).

use prost::{Message, Name};
use temporalio_protos::protos::{
    google::rpc::Status as RpcStatus,
    temporal::api::errordetails::v1::{
        NamespaceAlreadyExistsFailure, NamespaceNotFoundFailure, NotFoundFailure,
        WorkflowExecutionAlreadyStartedFailure,
    },
};
use tonic::{Code, Status};

/// A status with one typed detail.
fn with_failure<M: Message + Name>(code: Code, message: String, failure: &M) -> Status {
    let details = RpcStatus {
        code: code as i32,
        message: message.clone(),
        details: vec![prost_wkt_types::Any {
            type_url: format!("type.googleapis.com/{}", M::full_name()),
            value: failure.encode_to_vec(),
        }],
    };
    Status::with_details(code, message, details.encode_to_vec().into())
}

pub(super) fn namespace_not_found(namespace: &str) -> Status {
    with_failure(
        Code::NotFound,
        format!("Namespace {namespace} is not found."),
        &NamespaceNotFoundFailure {
            namespace: namespace.to_owned(),
        },
    )
}

pub(super) fn namespace_already_exists() -> Status {
    with_failure(
        Code::AlreadyExists,
        "Namespace already exists.".to_owned(),
        &NamespaceAlreadyExistsFailure {},
    )
}

pub(super) fn workflow_not_found(workflow_id: &str, cluster: &str) -> Status {
    with_failure(
        Code::NotFound,
        format!("workflow execution not found for workflow id {workflow_id}"),
        &NotFoundFailure {
            current_cluster: cluster.to_owned(),
            active_cluster: cluster.to_owned(),
        },
    )
}

pub(super) fn workflow_completed(cluster: &str) -> Status {
    with_failure(
        Code::NotFound,
        "workflow execution already completed".to_owned(),
        &NotFoundFailure {
            current_cluster: cluster.to_owned(),
            active_cluster: cluster.to_owned(),
        },
    )
}

pub(super) fn already_started(workflow_id: &str, run_id: &str, start_request_id: &str) -> Status {
    with_failure(
        Code::AlreadyExists,
        format!(
            "Workflow execution is already running. WorkflowId: {workflow_id}, RunId: {run_id}."
        ),
        &WorkflowExecutionAlreadyStartedFailure {
            start_request_id: start_request_id.to_owned(),
            run_id: run_id.to_owned(),
            first_execution_run_id: run_id.to_owned(),
        },
    )
}

pub(super) fn invalid_argument(message: impl Into<String>) -> Status {
    Status::invalid_argument(message)
}
