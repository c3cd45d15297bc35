//! Everything this crate knows about Temporal itself, in one place: which role each Temporal
//! API needs, where the namespace sits in each request message, how a denial is detailed for
//! Temporal clients, and which namespace names stand for the whole cluster.
//!
//! The rest of the crate is generic: the authorizer decides over any method table and the
//! layer reads the namespace through any locator. This module feeds them Temporal's.
//! The two tables ([`api_table`], [`namespace_fields`]) are generated from the official
//! `temporalio-protos` descriptors by `cargo run -p tonic-authz-examples --bin
//! gen_temporal_tables`; a test in the examples crate regenerates them and fails when they
//! differ, so a new Temporal API shows up as a failing test rather than a silent denial.

mod api;
mod api_table;
mod commands;
mod failure;
mod namespace_fields;
mod request_fields;
mod request_streams;
mod system_namespaces;
mod worker_apis;

pub(crate) use api::table_paths;
pub use api::{is_health_check_api, is_read_only_global_api, is_read_only_namespace_api};
pub(crate) use commands::{
    COMMANDS_FIELD, CROSS_NAMESPACE_COMMANDS, RESPOND_WORKFLOW_TASK_COMPLETED,
    TARGET_NAMESPACE_FIELD,
};
pub(crate) use failure::UNAUTHORIZED_MESSAGE;
pub(crate) use failure::permission_denied_details;
pub(crate) use namespace_fields::NAMESPACE_FIELDS;
pub(crate) use request_fields::REQUEST_FIELDS;
pub(crate) use request_streams::REQUEST_STREAMS;
pub(crate) use system_namespaces::SYSTEM_NAMESPACES;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use system_namespaces::TEMPORAL_SYSTEM_NAMESPACE;
pub use worker_apis::{is_worker_api, worker_apis};
