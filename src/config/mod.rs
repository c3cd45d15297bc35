//! Configuration in Temporal's YAML shape.
//!
//! A Temporal operator points this crate at the config file they already have: the sections
//! read are `global.authorization` (Temporal's keys plus this crate's additions), `global.tls`
//! (Temporal's) and `services.frontend.rpc` (`grpcPort`, `bindOnIP`, `bindOnLocalHost`).
//!
//! - **Unknown keys are errors inside the sections acted on** (`global.authorization`,
//!   `global.tls`, `services.frontend.rpc`), so a typo there never silently weakens security.
//!   Everywhere else the file is read as Temporal reads it: every other section and key
//!   (`persistence`, `log`, `clusterMetadata`, `archival`, `global.membership`,
//!   `global.metrics`, other services, and keys later Temporal versions add) is accepted and
//!   ignored, so the config of a running Temporal deployment loads unchanged.
//! - **Templates**: a file marked `# enable-template` in its leading comments is a Go
//!   template Temporal renders before reading; this crate does not render templates and says
//!   so (see [`ConfigLoader::load_str`]).
//! - **Durations** are Go's (`500ms`, `30s`, `1m`, `1h30m`, `0`).
//! - **Environment variables**: `${NAME}` in any string value is replaced by the variable's
//!   value; an unset variable is an error naming it; `${NAME:-default}` falls back to
//!   `default` when the variable is unset or empty (`$${` writes a literal `${`).
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

mod api_keys;
mod authorization;
mod build;
mod certificate_rules;
mod connections;
mod decisions;
mod env;
mod error;
mod issuers;
mod services;
mod template;
mod upstream;

// The Go-duration serde helper lives on the ground floor, shared with `tls`; the config
// sections name it `super::duration`.
use crate::duration;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::MessageFormatter as _;

pub use api_keys::ApiKeys;
pub use authorization::{Authorization, AuthorizerKind, ClaimMapperKind, JwtKeyProvider};
pub use build::FrontendTls;
pub use connections::{
    DEFAULT_MAX_CONCURRENT_STREAMS, KeepAliveServerConfig, KeepAliveServerParameters,
};
pub use decisions::{Audit, Cedar};
pub use error::{ConfigError, ConfigErrorKind};
pub use issuers::IssuerConfig;
pub use services::{FrontendRpc, FrontendService, Services};
pub use upstream::{Upstream, UpstreamCredentials};

use env::EnvDeserializer;

/// A whole configuration file in Temporal's shape; see the [module docs](self).
///
/// Lenient, as Temporal's loader: keys other than `global` and `services` are Temporal's
/// business (`persistence`, `clusterMetadata`, ...) and are skipped without being expanded.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Config {
    /// `global`.
    pub global: Global,
    /// `services`.
    pub services: Services,
    /// `upstream` (ours): the real Temporal frontend to forward allowed calls to. Default: none.
    pub upstream: Option<Upstream>,
    #[serde(skip)]
    source_file: Option<PathBuf>,
}

/// `global`: process-wide settings.
///
/// Lenient, as Temporal's loader: `membership`, `pprof`, `metrics` and any other key are
/// skipped; the two sections read are strict.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Global {
    /// `global.authorization`.
    pub authorization: Authorization,
    /// `global.tls`: Temporal's TLS settings, as the [`tls`](crate::tls) module reads them.
    pub tls: crate::tls::GlobalTls,
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
    /// `global.tls` (Temporal's start-up checks) and the frontend's bind address.
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
        if let Some(upstream) = &self.upstream {
            upstream.validate().map_err(|e| self.locate(e))?;
        }
        Ok(())
    }

    /// Attaches this configuration's file to an error found after parsing.
    pub(crate) fn locate(&self, error: ConfigError) -> ConfigError {
        error.with_file(self.source_file())
    }
}

/// Parses a duration as the configuration files spell them: Go's syntax (`500ms`, `30s`,
/// `1m`, `1h30m`, `0`), so a command-line flag accepts exactly what the config accepts.
///
/// ```
/// use std::time::Duration;
///
/// let ttl = tonic_authz::config::parse_duration("1h30m")?;
/// assert_eq!(ttl, Duration::from_secs(5400));
/// assert!(tonic_authz::config::parse_duration("7d").is_err());
/// # Ok::<(), tonic_authz::config::ConfigError>(())
/// ```
///
/// # Errors
///
/// The text is not a Go duration, or it is negative.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, ConfigError> {
    duration::parse(text).map_err(|e| ConfigError::new(ConfigErrorKind::Parse, e.to_string()))
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
    /// The text is not a valid configuration, or it is a Go template (a `# enable-template`
    /// line among its leading comments: Temporal renders such files before reading them, this
    /// crate does not).
    pub fn load_str(self, yaml: &str) -> Result<Config, ConfigError> {
        let file = self.source_name.as_deref();
        template::refuse_templates(yaml).map_err(|e| e.with_file(file))?;
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
        // An empty value is an empty string, as Go's YAML decoder reads it into a string:
        // Temporal's rendered templates are full of `certFile:` with nothing after it.
        let options = serde_saphyr::options! { with_snippet: false, null_as_string: true };
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
