//! `global.tls` in Temporal's shape (spec F.1), parsed strictly. Stands in until the TLS module's
//! own configuration types take over this section.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::duration;

/// `global.tls`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct GlobalTls {
    /// `internode`.
    pub internode: GroupTls,
    /// `frontend`.
    pub frontend: GroupTls,
    /// `systemWorker`.
    pub system_worker: WorkerTls,
    /// `remoteClusters`.
    pub remote_clusters: BTreeMap<String, GroupTls>,
    /// `expirationChecks`.
    pub expiration_checks: ExpirationChecks,
    /// `refreshInterval`. Default `0` (never reload).
    #[serde(deserialize_with = "duration::deserialize")]
    pub refresh_interval: Duration,
}

/// A TLS group.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct GroupTls {
    /// `client`.
    pub client: ClientTls,
    /// `server`.
    pub server: ServerTls,
    /// `hostOverrides`.
    pub host_overrides: BTreeMap<String, ServerTls>,
}

/// Server-side TLS settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ServerTls {
    /// `certFile`.
    pub cert_file: String,
    /// `keyFile`.
    pub key_file: String,
    /// `clientCaFiles`.
    pub client_ca_files: Vec<String>,
    /// `certData`.
    pub cert_data: String,
    /// `keyData`.
    pub key_data: String,
    /// `clientCaData`.
    pub client_ca_data: Vec<String>,
    /// `requireClientAuth`.
    pub require_client_auth: bool,
}

/// Client-side TLS settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ClientTls {
    /// `serverName`.
    pub server_name: String,
    /// `disableHostVerification`.
    pub disable_host_verification: bool,
    /// `rootCaFiles`.
    pub root_ca_files: Vec<String>,
    /// `rootCaData`.
    pub root_ca_data: Vec<String>,
    /// `forceTLS`.
    #[serde(rename = "forceTLS")]
    pub force_tls: bool,
}

/// System worker TLS settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct WorkerTls {
    /// `certFile`.
    pub cert_file: String,
    /// `keyFile`.
    pub key_file: String,
    /// `certData`.
    pub cert_data: String,
    /// `keyData`.
    pub key_data: String,
    /// `client`.
    pub client: ClientTls,
}

/// Certificate expiration checks.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ExpirationChecks {
    /// `warningWindow`.
    #[serde(deserialize_with = "duration::deserialize")]
    pub warning_window: Duration,
    /// `errorWindow`.
    #[serde(deserialize_with = "duration::deserialize")]
    pub error_window: Duration,
    /// `checkInterval`.
    #[serde(deserialize_with = "duration::deserialize")]
    pub check_interval: Duration,
}
