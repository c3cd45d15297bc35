//! The generator of the library's two Temporal tables, `src/temporal/api_table.rs` (the scope
//! and access of each API) and `src/temporal/namespace_fields.rs` (the field number of
//! `namespace` in each request message).
//!
//! Which methods exist and where their namespace field is comes from Temporal's official
//! descriptors (`temporalio-protos`); the scope and access of each method are not in the
//! descriptors, so they come from a checked-in classification,
//! `examples/src/temporal_tables/api_classification.txt`. Generation fails when a
//! WorkflowService or OperatorService method is missing from the classification, so a new
//! Temporal API is a failing test (see `tests/temporal_tables.rs`), never a silent denial.
//!
//! ```text
//! cargo run -p tonic-authz-examples --bin gen_temporal_tables
//! ```

mod classification;
mod error;
mod render;

use std::path::PathBuf;

use prost_reflect::{DescriptorPool, Kind, MethodDescriptor};

pub use classification::{Classified, parse_classification};
pub use error::GenerateError;

use crate::TEMPORAL_DESCRIPTOR_SET;
use crate::temporal::{OPERATOR_SERVICE_NAME, WORKFLOW_SERVICE_NAME};

/// The command that regenerates the tables, for messages that ask for it.
pub const REGENERATE_COMMAND: &str = "cargo run -p tonic-authz-examples --bin gen_temporal_tables";

/// The checked-in classification of Temporal's APIs (scope and access per method).
pub const CLASSIFICATION: &str = include_str!("api_classification.txt");

/// Where the API table lives, relative to the workspace root.
pub const API_TABLE_PATH: &str = "src/temporal/api_table.rs";

/// Where the namespace field table lives, relative to the workspace root.
pub const NAMESPACE_FIELDS_PATH: &str = "src/temporal/namespace_fields.rs";

/// The services whose every method must be classified, in the order the tables list them.
const SERVICES: [&str; 2] = [WORKFLOW_SERVICE_NAME, OPERATOR_SERVICE_NAME];

/// The two generated files, as Rust source text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemporalTables {
    /// The text of `src/temporal/api_table.rs`.
    pub api_table: String,
    /// The text of `src/temporal/namespace_fields.rs`.
    pub namespace_fields: String,
}

impl TemporalTables {
    /// Each file's path relative to the workspace root, with its text.
    #[must_use]
    pub fn files(&self) -> [(&'static str, &str); 2] {
        [
            (API_TABLE_PATH, &self.api_table),
            (NAMESPACE_FIELDS_PATH, &self.namespace_fields),
        ]
    }
}

/// The tables from the official descriptors and the checked-in classification.
///
/// # Errors
/// As [`generate`].
pub fn generate_official() -> Result<TemporalTables, GenerateError> {
    generate(TEMPORAL_DESCRIPTOR_SET, CLASSIFICATION)
}

/// The tables from a serialized `FileDescriptorSet` and a classification text.
///
/// # Errors
/// The descriptor set does not decode or lacks one of the two services; the classification
/// has a malformed or repeated line; a WorkflowService or OperatorService method in the
/// descriptors is not classified, or a classified one is not in the descriptors.
pub fn generate(descriptors: &[u8], classification: &str) -> Result<TemporalTables, GenerateError> {
    let pool = DescriptorPool::decode(descriptors).map_err(GenerateError::Descriptors)?;
    let methods = service_methods(&pool)?;
    let classified = parse_classification(classification)?;

    let unclassified: Vec<String> = methods
        .iter()
        .map(|(path, _)| path)
        .filter(|path| !classified.iter().any(|row| &row.path == *path))
        .cloned()
        .collect();
    if !unclassified.is_empty() {
        return Err(GenerateError::Unclassified(unclassified));
    }
    let unknown: Vec<String> = classified
        .iter()
        .map(|row| &row.path)
        .filter(|path| in_services(path) && !methods.iter().any(|(known, _)| known == *path))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(GenerateError::NotInDescriptors(unknown));
    }

    let fields: Vec<(&str, u32)> = methods
        .iter()
        .filter_map(|(path, method)| namespace_field(method).map(|field| (path.as_str(), field)))
        .collect();
    Ok(TemporalTables {
        api_table: render::api_table(&classified),
        namespace_fields: render::namespace_fields(&fields),
    })
}

/// The workspace root, where the generated files' paths start.
#[must_use]
pub fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Every method of the two services, by gRPC path, in descriptor order.
fn service_methods(
    pool: &DescriptorPool,
) -> Result<Vec<(String, MethodDescriptor)>, GenerateError> {
    let mut methods = Vec::new();
    for name in SERVICES {
        let service = pool
            .get_service_by_name(name)
            .ok_or_else(|| GenerateError::MissingService(name.to_owned()))?;
        for method in service.methods() {
            methods.push((format!("/{name}/{}", method.name()), method));
        }
    }
    Ok(methods)
}

/// Whether `path` names a method of one of the two services the descriptors describe.
fn in_services(path: &str) -> bool {
    SERVICES.iter().any(|service| {
        path.strip_prefix('/')
            .and_then(|rest| rest.strip_prefix(service))
            .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// The number of the request message's top-level `namespace` string field, if it has one.
fn namespace_field(method: &MethodDescriptor) -> Option<u32> {
    method
        .input()
        .get_field_by_name("namespace")
        .filter(|field| field.kind() == Kind::String && !field.is_list())
        .map(|field| field.number())
}
