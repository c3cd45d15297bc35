//! Calls whose steps cannot all answer at once. Most calls are decided inside
//! `Service::call` (a claim mapper and an authorizer that answer without waiting, a message
//! that came with the headers), and the inner service is called there and then. The rest wait:
//! a message that arrives in pieces over time, a body that never completes, a claim mapper or
//! authorizer that must be awaited. These get the same decisions and forward the same bytes.

mod common;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::Frame;
use http_body_util::StreamBody;
use prost::Message;
use tonic::Code;
use tonic_authz::{
    AuthInfo, Authz, AuthzLayer, AuthzLayerBuilder, CallTarget, Claims, ClaimsError, Decision,
    DefaultAuthorizer, NoopClaimMapper, Role,
};
use tower::{Layer, Service, ServiceExt, service_fn};

use common::grpc::{assert_temporal_denial, collect, frame, header_status};

const START_WORKFLOW: &str =
    "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";

/// The leading fields of Temporal's `StartWorkflowExecutionRequest` (`namespace = 1`,
/// `workflow_id = 2`).
#[derive(Clone, PartialEq, prost::Message)]
struct StartWorkflow {
    #[prost(string, tag = "1")]
    namespace: String,
    #[prost(string, tag = "2")]
    workflow_id: String,
}

fn start_workflow(namespace: &str) -> Vec<u8> {
    StartWorkflow {
        namespace: namespace.to_owned(),
        workflow_id: "wf-1".to_owned(),
    }
    .encode_to_vec()
}

type Piece = Result<Frame<Bytes>, Infallible>;

/// A body that sends `bytes` in pieces cut at `cuts`, waiting `gap` before each piece, then
/// `trailers`; or, with `complete` false, stops sending after the first piece and never ends.
fn trickle(
    bytes: &[u8],
    cuts: &[usize],
    gap: Duration,
    trailers: Option<HeaderMap>,
    complete: bool,
) -> StreamBody<impl futures_util::Stream<Item = Piece> + Send + use<>> {
    let mut pieces = Vec::new();
    let mut from = 0;
    for &cut in cuts.iter().chain([&bytes.len()]) {
        pieces.push(Frame::data(Bytes::copy_from_slice(&bytes[from..cut])));
        from = cut;
    }
    if !complete {
        pieces.truncate(1);
    }
    pieces.extend(trailers.map(Frame::trailers));
    let body = stream::unfold(
        (pieces.into_iter(), complete),
        move |(mut pieces, complete)| async move {
            tokio::time::sleep(gap).await;
            match pieces.next() {
                Some(piece) => Some((Ok(piece), (pieces, complete))),
                None if complete => None,
                // The rest never comes.
                None => std::future::pending().await,
            }
        },
    );
    StreamBody::new(body)
}

fn request<B>(body: B) -> Request<B> {
    Request::builder()
        .uri(format!("http://localhost{START_WORKFLOW}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(body)
        .expect("request")
}

fn trailers() -> HeaderMap {
    let mut t = HeaderMap::new();
    t.insert("x-request-trailer", HeaderValue::from_static("end"));
    t
}

/// What the inner service saw of its one call.
#[derive(Debug, Default)]
struct Seen {
    calls: AtomicUsize,
    body: Mutex<Option<(Bytes, Option<HeaderMap>)>>,
}

/// Sends `req` through `layer` to an inner service that reads the whole body; the response.
async fn send<B>(
    layer: AuthzLayerBuilder,
    req: Request<B>,
    seen: &Arc<Seen>,
) -> Response<tonic::body::Body>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<tonic_authz::BoxError>,
{
    let seen = Arc::clone(seen);
    let inner = service_fn(move |req: Request<tonic::body::Body>| {
        let seen = Arc::clone(&seen);
        async move {
            seen.calls.fetch_add(1, Ordering::SeqCst);
            let read = collect(req.into_body()).await;
            *seen.body.lock().expect("lock") = Some(read);
            Ok::<_, Infallible>(Response::new(tonic::body::Body::empty()))
        }
    });
    let svc = layer.build().layer(inner);
    tokio::time::timeout(Duration::from_secs(5), svc.oneshot(req))
        .await
        .expect("the call completes")
        .expect("infallible")
}

/// The authorizer's calls: namespace and request message of each.
type Decisions = Arc<Mutex<Vec<(String, Option<Bytes>)>>>;

/// An authorizer that must be awaited (it has no answer at once): it records the namespace
/// and the message it was given, and allows every namespace but `denied`.
fn awaited_authorizer(denied: &'static str) -> (impl tonic_authz::Authorizer, Decisions) {
    let calls: Decisions = Arc::default();
    let recorded = Arc::clone(&calls);
    let authz = move |_claims: Option<&Claims>, target: &CallTarget| {
        recorded.lock().expect("lock").push((
            target.namespace().to_owned(),
            target.request().map(|r| r.bytes().clone()),
        ));
        let namespace = target.namespace().to_owned();
        async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok(if namespace == denied {
                Decision::deny()
            } else {
                Decision::Allow
            })
        }
    };
    (authz, calls)
}

/// A claim mapper that must be awaited: a writer in `acme` for the token `Bearer acme-writer`,
/// a reader there for any other token.
fn awaited_mapper() -> impl tonic_authz::ClaimMapper {
    |info: &AuthInfo| {
        let role = if info.auth_token == "Bearer acme-writer" {
            Role::WRITER
        } else {
            Role::READER
        };
        async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok::<_, ClaimsError>(
                Claims::new()
                    .with_subject("someone")
                    .with_namespace("acme", role),
            )
        }
    }
}

/// The message, cut inside the frame header, inside the namespace and at the end, with
/// trailers after it.
fn cuts(body: &[u8]) -> Vec<usize> {
    vec![1, 3, 7, body.len() - 2]
}

#[tokio::test]
async fn a_message_arriving_in_pieces_is_read_across_waits_and_forwarded_byte_for_byte() {
    let body = frame(&start_workflow("acme"));
    let seen = Arc::new(Seen::default());
    let layer = AuthzLayer::builder()
        .claim_mapper(NoopClaimMapper)
        .authorizer(DefaultAuthorizer::new());
    let req = request(trickle(
        &body,
        &cuts(&body),
        Duration::from_millis(10),
        Some(trailers()),
        true,
    ));
    let resp = send(layer, req, &seen).await;
    assert!(header_status(&resp).is_none(), "{:?}", header_status(&resp));
    assert_eq!(seen.calls.load(Ordering::SeqCst), 1);
    let (forwarded, forwarded_trailers) = seen.body.lock().expect("lock").clone().expect("read");
    assert_eq!(forwarded, body, "every piece, in order, once");
    assert_eq!(forwarded_trailers, Some(trailers()));
}

#[tokio::test]
async fn an_awaited_authorizer_decides_on_the_namespace_of_a_message_that_came_in_pieces() {
    for (namespace, allowed) in [("acme", true), ("blocked", false)] {
        let body = frame(&start_workflow(namespace));
        let seen = Arc::new(Seen::default());
        let (authz, calls) = awaited_authorizer("blocked");
        let layer = AuthzLayer::builder()
            .claim_mapper(NoopClaimMapper)
            .authorizer(authz);
        let req = request(trickle(
            &body,
            &cuts(&body),
            Duration::from_millis(10),
            None,
            true,
        ));
        let resp = send(layer, req, &seen).await;
        let calls = calls.lock().expect("lock").clone();
        assert_eq!(calls.len(), 1, "{namespace}: one authorizer call");
        assert_eq!(calls[0].0, namespace);
        assert_eq!(
            calls[0].1.as_deref(),
            Some(start_workflow(namespace).as_slice())
        );
        if allowed {
            assert!(header_status(&resp).is_none(), "{namespace}");
            let forwarded = seen.body.lock().expect("lock").clone().expect("read").0;
            assert_eq!(forwarded, body);
        } else {
            assert_temporal_denial(&header_status(&resp).expect("refused"), "");
            assert_eq!(
                seen.calls.load(Ordering::SeqCst),
                0,
                "a denied call is never forwarded"
            );
        }
    }
}

#[tokio::test]
async fn an_awaited_claim_mapper_then_a_message_in_pieces_gets_the_default_decision() {
    // StartWorkflowExecution needs a writer in the namespace: the writer's token is allowed,
    // the reader's denied, both after waiting for the mapper and for the message.
    for (token, allowed) in [("Bearer acme-writer", true), ("Bearer acme-reader", false)] {
        let body = frame(&start_workflow("acme"));
        let seen = Arc::new(Seen::default());
        let layer = AuthzLayer::builder()
            .claim_mapper(awaited_mapper())
            .authorizer(DefaultAuthorizer::new());
        let mut req = request(trickle(
            &body,
            &cuts(&body),
            Duration::from_millis(10),
            None,
            true,
        ));
        req.headers_mut()
            .insert("authorization", HeaderValue::from_static(token));
        let resp = send(layer, req, &seen).await;
        if allowed {
            assert!(
                header_status(&resp).is_none(),
                "{token}: {:?}",
                header_status(&resp)
            );
            assert_eq!(
                seen.body.lock().expect("lock").clone().expect("read").0,
                body
            );
        } else {
            assert_temporal_denial(&header_status(&resp).expect("refused"), "");
            assert_eq!(seen.calls.load(Ordering::SeqCst), 0, "{token}: forwarded");
        }
    }
}

#[tokio::test]
async fn a_message_that_stops_arriving_is_refused_at_the_body_deadline() {
    for complete in [true, false] {
        let body = frame(&start_workflow("acme"));
        let seen = Arc::new(Seen::default());
        let layer = AuthzLayer::builder()
            .claim_mapper(NoopClaimMapper)
            .authorizer(DefaultAuthorizer::new())
            .body_timeout(Duration::from_millis(300));
        let req = request(trickle(
            &body,
            &[3],
            Duration::from_millis(10),
            None,
            complete,
        ));
        let resp = send(layer, req, &seen).await;
        if complete {
            assert!(header_status(&resp).is_none(), "{:?}", header_status(&resp));
            assert_eq!(seen.calls.load(Ordering::SeqCst), 1);
        } else {
            let status = header_status(&resp).expect("refused");
            assert_eq!(status.code(), Code::DeadlineExceeded);
            assert_eq!(
                status.message(),
                "timed out waiting for the request message"
            );
            assert_eq!(seen.calls.load(Ordering::SeqCst), 0, "never forwarded");
        }
    }
}

/// An inner service that counts its calls when called, not when its future is polled.
#[derive(Clone, Default)]
struct CountsCalls(Arc<AtomicUsize>);

impl Service<Request<tonic::body::Body>> for CountsCalls {
    type Response = Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<tonic::body::Body>, Infallible>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: Request<tonic::body::Body>) -> Self::Future {
        self.0.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(Response::new(tonic::body::Body::empty())))
    }
}

/// The layer around `inner`, made ready for one call.
async fn readied(layer: AuthzLayerBuilder, inner: &CountsCalls) -> Authz<CountsCalls> {
    let mut svc = layer.build().layer(inner.clone());
    std::future::poll_fn(|cx| Service::<Request<tonic::body::Body>>::poll_ready(&mut svc, cx))
        .await
        .expect("ready");
    svc
}

#[tokio::test]
async fn a_call_decided_at_once_reaches_the_inner_service_inside_call() {
    let body = frame(&start_workflow("acme"));
    let full = || {
        request(tonic::body::Body::new(http_body_util::Full::new(
            Bytes::from(body.clone()),
        )))
    };

    // Everything answers at once: the inner service is called before the future is polled.
    let inner = CountsCalls::default();
    let mut svc = readied(
        AuthzLayer::builder()
            .claim_mapper(NoopClaimMapper)
            .authorizer(DefaultAuthorizer::new()),
        &inner,
    )
    .await;
    let future = svc.call(full());
    assert_eq!(inner.0.load(Ordering::SeqCst), 1, "called inside call()");
    let resp = future.await.expect("infallible");
    assert!(header_status(&resp).is_none());

    // A claim mapper that must be awaited: nothing reaches the inner service until the
    // future runs, and then the call is decided the same way.
    let inner = CountsCalls::default();
    let mut svc = readied(
        AuthzLayer::builder()
            .claim_mapper(awaited_mapper())
            .authorizer(DefaultAuthorizer::new()),
        &inner,
    )
    .await;
    let mut req = full();
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_static("Bearer acme-writer"),
    );
    let future = svc.call(req);
    assert_eq!(
        inner.0.load(Ordering::SeqCst),
        0,
        "not before the mapper answered"
    );
    let resp = future.await.expect("infallible");
    assert!(header_status(&resp).is_none(), "{:?}", header_status(&resp));
    assert_eq!(inner.0.load(Ordering::SeqCst), 1);

    // A denial decided at once never calls the inner service.
    let inner = CountsCalls::default();
    let mut svc = readied(
        AuthzLayer::builder().authorizer(DefaultAuthorizer::new()),
        &inner,
    )
    .await;
    let resp = svc.call(full()).await.expect("infallible");
    assert_temporal_denial(&header_status(&resp).expect("refused"), "");
    assert_eq!(inner.0.load(Ordering::SeqCst), 0);
}
