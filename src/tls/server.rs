//! Server side: rustls `ServerConfig`s from a [`GroupTls`] and [`TlsAcceptor`], the
//! reloadable acceptor that feeds tonic's `serve_with_incoming`.
//!
//! The acceptor keeps the current configs in an `ArcSwap`: each handshake takes a snapshot, so a
//! reload affects new connections only and never touches open ones. Host overrides need their
//! own client-certificate verifier, which rustls fixes per `ServerConfig`, so there is one
//! `ServerConfig` per override and the ClientHello's SNI picks one before the handshake goes on
//! (`LazyConfigAcceptor`).
//!
//! # Example
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use tonic_authz::tls::{GlobalTls, TlsAcceptor};
//!
//! let tls: GlobalTls = serde_json::from_str(r#"{"frontend": {"server": {
//!     "certFile": "server.pem", "keyFile": "server.key",
//!     "clientCaFiles": ["clients-ca.pem"], "requireClientAuth": true }},
//!     "refreshInterval": "5m"}"#)?;
//! tls.validate()?;
//! let acceptor = TlsAcceptor::new(&tls.frontend)?;
//! let _reload = acceptor.spawn_reloader(tls.refresh_interval);
//! let _expiry = acceptor.spawn_expiration_checks(tls.expiration_checks);
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:7233").await?;
//! let (_, health) = tonic_health::server::health_reporter();
//! // With tonic's `router` feature: `.add_service(..).serve_with_incoming(incoming)`.
//! tonic::transport::Server::builder()
//!     .serve_with_incoming(health, acceptor.incoming(listener))
//!     .await?;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use rustls::server::{Acceptor, WebPkiClientVerifier};
use rustls::{RootCertStore, ServerConfig};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_rustls::LazyConfigAcceptor;

use super::anchors::ClientAnchors;
use super::config::{ExpirationChecks, GroupTls, ServerTls};
use super::error::{TlsError, TlsErrorKind};
use super::expiry::{ExpirationReport, TrackedCert, check_certificates};
use super::load::ServerMaterial;
use super::pending::PendingByPeer;
use super::provider;
use super::stream::TlsServerStream;

/// The default time a client has to complete the TLS handshake: a real client needs a few
/// round trips, so this bounds how long an idle connection holds a handshake slot.
const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// The default number of handshakes in flight before `accept` waits.
const DEFAULT_MAX_PENDING_HANDSHAKES: usize = 1024;
/// The default number of handshakes in flight from one IP address; past it, that address's
/// oldest pending handshake is dropped to make room.
const DEFAULT_MAX_PENDING_HANDSHAKES_PER_PEER: usize = 64;

impl ServerTls {
    /// Loads this section's files or data and builds a rustls `ServerConfig`: TLS 1.2 and
    /// 1.3, ALPN `h2`, and with `requireClientAuth` a verifier that accepts only client
    /// certificates chaining to the client CAs (without it no client certificate is
    /// requested).
    ///
    /// # Errors
    /// A file that cannot be read or parsed, a key that does not match the certificate, or a
    /// CA rustls refuses; the error names the field and the file.
    pub fn server_config(&self) -> Result<ServerConfig, TlsError> {
        build_server_config(self, &ServerMaterial::load(self)?)
    }
}

fn build_server_config(
    server: &ServerTls,
    material: &ServerMaterial,
) -> Result<ServerConfig, TlsError> {
    let provider = provider()?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::new(TlsErrorKind::Build, "", e.to_string()).with_source(e))?;
    let builder = if material.require_client_auth {
        let field = if server.client_ca_files.is_empty() {
            "clientCaData"
        } else {
            "clientCaFiles"
        };
        let mut roots = RootCertStore::empty();
        for cert in material.client_cas.iter().flatten() {
            roots.add(cert.clone()).map_err(|e| {
                TlsError::new(TlsErrorKind::Build, field, format!("unusable CA: {e}"))
                    .with_source(e)
            })?;
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| {
                TlsError::new(
                    TlsErrorKind::Build,
                    field,
                    format!("unusable client CAs: {e}"),
                )
                .with_source(e)
            })?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let (key_field, key_path) = if server.key_file.is_empty() {
        ("keyData", None)
    } else {
        ("keyFile", Some(server.key_file.as_str()))
    };
    let mut config = builder
        .with_single_cert(material.chain.clone(), material.key.clone_key())
        .map_err(|e| {
            let err = TlsError::new(
                TlsErrorKind::Build,
                key_field,
                format!("unusable certificate and key: {e}"),
            )
            .with_source(e);
            match key_path {
                Some(p) => err.with_path(p),
                None => err,
            }
        })?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// One rustls config and the client CAs its verifier trusts, to tell which of them a verified
/// client chain ends at.
#[derive(Clone)]
struct Served {
    config: Arc<ServerConfig>,
    anchors: Arc<ClientAnchors>,
}

impl Served {
    fn build(server: &ServerTls, material: &ServerMaterial) -> Result<Served, TlsError> {
        let config = Arc::new(build_server_config(server, material)?);
        let anchors = if material.require_client_auth {
            ClientAnchors::new(&material.client_cas, provider()?)
        } else {
            ClientAnchors::none()
        };
        Ok(Served {
            config,
            anchors: Arc::new(anchors),
        })
    }
}

/// The configs in force: one per listener default and per host override.
struct Snapshot {
    default: Served,
    overrides: HashMap<String, Served>,
    tracked: Vec<TrackedCert>,
    digest: [u8; 32],
}

impl Snapshot {
    fn load(group: &GroupTls) -> Result<Snapshot, TlsError> {
        let mut hasher = Sha256::new();
        let mut tracked = Vec::new();
        let material = ServerMaterial::load(&group.server).map_err(|e| e.prefixed("server"))?;
        material.digest_into(&mut hasher);
        track(&material, "server", &mut tracked);
        let default = Served::build(&group.server, &material).map_err(|e| e.prefixed("server"))?;
        let mut hosts: Vec<_> = group.host_overrides.iter().collect();
        hosts.sort_by(|a, b| a.0.cmp(b.0));
        let mut overrides = HashMap::with_capacity(hosts.len());
        for (host, server) in hosts {
            // An override without a key has no certificate: the default applies (as Temporal).
            if !server.is_enabled() {
                continue;
            }
            let prefix = format!("hostOverrides.{host}");
            let material = ServerMaterial::load(server).map_err(|e| e.prefixed(&prefix))?;
            hasher.update(host.as_bytes());
            material.digest_into(&mut hasher);
            track(&material, &prefix, &mut tracked);
            let served = Served::build(server, &material).map_err(|e| e.prefixed(&prefix))?;
            overrides.insert(host.to_ascii_lowercase(), served);
        }
        Ok(Snapshot {
            default,
            overrides,
            tracked,
            digest: hasher.finalize().into(),
        })
    }

    fn select(&self, sni: Option<&str>) -> &Served {
        if self.overrides.is_empty() {
            return &self.default;
        }
        let host = sni.map(str::to_ascii_lowercase);
        match host.as_deref().and_then(|h| self.overrides.get(h)) {
            Some(served) => served,
            None => {
                // Debug, not warn: any client can send any SNI, so this must not flood logs.
                tracing::debug!(sni = ?host, "no TLS host override for SNI, using the default");
                &self.default
            }
        }
    }
}

/// Leaf and first certificate of each CA entry, as Temporal checks them.
fn track(material: &ServerMaterial, source: &str, out: &mut Vec<TrackedCert>) {
    if let Some(leaf) = material.chain.first() {
        out.push(TrackedCert::new(leaf.clone(), format!("{source}.cert")));
    }
    for entry in &material.client_cas {
        if let Some(first) = entry.first() {
            out.push(TrackedCert::new(
                first.clone(),
                format!("{source}.clientCa"),
            ));
        }
    }
}

struct Inner {
    /// What a reload re-reads; `None` for a config handed over ready-made.
    group: Option<GroupTls>,
    state: ArcSwap<Snapshot>,
}

/// A TLS acceptor for one [`GroupTls`] (typically `frontend`) whose certificates and CAs can be
/// reloaded without a restart; it feeds `tonic::transport::Server::serve_with_incoming`.
///
/// Cloning is cheap and clones share the material: a reload through any clone affects all.
/// Each accepted connection is handshaken in its own task under a timeout, so a client that
/// stalls the handshake never delays others. Each yielded [`TlsServerStream`] carries the
/// client certificate's identity, parsed once right after the handshake: requests find it, with
/// tonic's own TLS connect info, in [`PeerConnectInfo`](super::PeerConnectInfo).
#[derive(Clone)]
pub struct TlsAcceptor {
    inner: Arc<Inner>,
    handshake_timeout: Duration,
    max_pending_handshakes: usize,
    max_pending_handshakes_per_peer: usize,
}

impl fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.load();
        f.debug_struct("TlsAcceptor")
            .field(
                "host_overrides",
                &state.overrides.keys().collect::<Vec<_>>(),
            )
            .field("handshake_timeout", &self.handshake_timeout)
            .field("max_pending_handshakes", &self.max_pending_handshakes)
            .field(
                "max_pending_handshakes_per_peer",
                &self.max_pending_handshakes_per_peer,
            )
            .finish_non_exhaustive()
    }
}

impl TlsAcceptor {
    /// Validates `group` and loads its server certificate, client CAs and host overrides.
    ///
    /// # Errors
    /// A validation error, server TLS being off (no `keyFile`/`keyData`), or a
    /// loading error naming the field and the file.
    pub fn new(group: &GroupTls) -> Result<TlsAcceptor, TlsError> {
        group.validate()?;
        if !group.server.is_enabled() {
            return Err(TlsError::invalid(
                "server",
                "server TLS is off: set keyFile or keyData",
            ));
        }
        let snapshot = Snapshot::load(group)?;
        Ok(TlsAcceptor {
            inner: Arc::new(Inner {
                group: Some(group.clone()),
                state: ArcSwap::from_pointee(snapshot),
            }),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_pending_handshakes: DEFAULT_MAX_PENDING_HANDSHAKES,
            max_pending_handshakes_per_peer: DEFAULT_MAX_PENDING_HANDSHAKES_PER_PEER,
        })
    }

    /// An acceptor serving the PEM certificate chain in `cert_file` with the private key in
    /// `key_file`. With `client_ca_files`, client certificates are required and must chain
    /// to one of those CAs (mutual TLS); with none, no client certificate is asked for.
    /// The files are re-read by [`reload_now`](Self::reload_now) and
    /// [`spawn_reloader`](Self::spawn_reloader), as with a [`GroupTls`].
    ///
    /// # Errors
    /// A path that is not UTF-8, or a file that cannot be read or parsed.
    pub fn from_pem_files<P: AsRef<Path>>(
        cert_file: impl AsRef<Path>,
        key_file: impl AsRef<Path>,
        client_ca_files: impl IntoIterator<Item = P>,
    ) -> Result<TlsAcceptor, TlsError> {
        fn utf8(path: &Path, field: &str) -> Result<String, TlsError> {
            path.to_str().map(str::to_owned).ok_or_else(|| {
                TlsError::invalid(field, format!("path is not UTF-8: {}", path.display()))
            })
        }
        let client_ca_files = client_ca_files
            .into_iter()
            .map(|p| utf8(p.as_ref(), "clientCaFiles"))
            .collect::<Result<Vec<_>, _>>()?;
        let group = GroupTls {
            server: ServerTls {
                cert_file: utf8(cert_file.as_ref(), "certFile")?,
                key_file: utf8(key_file.as_ref(), "keyFile")?,
                require_client_auth: !client_ca_files.is_empty(),
                client_ca_files,
                ..ServerTls::default()
            },
            ..GroupTls::default()
        };
        TlsAcceptor::new(&group)
    }

    /// An acceptor serving a rustls `ServerConfig` built elsewhere, as is. ALPN `h2` is set
    /// when the config names no protocol (gRPC needs HTTP/2). Such an acceptor has nothing to
    /// reload ([`reload_now`](Self::reload_now) answers `Ok(false)`) and no certificate to
    /// check for expiry.
    #[must_use]
    pub fn from_server_config(config: Arc<ServerConfig>) -> TlsAcceptor {
        let config = if config.alpn_protocols.is_empty() {
            let mut config = (*config).clone();
            config.alpn_protocols = vec![b"h2".to_vec()];
            Arc::new(config)
        } else {
            config
        };
        TlsAcceptor {
            inner: Arc::new(Inner {
                group: None,
                state: ArcSwap::from_pointee(Snapshot {
                    // A ready-made config: which CAs its verifier trusts is not known here,
                    // so connections carry no issuing CA (CA-bound rules do not match).
                    default: Served {
                        config,
                        anchors: Arc::new(ClientAnchors::none()),
                    },
                    overrides: HashMap::new(),
                    tracked: Vec::new(),
                    digest: [0; 32],
                }),
            }),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_pending_handshakes: DEFAULT_MAX_PENDING_HANDSHAKES,
            max_pending_handshakes_per_peer: DEFAULT_MAX_PENDING_HANDSHAKES_PER_PEER,
        }
    }

    /// How long a client has to complete the handshake before the connection is dropped.
    /// Default: 5 seconds.
    #[must_use]
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> TlsAcceptor {
        self.handshake_timeout = timeout;
        self
    }

    /// How many handshakes may be in flight at once before accepting new connections waits.
    /// Default: 1024.
    #[must_use]
    pub fn with_max_pending_handshakes(mut self, max: usize) -> TlsAcceptor {
        self.max_pending_handshakes = max.max(1);
        self
    }

    /// How many handshakes one IP address may have in flight at once; past it, the address's
    /// oldest pending handshake is dropped to make room, so idle connections from one address
    /// cannot hold every slot, yet a new client from that address still gets its turn. Behind
    /// a proxy that hides client addresses, every client shares the proxy's allowance.
    /// Default: 64.
    #[must_use]
    pub fn with_max_pending_handshakes_per_peer(mut self, max: usize) -> TlsAcceptor {
        self.max_pending_handshakes_per_peer = max.max(1);
        self
    }

    /// The config used for connections that match no host override.
    #[must_use]
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.inner.state.load().default.config.clone()
    }

    /// The config a ClientHello with this SNI gets (case-insensitive, exact match).
    #[must_use]
    pub fn server_config_for(&self, sni: Option<&str>) -> Arc<ServerConfig> {
        self.inner.state.load().select(sni).config.clone()
    }

    /// Re-reads every file and data item now. When anything changed, new connections get the
    /// new material (`loaded new TLS certificates` is logged) and `Ok(true)` is returned; open
    /// connections are unaffected.
    ///
    /// # Errors
    /// The loading error; the old material stays in force and the failure is logged at warn
    /// level (`failed to load certificates`).
    pub fn reload_now(&self) -> Result<bool, TlsError> {
        let Some(group) = &self.inner.group else {
            return Ok(false);
        };
        match Snapshot::load(group) {
            Ok(snapshot) => {
                if snapshot.digest == self.inner.state.load().digest {
                    return Ok(false);
                }
                self.inner.state.store(Arc::new(snapshot));
                tracing::info!("loaded new TLS certificates");
                Ok(true)
            }
            Err(error) => {
                tracing::warn!(%error, "failed to load certificates");
                Err(error)
            }
        }
    }

    /// Reloads every `interval` in a background task until the returned handle is dropped.
    /// A zero interval (Temporal's default `refreshInterval: 0s`) starts nothing.
    ///
    /// Must be called inside a tokio runtime when `interval` is non-zero.
    #[must_use = "the reloader stops when the handle is dropped"]
    pub fn spawn_reloader(&self, interval: Duration) -> BackgroundTask {
        if interval.is_zero() {
            return BackgroundTask { handle: None };
        }
        let this = self.clone();
        // The first reload is one interval after this call, not after the task first runs.
        let first = tokio::time::Instant::now() + interval;
        BackgroundTask::spawn(async move {
            let mut ticker = tokio::time::interval_at(first, interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                // The error is already logged; the old material stays.
                let _ = this.reload_now();
            }
        })
    }

    /// Checks the server, override and client-CA certificates against `checks` now, logs
    /// the flagged ones and sets the `certificates_expiring` / `certificates_expired` gauges.
    #[must_use]
    pub fn check_expiration(&self, checks: &ExpirationChecks) -> ExpirationReport {
        check_certificates(&self.inner.state.load().tracked, checks, SystemTime::now())
    }

    /// Runs [`check_expiration`](Self::check_expiration) now and then every
    /// `checks.check_interval` until the handle is dropped. A zero interval starts nothing.
    #[must_use = "the checks stop when the handle is dropped"]
    pub fn spawn_expiration_checks(&self, checks: ExpirationChecks) -> BackgroundTask {
        if checks.check_interval.is_zero() {
            return BackgroundTask { handle: None };
        }
        let this = self.clone();
        BackgroundTask::spawn(async move {
            let mut ticker = tokio::time::interval(checks.check_interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let _ = this.check_expiration(&checks);
            }
        })
    }

    /// Completes the TLS handshake on one accepted connection, choosing the config by SNI,
    /// under the handshake timeout, and parses the client certificate's identity.
    ///
    /// # Errors
    /// The handshake failed (e.g. the client certificate was refused) or timed out.
    pub async fn accept(&self, tcp: TcpStream) -> io::Result<TlsServerStream> {
        // gRPC writes small HTTP/2 frames; Nagle's algorithm would hold them back by up to a
        // delayed-ACK period (tonic sets the same on its own plaintext listener).
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        let inner = self.inner.clone();
        let handshake = async move {
            let start = LazyConfigAcceptor::new(Acceptor::default(), tcp).await?;
            let served = inner
                .state
                .load()
                .select(start.client_hello().server_name())
                .clone();
            let stream = start.into_stream(served.config).await?;
            Ok::<_, io::Error>((stream, served.anchors))
        };
        let (stream, anchors) = tokio::time::timeout(self.handshake_timeout, handshake)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "tls handshake timed out"))??;
        Ok(TlsServerStream::new(stream, &anchors))
    }

    /// Accepts connections on `listener` and yields each one whose handshake succeeded, for
    /// `Server::serve_with_incoming`. Failed handshakes are logged at debug level and skipped.
    /// Accepting stops when the stream is dropped.
    ///
    /// Must be called inside a tokio runtime.
    #[must_use]
    pub fn incoming(&self, listener: TcpListener) -> TlsIncoming {
        let (tx, rx) = mpsc::channel(64);
        let this = self.clone();
        let task = tokio::spawn(async move {
            let permits = Arc::new(Semaphore::new(this.max_pending_handshakes));
            let per_peer = PendingByPeer::new(this.max_pending_handshakes_per_peer);
            loop {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let (tcp, peer) = tokio::select! {
                    () = tx.closed() => return,
                    accepted = listener.accept() => match accepted {
                        Ok(pair) => pair,
                        Err(error) => {
                            // E.g. too many open files: back off instead of spinning.
                            tracing::warn!(%error, "failed to accept a connection");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                };
                let (slot, cancelled) = per_peer.enter(peer.ip());
                let this = this.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let result = tokio::select! {
                        result = this.accept(tcp) => result,
                        _ = cancelled => Err(io::Error::other(
                            "too many pending TLS handshakes from this address",
                        )),
                    };
                    drop(slot);
                    drop(permit);
                    match result {
                        Ok(stream) => {
                            let _ = tx.send(Ok(stream)).await;
                        }
                        Err(error) => {
                            tracing::debug!(%peer, %error, "tls handshake failed");
                        }
                    }
                });
            }
        });
        TlsIncoming {
            rx,
            _task: BackgroundTask { handle: Some(task) },
        }
    }
}

/// The stream of TLS connections from [`TlsAcceptor::incoming`].
#[derive(Debug)]
pub struct TlsIncoming {
    rx: mpsc::Receiver<io::Result<TlsServerStream>>,
    _task: BackgroundTask,
}

impl futures_util::Stream for TlsIncoming {
    type Item = io::Result<TlsServerStream>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

/// A background task (reloader, expiration checks, accept loop) that stops when dropped.
#[derive(Debug)]
#[must_use = "the task stops when the handle is dropped"]
pub struct BackgroundTask {
    handle: Option<JoinHandle<()>>,
}

impl BackgroundTask {
    fn spawn(future: impl std::future::Future<Output = ()> + Send + 'static) -> BackgroundTask {
        BackgroundTask {
            handle: Some(tokio::spawn(future)),
        }
    }

    /// Whether a task was started (false for a zero interval).
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.handle.as_ref().is_some_and(|h| !h.is_finished())
    }
}

impl Drop for BackgroundTask {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.abort();
        }
    }
}
