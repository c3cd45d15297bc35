//! [`CertificateClaimMapper`]: claims from the verified client certificate (the security
//! document's second approach), by rules over the subject and the SANs.
//!
//! A rule names a certificate field, a value (exact, or a prefix when it ends with `*`) and the
//! permissions it grants, in the JWT mapper's `namespace:role` form (`temporal-system:admin`
//! grants the system role). Rules are checked when the mapper is built, so a typo in a role is
//! a start-up error rather than a silently missing permission.
//!
//! # Example
//! ```
//! use tonic_authz::{CertificateClaimMapper, CertificateField, CertificateRule};
//!
//! let mapper = CertificateClaimMapper::new(vec![
//!     CertificateRule::new(CertificateField::CommonName, "worker-*", ["billing:worker"]),
//!     CertificateRule::new(CertificateField::Uri, "spiffe://example/ns/billing", ["billing:write"]),
//!     CertificateRule::new(CertificateField::OrganizationalUnit, "ops", ["temporal-system:admin"]),
//! ])
//! .unwrap();
//!
//! // Or from config:
//! let rules: Vec<CertificateRule> = serde_json::from_str(
//!     r#"[{"field": "dnsName", "value": "api.example.com", "permissions": ["default:read"]}]"#,
//! ).unwrap();
//! assert!(CertificateClaimMapper::new(rules).is_ok());
//! ```

use std::error::Error as StdError;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::tls::{TlsConnection, TlsSubject};
use crate::{AuthInfo, BoxFuture, ClaimMapper, Claims, ClaimsError, Role};

/// The namespace whose permissions apply system-wide (as in Temporal's JWT mapper).
const SYSTEM_NAMESPACE: &str = "temporal-system";

/// The `auth_type` of claims this mapper produces.
pub const CERTIFICATE_AUTH_TYPE: &str = "certificate";

/// Which part of the client certificate a [`CertificateRule`] looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum CertificateField {
    /// The subject's common name (CN).
    CommonName,
    /// Any of the subject's organizations (O).
    Organization,
    /// Any of the subject's organizational units (OU).
    OrganizationalUnit,
    /// Any DNS name SAN (compared case-insensitively).
    DnsName,
    /// Any URI SAN, SPIFFE IDs included.
    Uri,
}

/// One mapping rule: when `field` has a value matching `value`, grant `permissions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct CertificateRule {
    /// The certificate field to match.
    pub field: CertificateField,
    /// The value to match: exact, or with a trailing `*` a prefix (`worker-*`). Must not be
    /// empty; `*` may appear only at the end.
    pub value: String,
    /// `namespace:role` entries; role is `read`, `write`, `admin` or `worker`
    /// (case-insensitive); namespace `temporal-system` means the system role.
    pub permissions: Vec<String>,
}

impl CertificateRule {
    /// A rule granting `permissions` to certificates whose `field` matches `value`.
    #[must_use]
    pub fn new(
        field: CertificateField,
        value: impl Into<String>,
        permissions: impl IntoIterator<Item = impl Into<String>>,
    ) -> CertificateRule {
        CertificateRule {
            field,
            value: value.into(),
            permissions: permissions.into_iter().map(Into::into).collect(),
        }
    }
}

/// A rule that cannot be used: empty value, misplaced `*`, or a malformed permission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateRuleError {
    rule: usize,
    message: String,
}

impl CertificateRuleError {
    /// The index of the offending rule.
    #[must_use]
    pub fn rule(&self) -> usize {
        self.rule
    }
}

impl fmt::Display for CertificateRuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rules[{}]: {}", self.rule, self.message)
    }
}

impl StdError for CertificateRuleError {}

/// A rule with its permissions parsed.
#[derive(Clone, Debug)]
struct CompiledRule {
    field: CertificateField,
    /// The value without its trailing `*`.
    value: String,
    prefix: bool,
    system: Role,
    namespaces: Vec<(String, Role)>,
}

impl CompiledRule {
    fn matches(&self, subject: Option<&TlsSubject>, conn: Option<&TlsConnection>) -> bool {
        let test = |candidate: &str| {
            if candidate.is_empty() {
                return false;
            }
            if self.field == CertificateField::DnsName {
                let candidate = candidate.to_ascii_lowercase();
                return if self.prefix {
                    candidate.starts_with(&self.value)
                } else {
                    candidate == self.value
                };
            }
            if self.prefix {
                candidate.starts_with(&self.value)
            } else {
                candidate == self.value
            }
        };
        match self.field {
            CertificateField::CommonName => subject.is_some_and(|s| test(&s.common_name)),
            CertificateField::Organization => {
                subject.is_some_and(|s| s.organization.iter().any(|v| test(v)))
            }
            CertificateField::OrganizationalUnit => {
                subject.is_some_and(|s| s.organizational_unit.iter().any(|v| test(v)))
            }
            CertificateField::DnsName => conn.is_some_and(|c| c.dns_names.iter().any(|v| test(v))),
            CertificateField::Uri => conn.is_some_and(|c| c.uris.iter().any(|v| test(v))),
        }
    }
}

/// Maps the verified client certificate to [`Claims`] by [`CertificateRule`]s.
///
/// The claims' subject is the certificate's CN, or its SPIFFE ID when the CN is empty (or else
/// the distinguished name); `auth_type` is `certificate`. Every matching rule contributes its
/// permissions (roles are OR'ed); no matching rule gives claims with no roles, which the
/// default authorizer denies. Without a client certificate the mapper returns claims with no
/// subject and no roles. Credentials are required ([`ClaimMapper::auth_info_required`] is
/// true): a call with neither token nor certificate never reaches it.
#[derive(Clone, Debug, Default)]
pub struct CertificateClaimMapper {
    rules: Vec<CompiledRule>,
}

impl CertificateClaimMapper {
    /// A mapper applying `rules`.
    ///
    /// # Errors
    /// A rule with an empty value, a `*` anywhere but at the end, a permission without `:`,
    /// or an unknown role.
    pub fn new(
        rules: Vec<CertificateRule>,
    ) -> Result<CertificateClaimMapper, CertificateRuleError> {
        let mut compiled = Vec::with_capacity(rules.len());
        for (index, rule) in rules.into_iter().enumerate() {
            let err = |message: String| CertificateRuleError {
                rule: index,
                message,
            };
            let (value, prefix) = match rule.value.strip_suffix('*') {
                Some(v) => (v.to_owned(), true),
                None => (rule.value.clone(), false),
            };
            if rule.value.is_empty() {
                return Err(err("value cannot be empty".to_owned()));
            }
            if value.contains('*') {
                return Err(err(format!(
                    "value {:?}: `*` is allowed only at the end",
                    rule.value
                )));
            }
            let value = if rule.field == CertificateField::DnsName {
                value.to_ascii_lowercase()
            } else {
                value
            };
            let mut system = Role::UNDEFINED;
            let mut namespaces = Vec::new();
            for (i, permission) in rule.permissions.iter().enumerate() {
                let Some((namespace, role_name)) = permission.split_once(':') else {
                    return Err(err(format!(
                        "permissions[{i}] {permission:?}: expected namespace:role"
                    )));
                };
                let role = Role::from_permission_name(role_name);
                if role.is_empty() || namespace.is_empty() {
                    return Err(err(format!(
                        "permissions[{i}] {permission:?}: expected namespace:role with role \
                         read, write, admin or worker"
                    )));
                }
                if namespace == SYSTEM_NAMESPACE {
                    system |= role;
                } else {
                    namespaces.push((namespace.to_owned(), role));
                }
            }
            compiled.push(CompiledRule {
                field: rule.field,
                value,
                prefix,
                system,
                namespaces,
            });
        }
        Ok(CertificateClaimMapper { rules: compiled })
    }

    /// The claims for a verified peer (what [`ClaimMapper::get_claims`] returns).
    #[must_use]
    pub fn map(&self, subject: Option<&TlsSubject>, conn: Option<&TlsConnection>) -> Claims {
        let mut claims = Claims::new().with_auth_type(CERTIFICATE_AUTH_TYPE);
        if subject.is_none() && conn.is_none() {
            return claims;
        }
        let identity = subject
            .map(|s| s.common_name.as_str())
            .filter(|cn| !cn.is_empty())
            .or_else(|| conn.and_then(TlsConnection::spiffe_id))
            .or_else(|| subject.map(|s| s.distinguished_name.as_str()))
            .unwrap_or_default();
        claims.set_subject(identity);
        for rule in self.rules.iter().filter(|r| r.matches(subject, conn)) {
            if !rule.system.is_empty() {
                claims.add_system_role(rule.system);
            }
            for (namespace, role) in &rule.namespaces {
                claims.add_namespace_role(namespace.clone(), *role);
            }
        }
        claims
    }
}

impl ClaimMapper for CertificateClaimMapper {
    fn get_claims<'a>(
        &'a self,
        auth_info: &'a AuthInfo,
    ) -> BoxFuture<'a, Result<Claims, ClaimsError>> {
        let claims = self.map(
            auth_info.tls_subject.as_deref(),
            auth_info.tls_connection.as_deref(),
        );
        Box::pin(std::future::ready(Ok(claims)))
    }
}
