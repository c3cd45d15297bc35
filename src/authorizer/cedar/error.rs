//! [`CedarError`]: why a policy set could not be loaded (read, parsed, validated).

use std::fmt;

/// What went wrong loading Cedar policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CedarErrorKind {
    /// The policy file could not be read.
    Read,
    /// The policies do not parse, or two policies share an id.
    Parse,
    /// The policies do not validate against the schema.
    Invalid,
    /// The schema itself does not build.
    Schema,
}

/// A policy set that could not be loaded; the message names the file (when there is one) and
/// the policy.
#[derive(Clone, Debug)]
pub struct CedarError {
    kind: CedarErrorKind,
    message: String,
}

impl CedarError {
    pub(crate) fn new(kind: CedarErrorKind, message: impl Into<String>) -> CedarError {
        CedarError {
            kind,
            message: message.into(),
        }
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> CedarErrorKind {
        self.kind
    }

    pub(super) fn in_file(mut self, file: &std::path::Path) -> CedarError {
        self.message = format!("{}: {}", file.display(), self.message);
        self
    }
}

impl fmt::Display for CedarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CedarError {}
