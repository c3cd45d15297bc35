//! `DefaultAuthorizer::decide` for each scope and access class, against a trivial baseline
//! (a decision that looks at nothing) measured in the same run.

#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tonic_authz::{CallTarget, Claims, Decision, DefaultAuthorizer, Role};

const WF: &str = "/temporal.api.workflowservice.v1.WorkflowService/";
const OP: &str = "/temporal.api.operatorservice.v1.OperatorService/";

fn bench(c: &mut Criterion) {
    let authz = DefaultAuthorizer::new();
    let claims = Claims::new()
        .with_subject("worker-7")
        .with_system(Role::READER)
        .with_namespace("default", Role::WRITER)
        .with_namespace("payments", Role::READER)
        .with_namespace("orders", Role::ADMIN);
    let cases: [(&str, String, &str, Option<&Claims>); 9] = [
        ("always_allowed", format!("{WF}GetSystemInfo"), "", None),
        (
            "no_claims",
            format!("{WF}DescribeNamespace"),
            "default",
            None,
        ),
        (
            "unknown_api",
            "/shop.Orders/Get".to_owned(),
            "",
            Some(&claims),
        ),
        (
            "cluster_read",
            format!("{WF}ListNamespaces"),
            "",
            Some(&claims),
        ),
        (
            "cluster_admin_denied",
            format!("{OP}ListClusters"),
            "",
            Some(&claims),
        ),
        (
            "namespace_read",
            format!("{WF}DescribeNamespace"),
            "payments",
            Some(&claims),
        ),
        (
            "namespace_write",
            format!("{WF}StartWorkflowExecution"),
            "default",
            Some(&claims),
        ),
        (
            "namespace_admin",
            format!("{WF}UpdateNamespace"),
            "orders",
            Some(&claims),
        ),
        (
            "namespace_denied",
            format!("{WF}StartWorkflowExecution"),
            "payments",
            Some(&claims),
        ),
    ];
    let mut group = c.benchmark_group("authorizer");
    let trivial = CallTarget::new(format!("{WF}DescribeNamespace"), "default");
    group.bench_function("baseline_trivial", |b| {
        b.iter(|| {
            let t = black_box(&trivial);
            black_box(if t.namespace().is_empty() {
                Decision::deny()
            } else {
                Decision::Allow
            })
        });
    });
    for (name, api, namespace, claims) in cases {
        let target = CallTarget::new(api, namespace);
        group.bench_function(name, |b| {
            b.iter(|| black_box(authz.decide(black_box(claims), black_box(&target))));
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = bench
}
criterion_main!(benches);
