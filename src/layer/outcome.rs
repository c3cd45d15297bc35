//! How one call ended, as the metrics count it. Kept apart from the metrics themselves so the
//! per-call path names its outcome the same way with or without the `metrics` feature.

use crate::ClaimsErrorKind;

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
    /// The outcome's label value, as metrics and the audit log name it.
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
