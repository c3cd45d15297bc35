//! The one error type of dev mode: what failed, in words, with the underlying cause.

use std::{error::Error as StdError, fmt, path::Path};

use tonic_authz::BoxError;

/// Setting up or using the dev environment failed.
#[derive(Debug)]
pub struct DevError {
    message: String,
    source: Option<BoxError>,
}

impl DevError {
    pub(crate) fn new(message: impl Into<String>) -> DevError {
        DevError {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> DevError {
        self.source = Some(source.into());
        self
    }

    /// An I/O failure on `path`.
    pub(crate) fn io(action: &str, path: &Path, error: std::io::Error) -> DevError {
        DevError::new(format!("cannot {action} {}", path.display())).with_source(error)
    }
}

impl fmt::Display for DevError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl StdError for DevError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}
