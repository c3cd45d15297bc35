//! [`CertificateClaimMapper`]: claims from the verified client certificate (the security
//! document's second approach), by rules over the subject and the SANs.
//!
//! A rule names a certificate field, a value (exact, or a prefix when it ends with `*`) and the
//! permissions it grants, in the JWT mapper's `namespace:role` form (`temporal-system:admin`
//! grants the system role). Rules are checked when the mapper is built, so a typo in a role is
//! a start-up error rather than a silently missing permission.
//!
//! A rule may also name the CA that must have issued the certificate, by the SHA-256
//! fingerprint of the CA certificate ([`CertificateRule::with_ca_fingerprint`], `caFingerprint`
//! in config). When more than one CA is trusted, any of them can issue a certificate with the
//! same name; a bound rule matches only a chain this crate's acceptor verified to that CA, and
//! nothing when the issuing CA is unknown (see [`TlsConnection::ca_fingerprints`]).
//!
//! # Example
//! ```
//! use tonic_authz::{CertificateClaimMapper, CertificateField, CertificateRule};
//!
//! let mapper = CertificateClaimMapper::new(vec![
//!     CertificateRule::new(CertificateField::CommonName, "worker-*", ["billing:worker"]),
//!     CertificateRule::new(CertificateField::Uri, "spiffe://example/ns/billing", ["billing:write"]),
//!     CertificateRule::new(CertificateField::OrganizationalUnit, "ops", ["temporal-system:admin"]),
//!     // Only for certificates issued by this CA (the SHA-256 of its DER):
//!     CertificateRule::new(CertificateField::CommonName, "deployer", ["temporal-system:admin"])
//!         .with_ca_fingerprint(
//!             "5e:4f:7a:65:a5:0c:59:8a:52:9b:ad:26:01:48:3b:d3:2e:b8:11:0f:44:2c:7a:40:2d:8c:de:83:f1:4d:ba:ba"
//!                 .parse()
//!                 .unwrap(),
//!         ),
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

use crate::permission::{DEFAULT_SYSTEM_NAMESPACES, PermissionFormat, PermissionParser};
use crate::{
    AuthInfo, BoxFuture, CaFingerprint, ClaimMapper, Claims, ClaimsError, Role, TlsConnection,
    TlsSubject,
};

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
    /// (case-insensitive); a system namespace (`temporal-system` and `system` unless
    /// configured otherwise, the same list as the JWT mapper's) means the system role.
    pub permissions: Vec<String>,
    /// When set, the rule matches only certificates verified to the CA certificate with this
    /// SHA-256 fingerprint (`caFingerprint` in config: hex, colons allowed). Default: none,
    /// any trusted CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_fingerprint: Option<CaFingerprint>,
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
            ca_fingerprint: None,
        }
    }

    /// Binds the rule to one CA: it then matches only client certificates whose chain was
    /// verified to the configured CA certificate with this fingerprint (see
    /// [`TlsConnection::ca_fingerprints`]), and nothing when the issuing CA is not known.
    /// Default: unbound (a certificate from any trusted CA can match).
    #[must_use]
    pub fn with_ca_fingerprint(mut self, fingerprint: CaFingerprint) -> CertificateRule {
        self.ca_fingerprint = Some(fingerprint);
        self
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
    /// The CA the certificate must have been verified to, if the rule names one.
    ca: Option<CaFingerprint>,
    system: Role,
    namespaces: Vec<(String, Role)>,
}

impl CompiledRule {
    fn matches(&self, subject: Option<&TlsSubject>, conn: Option<&TlsConnection>) -> bool {
        // Fail closed: a CA-bound rule needs the issuing CA to be known and to be that CA.
        if let Some(ca) = &self.ca
            && !conn.is_some_and(|c| c.ca_fingerprints.contains(ca))
        {
            return false;
        }
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
    /// A mapper applying `rules`, with the default system namespaces (`temporal-system` and
    /// `system`, as the JWT mapper's default).
    ///
    /// # Errors
    /// A rule with an empty value, a `*` anywhere but at the end, a permission without `:`,
    /// an empty namespace, or an unknown role.
    pub fn new(
        rules: Vec<CertificateRule>,
    ) -> Result<CertificateClaimMapper, CertificateRuleError> {
        CertificateClaimMapper::with_system_namespaces(rules, DEFAULT_SYSTEM_NAMESPACES)
    }

    /// A mapper applying `rules`, where a permission naming one of `system_namespaces`
    /// grants the role system-wide. Give it the same list as the JWT mapper's
    /// [`system_namespaces`](crate::JwtClaimMapperBuilder::system_namespaces), so both
    /// mappers read a permission the same way (`from_config` does).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn with_system_namespaces<I, S>(
        rules: Vec<CertificateRule>,
        system_namespaces: I,
    ) -> Result<CertificateClaimMapper, CertificateRuleError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let parser = PermissionParser::new(PermissionFormat::NamespaceColonRole, system_namespaces);
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
                let Some(grant) = parser.parse(permission) else {
                    return Err(err(format!(
                        "permissions[{i}] {permission:?}: expected namespace:role"
                    )));
                };
                // Unlike a token, a rule is configuration: a permission that grants nothing
                // is a mistake to report at start-up, not to skip.
                if grant.role.is_empty() || grant.namespace.is_empty() {
                    return Err(err(format!(
                        "permissions[{i}] {permission:?}: expected namespace:role with role \
                         read, write, admin or worker"
                    )));
                }
                if grant.system {
                    system |= grant.role;
                } else {
                    namespaces.push((grant.namespace.to_owned(), grant.role));
                }
            }
            compiled.push(CompiledRule {
                field: rule.field,
                value,
                prefix,
                ca: rule.ca_fingerprint,
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
        Box::pin(std::future::ready(Ok(self.claims_of(auth_info))))
    }

    fn get_claims_now(&self, auth_info: &AuthInfo) -> Option<Result<Claims, ClaimsError>> {
        Some(Ok(self.claims_of(auth_info)))
    }
}

impl CertificateClaimMapper {
    /// The claims of the call's verified certificate.
    fn claims_of(&self, auth_info: &AuthInfo) -> Claims {
        self.map(
            auth_info.tls_subject.as_deref(),
            auth_info.tls_connection.as_deref(),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use std::sync::Arc;

    use super::*;

    fn subject(cn: &str, org: &[&str], ou: &[&str]) -> TlsSubject {
        TlsSubject {
            common_name: cn.to_owned(),
            organization: org.iter().map(|v| (*v).to_owned()).collect(),
            organizational_unit: ou.iter().map(|v| (*v).to_owned()).collect(),
            distinguished_name: format!("CN={cn}"),
            ..TlsSubject::default()
        }
    }

    fn conn(dns: &[&str], uris: &[&str]) -> TlsConnection {
        TlsConnection {
            dns_names: dns.iter().map(|v| (*v).to_owned()).collect(),
            uris: uris.iter().map(|v| (*v).to_owned()).collect(),
            ..TlsConnection::default()
        }
    }

    fn rule(field: CertificateField, value: &str, perms: &[&str]) -> CertificateRule {
        CertificateRule::new(field, value, perms.iter().copied())
    }

    #[test]
    fn exact_and_prefix_rules_on_every_field() {
        let mapper = CertificateClaimMapper::new(vec![
            rule(CertificateField::CommonName, "worker-1", &["a:read"]),
            rule(CertificateField::CommonName, "work*", &["b:write"]),
            rule(CertificateField::Organization, "Example", &["c:admin"]),
            rule(
                CertificateField::OrganizationalUnit,
                "ops*",
                &["temporal-system:worker"],
            ),
            rule(CertificateField::DnsName, "API.example.com", &["d:read"]),
            rule(
                CertificateField::Uri,
                "spiffe://example/ns/billing",
                &["billing:write"],
            ),
            rule(CertificateField::CommonName, "worker-10", &["never:admin"]),
        ])
        .unwrap();
        let s = subject("worker-1", &["Other", "Example"], &["ops-eu"]);
        let c = conn(&["api.EXAMPLE.com"], &["spiffe://example/ns/billing"]);
        let claims = mapper.map(Some(&s), Some(&c));
        assert_eq!(claims.subject(), "worker-1");
        assert_eq!(claims.auth_type(), "certificate");
        assert_eq!(claims.system(), Role::WORKER);
        assert_eq!(claims.namespace_role("a"), Role::READER);
        assert_eq!(claims.namespace_role("b"), Role::WRITER);
        assert_eq!(claims.namespace_role("c"), Role::ADMIN);
        assert_eq!(claims.namespace_role("d"), Role::READER);
        assert_eq!(claims.namespace_role("billing"), Role::WRITER);
        assert_eq!(claims.namespaces().len(), 5);

        // Exact means exact: case, prefixes and sub-paths do not match.
        let s = subject("Worker-1", &["example"], &["op"]);
        let c = conn(
            &["x.api.example.com"],
            &["spiffe://example/ns/billing/sa/x"],
        );
        let claims = mapper.map(Some(&s), Some(&c));
        assert_eq!(claims.system(), Role::UNDEFINED);
        assert!(claims.namespaces().is_empty());
    }

    #[test]
    fn subject_is_cn_then_spiffe_id_then_dn() {
        let mapper = CertificateClaimMapper::default();
        let c = conn(&[], &["https://x", "spiffe://example/ns/a/sa/b"]);
        assert_eq!(
            mapper
                .map(Some(&subject("cn", &[], &[])), Some(&c))
                .subject(),
            "cn"
        );
        assert_eq!(
            mapper.map(Some(&subject("", &[], &[])), Some(&c)).subject(),
            "spiffe://example/ns/a/sa/b"
        );
        assert_eq!(
            mapper
                .map(Some(&subject("", &[], &[])), Some(&conn(&[], &[])))
                .subject(),
            "CN="
        );
        let none = mapper.map(None, None);
        assert_eq!(none.subject(), "");
        assert!(none.namespaces().is_empty());
    }

    #[test]
    fn bad_rules_are_refused() {
        let err = |r: CertificateRule| {
            CertificateClaimMapper::new(vec![r])
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(rule(CertificateField::CommonName, "", &["a:read"])),
            "rules[0]: value cannot be empty"
        );
        assert_eq!(
            err(rule(CertificateField::CommonName, "a*b", &["a:read"])),
            "rules[0]: value \"a*b\": `*` is allowed only at the end"
        );
        assert_eq!(
            err(rule(CertificateField::CommonName, "a", &["read"])),
            "rules[0]: permissions[0] \"read\": expected namespace:role"
        );
        assert_eq!(
            err(rule(CertificateField::CommonName, "a", &["ns:wrte"])),
            "rules[0]: permissions[0] \"ns:wrte\": expected namespace:role with role read, write, admin or worker"
        );
        assert_eq!(
            err(rule(CertificateField::CommonName, "a", &[":read"])),
            "rules[0]: permissions[0] \":read\": expected namespace:role with role read, write, admin or worker"
        );
    }

    #[test]
    fn system_namespaces_are_the_jwt_mappers() {
        // `system` means the system role here as in the JWT mapper's default list.
        let mapper = CertificateClaimMapper::new(vec![
            rule(CertificateField::CommonName, "a", &["system:admin"]),
            rule(CertificateField::CommonName, "a", &["temporal-system:read"]),
        ])
        .unwrap();
        let claims = mapper.map(Some(&subject("a", &[], &[])), None);
        assert_eq!(claims.system(), Role::ADMIN | Role::READER);
        assert!(claims.namespaces().is_empty());
        // A configured list replaces it, for both mappers alike.
        let mapper = CertificateClaimMapper::with_system_namespaces(
            vec![rule(
                CertificateField::CommonName,
                "a",
                &["system:admin", "ops:read"],
            )],
            ["ops"],
        )
        .unwrap();
        let claims = mapper.map(Some(&subject("a", &[], &[])), None);
        assert_eq!(claims.system(), Role::READER);
        assert_eq!(claims.namespace_role("system"), Role::ADMIN);
    }

    #[test]
    fn rules_deserialize_from_config() {
        let rules: Vec<CertificateRule> = serde_json::from_str(
            r#"[{"field": "organizationalUnit", "value": "ops", "permissions": ["temporal-system:admin"]},
                {"field": "uri", "value": "spiffe://example/*", "permissions": ["default:READ"]}]"#,
        )
        .unwrap();
        assert_eq!(rules[0].field, CertificateField::OrganizationalUnit);
        let mapper = CertificateClaimMapper::new(rules).unwrap();
        let claims = mapper.map(
            Some(&subject("x", &[], &["ops"])),
            Some(&conn(&[], &["spiffe://example/w"])),
        );
        assert_eq!(claims.system(), Role::ADMIN);
        assert_eq!(claims.namespace_role("default"), Role::READER);
        assert!(
            serde_json::from_str::<Vec<CertificateRule>>(
                r#"[{"field": "cn", "value": "x", "permissions": []}]"#
            )
            .is_err()
        );
    }

    #[test]
    fn a_rule_bound_to_a_ca_matches_only_that_ca() {
        let ca_a = CaFingerprint::of_der(b"ca a");
        let ca_b = CaFingerprint::of_der(b"ca b");
        let mapper = CertificateClaimMapper::new(vec![
            rule(
                CertificateField::CommonName,
                "deployer",
                &["temporal-system:admin"],
            )
            .with_ca_fingerprint(ca_a),
            rule(CertificateField::CommonName, "deployer", &["default:read"]),
        ])
        .unwrap();
        let s = subject("deployer", &[], &[]);
        let issued_by = |cas: &[CaFingerprint]| TlsConnection {
            ca_fingerprints: cas.to_vec(),
            ..TlsConnection::default()
        };
        // Issued by A: both rules.
        let claims = mapper.map(Some(&s), Some(&issued_by(&[ca_b, ca_a])));
        assert_eq!(claims.system(), Role::ADMIN);
        assert_eq!(claims.namespace_role("default"), Role::READER);
        // Issued by B, by no known CA, or with no connection info: only the unbound rule.
        for conn in [Some(issued_by(&[ca_b])), Some(issued_by(&[])), None] {
            let claims = mapper.map(Some(&s), conn.as_ref());
            assert_eq!(claims.system(), Role::UNDEFINED, "{conn:?}");
            assert_eq!(claims.namespace_role("default"), Role::READER);
        }
    }

    #[test]
    fn ca_fingerprint_in_config() {
        let rules: Vec<CertificateRule> = serde_json::from_str(
            r#"[{"field": "commonName", "value": "x", "permissions": ["a:read"],
                 "caFingerprint": "E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:99:1B:78:52:B8:55"}]"#,
        )
        .unwrap();
        assert_eq!(rules[0].ca_fingerprint, Some(CaFingerprint::of_der(b"")));
        let bad = serde_json::from_str::<Vec<CertificateRule>>(
            r#"[{"field": "commonName", "value": "x", "permissions": [], "caFingerprint": "e3:b0"}]"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            bad.contains("invalid CA fingerprint \"e3:b0\": 4 hex digits, not 64"),
            "{bad}"
        );
        // Unbound rules serialize as before, without the key.
        let json = serde_json::to_string(&rule(CertificateField::CommonName, "x", &[])).unwrap();
        assert!(!json.contains("caFingerprint"), "{json}");
    }

    #[tokio::test]
    async fn get_claims_reads_auth_info() {
        let mapper =
            CertificateClaimMapper::new(vec![rule(CertificateField::CommonName, "w", &["n:read"])])
                .unwrap();
        assert!(mapper.auth_info_required());
        let info = AuthInfo {
            tls_subject: Some(Arc::new(subject("w", &[], &[]))),
            ..AuthInfo::default()
        };
        let claims = mapper.get_claims(&info).await.unwrap();
        assert_eq!(claims.namespace_role("n"), Role::READER);
    }
}
