//! The namespace names whose permissions mean the system role, for every claim mapper that
//! reads `namespace:role` permissions.

/// Namespaces whose role in a permission is the caller's system (cluster-wide) role:
/// `temporal-system`, the name Temporal's server matches, and `system`, the form Temporal's
/// documentation and samples use.
#[allow(
    dead_code,
    reason = "the permission parser reads it; nothing else in the crate needs it yet"
)]
pub(crate) const SYSTEM_NAMESPACES: [&str; 2] = ["temporal-system", "system"];
