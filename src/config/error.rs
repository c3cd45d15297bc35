//! [`ConfigError`]: a configuration problem, located by file, key path and (where the YAML
//! parser knows it) line and column, so an operator can go straight to the offending value.

use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::BoxError;

/// What went wrong with a configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The file could not be read.
    Read,
    /// The YAML is malformed, has an unknown key, a value of the wrong type or an invalid value
    /// (a bad duration, an unknown authorizer, an unset environment variable...).
    Parse,
    /// The values parse but do not fit together (e.g. two mutually exclusive keys).
    Invalid,
    /// A component could not be built from valid-looking values (e.g. a certificate file that
    /// does not load, a JWKS URI that is not usable).
    Build,
}

/// A configuration error; it names the file, the key path (`global.authorization.authorizer`)
/// and, when known, the line and column.
///
/// `Display` reads `file:line:column: key.path: message`, leaving out what is not known.
#[derive(Debug)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    file: Option<PathBuf>,
    key_path: Option<String>,
    location: Option<(u64, u64)>,
    message: String,
    source: Option<BoxError>,
}

impl ConfigError {
    pub(crate) fn new(kind: ConfigErrorKind, message: impl Into<String>) -> ConfigError {
        ConfigError {
            kind,
            file: None,
            key_path: None,
            location: None,
            message: message.into(),
            source: None,
        }
    }

    /// A value error at `key_path` found after parsing.
    pub(crate) fn invalid(key_path: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::new(ConfigErrorKind::Invalid, message).with_key_path(key_path)
    }

    /// A failure to build the component configured at `key_path`.
    pub(crate) fn build(key_path: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::new(ConfigErrorKind::Build, message).with_key_path(key_path)
    }

    pub(crate) fn with_file(mut self, file: Option<&Path>) -> ConfigError {
        if self.file.is_none() {
            self.file = file.map(Path::to_path_buf);
        }
        self
    }

    pub(crate) fn with_key_path(mut self, key_path: impl Into<String>) -> ConfigError {
        let key_path = key_path.into();
        self.key_path = (!key_path.is_empty()).then_some(key_path);
        self
    }

    pub(crate) fn with_location(mut self, line: u64, column: u64) -> ConfigError {
        self.location = (line > 0).then_some((line, column));
        self
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> ConfigError {
        self.source = Some(source.into());
        self
    }

    /// The class of error.
    #[must_use]
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The configuration file, when the configuration came from one.
    #[must_use]
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The dotted key path of the offending value (`global.authorization.jwtKeyProvider.
    /// refreshInterval`, `global.authorization.jwtKeyProvider.keySourceURIs[1]`), when known.
    #[must_use]
    pub fn key_path(&self) -> Option<&str> {
        self.key_path.as_deref()
    }

    /// The 1-based line of the offending value, when the YAML parser gave it.
    #[must_use]
    pub fn line(&self) -> Option<u64> {
        self.location.map(|(line, _)| line)
    }

    /// The 1-based column of the offending value, when the YAML parser gave it.
    #[must_use]
    pub fn column(&self) -> Option<u64> {
        self.location.map(|(_, column)| column)
    }

    /// The bare message, without file, location or key path (e.g. `unknown authorizer: foo`).
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some((line, column)) = self.location {
                write!(f, ":{line}:{column}")?;
            }
            f.write_str(": ")?;
        } else if let Some((line, column)) = self.location {
            write!(f, "line {line} column {column}: ")?;
        }
        if let Some(key_path) = &self.key_path {
            write!(f, "{key_path}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl StdError for ConfigError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_what_is_known() {
        let full = ConfigError::new(ConfigErrorKind::Parse, "unknown authorizer: foo")
            .with_key_path("global.authorization.authorizer")
            .with_location(3, 17)
            .with_file(Some(Path::new("conf/a.yaml")));
        assert_eq!(
            full.to_string(),
            "conf/a.yaml:3:17: global.authorization.authorizer: unknown authorizer: foo"
        );
        assert_eq!(full.message(), "unknown authorizer: foo");
        assert_eq!((full.line(), full.column()), (Some(3), Some(17)));

        let no_file = ConfigError::invalid("services.frontend.rpc", "bad").with_location(2, 1);
        assert_eq!(
            no_file.to_string(),
            "line 2 column 1: services.frontend.rpc: bad"
        );

        let no_location =
            ConfigError::build("global.tls", "no key").with_file(Some(Path::new("b.yaml")));
        assert_eq!(no_location.to_string(), "b.yaml: global.tls: no key");
        assert_eq!(no_location.kind(), ConfigErrorKind::Build);
    }
}
