//! The library's table of request fields a Cedar policy may look at
//! (`src/temporal/request_fields.rs`) checked against Temporal's official descriptors: for
//! every WorkflowService and OperatorService method, each context field sits exactly where the
//! table says, and the table misses none. On a difference the test prints the table the
//! descriptors give.

use std::collections::BTreeSet;

use prost_reflect::{DescriptorPool, Kind, MessageDescriptor};
use tonic_authz::temporal_request_fields;
use tonic_authz_examples::{
    TEMPORAL_DESCRIPTOR_SET,
    temporal::{OPERATOR_SERVICE_NAME, WORKFLOW_SERVICE_NAME},
};

/// Each context field and the field-name paths it is read from, first match wins.
const CANDIDATES: &[(&str, &[&str])] = &[
    ("taskQueue", &["task_queue.name", "task_queue"]),
    ("normalTaskQueue", &["task_queue.normal_name"]),
    ("workflowType", &["workflow_type.name", "workflow_type"]),
    (
        "workflowId",
        &[
            "workflow_id",
            "workflow_execution.workflow_id",
            "execution.workflow_id",
        ],
    ),
    ("scheduleId", &["schedule_id"]),
    ("signalName", &["signal_name"]),
    ("updateName", &["request.input.name"]),
    ("queryName", &["query.query_type"]),
];

/// The field numbers of a dotted path of singular fields ending in a string, if the message
/// has it.
fn resolve(message: &MessageDescriptor, path: &str) -> Option<Vec<u32>> {
    let mut numbers = Vec::new();
    let mut current = message.clone();
    let mut names = path.split('.').peekable();
    while let Some(name) = names.next() {
        let field = current.get_field_by_name(name)?;
        if field.is_list() || field.is_map() {
            return None;
        }
        numbers.push(field.number());
        match (names.peek(), field.kind()) {
            (None, Kind::String) => return Some(numbers),
            (Some(_), Kind::Message(inner)) => current = inner,
            _ => return None,
        }
    }
    None
}

#[test]
fn the_request_field_table_matches_the_official_descriptors() {
    let pool = DescriptorPool::decode(TEMPORAL_DESCRIPTOR_SET).expect("descriptors decode");
    let mut expected = BTreeSet::new();
    for service in [WORKFLOW_SERVICE_NAME, OPERATOR_SERVICE_NAME] {
        let service = pool.get_service_by_name(service).expect("service exists");
        for method in service.methods() {
            let api = format!("/{}/{}", service.full_name(), method.name());
            for (context, paths) in CANDIDATES {
                if let Some(numbers) = paths.iter().find_map(|p| resolve(&method.input(), p)) {
                    expected.insert((api.clone(), (*context).to_owned(), numbers));
                }
            }
        }
    }
    let table: BTreeSet<(String, String, Vec<u32>)> = temporal_request_fields()
        .map(|(api, context, path)| (api.to_owned(), context.to_owned(), path.to_vec()))
        .collect();
    if table != expected {
        let rows: String = expected
            .iter()
            .map(|(api, context, path)| format!("    ({api:?}, {context:?}, &{path:?}),\n"))
            .collect();
        panic!("the request field table differs from the descriptors; expected rows:\n{rows}");
    }
    assert!(table.len() > 40, "only {} rows", table.len());
}
