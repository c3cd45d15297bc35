//! The layer reads the first request message in every encoding tonic itself accepts (gzip,
//! deflate, zstd): a real tonic server and client on loopback, the client compressing its
//! request, the layer deciding on the namespace it decompressed, the service answering the
//! compressed request it received. Each allowed call has its denied twin.

#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

use std::sync::{Arc, Mutex};

use tonic::codec::CompressionEncoding;
use tonic::transport::{Channel, Endpoint, Server};
use tonic_authz::prost_reflect::DescriptorPool;
use tonic_authz::{AuthzLayer, CallTarget, Claims, Decision};
use tonic_health::ServingStatus;
use tonic_health::pb::{FILE_DESCRIPTOR_SET, HealthCheckRequest, health_client::HealthClient};
use tower::util::MapRequestLayer;

/// The namespace the authorizer allows; the health check's `service` field plays the part.
const ALLOWED: &str = "payments";

/// What the server saw: the namespaces the authorizer was asked about, and each request's
/// `grpc-encoding`.
#[derive(Default)]
struct Seen {
    namespaces: Vec<String>,
    encodings: Vec<String>,
}

/// Serves the health service behind the layer, accepting `encoding`; returns the client
/// (sending `encoding`) and what the server saw.
async fn serve(encoding: CompressionEncoding) -> (HealthClient<Channel>, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let log = Arc::clone(&seen);
    let authorizer = move |_: Option<&Claims>, target: &CallTarget| {
        let namespace = target.namespace().to_owned();
        let allowed = namespace == ALLOWED;
        log.lock().unwrap().namespaces.push(namespace);
        async move {
            Ok(if allowed {
                Decision::Allow
            } else {
                Decision::deny()
            })
        }
    };
    let layer = AuthzLayer::builder()
        .authorizer(authorizer)
        .descriptor_pool(DescriptorPool::decode(FILE_DESCRIPTOR_SET).unwrap())
        .namespace_field_name("service")
        .build();
    let log = Arc::clone(&seen);
    let record_encoding = MapRequestLayer::new(move |req: http::Request<tonic::body::Body>| {
        let value = req.headers().get("grpc-encoding");
        let value = value.map_or("", |v| v.to_str().unwrap()).to_owned();
        log.lock().unwrap().encodings.push(value);
        req
    });

    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(ALLOWED, ServingStatus::Serving)
        .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        Server::builder()
            .layer(record_encoding)
            .layer(layer)
            .add_service(health.accept_compressed(encoding))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let channel = Endpoint::from_shared(url).unwrap().connect().await.unwrap();
    (HealthClient::new(channel).send_compressed(encoding), seen)
}

async fn check(encoding: CompressionEncoding) {
    let (mut client, seen) = serve(encoding).await;
    let request = |service: &str| HealthCheckRequest {
        service: service.to_owned(),
    };

    let reply = client.check(request(ALLOWED)).await.unwrap().into_inner();
    assert_eq!(reply.status(), ServingStatus::Serving.into());

    let denied = client.check(request("billing")).await.unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied, "{encoding:?}");
    assert_eq!(denied.message(), "Request unauthorized.");

    let seen = seen.lock().unwrap();
    assert_eq!(seen.namespaces, [ALLOWED, "billing"], "{encoding:?}");
    let name = encoding.to_string();
    assert_eq!(seen.encodings, [name.as_str(), name.as_str()]);
}

#[tokio::test]
async fn gzip_requests_are_read_and_served() {
    check(CompressionEncoding::Gzip).await;
}

#[tokio::test]
async fn deflate_requests_are_read_and_served() {
    check(CompressionEncoding::Deflate).await;
}

#[tokio::test]
async fn zstd_requests_are_read_and_served() {
    check(CompressionEncoding::Zstd).await;
}
