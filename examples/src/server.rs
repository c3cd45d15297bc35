//! Builds and runs the Frontend: the tonic services over a [`Backend`] (WorkflowService,
//! OperatorService and gRPC health), with gzip accepted everywhere because real Temporal
//! clients always compress, and a server that runs on any listener until a shutdown signal.
//! The `frontend` binary and the end-to-end tests both start the server through here, so what
//! the tests check is what the binary runs.

use std::{future::Future, io, net::SocketAddr, sync::Arc};

use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpListener,
    sync::oneshot,
    task::JoinHandle,
};
use tokio_stream::Stream;
use tonic::{
    codec::CompressionEncoding,
    service::Routes,
    transport::{
        Channel, Endpoint, Server,
        server::{Connected, TcpIncoming},
    },
};
use tonic_health::{
    ServingStatus,
    pb::health_server::HealthServer,
    server::{HealthReporter, HealthService},
};

use tonic_authz::{AuthzLayer, config::FrontendTls};

use crate::connections::ConnectionLimits;
use crate::{
    backend::Backend,
    proxy::Proxy,
    temporal::{
        OPERATOR_SERVICE_NAME, WORKFLOW_SERVICE_NAME,
        operatorservice::{
            operator_service_client::OperatorServiceClient,
            operator_service_server::OperatorServiceServer,
        },
        workflowservice::{
            workflow_service_client::WorkflowServiceClient,
            workflow_service_server::WorkflowServiceServer,
        },
    },
};

/// The tonic services of the Frontend, ready to add to a `Server`.
#[derive(Debug)]
#[non_exhaustive]
pub struct Services {
    /// `temporal.api.workflowservice.v1.WorkflowService`.
    pub workflow: WorkflowServiceServer<Backend>,
    /// `temporal.api.operatorservice.v1.OperatorService`.
    pub operator: OperatorServiceServer<Backend>,
    /// `grpc.health.v1.Health`, reporting both Temporal services as SERVING.
    pub health: HealthServer<HealthService>,
    /// Changes what `health` reports.
    pub health_reporter: HealthReporter,
}

impl Services {
    /// All services as one set of routes.
    pub fn into_routes(self) -> Routes {
        Routes::new(self.workflow)
            .add_service(self.operator)
            .add_service(self.health)
    }
}

/// Builds the Frontend's services over `backend`. Every service accepts and sends gzip.
pub async fn services(backend: &Backend) -> Services {
    let health_reporter = HealthReporter::new();
    for service in [WORKFLOW_SERVICE_NAME, OPERATOR_SERVICE_NAME] {
        health_reporter
            .set_service_status(service, ServingStatus::Serving)
            .await;
    }
    let health = HealthServer::new(HealthService::from_health_reporter(health_reporter.clone()))
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip);
    Services {
        workflow: WorkflowServiceServer::new(backend.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip),
        operator: OperatorServiceServer::new(backend.clone())
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip),
        health,
        health_reporter,
    }
}

/// A Frontend: a backend, how calls are authorized, and optionally TLS.
#[derive(Clone, Debug)]
pub struct Frontend {
    backend: Backend,
    authz: Option<AuthzLayer>,
    tls: Option<Arc<FrontendTls>>,
    upstream: Option<Proxy>,
    limits: ConnectionLimits,
}

impl Frontend {
    /// A Frontend over `backend`, without authorization (see [`with_authz`](Frontend::with_authz)).
    pub fn new(backend: Backend) -> Frontend {
        Frontend {
            backend,
            authz: None,
            tls: None,
            upstream: None,
            limits: ConnectionLimits::default(),
        }
    }

    /// Calls in flight per connection, keepalive pings and the maximum connection age.
    /// Default: [`ConnectionLimits::default`] (Temporal's values).
    #[must_use]
    pub fn with_connection_limits(mut self, limits: ConnectionLimits) -> Frontend {
        self.limits = limits;
        self
    }

    /// Serves over TLS (mutual TLS when the configuration requires client certificates), as
    /// built by [`Config::frontend_tls`](tonic_authz::config::Config::frontend_tls); its
    /// certificate reload runs as long as the Frontend. Default: plaintext.
    #[must_use]
    pub fn with_tls(mut self, tls: FrontendTls) -> Frontend {
        self.tls = Some(Arc::new(tls));
        self
    }

    /// Puts every call through `layer` before it reaches a service. Default: no layer, every
    /// call is served.
    #[must_use]
    pub fn with_authz(mut self, layer: AuthzLayer) -> Frontend {
        self.authz = Some(layer);
        self
    }

    /// Forwards every allowed call to a real Temporal frontend through `proxy` instead of
    /// serving the backend. Default: the backend serves.
    #[must_use]
    pub fn with_upstream(mut self, proxy: Proxy) -> Frontend {
        self.upstream = Some(proxy);
        self
    }

    /// The proxy calls are forwarded through, when there is one.
    pub fn upstream(&self) -> Option<&Proxy> {
        self.upstream.as_ref()
    }

    /// The services this Frontend serves: the upstream's forwarded ones, or the backend's.
    async fn routes(&self) -> Routes {
        match &self.upstream {
            Some(proxy) => proxy.routes(),
            None => services(&self.backend).await.into_routes(),
        }
    }

    /// The backend behind this Frontend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The authorization layer as this Frontend applies it: in front of an upstream it
    /// replays compressed messages as received, so they are forwarded compressed.
    fn layer(&self) -> Option<AuthzLayer> {
        self.authz
            .clone()
            .map(|l| l.keep_compressed(self.upstream.is_some()))
    }

    /// Serves on `listener` until `shutdown` completes, then finishes in-flight calls.
    ///
    /// # Errors
    ///
    /// Fails if the server cannot run on the listener.
    pub async fn serve<F>(
        self,
        listener: TcpListener,
        shutdown: F,
    ) -> Result<(), tonic::transport::Error>
    where
        F: Future<Output = ()>,
    {
        let routes = self.routes().await;
        let authz = self.layer();
        match self.tls {
            Some(tls) => {
                let incoming = tls.acceptor().incoming(listener);
                // `tls` (and its certificate reloader) lives until the server stops.
                let served = run(authz, &self.limits, routes, incoming, shutdown).await;
                drop(tls);
                served
            }
            None => {
                let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
                run(authz, &self.limits, routes, incoming, shutdown).await
            }
        }
    }

    /// Serves the connections `incoming` yields (e.g. `tonic_authz::tls::TlsAcceptor::incoming`
    /// for TLS built in code) until `shutdown` completes, then finishes in-flight calls. TLS
    /// set with [`with_tls`](Frontend::with_tls) is not used here: `incoming` decides.
    ///
    /// # Errors
    ///
    /// Fails if the server cannot run on the connections.
    pub async fn serve_with_incoming<I, IO, IE, F>(
        self,
        incoming: I,
        shutdown: F,
    ) -> Result<(), tonic::transport::Error>
    where
        I: Stream<Item = Result<IO, IE>>,
        IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
        IO::ConnectInfo: Clone + Send + Sync + 'static,
        IE: Into<tonic_authz::BoxError>,
        F: Future<Output = ()>,
    {
        let routes = self.routes().await;
        run(self.layer(), &self.limits, routes, incoming, shutdown).await
    }

    /// Binds `addr`, then serves in a background task until the returned handle shuts it down.
    ///
    /// # Errors
    ///
    /// Fails if `addr` cannot be bound.
    pub async fn spawn(self, addr: SocketAddr) -> io::Result<RunningFrontend> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let backend = self.backend.clone();
        let task = tokio::spawn(self.serve(listener, async {
            // A dropped sender also stops the server.
            let _ = stopped.await;
        }));
        Ok(RunningFrontend {
            addr,
            backend,
            stop: Some(stop),
            task,
        })
    }
}

/// Serves `routes` on `incoming`, behind `authz` when given, with `limits` on each connection.
async fn run<I, IO, IE, F>(
    authz: Option<AuthzLayer>,
    limits: &ConnectionLimits,
    routes: Routes,
    incoming: I,
    shutdown: F,
) -> Result<(), tonic::transport::Error>
where
    I: Stream<Item = Result<IO, IE>>,
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
    IO::ConnectInfo: Clone + Send + Sync + 'static,
    IE: Into<tonic_authz::BoxError>,
    F: Future<Output = ()>,
{
    match authz {
        Some(layer) => {
            limits
                .apply(Server::builder())
                .layer(layer)
                .add_routes(routes)
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await
        }
        None => {
            limits
                .apply(Server::builder())
                .add_routes(routes)
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await
        }
    }
}

/// A Frontend serving in a background task (see [`Frontend::spawn`]). Dropping it stops the
/// server.
#[derive(Debug)]
pub struct RunningFrontend {
    addr: SocketAddr,
    backend: Backend,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
}

impl RunningFrontend {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The backend behind the server.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// `http://<addr>`, for `Channel::from_shared`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connects a plaintext channel to the server.
    ///
    /// # Errors
    ///
    /// Fails if the connection cannot be made.
    pub async fn channel(&self) -> Result<Channel, tonic::transport::Error> {
        Endpoint::from_shared(self.url())?.connect().await
    }

    /// Stops accepting connections, waits for in-flight calls, and reports how the server ended.
    ///
    /// # Errors
    ///
    /// The server's own error if it failed, or the task's if it panicked.
    pub async fn shutdown(mut self) -> Result<(), tonic_authz::BoxError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await??;
        Ok(())
    }
}

/// A `WorkflowService` client on `channel` that accepts gzip responses and, when `gzip` is
/// true, gzips its requests as Temporal SDKs do.
pub fn workflow_client(channel: Channel, gzip: bool) -> WorkflowServiceClient<Channel> {
    let client = WorkflowServiceClient::new(channel).accept_compressed(CompressionEncoding::Gzip);
    if gzip {
        client.send_compressed(CompressionEncoding::Gzip)
    } else {
        client
    }
}

/// An `OperatorService` client on `channel`; gzip as in [`workflow_client`].
pub fn operator_client(channel: Channel, gzip: bool) -> OperatorServiceClient<Channel> {
    let client = OperatorServiceClient::new(channel).accept_compressed(CompressionEncoding::Gzip);
    if gzip {
        client.send_compressed(CompressionEncoding::Gzip)
    } else {
        client
    }
}
