//! The layer driven through `tower::ServiceExt::oneshot` over a counting inner service:
//! Temporal's interceptor cases (reference spec G.3), exact denial and error responses, bodies
//! forwarded byte for byte, and the demo service's namespaces through a descriptor pool.

mod common;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use prost::Message;
use tonic_authz::{
    Access, ApiAccess, AuthInfo, AuthzLayer, AuthzLayerBuilder, CallTarget, Claims, ClaimsError,
    ClaimsErrorKind, Decision, DefaultAuthorizer, NoopAuthorizer, NoopClaimMapper, Role, Scope,
};
use tower::{Layer, ServiceExt, service_fn};

use common::demo::{self, CreateOrderRequest, Order, OrderEvent, UploadOrdersRequest};
use common::grpc::{
    ChunkedBody, assert_temporal_denial, chunked_body, chunked_body_by, collect, frame,
    frame_with_flag, frames, gzip, header_status,
};

const DESCRIBE_NAMESPACE: &str =
    "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace";
const START_WORKFLOW: &str =
    "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";
const REPLICATION_STREAM: &str =
    "/temporal.server.api.adminservice.v1.AdminService/StreamWorkflowReplicationMessages";
const TN: &str = "test-namespace";

/// The leading fields of Temporal's `DescribeNamespaceRequest` / `StartWorkflowExecutionRequest`
/// (`namespace = 1`, then a string at 2: `id` / `workflow_id`).
#[derive(Clone, PartialEq, prost::Message)]
struct NamespaceRequest {
    #[prost(string, tag = "1")]
    namespace: String,
    #[prost(string, tag = "2")]
    second: String,
}

fn temporal_request(namespace: &str) -> Vec<u8> {
    NamespaceRequest {
        namespace: namespace.to_owned(),
        second: "workflow-1".to_owned(),
    }
    .encode_to_vec()
}

// ---------------------------------------------------------------------------------------------
// Recorders: what the inner service, the authorizer and the claim mapper saw.
// ---------------------------------------------------------------------------------------------

/// One call as the inner service saw it.
#[derive(Clone, Debug)]
struct Seen {
    headers: HeaderMap,
    claims: Option<Claims>,
    body: Bytes,
    trailers: Option<HeaderMap>,
}

/// The inner service: counts calls, records them, answers with `response()`.
#[derive(Clone)]
struct Inner {
    calls: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Whether to read the request body (streams that never end must not be read).
    read_body: bool,
    response: Arc<dyn Fn() -> Response<tonic::body::Body> + Send + Sync>,
}

impl Inner {
    fn new() -> Inner {
        Inner {
            calls: Arc::default(),
            seen: Arc::default(),
            read_body: true,
            response: Arc::new(|| Response::new(tonic::body::Body::empty())),
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn last(&self) -> Seen {
        self.seen
            .lock()
            .expect("lock")
            .last()
            .cloned()
            .expect("a call was seen")
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
        let this = self;
        service_fn(move |req: Request<tonic::body::Body>| {
            let this = this.clone();
            async move {
                this.calls.fetch_add(1, Ordering::SeqCst);
                let (parts, body) = req.into_parts();
                let (body, trailers) = if this.read_body {
                    collect(body).await
                } else {
                    (Bytes::new(), None)
                };
                this.seen.lock().expect("lock").push(Seen {
                    headers: parts.headers,
                    claims: parts.extensions.get::<Claims>().cloned(),
                    body,
                    trailers,
                });
                Ok::<_, Infallible>((this.response)())
            }
        })
    }
}

/// One authorizer call.
#[derive(Clone, Debug)]
struct AuthzCall {
    claims: Option<Claims>,
    api: String,
    namespace: String,
    request: Option<Bytes>,
    request_stream: bool,
}

type Answer = Arc<dyn Fn() -> Result<Decision, tonic::Status> + Send + Sync>;

/// An authorizer that records its calls and answers with `answer()`.
fn recording_authorizer(
    answer: impl Fn() -> Result<Decision, tonic::Status> + Send + Sync + 'static,
) -> (impl tonic_authz::Authorizer, Arc<Mutex<Vec<AuthzCall>>>) {
    let calls: Arc<Mutex<Vec<AuthzCall>>> = Arc::default();
    let answer: Answer = Arc::new(answer);
    let recorded = Arc::clone(&calls);
    let authz = move |claims: Option<&Claims>, target: &CallTarget| {
        recorded.lock().expect("lock").push(AuthzCall {
            claims: claims.cloned(),
            api: target.api_name().to_owned(),
            namespace: target.namespace().to_owned(),
            request: target.request().map(|r| r.bytes().clone()),
            request_stream: target.is_request_stream(),
        });
        let result = answer();
        async move { result }
    };
    (authz, calls)
}

/// One claim-mapper call.
#[derive(Clone, Debug)]
struct MapperCall {
    token: String,
    extra: String,
    audience: String,
    tls: bool,
}

/// A claim mapper (auth info required, as Temporal's mock) that records its calls; it returns
/// system admin, or a malformed-token error for the token `bad-token`.
fn recording_mapper() -> (impl tonic_authz::ClaimMapper, Arc<Mutex<Vec<MapperCall>>>) {
    let calls: Arc<Mutex<Vec<MapperCall>>> = Arc::default();
    let recorded = Arc::clone(&calls);
    let mapper = move |info: &AuthInfo| {
        recorded.lock().expect("lock").push(MapperCall {
            token: info.auth_token.clone(),
            extra: info.extra_data.clone(),
            audience: info.audience.clone(),
            tls: info.tls_subject.is_some() || info.tls_connection.is_some(),
        });
        let result = if info.auth_token.ends_with("bad-token") {
            Err(ClaimsError::new(
                ClaimsErrorKind::MalformedToken,
                "bad token",
            ))
        } else {
            Ok(Claims::system_admin().with_subject("mapped"))
        };
        async move { result }
    };
    (mapper, calls)
}

fn request<B>(path: &str, body: B) -> Request<B> {
    Request::builder()
        .uri(format!("http://localhost{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(body)
        .expect("request")
}

fn unary(path: &str, message: &[u8]) -> Request<ChunkedBody> {
    let body = frame(message);
    request(path, chunked_body(&body, body.len(), None))
}

async fn send<B>(
    layer: AuthzLayerBuilder,
    inner: &Inner,
    req: Request<B>,
) -> Response<tonic::body::Body>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<tonic_authz::BoxError>,
{
    let svc = layer.build().layer(inner.clone().service());
    tokio::time::timeout(Duration::from_secs(5), svc.oneshot(req))
        .await
        .expect("the call completes")
        .expect("infallible")
}

fn assert_ok(resp: &Response<tonic::body::Body>) {
    assert!(
        header_status(resp).is_none(),
        "not an error: {:?}",
        header_status(resp)
    );
}

fn status(resp: &Response<tonic::body::Body>) -> tonic::Status {
    header_status(resp).expect("a trailers-only error response")
}

// ---------------------------------------------------------------------------------------------
// G.3 1–8c: the unary interceptor.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn g3_01_is_authorized() {
    let inner = Inner::new();
    let (mapper, mapper_calls) = recording_mapper();
    let (authz, calls) = recording_authorizer(|| Ok(Decision::Allow));
    let message = temporal_request(TN);
    let layer = AuthzLayer::builder().claim_mapper(mapper).authorizer(authz);
    let resp = send(layer, &inner, unary(DESCRIBE_NAMESPACE, &message)).await;

    assert_ok(&resp);
    assert_eq!(inner.calls(), 1);
    // No credentials and a mapper that needs them: the mapper is not called, claims are null.
    assert!(mapper_calls.lock().expect("lock").is_empty());
    let calls = calls.lock().expect("lock");
    assert_eq!(calls.len(), 1);
    assert!(calls[0].claims.is_none());
    assert_eq!(calls[0].api, DESCRIBE_NAMESPACE);
    assert_eq!(calls[0].namespace, TN);
    assert_eq!(calls[0].request.as_deref(), Some(message.as_slice()));
    assert!(!calls[0].request_stream);
    assert!(inner.last().claims.is_none());
}

#[tokio::test]
async fn g3_02_is_authorized_with_namespace() {
    let inner = Inner::new();
    let (authz, calls) = recording_authorizer(|| Ok(Decision::Allow));
    let layer = AuthzLayer::builder().authorizer(authz);
    let resp = send(layer, &inner, unary(START_WORKFLOW, &temporal_request(TN))).await;
    assert_ok(&resp);
    assert_eq!(inner.calls(), 1);
    let calls = calls.lock().expect("lock");
    assert_eq!(calls[0].api, START_WORKFLOW);
    assert_eq!(calls[0].namespace, TN);
}

#[tokio::test]
async fn g3_03_is_unauthorized() {
    let inner = Inner::new();
    let (authz, calls) = recording_authorizer(|| Ok(Decision::deny()));
    let layer = AuthzLayer::builder().authorizer(authz);
    let resp = send(
        layer,
        &inner,
        unary(DESCRIBE_NAMESPACE, &temporal_request(TN)),
    )
    .await;
    assert_temporal_denial(&status(&resp), "");
    assert_eq!(
        inner.calls(),
        0,
        "the inner service never sees a denied call"
    );
    assert_eq!(calls.lock().expect("lock")[0].namespace, TN);
}

#[tokio::test]
async fn g3_04_is_unknown() {
    let inner = Inner::new();
    let (authz, calls) = recording_authorizer(|| Ok(Decision::deny()));
    let layer = AuthzLayer::builder().authorizer(authz);
    let resp = send(
        layer,
        &inner,
        unary(DESCRIBE_NAMESPACE, &temporal_request("unknown-namespace")),
    )
    .await;
    assert_temporal_denial(&status(&resp), "");
    assert_eq!(inner.calls(), 0);
    assert_eq!(
        calls.lock().expect("lock")[0].namespace,
        "unknown-namespace"
    );
}

#[tokio::test]
async fn deny_reason_travels_in_the_detail() {
    let inner = Inner::new();
    let (authz, _) = recording_authorizer(|| Ok(Decision::deny_with_reason("namespace is frozen")));
    let layer = AuthzLayer::builder().authorizer(authz);
    let resp = send(
        layer,
        &inner,
        unary(DESCRIBE_NAMESPACE, &temporal_request(TN)),
    )
    .await;
    assert_temporal_denial(&status(&resp), "namespace is frozen");
    assert_eq!(inner.calls(), 0);
}

#[tokio::test]
async fn g3_05_authorization_failed() {
    let inner = Inner::new();
    let (authz, _) = recording_authorizer(|| {
        Err(tonic::Status::permission_denied(
            "the authorizer's own words",
        ))
    });
    let layer = AuthzLayer::builder().authorizer(authz);
    let resp = send(
        layer,
        &inner,
        unary(DESCRIBE_NAMESPACE, &temporal_request(TN)),
    )
    .await;
    // The authorizer's error is not shown: the generic denial, with an empty reason.
    assert_temporal_denial(&status(&resp), "");
    assert_eq!(inner.calls(), 0);
}

#[tokio::test]
async fn g3_06_authorization_failed_exposed() {
    let inner = Inner::new();
    let (authz, _) =
        recording_authorizer(|| Err(tonic::Status::internal("intentional test failure")));
    let layer = AuthzLayer::builder()
        .authorizer(authz)
        .expose_authorizer_errors(true);
    let resp = send(
        layer,
        &inner,
        unary(DESCRIBE_NAMESPACE, &temporal_request(TN)),
    )
    .await;
    let s = status(&resp);
    assert_eq!(s.code(), tonic::Code::Internal);
    assert_eq!(s.message(), "intentional test failure");
    assert_eq!(inner.calls(), 0);
}

#[tokio::test]
async fn g3_07_noop_claim_mapper_without_tls() {
    let inner = Inner::new();
    let (authz, calls) = recording_authorizer(|| Ok(Decision::Allow));
    let layer = AuthzLayer::builder()
        .claim_mapper(NoopClaimMapper)
        .authorizer(authz);
    let resp = send(
        layer,
        &inner,
        unary(DESCRIBE_NAMESPACE, &temporal_request(TN)),
    )
    .await;
    assert_ok(&resp);
    let seen_by_authorizer = calls.lock().expect("lock")[0].claims.clone();
    assert_eq!(seen_by_authorizer, Some(Claims::system_admin()));
    // The same claims reach the handler.
    assert_eq!(inner.last().claims, Some(Claims::system_admin()));
}

fn custom_header_layer(mapper: impl tonic_authz::ClaimMapper) -> AuthzLayerBuilder {
    AuthzLayer::builder()
        .claim_mapper(mapper)
        .authorizer(NoopAuthorizer)
        .auth_header_name(http::HeaderName::from_static("custom-header"))
        .auth_extra_header_name(http::HeaderName::from_static("custom-extra-header"))
}

#[tokio::test]
async fn g3_08a_alternate_headers() {
    let inner = Inner::new();
    let (mapper, mapper_calls) = recording_mapper();
    let mut req = unary(DESCRIBE_NAMESPACE, &temporal_request(TN));
    req.headers_mut()
        .insert("custom-header", HeaderValue::from_static("the-token"));
    req.headers_mut().insert(
        "custom-extra-header",
        HeaderValue::from_static("more stuff"),
    );
    let resp = send(custom_header_layer(mapper), &inner, req).await;
    assert_ok(&resp);
    let calls = mapper_calls.lock().expect("lock");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].token, "the-token");
    assert_eq!(calls[0].extra, "more stuff");
    assert_eq!(calls[0].audience, "");
    assert!(!calls[0].tls);
    assert_eq!(inner.last().claims.map(|c| c.system()), Some(Role::ADMIN));
}

#[tokio::test]
async fn g3_08b_alternate_headers_ignore_the_default_extra_header() {
    let inner = Inner::new();
    let (mapper, mapper_calls) = recording_mapper();
    let mut req = unary(DESCRIBE_NAMESPACE, &temporal_request(TN));
    req.headers_mut()
        .insert("custom-header", HeaderValue::from_static("the-token"));
    req.headers_mut().insert(
        "authorization-extras",
        HeaderValue::from_static("this gets ignored"),
    );
    req.headers_mut()
        .insert("authorization", HeaderValue::from_static("ignored too"));
    let resp = send(custom_header_layer(mapper), &inner, req).await;
    assert_ok(&resp);
    let calls = mapper_calls.lock().expect("lock");
    assert_eq!(calls[0].token, "the-token");
    assert_eq!(calls[0].extra, "");
}

#[tokio::test]
async fn g3_08c_extra_header_alone_does_not_call_the_mapper() {
    let inner = Inner::new();
    let (mapper, mapper_calls) = recording_mapper();
    let mut req = unary(DESCRIBE_NAMESPACE, &temporal_request(TN));
    req.headers_mut().insert(
        "custom-extra-header",
        HeaderValue::from_static("more stuff"),
    );
    let resp = send(custom_header_layer(mapper), &inner, req).await;
    assert_ok(&resp);
    assert!(mapper_calls.lock().expect("lock").is_empty());
    assert!(inner.last().claims.is_none());
}

#[tokio::test]
async fn mapper_error_is_the_generic_denial_and_never_reaches_the_authorizer() {
    let inner = Inner::new();
    let (mapper, _) = recording_mapper();
    let (authz, calls) = recording_authorizer(|| Ok(Decision::Allow));
    let mut req = unary(DESCRIBE_NAMESPACE, &temporal_request(TN));
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_static("Bearer bad-token"),
    );
    let layer = AuthzLayer::builder().claim_mapper(mapper).authorizer(authz);
    let resp = send(layer, &inner, req).await;
    assert_temporal_denial(&status(&resp), "");
    assert_eq!(inner.calls(), 0);
    assert!(calls.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn default_authorizer_allow_and_deny_twins() {
    let reader = move |info: &AuthInfo| {
        let claims = (info.auth_token == "Bearer reader").then(|| {
            Claims::new()
                .with_subject("r")
                .with_namespace(TN, Role::READER)
        });
        async move { claims.ok_or_else(|| ClaimsError::new(ClaimsErrorKind::Other, "no")) }
    };
    let layer = || AuthzLayer::builder().claim_mapper(reader);
    let with_token = |path: &str, ns: &str| {
        let mut req = unary(path, &temporal_request(ns));
        req.headers_mut()
            .insert("authorization", HeaderValue::from_static("Bearer reader"));
        req
    };

    let inner = Inner::new();
    let resp = send(layer(), &inner, with_token(DESCRIBE_NAMESPACE, TN)).await;
    assert_ok(&resp);
    assert_eq!(inner.calls(), 1);
    assert_eq!(inner.last().claims.as_ref().map(Claims::subject), Some("r"));

    // Write needs more than read; another namespace grants nothing.
    for req in [
        with_token(START_WORKFLOW, TN),
        with_token(DESCRIBE_NAMESPACE, "other"),
    ] {
        let inner = Inner::new();
        let resp = send(layer(), &inner, req).await;
        assert_temporal_denial(&status(&resp), "");
        assert_eq!(inner.calls(), 0);
    }
}

// ---------------------------------------------------------------------------------------------
// G.3 16: principal headers.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn g3_16_spoofed_principal_headers_are_stripped() {
    let inner = Inner::new();
    let mut req = unary(DESCRIBE_NAMESPACE, &temporal_request(TN));
    req.headers_mut().insert(
        "temporal-principal-type",
        HeaderValue::from_static("spoofed-type"),
    );
    req.headers_mut().insert(
        "temporal-principal-name",
        HeaderValue::from_static("spoofed-name"),
    );
    req.headers_mut()
        .insert("x-kept", HeaderValue::from_static("kept"));
    let layer = AuthzLayer::builder().authorizer(NoopAuthorizer);
    let resp = send(layer, &inner, req).await;
    assert_ok(&resp);
    let headers = inner.last().headers;
    assert!(headers.get("temporal-principal-type").is_none());
    assert!(headers.get("temporal-principal-name").is_none());
    // Twin: other headers pass through untouched.
    assert_eq!(
        headers.get("x-kept").map(HeaderValue::as_bytes),
        Some(&b"kept"[..])
    );
}

// ---------------------------------------------------------------------------------------------
// G.3 18–24: request streams, authorized at the headers.
// ---------------------------------------------------------------------------------------------

/// A body that never yields anything: a stream whose first message never comes.
fn never_ending() -> http_body_util::StreamBody<
    futures_util::stream::Pending<Result<http_body::Frame<Bytes>, Infallible>>,
> {
    http_body_util::StreamBody::new(futures_util::stream::pending())
}

fn streaming_paths() -> [&'static str; 3] {
    [REPLICATION_STREAM, demo::UPLOAD_ORDERS, demo::SYNC_ORDERS]
}

#[tokio::test]
async fn g3_18_stream_authorized_at_the_headers() {
    for path in streaming_paths() {
        let mut inner = Inner::new();
        inner.read_body = false;
        let (authz, calls) = recording_authorizer(|| Ok(Decision::Allow));
        let layer = AuthzLayer::builder()
            .authorizer(authz)
            .descriptor_pool(demo::descriptor_pool());
        // The first message never comes: the layer must not wait for it.
        let resp = send(layer, &inner, request(path, never_ending())).await;
        assert_ok(&resp);
        assert_eq!(inner.calls(), 1, "{path}");
        let calls = calls.lock().expect("lock");
        assert_eq!(calls.len(), 1);
        assert!(calls[0].claims.is_none());
        assert_eq!(calls[0].api, path);
        assert_eq!(calls[0].namespace, "", "{path}: streams have no namespace");
        assert!(calls[0].request.is_none(), "{path}: no request message");
        // The authorizer can tell a stream from a request without a namespace.
        assert!(calls[0].request_stream, "{path}");
    }
}

#[tokio::test]
async fn g3_19_stream_unauthorized() {
    for path in streaming_paths() {
        let inner = Inner::new();
        let (authz, _) = recording_authorizer(|| Ok(Decision::deny()));
        let layer = AuthzLayer::builder()
            .authorizer(authz)
            .descriptor_pool(demo::descriptor_pool());
        let resp = send(layer, &inner, request(path, never_ending())).await;
        assert_temporal_denial(&status(&resp), "");
        assert_eq!(inner.calls(), 0, "{path}");
    }
}

#[tokio::test]
async fn g3_19_default_authorizer_on_the_replication_stream() {
    // Cluster admin only: system admin passes, a namespace admin does not.
    for (claims, allowed) in [
        (Claims::system_admin(), true),
        (Claims::new().with_namespace(TN, Role::ADMIN), false),
    ] {
        let mut inner = Inner::new();
        inner.read_body = false;
        let mapper = move |_: &AuthInfo| {
            let c = claims.clone();
            async move { Ok::<_, ClaimsError>(c) }
        };
        let mut req = request(REPLICATION_STREAM, never_ending());
        req.headers_mut()
            .insert("authorization", HeaderValue::from_static("Bearer t"));
        let resp = send(AuthzLayer::builder().claim_mapper(mapper), &inner, req).await;
        if allowed {
            assert_ok(&resp);
            assert_eq!(inner.calls(), 1);
        } else {
            assert_temporal_denial(&status(&resp), "");
            assert_eq!(inner.calls(), 0);
        }
    }
}

#[tokio::test]
async fn g3_20_stream_auth_disabled() {
    let mut inner = Inner::new();
    inner.read_body = false;
    let layer = AuthzLayer::builder().authorizer(NoopAuthorizer);
    let resp = send(layer, &inner, request(REPLICATION_STREAM, never_ending())).await;
    assert_ok(&resp);
    assert_eq!(inner.calls(), 1);
}

#[tokio::test]
async fn g3_21_stream_invalid_token() {
    let inner = Inner::new();
    let (mapper, mapper_calls) = recording_mapper();
    let mut req = request(REPLICATION_STREAM, never_ending());
    req.headers_mut()
        .insert("authorization", HeaderValue::from_static("bad-token"));
    let layer = AuthzLayer::builder()
        .claim_mapper(mapper)
        .authorizer(NoopAuthorizer);
    let resp = send(layer, &inner, req).await;
    assert_temporal_denial(&status(&resp), "");
    assert_eq!(inner.calls(), 0);
    assert_eq!(mapper_calls.lock().expect("lock")[0].token, "bad-token");
}

#[tokio::test]
async fn g3_22_stream_audience_passed_to_claim_mapper() {
    let mut inner = Inner::new();
    inner.read_body = false;
    let (mapper, mapper_calls) = recording_mapper();
    let audience_calls: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let recorded = Arc::clone(&audience_calls);
    let layer = AuthzLayer::builder()
        .claim_mapper(mapper)
        .authorizer(NoopAuthorizer)
        .audience_fn(move |api, request| {
            recorded
                .lock()
                .expect("lock")
                .push((api.to_owned(), request.is_some()));
            "stream-audience".to_owned()
        });
    let mut req = request(REPLICATION_STREAM, never_ending());
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_static("Bearer some-token"),
    );
    let resp = send(layer, &inner, req).await;
    assert_ok(&resp);
    let calls = mapper_calls.lock().expect("lock");
    assert_eq!(calls[0].token, "Bearer some-token");
    assert_eq!(calls[0].audience, "stream-audience");
    // On a stream the audience callback gets no request.
    assert_eq!(
        *audience_calls.lock().expect("lock"),
        vec![(REPLICATION_STREAM.to_owned(), false)]
    );
}

#[tokio::test]
async fn g3_24_stream_handler_gets_the_claims() {
    let mut inner = Inner::new();
    inner.read_body = false;
    let layer = AuthzLayer::builder()
        .claim_mapper(NoopClaimMapper)
        .authorizer(NoopAuthorizer);
    let resp = send(layer, &inner, request(demo::UPLOAD_ORDERS, never_ending())).await;
    assert_ok(&resp);
    assert_eq!(inner.last().claims, Some(Claims::system_admin()));
}

// ---------------------------------------------------------------------------------------------
// Bodies are forwarded byte for byte.
// ---------------------------------------------------------------------------------------------

fn trailers() -> HeaderMap {
    let mut t = HeaderMap::new();
    t.insert("x-request-trailer", HeaderValue::from_static("end"));
    t
}

fn demo_layer() -> AuthzLayerBuilder {
    AuthzLayer::builder()
        .claim_mapper(NoopClaimMapper)
        .descriptor_pool(demo::descriptor_pool())
}

#[tokio::test]
async fn single_message_is_forwarded_byte_for_byte() {
    let inner = Inner::new();
    let body = frame(&temporal_request(TN));
    let req = request(DESCRIBE_NAMESPACE, chunked_body(&body, body.len(), None));
    let resp = send(
        AuthzLayer::builder().claim_mapper(NoopClaimMapper),
        &inner,
        req,
    )
    .await;
    assert_ok(&resp);
    let seen = inner.last();
    assert_eq!(seen.body, body);
    assert!(seen.trailers.is_none());
}

#[tokio::test]
async fn many_frames_in_small_chunks_with_trailers_are_forwarded_byte_for_byte() {
    let messages: Vec<CreateOrderRequest> = (0..5)
        .map(|i| demo::create_order("acme", &format!("nested-{i}")))
        .collect();
    let body = frames(&messages);
    for chunk in [1, 3, 7, 64] {
        let inner = Inner::new();
        let (authz, calls) = recording_authorizer(|| Ok(Decision::Allow));
        let req = request(
            demo::CREATE_ORDER,
            chunked_body(&body, chunk, Some(trailers())),
        );
        let resp = send(demo_layer().authorizer(authz), &inner, req).await;
        assert_ok(&resp);
        let seen = inner.last();
        assert_eq!(seen.body, body, "chunk {chunk}");
        assert_eq!(seen.trailers, Some(trailers()), "chunk {chunk}");
        let calls = calls.lock().expect("lock");
        assert_eq!(calls[0].namespace, "acme");
        // The authorizer saw exactly the first message.
        assert_eq!(
            calls[0].request.as_deref(),
            Some(messages[0].encode_to_vec().as_slice())
        );
    }
}

#[tokio::test]
async fn server_streaming_call_request_and_response_pass_untouched() {
    let events: Vec<OrderEvent> = (0..4)
        .map(|i| OrderEvent {
            order_id: format!("o-{i}"),
            kind: "updated".to_owned(),
            order: Some(Order {
                namespace: "acme".to_owned(),
                item: "widget".to_owned(),
                count: i,
            }),
        })
        .collect();
    let response_body = frames(&events);
    let mut response_trailers = HeaderMap::new();
    response_trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let mut inner = Inner::new();
    {
        let response_body = response_body.clone();
        let response_trailers = response_trailers.clone();
        inner.response = Arc::new(move || {
            Response::new(tonic::body::Body::new(chunked_body(
                &response_body,
                5,
                Some(response_trailers.clone()),
            )))
        });
    }
    let (authz, calls) = recording_authorizer(|| Ok(Decision::Allow));
    let message = demo::WatchOrdersRequest {
        order_id: "o-1".to_owned(),
        namespace: "acme".to_owned(),
    }
    .encode_to_vec();
    let body = frame(&message);
    let req = request(demo::WATCH_ORDERS, chunked_body(&body, 2, None));
    let resp = send(demo_layer().authorizer(authz), &inner, req).await;
    assert_ok(&resp);
    assert_eq!(inner.last().body, body);
    assert_eq!(calls.lock().expect("lock")[0].namespace, "acme");
    let (data, got_trailers) = collect(resp.into_body()).await;
    assert_eq!(data, response_body);
    assert_eq!(got_trailers, Some(response_trailers));
}

#[tokio::test]
async fn client_streaming_call_with_many_messages_is_forwarded_byte_for_byte() {
    let messages: Vec<UploadOrdersRequest> = (0..200)
        .map(|i| UploadOrdersRequest {
            namespace: if i % 2 == 0 { "acme" } else { "other" }.to_owned(),
            order: Some(Order {
                namespace: "nested".to_owned(),
                item: format!("item-{i}"),
                count: i,
            }),
        })
        .collect();
    let body = frames(&messages);
    let inner = Inner::new();
    let (authz, calls) = recording_authorizer(|| Ok(Decision::Allow));
    let req = request(
        demo::UPLOAD_ORDERS,
        chunked_body(&body, 11, Some(trailers())),
    );
    let resp = send(demo_layer().authorizer(authz), &inner, req).await;
    assert_ok(&resp);
    let seen = inner.last();
    assert_eq!(seen.body, body);
    assert_eq!(seen.trailers, Some(trailers()));
    assert_eq!(calls.lock().expect("lock")[0].namespace, "");
}

/// A CreateOrder call with its message gzipped, in 4-byte frames: the message, the body sent,
/// and the request.
fn gzip_create_order() -> (Vec<u8>, Vec<u8>, Request<tonic::body::Body>) {
    let message = demo::create_order("acme", "other").encode_to_vec();
    let body = frame_with_flag(1, &gzip(&message));
    let mut req = request(
        demo::CREATE_ORDER,
        tonic::body::Body::new(chunked_body(&body, 4, None)),
    );
    req.headers_mut()
        .insert("grpc-encoding", HeaderValue::from_static("gzip"));
    (message, body, req)
}

#[tokio::test]
async fn gzip_message_is_read_and_forwarded_inflated_once() {
    let (message, _, req) = gzip_create_order();
    let inner = Inner::new();
    let (authz, calls) = recording_authorizer(|| Ok(Decision::Allow));
    let resp = send(demo_layer().authorizer(authz), &inner, req).await;
    assert_ok(&resp);
    assert_eq!(
        inner.last().body,
        frame_with_flag(0, &message),
        "the message the layer inflated, as an uncompressed message"
    );
    let calls = calls.lock().expect("lock");
    assert_eq!(calls[0].namespace, "acme");
    assert_eq!(calls[0].request.as_deref(), Some(message.as_slice()));
}

#[tokio::test]
async fn gzip_message_is_forwarded_compressed_when_kept() {
    let (_, body, req) = gzip_create_order();
    let inner = Inner::new();
    let (authz, calls) = recording_authorizer(|| Ok(Decision::Allow));
    let svc = demo_layer()
        .authorizer(authz)
        .build()
        .keep_compressed(true)
        .layer(inner.clone().service());
    let resp = tokio::time::timeout(Duration::from_secs(5), svc.oneshot(req))
        .await
        .expect("the call completes")
        .expect("infallible");
    assert_ok(&resp);
    assert_eq!(inner.last().body, body, "the compressed bytes, untouched");
    assert_eq!(calls.lock().expect("lock")[0].namespace, "acme");
}

// ---------------------------------------------------------------------------------------------
// Malformed requests: refused with exact codes, never forwarded, never authorized.
// ---------------------------------------------------------------------------------------------

async fn refused(req: Request<ChunkedBody>, max: usize) -> tonic::Status {
    let inner = Inner::new();
    let (authz, calls) = recording_authorizer(|| Ok(Decision::Allow));
    let layer = AuthzLayer::builder()
        .claim_mapper(NoopClaimMapper)
        .authorizer(authz)
        .max_message_size(max);
    let resp = send(layer, &inner, req).await;
    assert_eq!(inner.calls(), 0, "a malformed request is never forwarded");
    assert!(calls.lock().expect("lock").is_empty(), "nor authorized");
    status(&resp)
}

#[tokio::test]
async fn over_the_size_limit_is_resource_exhausted() {
    let message = temporal_request(TN);
    let s = refused(unary(DESCRIBE_NAMESPACE, &message), message.len() - 1).await;
    assert_eq!(s.code(), tonic::Code::ResourceExhausted);
    assert_eq!(
        s.message(),
        format!(
            "Error, decoded message length too large: found {} bytes, the limit is: {} bytes",
            message.len(),
            message.len() - 1
        )
    );
    // Twin: at the limit exactly, the call goes through.
    let inner = Inner::new();
    let layer = AuthzLayer::builder()
        .claim_mapper(NoopClaimMapper)
        .max_message_size(message.len());
    assert_ok(&send(layer, &inner, unary(DESCRIBE_NAMESPACE, &message)).await);
    assert_eq!(inner.calls(), 1);
}

#[tokio::test]
async fn gzip_inflating_over_the_limit_is_resource_exhausted() {
    let big = NamespaceRequest {
        namespace: TN.to_owned(),
        second: "x".repeat(10_000),
    }
    .encode_to_vec();
    let compressed = gzip(&big);
    assert!(compressed.len() < 1000);
    let body = frame_with_flag(1, &compressed);
    let mut req = request(DESCRIBE_NAMESPACE, chunked_body(&body, body.len(), None));
    req.headers_mut()
        .insert("grpc-encoding", HeaderValue::from_static("gzip"));
    let s = refused(req, 1000).await;
    assert_eq!(s.code(), tonic::Code::ResourceExhausted);
}

#[tokio::test]
async fn unsupported_encoding_is_unimplemented() {
    let mut req = unary(DESCRIBE_NAMESPACE, &temporal_request(TN));
    req.headers_mut()
        .insert("grpc-encoding", HeaderValue::from_static("snappy"));
    let s = refused(req, 1 << 20).await;
    assert_eq!(s.code(), tonic::Code::Unimplemented);
    assert_eq!(
        s.message(),
        "Content is compressed with `snappy` which isn't supported"
    );
}

#[tokio::test]
async fn truncated_or_missing_frame_is_invalid_argument() {
    let mut body = frame(&temporal_request(TN));
    body.pop();
    let s = refused(
        request(DESCRIBE_NAMESPACE, chunked_body(&body, 3, None)),
        1 << 20,
    )
    .await;
    assert_eq!(s.code(), tonic::Code::InvalidArgument);
    assert_eq!(s.message(), "request message is truncated");

    // Only part of the 5-byte prefix.
    let s = refused(
        request(DESCRIBE_NAMESPACE, chunked_body(&[0, 0], 1, None)),
        1 << 20,
    )
    .await;
    assert_eq!(s.code(), tonic::Code::InvalidArgument);
    assert_eq!(s.message(), "request message is truncated");

    // Trailers before the message is complete.
    let s = refused(
        request(DESCRIBE_NAMESPACE, chunked_body(&body, 4, Some(trailers()))),
        1 << 20,
    )
    .await;
    assert_eq!(s.code(), tonic::Code::InvalidArgument);

    let s = refused(
        request(DESCRIBE_NAMESPACE, chunked_body_by(&[], &[], None)),
        1 << 20,
    )
    .await;
    assert_eq!(s.code(), tonic::Code::InvalidArgument);
    assert_eq!(s.message(), "missing request message");

    // An empty body is missing whether it came as no DATA frame, empty DATA frames, or
    // trailers alone.
    for body in [
        chunked_body_by(&[], &[0, 0], None),
        chunked_body(&[], 1, Some(trailers())),
    ] {
        let s = refused(request(DESCRIBE_NAMESPACE, body), 1 << 20).await;
        assert_eq!(s.code(), tonic::Code::InvalidArgument);
        assert_eq!(s.message(), "missing request message");
    }

    // A compressed flag without grpc-encoding.
    let body = frame_with_flag(1, &temporal_request(TN));
    let s = refused(
        request(DESCRIBE_NAMESPACE, chunked_body(&body, 64, None)),
        1 << 20,
    )
    .await;
    assert_eq!(s.code(), tonic::Code::InvalidArgument);
}

#[tokio::test]
async fn wrong_wire_type_or_invalid_utf8_namespace_is_invalid_argument() {
    // namespace (field 1) as a varint.
    let s = refused(unary(DESCRIBE_NAMESPACE, &[0x08, 0x01]), 1 << 20).await;
    assert_eq!(s.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        s.message(),
        "malformed request message: namespace field has the wrong wire type"
    );
    // namespace bytes that are not UTF-8.
    let s = refused(
        unary(DESCRIBE_NAMESPACE, &[0x0a, 0x02, 0xc3, 0x28]),
        1 << 20,
    )
    .await;
    assert_eq!(s.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        s.message(),
        "malformed request message: namespace field is not valid UTF-8"
    );
    // An invalid first occurrence hidden behind a valid last one is refused too.
    let mut message = vec![0x0a, 0x02, 0xc3, 0x28];
    message.extend(temporal_request(TN));
    let s = refused(unary(DESCRIBE_NAMESPACE, &message), 1 << 20).await;
    assert_eq!(s.code(), tonic::Code::InvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// The demo service through a descriptor pool.
// ---------------------------------------------------------------------------------------------

fn demo_access() -> DefaultAuthorizer {
    DefaultAuthorizer::new().with_access(
        ApiAccess::temporal()
            .with_service(demo::SERVICE, Scope::Namespace, Access::Write)
            .try_with_method(demo::GET_SERVER_INFO, Scope::Cluster, Access::Read)
            .expect("a method path"),
    )
}

fn writer_of(ns: &'static str) -> impl tonic_authz::ClaimMapper {
    move |_: &AuthInfo| async move {
        Ok::<_, ClaimsError>(Claims::new().with_namespace(ns, Role::WRITER))
    }
}

fn with_token<B>(mut req: Request<B>) -> Request<B> {
    req.headers_mut()
        .insert("authorization", HeaderValue::from_static("Bearer t"));
    req
}

#[tokio::test]
async fn demo_namespace_at_field_seven_is_found_and_nested_one_ignored() {
    let message = demo::create_order("acme", "other").encode_to_vec();
    // The writer of the request's namespace is allowed...
    let inner = Inner::new();
    let layer = AuthzLayer::builder()
        .claim_mapper(writer_of("acme"))
        .authorizer(demo_access())
        .descriptor_pool(demo::descriptor_pool());
    let resp = send(
        layer,
        &inner,
        with_token(unary(demo::CREATE_ORDER, &message)),
    )
    .await;
    assert_ok(&resp);
    assert_eq!(inner.calls(), 1);
    // ...the writer of the nested order's namespace is not.
    let inner = Inner::new();
    let layer = AuthzLayer::builder()
        .claim_mapper(writer_of("other"))
        .authorizer(demo_access())
        .descriptor_pool(demo::descriptor_pool());
    let resp = send(
        layer,
        &inner,
        with_token(unary(demo::CREATE_ORDER, &message)),
    )
    .await;
    assert_temporal_denial(&status(&resp), "");
    assert_eq!(inner.calls(), 0);

    // Only a nested namespace: the request has none, so a namespace writer is denied.
    let nested_only = demo::create_order("", "acme").encode_to_vec();
    let inner = Inner::new();
    let layer = AuthzLayer::builder()
        .claim_mapper(writer_of("acme"))
        .authorizer(demo_access())
        .descriptor_pool(demo::descriptor_pool());
    let resp = send(
        layer,
        &inner,
        with_token(unary(demo::CREATE_ORDER, &nested_only)),
    )
    .await;
    assert_temporal_denial(&status(&resp), "");
    assert_eq!(inner.calls(), 0);
}

#[tokio::test]
async fn demo_request_is_decodable_by_the_authorizer() {
    let message = demo::create_order("acme", "other");
    let seen: Arc<Mutex<Option<(String, String)>>> = Arc::default();
    let recorded = Arc::clone(&seen);
    let authz = move |_: Option<&Claims>, target: &CallTarget| {
        let request = target.request().expect("unary requests are read");
        let typed: CreateOrderRequest = request.decode().expect("decodes");
        let dynamic = request
            .dynamic()
            .expect("a descriptor is attached")
            .expect("decodes");
        let order_id = match dynamic.get_field_by_name("order_id").as_deref() {
            Some(prost_reflect::Value::String(s)) => s.clone(),
            other => panic!("order_id: {other:?}"),
        };
        *recorded.lock().expect("lock") = Some((typed.namespace, order_id));
        async { Ok(Decision::Allow) }
    };
    let inner = Inner::new();
    let layer = demo_layer().authorizer(authz);
    let resp = send(
        layer,
        &inner,
        unary(demo::CREATE_ORDER, &message.encode_to_vec()),
    )
    .await;
    assert_ok(&resp);
    assert_eq!(
        *seen.lock().expect("lock"),
        Some(("acme".to_owned(), "order-1".to_owned()))
    );
}

#[tokio::test]
async fn demo_method_without_namespace() {
    let (authz, calls) = recording_authorizer(|| Ok(Decision::Allow));
    let message = demo::GetServerInfoRequest { verbose: true }.encode_to_vec();
    let inner = Inner::new();
    let resp = send(
        demo_layer().authorizer(authz),
        &inner,
        unary(demo::GET_SERVER_INFO, &message),
    )
    .await;
    assert_ok(&resp);
    {
        let calls = calls.lock().expect("lock");
        assert_eq!(calls[0].namespace, "");
        assert_eq!(calls[0].request.as_deref(), Some(message.as_slice()));
    }

    // With the default authorizer it is cluster read: a namespace writer is denied, a system
    // reader allowed.
    for (claims, allowed) in [
        (Claims::new().with_namespace("acme", Role::WRITER), false),
        (Claims::new().with_system(Role::READER), true),
    ] {
        let inner = Inner::new();
        let mapper = move |_: &AuthInfo| {
            let c = claims.clone();
            async move { Ok::<_, ClaimsError>(c) }
        };
        let layer = AuthzLayer::builder()
            .claim_mapper(mapper)
            .authorizer(demo_access())
            .descriptor_pool(demo::descriptor_pool());
        let resp = send(
            layer,
            &inner,
            with_token(unary(demo::GET_SERVER_INFO, &message)),
        )
        .await;
        assert_eq!(header_status(&resp).is_none(), allowed);
        assert_eq!(inner.calls(), usize::from(allowed));
    }
}

#[tokio::test]
async fn demo_custom_namespace_field_name() {
    let message = demo::DescribeTenantRequest {
        region: "eu".to_owned(),
        include_usage: true,
        tenant: "acme".to_owned(),
    }
    .encode_to_vec();
    for (field_name, expected) in [
        (demo::DESCRIBE_TENANT_NAMESPACE_FIELD_NAME, "acme"),
        ("namespace", ""),
    ] {
        let (authz, calls) = recording_authorizer(|| Ok(Decision::Allow));
        let inner = Inner::new();
        let layer = demo_layer()
            .authorizer(authz)
            .namespace_field_name(field_name);
        let resp = send(layer, &inner, unary(demo::DESCRIBE_TENANT, &message)).await;
        assert_ok(&resp);
        assert_eq!(
            calls.lock().expect("lock")[0].namespace,
            expected,
            "{field_name}"
        );
    }
    // Allow/deny twin with the default authorizer.
    for (ns, allowed) in [("acme", true), ("other", false)] {
        let inner = Inner::new();
        let layer = AuthzLayer::builder()
            .claim_mapper(writer_of(ns))
            .authorizer(demo_access())
            .descriptor_pool(demo::descriptor_pool())
            .namespace_field_name("tenant");
        let resp = send(
            layer,
            &inner,
            with_token(unary(demo::DESCRIBE_TENANT, &message)),
        )
        .await;
        assert_eq!(header_status(&resp).is_none(), allowed, "{ns}");
        assert_eq!(inner.calls(), usize::from(allowed));
    }
}

#[tokio::test]
async fn unknown_service_without_a_pool_is_denied_by_default() {
    let inner = Inner::new();
    let layer = AuthzLayer::builder().claim_mapper(NoopClaimMapper);
    let message = demo::create_order("acme", "other").encode_to_vec();
    let resp = send(layer, &inner, unary(demo::CREATE_ORDER, &message)).await;
    assert_temporal_denial(&status(&resp), "");
    assert_eq!(inner.calls(), 0);
}
