//! The keys that say how decisions are made and kept beyond Temporal's own: `cedar`
//! (`authorizer: cedar`'s policy file) and `audit` (the decision audit log), both under
//! `global.authorization`, and how each becomes a runtime object. A blank or broken value is a
//! start-up error naming the key and the file, never a silent default.

use std::time::Duration;

use serde::Deserialize;

use super::{Config, ConfigError, duration};
use crate::{AuditDecisions, DEFAULT_AUDIT_QUEUE, JsonLinesAuditSink};

const AUTHZ: &str = "global.authorization";

/// `global.authorization.cedar`: the policies of `authorizer: cedar`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Cedar {
    /// The Cedar policy file, validated against the shipped schema at start-up. Required with
    /// `authorizer: cedar`; blank is an error.
    pub policy_file: String,
    /// How often the policy file is checked for changes, a Go duration; `0` = never. A changed
    /// file that does not validate keeps the previous policies (logged, and counted in
    /// `tonic_authz_cedar_reload_failures_total`). Default `10s`.
    #[serde(deserialize_with = "duration::deserialize")]
    pub reload_interval: Duration,
}

impl Default for Cedar {
    fn default() -> Self {
        Cedar {
            policy_file: String::new(),
            reload_interval: Duration::from_secs(10),
        }
    }
}

/// `global.authorization.audit`: the decision audit log.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Audit {
    /// Where records go, one JSON object per line: `-` for standard output, or a file path
    /// (appended to, created when missing). Required; blank is an error.
    pub file: String,
    /// `denied` (refused calls only) or `all` (every call). Default `denied`.
    #[serde(default = "denied", deserialize_with = "deserialize_decisions")]
    pub decisions: AuditDecisions,
    /// How many records may wait for the writer before new ones are dropped (and counted in
    /// `tonic_authz_audit_dropped_total`). Default 16384.
    #[serde(default = "default_queue")]
    pub queue: usize,
}

fn denied() -> AuditDecisions {
    AuditDecisions::Denied
}

fn default_queue() -> usize {
    DEFAULT_AUDIT_QUEUE
}

fn deserialize_decisions<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<AuditDecisions, D::Error> {
    let text = String::deserialize(deserializer)?;
    match text.as_str() {
        "denied" => Ok(AuditDecisions::Denied),
        "all" => Ok(AuditDecisions::All),
        other => Err(serde::de::Error::custom(format!(
            "unknown audit decisions: {other:?} (expected `denied` or `all`)"
        ))),
    }
}

/// The audit sink configured at `global.authorization.audit`.
pub(super) fn audit_sink(
    config: &Config,
    audit: &Audit,
) -> Result<JsonLinesAuditSink, ConfigError> {
    let key = format!("{AUTHZ}.audit.file");
    let file = audit.file.trim();
    if file.is_empty() {
        return Err(config.locate(ConfigError::invalid(
            key,
            "the audit file is blank (use \"-\" for standard output)",
        )));
    }
    if audit.queue == 0 {
        return Err(config.locate(ConfigError::invalid(
            format!("{AUTHZ}.audit.queue"),
            "the audit queue must hold at least one record",
        )));
    }
    let sink = if file == "-" {
        JsonLinesAuditSink::stdout(audit.queue)
    } else {
        JsonLinesAuditSink::file(file, audit.queue)
    };
    sink.map_err(|e| config.locate(ConfigError::build(key, format!("{file}: {e}")).with_source(e)))
}

/// The Cedar authorizer configured at `global.authorization.cedar`, with its reloader running.
#[cfg(feature = "cedar")]
pub(super) fn cedar_authorizer(
    config: &Config,
    cedar: &Cedar,
) -> Result<crate::CedarAuthorizer, ConfigError> {
    let key = format!("{AUTHZ}.cedar.policyFile");
    let file = cedar.policy_file.trim();
    if file.is_empty() {
        return Err(config.locate(ConfigError::invalid(
            key,
            "`authorizer: cedar` needs a policy file",
        )));
    }
    let authz = crate::CedarAuthorizer::builder()
        .expose_reasons(config.global.authorization.expose_authorizer_errors)
        .policy_file(file)
        .map_err(|e| config.locate(ConfigError::build(key, e.to_string()).with_source(e)))?;
    if !cedar.reload_interval.is_zero() {
        // The task ends by itself when the authorizer (and so the layer) is dropped.
        drop(authz.spawn_reloader(cedar.reload_interval));
    }
    Ok(authz)
}
