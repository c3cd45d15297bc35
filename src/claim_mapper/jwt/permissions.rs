//! The permissions claim (spec C.4): a JSON array of `namespace:role` strings, or of strings
//! matched by a configured regex with `namespace` and `role` groups.

use std::collections::HashSet;

use regex::Regex;
use serde_json::Value;

use crate::{Claims, Role};

/// How one permission string splits into namespace and role.
#[derive(Debug, Clone)]
pub(crate) enum PermissionFormat {
    /// Split on the first `:`.
    NamespaceColonRole,
    /// The first match of a regex with `namespace` and `role` groups.
    Regex(Regex),
}

impl PermissionFormat {
    /// The format for an optional regex. A regex that does not compile, or lacks a
    /// `namespace` or `role` group, falls back to `namespace:role` with a warning, as Temporal
    /// does.
    pub(crate) fn new(regex: Option<&str>) -> PermissionFormat {
        let Some(pattern) = regex.filter(|p| !p.is_empty()) else {
            return PermissionFormat::NamespaceColonRole;
        };
        match Regex::new(pattern) {
            Ok(re) => {
                let has = |name: &str| re.capture_names().flatten().any(|n| n == name);
                if has("namespace") && has("role") {
                    PermissionFormat::Regex(re)
                } else {
                    tracing::warn!(
                        "permissions regex does not have namespace or role named group; using namespace:role"
                    );
                    PermissionFormat::NamespaceColonRole
                }
            }
            Err(e) => {
                tracing::warn!(
                    "failed to compile permissions regex '{pattern}': {e}; using namespace:role"
                );
                PermissionFormat::NamespaceColonRole
            }
        }
    }

    pub(crate) fn is_regex(&self) -> bool {
        matches!(self, PermissionFormat::Regex(_))
    }

    fn split<'p>(&self, permission: &'p str) -> Option<(&'p str, &'p str)> {
        match self {
            PermissionFormat::NamespaceColonRole => permission.split_once(':'),
            PermissionFormat::Regex(re) => {
                let caps = re.captures(permission)?;
                let group = |name: &str| caps.name(name).map_or("", |m| m.as_str());
                Some((group("namespace"), group("role")))
            }
        }
    }
}

/// Adds the roles in `value` (the permissions claim, if present) to `claims`.
///
/// Only an array is read; anything else gives no roles. Malformed entries are skipped, never
/// failing the token. A namespace in `system_namespaces` grants the role system-wide.
pub(crate) fn apply_permissions(
    claims: &mut Claims,
    value: Option<&Value>,
    format: &PermissionFormat,
    system_namespaces: &HashSet<String>,
) {
    let Some(Value::Array(entries)) = value else {
        return;
    };
    for entry in entries {
        let Value::String(permission) = entry else {
            tracing::debug!("ignoring permission that is not a string");
            continue;
        };
        let Some((namespace, role)) = format.split(permission) else {
            tracing::debug!(
                regex = format.is_regex(),
                "ignoring permission in unexpected format"
            );
            continue;
        };
        let role = Role::from_permission_name(role);
        if system_namespaces.contains(namespace) {
            claims.add_system_role(role);
        } else {
            claims.add_namespace_role(namespace, role);
        }
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
        apply_permissions(&mut claims, Some(&value), format, &system());
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
        assert_eq!(c.namespace_role(""), Role::ADMIN);
        assert_eq!(c.namespaces().get("ns"), Some(&Role::UNDEFINED));
        assert_eq!(c.namespaces().get("other"), Some(&Role::UNDEFINED));
        assert_eq!(c.namespace_role("TEMPORAL-SYSTEM"), Role::ADMIN);
        assert_eq!(c.namespace_role("x"), Role::WRITER | Role::WORKER);
        assert_eq!(c.system(), Role::WORKER | Role::READER);
        assert_eq!(c.namespaces().len(), 6);
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
    fn regex_format_and_fallbacks() {
        assert!(PermissionFormat::new(Some(r"(?P<role>\w+):(?P<namespace>\w+)")).is_regex());
        assert!(!PermissionFormat::new(Some(r"(?P<namespace\w+):(?P<role>\w+)")).is_regex());
        assert!(!PermissionFormat::new(Some(r"(?P<role>\w+):(\w+)")).is_regex());
        assert!(!PermissionFormat::new(Some(r"(?P<namespace>\w+):(\w+)")).is_regex());
        assert!(!PermissionFormat::new(Some("")).is_regex());

        let f = PermissionFormat::new(Some(r"(?P<role>[\w-]+):(?P<namespace>[\w-]+)"));
        let c = claims_for(
            json!(["admin:temporal-system", "read:default", "nomatch"]),
            &f,
        );
        assert_eq!(c.system(), Role::ADMIN);
        assert_eq!(c.namespace_role("default"), Role::READER);
        assert_eq!(c.namespaces().len(), 1);
    }
}
