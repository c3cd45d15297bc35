//! A pool of HTTP/2 connections to the upstream. Each member is a tonic `Channel` created
//! lazily: it dials on first use, redials after the connection fails, and gives up on a dial
//! after the connect timeout, so a call to a down upstream fails in bounded time instead of
//! hanging. Calls take the members in turn, which spreads streams (long polls especially)
//! over the connections.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tonic::transport::{Channel, Endpoint};

use super::{
    build::ProxyError,
    connector::{Connector, UpstreamTls},
};

/// How often an idle connection is pinged, so a dead upstream is noticed between calls.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(30);
/// How long a ping may go unanswered before the connection is dropped and redialed.
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// A fixed set of lazily connected HTTP/2 channels to one upstream, used round robin.
#[derive(Clone, Debug)]
pub struct Pool {
    address: Arc<str>,
    channels: Arc<[Channel]>,
    next: Arc<AtomicUsize>,
}

impl Pool {
    /// `size` channels to `address` (`HOST:PORT`), over TLS when `tls` is given. Nothing is
    /// dialed yet.
    ///
    /// # Errors
    ///
    /// The address does not form a valid URI.
    pub(crate) fn new(
        address: &str,
        size: usize,
        connect_timeout: Duration,
        tls: Option<UpstreamTls>,
    ) -> Result<Pool, ProxyError> {
        let invalid =
            |e: http::uri::InvalidUri| ProxyError::new(format!("invalid upstream address: {e}"));
        // The connector does TLS itself, so tonic dials `http://`; the requests still name
        // the scheme the upstream is reached with.
        let scheme = if tls.is_some() { "https" } else { "http" };
        let origin: http::Uri = format!("{scheme}://{address}").parse().map_err(invalid)?;
        let endpoint = Endpoint::from_shared(format!("http://{address}"))
            .map_err(|e| ProxyError::new(format!("invalid upstream address: {e}")))?
            .origin(origin)
            .connect_timeout(connect_timeout)
            .http2_keep_alive_interval(KEEP_ALIVE_INTERVAL)
            .keep_alive_timeout(KEEP_ALIVE_TIMEOUT)
            .keep_alive_while_idle(true)
            .http2_adaptive_window(true);
        let connector = Connector::new(address, tls);
        let channels: Vec<Channel> = (0..size.max(1))
            .map(|_| endpoint.connect_with_connector_lazy(connector.clone()))
            .collect();
        Ok(Pool {
            address: Arc::from(address),
            channels: channels.into(),
            next: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// The upstream's `HOST:PORT`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// How many connections the pool keeps.
    pub fn size(&self) -> usize {
        self.channels.len()
    }

    /// The channel for the next call.
    pub(crate) fn next_channel(&self) -> Channel {
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        self.channels[turn % self.channels.len()].clone()
    }
}
