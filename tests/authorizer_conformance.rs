//! Conformance of the default authorizer, Temporal's API access table and the no-op pair with
//! Temporal's own behaviour (reference spec sections B and G).
//!
//! Conventions follow the spec: `WS/X`, `OS/X`, `AS/X` and `NX/X` abbreviate the full paths of
//! WorkflowService, OperatorService, AdminService and the Nexus HTTP API names; `tn` is
//! `test-namespace`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tonic_authz::{
    Access, ApiAccess, AuthInfo, Authorizer, CallTarget, ClaimMapper, Claims, ClaimsError,
    ClaimsErrorKind, Decision, DefaultAuthorizer, MethodAccess, NoopAuthorizer, NoopClaimMapper,
    Role, Scope, is_health_check_api, is_read_only_global_api, is_read_only_namespace_api,
};

const WS: &str = "/temporal.api.workflowservice.v1.WorkflowService/";
const OS: &str = "/temporal.api.operatorservice.v1.OperatorService/";
const AS: &str = "/temporal.server.api.adminservice.v1.AdminService/";
const NX: &str = "/temporal.api.nexusservice.v1.NexusService/";
const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";
const HEALTH_WATCH: &str = "/grpc.health.v1.Health/Watch";
const TN: &str = "test-namespace";

/// Expands the spec's `WS/`, `OS/`, `AS/`, `NX/` abbreviations to full gRPC paths.
fn path(short: &str) -> String {
    let (service, method) = short.split_once('/').expect("abbreviated path");
    let prefix = match service {
        "WS" => WS,
        "OS" => OS,
        "AS" => AS,
        "NX" => NX,
        other => panic!("unknown abbreviation {other}"),
    };
    format!("{prefix}{method}")
}

fn target(api: &str, namespace: &str) -> CallTarget {
    CallTarget::new(api, namespace)
}

fn decide(claims: Option<&Claims>, api: &str, namespace: &str) -> Decision {
    let authz = DefaultAuthorizer::new();
    let decision = authz.decide(claims, &target(api, namespace));
    // The layer asks for the decision without waiting first: it must be the same one.
    let now = authz.authorize_now(claims, &target(api, namespace));
    assert_eq!(
        now.map(|d| d.expect("the default authorizer never fails")),
        Some(decision.clone()),
        "authorize_now disagrees on {api} in {namespace:?} for {claims:?}"
    );
    #[cfg(feature = "cedar")]
    cedar_agrees(cedar_default(), claims, &target(api, namespace), &decision);
    decision
}

/// The Cedar authorizer over `examples/policies/temporal-default.cedar`, built once.
#[cfg(feature = "cedar")]
fn cedar_default() -> &'static tonic_authz::CedarAuthorizer {
    static CEDAR: std::sync::OnceLock<tonic_authz::CedarAuthorizer> = std::sync::OnceLock::new();
    CEDAR.get_or_init(|| cedar_over(ApiAccess::temporal()))
}

#[cfg(feature = "cedar")]
fn cedar_over(access: ApiAccess) -> tonic_authz::CedarAuthorizer {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/policies/temporal-default.cedar"
    );
    tonic_authz::CedarAuthorizer::builder()
        .access(access)
        .policy_file(file)
        .expect("the default policies load")
}

/// Every vector of this file is also put to the Cedar authorizer with Temporal's default
/// rules written as policies: it must give the same decision.
#[cfg(feature = "cedar")]
fn cedar_agrees(
    cedar: &tonic_authz::CedarAuthorizer,
    claims: Option<&Claims>,
    target: &CallTarget,
    expected: &Decision,
) {
    let got = cedar.decide(claims, target).expect("cedar decides");
    let now = cedar
        .authorize_now(claims, target)
        .map(|d| d.expect("cedar decides"));
    assert_eq!(now.as_ref(), Some(&got), "cedar's authorize_now disagrees");
    assert_eq!(
        got.is_allow(),
        expected.is_allow(),
        "cedar disagrees on {} in {:?} for {claims:?}",
        target.api_name(),
        target.namespace()
    );
}

fn system(role: Role) -> Claims {
    Claims::new().with_system(role)
}

fn namespace(ns: &str, role: Role) -> Claims {
    Claims::new().with_namespace(ns, role)
}

fn method(scope: Scope, access: Access) -> Option<MethodAccess> {
    Some(MethodAccess { scope, access })
}

// ---------------------------------------------------------------------------------------------
// G.1: default_authorizer_test.go, TestAuthorize (27 rows, claims always present).
// ---------------------------------------------------------------------------------------------

struct Row {
    name: &'static str,
    claims: Claims,
    api: String,
    namespace: &'static str,
    allow: bool,
}

fn g1_rows() -> Vec<Row> {
    let t_bar = (path("WS/RespondWorkflowTaskCompleted"), "bar");
    let t_bar_upper = (path("WS/RespondWorkflowTaskCompleted"), "BAR");
    let t_osread = (path("OS/ListSearchAttributes"), TN);
    let t_health = (HEALTH_CHECK.to_owned(), "");
    let t_sysinfo = (path("WS/GetSystemInfo"), "");
    let t_start = (path("WS/StartWorkflowExecution"), TN);
    let t_admin = (path("AS/AddSearchAttributes"), TN);

    let row = |name, claims, (api, ns): &(String, &'static str), allow| Row {
        name,
        claims,
        api: api.clone(),
        namespace: ns,
        allow,
    };
    vec![
        row("SystemAdminOnFooBar", system(Role::ADMIN), &t_bar, true),
        row("SystemAdminOnAdminAPI", system(Role::ADMIN), &t_admin, true),
        row(
            "SystemAdminOnStartWorkflow",
            system(Role::ADMIN),
            &t_start,
            true,
        ),
        row("SystemWriterOnFooBar", system(Role::WRITER), &t_bar, true),
        row(
            "SystemWriterOnAdminAPI",
            system(Role::WRITER),
            &t_admin,
            false,
        ),
        row(
            "SystemWriterOnStartWorkflow",
            system(Role::WRITER),
            &t_start,
            true,
        ),
        row("SystemReaderOnFooBar", system(Role::READER), &t_bar, false),
        row(
            "SystemReaderOnAdminAPI",
            system(Role::READER),
            &t_admin,
            false,
        ),
        row(
            "SystemReaderOnStartWorkflow",
            system(Role::READER),
            &t_start,
            false,
        ),
        row(
            "NamespaceAdminOnAdminAPI",
            namespace(TN, Role::ADMIN),
            &t_admin,
            false,
        ),
        row(
            "NamespaceAdminOnStartWorkflow",
            namespace(TN, Role::ADMIN),
            &t_start,
            true,
        ),
        row(
            "NamespaceAdminOnFooBar",
            namespace(TN, Role::ADMIN),
            &t_bar,
            false,
        ),
        row(
            "BarAdminOnFooBar",
            namespace("bar", Role::ADMIN),
            &t_bar,
            true,
        ),
        row(
            "BarAdminOnFooBAR",
            namespace("bar", Role::ADMIN),
            &t_bar_upper,
            false,
        ),
        row(
            "NamespaceWriterOnAdminAPI",
            namespace(TN, Role::WRITER),
            &t_admin,
            false,
        ),
        row(
            "NamespaceWriterOnStartWorkflow",
            namespace(TN, Role::WRITER),
            &t_start,
            true,
        ),
        row(
            "NamespaceWriterOnOperatorNamespaceRead",
            namespace(TN, Role::WRITER),
            &t_osread,
            true,
        ),
        row(
            "NamespaceWriterOnFooBar",
            namespace(TN, Role::WRITER),
            &t_bar,
            false,
        ),
        row(
            "NamespaceReaderOnAdminAPI",
            namespace(TN, Role::READER),
            &t_admin,
            false,
        ),
        row(
            "NamespaceReaderOnStartWorkflow",
            namespace(TN, Role::READER),
            &t_start,
            false,
        ),
        row(
            "NamespaceReaderOnFooBar",
            namespace(TN, Role::READER),
            &t_bar,
            false,
        ),
        row(
            "NamespaceReaderOnListWorkflow",
            namespace(TN, Role::READER),
            &t_sysinfo,
            true,
        ),
        row(
            "NamespaceReaderOnOperatorNamespaceRead",
            namespace(TN, Role::READER),
            &t_osread,
            true,
        ),
        row("RoleNoneOnGetSystemInfo", Claims::new(), &t_sysinfo, true),
        row(
            "NamespaceReaderOnGetSystemInfo",
            namespace(TN, Role::READER),
            &t_sysinfo,
            true,
        ),
        row("RoleNoneOnHealthCheck", Claims::new(), &t_health, true),
        row(
            "NamespaceReaderOnHealthCheck",
            namespace(TN, Role::READER),
            &t_health,
            true,
        ),
    ]
}

#[tokio::test]
async fn g1_default_authorizer_test_authorize() {
    let rows = g1_rows();
    assert_eq!(rows.len(), 27);
    let names: BTreeSet<_> = rows.iter().map(|r| r.name).collect();
    assert_eq!(names.len(), 27, "row names are unique");

    let authz = DefaultAuthorizer::new();
    let dyn_authz: &dyn Authorizer = &authz;
    let mut failures = Vec::new();
    for row in &rows {
        let target = target(&row.api, row.namespace);
        let sync = authz.decide(Some(&row.claims), &target);
        let via_trait = dyn_authz
            .authorize(Some(&row.claims), &target)
            .await
            .expect("the default authorizer never fails");
        let expected = if row.allow {
            Decision::Allow
        } else {
            Decision::deny()
        };
        #[cfg(feature = "cedar")]
        cedar_agrees(cedar_default(), Some(&row.claims), &target, &expected);
        if sync != expected || via_trait != expected {
            failures.push(format!(
                "{}: expected {expected:?}, decide gave {sync:?}, authorize gave {via_trait:?}",
                row.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "failing rows:\n{}",
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// B.2: the numeric comparison, every mask 0..15 against Read/Write/Admin, both scopes.
// ---------------------------------------------------------------------------------------------

/// The spec's B.2 table, written out row by row: (masks, read, write, admin).
const TRUTH_TABLE: [(&[u16], bool, bool, bool); 4] = [
    (&[0, 1], false, false, false),
    (&[2, 3], true, false, false),
    (&[4, 5, 6, 7], true, true, false),
    (&[8, 9, 10, 11, 12, 13, 14, 15], true, true, true),
];

const ACCESSES: [Access; 3] = [Access::Read, Access::Write, Access::Admin];

fn expected_by_table(mask: u16, access: Access) -> bool {
    let (_, read, write, admin) = TRUTH_TABLE
        .iter()
        .find(|(masks, ..)| masks.contains(&mask))
        .expect("every mask 0..15 is in the table");
    match access {
        Access::Read => *read,
        Access::Write => *write,
        Access::Admin => *admin,
        _ => unreachable!("only three accesses exist"),
    }
}

/// A table with one made-up method per (scope, access) pair, so all six combinations exist.
fn truth_table_access() -> (ApiAccess, Vec<(Scope, Access, String)>) {
    let mut access = ApiAccess::empty();
    let mut methods = Vec::new();
    for scope in [Scope::Cluster, Scope::Namespace] {
        for a in ACCESSES {
            let p = format!("/truth.v1.Table/{scope:?}{a:?}");
            access = access.try_with_method(&p, scope, a).expect("a method path");
            methods.push((scope, a, p));
        }
    }
    (access, methods)
}

#[test]
fn b2_truth_table_every_mask_both_scopes() {
    let table_masks: Vec<u16> = TRUTH_TABLE
        .iter()
        .flat_map(|(m, ..)| m.iter().copied())
        .collect();
    assert_eq!(table_masks, (0..16).collect::<Vec<u16>>());

    let (access, methods) = truth_table_access();
    #[cfg(feature = "cedar")]
    let cedar = cedar_over(access.clone());
    let authz = DefaultAuthorizer::new().with_access(access);
    let mut failures = Vec::new();
    let mut checked = 0;
    for mask in 0u16..16 {
        let role = Role::from_bits(mask);
        for (scope, a, api) in &methods {
            let expected = expected_by_table(mask, *a);
            // The mask as the system role: counts for both scopes.
            let mut cases = vec![("system", system(role), expected)];
            match scope {
                Scope::Namespace => {
                    // The mask as the role in the target namespace.
                    cases.push(("namespace", namespace(TN, role), expected));
                    // Split between system and namespace: the two are OR'ed.
                    let split = Claims::new()
                        .with_system(Role::from_bits(mask & 0b0101))
                        .with_namespace(TN, Role::from_bits(mask & 0b1010));
                    cases.push(("split", split, expected));
                    // The mask in another namespace counts for nothing.
                    cases.push(("other-namespace", namespace("other", role), false));
                }
                _ => {
                    // Namespace roles never satisfy a cluster-scoped API.
                    cases.push(("namespace", namespace(TN, role), false));
                }
            }
            for (how, claims, expected) in cases {
                checked += 1;
                let got = authz.decide(Some(&claims), &target(api, TN)).is_allow();
                #[cfg(feature = "cedar")]
                cedar_agrees(
                    &cedar,
                    Some(&claims),
                    &target(api, TN),
                    &authz.decide(Some(&claims), &target(api, TN)),
                );
                if got != expected {
                    failures.push(format!("mask {mask} as {how} on {api}: got allow={got}"));
                }
            }
        }
    }
    // 16 masks x (3 cluster x 2 cases + 3 namespace x 4 cases).
    assert_eq!(checked, 16 * (3 * 2 + 3 * 4));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn b2_truth_table_on_temporal_methods() {
    // The same table on real Temporal APIs: Cluster/Read, Cluster/Admin, and the three
    // namespace accesses.
    let cases = [
        (path("WS/ListNamespaces"), Scope::Cluster, Access::Read),
        (path("OS/ListClusters"), Scope::Cluster, Access::Admin),
        (
            path("WS/DescribeWorkflowExecution"),
            Scope::Namespace,
            Access::Read,
        ),
        (
            path("WS/StartWorkflowExecution"),
            Scope::Namespace,
            Access::Write,
        ),
        (path("WS/UpdateNamespace"), Scope::Namespace, Access::Admin),
    ];
    for mask in 0u16..16 {
        let role = Role::from_bits(mask);
        for (api, scope, a) in &cases {
            let expected = expected_by_table(mask, *a);
            assert_eq!(
                decide(Some(&system(role)), api, TN).is_allow(),
                expected,
                "system mask {mask} on {api}"
            );
            let ns_expected = *scope == Scope::Namespace && expected;
            assert_eq!(
                decide(Some(&namespace(TN, role)), api, TN).is_allow(),
                ns_expected,
                "namespace mask {mask} on {api}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// G.5: common/api/metadata_test.go, GetMethodMetadata; and G.5 roles_test.go.
// ---------------------------------------------------------------------------------------------

#[test]
fn g5_get_method_metadata() {
    let table = ApiAccess::temporal();
    assert_eq!(
        table.get(&path("WS/RespondActivityTaskCompleted")),
        method(Scope::Namespace, Access::Write)
    );
    assert_eq!(
        table.get(&path("NX/DispatchNexusTask")),
        method(Scope::Namespace, Access::Write)
    );
    assert_eq!(
        table.get(&path("AS/CloseShard")),
        method(Scope::Cluster, Access::Admin)
    );
    assert_eq!(table.get("/OtherService/Method1"), None);
}

#[test]
fn g5_roles_validity() {
    for bits in [32u16, 33, 64, 125] {
        assert!(!Role::from_bits(bits).is_valid(), "{bits} is invalid");
    }
    let (w, r, wr, a) = (Role::WORKER, Role::READER, Role::WRITER, Role::ADMIN);
    let valid = [
        Role::UNDEFINED,
        w,
        r,
        wr,
        a,
        w | r,
        w | wr,
        w | a,
        w | r | wr,
        w | r | a,
        w | r | wr | a,
        r | wr,
        r | a,
        r | wr | a,
    ];
    for role in valid {
        assert!(role.is_valid(), "{role} is valid");
    }
}

// ---------------------------------------------------------------------------------------------
// G.7: authorizer vectors. These are DERIVED from Temporal's code by the spec's author, not
// ported from an upstream test.
// ---------------------------------------------------------------------------------------------

#[test]
fn g7_derived_authorizer_vectors() {
    let x_worker_reader = namespace("x", Role::WORKER | Role::READER);
    let x_admin = namespace("x", Role::ADMIN);
    let empty_ns_admin = namespace("", Role::ADMIN);
    let cases: Vec<(&str, Option<Claims>, String, &str, bool)> = vec![
        (
            "null claims, StartWorkflowExecution",
            None,
            path("WS/StartWorkflowExecution"),
            "",
            false,
        ),
        (
            "null claims, health Check",
            None,
            HEALTH_CHECK.to_owned(),
            "",
            true,
        ),
        (
            "null claims, GetSystemInfo",
            None,
            path("WS/GetSystemInfo"),
            "",
            true,
        ),
        (
            "system worker polls",
            Some(system(Role::WORKER)),
            path("WS/PollWorkflowTaskQueue"),
            "x",
            false,
        ),
        (
            "worker|reader describes",
            Some(x_worker_reader.clone()),
            path("WS/DescribeWorkflowExecution"),
            "x",
            true,
        ),
        (
            "worker|reader signals",
            Some(x_worker_reader),
            path("WS/SignalWorkflowExecution"),
            "x",
            false,
        ),
        (
            "namespace admin lists namespaces",
            Some(x_admin.clone()),
            path("WS/ListNamespaces"),
            "",
            false,
        ),
        (
            "system reader lists namespaces",
            Some(system(Role::READER)),
            path("WS/ListNamespaces"),
            "",
            true,
        ),
        (
            "system reader lists clusters",
            Some(system(Role::READER)),
            path("OS/ListClusters"),
            "",
            false,
        ),
        (
            "namespace admin deletes its namespace",
            Some(x_admin.clone()),
            path("OS/DeleteNamespace"),
            "x",
            true,
        ),
        (
            "namespace admin deletes by id",
            Some(x_admin),
            path("OS/DeleteNamespace"),
            "",
            false,
        ),
        (
            "empty-namespace admin deletes by id",
            Some(empty_ns_admin),
            path("OS/DeleteNamespace"),
            "",
            true,
        ),
        (
            "system admin on health Watch",
            Some(system(Role::ADMIN)),
            HEALTH_WATCH.to_owned(),
            "",
            false,
        ),
        (
            "system admin on unknown WorkflowService method",
            Some(system(Role::ADMIN)),
            path("WS/NoSuchMethod"),
            "",
            false,
        ),
        (
            "system reader on DeepHealthCheck",
            Some(system(Role::READER)),
            path("AS/DeepHealthCheck"),
            "",
            false,
        ),
    ];
    assert_eq!(cases.len(), 15);
    for (name, claims, api, ns, allow) in cases {
        assert_eq!(
            decide(claims.as_ref(), &api, ns).is_allow(),
            allow,
            "{name}"
        );
    }
}

#[test]
fn b4_null_claims_deny_everything_but_the_two_always_allowed() {
    let table = ApiAccess::temporal();
    let mut allowed = BTreeSet::new();
    for (api, _) in table.methods() {
        if decide(None, api, TN).is_allow() {
            allowed.insert(api.to_owned());
        }
    }
    for api in [HEALTH_CHECK, HEALTH_WATCH, "/grpc.health.v1.Health/List"] {
        if decide(None, api, "").is_allow() {
            allowed.insert(api.to_owned());
        }
    }
    let expected: BTreeSet<String> = [HEALTH_CHECK.to_owned(), path("WS/GetSystemInfo")].into();
    assert_eq!(allowed, expected);
}

#[test]
fn b4_empty_claims_deny_every_listed_method_except_the_two_always_allowed() {
    let table = ApiAccess::temporal();
    let empty = Claims::new();
    let allowed: BTreeSet<&str> = table
        .methods()
        .filter(|(api, _)| decide(Some(&empty), api, TN).is_allow())
        .map(|(api, _)| api)
        .collect();
    assert_eq!(allowed, BTreeSet::from([&*path("WS/GetSystemInfo")]));
}

// ---------------------------------------------------------------------------------------------
// B.3: the method table, section by section.
// ---------------------------------------------------------------------------------------------

/// Spec B.3.1 Cluster / Read (4 names).
const CLUSTER_READ: [&str; 4] = [
    "WS/ListNamespaces",
    "WS/GetSearchAttributes",
    "WS/GetClusterInfo",
    "WS/GetSystemInfo",
];
/// Spec B.3.2 Cluster / Admin (OperatorService) (8 names).
const CLUSTER_ADMIN: [&str; 8] = [
    "OS/AddOrUpdateRemoteCluster",
    "OS/RemoveRemoteCluster",
    "OS/ListClusters",
    "OS/CreateNexusEndpoint",
    "OS/UpdateNexusEndpoint",
    "OS/DeleteNexusEndpoint",
    "OS/GetNexusEndpoint",
    "OS/ListNexusEndpoints",
];

/// Spec B.3.3 Namespace / Read (47 names).
const NAMESPACE_READ: [&str; 47] = [
    "WS/DescribeNamespace",
    "WS/GetWorkflowExecutionHistory",
    "WS/GetWorkflowExecutionHistoryReverse",
    "WS/CountActivityExecutions",
    "WS/CountNexusOperationExecutions",
    "WS/DescribeActivityExecution",
    "WS/DescribeNexusOperationExecution",
    "WS/PollActivityExecution",
    "WS/PollNexusOperationExecution",
    "WS/ListActivityExecutions",
    "WS/ListNexusOperationExecutions",
    "WS/ListOpenWorkflowExecutions",
    "WS/ListClosedWorkflowExecutions",
    "WS/ListWorkflowExecutions",
    "WS/ListArchivedWorkflowExecutions",
    "WS/ScanWorkflowExecutions",
    "WS/CountWorkflowExecutions",
    "WS/QueryWorkflow",
    "WS/DescribeWorkflowExecution",
    "WS/DescribeTaskQueue",
    "WS/ListTaskQueuePartitions",
    "WS/DescribeSchedule",
    "WS/ListScheduleMatchingTimes",
    "WS/ListSchedules",
    "WS/CountSchedules",
    "WS/GetWorkerBuildIdCompatibility",
    "WS/GetWorkerVersioningRules",
    "WS/GetWorkerTaskReachability",
    "WS/PollWorkflowExecutionUpdate",
    "WS/PollWorkflowExecutionTimeSkipping",
    "WS/DescribeBatchOperation",
    "WS/ListBatchOperations",
    "WS/DescribeDeployment",
    "WS/ListDeployments",
    "WS/GetDeploymentReachability",
    "WS/GetCurrentDeployment",
    "WS/DescribeWorkerDeploymentVersion",
    "WS/DescribeWorkerDeployment",
    "WS/ValidateWorkerDeploymentVersionComputeConfig",
    "WS/ListWorkerDeployments",
    "WS/DescribeWorkflowRule",
    "WS/ListWorkflowRules",
    "WS/ListWorkers",
    "WS/CountWorkers",
    "WS/DescribeWorker",
    "WS/FetchWorkerConfig",
    "OS/ListSearchAttributes",
];

/// Spec B.3.4 Namespace / Write (75 names).
const NAMESPACE_WRITE: [&str; 75] = [
    "WS/StartWorkflowExecution",
    "WS/PollWorkflowTaskQueue",
    "WS/RespondWorkflowTaskCompleted",
    "WS/RespondWorkflowTaskFailed",
    "WS/PollActivityTaskQueue",
    "WS/RecordActivityTaskHeartbeat",
    "WS/RecordActivityTaskHeartbeatById",
    "WS/RespondActivityTaskCompleted",
    "WS/RespondActivityTaskCompletedById",
    "WS/RespondActivityTaskFailed",
    "WS/RespondActivityTaskFailedById",
    "WS/RespondActivityTaskCanceled",
    "WS/RespondActivityTaskCanceledById",
    "WS/DeleteActivityExecution",
    "WS/DeleteNexusOperationExecution",
    "WS/RequestCancelActivityExecution",
    "WS/RequestCancelNexusOperationExecution",
    "WS/StartActivityExecution",
    "WS/StartNexusOperationExecution",
    "WS/TerminateActivityExecution",
    "WS/TerminateNexusOperationExecution",
    "WS/PollNexusTaskQueue",
    "WS/RespondNexusTaskCompleted",
    "WS/RespondNexusTaskFailed",
    "WS/RequestCancelWorkflowExecution",
    "WS/SignalWorkflowExecution",
    "WS/SignalWithStartWorkflowExecution",
    "WS/ResetWorkflowExecution",
    "WS/TerminateWorkflowExecution",
    "WS/DeleteWorkflowExecution",
    "WS/RespondQueryTaskCompleted",
    "WS/ResetStickyTaskQueue",
    "WS/ShutdownWorker",
    "WS/ExecuteMultiOperation",
    "WS/CreateSchedule",
    "WS/UpdateSchedule",
    "WS/PatchSchedule",
    "WS/DeleteSchedule",
    "WS/UpdateWorkerBuildIdCompatibility",
    "WS/UpdateWorkerVersioningRules",
    "WS/UpdateWorkflowExecution",
    "WS/StartBatchOperation",
    "WS/StopBatchOperation",
    "WS/UpdateActivityOptions",
    "WS/PauseActivity",
    "WS/UnpauseActivity",
    "WS/ResetActivity",
    "WS/UpdateActivityExecutionOptions",
    "WS/PauseActivityExecution",
    "WS/UnpauseActivityExecution",
    "WS/ResetActivityExecution",
    "WS/UpdateWorkflowExecutionOptions",
    "WS/SetCurrentDeployment",
    "WS/SetWorkerDeploymentCurrentVersion",
    "WS/SetWorkerDeploymentRampingVersion",
    "WS/SetWorkerDeploymentManager",
    "WS/CreateWorkerDeployment",
    "WS/DeleteWorkerDeployment",
    "WS/CreateWorkerDeploymentVersion",
    "WS/UpdateWorkerDeploymentVersionComputeConfig",
    "WS/DeleteWorkerDeploymentVersion",
    "WS/UpdateWorkerDeploymentVersionMetadata",
    "WS/CreateWorkflowRule",
    "WS/DeleteWorkflowRule",
    "WS/TriggerWorkflowRule",
    "WS/RecordWorkerHeartbeat",
    "WS/UpdateTaskQueueConfig",
    "WS/UpdateWorkerConfig",
    "WS/PauseWorkflowExecution",
    "WS/UnpauseWorkflowExecution",
    "NX/DispatchNexusTask",
    "NX/DispatchByNamespaceAndTaskQueue",
    "NX/DispatchByEndpoint",
    "NX/CompleteNexusOperation",
    "NX/CompleteNexusOperationChasm",
];

/// Spec B.3.5 Namespace / Admin (6 names).
const NAMESPACE_ADMIN: [&str; 6] = [
    "WS/RegisterNamespace",
    "WS/UpdateNamespace",
    "WS/DeprecateNamespace",
    "OS/AddSearchAttributes",
    "OS/RemoveSearchAttributes",
    "OS/DeleteNamespace",
];

/// Spec B.3.2: every AdminService method at Temporal HEAD (46 names).
const ADMIN_SERVICE_METHODS: [&str; 46] = [
    "AS/RebuildMutableState",
    "AS/ImportWorkflowExecution",
    "AS/DescribeMutableState",
    "AS/DescribeHistoryHost",
    "AS/GetShard",
    "AS/CloseShard",
    "AS/ListHistoryTasks",
    "AS/RemoveTask",
    "AS/GetWorkflowExecutionRawHistoryV2",
    "AS/GetWorkflowExecutionRawHistory",
    "AS/GetReplicationMessages",
    "AS/GetNamespaceReplicationMessages",
    "AS/GetDLQReplicationMessages",
    "AS/ReapplyEvents",
    "AS/AddSearchAttributes",
    "AS/RemoveSearchAttributes",
    "AS/GetSearchAttributes",
    "AS/DescribeCluster",
    "AS/ListClusters",
    "AS/ListClusterMembers",
    "AS/AddOrUpdateRemoteCluster",
    "AS/RemoveRemoteCluster",
    "AS/GetDLQMessages",
    "AS/PurgeDLQMessages",
    "AS/MergeDLQMessages",
    "AS/RefreshWorkflowTasks",
    "AS/StartAdminBatchOperation",
    "AS/ResendReplicationTasks",
    "AS/GetTaskQueueTasks",
    "AS/DeleteWorkflowExecution",
    "AS/StreamWorkflowReplicationMessages",
    "AS/GetNamespace",
    "AS/GetDLQTasks",
    "AS/PurgeDLQTasks",
    "AS/MergeDLQTasks",
    "AS/DescribeDLQJob",
    "AS/CancelDLQJob",
    "AS/AddTasks",
    "AS/ListQueues",
    "AS/DeepHealthCheck",
    "AS/SyncWorkflowState",
    "AS/GenerateLastHistoryReplicationTasks",
    "AS/DescribeTaskQueuePartition",
    "AS/ForceUnloadTaskQueuePartition",
    "AS/GetTaskQueueUserData",
    "AS/MigrateSchedule",
];

fn full_set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| path(n)).collect()
}

#[test]
fn b3_table_sections_match_the_spec_exactly() {
    let table = ApiAccess::temporal();
    let mut by_class: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for (api, m) in table.methods() {
        by_class
            .entry((format!("{:?}", m.scope), format!("{:?}", m.access)))
            .or_default()
            .insert(api.to_owned());
    }
    let class = |scope: Scope, access: Access| {
        by_class
            .get(&(format!("{scope:?}"), format!("{access:?}")))
            .cloned()
            .unwrap_or_default()
    };

    assert_eq!(class(Scope::Cluster, Access::Read).len(), 4);
    assert_eq!(class(Scope::Cluster, Access::Admin).len(), 8);
    assert_eq!(class(Scope::Namespace, Access::Read).len(), 47);
    assert_eq!(class(Scope::Namespace, Access::Write).len(), 75);
    assert_eq!(class(Scope::Namespace, Access::Admin).len(), 6);
    assert_eq!(class(Scope::Cluster, Access::Write).len(), 0);
    assert_eq!(table.methods().count(), 4 + 8 + 47 + 75 + 6);

    assert_eq!(class(Scope::Cluster, Access::Read), full_set(&CLUSTER_READ));
    assert_eq!(
        class(Scope::Cluster, Access::Admin),
        full_set(&CLUSTER_ADMIN)
    );
    assert_eq!(
        class(Scope::Namespace, Access::Read),
        full_set(&NAMESPACE_READ)
    );
    assert_eq!(
        class(Scope::Namespace, Access::Write),
        full_set(&NAMESPACE_WRITE)
    );
    assert_eq!(
        class(Scope::Namespace, Access::Admin),
        full_set(&NAMESPACE_ADMIN)
    );

    // The listed OperatorService cluster methods are exactly the 8 of B.3.2.
    assert!(CLUSTER_ADMIN.iter().all(|n| n.starts_with("OS/")));
    // GetSystemInfo is both always allowed and Cluster/Read (B.3.0, B.3.1).
    assert!(is_health_check_api(&path("WS/GetSystemInfo")));
}

#[test]
fn b3_every_section_name_resolves_through_get() {
    let table = ApiAccess::temporal();
    let sections: [(&[&str], Scope, Access); 5] = [
        (&CLUSTER_READ, Scope::Cluster, Access::Read),
        (&CLUSTER_ADMIN, Scope::Cluster, Access::Admin),
        (&NAMESPACE_READ, Scope::Namespace, Access::Read),
        (&NAMESPACE_WRITE, Scope::Namespace, Access::Write),
        (&NAMESPACE_ADMIN, Scope::Namespace, Access::Admin),
    ];
    for (names, scope, access) in sections {
        for name in names {
            assert_eq!(table.get(&path(name)), method(scope, access), "{name}");
        }
    }
}

#[test]
fn b3_every_admin_service_path_is_cluster_admin() {
    let table = ApiAccess::temporal();
    assert_eq!(ADMIN_SERVICE_METHODS.len(), 46);
    let made_up = ["AS/NoSuchMethod", "AS/FutureApi2030", "AS/x", "AS/"];
    for name in ADMIN_SERVICE_METHODS.iter().chain(made_up.iter()) {
        let api = path(name);
        assert_eq!(
            table.get(&api),
            method(Scope::Cluster, Access::Admin),
            "{api}"
        );
        // Only the system admin passes; a namespace admin never does, even in its namespace.
        assert!(
            decide(Some(&system(Role::ADMIN)), &api, TN).is_allow(),
            "{api}"
        );
        assert!(!decide(Some(&system(Role::WRITER | Role::READER)), &api, TN).is_allow());
        assert!(
            !decide(Some(&namespace(TN, Role::ADMIN)), &api, TN).is_allow(),
            "{api}"
        );
        assert!(!decide(None, &api, TN).is_allow(), "{api}");
    }
    // AdminService methods are covered by prefix, not enumerated by name.
    assert!(table.methods().all(|(api, _)| !api.starts_with(AS)));
    // A look-alike service is not AdminService.
    assert_eq!(
        table.get("/temporal.server.api.adminservice.v1.AdminServiceX/GetShard"),
        None
    );
    assert_eq!(
        table.get("/temporal.server.api.adminservice.v2.AdminService/GetShard"),
        None
    );
}

#[test]
fn b3_unknown_apis_and_health_watch_are_denied() {
    let table = ApiAccess::temporal();
    let unknown = [
        HEALTH_WATCH,
        "/grpc.health.v1.Health/List",
        "/temporal.api.workflowservice.v1.WorkflowService/NoSuchMethod",
        "/temporal.api.operatorservice.v1.OperatorService/NoSuchMethod",
        "/temporal.api.workflowservice.v1.WorkflowService/startWorkflowExecution",
        "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution/",
        "temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution",
        "/OtherService/Method1",
        "",
        "/",
        "StartWorkflowExecution",
    ];
    for api in unknown {
        assert_eq!(table.get(api), None, "{api:?}");
        assert_eq!(
            decide(Some(&system(Role::ADMIN)), api, TN),
            Decision::deny(),
            "{api:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// B.4: helpers for custom authorizers.
// ---------------------------------------------------------------------------------------------

fn bare(name: &str) -> &str {
    name.rsplit_once('/').map_or(name, |(_, m)| m)
}

#[test]
fn b4_is_read_only_namespace_api() {
    let ws_reads: Vec<&str> = NAMESPACE_READ
        .iter()
        .filter(|n| n.starts_with("WS/"))
        .map(|n| bare(n))
        .collect();
    assert_eq!(ws_reads.len(), 46);
    for name in &ws_reads {
        assert!(is_read_only_namespace_api(name), "{name}");
    }
    // Not namespace reads: cluster reads, writes, admin, OperatorService, full paths, unknown.
    let not = CLUSTER_READ
        .iter()
        .chain(NAMESPACE_WRITE.iter())
        .chain(NAMESPACE_ADMIN.iter())
        .chain(CLUSTER_ADMIN.iter())
        .map(|n| bare(n))
        .chain([
            "ListSearchAttributes",
            "NoSuchMethod",
            "",
            "describeNamespace",
        ]);
    for name in not {
        assert!(!is_read_only_namespace_api(name), "{name}");
    }
    assert!(!is_read_only_namespace_api(&path("WS/DescribeNamespace")));
}

#[test]
fn b4_is_read_only_global_api() {
    for name in CLUSTER_READ {
        assert!(is_read_only_global_api(bare(name)), "{name}");
    }
    for name in [
        "DescribeNamespace",
        "ListClusters",
        "StartWorkflowExecution",
        "",
        "CloseShard",
    ] {
        assert!(!is_read_only_global_api(name), "{name}");
    }
    assert!(!is_read_only_global_api(&path("WS/ListNamespaces")));
}

#[test]
fn b4_is_health_check_api() {
    assert!(is_health_check_api(HEALTH_CHECK));
    assert!(is_health_check_api(&path("WS/GetSystemInfo")));
    for api in [
        HEALTH_WATCH,
        "/grpc.health.v1.Health/check",
        "/grpc.health.v1.Health/Check/",
        "grpc.health.v1.Health/Check",
        "Check",
        "GetSystemInfo",
        &path("OS/GetSystemInfo"),
        &path("AS/DeepHealthCheck"),
        "",
    ] {
        assert!(!is_health_check_api(api), "{api:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// User-registered APIs.
// ---------------------------------------------------------------------------------------------

const ORDERS_GET: &str = "/shop.v1.Orders/Get";
const ORDERS_PUT: &str = "/shop.v1.Orders/Put";

fn shop_authorizer() -> DefaultAuthorizer {
    DefaultAuthorizer::new().with_access(
        ApiAccess::temporal()
            .try_with_method(ORDERS_GET, Scope::Namespace, Access::Read)
            .expect("a method path")
            .try_with_method(ORDERS_PUT, Scope::Namespace, Access::Write)
            .expect("a method path")
            .with_service("shop.v1.Admin", Scope::Cluster, Access::Admin)
            .with_service("/shop.v1.Reports/", Scope::Namespace, Access::Read)
            .try_with_method("/shop.v1.Admin/Ping", Scope::Cluster, Access::Read)
            .expect("a method path"),
    )
}

#[test]
fn with_method_allows_the_right_role_in_the_right_namespace() {
    let authz = shop_authorizer();
    let acme_reader = namespace("acme", Role::READER);
    let acme_writer = namespace("acme", Role::WRITER);
    let allow = |c: &Claims, api: &str, ns: &str| authz.decide(Some(c), &target(api, ns));

    assert_eq!(allow(&acme_reader, ORDERS_GET, "acme"), Decision::Allow);
    assert_eq!(allow(&acme_reader, ORDERS_GET, "other"), Decision::deny());
    assert_eq!(allow(&acme_reader, ORDERS_PUT, "acme"), Decision::deny());
    assert_eq!(allow(&acme_writer, ORDERS_PUT, "acme"), Decision::Allow);
    assert_eq!(allow(&acme_writer, ORDERS_PUT, "ACME"), Decision::deny());
    assert_eq!(
        allow(&namespace("acme", Role::WORKER), ORDERS_GET, "acme"),
        Decision::deny()
    );
    assert_eq!(
        authz.decide(None, &target(ORDERS_GET, "acme")),
        Decision::deny()
    );
    // Temporal's table is still there.
    assert_eq!(
        allow(
            &namespace(TN, Role::WRITER),
            &path("WS/StartWorkflowExecution"),
            TN
        ),
        Decision::Allow
    );
}

#[test]
fn with_service_covers_every_method_of_that_service_only() {
    let authz = shop_authorizer();
    let admin = system(Role::ADMIN);
    let writer = system(Role::WRITER);
    let acme_admin = namespace("acme", Role::ADMIN);
    let access = authz.access();

    for api in ["/shop.v1.Admin/Purge", "/shop.v1.Admin/AnythingAtAll"] {
        assert_eq!(access.get(api), method(Scope::Cluster, Access::Admin));
        assert_eq!(
            authz.decide(Some(&admin), &target(api, "")),
            Decision::Allow
        );
        assert_eq!(
            authz.decide(Some(&writer), &target(api, "")),
            Decision::deny()
        );
        assert_eq!(
            authz.decide(Some(&acme_admin), &target(api, "acme")),
            Decision::deny()
        );
    }
    // A method entry beats its service's entry.
    assert_eq!(
        access.get("/shop.v1.Admin/Ping"),
        method(Scope::Cluster, Access::Read)
    );
    assert_eq!(
        authz.decide(
            Some(&system(Role::READER)),
            &target("/shop.v1.Admin/Ping", "")
        ),
        Decision::Allow
    );
    // Slashes around the service name are accepted.
    assert_eq!(
        access.get("/shop.v1.Reports/Daily"),
        method(Scope::Namespace, Access::Read)
    );
    assert_eq!(
        authz.decide(
            Some(&namespace("acme", Role::READER)),
            &target("/shop.v1.Reports/Daily", "acme")
        ),
        Decision::Allow
    );
    // Look-alike services and other packages are not covered.
    for api in [
        "/shop.v1.AdminX/Purge",
        "/shop.v1.Admi/Purge",
        "/shop.v2.Admin/Purge",
        "/shop.v1.Orders/Delete",
        "/x/shop.v1.Admin/Purge",
    ] {
        assert_eq!(access.get(api), None, "{api}");
        assert_eq!(
            authz.decide(Some(&admin), &target(api, "")),
            Decision::deny(),
            "{api}"
        );
    }
}

#[test]
fn with_method_replaces_a_temporal_entry() {
    let api = path("WS/ListNamespaces");
    let authz = DefaultAuthorizer::new().with_access(
        ApiAccess::temporal()
            .try_with_method(&api, Scope::Cluster, Access::Admin)
            .expect("a method path"),
    );
    assert_eq!(
        authz.decide(Some(&system(Role::READER)), &target(&api, "")),
        Decision::deny()
    );
    assert_eq!(
        authz.decide(Some(&system(Role::ADMIN)), &target(&api, "")),
        Decision::Allow
    );
    // The unmodified default still allows a system reader.
    assert_eq!(
        decide(Some(&system(Role::READER)), &api, ""),
        Decision::Allow
    );
}

#[test]
fn empty_table_denies_all_but_the_always_allowed() {
    let authz = DefaultAuthorizer::new().with_access(ApiAccess::empty());
    let admin = system(Role::ADMIN);
    assert_eq!(ApiAccess::empty().methods().count(), 0);
    assert_eq!(
        authz.decide(
            Some(&admin),
            &target(&path("WS/StartWorkflowExecution"), TN)
        ),
        Decision::deny()
    );
    assert_eq!(
        authz.decide(Some(&admin), &target(&path("AS/GetShard"), "")),
        Decision::deny()
    );
    assert_eq!(
        authz.decide(None, &target(HEALTH_CHECK, "")),
        Decision::Allow
    );
    assert_eq!(
        authz.decide(None, &target(&path("WS/GetSystemInfo"), "")),
        Decision::Allow
    );
}

#[test]
fn default_authorizer_defaults_to_temporal_table() {
    let by_default = DefaultAuthorizer::new();
    let explicit = DefaultAuthorizer::new().with_access(ApiAccess::temporal());
    let listed: BTreeSet<(String, String)> = by_default
        .access()
        .methods()
        .map(|(api, m)| (api.to_owned(), format!("{m:?}")))
        .collect();
    let expected: BTreeSet<(String, String)> = explicit
        .access()
        .methods()
        .map(|(api, m)| (api.to_owned(), format!("{m:?}")))
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(listed.len(), 140);
}

#[test]
fn default_authorizer_needs_the_request_only_for_namespace_scoped_apis() {
    let authz = shop_authorizer();
    assert!(authz.needs_request(&path("WS/StartWorkflowExecution")));
    assert!(authz.needs_request(&path("OS/ListSearchAttributes")));
    assert!(authz.needs_request(ORDERS_GET));
    assert!(authz.needs_request("/shop.v1.Reports/Daily"));
    assert!(!authz.needs_request(&path("WS/ListNamespaces")));
    assert!(!authz.needs_request(&path("AS/GetShard")));
    assert!(!authz.needs_request("/shop.v1.Admin/Purge"));
    assert!(!authz.needs_request(HEALTH_CHECK));
    assert!(!authz.needs_request(&path("WS/GetSystemInfo")));
    assert!(!authz.needs_request("/unknown.v1.Service/Method"));
    // Through an Arc and a trait object, the answer is the same.
    let shared: Arc<dyn Authorizer> = Arc::new(shop_authorizer());
    assert!(shared.needs_request(ORDERS_GET));
    assert!(!shared.needs_request("/shop.v1.Admin/Purge"));
}

// ---------------------------------------------------------------------------------------------
// The no-op pair and closures.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn noop_authorizer_allows_everything() {
    let authz: &dyn Authorizer = &NoopAuthorizer;
    let claims = [None, Some(Claims::new()), Some(system(Role::WORKER))];
    let apis = [
        path("WS/StartWorkflowExecution"),
        path("AS/GetShard"),
        path("OS/ListClusters"),
        HEALTH_WATCH.to_owned(),
        "/unknown.v1.Service/Method".to_owned(),
        String::new(),
    ];
    for c in &claims {
        for api in &apis {
            let decision = authz
                .authorize(c.as_ref(), &target(api, "any"))
                .await
                .expect("never fails");
            assert_eq!(decision, Decision::Allow, "{api} with {c:?}");
        }
    }
    // It never looks at the request.
    assert!(!authz.needs_request(&path("WS/StartWorkflowExecution")));
}

#[tokio::test]
async fn noop_claim_mapper_returns_system_admin_without_auth_info() {
    let mapper: &dyn ClaimMapper = &NoopClaimMapper;
    assert!(!mapper.auth_info_required());
    for info in [AuthInfo::default(), AuthInfo::with_token("Bearer garbage")] {
        let claims = mapper.get_claims(&info).await.expect("never fails");
        assert_eq!(claims.system(), Role::ADMIN);
        assert_eq!(claims.subject(), "");
        assert_eq!(claims.auth_type(), "");
        assert!(claims.namespaces().is_empty());
        assert_eq!(claims, Claims::system_admin());
    }
    // With the default authorizer, the noop mapper's claims pass everything Temporal lists.
    let claims = mapper
        .get_claims(&AuthInfo::default())
        .await
        .expect("never fails");
    for (api, _) in ApiAccess::temporal().methods() {
        assert!(decide(Some(&claims), api, "").is_allow(), "{api}");
    }
}

#[tokio::test]
async fn closure_authorizer_through_dyn() {
    let only_alice = |claims: Option<&Claims>, target: &CallTarget| {
        let decision = match claims {
            Some(c) if c.subject() == "alice" && target.namespace() == "shop" => Decision::Allow,
            Some(_) => Decision::deny_with_reason("only alice, only in shop"),
            None => Decision::deny(),
        };
        async move { Ok(decision) }
    };
    let authz: &dyn Authorizer = &only_alice;
    let alice = Claims::new().with_subject("alice");
    let bob = Claims::new().with_subject("bob");
    let api = "/shop.v1.Orders/Get";

    let d = authz.authorize(Some(&alice), &target(api, "shop")).await;
    assert_eq!(d.expect("ok"), Decision::Allow);
    let d = authz.authorize(Some(&alice), &target(api, "other")).await;
    assert_eq!(
        d.expect("ok"),
        Decision::deny_with_reason("only alice, only in shop")
    );
    let d = authz.authorize(Some(&bob), &target(api, "shop")).await;
    assert_eq!(
        d.expect("ok"),
        Decision::Deny {
            reason: Some("only alice, only in shop".to_owned())
        }
    );
    let d = authz.authorize(None, &target(api, "shop")).await;
    assert_eq!(d.expect("ok"), Decision::Deny { reason: None });
    // The default for closures: the request is needed.
    assert!(authz.needs_request(api));

    // A boxed, shared closure authorizer behaves the same.
    let shared: Arc<dyn Authorizer> = Arc::new(only_alice);
    let d = shared.authorize(Some(&alice), &target(api, "shop")).await;
    assert_eq!(d.expect("ok"), Decision::Allow);
}

#[tokio::test]
async fn closure_authorizer_errors_pass_through() {
    let failing = |_: Option<&Claims>, _: &CallTarget| async {
        Err::<Decision, _>(tonic::Status::internal("intentional test failure"))
    };
    let authz: &dyn Authorizer = &failing;
    let err = authz
        .authorize(None, &target("/a.B/C", ""))
        .await
        .expect_err("the closure fails");
    assert_eq!(err.code(), tonic::Code::Internal);
    assert_eq!(err.message(), "intentional test failure");
}

#[tokio::test]
async fn closure_claim_mapper_through_dyn() {
    let by_token = |info: &AuthInfo| {
        let result = match info.auth_token.as_str() {
            "Bearer ops" => Ok(Claims::new().with_subject("ops").with_system(Role::ADMIN)),
            "" => Ok(Claims::new()),
            _ => Err(ClaimsError::new(
                ClaimsErrorKind::MalformedToken,
                "unknown token",
            )),
        };
        async move { result }
    };
    let mapper: &dyn ClaimMapper = &by_token;
    // Closures keep the trait's default: auth info is required.
    assert!(mapper.auth_info_required());

    let claims = mapper
        .get_claims(&AuthInfo::with_token("Bearer ops"))
        .await
        .expect("known token");
    assert_eq!(claims.subject(), "ops");
    assert_eq!(claims.system(), Role::ADMIN);

    let empty = mapper
        .get_claims(&AuthInfo::default())
        .await
        .expect("no token");
    assert_eq!(empty, Claims::new());

    let err = mapper
        .get_claims(&AuthInfo::with_token("Bearer other"))
        .await
        .expect_err("unknown token");
    assert_eq!(err.kind(), ClaimsErrorKind::MalformedToken);

    // Shared behind an Arc, it is still a claim mapper with the same answers.
    let shared: Arc<dyn ClaimMapper> = Arc::new(by_token);
    assert!(shared.auth_info_required());
    let claims = shared
        .get_claims(&AuthInfo::with_token("Bearer ops"))
        .await
        .expect("known token");
    assert_eq!(claims.subject(), "ops");
}
