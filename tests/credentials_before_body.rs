//! Credentials are checked before the body is read: a caller with no token, a malformed token
//! or a forged signature is refused with `PERMISSION_DENIED` without the layer reading a byte
//! of its message, however large or broken that message is. A caller with valid credentials
//! still gets the body's own errors (`RESOURCE_EXHAUSTED`, `INVALID_ARGUMENT`).

mod common;
use tonic_authz_testkit::jwks_server;
use tonic_authz_testkit::jwt as jwt_keys;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use http::{Request, Response};
use http_body::Frame;
use http_body_util::StreamBody;
use tonic::Code;
use tonic_authz::{AuthzLayer, DefaultAuthorizer, JwksKeyProvider, JwtClaimMapper};
use tower::{Layer, ServiceExt, service_fn};

use common::grpc::{assert_temporal_denial, header_status};
use jwks_server::{JwksServer, Reply};
use jwt_keys::{jwks, rsa, rsa2, temporal_payload, unix_now};

const START_WORKFLOW: &str =
    "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";

/// A message header announcing 5 MiB (over the 4 MiB default), then 64 KiB of it.
fn oversized() -> Vec<Bytes> {
    let len: u32 = 5 * 1024 * 1024;
    let mut header = vec![0_u8];
    header.extend_from_slice(&len.to_be_bytes());
    vec![Bytes::from(header), Bytes::from(vec![0x0a_u8; 64 * 1024])]
}

/// A message header announcing 100 bytes, then 10 bytes and the end of the body.
fn truncated() -> Vec<Bytes> {
    let mut frame = vec![0_u8, 0, 0, 0, 100];
    frame.extend_from_slice(&[0x0a, 8, b'p', b'a', b'y', b'm', b'e', b'n', b't', b's']);
    vec![Bytes::from(frame)]
}

/// Sends `chunks` as the body of a StartWorkflowExecution call with `token`; the status of
/// the layer's answer, and how many body frames were read.
async fn call(
    layer: &AuthzLayer,
    token: Option<&str>,
    chunks: Vec<Bytes>,
) -> (Option<tonic::Status>, usize) {
    let polled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&polled);
    let frames = stream::iter(chunks).map(move |data| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok::<_, Infallible>(Frame::data(data))
    });
    let mut req = Request::builder()
        .uri(format!("http://localhost{START_WORKFLOW}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let req = req.body(StreamBody::new(frames)).expect("request");
    let inner = service_fn(|_req: Request<tonic::body::Body>| async {
        Ok::<_, Infallible>(Response::new(tonic::body::Body::empty()))
    });
    let resp = layer
        .layer(inner)
        .oneshot(req.map(tonic::body::Body::new))
        .await
        .expect("infallible");
    (header_status(&resp), polled.load(Ordering::SeqCst))
}

#[tokio::test]
async fn bad_credentials_are_refused_before_the_body_is_read() {
    let server = JwksServer::start(Reply::json(jwks(&[rsa().jwk_with_kid("r1")]))).await;
    let keys = JwksKeyProvider::builder()
        .uri(server.uri())
        .refresh_interval(Duration::ZERO)
        .build()
        .await
        .expect("keys");
    let layer = AuthzLayer::builder()
        .claim_mapper(JwtClaimMapper::new(Arc::new(keys)))
        .authorizer(DefaultAuthorizer::new())
        .build();
    let now = unix_now();
    let payload = temporal_payload(now, &["payments:write"]);
    // Signed by another key under the trusted key's id.
    let forged = rsa2().sign("r1", &payload);
    let valid = rsa().sign("r1", &payload);

    for body in [oversized(), truncated()] {
        for token in [None, Some("not-a-jwt"), Some(forged.as_str())] {
            let (status, read) = call(&layer, token, body.clone()).await;
            let status = status.expect("refused");
            assert_temporal_denial(&status, "");
            assert_eq!(read, 0, "{token:?}: the body was read");
        }
    }

    // With valid credentials the body is read, and its own faults are reported.
    let (status, read) = call(&layer, Some(&valid), oversized()).await;
    assert_eq!(status.map(|s| s.code()), Some(Code::ResourceExhausted));
    assert!(read > 0);
    let (status, _) = call(&layer, Some(&valid), truncated()).await;
    let status = status.expect("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "request message is truncated");
}
