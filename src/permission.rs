//! Permissions in Temporal's `namespace:role` form, parsed in one place for every claim
//! mapper: the JWT mapper reads them from the token's permissions claim, the certificate
//! mapper from its rules.
//!
//! A permission splits on its first `:` (or, when a regex is configured, by the regex's
//! `namespace` and `role` groups); the role name is `read`, `write`, `admin` or `worker`, in
//! any case. A permission for a system namespace grants the role system-wide instead of in a
//! namespace. What a mapper does with a permission that does not parse is its own policy: the
//! JWT mapper skips it, as Temporal does, and the certificate mapper refuses its rule at start.

use std::collections::HashSet;

use regex::Regex;
use serde_json::Value;

use crate::{Claims, Role};

pub(crate) use crate::temporal::SYSTEM_NAMESPACES as DEFAULT_SYSTEM_NAMESPACES;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use crate::temporal::TEMPORAL_SYSTEM_NAMESPACE;

/// How one permission string splits into namespace and role.
#[derive(Debug, Clone)]
pub(crate) enum PermissionFormat {
    /// Split on the first `:`.
    NamespaceColonRole,
    /// The first match of a regex with `namespace` and `role` groups.
    Regex(Regex),
    /// A configured regex that cannot be used: no permission parses.
    Nothing,
}

impl PermissionFormat {
    /// The format for an optional regex (`None` or empty: `namespace:role`).
    ///
    /// # Errors
    ///
    /// The regex does not compile, or lacks a `namespace` or `role` group. Unlike Temporal,
    /// which falls back to `namespace:role` with a warning, this is refused: a deployment
    /// whose tokens are written in another format would otherwise read them wrongly.
    pub(crate) fn parse(regex: Option<&str>) -> Result<PermissionFormat, String> {
        let Some(pattern) = regex.filter(|p| !p.is_empty()) else {
            return Ok(PermissionFormat::NamespaceColonRole);
        };
        let re = Regex::new(pattern)
            .map_err(|e| format!("permissions regex {pattern:?} does not compile: {e}"))?;
        let has = |name: &str| re.capture_names().flatten().any(|n| n == name);
        if has("namespace") && has("role") {
            Ok(PermissionFormat::Regex(re))
        } else {
            Err(format!(
                "permissions regex {pattern:?} must have the named groups `namespace` and `role`"
            ))
        }
    }

    /// The format for an optional regex, failing closed: a regex [`parse`](Self::parse)
    /// refuses is logged as an error and matches no permission at all, so nothing is granted
    /// (never a silent fallback to `namespace:role`).
    pub(crate) fn new(regex: Option<&str>) -> PermissionFormat {
        PermissionFormat::parse(regex).unwrap_or_else(|e| {
            tracing::error!("{e}; no permission will be granted");
            PermissionFormat::Nothing
        })
    }

    pub(crate) fn is_regex(&self) -> bool {
        !matches!(self, PermissionFormat::NamespaceColonRole)
    }

    fn split<'p>(&self, permission: &'p str) -> Option<(&'p str, &'p str)> {
        match self {
            PermissionFormat::NamespaceColonRole => permission.split_once(':'),
            PermissionFormat::Regex(re) => {
                let caps = re.captures(permission)?;
                let group = |name: &str| caps.name(name).map_or("", |m| m.as_str());
                Some((group("namespace"), group("role")))
            }
            PermissionFormat::Nothing => None,
        }
    }
}

/// What one parsed permission grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grant<'p> {
    /// The namespace as written (possibly empty).
    pub(crate) namespace: &'p str,
    /// The role; empty when the role name is not one Temporal knows.
    pub(crate) role: Role,
    /// Whether the namespace is a system namespace, so the role applies system-wide.
    pub(crate) system: bool,
}

impl Grant<'_> {
    /// Whether the permission names no namespace: such a permission grants nothing (Temporal
    /// would record a role on the namespace `""`, which no request can name on purpose but
    /// which a request without a namespace field is checked against).
    pub(crate) fn is_empty_namespace(&self) -> bool {
        self.namespace.is_empty()
    }

    /// Adds the grant to `claims`; a grant on the empty namespace adds nothing.
    pub(crate) fn apply(&self, claims: &mut Claims) {
        if self.is_empty_namespace() {
            return;
        }
        if self.system {
            claims.add_system_role(self.role);
        } else {
            claims.add_namespace_role(self.namespace, self.role);
        }
    }
}

/// A permission format and the system namespaces (exact, case-sensitive).
#[derive(Debug, Clone)]
pub(crate) struct PermissionParser {
    format: PermissionFormat,
    system_namespaces: HashSet<String>,
}

impl PermissionParser {
    /// A parser for `format` with these system namespaces.
    pub(crate) fn new<I, S>(format: PermissionFormat, system_namespaces: I) -> PermissionParser
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        PermissionParser {
            format,
            system_namespaces: system_namespaces.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether permissions are matched by a configured regex.
    pub(crate) fn is_regex(&self) -> bool {
        self.format.is_regex()
    }

    /// The system namespaces.
    pub(crate) fn system_namespaces(&self) -> &HashSet<String> {
        &self.system_namespaces
    }

    /// Parses one permission; `None` when it is not in the expected format. A permission on
    /// the empty namespace (`":admin"`, or a regex whose `namespace` group matched nothing)
    /// parses, with [`Grant::is_empty_namespace`] true; it grants nothing.
    pub(crate) fn parse<'p>(&self, permission: &'p str) -> Option<Grant<'p>> {
        let (namespace, role) = self.format.split(permission)?;
        Some(Grant {
            namespace,
            role: Role::from_permission_name(role),
            system: self.system_namespaces.contains(namespace),
        })
    }
}

/// Adds the roles in `value` (a permissions claim, if present) to `claims`.
///
/// Only an array is read; anything else gives no roles. Malformed entries are skipped, never
/// failing the token, as Temporal does; an unknown role name still lists the namespace, with no
/// role. Entries on the empty namespace grant nothing and are logged once per call of this
/// function (once per verified token).
pub(crate) fn apply_permissions(
    claims: &mut Claims,
    value: Option<&Value>,
    parser: &PermissionParser,
) {
    let Some(Value::Array(entries)) = value else {
        return;
    };
    let mut empty_namespace = 0_usize;
    for entry in entries {
        let Value::String(permission) = entry else {
            tracing::debug!("ignoring permission that is not a string");
            continue;
        };
        let Some(grant) = parser.parse(permission) else {
            tracing::debug!(
                regex = parser.is_regex(),
                "ignoring permission in unexpected format"
            );
            continue;
        };
        if grant.is_empty_namespace() {
            empty_namespace += 1;
            continue;
        }
        grant.apply(claims);
    }
    if empty_namespace > 0 {
        tracing::warn!(
            entries = empty_namespace,
            "ignoring permissions on the empty namespace: they grant nothing"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn system() -> HashSet<String> {
        ["temporal-system", "system"]
            .into_iter()
            .map(String::from)
            .collect()
    }

    fn claims_for(value: Value, format: &PermissionFormat) -> Claims {
        let mut claims = Claims::new();
        let parser = PermissionParser::new(format.clone(), system());
        apply_permissions(&mut claims, Some(&value), &parser);
        claims
    }

    #[test]
    fn default_format_follows_temporal() {
        let f = PermissionFormat::new(None);
        let c = claims_for(
            json!([
                "default:READ",
                "default",
                ":admin",
                "ns:read:extra",
                "temporal-system:worker",
                "TEMPORAL-SYSTEM:admin",
                42,
                "other: read",
                "x:write",
                "x:worker",
                "system:read"
            ]),
            &f,
        );
        assert_eq!(c.namespace_role("default"), Role::READER);
        // A permission on the empty namespace grants nothing.
        assert_eq!(c.namespace_role(""), Role::UNDEFINED);
        assert!(!c.namespaces().contains_key(""));
        assert_eq!(c.namespaces().get("ns"), Some(&Role::UNDEFINED));
        assert_eq!(c.namespaces().get("other"), Some(&Role::UNDEFINED));
        assert_eq!(c.namespace_role("TEMPORAL-SYSTEM"), Role::ADMIN);
        assert_eq!(c.namespace_role("x"), Role::WRITER | Role::WORKER);
        assert_eq!(c.system(), Role::WORKER | Role::READER);
        assert_eq!(c.namespaces().len(), 5);
    }

    #[test]
    fn non_array_claims_give_no_roles() {
        let f = PermissionFormat::new(None);
        for v in [
            json!("default:read"),
            json!({"default": "read"}),
            json!(null),
            json!(7),
        ] {
            let c = claims_for(v, &f);
            assert!(c.namespaces().is_empty());
            assert_eq!(c.system(), Role::UNDEFINED);
        }
    }

    #[test]
    fn regex_format_and_refusals() {
        assert!(PermissionFormat::new(Some(r"(?P<role>\w+):(?P<namespace>\w+)")).is_regex());
        assert!(!PermissionFormat::new(Some("")).is_regex());
        for bad in [
            r"(?P<namespace\w+):(?P<role>\w+)",
            r"(?P<role>\w+):(\w+)",
            r"(?P<namespace>\w+):(\w+)",
        ] {
            let error = PermissionFormat::parse(Some(bad)).map(|_| ()).unwrap_err();
            assert!(error.contains(&format!("{bad:?}")), "{error}");
            // Built anyway (the builder API), it grants nothing: no fallback to
            // `namespace:role`.
            let c = claims_for(
                json!(["default:admin", "temporal-system:admin"]),
                &PermissionFormat::new(Some(bad)),
            );
            assert!(c.namespaces().is_empty());
            assert_eq!(c.system(), Role::UNDEFINED);
        }
        assert!(
            PermissionFormat::parse(Some("("))
                .map(|_| ())
                .unwrap_err()
                .contains("does not compile")
        );

        let empty_namespace = PermissionFormat::new(Some(r"(?P<role>\w+):(?P<namespace>[\w-]*)"));
        let c = claims_for(json!(["admin:", "read:default"]), &empty_namespace);
        assert_eq!(c.namespace_role(""), Role::UNDEFINED);
        assert_eq!(c.namespace_role("default"), Role::READER);

        let f = PermissionFormat::new(Some(r"(?P<role>[\w-]+):(?P<namespace>[\w-]+)"));
        let c = claims_for(
            json!(["admin:temporal-system", "read:default", "nomatch"]),
            &f,
        );
        assert_eq!(c.system(), Role::ADMIN);
        assert_eq!(c.namespace_role("default"), Role::READER);
        assert_eq!(c.namespaces().len(), 1);
    }

    #[test]
    fn parse_reports_namespace_role_and_system() {
        let parser = PermissionParser::new(
            PermissionFormat::NamespaceColonRole,
            [TEMPORAL_SYSTEM_NAMESPACE],
        );
        let grant = |p: &'static str| parser.parse(p);
        assert_eq!(
            grant("billing:Write"),
            Some(Grant {
                namespace: "billing",
                role: Role::WRITER,
                system: false
            })
        );
        assert_eq!(
            grant("temporal-system:admin"),
            Some(Grant {
                namespace: "temporal-system",
                role: Role::ADMIN,
                system: true
            })
        );
        // Only the listed names are system namespaces, matched exactly.
        assert_eq!(grant("system:admin").map(|g| g.system), Some(false));
        assert_eq!(
            grant("Temporal-System:admin").map(|g| g.system),
            Some(false)
        );
        assert_eq!(grant("ns:wrte").map(|g| g.role), Some(Role::UNDEFINED));
        assert_eq!(grant(":read").map(|g| g.namespace), Some(""));
        assert_eq!(grant("read"), None);
    }
}
