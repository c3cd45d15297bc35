//! What operators see: the metrics each kind of decision records (Temporal's names and tags),
//! bounded namespace labels under callers' made-up namespaces, tracing output for a denial
//! (the reason, never the token), and dry-run mode. The layer is built from YAML
//! (`AuthzLayer::from_config`) with a real JWT key set, and driven with `oneshot`.

// A failed unwrap here is a failed test, with the error in its message.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http::{Request, Response};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use prost::Message as _;
use tonic_authz::config::{Config, ConfigLoader};
use tonic_authz::{AuthzLayer, CallTarget, Claims, Decision, Role};
use tower::{Layer, ServiceExt, service_fn};

use common::grpc::{ChunkedBody, chunked_body, frame, header_status};
use common::jwt::{SigningKey, now};

const START_WORKFLOW: &str =
    "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";

#[derive(Clone, PartialEq, prost::Message)]
struct NamespaceRequest {
    #[prost(string, tag = "1")]
    namespace: String,
}

/// The tests of this file run one at a time: `tracing` caches per call site whether anyone
/// listens, and a test without a subscriber running beside one with a capture can make the
/// capture miss the call's span.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A JWT key set on disk and the configuration pointing at it.
struct Setup {
    _dir: tempfile::TempDir,
    key: SigningKey,
    config: Config,
}

impl Setup {
    /// `global.authorization` with the JWT mapper over a `file://` key set, plus `extra` keys.
    fn new(extra: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::es256("obs-key");
        let jwks = dir.path().join("jwks.json");
        std::fs::write(&jwks, key.jwks()).unwrap();
        let yaml = format!(
            "global:\n  authorization:\n    jwtKeyProvider:\n      keySourceURIs: [\"file://{}\"]\n      refreshInterval: 0\n    authorizer: default\n    claimMapper: default\n    knownNamespaces: [payments]\n{extra}",
            jwks.display()
        );
        let config = ConfigLoader::new().load_str(&yaml).unwrap();
        Setup {
            _dir: dir,
            key,
            config,
        }
    }

    fn token(&self, permissions: &[&str]) -> String {
        let now = now();
        self.key.sign(&serde_json::json!({
            "sub": "alice", "iat": now, "exp": now + 600, "permissions": permissions,
        }))
    }
}

/// The inner service: counts the calls that reach it.
#[derive(Clone, Default)]
struct Handler {
    calls: Arc<AtomicUsize>,
}

impl Handler {
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn service(
        self,
    ) -> impl tower::Service<
        Request<tonic::body::Body>,
        Response = Response<tonic::body::Body>,
        Error = Infallible,
        Future = impl Future<Output = Result<Response<tonic::body::Body>, Infallible>> + Send,
    > + Clone
    + Send
    + 'static {
        let calls = self.calls;
        service_fn(move |_req: Request<tonic::body::Body>| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, Infallible>(Response::new(tonic::body::Body::empty())) }
        })
    }
}

fn start_workflow(namespace: &str, token: Option<&str>) -> Request<ChunkedBody> {
    let message = NamespaceRequest {
        namespace: namespace.to_owned(),
    }
    .encode_to_vec();
    let body = frame(&message);
    let mut builder = Request::builder()
        .uri(format!("http://localhost{START_WORKFLOW}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(chunked_body(&body, body.len(), None)).unwrap()
}

/// Sends one call; `None` when it got through to the handler, else the denial's status.
async fn send(
    layer: &AuthzLayer,
    handler: &Handler,
    req: Request<ChunkedBody>,
) -> Option<tonic::Status> {
    let svc = layer.layer(handler.clone().service());
    let response = svc.oneshot(req).await.unwrap();
    header_status(&response)
}

/// Runs `f` on a current-thread runtime with `recorder` as this thread's metrics recorder.
fn with_recorder<F: Future>(recorder: &DebuggingRecorder, f: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(recorder, || runtime.block_on(f))
}

/// name{label=value,...} -> counter value, or histogram sample count.
fn metric_values(snapshotter: &Snapshotter) -> BTreeMap<String, u64> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let mut labels: Vec<String> = key
                .key()
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            labels.sort();
            let name = format!("{}{{{}}}", key.key().name(), labels.join(","));
            let value = match value {
                DebugValue::Counter(n) => n,
                DebugValue::Histogram(samples) => samples.len() as u64,
                DebugValue::Gauge(g) => g.into_inner() as u64,
            };
            (name, value)
        })
        .filter(|(_, value)| *value > 0)
        .collect()
}

/// The per-API decision counters of the method these tests call.
const START_ALLOWED: &str = "tonic_authz_api_decisions_total{api=/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution,outcome=allowed}";
const START_DENIED: &str = "tonic_authz_api_decisions_total{api=/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution,outcome=denied}";
const START_MAPPER_FAILED: &str = "tonic_authz_api_decisions_total{api=/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution,outcome=claim_mapper_failed}";
const START_AUTHORIZER_FAILED: &str = "tonic_authz_api_decisions_total{api=/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution,outcome=authorizer_failed}";

fn expected(entries: &[(&str, u64)]) -> BTreeMap<String, u64> {
    entries.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

#[test]
fn counters_for_allowed_denied_and_mapper_failed_calls() {
    let _serial = serial();
    let setup = Setup::new("");
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let handler = Handler::default();
    let writer = setup.token(&["payments:write"]);
    let forged = SigningKey::es256("obs-key").sign(&serde_json::json!({
        "sub": "alice", "iat": now(), "exp": now() + 600, "permissions": ["payments:write"],
    }));
    with_recorder(&recorder, async {
        let layer = AuthzLayer::from_config(&setup.config).await.unwrap();
        assert!(
            send(&layer, &handler, start_workflow("payments", Some(&writer)))
                .await
                .is_none()
        );
        let denied = send(&layer, &handler, start_workflow("billing", Some(&writer)))
            .await
            .unwrap();
        assert_eq!(
            (denied.code(), denied.message()),
            (tonic::Code::PermissionDenied, "Request unauthorized.")
        );
        let failed = send(&layer, &handler, start_workflow("payments", Some(&forged)))
            .await
            .unwrap();
        assert_eq!(failed.code(), tonic::Code::PermissionDenied);
        let malformed = send(
            &layer,
            &handler,
            start_workflow("payments", Some("not.a.jwt")),
        )
        .await
        .unwrap();
        assert_eq!(malformed.code(), tonic::Code::PermissionDenied);
    });
    assert_eq!(handler.calls(), 1);
    let metrics = metric_values(&snapshotter);
    let jwks_fetches: u64 = metrics
        .iter()
        .filter(|(k, _)| k.starts_with("tonic_authz_jwks_fetches_total"))
        .map(|(_, v)| v)
        .sum();
    assert!(jwks_fetches >= 1, "{metrics:#?}");
    let decisions: BTreeMap<String, u64> = metrics
        .into_iter()
        .filter(|(k, _)| !k.starts_with("tonic_authz_jwks"))
        .collect();
    assert_eq!(
        decisions,
        expected(&[
            (
                "service_authorization_latency{namespace=_unknown_,operation=Authorization}",
                1
            ),
            (
                "service_authorization_latency{namespace=payments,operation=Authorization}",
                1
            ),
            (
                "service_errors_unauthorized{namespace=_unknown_,operation=Authorization}",
                1
            ),
            (
                "tonic_authz_claim_mapper_failures_total{reason=malformed_token}",
                1
            ),
            (
                "tonic_authz_claim_mapper_failures_total{reason=signature}",
                1
            ),
            ("tonic_authz_decisions_total{outcome=allowed}", 1),
            (
                "tonic_authz_decisions_total{outcome=claim_mapper_failed}",
                2
            ),
            ("tonic_authz_decisions_total{outcome=denied}", 1),
            (START_ALLOWED, 1),
            (START_MAPPER_FAILED, 2),
            (START_DENIED, 1),
            // The writer's token is verified once, then found in the cache; the forged and
            // the malformed tokens are looked up and missed.
            ("tonic_authz_token_cache_requests_total{result=hit}", 1),
            ("tonic_authz_token_cache_requests_total{result=miss}", 3),
        ])
    );
}

#[test]
fn counters_for_authorizer_failures() {
    let _serial = serial();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let handler = Handler::default();
    let status = with_recorder(&recorder, async {
        let layer = AuthzLayer::builder()
            .claim_mapper(tonic_authz::NoopClaimMapper)
            .authorizer(|_: Option<&Claims>, _: &CallTarget| async {
                Err::<Decision, _>(tonic::Status::unavailable("policy store down"))
            })
            .known_namespaces(["payments"])
            .build();
        send(&layer, &handler, start_workflow("payments", None))
            .await
            .unwrap()
    });
    // The authorizer's own error stays on the server (exposeAuthorizerErrors is off).
    assert_eq!(
        (status.code(), status.message()),
        (tonic::Code::PermissionDenied, "Request unauthorized.")
    );
    assert_eq!(handler.calls(), 0);
    assert_eq!(
        metric_values(&snapshotter),
        expected(&[
            (
                "service_authorization_latency{namespace=payments,operation=Authorization}",
                1
            ),
            (
                "service_errors_authorize_failed{namespace=payments,operation=Authorization}",
                1
            ),
            ("tonic_authz_decisions_total{outcome=authorizer_failed}", 1),
            (START_AUTHORIZER_FAILED, 1),
        ])
    );
}

#[test]
fn made_up_namespaces_never_become_labels() {
    let _serial = serial();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let handler = Handler::default();
    const CALLS: u64 = 10_000;
    with_recorder(&recorder, async {
        // Every caller may write `payments` only.
        let layer = AuthzLayer::builder()
            .claim_mapper(|_: &tonic_authz::AuthInfo| async {
                Ok(Claims::new()
                    .with_subject("caller")
                    .with_namespace("payments", Role::WRITER))
            })
            .known_namespaces(["payments", "orders"])
            .build();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..CALLS {
            // xorshift64: a different made-up namespace on almost every call.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let namespace = if i % 10 == 0 {
                "payments".to_owned()
            } else {
                format!("ns-{seed:x}")
            };
            send(&layer, &handler, start_workflow(&namespace, Some("opaque"))).await;
        }
    });
    let metrics = metric_values(&snapshotter);
    let labels: BTreeSet<String> = metrics
        .keys()
        .flat_map(|k| {
            k.split(['{', '}', ','])
                .filter_map(|part| part.strip_prefix("namespace="))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        labels,
        BTreeSet::from(["_unknown_".to_owned(), "payments".to_owned()])
    );
    assert_eq!(handler.calls() as u64, CALLS / 10);
    assert_eq!(
        metrics,
        expected(&[
            (
                "service_authorization_latency{namespace=_unknown_,operation=Authorization}",
                CALLS - CALLS / 10
            ),
            (
                "service_authorization_latency{namespace=payments,operation=Authorization}",
                CALLS / 10
            ),
            (
                "service_errors_unauthorized{namespace=_unknown_,operation=Authorization}",
                CALLS - CALLS / 10
            ),
            ("tonic_authz_decisions_total{outcome=allowed}", CALLS / 10),
            (
                "tonic_authz_decisions_total{outcome=denied}",
                CALLS - CALLS / 10
            ),
            (START_ALLOWED, CALLS / 10),
            (START_DENIED, CALLS - CALLS / 10),
        ])
    );
}

/// A `tracing` writer that keeps everything written.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` with every tracing event (TRACE and up) written to the returned capture.
fn with_captured_logs<F: Future>(f: F) -> (F::Output, String) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = tracing::subscriber::with_default(subscriber, || runtime.block_on(f));
    let mut sink = captured.clone();
    sink.flush().unwrap();
    (out, captured.text())
}

#[test]
fn denial_logs_carry_the_reason_and_never_the_token() {
    let _serial = serial();
    let setup = Setup::new("");
    let handler = Handler::default();
    let writer = setup.token(&["payments:write"]);
    // Same header and claims, signature of another key: refused by the claim mapper.
    let other_key = SigningKey::es256("obs-key");
    let now = now();
    let forged = other_key.sign(&serde_json::json!({
        "sub": "alice", "iat": now, "exp": now + 600, "permissions": ["payments:write"],
    }));
    let ((mapper_denial, authorizer_denial), logs) = with_captured_logs(async {
        let layer = AuthzLayer::from_config(&setup.config).await.unwrap();
        let mapper = send(&layer, &handler, start_workflow("payments", Some(&forged))).await;
        let authorizer = send(&layer, &handler, start_workflow("billing", Some(&writer))).await;
        (mapper, authorizer)
    });
    assert_eq!(
        mapper_denial.map(|s| s.code()),
        Some(tonic::Code::PermissionDenied)
    );
    assert_eq!(
        authorizer_denial.map(|s| s.code()),
        Some(tonic::Code::PermissionDenied)
    );
    assert_eq!(handler.calls(), 0);

    // The claim mapper's reason, in the call's span.
    let mapper_line = logs
        .lines()
        .find(|l| l.contains("authorization error: claim mapper failed"))
        .unwrap_or_else(|| panic!("no claim-mapper denial in:\n{logs}"));
    assert!(
        mapper_line.contains("kind=\"signature\"") || mapper_line.contains("kind=signature"),
        "{mapper_line}"
    );
    assert!(
        mapper_line.contains(&format!("api={START_WORKFLOW}")),
        "{mapper_line}"
    );
    // The authorizer's denial, with the namespace it was about.
    let authorizer_line = logs
        .lines()
        .find(|l| l.contains("request denied by authorizer"))
        .unwrap_or_else(|| panic!("no authorizer denial in:\n{logs}"));
    assert!(
        authorizer_line.contains("namespace=billing")
            || authorizer_line.contains("namespace=\"billing\""),
        "{authorizer_line}"
    );
    assert!(
        authorizer_line.contains("subject=alice") || authorizer_line.contains("subject=\"alice\""),
        "{authorizer_line}"
    );

    // No token, and no part of one (header, payload or signature), anywhere.
    for token in [&forged, &writer] {
        for (i, part) in token.split('.').enumerate() {
            assert!(
                !logs.contains(part),
                "token part {i} leaked into the logs:\n{logs}"
            );
        }
    }
}

#[test]
fn dry_run_lets_would_be_denials_through_and_counts_them() {
    let _serial = serial();
    let setup = Setup::new("    dryRun: true\n");
    assert!(setup.config.global.authorization.dry_run);
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let handler = Handler::default();
    let writer = setup.token(&["payments:write"]);
    let ((anonymous, other_namespace, allowed), logs) = with_captured_logs(async {
        with_recorder_async(&recorder, async {
            let layer = AuthzLayer::from_config(&setup.config).await.unwrap();
            let anonymous = send(&layer, &handler, start_workflow("payments", None)).await;
            let other = send(&layer, &handler, start_workflow("billing", Some(&writer))).await;
            let allowed = send(&layer, &handler, start_workflow("payments", Some(&writer))).await;
            (anonymous, other, allowed)
        })
        .await
    });
    // Every call reached the handler, none was answered with a denial.
    assert!(anonymous.is_none(), "{anonymous:?}");
    assert!(other_namespace.is_none(), "{other_namespace:?}");
    assert!(allowed.is_none(), "{allowed:?}");
    assert_eq!(handler.calls(), 3);
    let decisions: BTreeMap<String, u64> = metric_values(&snapshotter)
        .into_iter()
        .filter(|(k, _)| {
            k.starts_with("tonic_authz_decisions_total")
                || k.starts_with("service_errors")
                || k.starts_with("tonic_authz_dry_run")
        })
        .collect();
    // Counted apart from real denials: `service_errors_unauthorized` stays at zero.
    assert_eq!(
        decisions,
        expected(&[
            (
                "tonic_authz_dry_run_denials_total{namespace=_unknown_,operation=Authorization}",
                1
            ),
            (
                "tonic_authz_dry_run_denials_total{namespace=payments,operation=Authorization}",
                1
            ),
            ("tonic_authz_decisions_total{outcome=allowed}", 1),
            ("tonic_authz_decisions_total{outcome=dry_run_denied}", 2),
        ])
    );
    // Announced at start-up, and on each would-be denial, at warn level.
    let warnings: Vec<&str> = logs.lines().filter(|l| l.contains("WARN")).collect();
    assert!(
        warnings.iter().any(|l| l.contains("dry-run mode")),
        "no start-up announcement in:\n{logs}"
    );
    assert_eq!(
        warnings
            .iter()
            .filter(|l| l.contains("dry run: a denied call is let through"))
            .count(),
        2,
        "{logs}"
    );
}

/// [`with_recorder`] for use inside a runtime that is already running (the capture's).
async fn with_recorder_async<F: Future>(recorder: &DebuggingRecorder, f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    std::future::poll_fn(|cx| metrics::with_local_recorder(recorder, || f.as_mut().poll(cx))).await
}
