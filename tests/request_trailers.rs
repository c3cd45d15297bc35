//! Request trailers cannot carry what the layer owns: the principal headers and the
//! credentials headers are taken out of a request's trailers as they are out of its headers
//! (tonic hands a handler the trailers merged into its metadata), whether or not the layer
//! read the body to decide.

mod common;

use std::convert::Infallible;

use http::{HeaderMap, HeaderValue, Request, Response};
use prost::Message;
use tonic_authz::{AuthzLayer, DefaultAuthorizer, NoopAuthorizer, NoopClaimMapper};
use tower::{Layer, ServiceExt, service_fn};

use common::grpc::{chunked_body, collect, frame};

const START_WORKFLOW: &str =
    "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";

#[derive(Clone, PartialEq, prost::Message)]
struct NamespaceRequest {
    #[prost(string, tag = "1")]
    namespace: String,
}

/// Sends a call whose trailers hold every header the layer owns and one of the client's own;
/// the names of the trailers the handler saw.
async fn trailers_seen(layer: AuthzLayer) -> Vec<String> {
    let mut trailers = HeaderMap::new();
    for name in [
        "authorization",
        "authorization-extras",
        "temporal-principal-type",
        "temporal-principal-name",
        "x-client-note",
    ] {
        trailers.insert(name, HeaderValue::from_static("from-trailers"));
    }
    let body = frame(
        &NamespaceRequest {
            namespace: "default".to_owned(),
        }
        .encode_to_vec(),
    );
    let req = Request::builder()
        .uri(format!("http://localhost{START_WORKFLOW}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(chunked_body(&body, 3, Some(trailers)))
        .expect("request");
    // Echoes the trailers it read back as one response header.
    let inner = service_fn(|req: Request<tonic::body::Body>| async move {
        let (_, trailers) = collect(req.into_body()).await;
        let mut names: Vec<String> = trailers
            .unwrap_or_default()
            .keys()
            .map(|k| k.as_str().to_owned())
            .collect();
        names.sort();
        let mut resp = Response::new(tonic::body::Body::empty());
        resp.headers_mut().insert(
            "x-seen-trailers",
            HeaderValue::from_str(&names.join(",")).expect("header value"),
        );
        Ok::<_, Infallible>(resp)
    });
    let resp = layer
        .layer(inner)
        .oneshot(req.map(tonic::body::Body::new))
        .await
        .expect("infallible");
    resp.headers()
        .get("x-seen-trailers")
        .expect("the handler ran")
        .to_str()
        .expect("text")
        .split(',')
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn owned_headers_are_stripped_from_request_trailers() {
    // The default authorizer reads the first message (the body is replayed to the handler);
    // the no-op authorizer does not read it at all.
    let read = AuthzLayer::builder()
        .claim_mapper(NoopClaimMapper)
        .authorizer(DefaultAuthorizer::new())
        .build();
    let unread = AuthzLayer::builder()
        .claim_mapper(NoopClaimMapper)
        .authorizer(NoopAuthorizer)
        .build();
    for layer in [read, unread] {
        assert_eq!(trailers_seen(layer).await, ["x-client-note"]);
    }
    // A renamed token header is the one stripped; `authorization` is then the client's.
    let renamed = AuthzLayer::builder()
        .claim_mapper(NoopClaimMapper)
        .authorizer(NoopAuthorizer)
        .auth_header_name(http::HeaderName::from_static("x-client-note"))
        .build();
    assert_eq!(trailers_seen(renamed).await, ["authorization"]);
}
