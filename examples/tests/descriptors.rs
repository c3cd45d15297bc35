//! The library's built-in Temporal tables checked against Temporal's official descriptors (from
//! `temporalio-protos`): where the namespace lives in each request message, and that the
//! default authorizer's API table knows every method. A new Temporal release that moves a
//! field or adds a method fails here instead of silently mis-authorizing.

use std::collections::BTreeMap;

use prost_reflect::{DescriptorPool, Kind, MethodDescriptor};
use tonic_authz::ApiAccess;
use tonic_authz::fuzzing::temporal_namespace_fields;
use tonic_authz_examples::{
    TEMPORAL_DESCRIPTOR_SET,
    temporal::{OPERATOR_SERVICE_NAME, WORKFLOW_SERVICE_NAME},
};

fn pool() -> DescriptorPool {
    DescriptorPool::decode(TEMPORAL_DESCRIPTOR_SET).expect("the official descriptor set decodes")
}

/// Every method of the two services, by gRPC path.
fn methods(pool: &DescriptorPool) -> BTreeMap<String, MethodDescriptor> {
    [WORKFLOW_SERVICE_NAME, OPERATOR_SERVICE_NAME]
        .into_iter()
        .flat_map(|name| {
            pool.get_service_by_name(name)
                .unwrap_or_else(|| panic!("{name} is in the descriptor set"))
                .methods()
                .collect::<Vec<_>>()
        })
        .map(|method| {
            let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
            (path, method)
        })
        .collect()
}

/// The number of the request message's top-level `namespace` string field, if it has one.
fn namespace_field(method: &MethodDescriptor) -> Option<u32> {
    method
        .input()
        .get_field_by_name("namespace")
        .filter(|field| field.kind() == Kind::String && !field.is_list())
        .map(|field| field.number())
}

#[test]
fn the_namespace_field_table_matches_the_official_descriptors() {
    let pool = pool();
    let methods = methods(&pool);
    assert!(methods.len() > 100, "found only {} methods", methods.len());
    let table: BTreeMap<&str, u32> = temporal_namespace_fields().collect();

    for (path, field) in &table {
        let method = methods
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not a WorkflowService/OperatorService method"));
        assert_eq!(
            namespace_field(method),
            Some(*field),
            "{path}: the table says field {field}, the descriptor disagrees"
        );
    }
    for (path, method) in &methods {
        if let Some(field) = namespace_field(method) {
            assert_eq!(
                table.get(path.as_str()),
                Some(&field),
                "{path} has `namespace` = {field} but the table does not say so"
            );
        }
    }
}

#[test]
fn every_temporal_method_is_in_the_default_access_table() {
    let access = ApiAccess::temporal();
    let missing: Vec<String> = methods(&pool())
        .into_keys()
        .filter(|path| access.get(path).is_none())
        .collect();
    assert_eq!(missing, Vec::<String>::new());
}

#[test]
fn the_generated_services_are_the_official_ones() {
    use tonic::server::NamedService;
    use tonic_authz_examples::Backend;
    use tonic_authz_examples::temporal::{
        operatorservice::operator_service_server::OperatorServiceServer,
        workflowservice::workflow_service_server::WorkflowServiceServer,
    };

    assert_eq!(
        <WorkflowServiceServer<Backend> as NamedService>::NAME,
        WORKFLOW_SERVICE_NAME
    );
    assert_eq!(
        <OperatorServiceServer<Backend> as NamedService>::NAME,
        OPERATOR_SERVICE_NAME
    );
}
