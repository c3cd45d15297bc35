//! The decision audit log through the layer: one record per audited call with the caller, the
//! API, the namespace, the decision and its reason; never the token; denials only unless every
//! decision is asked for; under load (10 000 calls) no record is lost while the writer keeps
//! up, and when it cannot, the records it could not take are counted as dropped.

use std::io::{self, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use prost::Message;
use tonic_authz::{
    AUDIT_DROPPED, AuditDecisions, AuthInfo, AuthzLayer, AuthzLayerBuilder, CallTarget, Claims,
    ClaimsError, Decision, JsonLinesAuditSink,
};
use tower::{Layer, ServiceExt, service_fn};

const DESCRIBE_NAMESPACE: &str =
    "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace";
const TOKEN: &str = "Bearer very-secret-token-material";

#[derive(Clone, PartialEq, prost::Message)]
struct NamespaceRequest {
    #[prost(string, tag = "1")]
    namespace: String,
}

fn request(namespace: &str) -> Request<tonic::body::Body> {
    let message = NamespaceRequest {
        namespace: namespace.to_owned(),
    }
    .encode_to_vec();
    let mut framed = vec![0u8];
    framed.extend_from_slice(&u32::try_from(message.len()).expect("small").to_be_bytes());
    framed.extend_from_slice(&message);
    Request::builder()
        .uri(format!("http://localhost{DESCRIBE_NAMESPACE}"))
        .header("content-type", "application/grpc")
        .header("authorization", TOKEN)
        .body(tonic::body::Body::new(Full::new(Bytes::from(framed))))
        .expect("request")
}

/// Alice, whatever the token; the authorizer allows namespace `open` only.
fn layer() -> AuthzLayerBuilder {
    AuthzLayer::builder()
        .claim_mapper(|_: &AuthInfo| async {
            Ok::<_, ClaimsError>(
                Claims::new()
                    .with_subject("alice")
                    .with_auth_type("jwt")
                    .with_issuer("https://idp.example/"),
            )
        })
        .authorizer(|_: Option<&Claims>, target: &CallTarget| {
            let allow = target.namespace() == "open";
            async move {
                Ok(if allow {
                    Decision::Allow
                } else {
                    Decision::deny_with_reason("closed namespace")
                })
            }
        })
}

async fn call(layer: &AuthzLayer, namespace: &str) -> bool {
    let inner = service_fn(|_req: Request<tonic::body::Body>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(tonic::body::Body::empty()))
    });
    let response = layer
        .layer(inner)
        .oneshot(request(namespace))
        .await
        .expect("infallible");
    response.headers().get("grpc-status").is_none()
}

/// A writer into shared memory.
#[derive(Clone, Default)]
struct Memory(Arc<Mutex<Vec<u8>>>);

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Memory {
    fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().expect("lock").clone();
        String::from_utf8(bytes)
            .expect("utf-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect()
    }
}

#[tokio::test]
async fn denials_are_recorded_with_caller_and_reason_and_never_the_token() {
    let memory = Memory::default();
    let sink = JsonLinesAuditSink::new(memory.clone(), 64, "memory").expect("sink");
    let layer = layer().audit(sink.clone()).build();
    assert!(call(&layer, "open").await);
    assert!(!call(&layer, "closed").await);
    sink.flush();
    let lines = memory.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let record = &lines[0];
    assert_eq!(record["subject"], "alice");
    assert_eq!(record["authType"], "jwt");
    assert_eq!(record["issuer"], "https://idp.example/");
    assert_eq!(record["api"], DESCRIBE_NAMESPACE);
    assert_eq!(record["namespace"], "closed");
    assert_eq!(record["decision"], "denied");
    assert_eq!(record["reason"], "closed namespace");
    assert!(record["latencyUs"].is_u64());
    assert!(record["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    let raw = String::from_utf8(memory.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(!raw.contains("very-secret-token-material"));
}

#[tokio::test]
async fn every_decision_when_asked_and_none_lost_under_load() {
    let memory = Memory::default();
    let sink = JsonLinesAuditSink::new(memory.clone(), 16 * 1024, "memory").expect("sink");
    let layer = layer()
        .audit(sink.clone())
        .audit_decisions(AuditDecisions::All)
        .build();
    for i in 0..10_000 {
        let ns = if i % 2 == 0 { "open" } else { "closed" };
        assert_eq!(call(&layer, ns).await, i % 2 == 0);
    }
    sink.flush();
    let lines = memory.lines();
    assert_eq!(lines.len(), 10_000);
    let allowed = lines.iter().filter(|l| l["decision"] == "allowed").count();
    assert_eq!(allowed, 5_000);
}

/// A writer that blocks until told to go on.
struct Stuck(Mutex<mpsc::Receiver<()>>, Memory);

impl Write for Stuck {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = self.0.lock().expect("lock").recv();
        self.1.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_stuck_writer_never_holds_calls_up_and_drops_are_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let (go, wait) = mpsc::channel();
    let memory = Memory::default();
    let stuck = Stuck(Mutex::new(wait), memory.clone());
    let sink = JsonLinesAuditSink::new(stuck, 10, "stuck").expect("sink");
    let layer = layer()
        .audit(sink.clone())
        .audit_decisions(AuditDecisions::All)
        .build();
    for _ in 0..10_000 {
        call(&layer, "closed").await;
    }
    let dropped: u64 = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == AUDIT_DROPPED)
        .map(|(.., value)| match value {
            DebugValue::Counter(n) => n,
            _ => 0,
        })
        .sum();
    // The queue holds 10 and the writer thread's buffer a few dozen more; the rest is dropped
    // (calls never waited: they all finished while the writer was stuck).
    assert!(dropped >= 10_000 - 100, "only {dropped} dropped");
    // Let the writer go: everything not dropped is written.
    for _ in 0..10_000 {
        let _ = go.send(());
    }
    sink.flush();
    let written = memory.lines().len() as u64;
    assert_eq!(written + dropped, 10_000);
}
