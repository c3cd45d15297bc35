//! How long and how much one client connection may use the Frontend: calls in flight, HTTP/2
//! keepalive pings, and a maximum age after which the connection is asked to go away (with a
//! grace period for calls in flight). Identity is checked at the handshake, so the maximum age
//! is what bounds how long an identity whose certificate expired, or whose CA left the trust
//! set at a reload, keeps being served: the client reconnects and is checked again.

use std::time::Duration;

use tonic::transport::Server;
use tonic_authz::config::{FrontendRpc, KeepAliveServerParameters};

/// The connection limits of a Frontend. Default: Temporal's values (at most 1000 calls in
/// flight per connection, a ping after 1 minute of quiet answered within 10 seconds, a
/// maximum age of 5 minutes with 70 seconds of grace).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionLimits {
    /// The most calls in flight on one connection.
    pub max_concurrent_streams: u32,
    /// How long a connection may be quiet before the server pings it.
    pub keepalive_interval: Duration,
    /// How long the server waits for a ping's answer before closing the connection.
    pub keepalive_timeout: Duration,
    /// How long after it opened a connection is asked to go away.
    pub max_connection_age: Duration,
    /// How long calls in flight may still finish after that.
    pub max_connection_age_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits::from_config(&FrontendRpc::default())
    }
}

impl ConnectionLimits {
    /// The limits configured at `services.frontend.rpc` (`maxConcurrentStreams`,
    /// `keepAliveServerConfig.keepAliveServerParameters`), which the loader has already
    /// checked.
    #[must_use]
    pub fn from_config(rpc: &FrontendRpc) -> ConnectionLimits {
        let p: &KeepAliveServerParameters =
            &rpc.keep_alive_server_config.keep_alive_server_parameters;
        ConnectionLimits {
            max_concurrent_streams: rpc.max_concurrent_streams,
            keepalive_interval: p.time,
            keepalive_timeout: p.timeout,
            max_connection_age: p.max_connection_age,
            max_connection_age_grace: p.max_connection_age_grace,
        }
    }

    /// `server` with these limits.
    #[must_use]
    pub fn apply(&self, server: Server) -> Server {
        server
            .max_concurrent_streams(self.max_concurrent_streams.max(1))
            .http2_keepalive_interval(Some(self.keepalive_interval))
            .http2_keepalive_timeout(Some(self.keepalive_timeout))
            .max_connection_age(self.max_connection_age)
            .max_connection_age_grace(self.max_connection_age_grace)
    }
}

#[cfg(test)]
mod tests {
    use tonic_authz::config::DEFAULT_MAX_CONCURRENT_STREAMS;

    use super::*;

    #[test]
    fn defaults_are_temporals() {
        let limits = ConnectionLimits::default();
        assert_eq!(
            limits.max_concurrent_streams,
            DEFAULT_MAX_CONCURRENT_STREAMS
        );
        assert_eq!(limits.max_concurrent_streams, 1000);
        assert_eq!(limits.max_connection_age, Duration::from_secs(300));
        assert_eq!(limits.max_connection_age_grace, Duration::from_secs(70));
        assert_eq!(limits.keepalive_interval, Duration::from_secs(60));
        assert_eq!(limits.keepalive_timeout, Duration::from_secs(10));
    }
}
