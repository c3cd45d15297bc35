//! TLS configuration in Temporal's `global.tls` shape: plain serde data, camelCase
//! keys, unknown keys refused, every field defaulting to "off".
//!
//! # Example
//! ```
//! use tonic_authz::tls::GlobalTls;
//!
//! let tls: GlobalTls = serde_json::from_str(r#"{
//!     "frontend": {
//!         "server": {
//!             "certFile": "/etc/temporal/frontend.pem",
//!             "keyFile": "/etc/temporal/frontend.key",
//!             "clientCaFiles": ["/etc/temporal/clients-ca.pem"],
//!             "requireClientAuth": true
//!         }
//!     },
//!     "refreshInterval": "1m",
//!     "expirationChecks": { "warningWindow": "720h", "errorWindow": "72h", "checkInterval": "1h" }
//! }"#).unwrap();
//! assert!(tls.frontend.server.is_enabled());
//! assert!(tls.validate().is_ok());
//! ```

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Temporal's `global.tls`: the frontend and internode groups, reload and expiry settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct GlobalTls {
    /// Internode traffic (history, matching, internal frontend) and internode clients.
    /// Default: TLS off.
    pub internode: GroupTls,
    /// The public frontend listener. Default: TLS off.
    pub frontend: GroupTls,
    /// System workers dialing the frontend. Parsed and validated for compatibility with
    /// Temporal configs; this crate does not dial with it. Default: empty.
    pub system_worker: WorkerTls,
    /// Outbound TLS per remote-cluster host pattern. Parsed for compatibility with Temporal
    /// configs (and, as in Temporal, not validated). Default: empty.
    pub remote_clusters: HashMap<String, GroupTls>,
    /// How often certificate files and data are reloaded; `0s` (the default) never reloads.
    #[serde(with = "crate::duration")]
    pub refresh_interval: Duration,
    /// Warn about certificates nearing expiry. Default: off.
    pub expiration_checks: ExpirationChecks,
}

/// Temporal's `GroupTLS`: one listener's server side and the matching client side.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct GroupTls {
    /// The listener's certificate and client-certificate policy. Default: TLS off.
    pub server: ServerTls,
    /// How clients of this group connect to it. Default: TLS off.
    pub client: ClientTls,
    /// Per-SNI server settings (frontend only), keyed by host name (matched exactly, case
    /// insensitive). An override inherits nothing from `server`. Default: none.
    pub host_overrides: HashMap<String, ServerTls>,
}

/// Temporal's `ServerTLS`.
///
/// Server TLS is on iff `keyFile` or `keyData` is set (Temporal's rule). `Debug` shows whether
/// `keyData` is set, never its content.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ServerTls {
    /// Path of the PEM certificate chain (leaf first). Default: empty.
    pub cert_file: String,
    /// Path of the PEM private key. Default: empty.
    pub key_file: String,
    /// The PEM certificate chain, base64 (standard, padded). Default: empty.
    pub cert_data: String,
    /// The PEM private key, base64 (standard, padded). Default: empty.
    pub key_data: String,
    /// PEM files of the CAs client certificates must chain to. Default: none.
    pub client_ca_files: Vec<String>,
    /// Base64 PEM of the CAs client certificates must chain to. Default: none.
    pub client_ca_data: Vec<String>,
    /// Require and verify a client certificate. When off (the default) no client certificate
    /// is requested and calls carry no TLS subject.
    pub require_client_auth: bool,
}

/// Temporal's `ClientTLS`.
///
/// Client TLS is on iff `rootCaFiles` or `rootCaData` is set, or `forceTLS` (Temporal's rule).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ClientTls {
    /// The name the server certificate must be valid for (also sent as SNI). Default: empty,
    /// meaning the host of the address dialed.
    pub server_name: String,
    /// Turns off **all** server certificate verification (as Go's `InsecureSkipVerify`).
    /// Default: false. Logged loudly when used.
    pub disable_host_verification: bool,
    /// PEM files of the CAs the server certificate must chain to. Default: none (system roots).
    pub root_ca_files: Vec<String>,
    /// Base64 PEM of the CAs the server certificate must chain to. Default: none.
    pub root_ca_data: Vec<String>,
    /// Use TLS even with no roots configured, trusting the system roots. Default: false.
    #[serde(rename = "forceTLS")]
    pub force_tls: bool,
}

/// Temporal's `WorkerTLS` (`global.tls.systemWorker`). `Debug` shows whether `keyData` is
/// set, never its content.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct WorkerTls {
    /// Path of the PEM client certificate. Default: empty.
    pub cert_file: String,
    /// Path of the PEM private key. Default: empty.
    pub key_file: String,
    /// Base64 PEM client certificate. Default: empty.
    pub cert_data: String,
    /// Base64 PEM private key. Default: empty.
    pub key_data: String,
    /// How the worker connects to the frontend. Default: TLS off.
    pub client: ClientTls,
}

/// How `Debug` shows inline key material: whether it is set, never what it is.
fn redacted(data: &str) -> &'static str {
    if data.is_empty() { "" } else { "<redacted>" }
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .field("cert_data", &self.cert_data)
            .field("key_data", &redacted(&self.key_data))
            .field("client_ca_files", &self.client_ca_files)
            .field("client_ca_data", &self.client_ca_data)
            .field("require_client_auth", &self.require_client_auth)
            .finish()
    }
}

impl fmt::Debug for WorkerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerTls")
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .field("cert_data", &self.cert_data)
            .field("key_data", &redacted(&self.key_data))
            .field("client", &self.client)
            .finish()
    }
}

/// Temporal's `expirationChecks`: when and how loudly to report certificates nearing expiry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ExpirationChecks {
    /// Certificates expiring within this window are reported (warn level). `0s` (the default)
    /// falls back to `errorWindow`.
    #[serde(with = "crate::duration")]
    pub warning_window: Duration,
    /// Certificates expiring within this window, or expired, are reported at error level.
    /// `0s` (the default) makes every reported certificate an error, as in Temporal.
    #[serde(with = "crate::duration")]
    pub error_window: Duration,
    /// How often to check; `0s` (the default) turns the checks off.
    #[serde(with = "crate::duration")]
    pub check_interval: Duration,
}

impl ServerTls {
    /// Whether server TLS is on: `keyFile` or `keyData` is set (a certificate without a key
    /// counts as off in Temporal; [`GlobalTls::validate`] refuses that combination).
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        !self.key_file.is_empty() || !self.key_data.is_empty()
    }
}

impl ClientTls {
    /// Whether client TLS is on: roots configured or `forceTLS`.
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        !self.root_ca_files.is_empty() || !self.root_ca_data.is_empty() || self.force_tls
    }
}

impl WorkerTls {
    /// Whether the system worker is explicitly configured (Temporal's rule).
    #[must_use]
    pub fn is_configured(&self) -> bool {
        !self.cert_file.is_empty()
            || !self.cert_data.is_empty()
            || !self.client.root_ca_files.is_empty()
            || !self.client.root_ca_data.is_empty()
            || self.client.force_tls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_key_data() {
        let mut group = GroupTls::default();
        group.server.key_data = "c2VjcmV0LWtleS1tYXRlcmlhbA==".to_owned();
        group.server.cert_data = "Y2VydA==".to_owned();
        let mut global = GlobalTls {
            frontend: group.clone(),
            ..GlobalTls::default()
        };
        global.system_worker.key_data = "c2VjcmV0LWtleS1tYXRlcmlhbA==".to_owned();
        for shown in [
            format!("{group:?}"),
            format!("{global:?}"),
            format!("{global:#?}"),
        ] {
            assert!(!shown.contains("c2VjcmV0"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
            assert!(
                shown.contains("Y2VydA=="),
                "certificates are not secret: {shown}"
            );
        }
        assert!(format!("{:?}", ServerTls::default()).contains("key_data: \"\""));
    }
}
