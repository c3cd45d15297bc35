//! How the `frontend` binary turns its security settings (from flags, or from dev mode's
//! defaults) into an [`AuthzLayer`]: which authorizer decides, and where claims come from —
//! bearer JWTs checked against JWK Sets, client-certificate rules, or both combined.

use std::{sync::Arc, time::Duration};

use tonic_authz::{
    AuthzLayer, CertificateClaimMapper, CertificateField, CertificateRule, CombinedClaimMapper,
    DefaultAuthorizer, DiscoveryKeyProvider, JwksKeyProvider, JwtClaimMapper, NoopAuthorizer,
    NoopClaimMapper, TrustedIssuer,
};

use crate::dev::DevError;

/// Which authorizer decides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthorizerKind {
    /// Temporal's default authorizer (the default).
    #[default]
    Default,
    /// Allows every call.
    Noop,
}

/// Where claims come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimMapperKind {
    /// From the call's credentials: the JWT mapper when JWKS URIs are set, the certificate
    /// mapper when certificate rules are set, both combined when both are (the default).
    #[default]
    Credentials,
    /// Everyone is system admin.
    Noop,
    /// No claim mapper: claims are always absent.
    None,
}

/// The security settings of a Frontend.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct SecuritySettings {
    /// The authorizer. Default: Temporal's.
    pub authorizer: AuthorizerKind,
    /// The claim mapper. Default: from credentials.
    pub claim_mapper: ClaimMapperKind,
    /// JWK Set URIs whose keys sign accepted tokens. Default: none.
    pub jwks_uris: Vec<String>,
    /// How often the JWK Sets are fetched again. Default (zero): every minute.
    pub jwks_refresh: Duration,
    /// The audience tokens must name. Default: not checked.
    pub audience: Option<String>,
    /// The issuer tokens must name. Default: not checked.
    pub issuer: Option<String>,
    /// Issuer URLs trusted through OpenID discovery: a token whose `iss` is one of them is
    /// verified only with the keys its discovery document points to. Default: none.
    pub discovery_issuers: Vec<String>,
    /// Rules giving certificate-only callers roles. Default: none.
    pub certificate_rules: Vec<CertificateRule>,
    /// The namespaces used as metric labels (others are counted as one). Default: none.
    pub known_namespaces: Vec<String>,
}

impl SecuritySettings {
    /// Builds the layer, fetching the JWK Sets once.
    ///
    /// # Errors
    ///
    /// A JWKS URI is invalid, the certificate rules are invalid, or the claim mapper is
    /// "from credentials" with neither JWKS URIs nor certificate rules.
    pub async fn layer(&self) -> Result<AuthzLayer, DevError> {
        let builder = AuthzLayer::builder().known_namespaces(self.known_namespaces.clone());
        let builder = match self.authorizer {
            AuthorizerKind::Default => builder.authorizer(DefaultAuthorizer::new()),
            AuthorizerKind::Noop => {
                tracing::warn!("authorizer is the no-op authorizer: every call is allowed");
                builder.authorizer(NoopAuthorizer)
            }
        };
        let builder = match &self.audience {
            Some(audience) => builder.audience(audience.clone()),
            None => builder,
        };
        let builder = match self.claim_mapper {
            ClaimMapperKind::Noop => {
                tracing::warn!(
                    "claim mapper is the no-op claim mapper: every caller acts as system admin"
                );
                builder.claim_mapper(NoopClaimMapper)
            }
            ClaimMapperKind::None => builder,
            ClaimMapperKind::Credentials => builder.claim_mapper(self.credentials_mapper().await?),
        };
        Ok(builder.build())
    }

    /// The banner line saying authorization is off, when these settings turn it off.
    #[must_use]
    pub fn authorization_off(&self) -> Option<&'static str> {
        authorization_off_notice(
            self.authorizer == AuthorizerKind::Noop,
            self.claim_mapper == ClaimMapperKind::Noop,
        )
    }

    async fn credentials_mapper(&self) -> Result<CombinedClaimMapper, DevError> {
        if self.jwks_uris.is_empty()
            && self.discovery_issuers.is_empty()
            && self.certificate_rules.is_empty()
        {
            return Err(DevError::new(
                "claims from credentials need --jwks-uri or --certificate-rule",
            ));
        }
        let mut trusted = Vec::with_capacity(self.discovery_issuers.len());
        for issuer in &self.discovery_issuers {
            let keys = DiscoveryKeyProvider::builder(issuer.clone())
                .build()
                .await
                .map_err(|e| {
                    DevError::new(format!("invalid discovery issuer {issuer}")).with_source(e)
                })?;
            let trusted_issuer = TrustedIssuer::builder(issuer.clone(), Arc::new(keys))
                .build()
                .map_err(|e| {
                    DevError::new(format!("invalid discovery issuer {issuer}")).with_source(e)
                })?;
            trusted.push(trusted_issuer);
        }
        let mut mapper = CombinedClaimMapper::new();
        if self.jwks_uris.is_empty() && !trusted.is_empty() {
            let mut jwt = JwtClaimMapper::multi_issuer();
            for issuer in trusted.drain(..) {
                jwt = jwt.trusted_issuer(issuer);
            }
            mapper = mapper.with_token_mapper(jwt.build());
        }
        if !self.jwks_uris.is_empty() {
            let refresh = if self.jwks_refresh.is_zero() {
                Duration::from_secs(60)
            } else {
                self.jwks_refresh
            };
            let keys = JwksKeyProvider::builder()
                .uris(self.jwks_uris.iter().cloned())
                .refresh_interval(refresh)
                .build()
                .await
                .map_err(|e| DevError::new("invalid JWKS key source").with_source(e))?;
            let jwt = JwtClaimMapper::builder(Arc::new(keys));
            let mut jwt = match &self.issuer {
                Some(issuer) => jwt.issuer(issuer.clone()),
                None => jwt,
            };
            for issuer in trusted.drain(..) {
                jwt = jwt.trusted_issuer(issuer);
            }
            mapper = mapper.with_token_mapper(jwt.build());
        }
        if !self.certificate_rules.is_empty() {
            let certs = CertificateClaimMapper::new(self.certificate_rules.clone())
                .map_err(|e| DevError::new("invalid certificate rule").with_source(e))?;
            mapper = mapper.with_certificate_mapper(certs);
        }
        Ok(mapper)
    }
}

/// Parses `FIELD=VALUE=PERMISSION[,PERMISSION…]`, e.g.
/// `commonName=worker-*=billing:worker`. FIELD is one of `commonName`, `organization`,
/// `organizationalUnit`, `dnsName`, `uri`; VALUE may end with `*` to match a prefix.
///
/// # Errors
///
/// The text is not in that form or names an unknown field.
pub fn parse_certificate_rule(text: &str) -> Result<CertificateRule, String> {
    let shape = || format!("expected FIELD=VALUE=PERMISSION[,PERMISSION...], got {text:?}");
    let (field, rest) = text.split_once('=').ok_or_else(shape)?;
    let (value, permissions) = rest.rsplit_once('=').ok_or_else(shape)?;
    let field: CertificateField =
        serde_json::from_value(serde_json::Value::String(field.to_owned())).map_err(|_| {
            format!(
                "unknown certificate field {field:?}: expected commonName, organization, organizationalUnit, dnsName or uri"
            )
        })?;
    let permissions: Vec<&str> = permissions.split(',').filter(|p| !p.is_empty()).collect();
    if value.is_empty() || permissions.is_empty() {
        return Err(shape());
    }
    Ok(CertificateRule::new(field, value, permissions))
}

/// The banner line a server prints when a no-op authorizer (every call allowed) or a no-op
/// claim mapper (every caller is system admin) is selected; `None` when neither is.
#[must_use]
pub fn authorization_off_notice(
    noop_authorizer: bool,
    noop_claim_mapper: bool,
) -> Option<&'static str> {
    match (noop_authorizer, noop_claim_mapper) {
        (true, _) => Some("AUTHORIZATION IS OFF: the no-op authorizer allows every call"),
        (false, true) => {
            Some("AUTHORIZATION IS OFF: the no-op claim mapper makes every caller system admin")
        }
        (false, false) => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn certificate_rules_parse_from_flags() {
        let rule = parse_certificate_rule("uri=spiffe://example/ns/a=a:write,b:read").unwrap();
        assert_eq!(rule.field, CertificateField::Uri);
        assert_eq!(rule.value, "spiffe://example/ns/a");
        assert_eq!(rule.permissions, ["a:write", "b:read"]);
        for bad in [
            "commonName",
            "commonName=x",
            "commonName==a:read",
            "color=x=a:read",
        ] {
            assert!(parse_certificate_rule(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn credentials_without_any_source_is_an_error() {
        let err = SecuritySettings::default().layer().await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "claims from credentials need --jwks-uri or --certificate-rule"
        );
    }
}
