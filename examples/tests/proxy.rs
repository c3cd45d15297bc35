//! The Frontend as an authorizing proxy, end to end over loopback: clients call the proxy,
//! the proxy forwards to a real tonic upstream on its own port (the in-memory Temporal backend,
//! or a probe service with every streaming kind), and a recorder on the upstream shows what
//! arrived there. Checked: every streaming kind, headers, trailers and status details relayed,
//! compressed bytes passed through untouched, deadlines and cancels reaching the upstream, an
//! upstream that is down and then back, a denied call that never reaches the upstream, the
//! credentials policies, and TLS and mutual TLS towards the upstream (certificates made at
//! test time).

mod common;

use std::{
    convert::Infallible,
    net::SocketAddr,
    pin::Pin,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::HeaderMap;
use prost::Message;
use tokio::{net::TcpListener, sync::Notify};
use tokio_stream::{Stream, StreamExt, wrappers::ReceiverStream};
use tonic::{
    Code, Request, Response, Status, Streaming,
    body::Body,
    codec::CompressionEncoding,
    metadata::MetadataValue,
    server::NamedService,
    service::Routes,
    transport::{Channel, Endpoint, Server, server::TcpIncoming},
};
use tonic_authz::{
    AuthInfo, AuthzLayer, ClaimMapper, Claims, ClaimsError, ClaimsErrorKind, DefaultAuthorizer,
    Role,
    config::{Config, ConfigLoader, Upstream, UpstreamCredentials as CredentialsSetting},
    tls::{GroupTls, TlsAcceptor},
};
use tonic_authz_examples::{
    Backend, BackendConfig, Frontend,
    demo::pb::{
        CreateOrderRequest, CreateOrderResponse, DescribeTenantRequest, DescribeTenantResponse,
        GetServerInfoRequest, GetServerInfoResponse, OrderEvent, UploadOrdersRequest,
        UploadOrdersResponse, WatchOrdersRequest,
        tenant_service_client::TenantServiceClient,
        tenant_service_server::{TenantService, TenantServiceServer},
    },
    dev::{DevDir, ensure_certificates},
    proxy::{Forward, Origin, Proxy},
    services,
    temporal::api::{
        common::v1::{WorkflowExecution, WorkflowType},
        taskqueue::v1::TaskQueue,
        workflowservice::v1::{
            DescribeWorkflowExecutionRequest, GetSystemInfoRequest, StartWorkflowExecutionRequest,
        },
    },
    workflow_client,
};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use common::{LOOPBACK, raw};

// ---------------------------------------------------------------------------------------------
// The upstream side: a recorder of what arrives, and a probe service.

/// What one request looked like when it reached the upstream.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: HeaderMap,
}

/// Every request the upstream received, in order.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Seen>>>);

impl Recorder {
    fn record(&self, request: &http::Request<Body>) {
        self.0.lock().expect("not poisoned").push(Seen {
            path: request.uri().path().to_owned(),
            headers: request.headers().clone(),
        });
    }

    fn seen(&self) -> Vec<Seen> {
        self.0.lock().expect("not poisoned").clone()
    }

    fn calls_to(&self, method: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.path.ends_with(method))
            .count()
    }

    fn last(&self) -> Seen {
        self.seen()
            .last()
            .cloned()
            .expect("the upstream saw a call")
    }
}

/// Signals the probe raises when the upstream side of a call goes away.
#[derive(Clone, Default)]
struct Signals {
    unary_dropped: Arc<Notify>,
    stream_closed: Arc<Notify>,
}

/// Raises a signal when dropped: the upstream handler's future was cancelled.
struct DropSignal(Arc<Notify>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<OrderEvent, Status>> + Send>>;

/// A `TenantService` whose behaviour each test picks through `order_id`.
#[derive(Clone, Default)]
struct Probe {
    signals: Signals,
}

#[tonic::async_trait]
impl TenantService for Probe {
    async fn create_order(
        &self,
        request: Request<CreateOrderRequest>,
    ) -> Result<Response<CreateOrderResponse>, Status> {
        let order_id = request.into_inner().order_id;
        match order_id.as_str() {
            "already-started" => {
                let mut metadata = tonic::metadata::MetadataMap::new();
                metadata.insert("x-upstream-trailer", MetadataValue::from_static("kept"));
                Err(Status::with_details_and_metadata(
                    Code::AlreadyExists,
                    "Workflow execution is already running. WorkflowId: w, RunId: r.",
                    Bytes::from_static(b"\x08\x06\x12\x03abc"),
                    metadata,
                ))
            }
            "slow" => {
                let _signal = DropSignal(self.signals.unary_dropped.clone());
                tokio::time::sleep(Duration::from_secs(60)).await;
                Err(Status::internal("the slow call was not cancelled"))
            }
            _ => {
                let mut response = Response::new(CreateOrderResponse { order_id });
                response
                    .metadata_mut()
                    .insert("x-upstream-header", MetadataValue::from_static("kept"));
                Ok(response)
            }
        }
    }

    async fn get_server_info(
        &self,
        _request: Request<GetServerInfoRequest>,
    ) -> Result<Response<GetServerInfoResponse>, Status> {
        Ok(Response::new(GetServerInfoResponse {
            version: "probe".into(),
        }))
    }

    type WatchOrdersStream = EventStream;

    /// One event at once, then nothing until the client goes away.
    async fn watch_orders(
        &self,
        request: Request<WatchOrdersRequest>,
    ) -> Result<Response<EventStream>, Status> {
        let order_id = request.into_inner().order_id;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let closed = self.signals.stream_closed.clone();
        tokio::spawn(async move {
            let event = OrderEvent {
                order_id,
                kind: "created".into(),
                order: None,
            };
            if tx.send(Ok(event)).await.is_ok() {
                tx.closed().await;
            }
            closed.notify_one();
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn upload_orders(
        &self,
        request: Request<Streaming<UploadOrdersRequest>>,
    ) -> Result<Response<UploadOrdersResponse>, Status> {
        let mut stream = request.into_inner();
        let mut accepted = 0;
        while let Some(message) = stream.next().await {
            message?;
            accepted += 1;
        }
        Ok(Response::new(UploadOrdersResponse { accepted }))
    }

    type SyncOrdersStream = EventStream;

    /// Echoes each uploaded order's namespace as an event.
    async fn sync_orders(
        &self,
        request: Request<Streaming<UploadOrdersRequest>>,
    ) -> Result<Response<EventStream>, Status> {
        let stream = request.into_inner().map(|message| {
            message.map(|m| OrderEvent {
                order_id: m.namespace,
                kind: "synced".into(),
                order: None,
            })
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn describe_tenant(
        &self,
        _request: Request<DescribeTenantRequest>,
    ) -> Result<Response<DescribeTenantResponse>, Status> {
        Err(Status::unimplemented("not in the probe"))
    }
}

/// A running upstream: its address, what it received, and its shutdown.
struct RunningUpstream {
    addr: SocketAddr,
    recorder: Recorder,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningUpstream {
    /// Stops gracefully; a stream left open by a failed test must not hang the run.
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(Duration::from_secs(10), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
            panic!("the upstream did not stop within 10 s: a stream stayed open");
        }
    }
}

/// Serves `routes` on `listener` (over TLS with `tls`), recording every request.
async fn serve_upstream(
    listener: TcpListener,
    routes: Routes,
    tls: Option<GroupTls>,
) -> RunningUpstream {
    let addr = listener.local_addr().expect("bound");
    let recorder = Recorder::default();
    let seen = recorder.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async {
        let _ = stopped.await;
    };
    let server = Server::builder()
        .layer(tower::layer::layer_fn(move |inner| RecordService {
            inner,
            recorder: seen.clone(),
        }))
        .add_routes(routes);
    let task = tokio::spawn(async move {
        let served = match tls {
            Some(group) => {
                let acceptor = TlsAcceptor::new(&group).expect("upstream TLS");
                server
                    .serve_with_incoming_shutdown(acceptor.incoming(listener), shutdown)
                    .await
            }
            None => {
                server
                    .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown)
                    .await
            }
        };
        served.expect("upstream serves");
    });
    RunningUpstream {
        addr,
        recorder,
        stop: Some(stop),
        task,
    }
}

/// Records each request, then hands it on.
#[derive(Clone)]
struct RecordService<S> {
    inner: S,
    recorder: Recorder,
}

impl<S> tower::Service<http::Request<Body>> for RecordService<S>
where
    S: tower::Service<http::Request<Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> S::Future {
        self.recorder.record(&request);
        self.inner.call(request)
    }
}

/// The probe, gzip both ways, on a fresh loopback port.
async fn probe_upstream(probe: Probe) -> RunningUpstream {
    let listener = TcpListener::bind(LOOPBACK).await.expect("bind");
    let service = TenantServiceServer::new(probe)
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip);
    serve_upstream(listener, Routes::new(service), None).await
}

/// The in-memory Temporal backend (WorkflowService, OperatorService, health).
async fn temporal_upstream(backend: &Backend, tls: Option<GroupTls>) -> RunningUpstream {
    let listener = TcpListener::bind(LOOPBACK).await.expect("bind");
    serve_upstream(listener, services(backend).await.into_routes(), tls).await
}

// ---------------------------------------------------------------------------------------------
// The proxy side.

fn upstream_settings(addr: SocketAddr) -> Upstream {
    let mut upstream = Upstream::default();
    upstream.address = addr.to_string();
    upstream.connect_timeout = Duration::from_secs(2);
    upstream
}

fn proxy(upstream: &Upstream) -> Proxy {
    Proxy::from_config(upstream, &Origin::Flags).expect("valid upstream settings")
}

/// The proxy Frontend, behind `layer` when given, on a fresh loopback port.
async fn spawn_proxy(proxy: Proxy, layer: Option<AuthzLayer>) -> (SocketAddr, Channel) {
    let mut frontend = Frontend::new(Backend::new(BackendConfig::default())).with_upstream(proxy);
    if let Some(layer) = layer {
        frontend = frontend.with_authz(layer);
    }
    let running = frontend.spawn(LOOPBACK).await.expect("bind");
    let channel = running.channel().await.expect("connect");
    let addr = running.addr();
    // The server runs as long as the test; dropping the handle would stop it.
    std::mem::forget(running);
    (addr, channel)
}

/// The probe's service forwarded by the real `Forward`, under the probe's service name (the
/// proxy's own routes forward Temporal's services only).
#[derive(Clone)]
struct TenantRoute(Forward);

impl NamedService for TenantRoute {
    const NAME: &'static str = tonic_authz_examples::demo::SERVICE_NAME;
}

impl tower::Service<http::Request<Body>> for TenantRoute {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = <Forward as tower::Service<http::Request<Body>>>::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        self.0.call(request)
    }
}

/// A proxy in front of the probe, without authorization: the forwarding alone.
async fn probe_proxy(upstream: &RunningUpstream) -> (SocketAddr, TenantServiceClient<Channel>) {
    let proxy = proxy(&upstream_settings(upstream.addr));
    let listener = TcpListener::bind(LOOPBACK).await.expect("bind");
    let addr = listener.local_addr().expect("bound");
    let routes = Routes::new(TenantRoute(proxy.forward().clone()));
    tokio::spawn(
        Server::builder()
            .add_routes(routes)
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let client = TenantServiceClient::new(channel)
        .send_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Gzip);
    (addr, client)
}

/// `Bearer alice` writes `default`, `Bearer rita` reads it, anyone else has no role.
fn token_mapper() -> impl ClaimMapper {
    |info: &AuthInfo| {
        let token = info.auth_token.clone();
        async move {
            let subject = token.strip_prefix("Bearer ").ok_or_else(|| {
                ClaimsError::new(ClaimsErrorKind::MalformedHeader, "expected a bearer token")
            })?;
            let role = match subject {
                "alice" => Role::WRITER,
                "rita" => Role::READER,
                _ => Role::UNDEFINED,
            };
            Ok(Claims::new()
                .with_subject(subject)
                .with_namespace("default", role))
        }
    }
}

fn token_layer() -> AuthzLayer {
    AuthzLayer::builder()
        .claim_mapper(token_mapper())
        .authorizer(DefaultAuthorizer::new())
        .build()
}

fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii"),
    );
    request
}

fn start_request(workflow_id: &str) -> StartWorkflowExecutionRequest {
    StartWorkflowExecutionRequest {
        namespace: "default".to_owned(),
        workflow_id: workflow_id.to_owned(),
        workflow_type: Some(WorkflowType {
            name: "greet".to_owned(),
        }),
        task_queue: Some(TaskQueue {
            name: "queue".to_owned(),
            ..Default::default()
        }),
        request_id: uuid::Uuid::new_v4().to_string(),
        ..Default::default()
    }
}

/// Waits for `notify` at most `limit`.
async fn within(limit: Duration, notify: &Notify, what: &str) {
    tokio::time::timeout(limit, notify.notified())
        .await
        .unwrap_or_else(|_| panic!("{what} within {limit:?}"));
}

// ---------------------------------------------------------------------------------------------
// Temporal's services through the proxy's own routes.

#[tokio::test]
async fn an_allowed_start_reaches_the_upstream_and_a_denied_one_never_does() {
    let backend = Backend::new(BackendConfig::default());
    let upstream = temporal_upstream(&backend, None).await;
    let (_, channel) = spawn_proxy(
        proxy(&upstream_settings(upstream.addr)),
        Some(token_layer()),
    )
    .await;
    let mut client = workflow_client(channel, true);

    let denied = client
        .start_workflow_execution(with_token(start_request("wf-denied"), "rita"))
        .await
        .expect_err("a reader cannot start");
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert_eq!(denied.message(), "Request unauthorized.");
    assert_eq!(upstream.recorder.calls_to("/StartWorkflowExecution"), 0);
    assert!(
        upstream.recorder.seen().is_empty(),
        "no upstream stream at all"
    );

    let started = client
        .start_workflow_execution(with_token(start_request("wf-allowed"), "alice"))
        .await
        .expect("a writer starts")
        .into_inner();
    assert!(!started.run_id.is_empty());
    assert_eq!(upstream.recorder.calls_to("/StartWorkflowExecution"), 1);
    let seen = upstream.recorder.last();
    // The caller's credentials and the SDK's compression reach the upstream as sent.
    assert_eq!(seen.headers["authorization"], "Bearer alice");
    assert_eq!(seen.headers["grpc-encoding"], "gzip");
    assert_eq!(seen.headers["content-type"], "application/grpc");
    assert!(backend.workflow("default", "wf-allowed").is_some());
    assert!(backend.workflow("default", "wf-denied").is_none());
    upstream.stop().await;
}

#[tokio::test]
async fn the_upstreams_own_errors_come_back_unchanged() {
    let backend = Backend::new(BackendConfig::default());
    let upstream = temporal_upstream(&backend, None).await;
    let describe = |channel: Channel| async move {
        workflow_client(channel, true)
            .describe_workflow_execution(with_token(
                DescribeWorkflowExecutionRequest {
                    namespace: "default".into(),
                    execution: Some(WorkflowExecution {
                        workflow_id: "missing".into(),
                        run_id: String::new(),
                    }),
                },
                "alice",
            ))
            .await
            .expect_err("no such workflow")
    };
    let direct = describe(
        Endpoint::from_shared(format!("http://{}", upstream.addr))
            .expect("uri")
            .connect()
            .await
            .expect("connect"),
    )
    .await;
    let (_, channel) = spawn_proxy(
        proxy(&upstream_settings(upstream.addr)),
        Some(token_layer()),
    )
    .await;
    let proxied = describe(channel).await;
    assert_eq!(proxied.code(), Code::NotFound);
    assert_eq!(proxied.code(), direct.code());
    assert_eq!(proxied.message(), direct.message());
    assert_eq!(proxied.details(), direct.details());
    upstream.stop().await;
}

#[tokio::test]
async fn health_checks_and_watches_are_forwarded() {
    let backend = Backend::new(BackendConfig::default());
    let upstream = temporal_upstream(&backend, None).await;
    let (_, channel) = spawn_proxy(proxy(&upstream_settings(upstream.addr)), None).await;
    let mut health = HealthClient::new(channel);
    let service = "temporal.api.workflowservice.v1.WorkflowService".to_owned();
    let status = health
        .check(HealthCheckRequest {
            service: service.clone(),
        })
        .await
        .expect("check")
        .into_inner();
    assert_eq!(status.status, 1, "SERVING");
    let mut watch = health
        .watch(HealthCheckRequest { service })
        .await
        .expect("watch")
        .into_inner();
    let first = tokio::time::timeout(Duration::from_secs(5), watch.message())
        .await
        .expect("a first update")
        .expect("no error")
        .expect("a message");
    assert_eq!(first.status, 1);
    assert_eq!(upstream.recorder.calls_to("/Watch"), 1);
    // A graceful stop waits for open streams: end the watch first.
    drop(watch);
    upstream.stop().await;
}

#[tokio::test]
async fn services_outside_the_forwarded_set_never_reach_the_upstream() {
    let upstream = probe_upstream(Probe::default()).await;
    // The proxy's own routes: Temporal's services and health, not the probe's service.
    let (addr, _) = spawn_proxy(proxy(&upstream_settings(upstream.addr)), None).await;
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let refused = TenantServiceClient::new(channel)
        .get_server_info(GetServerInfoRequest { verbose: false })
        .await
        .expect_err("not forwarded");
    assert_eq!(refused.code(), Code::Unimplemented);
    assert!(upstream.recorder.seen().is_empty());
    upstream.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Every streaming kind, trailers, compression, deadlines and cancels (the probe).

#[tokio::test]
async fn every_streaming_kind_is_relayed() {
    let upstream = probe_upstream(Probe::default()).await;
    let (_, mut client) = probe_proxy(&upstream).await;

    let unary = client
        .create_order(CreateOrderRequest {
            order_id: "o-1".into(),
            ..Default::default()
        })
        .await
        .expect("unary");
    assert_eq!(
        unary.metadata().get("x-upstream-header").expect("relayed"),
        "kept"
    );
    assert_eq!(unary.into_inner().order_id, "o-1");

    let mut watch = client
        .watch_orders(WatchOrdersRequest {
            order_id: "o-2".into(),
            namespace: "default".into(),
        })
        .await
        .expect("server streaming")
        .into_inner();
    let event = watch.message().await.expect("ok").expect("one event");
    assert_eq!(event.order_id, "o-2");
    drop(watch);

    let uploads = (0..5).map(|i| UploadOrdersRequest {
        namespace: format!("ns-{i}"),
        order: None,
    });
    let accepted = client
        .upload_orders(tokio_stream::iter(uploads.clone()))
        .await
        .expect("client streaming")
        .into_inner()
        .accepted;
    assert_eq!(accepted, 5);

    let synced: Vec<String> = client
        .sync_orders(tokio_stream::iter(uploads))
        .await
        .expect("bidi")
        .into_inner()
        .map(|e| e.expect("event").order_id)
        .collect()
        .await;
    assert_eq!(synced, ["ns-0", "ns-1", "ns-2", "ns-3", "ns-4"]);
    for method in [
        "/CreateOrder",
        "/WatchOrders",
        "/UploadOrders",
        "/SyncOrders",
    ] {
        assert_eq!(upstream.recorder.calls_to(method), 1, "{method}");
    }
    upstream.stop().await;
}

#[tokio::test]
async fn status_details_and_trailers_are_relayed() {
    let upstream = probe_upstream(Probe::default()).await;
    let (_, mut client) = probe_proxy(&upstream).await;
    let status = client
        .create_order(CreateOrderRequest {
            order_id: "already-started".into(),
            ..Default::default()
        })
        .await
        .expect_err("the upstream refuses");
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(
        status.message(),
        "Workflow execution is already running. WorkflowId: w, RunId: r."
    );
    assert_eq!(status.details(), b"\x08\x06\x12\x03abc");
    assert_eq!(
        status
            .metadata()
            .get("x-upstream-trailer")
            .expect("relayed"),
        "kept"
    );
    upstream.stop().await;
}

#[tokio::test]
async fn compressed_messages_pass_through_byte_for_byte() {
    let upstream = probe_upstream(Probe::default()).await;
    let (proxy_addr, _) = probe_proxy(&upstream).await;
    let message = CreateOrderRequest {
        order_id: "zip".repeat(50),
        ..Default::default()
    }
    .encode_to_vec();
    let compressed = raw::frame_with_flag(1, &raw::gzip(&message));
    let call = |addr: SocketAddr| {
        let body = compressed.clone();
        async move {
            let mut conn = raw::connect(addr).await;
            let request = raw::grpc("/demo.v1.TenantService/CreateOrder")
                .header("grpc-encoding", "gzip")
                .header("grpc-accept-encoding", "gzip")
                .body(raw::body(body))
                .expect("request");
            raw::send(&mut conn, request).await
        }
    };
    let direct = call(upstream.addr).await;
    let proxied = call(proxy_addr).await;
    assert_eq!(proxied.grpc(), Some(Code::Ok), "{proxied:?}");
    // The upstream answered gzip, and the client receives exactly those bytes.
    assert_eq!(proxied.body.first(), Some(&1), "compressed flag");
    assert_eq!(proxied.body, direct.body);
    let seen = upstream.recorder.seen();
    let forwarded = seen.last().expect("forwarded");
    assert_eq!(forwarded.headers["grpc-encoding"], "gzip");
    assert_eq!(forwarded.headers["grpc-accept-encoding"], "gzip");
    upstream.stop().await;
}

#[tokio::test]
async fn the_deadline_is_passed_on_and_ends_the_upstream_call() {
    let probe = Probe::default();
    let signals = probe.signals.clone();
    let upstream = probe_upstream(probe).await;
    let (proxy_addr, _) = probe_proxy(&upstream).await;
    let message = CreateOrderRequest {
        order_id: "slow".into(),
        ..Default::default()
    }
    .encode_to_vec();
    let mut conn = raw::connect(proxy_addr).await;
    let request = raw::grpc("/demo.v1.TenantService/CreateOrder")
        .header("grpc-timeout", "300m")
        .body(raw::body(raw::frame(&message)))
        .expect("request");
    let started = Instant::now();
    let reply = raw::send(&mut conn, request).await;
    assert!(
        matches!(reply.grpc(), Some(Code::DeadlineExceeded | Code::Cancelled)),
        "{reply:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(upstream.recorder.last().headers["grpc-timeout"], "300m");
    within(
        Duration::from_secs(3),
        &signals.unary_dropped,
        "the upstream handler is cancelled",
    )
    .await;
    upstream.stop().await;
}

#[tokio::test]
async fn a_client_cancel_cancels_the_upstream_call() {
    let probe = Probe::default();
    let signals = probe.signals.clone();
    let upstream = probe_upstream(probe).await;
    let (_, mut client) = probe_proxy(&upstream).await;

    // A unary call dropped while the upstream works on it.
    let call = {
        let mut client = client.clone();
        tokio::spawn(async move {
            client
                .create_order(CreateOrderRequest {
                    order_id: "slow".into(),
                    ..Default::default()
                })
                .await
        })
    };
    while upstream.recorder.calls_to("/CreateOrder") == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    call.abort();
    within(
        Duration::from_secs(3),
        &signals.unary_dropped,
        "the upstream unary call is cancelled",
    )
    .await;

    // A server stream dropped after its first message.
    let mut watch = client
        .watch_orders(WatchOrdersRequest {
            order_id: "w".into(),
            namespace: "default".into(),
        })
        .await
        .expect("stream")
        .into_inner();
    watch.message().await.expect("ok").expect("first event");
    drop(watch);
    within(
        Duration::from_secs(3),
        &signals.stream_closed,
        "the upstream stream is closed",
    )
    .await;
    upstream.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Failure and recovery.

#[tokio::test]
async fn an_upstream_that_is_down_gives_unavailable_and_recovery_is_automatic() {
    // A port nobody listens on, kept for the upstream that comes up later.
    let listener = TcpListener::bind(LOOPBACK).await.expect("bind");
    let addr = listener.local_addr().expect("bound");
    drop(listener);
    let (_, channel) = spawn_proxy(proxy(&upstream_settings(addr)), None).await;
    let mut client = workflow_client(channel, true);

    let started = Instant::now();
    let down = client
        .get_system_info(GetSystemInfoRequest {})
        .await
        .expect_err("nothing listens");
    assert_eq!(down.code(), Code::Unavailable, "{down:?}");
    assert!(
        down.message()
            .starts_with(&format!("upstream {addr} unavailable: ")),
        "{}",
        down.message()
    );
    assert!(started.elapsed() < Duration::from_secs(3));

    let backend = Backend::new(BackendConfig::default());
    let listener = TcpListener::bind(addr).await.expect("the same port again");
    let upstream = serve_upstream(listener, services(&backend).await.into_routes(), None).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match client.get_system_info(GetSystemInfoRequest {}).await {
            Ok(_) => break,
            Err(status) if Instant::now() < deadline => {
                assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("the proxy did not recover: {status:?}"),
        }
    }
    assert!(upstream.recorder.calls_to("/GetSystemInfo") >= 1);
    upstream.stop().await;
}

#[tokio::test]
async fn a_silent_upstream_ends_at_the_callers_deadline() {
    // Accepts TCP connections and never speaks HTTP/2.
    let listener = TcpListener::bind(LOOPBACK).await.expect("bind");
    let addr = listener.local_addr().expect("bound");
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let (_, channel) = spawn_proxy(proxy(&upstream_settings(addr)), None).await;
    let mut request = Request::new(GetSystemInfoRequest {});
    request.set_timeout(Duration::from_millis(500));
    let started = Instant::now();
    let status = workflow_client(channel, true)
        .get_system_info(request)
        .await
        .expect_err("no answer");
    assert!(
        matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{status:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    held.abort();
}

// ---------------------------------------------------------------------------------------------
// Credentials towards the upstream.

#[tokio::test]
async fn credentials_are_forwarded_dropped_or_replaced() {
    let backend = Backend::new(BackendConfig::default());
    let upstream = temporal_upstream(&backend, None).await;
    let call = |settings: Upstream| async move {
        let (_, channel) = spawn_proxy(proxy(&settings), None).await;
        workflow_client(channel, true)
            .get_system_info(with_token(GetSystemInfoRequest {}, "caller"))
            .await
            .expect("forwarded");
    };

    call(upstream_settings(upstream.addr)).await;
    assert_eq!(
        upstream.recorder.last().headers["authorization"],
        "Bearer caller"
    );

    let mut dropped = upstream_settings(upstream.addr);
    dropped.credentials = CredentialsSetting::Drop;
    call(dropped).await;
    assert!(
        upstream
            .recorder
            .last()
            .headers
            .get("authorization")
            .is_none()
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("upstream-token");
    std::fs::write(&file, "Bearer proxy-key\n").expect("write");
    let mut fixed = upstream_settings(upstream.addr);
    fixed.credentials = CredentialsSetting::Static;
    fixed.static_credential_file = file.display().to_string();
    call(fixed).await;
    assert_eq!(
        upstream.recorder.last().headers["authorization"],
        "Bearer proxy-key"
    );
    upstream.stop().await;
}

#[test]
fn broken_upstream_settings_are_start_up_errors_naming_the_key_and_file() {
    let load = |yaml: &str| {
        ConfigLoader::new()
            .env(|_| None)
            .source_name("frontend.yaml")
            .load_str(yaml)
    };
    for (yaml, expected) in [
        (
            "upstream:\n  address: ''\n",
            "frontend.yaml: upstream.address: expected HOST:PORT",
        ),
        (
            "upstream:\n  address: temporal\n",
            "frontend.yaml: upstream.address: expected HOST:PORT",
        ),
        (
            "upstream:\n  address: t:7233\n  connections: 0\n",
            "frontend.yaml: upstream.connections: must be at least 1",
        ),
        (
            "upstream:\n  address: t:7233\n  connectTimeout: 0s\n",
            "frontend.yaml: upstream.connectTimeout: must be more than 0",
        ),
        (
            "upstream:\n  address: t:7233\n  credentials: static\n",
            "frontend.yaml: upstream.credentials: `static` needs exactly one",
        ),
        (
            "upstream:\n  address: t:7233\n  staticCredentialEnv: X\n",
            "frontend.yaml: upstream.staticCredentialEnv: only used with",
        ),
    ] {
        let error = load(yaml).expect_err(yaml).to_string();
        assert!(error.starts_with(expected), "{yaml}: {error}");
    }
    let config: Config = load("upstream:\n  address: temporal:7233\n").expect("valid");
    let upstream = config.upstream.expect("the section");
    assert_eq!(upstream.connections, 2);
    assert_eq!(upstream.connect_timeout, Duration::from_secs(5));

    // Errors found when building name the file and key too, and never quote a secret.
    let origin = Origin::File("frontend.yaml".into());
    let mut settings = upstream.clone();
    settings.credentials = CredentialsSetting::Static;
    settings.static_credential_file = "/nonexistent/token".into();
    let error = Proxy::from_config(&settings, &origin).expect_err("unreadable");
    assert!(
        error.to_string().starts_with(
            "frontend.yaml: upstream.staticCredentialFile: cannot read /nonexistent/token"
        ),
        "{error}"
    );
    let mut settings = upstream.clone();
    settings.tls.cert_file = "/some/cert.pem".into();
    let error = Proxy::from_config(&settings, &origin).expect_err("half a certificate");
    assert!(
        error
            .to_string()
            .starts_with("frontend.yaml: upstream.tls.keyFile: "),
        "{error}"
    );
    let mut settings = upstream;
    settings.tls.cert_file = "/some/cert.pem".into();
    settings.tls.key_file = "/some/key.pem".into();
    let error = Proxy::from_config(&settings, &origin).expect_err("no client TLS");
    assert!(
        error
            .to_string()
            .starts_with("frontend.yaml: upstream.tls.certFile: "),
        "{error}"
    );
}

// ---------------------------------------------------------------------------------------------
// TLS and mutual TLS towards the upstream.

/// Certificates made now: a CA, a server certificate for `localhost`/`127.0.0.1`, a client
/// certificate.
fn certificates() -> (tempfile::TempDir, DevDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = DevDir::new(dir.path());
    ensure_certificates(&certs).expect("certificates");
    (dir, certs)
}

fn server_tls(certs: &DevDir, require_client_auth: bool) -> GroupTls {
    let mut group = GroupTls::default();
    group.server.cert_file = certs.server_cert().display().to_string();
    group.server.key_file = certs.server_key().display().to_string();
    if require_client_auth {
        group.server.client_ca_files = vec![certs.ca_cert().display().to_string()];
        group.server.require_client_auth = true;
    }
    group
}

fn tls_settings(addr: SocketAddr, ca: &DevDir, client: Option<&DevDir>) -> Upstream {
    let mut settings = upstream_settings(addr);
    settings.tls.client.root_ca_files = vec![ca.ca_cert().display().to_string()];
    settings.tls.client.server_name = "localhost".into();
    if let Some(client) = client {
        settings.tls.cert_file = client.client_cert().display().to_string();
        settings.tls.key_file = client.client_key().display().to_string();
    }
    settings
}

async fn system_info(settings: &Upstream) -> Result<(), Status> {
    let (_, channel) = spawn_proxy(proxy(settings), None).await;
    workflow_client(channel, true)
        .get_system_info(GetSystemInfoRequest {})
        .await
        .map(|_| ())
}

#[tokio::test]
async fn a_tls_upstream_is_reached_only_with_the_right_ca() {
    let (_keep, certs) = certificates();
    let (_keep_other, other) = certificates();
    let backend = Backend::new(BackendConfig::default());
    let upstream = temporal_upstream(&backend, Some(server_tls(&certs, false))).await;

    system_info(&tls_settings(upstream.addr, &certs, None))
        .await
        .expect("TLS with the upstream's CA");
    assert_eq!(upstream.recorder.calls_to("/GetSystemInfo"), 1);

    let refused = system_info(&tls_settings(upstream.addr, &other, None))
        .await
        .expect_err("another CA");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    let plaintext = system_info(&upstream_settings(upstream.addr))
        .await
        .expect_err("plaintext to a TLS port");
    assert_eq!(plaintext.code(), Code::Unavailable, "{plaintext:?}");
    assert_eq!(upstream.recorder.calls_to("/GetSystemInfo"), 1);
    upstream.stop().await;
}

#[tokio::test]
async fn a_mutual_tls_upstream_needs_the_proxys_certificate() {
    let (_keep, certs) = certificates();
    let backend = Backend::new(BackendConfig::default());
    let upstream = temporal_upstream(&backend, Some(server_tls(&certs, true))).await;

    system_info(&tls_settings(upstream.addr, &certs, Some(&certs)))
        .await
        .expect("mutual TLS with the proxy's certificate");
    assert_eq!(upstream.recorder.calls_to("/GetSystemInfo"), 1);

    let refused = system_info(&tls_settings(upstream.addr, &certs, None))
        .await
        .expect_err("no client certificate");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert_eq!(upstream.recorder.calls_to("/GetSystemInfo"), 1);
    upstream.stop().await;
}

#[tokio::test]
async fn a_replaced_client_certificate_applies_to_the_next_connection() {
    let (_keep, certs) = certificates();
    let (_keep_other, other) = certificates();
    let backend = Backend::new(BackendConfig::default());
    // The upstream's own certificate is from `certs`; it accepts clients of `other`'s CA only.
    let mut group = server_tls(&certs, true);
    group.server.client_ca_files = vec![other.ca_cert().display().to_string()];
    let upstream = temporal_upstream(&backend, Some(group)).await;

    // The proxy starts with a client certificate the upstream does not accept.
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("client.pem"), dir.path().join("client.key"));
    std::fs::copy(certs.client_cert(), &cert).expect("copy");
    std::fs::copy(certs.client_key(), &key).expect("copy");
    let mut settings = tls_settings(upstream.addr, &certs, None);
    settings.tls.cert_file = cert.display().to_string();
    settings.tls.key_file = key.display().to_string();
    let (_, channel) = spawn_proxy(proxy(&settings), None).await;
    let mut client = workflow_client(channel, true);
    let refused = client
        .get_system_info(GetSystemInfoRequest {})
        .await
        .expect_err("the upstream refuses the certificate");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert_eq!(upstream.recorder.calls_to("/GetSystemInfo"), 0);

    // Rotated on disk: the next connection presents the new certificate.
    std::fs::copy(other.client_cert(), &cert).expect("copy");
    std::fs::copy(other.client_key(), &key).expect("copy");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match client.get_system_info(GetSystemInfoRequest {}).await {
            Ok(_) => break,
            Err(status) if Instant::now() < deadline => {
                assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("the new certificate was not used: {status:?}"),
        }
    }
    assert_eq!(upstream.recorder.calls_to("/GetSystemInfo"), 1);
    upstream.stop().await;
}
