//! The Cedar authorizer and the audit log, each against a baseline measured in the same run.
//!
//! Groups:
//! - `cedar`: one decision on StartWorkflowExecution (a writer with an issuer and two groups,
//!   the request's workflow type in the context) by `DefaultAuthorizer::decide` (the baseline), by the Cedar authorizer with
//!   the sample policies (`examples/policies/*.cedar`), and with those plus 1 000 more
//!   policies (each naming another caller and namespace); these repeat one call, so after
//!   the first they are answered from the decision cache. `sample_policies_unseen_fields`
//!   gives every call a workflow type not seen before, so each is evaluated.
//! - `audit`: the whole layer (fixed claims, the default authorizer) over a pass-through
//!   service, without and with a JSON-lines audit log of every decision (written to
//!   `io::sink()` by the writer thread).

#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::convert::Infallible;
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response};
use http_body_util::BodyExt;
use tonic_authz::{
    AuditDecisions, AuthInfo, AuthzLayer, CallTarget, CedarAuthorizer, Claims, ClaimsError,
    DefaultAuthorizer, JsonLinesAuditSink, RequestMessage, Role,
};
use tower::{Layer, ServiceExt, service_fn};

type Body = tonic::body::Body;

const START: &str = "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";
const DESCRIBE: &str = "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace";

fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![number << 3 | 2, u8::try_from(bytes.len()).expect("short")];
    out.extend_from_slice(bytes);
    out
}

fn samples() -> String {
    [
        "temporal-default.cedar",
        "workflow-types.cedar",
        "task-queues.cedar",
    ]
    .map(|f| {
        std::fs::read_to_string(format!(
            "{}/examples/policies/{f}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("sample policy")
    })
    .join("\n")
}

fn cedar(c: &mut Criterion) {
    let mut message = field(1, b"default");
    message.extend(field(2, b"order-42"));
    message.extend(field(3, &field(1, b"OrderWorkflow")));
    message.extend(field(4, &field(1, b"orders")));
    let target =
        CallTarget::new(START, "default").with_request(RequestMessage::new(Bytes::from(message)));
    // A token's claims as a trusted issuer maps them: the principal carries the issuer and
    // two groups too.
    let claims = Claims::new()
        .with_subject("orders-team")
        .with_namespace("default", Role::WRITER)
        .with_issuer("https://idp.example/realms/acme")
        .with_groups(["team-orders", "offline_access"]);
    let default = DefaultAuthorizer::new();
    let sample = CedarAuthorizer::from_policy_text(&samples()).expect("samples load");
    let mut many = samples();
    for i in 0..1000 {
        let _ = writeln!(
            many,
            "@id(\"extra-{i}\") forbid (principal == Temporal::Caller::\"user-{i}\", action in Temporal::Action::\"NamespaceWrite\", resource == Temporal::Namespace::\"ns-{i}\");"
        );
    }
    let thousand = CedarAuthorizer::from_policy_text(&many).expect("1000 policies load");
    for authz in [&sample, &thousand] {
        assert!(
            authz
                .decide(Some(&claims), &target)
                .expect("decides")
                .is_allow()
        );
    }
    assert!(default.decide(Some(&claims), &target).is_allow());

    let mut group = c.benchmark_group("cedar");
    group.bench_function("default_authorizer", |b| {
        b.iter(|| default.decide(black_box(Some(&claims)), black_box(&target)));
    });
    group.bench_function("sample_policies", |b| {
        b.iter(|| sample.decide(black_box(Some(&claims)), black_box(&target)));
    });
    group.bench_function("1000_policies", |b| {
        b.iter(|| thousand.decide(black_box(Some(&claims)), black_box(&target)));
    });
    // Every call with a workflow type not seen before (twice the decision cache's size, in
    // turn), so each one is evaluated by Cedar: the cost of a first sight.
    let unseen: Vec<CallTarget> = (0..8192)
        .map(|i| {
            let mut message = field(1, b"default");
            message.extend(field(2, b"order-42"));
            message.extend(field(3, &field(1, format!("Workflow{i}").as_bytes())));
            CallTarget::new(START, "default")
                .with_request(RequestMessage::new(Bytes::from(message)))
        })
        .collect();
    let mut next = unseen.iter().cycle();
    group.bench_function("sample_policies_unseen_fields", |b| {
        b.iter(|| {
            let target = next.next().expect("cycles");
            sample.decide(black_box(Some(&claims)), black_box(target))
        });
    });
    group.finish();
}

async fn passthrough(req: Request<Body>) -> Result<Response<Body>, Infallible> {
    let body = req.into_body().collect().await;
    black_box(body.is_ok());
    Ok(Response::new(Body::empty()))
}

fn request(body: &Bytes) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(DESCRIBE)
        .header("content-type", "application/grpc")
        .header("authorization", "Bearer x")
        .body(Body::new(http_body_util::Full::new(body.clone())))
        .expect("request")
}

fn audit(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mapper = |_: &AuthInfo| async {
        Ok::<_, ClaimsError>(
            Claims::new()
                .with_subject("bench-user")
                .with_namespace("default", Role::WRITER),
        )
    };
    let message = field(1, b"default");
    let mut framed = vec![0u8];
    framed.extend_from_slice(&u32::try_from(message.len()).expect("small").to_be_bytes());
    framed.extend_from_slice(&message);
    let body = Bytes::from(framed);
    let plain = AuthzLayer::builder()
        .claim_mapper(mapper)
        .authorizer(DefaultAuthorizer::new())
        .build()
        .layer(service_fn(passthrough));
    let sink = JsonLinesAuditSink::new(std::io::sink(), 1 << 16, "sink").expect("sink");
    let audited = AuthzLayer::builder()
        .claim_mapper(mapper)
        .authorizer(DefaultAuthorizer::new())
        .audit(sink)
        .audit_decisions(AuditDecisions::All)
        .build()
        .layer(service_fn(passthrough));

    let mut group = c.benchmark_group("audit");
    group.bench_function("layer", |b| {
        b.to_async(&rt)
            .iter(|| plain.clone().oneshot(request(&body)));
    });
    group.bench_function("layer_with_audit_all", |b| {
        b.to_async(&rt)
            .iter(|| audited.clone().oneshot(request(&body)));
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = cedar, audit
}
criterion_main!(benches);
