//! The Cedar authorizer: Temporal's default rules as policies agree with the default
//! authorizer on a generated matrix of roles x APIs x namespaces; the sample workflow-type and
//! task-queue policies decide on fields read from the request message; policies are validated
//! against the schema and reloaded from their file (good, bad and removed files).
#![cfg(feature = "cedar")]

use std::fs;

use bytes::Bytes;
use tonic_authz::{
    ApiAccess, Authorizer, CallTarget, CedarAuthorizer, CedarErrorKind, Claims, Decision,
    DefaultAuthorizer, Reload, RequestMessage, Role,
};

const WS: &str = "/temporal.api.workflowservice.v1.WorkflowService/";
const ADMIN: &str = "/temporal.server.api.adminservice.v1.AdminService/DescribeCluster";

fn policy(name: &str) -> String {
    let file = format!("{}/examples/policies/{name}", env!("CARGO_MANIFEST_DIR"));
    fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn default_rules() -> CedarAuthorizer {
    CedarAuthorizer::from_policy_text(&policy("temporal-default.cedar")).expect("policies load")
}

fn with_samples() -> CedarAuthorizer {
    let text = [
        policy("temporal-default.cedar"),
        policy("workflow-types.cedar"),
        policy("task-queues.cedar"),
    ]
    .join("\n");
    CedarAuthorizer::builder()
        .expose_reasons(true)
        .policy_text(&text)
        .expect("policies load")
}

/// A length-delimited field `number` holding `bytes`.
fn field(number: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![u8::try_from(number << 3 | 2).expect("small field number")];
    out.push(u8::try_from(bytes.len()).expect("short field"));
    out.extend_from_slice(bytes);
    out
}

/// `StartWorkflowExecutionRequest { namespace: ns, workflow_id, workflow_type { name }, task_queue { name } }`.
fn start_request(ns: &str, workflow_type: &str, task_queue: &str) -> RequestMessage {
    let mut msg = field(1, ns.as_bytes());
    msg.extend(field(2, b"wf-1"));
    msg.extend(field(3, &field(1, workflow_type.as_bytes())));
    msg.extend(field(4, &field(1, task_queue.as_bytes())));
    RequestMessage::new(Bytes::from(msg))
}

/// `PollWorkflowTaskQueueRequest { namespace: ns, task_queue { name, normal_name } }`.
fn poll_request(ns: &str, task_queue: &str, normal: &str) -> RequestMessage {
    let mut queue = field(1, task_queue.as_bytes());
    if !normal.is_empty() {
        queue.extend(field(3, normal.as_bytes()));
    }
    let mut msg = field(1, ns.as_bytes());
    msg.extend(field(2, &queue));
    RequestMessage::new(Bytes::from(msg))
}

fn call(api: &str, ns: &str, message: RequestMessage) -> CallTarget {
    CallTarget::new(format!("{WS}{api}"), ns).with_request(message)
}

#[test]
fn default_rules_agree_with_the_default_authorizer_on_a_generated_matrix() {
    let cedar = default_rules();
    let default = DefaultAuthorizer::new();
    let mut apis: Vec<String> = ApiAccess::temporal()
        .methods()
        .map(|(p, _)| p.to_owned())
        .collect();
    apis.extend(
        [
            ADMIN,
            "/grpc.health.v1.Health/Check",
            "/grpc.health.v1.Health/Watch",
            "/shop.v1.Orders/Get",
        ]
        .map(str::to_owned),
    );
    let namespaces = ["default", "other", "", "DEFAULT", "temporal-system"];
    let mut claims_set: Vec<Option<Claims>> = vec![None, Some(Claims::new())];
    for bits in 0u16..32 {
        let role = Role::from_bits(bits);
        claims_set.push(Some(Claims::new().with_system(role)));
        claims_set.push(Some(Claims::new().with_namespace("default", role)));
        claims_set.push(Some(
            Claims::new()
                .with_system(Role::from_bits(bits & 0b0101))
                .with_namespace("default", Role::from_bits(bits & 0b1010)),
        ));
    }
    let (mut checked, mut allowed) = (0usize, 0usize);
    for api in &apis {
        for ns in namespaces {
            let target = CallTarget::new(api.as_str(), ns);
            for claims in &claims_set {
                let expected = default.decide(claims.as_ref(), &target);
                let got = cedar.decide(claims.as_ref(), &target).expect("decides");
                assert_eq!(
                    got.is_allow(),
                    expected.is_allow(),
                    "{api} in {ns:?} for {claims:?}"
                );
                checked += 1;
                allowed += usize::from(got.is_allow());
            }
        }
    }
    assert!(checked > 50_000, "{checked}");
    // Both answers occur plenty: the matrix is not all-deny or all-allow.
    assert!(
        allowed > checked / 10 && allowed < checked * 9 / 10,
        "{allowed}/{checked}"
    );
}

#[test]
fn worker_role_as_a_policy_matches_the_default_authorizer_option() {
    let text = policy("temporal-default.cedar")
        + r#"
        @id("worker-role")
        permit (principal is Temporal::Caller, action in Temporal::Action::"Worker", resource)
        when { context.role >= 1 && (context.role == 1 || context.role == 3 || context.role == 5 || context.role == 7 || context.role == 9 || context.role == 11 || context.role == 13 || context.role == 15) };
        "#;
    let cedar = CedarAuthorizer::from_policy_text(&text).expect("loads");
    let default = DefaultAuthorizer::new().with_worker_role();
    for (api, _) in ApiAccess::temporal().methods() {
        for bits in 0u16..16 {
            let claims = Claims::new().with_namespace("default", Role::from_bits(bits));
            let target = CallTarget::new(api, "default");
            assert_eq!(
                cedar
                    .decide(Some(&claims), &target)
                    .expect("decides")
                    .is_allow(),
                default.decide(Some(&claims), &target).is_allow(),
                "{api} with role bits {bits}"
            );
        }
    }
}

#[test]
fn a_team_may_start_only_its_workflow_types() {
    let authz = with_samples();
    let team = Claims::new()
        .with_subject("orders-team")
        .with_namespace("default", Role::WRITER);
    let allowed = call(
        "StartWorkflowExecution",
        "default",
        start_request("default", "OrderWorkflow", "orders"),
    );
    assert_eq!(
        authz.decide(Some(&team), &allowed).expect("decides"),
        Decision::Allow
    );
    let refused = call(
        "StartWorkflowExecution",
        "default",
        start_request("default", "PayrollWorkflow", "orders"),
    );
    assert_eq!(
        authz.decide(Some(&team), &refused).expect("decides"),
        Decision::deny_with_reason("forbidden by policy orders-team-workflow-types")
    );
    // Other callers are not narrowed.
    let other = Claims::new()
        .with_subject("payroll-team")
        .with_namespace("default", Role::WRITER);
    assert!(
        authz
            .decide(Some(&other), &refused)
            .expect("decides")
            .is_allow()
    );
    // Without the message the type is unknown, so the team is refused.
    let bare = CallTarget::new(format!("{WS}StartWorkflowExecution"), "default");
    assert!(
        !authz
            .decide(Some(&team), &bare)
            .expect("decides")
            .is_allow()
    );
}

#[test]
fn a_worker_may_poll_only_its_task_queues() {
    let authz = with_samples();
    let worker = Claims::new()
        .with_subject("orders-worker")
        .with_namespace("default", Role::WRITER);
    let own = call(
        "PollWorkflowTaskQueue",
        "default",
        poll_request("default", "orders-eu", ""),
    );
    assert!(
        authz
            .decide(Some(&worker), &own)
            .expect("decides")
            .is_allow()
    );
    let sticky = call(
        "PollWorkflowTaskQueue",
        "default",
        poll_request("default", "host-1234-sticky", "orders-eu"),
    );
    assert!(
        authz
            .decide(Some(&worker), &sticky)
            .expect("decides")
            .is_allow()
    );
    let foreign = call(
        "PollActivityTaskQueue",
        "default",
        poll_request("default", "payroll", ""),
    );
    assert_eq!(
        authz.decide(Some(&worker), &foreign).expect("decides"),
        Decision::deny_with_reason("forbidden by policy orders-worker-task-queues")
    );
}

#[test]
fn a_malformed_request_field_is_an_error_not_a_decision() {
    let authz = with_samples();
    let worker = Claims::new()
        .with_subject("orders-worker")
        .with_namespace("default", Role::WRITER);
    // task_queue { name: invalid UTF-8 }
    let mut msg = field(1, b"default");
    msg.extend(field(2, &field(1, &[0xff])));
    let target = call(
        "PollWorkflowTaskQueue",
        "default",
        RequestMessage::new(Bytes::from(msg)),
    );
    let error = authz.decide(Some(&worker), &target).expect_err("malformed");
    assert_eq!(error.code(), tonic::Code::InvalidArgument);
}

#[test]
fn the_request_is_read_only_where_it_matters() {
    let plain = default_rules();
    let fields = with_samples();
    let poll = format!("{WS}PollWorkflowTaskQueue");
    let cluster = format!("{WS}GetClusterInfo");
    assert!(plain.needs_request(&poll));
    assert!(!plain.needs_request(&cluster));
    assert!(!plain.needs_request(ADMIN));
    assert!(fields.needs_request(&poll));
    assert!(!fields.needs_request(&cluster));
}

#[test]
fn the_reason_is_kept_back_unless_exposed() {
    let authz = default_rules();
    let target = CallTarget::new(format!("{WS}StartWorkflowExecution"), "default");
    let reader = Claims::new().with_namespace("default", Role::READER);
    assert_eq!(
        authz.decide(Some(&reader), &target).expect("decides"),
        Decision::deny()
    );
    let (allow, ids) = authz.explain(Some(&reader), &target).expect("explains");
    assert!(!allow);
    assert!(ids.is_empty());
    let writer = Claims::new().with_namespace("default", Role::WRITER);
    let (allow, ids) = authz.explain(Some(&writer), &target).expect("explains");
    assert!(allow);
    assert_eq!(ids, vec!["namespace-write".to_owned()]);
}

#[test]
fn invalid_policies_are_refused_naming_file_and_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.cedar");
    fs::write(
        &file,
        r#"@id("typo") permit (principal, action == Temporal::Action::"StartWorkflow", resource);"#,
    )
    .expect("write");
    let error = CedarAuthorizer::from_policy_file(&file).expect_err("invalid");
    assert_eq!(error.kind(), CedarErrorKind::Invalid);
    let text = error.to_string();
    assert!(text.contains("bad.cedar"), "{text}");
    assert!(text.contains("typo"), "{text}");

    fs::write(&file, "permit (principal, action, resource").expect("write");
    let error = CedarAuthorizer::from_policy_file(&file).expect_err("unparsable");
    assert_eq!(error.kind(), CedarErrorKind::Parse);
    assert!(error.to_string().contains("bad.cedar"));

    let error =
        CedarAuthorizer::from_policy_file(dir.path().join("missing.cedar")).expect_err("missing");
    assert_eq!(error.kind(), CedarErrorKind::Read);

    let error = CedarAuthorizer::from_policy_text(
        r#"permit (principal, action, resource) when { context.taskQueu == "x" };"#,
    )
    .expect_err("unknown context field");
    assert_eq!(error.kind(), CedarErrorKind::Invalid);
}

#[test]
fn reload_keeps_the_old_policies_on_a_bad_or_removed_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("policies.cedar");
    fs::write(&file, policy("temporal-default.cedar")).expect("write");
    let authz = CedarAuthorizer::from_policy_file(&file).expect("loads");
    let reader = Claims::new().with_namespace("default", Role::READER);
    let start = CallTarget::new(format!("{WS}StartWorkflowExecution"), "default");
    let describe = CallTarget::new(format!("{WS}DescribeNamespace"), "default");
    assert!(
        authz
            .decide(Some(&reader), &describe)
            .expect("decides")
            .is_allow()
    );
    assert_eq!(authz.reload().expect("unchanged"), Reload::Unchanged);

    // A good new file: readers may now start workflows too.
    let widened = policy("temporal-default.cedar")
        + r#"permit (principal is Temporal::Caller, action == Temporal::Action::"StartWorkflowExecution", resource) when { context.role >= 2 };"#;
    fs::write(&file, &widened).expect("write");
    assert_eq!(authz.reload().expect("replaced"), Reload::Replaced);
    assert!(
        authz
            .decide(Some(&reader), &start)
            .expect("decides")
            .is_allow()
    );

    // A bad new file: the widened policies stay.
    fs::write(
        &file,
        "permit (principal, action, resource) when { nonsense };",
    )
    .expect("write");
    assert!(authz.reload().is_err());
    assert!(
        authz
            .decide(Some(&reader), &start)
            .expect("decides")
            .is_allow()
    );

    // The file removed: still the widened policies.
    fs::remove_file(&file).expect("remove");
    assert_eq!(
        authz.reload().expect_err("missing").kind(),
        CedarErrorKind::Read
    );
    assert!(
        authz
            .decide(Some(&reader), &start)
            .expect("decides")
            .is_allow()
    );

    // Back to the defaults.
    fs::write(&file, policy("temporal-default.cedar")).expect("write");
    assert_eq!(authz.reload().expect("replaced"), Reload::Replaced);
    assert!(
        !authz
            .decide(Some(&reader), &start)
            .expect("decides")
            .is_allow()
    );
}

#[tokio::test]
async fn the_reloader_counts_failures() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("policies.cedar");
    fs::write(&file, policy("temporal-default.cedar")).expect("write");
    let authz = CedarAuthorizer::from_policy_file(&file).expect("loads");
    fs::write(&file, "not cedar").expect("write");
    assert!(authz.reload().is_err());
    let failures: u64 = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == "tonic_authz_cedar_reload_failures_total")
        .map(|(.., value)| match value {
            DebugValue::Counter(n) => n,
            _ => 0,
        })
        .sum();
    assert_eq!(failures, 1);
}

/// Policies that permit by the principal's groups and issuer, each with its deny twin; the
/// claims come from the JWT mapper, as a trusted issuer's token maps them.
#[tokio::test]
async fn policies_read_the_issuer_and_groups_of_a_token() {
    use std::collections::HashMap;
    use std::sync::Arc;

    use serde_json::json;
    use tonic_authz::{AuthInfo, ClaimMapper, JwtClaimMapper, StaticKeyProvider, TrustedIssuer};
    use tonic_authz_testkit::jwt::{TestKey, jwks, unix_now};

    const ACME: &str = "https://idp.acme.example/realms/acme";
    const OTHER: &str = "https://idp.other.example";
    let (acme_key, other_key) = (TestKey::p256(), TestKey::p256());
    let issuer = |iss: &str, key: &TestKey| {
        let keys = StaticKeyProvider::from_jwks(&jwks(&[key.jwk_with_kid("k")])).expect("keys");
        TrustedIssuer::builder(iss, Arc::new(keys))
            .permissions_claim("realm_access.roles")
            .group_permissions(HashMap::from([(
                "mapped-team".to_owned(),
                vec!["mapped:read".to_owned()],
            )]))
            .build()
            .expect("issuer")
    };
    let mapper = JwtClaimMapper::multi_issuer()
        .trusted_issuer(issuer(ACME, &acme_key))
        .trusted_issuer(issuer(OTHER, &other_key))
        .build();
    let claims = async |key: &TestKey, iss: &str, roles: &[&str]| {
        let token = key.sign(
            "k",
            &json!({"iss": iss, "sub": "alice", "exp": unix_now() + 600, "realm_access": {"roles": roles}}),
        );
        mapper
            .get_claims(&AuthInfo::with_token(format!("Bearer {token}")))
            .await
            .expect("token accepted")
    };
    let authz = CedarAuthorizer::from_policy_text(&format!(
        r#"@id("payments-team")
        permit (principal is Temporal::Caller, action in Temporal::Action::"NamespaceWrite", resource == Temporal::Namespace::"payments")
        when {{ principal.groups.contains("team-payments") }};
        @id("acme-readers")
        permit (principal is Temporal::Caller, action in Temporal::Action::"NamespaceRead", resource)
        when {{ principal.issuer == "{ACME}" }};"#
    ))
    .expect("policies load");
    let start = CallTarget::new(format!("{WS}StartWorkflowExecution"), "payments");
    let describe = CallTarget::new(format!("{WS}DescribeNamespace"), "payments");
    let decide = |c: &Claims, t: &CallTarget| authz.decide(Some(c), t).expect("decides");

    // Groups: in the group (whether or not the table maps it), allowed; not in it, denied.
    let member = claims(&other_key, OTHER, &["team-payments", "payments:read"]).await;
    assert_eq!(member.groups(), ["team-payments"]);
    assert_eq!(member.namespace_role("payments"), Role::READER);
    assert!(decide(&member, &start).is_allow());
    let outsider = claims(&other_key, OTHER, &["team-billing", "payments:write"]).await;
    assert_eq!(outsider.groups(), ["team-billing"]);
    assert!(!decide(&outsider, &start).is_allow());
    // A role never counts as a group, even a role that would grant the call.
    let by_role = claims(&other_key, OTHER, &["payments:admin"]).await;
    assert!(by_role.groups().is_empty());
    assert!(!decide(&by_role, &start).is_allow());

    // Issuer: a token of the named issuer may read; the same token shape from another
    // trusted issuer may not.
    let acme = claims(&acme_key, ACME, &[]).await;
    assert_eq!(acme.issuer(), Some(ACME));
    assert!(decide(&acme, &describe).is_allow());
    let other = claims(&other_key, OTHER, &["mapped-team"]).await;
    assert_eq!(other.issuer(), Some(OTHER));
    assert_eq!(other.groups(), ["mapped-team"]);
    assert!(!decide(&other, &describe).is_allow());
    // Claims without an issuer (a certificate, an API key) never match an issuer policy.
    let no_issuer = Claims::new().with_subject("alice");
    assert!(!decide(&no_issuer, &describe).is_allow());
}

/// Policies scoped to one caller (`principal == ...`) or one API still decide among 1 000
/// others (the authorizer evaluates only the policies whose scope can match a call).
#[test]
fn caller_and_api_scoped_policies_apply_among_many() {
    let mut text = policy("temporal-default.cedar");
    for i in 0..1000 {
        text.push_str(&format!(
            "\n@id(\"extra-{i}\") forbid (principal == Temporal::Caller::\"user-{i}\", action in Temporal::Action::\"NamespaceWrite\", resource == Temporal::Namespace::\"ns-{i}\");"
        ));
    }
    text.push_str("\n@id(\"no-terminate\") forbid (principal, action == Temporal::Action::\"TerminateWorkflowExecution\", resource);");
    let authz = CedarAuthorizer::builder()
        .expose_reasons(true)
        .policy_text(&text)
        .expect("policies load");
    let writer = |name: &str, ns: &str| {
        Claims::new()
            .with_subject(name)
            .with_namespace(ns, Role::WRITER)
    };
    let start = |ns: &str| CallTarget::new(format!("{WS}StartWorkflowExecution"), ns);
    // The named caller is refused in its namespace, with the policy named; the twins (another
    // namespace, another caller) are allowed.
    assert_eq!(
        authz
            .decide(Some(&writer("user-7", "ns-7")), &start("ns-7"))
            .expect("decides"),
        Decision::deny_with_reason("forbidden by policy extra-7")
    );
    assert!(
        authz
            .decide(Some(&writer("user-7", "ns-8")), &start("ns-8"))
            .expect("decides")
            .is_allow()
    );
    assert!(
        authz
            .decide(Some(&writer("user-8", "ns-7")), &start("ns-7"))
            .expect("decides")
            .is_allow()
    );
    // An action-scoped forbid applies to its API only, for named and other callers alike.
    let terminate = CallTarget::new(format!("{WS}TerminateWorkflowExecution"), "ns-9");
    for caller in ["user-7", "someone"] {
        assert_eq!(
            authz
                .decide(Some(&writer(caller, "ns-9")), &terminate)
                .expect("decides"),
            Decision::deny_with_reason("forbidden by policy no-terminate")
        );
    }
    // An API outside the table gets the policies that do not name an action.
    let other = CallTarget::new("/pkg.Service/Method", "ns-7");
    assert!(
        !authz
            .decide(Some(&writer("someone", "ns-7")), &other)
            .expect("decides")
            .is_allow()
    );
}

#[test]
fn repeated_calls_decide_on_each_call_own_claims_and_namespace() {
    // The entities of a call are kept for the next call like it; a caller whose claims
    // differ in any part the policies read (issuer, groups, auth type, roles) or a call in
    // another namespace must be decided on its own, however the calls interleave.
    let authz = CedarAuthorizer::from_policy_text(
        r#"permit (principal is Temporal::Caller, action in Temporal::Action::"NamespaceRead", resource)
           when { principal.issuer == "https://good" && principal.groups.contains("ops")
                  && principal.authType == "jwt" && context.role >= 2 && resource.name == "default" };"#,
    )
    .expect("policy loads");
    let api = format!("{WS}DescribeNamespace");
    let good = Claims::new()
        .with_subject("alice")
        .with_auth_type("jwt")
        .with_issuer("https://good")
        .with_groups(["ops"])
        .with_namespace("default", Role::READER);
    let variants = [
        good.clone().with_issuer("https://evil"),
        good.clone().with_groups(["dev"]),
        good.clone().with_auth_type("apikey"),
        Claims::new()
            .with_subject("alice")
            .with_auth_type("jwt")
            .with_issuer("https://good")
            .with_groups(["ops"])
            .with_namespace("other", Role::READER),
    ];
    for _ in 0..3 {
        assert!(
            authz
                .decide(Some(&good), &CallTarget::new(api.as_str(), "default"))
                .expect("decides")
                .is_allow()
        );
        assert!(
            !authz
                .decide(Some(&good), &CallTarget::new(api.as_str(), "other"))
                .expect("decides")
                .is_allow()
        );
        assert!(
            !authz
                .decide(None, &CallTarget::new(api.as_str(), "default"))
                .expect("decides")
                .is_allow()
        );
        for claims in &variants {
            assert!(
                !authz
                    .decide(Some(claims), &CallTarget::new(api.as_str(), "default"))
                    .expect("decides")
                    .is_allow()
            );
        }
    }
}

#[test]
fn repeated_calls_decide_on_each_call_own_request_fields() {
    // Decisions are kept for the next identical call; a call whose request fields differ in
    // any value a policy reads (however slightly, or absent) must be decided on its own,
    // however the calls interleave, and with the reasons of its own decision.
    let authz = with_samples();
    let team = Claims::new()
        .with_subject("orders-team")
        .with_namespace("default", Role::WRITER);
    let start = |workflow_type: &str| {
        call(
            "StartWorkflowExecution",
            "default",
            start_request("default", workflow_type, "orders"),
        )
    };
    let worker = Claims::new()
        .with_subject("orders-worker")
        .with_namespace("default", Role::WRITER);
    let poll = |queue: &str, normal: &str| {
        call(
            "PollWorkflowTaskQueue",
            "default",
            poll_request("default", queue, normal),
        )
    };
    let forbidden_type =
        Decision::deny_with_reason("forbidden by policy orders-team-workflow-types");
    let forbidden_queue =
        Decision::deny_with_reason("forbidden by policy orders-worker-task-queues");
    for _ in 0..3 {
        for (workflow_type, expected) in [
            ("OrderWorkflow", Decision::Allow),
            ("OrderWorkflowX", forbidden_type.clone()),
            ("RefundWorkflow", Decision::Allow),
            ("orderWorkflow", forbidden_type.clone()),
            ("", forbidden_type.clone()),
        ] {
            assert_eq!(
                authz
                    .decide(Some(&team), &start(workflow_type))
                    .expect("decides"),
                expected,
                "{workflow_type:?}"
            );
        }
        for (queue, normal, expected) in [
            ("orders-eu", "", Decision::Allow),
            ("billing", "", forbidden_queue.clone()),
            ("sticky-host-1", "orders-eu", Decision::Allow),
            ("sticky-host-1", "billing", forbidden_queue.clone()),
        ] {
            assert_eq!(
                authz
                    .decide(Some(&worker), &poll(queue, normal))
                    .expect("decides"),
                expected,
                "{queue:?} {normal:?}"
            );
        }
    }
}
