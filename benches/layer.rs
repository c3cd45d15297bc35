//! The whole layer over a pass-through service against the pass-through alone, measured in
//! the same run, driven with `oneshot` on a current-thread runtime. The pass-through reads
//! the request body and inflates a compressed message (as any gRPC handler does) and answers
//! an empty response.
//!
//! Groups:
//! - `layer`: allowed unary calls with a cached ES256 token (DescribeNamespace, and an
//!   SDK-shaped StartWorkflowExecution plain and gzipped), a denied call, a cluster-scoped call
//!   (no body read), each against `passthrough`.
//! - `layer_two_threads`: the allowed DescribeNamespace call made by two threads at once
//!   through one layer (and one pass-through), the time of one call per thread.
//! - `layer_uncached`: an allowed call whose token is not cached (signature verified every
//!   call), against the claim mapper's verification alone.

#![allow(missing_docs)] // criterion's macros generate undocumented items

mod common;

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response};
use http_body_util::BodyExt;
use prost::Message;
use tonic_authz::{AuthzLayer, DefaultAuthorizer, JwtClaimMapper};
use tower::{Layer, Service, ServiceExt, service_fn};

use common::temporal::{DescribeNamespaceRequest, start_workflow};

type Body = tonic::body::Body;

/// A handler's share of the work: read the body and, as tonic's decoder does, inflate a
/// message marked compressed (so the layer's inflate-once shows against a handler's own).
async fn passthrough(req: Request<Body>) -> Result<Response<Body>, Infallible> {
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    if let Ok(bytes) = &body
        && bytes.first() == Some(&1)
    {
        let mut message = Vec::new();
        let inflated = std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&bytes[5..]),
            &mut message,
        );
        black_box(inflated.is_ok());
    }
    black_box(body.is_ok());
    Ok(Response::new(Body::empty()))
}

/// One call as a client sends it.
#[derive(Clone)]
struct Call {
    path: &'static str,
    token: String,
    gzip: bool,
    body: Bytes,
}

impl Call {
    fn new(path: &'static str, token: &str, message: &[u8], gzip: bool) -> Call {
        let body = if gzip {
            common::frame(1, &common::gzip(message))
        } else {
            common::frame(0, message)
        };
        Call {
            path,
            token: token.to_owned(),
            gzip,
            body: Bytes::from(body),
        }
    }

    fn request(&self) -> Request<Body> {
        let mut builder = Request::builder()
            .method("POST")
            .uri(self.path)
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .header("authorization", self.token.as_str());
        if self.gzip {
            builder = builder.header("grpc-encoding", "gzip");
        }
        builder
            .body(Body::new(http_body_util::Full::new(self.body.clone())))
            .expect("request")
    }
}

async fn run<S>(svc: &S, call: &Call) -> u16
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone,
{
    let resp = svc
        .clone()
        .oneshot(black_box(call.request()))
        .await
        .expect("infallible");
    // 0 for success; the grpc-status of a denial otherwise.
    resp.headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(0)
}

/// The time two threads take to make `iters` calls each at once, each on a runtime of its
/// own: the time of one call per thread, as criterion reports it.
fn on_two_threads<S>(svc: &S, call: &Call, iters: u64) -> Duration
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone + Send + Sync,
    S::Future: Send,
{
    let ready = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        let threads: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .expect("runtime");
                    ready.wait();
                    let started = std::time::Instant::now();
                    rt.block_on(async {
                        for _ in 0..iters {
                            black_box(run(svc, call).await);
                        }
                    });
                    started.elapsed()
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("bench thread"))
            .max()
            .unwrap_or_default()
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (rsa, ec, keys) = common::keys();
    let mapper = JwtClaimMapper::new(keys.clone());
    let layer = AuthzLayer::builder()
        .claim_mapper(mapper.clone())
        .authorizer(DefaultAuthorizer::new())
        .build();
    let inner = service_fn(passthrough);
    let authz = layer.layer(inner);

    let user = ec.bearer("bench-user", &["default:write"]);
    let admin = ec.bearer("bench-admin", &["temporal-system:read"]);
    let describe = DescribeNamespaceRequest {
        namespace: "default".to_owned(),
        id: String::new(),
    }
    .encode_to_vec();
    let describe_other = DescribeNamespaceRequest {
        namespace: "payments".to_owned(),
        id: String::new(),
    }
    .encode_to_vec();
    let start = start_workflow("default").encode_to_vec();
    let cases = [
        (
            "allowed_describe_namespace",
            Call::new(common::DESCRIBE_NAMESPACE, &user, &describe, false),
            0,
        ),
        (
            "allowed_start_workflow",
            Call::new(common::START_WORKFLOW, &user, &start, false),
            0,
        ),
        (
            "allowed_start_workflow_gzip",
            Call::new(common::START_WORKFLOW, &user, &start, true),
            0,
        ),
        (
            "denied_describe_namespace",
            Call::new(common::DESCRIBE_NAMESPACE, &user, &describe_other, false),
            7,
        ),
        (
            "cluster_list_namespaces",
            Call::new(common::LIST_NAMESPACES, &admin, &[], false),
            0,
        ),
    ];
    // Prime the token cache and check every case answers as intended.
    for (name, call, code) in &cases {
        let got = rt.block_on(run(&authz, call));
        assert_eq!(got, *code, "{name}");
    }

    let mut group = c.benchmark_group("layer");
    for (name, call, _) in &cases {
        group.bench_function(format!("{name}/passthrough"), |b| {
            b.to_async(&rt).iter(|| run(&inner, call));
        });
        group.bench_function(format!("{name}/layer"), |b| {
            b.to_async(&rt).iter(|| run(&authz, call));
        });
    }
    group.finish();

    // Two threads calling one layer at once, as a server's worker threads do: what the
    // threads share (the token cache, the method tables, any reference count on shared data)
    // shows here and not in one thread's loop.
    let mut group = c.benchmark_group("layer_two_threads");
    let (name, call, _) = &cases[0];
    group.bench_function(format!("{name}/passthrough"), |b| {
        b.iter_custom(|iters| on_two_threads(&inner, call, iters));
    });
    group.bench_function(format!("{name}/layer"), |b| {
        b.iter_custom(|iters| on_two_threads(&authz, call, iters));
    });
    group.finish();

    // Uncached: every call verifies the signature.
    let uncached = JwtClaimMapper::builder(keys).cache_capacity(0).build();
    let authz_uncached = AuthzLayer::builder()
        .claim_mapper(uncached.clone())
        .authorizer(DefaultAuthorizer::new())
        .build()
        .layer(inner);
    let mut group = c.benchmark_group("layer_uncached");
    for key in [&ec, &rsa] {
        let alg = format!("{:?}", key.alg);
        let token = key.bearer("bench-user", &["default:write"]);
        let call = Call::new(common::DESCRIBE_NAMESPACE, &token, &describe, false);
        assert_eq!(rt.block_on(run(&authz_uncached, &call)), 0);
        group.bench_function(format!("{alg}/verify_only"), |b| {
            b.to_async(&rt).iter(|| async {
                black_box(
                    uncached
                        .claims_for_token(&token, "")
                        .await
                        .expect("valid token"),
                )
            });
        });
        group.bench_function(format!("{alg}/layer"), |b| {
            b.to_async(&rt).iter(|| run(&authz_uncached, &call));
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
