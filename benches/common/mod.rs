//! Shared bench fixtures: signing keys generated at start (from the testkit), bench tokens, a
//! `StartWorkflowExecutionRequest`-shaped message, and gRPC framing.
#![allow(dead_code)] // each bench uses a different subset

use std::sync::Arc;

use jsonwebtoken::Algorithm;
use serde_json::json;
use tonic_authz::{StaticKeyProvider, TokenKeyProvider, VerificationKey};
use tonic_authz_testkit::jwt::{self, TestKey, unix_now};

pub(crate) const DESCRIBE_NAMESPACE: &str =
    "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace";
pub(crate) const START_WORKFLOW: &str =
    "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";
pub(crate) const LIST_NAMESPACES: &str =
    "/temporal.api.workflowservice.v1.WorkflowService/ListNamespaces";

/// A private signing key with its algorithm and key id (the testkit's), signing bench tokens.
pub(crate) struct SigningKey {
    pub(crate) alg: Algorithm,
    key: jwt::SigningKey,
}

impl SigningKey {
    /// A signed `Bearer` token for `sub` with these permissions, valid for an hour.
    pub(crate) fn bearer(&self, sub: &str, permissions: &[&str]) -> String {
        let payload = json!({
            "sub": sub,
            "permissions": permissions,
            "exp": unix_now() + 3600,
            "iss": "bench",
        });
        format!("Bearer {}", self.key.sign(&payload))
    }
}

/// An RSA-2048 and an EC P-256 key, and a static provider holding both public halves.
pub(crate) fn keys() -> (SigningKey, SigningKey, Arc<dyn TokenKeyProvider>) {
    let rsa = jwt::SigningKey::new(TestKey::rsa(), "rsa");
    let ec = jwt::SigningKey::new(TestKey::p256(), "ec");
    let public = |key: &jwt::SigningKey| {
        VerificationKey::from_pem(key.key().public_pem.as_bytes()).expect("public key")
    };
    let provider = StaticKeyProvider::new()
        .with_key("rsa", public(&rsa))
        .with_key("ec", public(&ec));
    let bench_key = |key: jwt::SigningKey| SigningKey {
        alg: key.alg(),
        key,
    };
    (bench_key(rsa), bench_key(ec), Arc::new(provider))
}

/// Temporal's message shapes, by hand (field numbers as in the official protos).
pub(crate) mod temporal {
    use std::collections::HashMap;

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct WorkflowType {
        #[prost(string, tag = "1")]
        pub(crate) name: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct TaskQueue {
        #[prost(string, tag = "1")]
        pub(crate) name: String,
        #[prost(int32, tag = "2")]
        pub(crate) kind: i32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Payload {
        #[prost(map = "string, bytes", tag = "1")]
        pub(crate) metadata: HashMap<String, Vec<u8>>,
        #[prost(bytes = "vec", tag = "2")]
        pub(crate) data: Vec<u8>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Payloads {
        #[prost(message, repeated, tag = "1")]
        pub(crate) payloads: Vec<Payload>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Duration {
        #[prost(int64, tag = "1")]
        pub(crate) seconds: i64,
        #[prost(int32, tag = "2")]
        pub(crate) nanos: i32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct RetryPolicy {
        #[prost(message, optional, tag = "1")]
        pub(crate) initial_interval: Option<Duration>,
        #[prost(double, tag = "2")]
        pub(crate) backoff_coefficient: f64,
        #[prost(int32, tag = "4")]
        pub(crate) maximum_attempts: i32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Header {
        #[prost(map = "string, message", tag = "1")]
        pub(crate) fields: HashMap<String, Payload>,
    }

    /// `temporal.api.workflowservice.v1.StartWorkflowExecutionRequest`, the fields an SDK sets.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct StartWorkflowExecutionRequest {
        #[prost(string, tag = "1")]
        pub(crate) namespace: String,
        #[prost(string, tag = "2")]
        pub(crate) workflow_id: String,
        #[prost(message, optional, tag = "3")]
        pub(crate) workflow_type: Option<WorkflowType>,
        #[prost(message, optional, tag = "4")]
        pub(crate) task_queue: Option<TaskQueue>,
        #[prost(message, optional, tag = "5")]
        pub(crate) input: Option<Payloads>,
        #[prost(message, optional, tag = "6")]
        pub(crate) workflow_execution_timeout: Option<Duration>,
        #[prost(message, optional, tag = "7")]
        pub(crate) workflow_run_timeout: Option<Duration>,
        #[prost(message, optional, tag = "8")]
        pub(crate) workflow_task_timeout: Option<Duration>,
        #[prost(string, tag = "9")]
        pub(crate) identity: String,
        #[prost(string, tag = "10")]
        pub(crate) request_id: String,
        #[prost(int32, tag = "11")]
        pub(crate) workflow_id_reuse_policy: i32,
        #[prost(message, optional, tag = "12")]
        pub(crate) retry_policy: Option<RetryPolicy>,
        #[prost(message, optional, tag = "16")]
        pub(crate) header: Option<Header>,
    }

    /// `temporal.api.workflowservice.v1.DescribeNamespaceRequest`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct DescribeNamespaceRequest {
        #[prost(string, tag = "1")]
        pub(crate) namespace: String,
        #[prost(string, tag = "2")]
        pub(crate) id: String,
    }

    fn json_payload(data: &[u8]) -> Payload {
        Payload {
            metadata: HashMap::from([("encoding".to_owned(), b"json/plain".to_vec())]),
            data: data.to_vec(),
        }
    }

    /// A start request as an SDK sends it: a JSON argument of about 200 bytes, timeouts,
    /// a retry policy and a tracing header.
    pub(crate) fn start_workflow(namespace: &str) -> StartWorkflowExecutionRequest {
        let arg = format!(
            r#"{{"orderId":"{}","customer":"c-42","items":[{{"sku":"A-1","qty":2}},{{"sku":"B-7","qty":1}}],"notes":"{}"}}"#,
            "7f3c2a9e-1d4b-4e8a-9c1f-2b6d8e0a4c3f",
            "x".repeat(64)
        );
        StartWorkflowExecutionRequest {
            namespace: namespace.to_owned(),
            workflow_id: "order-7f3c2a9e-1d4b-4e8a-9c1f-2b6d8e0a4c3f".to_owned(),
            workflow_type: Some(WorkflowType {
                name: "ProcessOrder".to_owned(),
            }),
            task_queue: Some(TaskQueue {
                name: "orders".to_owned(),
                kind: 1,
            }),
            input: Some(Payloads {
                payloads: vec![json_payload(arg.as_bytes())],
            }),
            workflow_execution_timeout: Some(Duration {
                seconds: 86_400,
                nanos: 0,
            }),
            workflow_run_timeout: Some(Duration {
                seconds: 3_600,
                nanos: 0,
            }),
            workflow_task_timeout: Some(Duration {
                seconds: 10,
                nanos: 0,
            }),
            identity: "12345@worker-host-01".to_owned(),
            request_id: "0b8f1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d".to_owned(),
            workflow_id_reuse_policy: 1,
            retry_policy: Some(RetryPolicy {
                initial_interval: Some(Duration {
                    seconds: 1,
                    nanos: 0,
                }),
                backoff_coefficient: 2.0,
                maximum_attempts: 5,
            }),
            header: Some(Header {
                fields: HashMap::from([(
                    "_tracer-data".to_owned(),
                    json_payload(br#"{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}"#),
                )]),
            }),
        }
    }
}

/// One gRPC frame: compression flag, big-endian length, message.
pub(crate) fn frame(flag: u8, message: &[u8]) -> Vec<u8> {
    let len = u32::try_from(message.len()).expect("bench messages are small");
    let mut out = Vec::with_capacity(5 + message.len());
    out.push(flag);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// gzip, as Temporal's SDKs compress request messages.
pub(crate) fn gzip(message: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(message).expect("writes to memory");
    encoder.finish().expect("writes to memory")
}

/// gunzip, the way the layer does it (bounded).
pub(crate) fn gunzip(compressed: &[u8], limit: usize) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(2).min(limit));
    flate2::read::GzDecoder::new(compressed)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}
