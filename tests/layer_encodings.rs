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

/// The request body as the service behind the layer received it, frame bytes concatenated.
type Received = Arc<Mutex<Vec<u8>>>;

/// A service in front of the health service that keeps a copy of each request body it gets.
#[derive(Clone)]
struct RecordBody<S> {
    inner: S,
    received: Received,
}

impl<S> tower::Service<http::Request<tonic::body::Body>> for RecordBody<S>
where
    S: tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
        > + Clone
        + Send
        + 'static,
    S::Future: Send,
    S::Error: Send,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        use http_body_util::BodyExt;
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let received = Arc::clone(&self.received);
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let bytes = body.collect().await.unwrap().to_bytes();
            received.lock().unwrap().extend_from_slice(&bytes);
            let body = tonic::body::Body::new(http_body_util::Full::new(bytes));
            inner.call(http::Request::from_parts(parts, body)).await
        })
    }
}

impl<S: tonic::server::NamedService> tonic::server::NamedService for RecordBody<S> {
    const NAME: &'static str = S::NAME;
}

/// Serves the health service, accepting gzip, behind the layer (`keep_compressed` as given)
/// and a recorder of what reaches the service; one allowed gzip call, then what the service
/// received.
async fn gzip_call_as_received(keep_compressed: bool) -> Vec<u8> {
    let layer = AuthzLayer::builder()
        .authorizer(|_: Option<&Claims>, _: &CallTarget| async { Ok(Decision::Allow) })
        .descriptor_pool(DescriptorPool::decode(FILE_DESCRIPTOR_SET).unwrap())
        .namespace_field_name("service")
        .build()
        .keep_compressed(keep_compressed);
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(ALLOWED, ServingStatus::Serving)
        .await;
    let received = Received::default();
    let service = RecordBody {
        inner: health.accept_compressed(CompressionEncoding::Gzip),
        received: Arc::clone(&received),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        Server::builder()
            .layer(layer)
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let channel = Endpoint::from_shared(url).unwrap().connect().await.unwrap();
    let mut client = HealthClient::new(channel).send_compressed(CompressionEncoding::Gzip);
    let request = HealthCheckRequest {
        service: ALLOWED.repeat(40),
    };
    // The service answers NotFound for the unknown (long) name: it decoded the message.
    let status = client.check(request).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
    received.lock().unwrap().clone()
}

#[tokio::test]
async fn a_gzip_message_reaches_the_service_inflated_once() {
    use prost::Message;
    let expected = HealthCheckRequest {
        service: ALLOWED.repeat(40),
    }
    .encode_to_vec();

    // By default the service gets the message the layer inflated, marked uncompressed.
    let received = gzip_call_as_received(false).await;
    assert_eq!(received[0], 0, "the message is still marked compressed");
    assert_eq!(
        received[1..5],
        u32::try_from(expected.len()).unwrap().to_be_bytes()
    );
    assert_eq!(received[5..], expected[..]);

    // Kept compressed (a proxy's choice), the service gets the client's bytes: gzip.
    let received = gzip_call_as_received(true).await;
    assert_eq!(received[0], 1, "the message is not marked compressed");
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&received[5..]),
        &mut inflated,
    )
    .unwrap();
    assert_eq!(inflated, expected);
    assert!(received.len() < 5 + expected.len(), "not compressed");
}
