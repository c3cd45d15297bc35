//! Temporal's API classification put to work: [`ApiAccess::temporal`] (the table the default
//! authorizer starts from), the two APIs allowed without claims, and Temporal's helpers that
//! ask the table about one method.

use std::sync::OnceLock;

use super::api_table::API_TABLE;
use crate::access::{Access, ApiAccess, Scope};

/// Temporal's AdminService: every method, known or not, is cluster admin.
const ADMIN_SERVICE: &str = "temporal.server.api.adminservice.v1.AdminService";

/// The two APIs allowed without any claims.
const ALWAYS_ALLOWED: [&str; 2] = [
    "/grpc.health.v1.Health/Check",
    "/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo",
];

/// Where WorkflowService methods live; Temporal's read-only helpers take bare method names.
const WORKFLOW_SERVICE_PREFIX: &str = "/temporal.api.workflowservice.v1.WorkflowService/";

/// Every method path of Temporal's table, as the table's own static text.
pub(crate) fn table_paths() -> impl Iterator<Item = &'static str> {
    API_TABLE.iter().map(|&(path, _, _)| path)
}

impl Default for ApiAccess {
    /// Temporal's table, [`ApiAccess::temporal`].
    fn default() -> ApiAccess {
        ApiAccess::temporal()
    }
}

impl ApiAccess {
    /// Temporal's table: WorkflowService, OperatorService, the Nexus HTTP API names, and
    /// AdminService (every method cluster admin).
    #[must_use]
    pub fn temporal() -> ApiAccess {
        API_TABLE
            .iter()
            .fold(ApiAccess::empty(), |table, &(path, scope, access)| {
                table.with_table_method(path, scope, access)
            })
            .with_service(ADMIN_SERVICE, Scope::Cluster, Access::Admin)
    }
}

/// True iff `path` is one of the two APIs allowed without claims (Temporal's
/// `IsHealthCheckAPI`).
#[must_use]
pub fn is_health_check_api(path: &str) -> bool {
    ALWAYS_ALLOWED.contains(&path)
}

/// True iff `name` (a bare WorkflowService method name) is namespace-scoped read-only
/// (Temporal's `IsReadOnlyNamespaceAPI`).
#[must_use]
pub fn is_read_only_namespace_api(name: &str) -> bool {
    workflow_method(name, Scope::Namespace, Access::Read)
}

/// True iff `name` (a bare WorkflowService method name) is cluster-scoped read-only
/// (Temporal's `IsReadOnlyGlobalAPI`).
#[must_use]
pub fn is_read_only_global_api(name: &str) -> bool {
    workflow_method(name, Scope::Cluster, Access::Read)
}

fn workflow_method(name: &str, scope: Scope, access: Access) -> bool {
    let path = format!("{WORKFLOW_SERVICE_PREFIX}{name}");
    temporal_table()
        .get(&path)
        .is_some_and(|m| m.scope == scope && m.access == access)
}

/// Temporal's table, built once for the helpers above.
fn temporal_table() -> &'static ApiAccess {
    static TABLE: OnceLock<ApiAccess> = OnceLock::new();
    TABLE.get_or_init(ApiAccess::temporal)
}
