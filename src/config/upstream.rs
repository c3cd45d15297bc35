//! `upstream`: this crate's own top-level section (Temporal has none like it) for running the
//! secured frontend as an authorizing proxy in front of a real Temporal frontend: where the
//! upstream is, how many connections to keep to it, which credentials to send it and how to
//! reach it over TLS (in the shape of Temporal's `global.tls.systemWorker`: a client
//! certificate plus a `client` section).
//!
//! The section is plain data; the proxy that acts on it lives with the `frontend` example.
//! Every value is checked at load time, so a blank address or a half-configured static
//! credential is a start-up error naming the key, never a proxy that quietly forwards
//! somewhere else or without the credential the operator meant.

use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, duration};
use crate::tls::WorkerTls;

/// `upstream`: the real Temporal frontend allowed calls are forwarded to.
///
/// ```yaml
/// upstream:
///   address: temporal-frontend.internal:7233
///   connections: 2
///   connectTimeout: 5s
///   credentials: forward          # forward | drop | static
///   tls:
///     certFile: /etc/proxy/client.pem
///     keyFile: /etc/proxy/client.key
///     client:
///       serverName: temporal-frontend.internal
///       rootCaFiles: [/etc/proxy/temporal-ca.pem]
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Upstream {
    /// `HOST:PORT` of the upstream Temporal frontend. Required (blank is an error).
    pub address: String,
    /// How many HTTP/2 connections to keep to the upstream; calls are spread over them.
    /// Default `2`; `0` is an error.
    pub connections: usize,
    /// How long to wait for a connection before the call fails with `UNAVAILABLE`, a Go
    /// duration. Default `5s`; `0` is an error.
    #[serde(deserialize_with = "duration::deserialize")]
    pub connect_timeout: Duration,
    /// Also forward `temporal.api.adminservice.v1.AdminService`. Default `false`: only
    /// `WorkflowService`, `OperatorService` and `grpc.health.v1.Health` are forwarded.
    pub forward_admin_service: bool,
    /// What the upstream receives as `authorization`. Default: `forward`.
    pub credentials: UpstreamCredentials,
    /// With `credentials: static`: a file whose content (trailing newline removed) is sent as
    /// the `authorization` header, e.g. `Bearer <api key>`. Default: empty.
    pub static_credential_file: String,
    /// With `credentials: static`: an environment variable holding that header value.
    /// Default: empty. Exactly one of this and `staticCredentialFile` is set with `static`.
    pub static_credential_env: String,
    /// How to reach the upstream: plaintext when `tls.client` enables no TLS (the default);
    /// TLS with `client.rootCaFiles`/`rootCaData`/`forceTLS`; mutual TLS when `certFile` and
    /// `keyFile` (or `certData`/`keyData`) are set too.
    pub tls: WorkerTls,
}

impl Default for Upstream {
    fn default() -> Self {
        Upstream {
            address: String::new(),
            connections: 2,
            connect_timeout: Duration::from_secs(5),
            forward_admin_service: false,
            credentials: UpstreamCredentials::Forward,
            static_credential_file: String::new(),
            static_credential_env: String::new(),
            tls: WorkerTls::default(),
        }
    }
}

/// `upstream.credentials`: what the upstream receives as the `authorization` header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum UpstreamCredentials {
    /// The caller's own header, unchanged (an upstream that checks its own tokens keeps
    /// working). The default.
    #[default]
    Forward,
    /// No `authorization` header at all.
    Drop,
    /// A fixed value from `staticCredentialFile` or `staticCredentialEnv`, in place of the
    /// caller's.
    Static,
}

impl Upstream {
    /// The checks of the section, run when a configuration file is loaded; call it for a value
    /// built in code.
    ///
    /// # Errors
    ///
    /// A blank or malformed `address`, `connections` or `connectTimeout` of zero, or the
    /// static credential keys not matching `credentials`; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let key = |name: &str| format!("upstream.{name}");
        let address = self.address.trim();
        let valid_address = address.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p != 0)
        });
        if !valid_address {
            return Err(ConfigError::invalid(
                key("address"),
                format!(
                    "expected HOST:PORT of the upstream Temporal frontend, got {:?}",
                    self.address
                ),
            ));
        }
        if self.connections == 0 {
            return Err(ConfigError::invalid(
                key("connections"),
                "must be at least 1",
            ));
        }
        if self.connect_timeout.is_zero() {
            return Err(ConfigError::invalid(
                key("connectTimeout"),
                "must be more than 0",
            ));
        }
        let file = !self.static_credential_file.trim().is_empty();
        let env = !self.static_credential_env.trim().is_empty();
        match self.credentials {
            UpstreamCredentials::Static if file == env => Err(ConfigError::invalid(
                key("credentials"),
                "`static` needs exactly one of staticCredentialFile and staticCredentialEnv",
            )),
            UpstreamCredentials::Forward | UpstreamCredentials::Drop if file || env => {
                Err(ConfigError::invalid(
                    key(if file {
                        "staticCredentialFile"
                    } else {
                        "staticCredentialEnv"
                    }),
                    "only used with `credentials: static`",
                ))
            }
            _ => Ok(()),
        }
    }
}
