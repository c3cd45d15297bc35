//! Temporal's `WorkflowService` and `OperatorService`, generated at build time from the
//! descriptor set of `temporalio-protos` (server traits with default UNIMPLEMENTED stubs, and
//! clients). Messages are the official `temporalio_protos` types; this module re-exports the
//! ones the examples use so callers need a single import path.

/// `temporal.api.workflowservice.v1`: the `WorkflowService` server and client.
pub mod workflowservice {
    #![allow(missing_docs, unreachable_pub, clippy::all)] // generated code
    tonic::include_proto!("temporal.api.workflowservice.v1");
}

/// `temporal.api.operatorservice.v1`: the `OperatorService` server and client.
pub mod operatorservice {
    #![allow(missing_docs, unreachable_pub, clippy::all)] // generated code
    tonic::include_proto!("temporal.api.operatorservice.v1");
}

/// The official Temporal message types (`temporal.api.*`), from `temporalio-protos`.
pub use temporalio_protos::protos::temporal::api;

/// The full name of the Temporal `WorkflowService`, as reported by the health service.
pub const WORKFLOW_SERVICE_NAME: &str = "temporal.api.workflowservice.v1.WorkflowService";

/// The full name of the Temporal `OperatorService`.
pub const OPERATOR_SERVICE_NAME: &str = "temporal.api.operatorservice.v1.OperatorService";
