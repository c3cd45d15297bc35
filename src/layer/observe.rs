//! What every decision did, for operators: metrics (Temporal's names where Temporal has them)
//! and tracing events. Namespace labels are bounded: only namespaces the operator declared as
//! known become label values; anything else is `_unknown_`, as Temporal does with its registry.

use std::collections::HashSet;
use std::time::Duration;

use crate::ClaimsErrorKind;

/// The label value for a namespace nobody declared.
pub(crate) const UNKNOWN_NAMESPACE: &str = "_unknown_";

/// How one call ended, for counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Allowed,
    Denied,
    /// Denied by the authorizer but let through because the layer runs in dry-run mode.
    DryRunDenied,
    MapperFailed(ClaimsErrorKind),
    AuthorizerFailed,
    Malformed,
}

impl Outcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::DryRunDenied => "dry_run_denied",
            Outcome::MapperFailed(_) => "claim_mapper_failed",
            Outcome::AuthorizerFailed => "authorizer_failed",
            Outcome::Malformed => "malformed_request",
        }
    }
}

/// Turns caller-supplied namespaces into bounded label values.
#[derive(Clone, Debug, Default)]
pub(crate) struct NamespaceLabels {
    known: HashSet<String>,
}

impl NamespaceLabels {
    pub(crate) fn new(known: impl IntoIterator<Item = String>) -> NamespaceLabels {
        NamespaceLabels {
            known: known.into_iter().collect(),
        }
    }

    pub(crate) fn label(&self, namespace: &str) -> String {
        if !namespace.is_empty() && self.known.contains(namespace) {
            namespace.to_owned()
        } else {
            UNKNOWN_NAMESPACE.to_owned()
        }
    }
}

/// Records the metrics of one call. `authorized` is false when the authorizer never ran
/// (a malformed request or a claim-mapper failure).
pub(crate) fn record(
    labels: &NamespaceLabels,
    namespace: &str,
    outcome: Outcome,
    authorizer_latency: Option<Duration>,
) {
    let ns = labels.label(namespace);
    metrics::counter!("tonic_authz_decisions_total", "outcome" => outcome.as_str()).increment(1);
    if let Some(latency) = authorizer_latency {
        metrics::histogram!(
            "service_authorization_latency",
            "operation" => "Authorization",
            "namespace" => ns.clone()
        )
        .record(latency.as_secs_f64());
    }
    match outcome {
        Outcome::Denied | Outcome::DryRunDenied => {
            metrics::counter!(
                "service_errors_unauthorized",
                "operation" => "Authorization",
                "namespace" => ns
            )
            .increment(1);
        }
        Outcome::AuthorizerFailed => {
            metrics::counter!(
                "service_errors_authorize_failed",
                "operation" => "Authorization",
                "namespace" => ns
            )
            .increment(1);
        }
        Outcome::MapperFailed(kind) => {
            metrics::counter!("tonic_authz_claim_mapper_failures_total", "reason" => kind.as_str())
                .increment(1);
        }
        Outcome::Allowed | Outcome::Malformed => {}
    }
}
