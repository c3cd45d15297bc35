//! Configuration in Temporal's YAML shape.
//!
//! A Temporal operator points this crate at the config file they already have: the sections
//! read are `global.authorization` (spec E.12, plus this crate's additions), `global.tls`
//! (spec F.1) and `services.frontend.rpc` (`grpcPort`, `bindOnIP`, `bindOnLocalHost`).
//!
//! - **Unknown keys are errors** inside every section read, so a typo never silently weakens
//!   security. The other sections a Temporal config has (`persistence`, `log`,
//!   `clusterMetadata`, `dcRedirectionPolicy`, `archival`, `publicClient`,
//!   `dynamicConfigClient`, `namespaceDefaults`, `otel`; in `global`: `membership`, `pprof`,
//!   `metrics`; the other `services`) are accepted and ignored; any other top-level key is an
//!   error.
//! - **Durations** are Go's (`500ms`, `30s`, `1m`, `1h30m`, `0`).
//! - **Environment variables**: `${NAME}` in any string value is replaced by the variable's
//!   value; an unset variable is an error naming it (`$${` writes a literal `${`).
//! - **Errors** name the file, the key path and, where the YAML parser knows it, the line and
//!   column: `frontend.yaml:12:17: global.authorization.authorizer: unknown authorizer: foo`.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use tonic_authz::config::{AuthorizerKind, Config};
//!
//! let config = Config::load_str(
//!     r#"
//! global:
//!   authorization:
//!     jwtKeyProvider:
//!       keySourceURIs: ["https://issuer.example/.well-known/jwks.json"]
//!       refreshInterval: 1h30m
//!     authorizer: default
//!     claimMapper: default
//! services:
//!   frontend:
//!     rpc:
//!       grpcPort: 7233
//!       bindOnIP: 0.0.0.0
//! "#,
//! )?;
//! let authz = &config.global.authorization;
//! assert_eq!(authz.authorizer, AuthorizerKind::Default);
//! assert_eq!(authz.jwt_key_provider.refresh_interval, Duration::from_secs(5400));
//! assert_eq!(config.services.frontend.rpc.listen_addr()?.to_string(), "0.0.0.0:7233");
//! # Ok::<(), tonic_authz::config::ConfigError>(())
//! ```

mod authorization;
mod build;
mod decisions;
mod env;
mod error;
mod services;

// The Go-duration serde helper lives on the ground floor, shared with `tls`; the config
// sections name it `super::duration`.
use crate::duration;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::MessageFormatter as _;

pub use authorization::{Authorization, AuthorizerKind, ClaimMapperKind, JwtKeyProvider};
pub use build::FrontendTls;
pub use decisions::{Audit, Cedar};
pub use error::{ConfigError, ConfigErrorKind};
pub use services::{FrontendRpc, FrontendService, Services};

use env::EnvDeserializer;

/// A whole configuration file in Temporal's shape; see the [module docs](self).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Config {
    /// `global`.
    pub global: Global,
    /// `services`.
    pub services: Services,
    // Temporal's other top-level sections: accepted, not read.
    persistence: Option<IgnoredAny>,
    log: Option<IgnoredAny>,
    cluster_metadata: Option<IgnoredAny>,
    dc_redirection_policy: Option<IgnoredAny>,
    archival: Option<IgnoredAny>,
    public_client: Option<IgnoredAny>,
    dynamic_config_client: Option<IgnoredAny>,
    namespace_defaults: Option<IgnoredAny>,
    otel: Option<IgnoredAny>,
    #[serde(skip)]
    source_file: Option<PathBuf>,
}

/// `global`: process-wide settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Global {
    /// `global.authorization`.
    pub authorization: Authorization,
    /// `global.tls`: Temporal's TLS settings, as the [`tls`](crate::tls) module reads them.
    pub tls: crate::tls::GlobalTls,
    // Temporal's other `global` sections: accepted, not read.
    membership: Option<IgnoredAny>,
    pprof: Option<IgnoredAny>,
    metrics: Option<IgnoredAny>,
}

impl Config {
    /// Reads and parses a configuration file, with `${NAME}` taken from the process
    /// environment.
    ///
    /// # Errors
    ///
    /// The file cannot be read, or its content is not a valid configuration (see
    /// [`ConfigError`]; the error names the file).
    pub fn load_file(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        ConfigLoader::new().load_file(path)
    }

    /// Parses a configuration from YAML text, with `${NAME}` taken from the process
    /// environment.
    ///
    /// # Errors
    ///
    /// The text is not a valid configuration (see [`ConfigError`]).
    pub fn load_str(yaml: &str) -> Result<Config, ConfigError> {
        ConfigLoader::new().load_str(yaml)
    }

    /// The file this configuration was read from, if any; errors found later (when building
    /// components) name it too.
    #[must_use]
    pub fn source_file(&self) -> Option<&Path> {
        self.source_file.as_deref()
    }

    /// The checks that need more than one value: Temporal's start-up validation of
    /// `global.tls` (spec F.2) and the frontend's bind address.
    fn validate(&self) -> Result<(), ConfigError> {
        self.global
            .tls
            .validate()
            .map_err(|e| self.locate(build::tls_error(e, "global.tls")))?;
        self.services
            .frontend
            .rpc
            .listen_addr()
            .map_err(|e| self.locate(e))?;
        Ok(())
    }

    /// Attaches this configuration's file to an error found after parsing.
    pub(crate) fn locate(&self, error: ConfigError) -> ConfigError {
        error.with_file(self.source_file())
    }
}

type BoxedLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Loads a [`Config`] with a chosen source of environment variables (tests, or a launcher that
/// keeps its own table).
///
/// ```
/// use tonic_authz::config::ConfigLoader;
///
/// let yaml = "global:\n  authorization:\n    audience: ${AUD}\n";
/// let config = ConfigLoader::new()
///     .env(|name| (name == "AUD").then(|| "my-api".to_owned()))
///     .load_str(yaml)?;
/// assert_eq!(config.global.authorization.audience, "my-api");
/// # Ok::<(), tonic_authz::config::ConfigError>(())
/// ```
#[must_use]
pub struct ConfigLoader {
    env: BoxedLookup,
    source_name: Option<PathBuf>,
}

impl fmt::Debug for ConfigLoader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigLoader")
            .field("source_name", &self.source_name)
            .finish_non_exhaustive()
    }
}

impl Default for ConfigLoader {
    fn default() -> Self {
        ConfigLoader::new()
    }
}

impl ConfigLoader {
    /// A loader reading `${NAME}` from the process environment (variables that are not valid
    /// Unicode count as unset).
    pub fn new() -> ConfigLoader {
        ConfigLoader {
            env: Box::new(|name| std::env::var(name).ok()),
            source_name: None,
        }
    }

    /// Where `${NAME}` values come from. Default: the process environment.
    pub fn env(mut self, lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Box::new(lookup);
        self
    }

    /// The file name errors report for [`load_str`](Self::load_str). Default: none.
    pub fn source_name(mut self, name: impl Into<PathBuf>) -> Self {
        self.source_name = Some(name.into());
        self
    }

    /// Reads and parses `path`; errors name `path`.
    ///
    /// # Errors
    ///
    /// The file cannot be read, or it is not a valid configuration.
    pub fn load_file(self, path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(ConfigErrorKind::Read, format!("cannot read the file: {e}"))
                .with_file(Some(path))
                .with_source(e)
        })?;
        self.source_name(path).load_str(&text)
    }

    /// Parses YAML text.
    ///
    /// # Errors
    ///
    /// The text is not a valid configuration.
    pub fn load_str(self, yaml: &str) -> Result<Config, ConfigError> {
        let file = self.source_name.as_deref();
        // An empty document is an empty configuration: every default.
        if yaml.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#')
        }) {
            return Ok(Config {
                source_file: file.map(Path::to_path_buf),
                ..Config::default()
            });
        }
        let options = serde_saphyr::options! { with_snippet: false };
        let mut key_path = String::new();
        let env: &dyn Fn(&str) -> Option<String> = &*self.env;
        let parsed = serde_saphyr::with_deserializer_from_str_with_options(yaml, options, |de| {
            serde_path_to_error::deserialize::<_, Config>(EnvDeserializer::new(de, env)).map_err(
                |e| {
                    key_path = e.path().to_string();
                    e.into_inner()
                },
            )
        });
        match parsed {
            Ok(mut config) => {
                config.source_file = file.map(Path::to_path_buf);
                config.validate()?;
                Ok(config)
            }
            Err(e) => Err(yaml_error(&e, &key_path, file)),
        }
    }
}

/// Turns the YAML parser's error into a [`ConfigError`] with its location and key path.
fn yaml_error(error: &serde_saphyr::Error, key_path: &str, file: Option<&Path>) -> ConfigError {
    let bare = error.without_snippet();
    let message = serde_saphyr::DefaultMessageFormatter.format_message(bare);
    // The message may quote the input: keep control characters out of terminals and logs.
    let message: String = message
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect();
    // serde_path_to_error spells the root `.` and a key it did not see yet `?`.
    let mut key_path = key_path
        .trim_end_matches('?')
        .trim_end_matches('.')
        .to_owned();
    let mut message = message;
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        // The parser's hint speaks to developers (parser options), not to operators.
        let key = rest.split(", set ").next().unwrap_or(rest).to_owned();
        if !key_path.is_empty() {
            key_path.push('.');
        }
        key_path.push_str(&key);
        message = format!("duplicate key `{key}`");
    }
    let mut out = ConfigError::new(ConfigErrorKind::Parse, message)
        .with_file(file)
        .with_key_path(key_path);
    if let Some(location) = error.location() {
        out = out.with_location(location.line(), location.column());
    }
    out
}
