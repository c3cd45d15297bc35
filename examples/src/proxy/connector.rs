//! How the pool dials the upstream: TCP, then TLS when configured. The TLS client config is
//! built again from the settings on every new connection, so certificate files replaced on
//! disk (a rotated client certificate, a new CA bundle) apply to the next connection without a
//! restart, as the server side applies them to new connections. If the files are unreadable at
//! that moment, the last config that loaded is used and the failure is logged.
//!
//! The connector is handed to tonic (`Endpoint::connect_with_connector_lazy`), which wraps it
//! in the connect timeout and speaks HTTP/2 over what it returns.

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use http::Uri;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
};
use tokio_rustls::TlsConnector;
use tonic_authz::tls::{GroupTls, TlsError};

use tower::Service;

/// A byte stream to the upstream: plain TCP or TLS over it.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// TLS towards the upstream: the settings, the name to verify, and the last config that
/// loaded.
pub(crate) struct UpstreamTls {
    group: GroupTls,
    server_name: ServerName<'static>,
    last_good: Mutex<Arc<ClientConfig>>,
}

impl std::fmt::Debug for UpstreamTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl UpstreamTls {
    /// TLS from `group` (its `client` section and the certificate in its `server` slot), or
    /// `None` when the group's client TLS is off. `host` is verified when `serverName` is
    /// empty.
    ///
    /// # Errors
    ///
    /// The settings or files are invalid now, or the name is not a DNS name or IP address.
    pub(crate) fn new(group: GroupTls, host: &str) -> Result<Option<UpstreamTls>, TlsError> {
        let Some(config) = group.client_config()? else {
            return Ok(None);
        };
        let name = if group.client.server_name.is_empty() {
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned()
        } else {
            group.client.server_name.clone()
        };
        let mut client = group.client.clone();
        client.server_name = name;
        let server_name = client.rustls_server_name()?;
        Ok(Some(UpstreamTls {
            group,
            server_name,
            last_good: Mutex::new(Arc::new(config)),
        }))
    }

    /// The config for a new connection: freshly loaded, or the last one that loaded.
    fn current(&self) -> Arc<ClientConfig> {
        let mut last_good = self.last_good.lock().unwrap_or_else(|e| e.into_inner());
        match self.group.client_config() {
            Ok(Some(config)) => *last_good = Arc::new(config),
            Ok(None) => {}
            Err(error) => tracing::warn!(
                %error,
                "cannot reload the upstream TLS settings; using the last ones that loaded"
            ),
        }
        Arc::clone(&last_good)
    }
}

/// Dials `address`, over TLS when `tls` is set.
#[derive(Clone, Debug)]
pub(crate) struct Connector {
    address: Arc<str>,
    tls: Option<Arc<UpstreamTls>>,
}

impl Connector {
    pub(crate) fn new(address: &str, tls: Option<UpstreamTls>) -> Connector {
        Connector {
            address: Arc::from(address),
            tls: tls.map(Arc::new),
        }
    }
}

impl Service<Uri> for Connector {
    type Response = TokioIo<Box<dyn Io>>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let address = Arc::clone(&self.address);
        let tls = self.tls.clone();
        Box::pin(async move {
            let tcp = TcpStream::connect(&*address).await?;
            tcp.set_nodelay(true)?;
            let io: Box<dyn Io> = match tls {
                Some(tls) => {
                    let connector = TlsConnector::from(tls.current());
                    Box::new(connector.connect(tls.server_name.clone(), tcp).await?)
                }
                None => Box::new(tcp),
            };
            Ok(TokioIo::new(io))
        })
    }
}
