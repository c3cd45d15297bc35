//! `memory_load`: N concurrent large `DescribeNamespace` calls, all in flight at once, for the
//! peak-memory measurement of `examples/bench/memory_peak.sh`.
//!
//! Every call carries the same hand-framed request message of `--size` bytes (the namespace
//! field plus an unknown field holding the padding, which prost skips and the layer's scan
//! steps over), shared between calls so the load generator itself stays small. The calls are
//! spread over `--connections` plaintext HTTP/2 connections, released together, and counted by
//! gRPC status; the output is one line of JSON:
//!
//! ```text
//! cargo run --release -p tonic-authz-examples --bin memory_load -- \
//!     --address 127.0.0.1:17234 --calls 1000 --connections 10 --size 4194304 --token "$TOKEN"
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use clap::Parser;
use http_body_util::{BodyExt, Full};
use tonic::transport::{Channel, Endpoint};
use tower::Service;

const PATH: &str = "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace";

/// Sends N concurrent large calls and reports how they ended.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Server address, `host:port` (plaintext HTTP/2).
    #[arg(long, default_value = "127.0.0.1:7233")]
    address: String,
    /// Calls in flight at once (all of them).
    #[arg(long, default_value_t = 1000)]
    calls: usize,
    /// HTTP/2 connections to spread them over.
    #[arg(long, default_value_t = 10)]
    connections: usize,
    /// Size of each request message in bytes (without the 5-byte gRPC frame header).
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    size: usize,
    /// The namespace asked for.
    #[arg(long, default_value = "default")]
    namespace: String,
    /// Bearer token sent in `authorization` (`Bearer ` is added when missing); none: the
    /// calls carry no credentials.
    #[arg(long, env = "MEMORY_LOAD_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

/// Appends a protobuf varint.
fn varint(out: &mut BytesMut, mut value: u64) {
    while value >= 0x80 {
        out.put_u8((value as u8) | 0x80);
        value >>= 7;
    }
    out.put_u8(value as u8);
}

/// A gRPC frame holding a `DescribeNamespaceRequest` of exactly `size` bytes: field 1 the
/// namespace, field 1000 (unknown to the schema) the padding.
fn framed_request(namespace: &str, size: usize) -> Result<Bytes, String> {
    let mut head = BytesMut::new();
    head.put_u8(0x0a); // field 1, length-delimited
    varint(&mut head, namespace.len() as u64);
    head.put_slice(namespace.as_bytes());
    let tag = (1000_u64 << 3) | 2; // field 1000, length-delimited
    let mut tag_bytes = BytesMut::new();
    varint(&mut tag_bytes, tag);
    // Find the padding length whose own varint makes the message exactly `size` bytes.
    let fixed = head.len() + tag_bytes.len();
    let padding = (1..=10)
        .filter_map(|n| size.checked_sub(fixed + n))
        .find(|p| {
            let mut probe = BytesMut::new();
            varint(&mut probe, *p as u64);
            fixed + probe.len() + p == size
        })
        .ok_or_else(|| format!("--size {size} is too small for the namespace"))?;
    let mut message = BytesMut::with_capacity(5 + size);
    message.put_u8(0);
    message.put_u32(u32::try_from(size).map_err(|_| "--size above 4 GiB".to_owned())?);
    message.put_slice(&head);
    message.put_slice(&tag_bytes);
    varint(&mut message, padding as u64);
    message.put_bytes(b'x', padding);
    debug_assert_eq!(message.len(), 5 + size);
    Ok(message.freeze())
}

/// One call; its gRPC status code (`-1` when the transport failed).
async fn call(mut channel: Channel, body: Bytes, token: Option<Arc<str>>) -> i32 {
    let mut request = http::Request::builder()
        .method("POST")
        .uri(format!("http://loadgen{PATH}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(token) = token {
        request = request.header("authorization", &*token);
    }
    let Ok(request) = request.body(tonic::body::Body::new(Full::new(body))) else {
        return -1;
    };
    if std::future::poll_fn(|cx| channel.poll_ready(cx))
        .await
        .is_err()
    {
        return -1;
    }
    let Ok(response) = channel.call(request).await else {
        return -1;
    };
    let (parts, body) = response.into_parts();
    let status = |headers: &http::HeaderMap| {
        headers
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i32>().ok())
    };
    if let Some(code) = status(&parts.headers) {
        return code;
    }
    match body.collect().await {
        Ok(collected) => collected.trailers().and_then(status).unwrap_or(-1),
        Err(_) => -1,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let body = match framed_request(&args.namespace, args.size) {
        Ok(body) => body,
        Err(error) => {
            eprintln!("memory_load: {error}");
            return ExitCode::FAILURE;
        }
    };
    let token: Option<Arc<str>> = args.token.as_deref().map(|t| {
        if t.starts_with("Bearer ") {
            Arc::from(t)
        } else {
            Arc::from(format!("Bearer {t}"))
        }
    });
    let mut channels = Vec::with_capacity(args.connections.max(1));
    for _ in 0..args.connections.max(1) {
        let endpoint = match Endpoint::from_shared(format!("http://{}", args.address)) {
            Ok(endpoint) => endpoint,
            Err(error) => {
                eprintln!("memory_load: bad address: {error}");
                return ExitCode::FAILURE;
            }
        };
        match endpoint.connect().await {
            Ok(channel) => channels.push(channel),
            Err(error) => {
                eprintln!("memory_load: cannot connect to {}: {error}", args.address);
                return ExitCode::FAILURE;
            }
        }
    }
    let started = Instant::now();
    let barrier = Arc::new(tokio::sync::Barrier::new(args.calls));
    let mut tasks = Vec::with_capacity(args.calls);
    for i in 0..args.calls {
        let channel = channels[i % channels.len()].clone();
        let body = body.clone();
        let token = token.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            call(channel, body, token).await
        }));
    }
    let mut codes: BTreeMap<i32, u64> = BTreeMap::new();
    for task in tasks {
        let code = task.await.unwrap_or(-1);
        *codes.entry(code).or_default() += 1;
    }
    let codes: Vec<String> = codes.iter().map(|(c, n)| format!("\"{c}\": {n}")).collect();
    println!(
        "{{\"calls\": {}, \"size\": {}, \"seconds\": {:.3}, \"codes\": {{{}}}}}",
        args.calls,
        args.size,
        started.elapsed().as_secs_f64(),
        codes.join(", ")
    );
    ExitCode::SUCCESS
}
