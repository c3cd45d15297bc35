//! `global.authorization.apiKeys`: the API-key file (hashes, subjects, permissions, expiry)
//! and how it wraps the token mapper, so opaque bearer keys and JWTs share one header.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::duration;
use super::{Config, ConfigError};
use crate::{ApiKeyClaimMapper, ClaimMapper};

/// `global.authorization.apiKeys`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ApiKeys {
    /// The API-key file (written by `frontend api-key create --file ...`); it must exist and
    /// parse at start-up. Default: unset (no API keys).
    pub file: Option<String>,
    /// How often the file is read again, a Go duration; `0` never. Default `10s`.
    #[serde(deserialize_with = "duration::deserialize_option")]
    pub reload_interval: Option<Duration>,
}

/// The token mapper with API keys in front of it when `apiKeys.file` is set; `tokens`
/// unchanged otherwise.
pub(crate) async fn with_api_keys(
    config: &Config,
    tokens: Option<Arc<dyn ClaimMapper>>,
) -> Result<Option<Arc<dyn ClaimMapper>>, ConfigError> {
    let keys = &config.global.authorization.api_keys;
    let Some(file) = &keys.file else {
        return Ok(tokens);
    };
    let at = "global.authorization.apiKeys.file";
    if file.trim().is_empty() {
        return Err(config.locate(ConfigError::invalid(at, "must not be blank")));
    }
    let mut builder = ApiKeyClaimMapper::builder(file);
    if let Some(interval) = keys.reload_interval {
        builder = builder.reload_interval(interval);
    }
    if let Some(tokens) = tokens {
        builder = builder.token_mapper(tokens);
    }
    let mapper = builder
        .build()
        .await
        .map_err(|e| config.locate(ConfigError::build(at, e.to_string()).with_source(e)))?;
    Ok(Some(Arc::new(mapper)))
}
