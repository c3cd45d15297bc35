//! From configuration to runtime objects: [`AuthzLayer::from_config`] and
//! [`Config::frontend_tls`].
//!
//! This is the only bridge from data to runtime objects, and it only calls the public builders
//! (`AuthzLayer::builder()`, `JwksKeyProvider::builder()`, `JwtClaimMapper::builder()`,
//! `CertificateClaimMapper::new`, `TlsAcceptor::new`), so whatever a file can say, code can
//! say too. Each failure is turned into a [`ConfigError`] naming the key and the file.

use std::fmt;
use std::sync::Arc;

use http::HeaderName;

use super::{AuthorizerKind, ClaimMapperKind, Config, ConfigError, ConfigErrorKind};
use crate::layer::MAX_MESSAGE_SIZE_BOUND;
use crate::permission::PermissionFormat;
use crate::tls::{BackgroundTask, TlsAcceptor, TlsError, TlsErrorKind};
use crate::{
    AuthzLayer, CertificateClaimMapper, ClaimMapper, CombinedClaimMapper, DefaultAuthorizer,
    JwksKeyProvider, JwtClaimMapper, NoopAuthorizer, NoopClaimMapper,
};

const AUTHZ: &str = "global.authorization";

impl AuthzLayer {
    /// Builds the layer from `config.global.authorization` (see
    /// [`config`](crate::config) and `docs/configuration.md`):
    ///
    /// - `authorizer`: `default` gives [`DefaultAuthorizer`], `noop` [`NoopAuthorizer`] (with a
    ///   warning);
    /// - `claimMapper`: `noop` gives [`NoopClaimMapper`] (with a warning); `default` gives a
    ///   [`JwtClaimMapper`]
    ///   over a [`JwksKeyProvider`] (from `jwtKeyProvider`), and, when `certificateClaimRules`
    ///   is set, a [`CertificateClaimMapper`] too, the two combined with
    ///   [`CombinedClaimMapper`] (the token mapper for calls with a token, the certificate
    ///   mapper for calls with a verified client certificate). With certificate rules and no
    ///   `keySourceURIs` (mutual TLS only), only the certificate mapper is used;
    /// - every other key goes to the matching builder setter; unset keys keep the builder's
    ///   default.
    ///
    /// Async because the JWKS key sets are fetched once before the layer serves (a failed
    /// first fetch is logged and retried, as in Temporal; it does not fail start-up). Must be
    /// called inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// A value no builder accepts: a key-source URI that is not usable, a certificate rule
    /// that does not compile, an invalid header name, a `permissionsRegex` that does not
    /// compile or lacks its groups, a `maxMessageSize` above 1 GiB. The error names the key
    /// and the file.
    pub async fn from_config(config: &Config) -> Result<AuthzLayer, ConfigError> {
        let a = &config.global.authorization;
        let mut builder = AuthzLayer::builder();
        builder = match a.authorizer {
            AuthorizerKind::Noop => {
                tracing::warn!(
                    "authorizer is the no-op authorizer (`authorizer: noop`): every call is allowed"
                );
                builder.authorizer(NoopAuthorizer)
            }
            AuthorizerKind::Default if a.worker_role => {
                builder.authorizer(DefaultAuthorizer::new().with_worker_role())
            }
            AuthorizerKind::Default => builder.authorizer(DefaultAuthorizer::new()),
            AuthorizerKind::Cedar => cedar(config, builder)?,
        };
        if a.worker_role && a.authorizer != AuthorizerKind::Default {
            return Err(config.locate(ConfigError::invalid(
                format!("{AUTHZ}.workerRole"),
                "workerRole applies to `authorizer: default` only (with cedar, write it as a \
                 policy over the `Worker` action group)",
            )));
        }
        if let Some(audit) = &a.audit {
            builder = builder
                .audit(super::decisions::audit_sink(config, audit)?)
                .audit_decisions(audit.decisions);
        }
        builder = match a.claim_mapper {
            ClaimMapperKind::Noop => {
                tracing::warn!(
                    "claim mapper is the no-op claim mapper (`claimMapper: noop`): every caller \
                     acts as system admin"
                );
                builder.claim_mapper(NoopClaimMapper)
            }
            ClaimMapperKind::Default => {
                builder.shared_claim_mapper(default_claim_mapper(config).await?)
            }
        };
        // An empty name keeps the default, as in Temporal.
        if let Some(name) = header_name(config, "authHeaderName", &a.auth_header_name)? {
            builder = builder.auth_header_name(name);
        }
        if let Some(name) = header_name(config, "authExtraHeaderName", &a.auth_extra_header_name)? {
            builder = builder.auth_extra_header_name(name);
        }
        builder = builder
            .audience(a.audience.clone())
            .expose_authorizer_errors(a.expose_authorizer_errors)
            .dry_run(a.dry_run)
            .cross_namespace_commands(a.enable_cross_namespace_commands)
            .known_namespaces(a.known_namespaces.iter().cloned());
        if let Some(bytes) = a.max_message_size {
            if bytes > MAX_MESSAGE_SIZE_BOUND {
                return Err(config.locate(ConfigError::invalid(
                    format!("{AUTHZ}.maxMessageSize"),
                    format!(
                        "{bytes} bytes is more than the largest accepted, \
                         {MAX_MESSAGE_SIZE_BOUND} (1 GiB)"
                    ),
                )));
            }
            builder = builder.max_message_size(bytes);
        }
        if let Some(timeout) = a.body_timeout {
            builder = builder.body_timeout(timeout);
        }
        Ok(builder.build())
    }
}

/// `authorizer: cedar`: the policies of `cedar.policyFile`, or an error without the feature.
fn cedar(
    config: &Config,
    builder: crate::AuthzLayerBuilder,
) -> Result<crate::AuthzLayerBuilder, ConfigError> {
    #[cfg(feature = "cedar")]
    {
        let authz = super::decisions::cedar_authorizer(config, &config.global.authorization.cedar)?;
        Ok(builder.authorizer(authz))
    }
    #[cfg(not(feature = "cedar"))]
    {
        let _ = builder;
        Err(config.locate(ConfigError::invalid(
            format!("{AUTHZ}.authorizer"),
            "`authorizer: cedar` needs tonic-authz built with the `cedar` feature",
        )))
    }
}

/// The header name configured at `global.authorization.<key>`; `None` when empty.
fn header_name(config: &Config, key: &str, name: &str) -> Result<Option<HeaderName>, ConfigError> {
    if name.is_empty() {
        return Ok(None);
    }
    HeaderName::try_from(name).map(Some).map_err(|e| {
        config.locate(ConfigError::invalid(
            format!("{AUTHZ}.{key}"),
            format!("invalid header name {name:?}: {e}"),
        ))
    })
}

/// `claimMapper: default`: the JWT mapper, the certificate mapper, or both combined.
async fn default_claim_mapper(config: &Config) -> Result<Arc<dyn ClaimMapper>, ConfigError> {
    let a = &config.global.authorization;
    let certificates = if a.certificate_claim_rules.is_empty() {
        None
    } else {
        let rules = a.certificate_claim_rules.clone();
        // The same system namespaces as the JWT mapper, so a permission means one thing.
        let built = match &a.system_permission_namespaces {
            Some(names) => CertificateClaimMapper::with_system_namespaces(rules, names.clone()),
            None => CertificateClaimMapper::new(rules),
        };
        let mapper = built.map_err(|e| {
            // The rule's own message, without the mapper's `rules[i]: ` prefix: the key
            // path says which rule.
            let full = e.to_string();
            let prefix = format!("rules[{}]: ", e.rule());
            let message = full.strip_prefix(&prefix).unwrap_or(&full).to_owned();
            config.locate(
                ConfigError::invalid(
                    format!("{AUTHZ}.certificateClaimRules[{}]", e.rule()),
                    message,
                )
                .with_source(e),
            )
        })?;
        for warning in super::certificate_rules::certificate_rule_warnings(config) {
            tracing::warn!("{warning}");
        }
        Some(mapper)
    };
    let has_key_sources = a
        .jwt_key_provider
        .key_source_uris
        .iter()
        .any(|uri| !uri.trim().is_empty());
    // Temporal's default mapper is the JWT mapper; with only certificate rules configured the
    // deployment is mutual-TLS only and a JWT mapper without keys would refuse every token.
    let only_other_credentials = certificates.is_some() || a.api_keys.file.is_some();
    let tokens = if has_key_sources || !a.issuers.is_empty() || !only_other_credentials {
        Some(Arc::new(jwt_claim_mapper(config).await?) as Arc<dyn ClaimMapper>)
    } else {
        None
    };
    let tokens = super::api_keys::with_api_keys(config, tokens).await?;
    Ok(match (tokens, certificates) {
        (Some(tokens), Some(certificates)) => Arc::new(
            CombinedClaimMapper::new()
                .with_token_mapper(tokens)
                .with_certificate_mapper(certificates),
        ),
        (Some(tokens), None) => tokens,
        (None, Some(certificates)) => Arc::new(certificates),
        // Unreachable today (no certificate rules means the token mapper is built); an error
        // rather than a mapper that lets everyone in, should a later change make it reachable.
        (None, None) => {
            return Err(config.locate(ConfigError::build(
                format!("{AUTHZ}.claimMapper"),
                "the default claim mapper has neither key sources nor certificate rules".to_owned(),
            )));
        }
    })
}

async fn jwt_claim_mapper(config: &Config) -> Result<JwtClaimMapper, ConfigError> {
    let a = &config.global.authorization;
    let provider = &a.jwt_key_provider;
    let trusted = super::issuers::trusted_issuers(config).await?;
    // With issuers listed and no `jwtKeyProvider` sources, only the listed issuers are
    // trusted; otherwise Temporal's provider stays the default issuer.
    if !trusted.is_empty() && provider.key_source_uris.iter().all(|u| u.trim().is_empty()) {
        let mut mapper = JwtClaimMapper::multi_issuer();
        for issuer in trusted {
            mapper = mapper.trusted_issuer(issuer);
        }
        if let Some(leeway) = a.leeway {
            mapper = mapper.leeway(leeway);
        }
        if let Some(capacity) = a.token_cache_size {
            mapper = mapper.cache_capacity(capacity);
        }
        if let Some(max_age) = a.token_cache_max_age {
            mapper = mapper.cache_max_age(max_age);
        }
        return Ok(mapper.build());
    }
    let mut keys = JwksKeyProvider::builder()
        .uris(provider.key_source_uris.iter().cloned())
        .refresh_interval(provider.refresh_interval);
    if let Some(cooldown) = provider.kid_miss_cooldown {
        keys = keys.kid_miss_cooldown(cooldown);
    }
    let keys = keys.build().await.map_err(|e| {
        config.locate(
            ConfigError::build(
                format!("{AUTHZ}.jwtKeyProvider.keySourceURIs"),
                e.to_string(),
            )
            .with_source(e),
        )
    })?;
    let mut mapper = JwtClaimMapper::builder(Arc::new(keys));
    for issuer in trusted {
        mapper = mapper.trusted_issuer(issuer);
    }
    // Empty means the default, as in Temporal.
    if !a.permissions_claim_name.is_empty() {
        mapper = mapper.permissions_claim_name(a.permissions_claim_name.clone());
    }
    if !a.permissions_regex.is_empty() {
        // No silent fallback to `namespace:role` (Temporal's): the regex must be usable.
        PermissionFormat::parse(Some(&a.permissions_regex)).map_err(|message| {
            config.locate(ConfigError::invalid(
                format!("{AUTHZ}.permissionsRegex"),
                message,
            ))
        })?;
        mapper = mapper.permissions_regex(a.permissions_regex.clone());
    }
    if let Some(namespaces) = &a.system_permission_namespaces {
        mapper = mapper.system_namespaces(namespaces.iter().cloned());
    }
    if let Some(algorithms) = &a.algorithms {
        mapper = mapper.algorithms(algorithms.iter().copied());
    }
    if let Some(leeway) = a.leeway {
        mapper = mapper.leeway(leeway);
    }
    if let Some(issuer) = &a.issuer {
        mapper = mapper.issuer(issuer.clone());
    }
    if let Some(capacity) = a.token_cache_size {
        mapper = mapper.cache_capacity(capacity);
    }
    if let Some(max_age) = a.token_cache_max_age {
        mapper = mapper.cache_max_age(max_age);
    }
    Ok(mapper.build())
}

/// The frontend listener's TLS, built from `global.tls`: the acceptor, and the background
/// certificate reload (`refreshInterval`) and expiration checks (`expirationChecks`), which
/// run until this value is dropped.
#[must_use = "certificate reload and expiration checks stop when this is dropped"]
pub struct FrontendTls {
    acceptor: TlsAcceptor,
    _reloader: BackgroundTask,
    _expiration_checks: BackgroundTask,
}

impl FrontendTls {
    /// The acceptor to serve with (e.g. `acceptor().incoming(listener)` into tonic's
    /// `serve_with_incoming`). Clones share the reloaded material.
    #[must_use]
    pub fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

impl fmt::Debug for FrontendTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrontendTls")
            .field("acceptor", &self.acceptor)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The frontend listener's TLS from `global.tls.frontend`, or `None` when server TLS is off
    /// there (no `keyFile` / `keyData`, as in Temporal): then the frontend serves plaintext.
    /// Certificate reload every `global.tls.refreshInterval` and the expiration checks start
    /// here when configured, so this must be called inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// Temporal's start-up validation of `global.tls` or a certificate, key or CA
    /// that does not load; the error names the key (`global.tls.frontend.server.certFile`)
    /// and the configuration file.
    pub fn frontend_tls(&self) -> Result<Option<FrontendTls>, ConfigError> {
        let tls = &self.global.tls;
        tls.validate()
            .map_err(|e| self.locate(tls_error(e, "global.tls")))?;
        if !tls.frontend.server.is_enabled() {
            return Ok(None);
        }
        let acceptor = TlsAcceptor::new(&tls.frontend)
            .map_err(|e| self.locate(tls_error(e, "global.tls.frontend")))?;
        let reloader = acceptor.spawn_reloader(tls.refresh_interval);
        let expiration_checks = acceptor.spawn_expiration_checks(tls.expiration_checks);
        Ok(Some(FrontendTls {
            acceptor,
            _reloader: reloader,
            _expiration_checks: expiration_checks,
        }))
    }
}

/// A TLS error as a configuration error at `prefix` + the TLS error's own field.
pub(crate) fn tls_error(error: TlsError, prefix: &str) -> ConfigError {
    let kind = match error.kind() {
        TlsErrorKind::Invalid => ConfigErrorKind::Invalid,
        _ => ConfigErrorKind::Build,
    };
    let key_path = if error.field().is_empty() {
        prefix.to_owned()
    } else {
        format!("{prefix}.{}", error.field())
    };
    ConfigError::new(kind, error.message().to_owned())
        .with_key_path(key_path)
        .with_source(error)
}
