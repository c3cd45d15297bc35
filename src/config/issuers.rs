//! `global.authorization.issuers`: the identity providers trusted besides (or instead of)
//! Temporal's single `jwtKeyProvider`, each with its own key source, audiences, claims and
//! group table, and how each entry becomes a [`TrustedIssuer`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::duration;
use super::{Config, ConfigError};
use crate::{
    DiscoveryKeyProvider, JwksKeyProvider, JwtAlgorithm, KeyError, TokenKeyProvider, TrustedIssuer,
};

/// One entry of `global.authorization.issuers`.
///
/// Every key but `issuer` is optional; a key that is present must not be blank.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct IssuerConfig {
    /// The issuer URL, compared exactly with the token's `iss`. Unless `keySourceURIs` is
    /// given, keys are found through OpenID Connect Discovery at
    /// `<issuer>/.well-known/openid-configuration`. Required.
    pub issuer: String,
    /// JWK Set URIs (`https://`, `http://`, `file://`) to use instead of discovery.
    /// Default: empty (discovery).
    #[serde(rename = "keySourceURIs", default)]
    pub key_source_uris: Vec<String>,
    /// The audiences a token of this issuer must name one of. Default: empty (only the
    /// top-level `audience` applies).
    #[serde(default)]
    pub audience: Vec<String>,
    /// The claim naming the caller, a dotted path. Default: `sub`.
    pub subject_claim: Option<String>,
    /// The claim holding permissions or groups, a dotted path into nested objects
    /// (`realm_access.roles`; `\.` for a dot in a key); an array of strings or a
    /// space-separated string. Default: `permissions`.
    pub permissions_claim_name: Option<String>,
    /// As the top-level `permissionsRegex`, for this issuer; a regex that does not compile
    /// or lacks a group is a start-up error here. Default: unset (`namespace:role`).
    pub permissions_regex: Option<String>,
    /// Claim values (groups, roles) to the permissions they grant. Default: empty.
    #[serde(default)]
    pub group_permissions: BTreeMap<String, Vec<String>>,
    /// The algorithms this issuer's tokens may use. Default: `[RS256, ES256]`.
    pub algorithms: Option<Vec<String>>,
    /// How often the key set is fetched again, a Go duration. Default `1m`.
    #[serde(default, deserialize_with = "duration::deserialize_option")]
    pub refresh_interval: Option<Duration>,
    /// The total time allowed for one fetch of metadata or keys, a Go duration.
    /// Default `10s`.
    #[serde(default, deserialize_with = "duration::deserialize_option")]
    pub timeout: Option<Duration>,
    /// A PEM file of extra CA certificates trusted for this issuer's HTTPS (a provider with
    /// a private CA). Default: unset (the system's roots).
    pub ca_file: Option<String>,
}

const AT: &str = "global.authorization.issuers";

/// Builds every configured issuer; the key sources load concurrently, so one provider that is
/// slow or down delays start-up by at most its own timeout and blocks no other.
pub(crate) async fn trusted_issuers(config: &Config) -> Result<Vec<TrustedIssuer>, ConfigError> {
    let list = &config.global.authorization.issuers;
    let mut seen = std::collections::HashSet::new();
    for (i, entry) in list.iter().enumerate() {
        if !seen.insert(entry.issuer.as_str()) {
            return Err(config.locate(ConfigError::invalid(
                format!("{AT}[{i}].issuer"),
                format!("issuer {:?} is listed twice", entry.issuer),
            )));
        }
    }
    let built =
        futures_util::future::join_all(list.iter().enumerate().map(|(i, e)| issuer(config, i, e)))
            .await;
    built.into_iter().collect()
}

async fn issuer(
    config: &Config,
    i: usize,
    entry: &IssuerConfig,
) -> Result<TrustedIssuer, ConfigError> {
    let at = |key: &str| format!("{AT}[{i}].{key}");
    let invalid =
        |key: &str, message: String| config.locate(ConfigError::invalid(at(key), message));
    if entry.issuer.trim().is_empty() {
        return Err(invalid("issuer", "must not be blank".to_owned()));
    }
    if let Some(k) = entry
        .key_source_uris
        .iter()
        .position(|u| u.trim().is_empty())
    {
        return Err(invalid(
            &format!("keySourceURIs[{k}]"),
            "must not be blank".to_owned(),
        ));
    }
    for (key, value) in [
        ("subjectClaim", &entry.subject_claim),
        ("permissionsClaimName", &entry.permissions_claim_name),
        ("permissionsRegex", &entry.permissions_regex),
        ("caFile", &entry.ca_file),
    ] {
        if value.as_ref().is_some_and(|v| v.trim().is_empty()) {
            return Err(invalid(key, "must not be blank".to_owned()));
        }
    }
    let algorithms = match &entry.algorithms {
        None => None,
        Some(names) if names.is_empty() => {
            return Err(invalid("algorithms", "must not be empty".to_owned()));
        }
        Some(names) => Some(
            names
                .iter()
                .map(|n| {
                    JwtAlgorithm::from_name(n)
                        .ok_or_else(|| invalid("algorithms", format!("unknown JWT algorithm: {n}")))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let ca_pem = match &entry.ca_file {
        None => None,
        Some(path) => Some(std::fs::read(path).map_err(|e| {
            config.locate(ConfigError::build(
                at("caFile"),
                format!("cannot read {path}: {e}"),
            ))
        })?),
    };
    let keys = key_source(entry, ca_pem).await.map_err(|(key, e)| {
        config.locate(ConfigError::build(at(key), e.to_string()).with_source(e))
    })?;
    let mut builder = TrustedIssuer::builder(entry.issuer.clone(), keys)
        .audiences(entry.audience.iter().cloned())
        .group_permissions(entry.group_permissions.clone().into_iter().collect());
    if let Some(claim) = &entry.subject_claim {
        builder = builder.subject_claim(claim.clone());
    }
    if let Some(claim) = &entry.permissions_claim_name {
        builder = builder.permissions_claim(claim.clone());
    }
    if let Some(regex) = &entry.permissions_regex {
        builder = builder.permissions_regex(regex.clone());
    }
    if let Some(algorithms) = algorithms {
        builder = builder.algorithms(algorithms);
    }
    if let Some(namespaces) = &config.global.authorization.system_permission_namespaces {
        builder = builder.system_namespaces(namespaces.iter().cloned());
    }
    builder.build().map_err(|e| {
        // The builder's message starts with the key it concerns.
        let (key, message) = e
            .message()
            .split_once(": ")
            .unwrap_or(("issuer", e.message()));
        invalid(key, message.to_owned())
    })
}

/// The issuer's keys: its JWK Sets when listed, else discovery. On error, the key at fault.
async fn key_source(
    entry: &IssuerConfig,
    ca_pem: Option<Vec<u8>>,
) -> Result<Arc<dyn TokenKeyProvider>, (&'static str, KeyError)> {
    if entry.key_source_uris.is_empty() {
        let mut b = DiscoveryKeyProvider::builder(entry.issuer.clone());
        if let Some(interval) = entry.refresh_interval {
            b = b.refresh_interval(interval);
        }
        if let Some(timeout) = entry.timeout {
            b = b.timeout(timeout);
        }
        if let Some(pem) = ca_pem {
            b = b.extra_root_certificates_pem(pem);
        }
        let keys = b.build().await.map_err(|e| ("issuer", e))?;
        Ok(Arc::new(keys))
    } else {
        let mut b = JwksKeyProvider::builder().uris(entry.key_source_uris.iter().cloned());
        if let Some(interval) = entry.refresh_interval {
            b = b.refresh_interval(interval);
        }
        if let Some(timeout) = entry.timeout {
            b = b.timeout(timeout);
        }
        if let Some(pem) = ca_pem {
            b = b.extra_root_certificates_pem(pem);
        }
        let keys = b.build().await.map_err(|e| ("keySourceURIs", e))?;
        Ok(Arc::new(keys))
    }
}
