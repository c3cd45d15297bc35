//! Where the layer sits among other layers and services, one real server each on loopback:
//!
//! - behind `tonic-web`: grpc-web clients (binary and base64 text) are translated first, so
//!   the layer reads gRPC frames and the request's real namespace;
//! - on the gRPC service of an axum router that also serves REST routes: the REST routes are
//!   untouched;
//! - with the gRPC reflection service, allowed by an explicit `ApiAccess` entry (system
//!   readers only);
//! - inside tower's timeout (which then bounds a slow claim mapper too) and concurrency limit
//!   (which counts calls being authorized).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use prost::Message as _;
use temporalio_protos::protos::temporal::api::workflowservice::v1::DescribeNamespaceRequest;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tonic::Code;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint, Server};
use tonic_authz::{
    Access, ApiAccess, AuthInfo, AuthzLayer, Claims, ClaimsError, ClaimsErrorKind,
    DefaultAuthorizer, Role, Scope,
};
use tonic_authz_examples::{Backend, BackendConfig, services, workflow_client};
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

const DESCRIBE_NAMESPACE: &str =
    "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace";
const REFLECTION: &str = "grpc.reflection.v1.ServerReflection";

/// Tokens: `reader` reads namespace `default`, `elsewhere` reads `other`, `system` is a
/// system reader, `slow` waits for the gate; anything else is refused.
fn layer(gate: Option<Arc<Semaphore>>) -> AuthzLayer {
    let access = ApiAccess::temporal().with_service(REFLECTION, Scope::Cluster, Access::Read);
    AuthzLayer::builder()
        .claim_mapper(move |info: &AuthInfo| {
            let token = info.auth_token.clone();
            let gate = gate.clone();
            async move {
                let claims = Claims::new().with_subject("test");
                match token.as_str() {
                    "Bearer reader" => Ok(claims.with_namespace("default", Role::READER)),
                    "Bearer elsewhere" => Ok(claims.with_namespace("other", Role::READER)),
                    "Bearer system" => Ok(claims.with_system(Role::READER)),
                    "Bearer slow" => {
                        if let Some(gate) = gate {
                            let _permit = gate.acquire().await;
                        }
                        Ok(claims.with_namespace("default", Role::READER))
                    }
                    _ => Err(ClaimsError::new(ClaimsErrorKind::Signature, "bad token")),
                }
            }
        })
        .authorizer(DefaultAuthorizer::new().with_access(access))
        .build()
}

async fn listener() -> (TcpIncoming, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    (TcpIncoming::from(listener), addr)
}

async fn channel(addr: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect")
}

async fn describe(channel: &Channel, token: Option<&str>) -> Code {
    let mut request = tonic::Request::new(DescribeNamespaceRequest {
        namespace: "default".to_owned(),
        ..Default::default()
    });
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().expect("metadata");
        request.metadata_mut().insert("authorization", value);
    }
    match workflow_client(channel.clone(), false)
        .describe_namespace(request)
        .await
    {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

// ---------------------------------------------------------------------------------------------
// grpc-web
// ---------------------------------------------------------------------------------------------

/// One grpc-web call over HTTP/1.1; the gRPC status from the headers or the trailer frame.
async fn grpc_web_call(addr: SocketAddr, text: bool, token: Option<&str>) -> Code {
    let message = DescribeNamespaceRequest {
        namespace: "default".to_owned(),
        ..Default::default()
    }
    .encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend_from_slice(&u32::try_from(message.len()).expect("small").to_be_bytes());
    frame.extend_from_slice(&message);
    let (content_type, body) = if text {
        let encoded = base64::engine::general_purpose::STANDARD.encode(&frame);
        ("application/grpc-web-text", encoded.into_bytes())
    } else {
        ("application/grpc-web+proto", frame)
    };
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut send, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(conn);
    let mut request = http::Request::post(format!("http://{addr}{DESCRIBE_NAMESPACE}"))
        .header("content-type", content_type)
        .header("accept", content_type)
        .header("x-grpc-web", "1")
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().expect("header");
        request.headers_mut().insert("authorization", value);
    }
    let response = send.send_request(request).await.expect("response");
    assert_eq!(response.status(), http::StatusCode::OK);
    if let Some(code) = response.headers().get("grpc-status") {
        return Code::from_bytes(code.as_bytes());
    }
    let text_response = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc-web-text"));
    assert_eq!(text_response, text, "{:?}", response.headers());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let mut bytes = if text {
        // Each chunk is encoded on its own: padded base64 pieces, one after the other.
        let mut decoded = Vec::new();
        let mut rest = &body[..];
        while !rest.is_empty() {
            let mut end = rest.iter().position(|b| *b == b'=').unwrap_or(rest.len());
            while rest.get(end) == Some(&b'=') {
                end += 1;
            }
            decoded.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(&rest[..end])
                    .expect("base64 response"),
            );
            rest = &rest[end..];
        }
        decoded
    } else {
        body.to_vec()
    };
    // Frames: flag, length, payload; the trailers frame has flag 0x80.
    while bytes.len() >= 5 {
        let len = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]) as usize;
        let payload = bytes[5..5 + len].to_vec();
        if bytes[0] & 0x80 != 0 {
            let trailers = String::from_utf8(payload).expect("trailers");
            let status = trailers
                .lines()
                .find_map(|l| l.strip_prefix("grpc-status:"))
                .expect("grpc-status");
            return Code::from_bytes(status.trim().as_bytes());
        }
        bytes.drain(..5 + len);
    }
    panic!("no grpc-status");
}

#[tokio::test]
async fn behind_tonic_web_the_layer_reads_grpc_frames() {
    let backend = Backend::new(BackendConfig::default());
    let (incoming, addr) = listener().await;
    let server = Server::builder()
        // grpc-web clients speak HTTP/1.1.
        .accept_http1(true)
        // Outermost: grpc-web is translated to gRPC before the layer sees the call.
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(layer(None))
        .add_service(services(&backend).await.workflow)
        .serve_with_incoming(incoming);
    tokio::spawn(server);
    for text in [false, true] {
        assert_eq!(grpc_web_call(addr, text, Some("reader")).await, Code::Ok);
        // The namespace is read from the decoded message: a reader of another namespace is
        // refused, as is a caller without a token.
        assert_eq!(
            grpc_web_call(addr, text, Some("elsewhere")).await,
            Code::PermissionDenied
        );
        assert_eq!(
            grpc_web_call(addr, text, None).await,
            Code::PermissionDenied
        );
    }
    // Native gRPC on the same port keeps working.
    let channel = channel(addr).await;
    assert_eq!(describe(&channel, Some("reader")).await, Code::Ok);
}

// ---------------------------------------------------------------------------------------------
// axum
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn on_the_grpc_service_of_an_axum_router_rest_routes_are_untouched() {
    use tower::Layer as _;

    let backend = Backend::new(BackendConfig::default());
    // The layer wraps the gRPC service only (it keeps the service's name for routing).
    let grpc = tonic::service::Routes::new(layer(None).layer(services(&backend).await.workflow))
        .into_axum_router();
    let app = axum::Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .route(
            "/api/echo",
            axum::routing::post(|body: String| async move { body }),
        )
        .merge(grpc);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    // REST: no credentials needed, an `authorization` header is the route's business.
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut send, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(conn);
    let get = http::Request::get(format!("http://{addr}/healthz"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = send.send_request(get).await.expect("response");
    assert_eq!(response.status(), http::StatusCode::OK);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(&body[..], b"ok");
    let post = http::Request::post(format!("http://{addr}/api/echo"))
        .header("authorization", "Basic not-a-token")
        .body(Full::new(Bytes::from_static(b"hello")))
        .expect("request");
    let response = send.send_request(post).await.expect("response");
    assert_eq!(response.status(), http::StatusCode::OK);
    assert!(response.headers().get("grpc-status").is_none());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(&body[..], b"hello");

    // gRPC on the same router: authorized.
    let channel = channel(addr).await;
    assert_eq!(describe(&channel, Some("reader")).await, Code::Ok);
    assert_eq!(describe(&channel, None).await, Code::PermissionDenied);
}

// ---------------------------------------------------------------------------------------------
// gRPC reflection
// ---------------------------------------------------------------------------------------------

async fn list_services(channel: &Channel, token: &str) -> Result<Vec<String>, Code> {
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut request = tonic::Request::new(tokio_stream::iter([request]));
    let value = format!("Bearer {token}").parse().expect("metadata");
    request.metadata_mut().insert("authorization", value);
    let mut stream = ServerReflectionClient::new(channel.clone())
        .server_reflection_info(request)
        .await
        .map_err(|s| s.code())?
        .into_inner();
    let response = stream
        .message()
        .await
        .map_err(|s| s.code())?
        .expect("a response");
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            Ok(list.service.into_iter().map(|s| s.name).collect())
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn the_reflection_service_is_allowed_by_an_explicit_entry() {
    let backend = Backend::new(BackendConfig::default());
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(tonic_authz_examples::TEMPORAL_DESCRIPTOR_SET)
        .build_v1()
        .expect("reflection service");
    let (incoming, addr) = listener().await;
    let server = Server::builder()
        .layer(layer(None))
        .add_service(services(&backend).await.workflow)
        .add_service(reflection)
        .serve_with_incoming(incoming);
    tokio::spawn(server);
    let channel = channel(addr).await;
    let names = list_services(&channel, "system").await.expect("allowed");
    assert!(
        names
            .iter()
            .any(|n| n == "temporal.api.workflowservice.v1.WorkflowService"),
        "{names:?}"
    );
    // The entry is cluster-wide: a namespace reader, or no valid token, is refused.
    assert_eq!(
        list_services(&channel, "reader").await,
        Err(Code::PermissionDenied)
    );
    assert_eq!(
        list_services(&channel, "forged").await,
        Err(Code::PermissionDenied)
    );
}

// ---------------------------------------------------------------------------------------------
// tower timeout and concurrency limit
// ---------------------------------------------------------------------------------------------

type HttpResult = Result<http::Response<tonic::body::Body>, tower::BoxError>;

/// tower's timeout error as `DEADLINE_EXCEEDED`; other results unchanged.
fn timeout_status(result: HttpResult) -> HttpResult {
    match result {
        Err(e) if e.is::<tower::timeout::error::Elapsed>() => {
            Ok(tonic::Status::deadline_exceeded("request timed out").into_http())
        }
        other => other,
    }
}

#[tokio::test]
async fn inside_tower_timeout_and_concurrency_limit() {
    let backend = Backend::new(BackendConfig::default());
    // Closed: a `slow` caller's claim mapping waits until the test adds a permit.
    let gate = Arc::new(Semaphore::new(0));
    let stack = tower::ServiceBuilder::new()
        // tower's `Elapsed` is an error, which the server would answer by resetting the
        // stream: answer it as a gRPC status instead.
        .map_result(timeout_status)
        // The whole call, authorization included, has 500 ms...
        .timeout(Duration::from_millis(500))
        // ...and one call at a time is in progress, authorization included.
        .concurrency_limit(1)
        .layer(layer(Some(Arc::clone(&gate))))
        .into_inner();
    let (incoming, addr) = listener().await;
    let server = Server::builder()
        .layer(stack)
        .add_service(services(&backend).await.workflow)
        .serve_with_incoming(incoming);
    tokio::spawn(server);
    let channel = channel(addr).await;

    // Allowed and denied calls pass through the stack unchanged.
    assert_eq!(describe(&channel, Some("reader")).await, Code::Ok);
    assert_eq!(describe(&channel, None).await, Code::PermissionDenied);

    // A claim mapper that hangs is cut off by the timeout outside the layer.
    let mut client = workflow_client(channel.clone(), false);
    let mut request = tonic::Request::new(DescribeNamespaceRequest {
        namespace: "default".to_owned(),
        ..Default::default()
    });
    request
        .metadata_mut()
        .insert("authorization", "Bearer slow".parse().expect("metadata"));
    let status = client
        .describe_namespace(request)
        .await
        .expect_err("timed out");
    assert_eq!(
        (status.code(), status.message()),
        (Code::DeadlineExceeded, "request timed out")
    );

    // The limit holds while a call is being authorized: with the slow call in progress, a
    // second call waits for it.
    let slow = {
        let channel = channel.clone();
        tokio::spawn(async move { describe(&channel, Some("slow")).await })
    };
    // Let the slow call take the only slot.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let waiting = {
        let channel = channel.clone();
        tokio::spawn(async move { describe(&channel, Some("reader")).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !waiting.is_finished(),
        "the second call should wait for the slot"
    );
    gate.add_permits(1);
    assert_eq!(slow.await.expect("slow call"), Code::Ok);
    assert_eq!(waiting.await.expect("second call"), Code::Ok);
}
