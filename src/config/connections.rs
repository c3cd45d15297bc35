//! `services.frontend.rpc`'s connection settings: Temporal's `keepAliveServerConfig`
//! (HTTP/2 keepalive pings and the maximum connection age) and this crate's
//! `maxConcurrentStreams`. A connection's identity is checked once, at its handshake; the
//! maximum age is what bounds how long an identity whose certificate expired, or whose CA left
//! the trust set at a reload, keeps being served.
//!
//! Every key is optional and defaults to Temporal's value; a key that is present must be
//! usable: blank, zero or malformed is a start-up error naming it, never "no limit".

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};

use super::duration;

/// The default `maxConcurrentStreams`: calls in flight on one connection.
pub const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 1000;

/// Temporal's `keepAliveServerConfig`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct KeepAliveServerConfig {
    /// Temporal's `keepAliveServerParameters`.
    pub keep_alive_server_parameters: KeepAliveServerParameters,
    /// Temporal's `keepAliveEnforcementPolicy`: accepted and ignored (the HTTP/2 server used
    /// here has no such policy).
    keep_alive_enforcement_policy: Option<IgnoredAny>,
}

/// Temporal's `keepAliveServerParameters`; each key a Go duration, more than zero.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct KeepAliveServerParameters {
    /// Temporal's `maxConnectionAge`: a connection is asked to go away (HTTP/2 GOAWAY) this
    /// long after it opened. Default `5m`, Temporal's.
    #[serde(deserialize_with = "positive_duration")]
    pub max_connection_age: Duration,
    /// Temporal's `maxConnectionAgeGrace`: how long calls in flight may still finish after
    /// that, before the connection is closed. Default `70s`, Temporal's.
    #[serde(deserialize_with = "positive_duration")]
    pub max_connection_age_grace: Duration,
    /// Temporal's `time`: how long a connection may be quiet before the server pings it.
    /// Default `1m`, Temporal's.
    #[serde(deserialize_with = "positive_duration")]
    pub time: Duration,
    /// Temporal's `timeout`: how long the server waits for the ping's answer before closing
    /// the connection. Default `10s`, Temporal's.
    #[serde(deserialize_with = "positive_duration")]
    pub timeout: Duration,
    /// Temporal's `maxConnectionIdle`: accepted and ignored (the maximum age bounds every
    /// connection already).
    max_connection_idle: Option<IgnoredAny>,
}

impl Default for KeepAliveServerParameters {
    fn default() -> Self {
        KeepAliveServerParameters {
            max_connection_age: Duration::from_secs(5 * 60),
            max_connection_age_grace: Duration::from_secs(70),
            time: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            max_connection_idle: None,
        }
    }
}

/// A Go duration that must be more than zero: zero would mean "never" where this crate wants
/// a bound (Temporal reads zero as gRPC's default, which for the age is "never").
fn positive_duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let value = duration::deserialize(deserializer)?;
    if value.is_zero() {
        return Err(de::Error::custom("must be more than zero"));
    }
    Ok(value)
}

/// `maxConcurrentStreams`: a whole number from 1 up.
pub(crate) fn max_concurrent_streams<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<u32, D::Error> {
    struct StreamsVisitor;

    impl Visitor<'_> for StreamsVisitor {
        type Value = u32;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a whole number of streams, 1 or more")
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u32, E> {
            match u32::try_from(v) {
                Ok(0) => Err(E::custom("must be 1 or more")),
                Ok(v) => Ok(v),
                Err(_) => Err(E::custom(format!("{v} is too large"))),
            }
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u32, E> {
            match u64::try_from(v) {
                Ok(v) => self.visit_u64(v),
                Err(_) => Err(E::custom("must be 1 or more")),
            }
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<u32, E> {
            match v.trim().parse::<u64>() {
                Ok(n) => self.visit_u64(n),
                Err(_) if v.trim().is_empty() => Err(E::custom("is empty")),
                Err(_) => Err(E::custom(format!("{v:?} is not a whole number"))),
            }
        }
    }

    deserializer.deserialize_any(StreamsVisitor)
}
