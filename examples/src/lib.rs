//! Runnable examples for `tonic-authz`: a Temporal-style Frontend serving the real Temporal
//! `WorkflowService` and `OperatorService` (generated from `temporalio-protos`) behind the
//! authorization layer, with an in-memory backend small enough to read in one sitting.
//!
//! The library part exists so the `frontend` binary, the end-to-end tests and other tools
//! (load generators, interop scripts) share one server: [`backend::Backend`] holds the state,
//! [`server::services`] builds the tonic services, and [`server::Frontend`] runs them on a
//! listener. In proxy mode ([`proxy`]) the Frontend forwards allowed calls to a real Temporal
//! frontend instead of serving the backend.

pub mod api_key_cmd;
pub mod backend;
pub mod can_i;
pub mod connections;
pub mod demo;
pub mod dev;
pub mod proxy;
pub mod security;
pub mod server;
pub mod temporal;
pub mod temporal_tables;

pub use backend::{Backend, BackendConfig, STARTER_MEMO_KEY, WorkflowSnapshot};
pub use server::{Frontend, RunningFrontend, Services, operator_client, services, workflow_client};

/// Temporal's official descriptor set (a serialized `google.protobuf.FileDescriptorSet`), as
/// built by `temporalio-protos`; tests check the library's tables against it.
pub const TEMPORAL_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/temporal_descriptor_set.bin"));
