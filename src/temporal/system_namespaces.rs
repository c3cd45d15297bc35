//! The namespace names whose permissions mean the system role, for every claim mapper that
//! reads `namespace:role` permissions.

/// Namespaces whose role in a permission is the caller's system (cluster-wide) role:
/// `temporal-system`, the name Temporal's server matches, and `system`, the form Temporal's
/// documentation and samples use.
pub(crate) const SYSTEM_NAMESPACES: [&str; 2] = [TEMPORAL_SYSTEM_NAMESPACE, "system"];

/// Temporal's own system namespace: the one name Temporal's server matches.
pub(crate) const TEMPORAL_SYSTEM_NAMESPACE: &str = "temporal-system";
