//! The Worker role, switched on with `DefaultAuthorizer::with_worker_role`: a caller holding it
//! in a namespace may call exactly the APIs a worker needs there, and nothing else; without
//! the option the Worker role grants nothing, as in Temporal.

use tonic_authz::{
    ApiAccess, CallTarget, Claims, DefaultAuthorizer, Role, Scope, is_health_check_api,
    is_worker_api, worker_apis,
};

fn allowed(authz: &DefaultAuthorizer, claims: &Claims, ns: &str) -> Vec<String> {
    let mut apis: Vec<String> = ApiAccess::temporal()
        .methods()
        .filter(|(api, _)| {
            authz
                .decide(Some(claims), &CallTarget::new(*api, ns))
                .is_allow()
        })
        .map(|(api, _)| api.to_owned())
        .collect();
    apis.sort();
    apis
}

#[test]
fn every_worker_api_is_a_known_namespace_api() {
    let access = ApiAccess::temporal();
    for api in worker_apis() {
        let method = access
            .get(api)
            .unwrap_or_else(|| panic!("{api} is unknown"));
        assert!(
            method.scope == Scope::Namespace || is_health_check_api(api),
            "{api} is cluster-scoped"
        );
    }
}

#[test]
fn a_worker_may_call_exactly_the_worker_apis_in_its_namespace() {
    let authz = DefaultAuthorizer::new().with_worker_role();
    assert!(authz.worker_role());
    let worker = Claims::new().with_namespace("orders", Role::WORKER);
    let mut expected: Vec<String> = worker_apis().map(str::to_owned).collect();
    expected.sort();
    assert_eq!(allowed(&authz, &worker, "orders"), expected);
    // In another namespace only the always-allowed API remains.
    assert_eq!(
        allowed(&authz, &worker, "payroll"),
        vec!["/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo".to_owned()]
    );
    // A system-wide worker is a worker in every namespace.
    let system_worker = Claims::new().with_system(Role::WORKER);
    assert_eq!(allowed(&authz, &system_worker, "payroll"), expected);
}

#[test]
fn without_the_option_the_worker_role_grants_nothing() {
    let authz = DefaultAuthorizer::new();
    assert!(!authz.worker_role());
    let worker = Claims::new().with_namespace("orders", Role::WORKER);
    assert_eq!(
        allowed(&authz, &worker, "orders"),
        vec!["/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo".to_owned()]
    );
}

#[test]
fn a_reader_worker_gets_reads_and_worker_apis_but_no_other_write() {
    let authz = DefaultAuthorizer::new().with_worker_role();
    let claims = Claims::new().with_namespace("orders", Role::WORKER | Role::READER);
    let got = allowed(&authz, &claims, "orders");
    let start = "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";
    let poll = "/temporal.api.workflowservice.v1.WorkflowService/PollActivityTaskQueue";
    let list = "/temporal.api.workflowservice.v1.WorkflowService/ListWorkflowExecutions";
    assert!(got.iter().any(|a| a == poll));
    assert!(got.iter().any(|a| a == list));
    assert!(!got.iter().any(|a| a == start));
    assert!(is_worker_api(poll) && !is_worker_api(start));
}
