//! `services`: Temporal's per-service settings; only `services.frontend.rpc` matters here (where
//! the secured frontend listens). The other Temporal services, and any other key beside `rpc`,
//! are accepted and ignored, as Temporal's loader does, so a real Temporal config file loads as
//! it is; `services.frontend.rpc` itself is strict.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};

use super::ConfigError;
use super::connections::{self, DEFAULT_MAX_CONCURRENT_STREAMS, KeepAliveServerConfig};

/// `services`: Temporal's map from service name to settings.
///
/// `frontend` is read; `internal-frontend`, `history`, `matching`, `worker` and any other
/// service are accepted and ignored.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Services {
    /// `services.frontend`. Default: see [`FrontendRpc`].
    pub frontend: FrontendService,
}

/// `services.frontend`: `rpc` is read; any other key is Temporal's and ignored.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FrontendService {
    /// `services.frontend.rpc`.
    pub rpc: FrontendRpc,
}

/// `services.frontend.rpc`: where the frontend's gRPC listener binds.
///
/// Read: `grpcPort`, `bindOnIP`, `bindOnLocalHost`, `keepAliveServerConfig`, and ours,
/// `maxConcurrentStreams`. Temporal's other keys here (`membershipPort`, `httpPort`,
/// `httpAdditionalForwardedHeaders`, `clientConnectionConfig`) are accepted and ignored;
/// anything else is an error.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct FrontendRpc {
    /// Temporal's `grpcPort`. Default `7233` (Temporal's frontend port); `0` picks a free port.
    pub grpc_port: u16,
    /// Temporal's `bindOnIP`: the IP address (v4 or v6) to bind, e.g. `0.0.0.0`; an empty
    /// string means unset. Default: unset.
    #[serde(rename = "bindOnIP", deserialize_with = "deserialize_ip")]
    pub bind_on_ip: Option<IpAddr>,
    /// Temporal's `bindOnLocalHost`: bind `127.0.0.1`; exclusive with `bindOnIP`.
    /// Default `false`.
    pub bind_on_local_host: bool,
    /// Temporal's `keepAliveServerConfig`: keepalive pings and the maximum connection age.
    /// Default: Temporal's values (see [`KeepAliveServerConfig`]).
    pub keep_alive_server_config: KeepAliveServerConfig,
    /// Ours. The most calls in flight on one connection (HTTP/2 `MAX_CONCURRENT_STREAMS`);
    /// 1 or more. Default 1000.
    #[serde(deserialize_with = "connections::max_concurrent_streams")]
    pub max_concurrent_streams: u32,
    membership_port: Option<IgnoredAny>,
    http_port: Option<IgnoredAny>,
    http_additional_forwarded_headers: Option<IgnoredAny>,
    client_connection_config: Option<IgnoredAny>,
}

impl Default for FrontendRpc {
    fn default() -> Self {
        FrontendRpc {
            grpc_port: 7233,
            bind_on_ip: None,
            bind_on_local_host: false,
            keep_alive_server_config: KeepAliveServerConfig::default(),
            max_concurrent_streams: DEFAULT_MAX_CONCURRENT_STREAMS,
            membership_port: None,
            http_port: None,
            http_additional_forwarded_headers: None,
            client_connection_config: None,
        }
    }
}

impl FrontendRpc {
    /// The address to listen on: `bindOnIP`, else `127.0.0.1` (with `bindOnLocalHost`, and also
    /// when neither is set: where Temporal would pick the host's address, this crate binds
    /// loopback, so exposing the port is always an explicit choice), with `grpcPort`.
    ///
    /// # Errors
    ///
    /// `bindOnLocalHost` and `bindOnIP` both set (Temporal refuses it too).
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        let ip = match (self.bind_on_local_host, self.bind_on_ip) {
            (true, Some(_)) => {
                return Err(ConfigError::invalid(
                    "services.frontend.rpc",
                    "bindOnLocalHost and bindOnIP are mutually exclusive",
                ));
            }
            (_, Some(ip)) => ip,
            (_, None) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        Ok(SocketAddr::new(ip, self.grpc_port))
    }
}

fn deserialize_ip<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<IpAddr>, D::Error> {
    struct IpVisitor;

    impl Visitor<'_> for IpVisitor {
        type Value = Option<IpAddr>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an IP address such as `0.0.0.0` or `127.0.0.1`")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            let v = v.trim();
            if v.is_empty() {
                return Ok(None);
            }
            v.parse()
                .map(Some)
                .map_err(|_| E::custom(format!("invalid IP address: {v}")))
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    deserializer.deserialize_any(IpVisitor)
}
