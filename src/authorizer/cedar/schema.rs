//! The Cedar schema policies are validated against: the shipped entity model
//! (`temporal.cedarschema`) plus one action per API of the access table, each in the action
//! groups of its scope and access (and `Worker`, `AlwaysAllowed`), so a typo in an action name
//! is a start-up error rather than a policy that never matches.

use std::fmt::Write as _;

use cedar_policy::{EntityId, EntityTypeName, EntityUid, Schema};

use super::error::{CedarError, CedarErrorKind};
use crate::temporal::{is_health_check_api, is_worker_api};
use crate::{Access, ApiAccess, MethodAccess, Scope};

/// The shipped entity model, without the per-API actions.
pub(super) const SCHEMA: &str = include_str!("temporal.cedarschema");

/// Temporal's public services, whose actions are named by their bare method name.
const TEMPORAL_PREFIX: &str = "/temporal.api.";

/// The health check API, which is in no access table but always allowed.
const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";

/// The action id of an API: the bare method name for Temporal's public services (no two of
/// them share a method name), the full path for anything else.
pub(super) fn action_id(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some((_, method)) if path.starts_with(TEMPORAL_PREFIX) => method,
        _ => path,
    }
}

/// The action groups an API belongs to.
pub(super) fn action_groups(path: &str, access: Option<MethodAccess>) -> Vec<&'static str> {
    let mut groups = Vec::with_capacity(3);
    if let Some(m) = access {
        groups.push(match (m.scope, m.access) {
            (Scope::Cluster, Access::Read) => "ClusterRead",
            (Scope::Cluster, Access::Write) => "ClusterWrite",
            (Scope::Cluster, Access::Admin) => "ClusterAdmin",
            (Scope::Namespace, Access::Read) => "NamespaceRead",
            (Scope::Namespace, Access::Write) => "NamespaceWrite",
            (Scope::Namespace, Access::Admin) => "NamespaceAdmin",
        });
    }
    if is_worker_api(path) {
        groups.push("Worker");
    }
    if is_health_check_api(path) {
        groups.push("AlwaysAllowed");
    }
    groups
}

/// The uid `<action type>::"<id>"`.
pub(super) fn action_uid(action: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(action.clone(), EntityId::new(id))
}

/// The entity type `Temporal::<name>`.
///
/// # Errors
/// Never for this module's own names; an error would be a bug, reported at construction.
pub(super) fn type_name(name: &str) -> Result<EntityTypeName, CedarError> {
    format!("Temporal::{name}")
        .parse()
        .map_err(|e| CedarError::new(CedarErrorKind::Schema, format!("type {name}: {e}")))
}

/// The schema for an access table: the shipped model plus one action per known API.
///
/// # Errors
/// When the generated schema does not parse (a method path Cedar cannot quote).
pub(super) fn schema(access: &ApiAccess) -> Result<Schema, CedarError> {
    let text = schema_text(access);
    Schema::from_cedarschema_str(&text)
        .map(|(schema, _warnings)| schema)
        .map_err(|e| CedarError::new(CedarErrorKind::Schema, format!("schema: {e}")))
}

/// The schema's text for an access table.
pub(super) fn schema_text(access: &ApiAccess) -> String {
    let mut paths: Vec<(&str, Option<MethodAccess>)> =
        access.methods().map(|(p, m)| (p, Some(m))).collect();
    paths.push((HEALTH_CHECK, None));
    paths.sort_by(|a, b| a.0.cmp(b.0));
    let body = SCHEMA.trim_end();
    let body = body.strip_suffix('}').unwrap_or(body);
    let mut text = String::with_capacity(body.len() + paths.len() * 160);
    text.push_str(body);
    text.push_str("\n    // Generated from the access table.\n");
    for (path, m) in paths {
        let groups: Vec<String> = action_groups(path, m)
            .iter()
            .map(|g| format!("{g:?}"))
            .collect();
        let _ = writeln!(
            text,
            "    action {:?} in [{}] appliesTo {{ principal: [Caller, Anonymous], resource: [Namespace], context: Context }};",
            action_id(path),
            groups.join(", ")
        );
    }
    text.push_str("}\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_for_temporal_parses_and_names_actions_by_method() {
        let text = schema_text(&ApiAccess::temporal());
        assert!(
            text.contains("action \"StartWorkflowExecution\" in [\"NamespaceWrite\"] appliesTo")
        );
        assert!(
            text.contains("action \"PollWorkflowTaskQueue\" in [\"NamespaceWrite\", \"Worker\"]")
        );
        assert!(text.contains("action \"/grpc.health.v1.Health/Check\" in [\"AlwaysAllowed\"]"));
        schema(&ApiAccess::temporal()).expect("schema parses");
    }

    #[test]
    fn action_ids() {
        assert_eq!(
            action_id("/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo"),
            "GetSystemInfo"
        );
        assert_eq!(
            action_id("/temporal.server.api.adminservice.v1.AdminService/DescribeCluster"),
            "/temporal.server.api.adminservice.v1.AdminService/DescribeCluster"
        );
        assert_eq!(
            type_name("Caller").expect("valid").to_string(),
            "Temporal::Caller"
        );
    }
}
