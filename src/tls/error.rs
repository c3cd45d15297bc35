//! [`TlsError`]: why a TLS configuration was refused or could not be loaded.
//!
//! Every error names the configuration key it is about (`frontend.server.certFile`) and, when a
//! file was involved, the file, so a bad config fails at start-up with a message an operator can
//! act on without reading code.

use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::BoxError;

/// What went wrong with a TLS setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsErrorKind {
    /// The configuration is inconsistent (Temporal's start-up validation).
    Invalid,
    /// A file could not be read.
    Read,
    /// PEM or base64 content could not be decoded or holds no usable item.
    Parse,
    /// The material is readable but rustls refused it (key does not match, bad CA, ...).
    Build,
}

/// A refused or unloadable TLS setting.
#[derive(Debug)]
pub struct TlsError {
    kind: TlsErrorKind,
    field: String,
    path: Option<PathBuf>,
    message: String,
    source: Option<BoxError>,
}

impl TlsError {
    pub(crate) fn new(
        kind: TlsErrorKind,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> TlsError {
        TlsError {
            kind,
            field: field.into(),
            path: None,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> TlsError {
        TlsError::new(TlsErrorKind::Invalid, field, message)
    }

    pub(crate) fn with_path(mut self, path: impl Into<PathBuf>) -> TlsError {
        self.path = Some(path.into());
        self
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> TlsError {
        self.source = Some(source.into());
        self
    }

    /// Puts `prefix.` in front of the field path (`server.certFile` → `frontend.server.certFile`).
    pub(crate) fn prefixed(mut self, prefix: &str) -> TlsError {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }

    /// The class of the failure.
    #[must_use]
    pub fn kind(&self) -> TlsErrorKind {
        self.kind
    }

    /// The configuration key, e.g. `frontend.server.certFile` or `frontend.hostOverrides.a.b`.
    #[must_use]
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The file involved, if any.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The message without the field prefix; for validation errors this is Temporal's exact
    /// text (e.g. `cannot specify CertFile and CertData at the same time`).
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl StdError for TlsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}
