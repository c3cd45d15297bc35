//! [`ApiAccess`]: which role each API needs. Temporal's own table (its server's method
//! metadata) is built in; users add their own services' methods.

use std::collections::HashMap;
use std::sync::Arc;

/// Whose roles count for an API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// Only the system role counts (cluster-wide APIs).
    Cluster,
    /// The system role OR'ed with the role in the request's namespace counts.
    Namespace,
}

/// What an API does, and so which role it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Access {
    /// Read-only: needs [`Role::READER`](crate::Role::READER) or above.
    Read,
    /// Changes state: needs [`Role::WRITER`](crate::Role::WRITER) or above.
    Write,
    /// Administration: needs [`Role::ADMIN`](crate::Role::ADMIN).
    Admin,
}

impl Access {
    /// The least role mask that satisfies this access (compared numerically, as Temporal).
    #[must_use]
    pub const fn required_role(self) -> crate::Role {
        match self {
            Access::Read => crate::Role::READER,
            Access::Write => crate::Role::WRITER,
            Access::Admin => crate::Role::ADMIN,
        }
    }
}

/// The scope and access of one API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MethodAccess {
    /// Whose roles count.
    pub scope: Scope,
    /// Which role is needed.
    pub access: Access,
}

/// Temporal's AdminService: every method, known or not, is cluster admin.
pub(crate) const ADMIN_SERVICE_PREFIX: &str = "/temporal.server.api.adminservice.v1.AdminService/";

/// The two APIs allowed without any claims.
pub(crate) const ALWAYS_ALLOWED: [&str; 2] = [
    "/grpc.health.v1.Health/Check",
    "/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo",
];

/// A table from full gRPC method path to [`MethodAccess`].
///
/// [`ApiAccess::temporal`] holds Temporal's table; [`ApiAccess::with_method`] adds or overrides
/// an entry, [`ApiAccess::with_service`] covers every method of a service.
#[derive(Clone, Debug)]
pub struct ApiAccess {
    methods: HashMap<Arc<str>, MethodAccess>,
    services: HashMap<Arc<str>, MethodAccess>,
}

impl Default for ApiAccess {
    fn default() -> ApiAccess {
        ApiAccess::temporal()
    }
}

impl ApiAccess {
    /// An empty table: every API is unknown (denied by the default authorizer).
    #[must_use]
    pub fn empty() -> ApiAccess {
        ApiAccess {
            methods: HashMap::new(),
            services: HashMap::new(),
        }
    }

    /// Temporal's table: WorkflowService, OperatorService, the Nexus HTTP API names, and
    /// AdminService (every method cluster admin).
    #[must_use]
    pub fn temporal() -> ApiAccess {
        let mut table = ApiAccess::empty();
        for (path, scope, access) in TEMPORAL_METHODS {
            table.methods.insert(
                Arc::from(*path),
                MethodAccess {
                    scope: *scope,
                    access: *access,
                },
            );
        }
        table.services.insert(
            Arc::from(ADMIN_SERVICE_PREFIX),
            MethodAccess {
                scope: Scope::Cluster,
                access: Access::Admin,
            },
        );
        table
    }

    /// Adds (or replaces) one method, by full path `/pkg.Service/Method`.
    #[must_use]
    pub fn with_method(mut self, path: &str, scope: Scope, access: Access) -> ApiAccess {
        self.methods
            .insert(Arc::from(path), MethodAccess { scope, access });
        self
    }

    /// Covers every method of a service (full name `pkg.Service`) not listed on its own.
    #[must_use]
    pub fn with_service(mut self, service: &str, scope: Scope, access: Access) -> ApiAccess {
        let prefix = format!("/{}/", service.trim_matches('/'));
        self.services
            .insert(Arc::from(prefix), MethodAccess { scope, access });
        self
    }

    /// The access of `path`, or `None` when the API is unknown.
    #[must_use]
    pub fn get(&self, path: &str) -> Option<MethodAccess> {
        if let Some(m) = self.methods.get(path) {
            return Some(*m);
        }
        let (service, _method) = path.rsplit_once('/')?;
        // `service` is "/pkg.Service"; the prefix key keeps its trailing slash.
        let prefix_len = service.len() + 1;
        self.services.get(&path[..prefix_len]).copied()
    }

    /// The interned path for a known method, so callers can share it without allocating.
    #[must_use]
    pub fn interned(&self, path: &str) -> Option<Arc<str>> {
        self.methods.get_key_value(path).map(|(k, _)| Arc::clone(k))
    }

    /// Every method listed by name (services covered by prefix are not enumerated).
    pub fn methods(&self) -> impl Iterator<Item = (&str, MethodAccess)> {
        self.methods.iter().map(|(k, v)| (&**k, *v))
    }
}

/// Temporal's method table at server HEAD (see the reference spec, section B.3).
const TEMPORAL_METHODS: &[(&str, Scope, Access)] = &[
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ListNamespaces",
        Scope::Cluster,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/GetSearchAttributes",
        Scope::Cluster,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/GetClusterInfo",
        Scope::Cluster,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo",
        Scope::Cluster,
        Access::Read,
    ),
    (
        "/temporal.api.operatorservice.v1.OperatorService/AddOrUpdateRemoteCluster",
        Scope::Cluster,
        Access::Admin,
    ),
    (
        "/temporal.api.operatorservice.v1.OperatorService/RemoveRemoteCluster",
        Scope::Cluster,
        Access::Admin,
    ),
    (
        "/temporal.api.operatorservice.v1.OperatorService/ListClusters",
        Scope::Cluster,
        Access::Admin,
    ),
    (
        "/temporal.api.operatorservice.v1.OperatorService/CreateNexusEndpoint",
        Scope::Cluster,
        Access::Admin,
    ),
    (
        "/temporal.api.operatorservice.v1.OperatorService/UpdateNexusEndpoint",
        Scope::Cluster,
        Access::Admin,
    ),
    (
        "/temporal.api.operatorservice.v1.OperatorService/DeleteNexusEndpoint",
        Scope::Cluster,
        Access::Admin,
    ),
    (
        "/temporal.api.operatorservice.v1.OperatorService/GetNexusEndpoint",
        Scope::Cluster,
        Access::Admin,
    ),
    (
        "/temporal.api.operatorservice.v1.OperatorService/ListNexusEndpoints",
        Scope::Cluster,
        Access::Admin,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/GetWorkflowExecutionHistory",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/GetWorkflowExecutionHistoryReverse",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/CountActivityExecutions",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/CountNexusOperationExecutions",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DescribeActivityExecution",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DescribeNexusOperationExecution",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/PollActivityExecution",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/PollNexusOperationExecution",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ListActivityExecutions",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ListNexusOperationExecutions",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ListOpenWorkflowExecutions",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ListClosedWorkflowExecutions",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ListWorkflowExecutions",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ListArchivedWorkflowExecutions",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ScanWorkflowExecutions",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/CountWorkflowExecutions",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/QueryWorkflow",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DescribeWorkflowExecution",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DescribeTaskQueue",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ListTaskQueuePartitions",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DescribeSchedule",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ListScheduleMatchingTimes",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ListSchedules",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/CountSchedules",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/GetWorkerBuildIdCompatibility",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/GetWorkerVersioningRules",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/GetWorkerTaskReachability",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/PollWorkflowExecutionUpdate",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/PollWorkflowExecutionTimeSkipping",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DescribeBatchOperation",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ListBatchOperations",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DescribeDeployment",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ListDeployments",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/GetDeploymentReachability",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/GetCurrentDeployment",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DescribeWorkerDeploymentVersion",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DescribeWorkerDeployment",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ValidateWorkerDeploymentVersionComputeConfig",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ListWorkerDeployments",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DescribeWorkflowRule",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ListWorkflowRules",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ListWorkers",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/CountWorkers",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DescribeWorker",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/FetchWorkerConfig",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.operatorservice.v1.OperatorService/ListSearchAttributes",
        Scope::Namespace,
        Access::Read,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/PollWorkflowTaskQueue",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RespondWorkflowTaskCompleted",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RespondWorkflowTaskFailed",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/PollActivityTaskQueue",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RecordActivityTaskHeartbeat",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RecordActivityTaskHeartbeatById",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RespondActivityTaskCompleted",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RespondActivityTaskCompletedById",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RespondActivityTaskFailed",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RespondActivityTaskFailedById",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RespondActivityTaskCanceled",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RespondActivityTaskCanceledById",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DeleteActivityExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DeleteNexusOperationExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RequestCancelActivityExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RequestCancelNexusOperationExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/StartActivityExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/StartNexusOperationExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/TerminateActivityExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/TerminateNexusOperationExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/PollNexusTaskQueue",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RespondNexusTaskCompleted",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RespondNexusTaskFailed",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RequestCancelWorkflowExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/SignalWorkflowExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/SignalWithStartWorkflowExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ResetWorkflowExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/TerminateWorkflowExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DeleteWorkflowExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RespondQueryTaskCompleted",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ResetStickyTaskQueue",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ShutdownWorker",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ExecuteMultiOperation",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/CreateSchedule",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/UpdateSchedule",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/PatchSchedule",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DeleteSchedule",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/UpdateWorkerBuildIdCompatibility",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/UpdateWorkerVersioningRules",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/UpdateWorkflowExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/StartBatchOperation",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/StopBatchOperation",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/UpdateActivityOptions",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/PauseActivity",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/UnpauseActivity",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ResetActivity",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/UpdateActivityExecutionOptions",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/PauseActivityExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/UnpauseActivityExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/ResetActivityExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/UpdateWorkflowExecutionOptions",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/SetCurrentDeployment",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/SetWorkerDeploymentCurrentVersion",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/SetWorkerDeploymentRampingVersion",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/SetWorkerDeploymentManager",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/CreateWorkerDeployment",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DeleteWorkerDeployment",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/CreateWorkerDeploymentVersion",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/UpdateWorkerDeploymentVersionComputeConfig",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DeleteWorkerDeploymentVersion",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/UpdateWorkerDeploymentVersionMetadata",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/CreateWorkflowRule",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DeleteWorkflowRule",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/TriggerWorkflowRule",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RecordWorkerHeartbeat",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/UpdateTaskQueueConfig",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/UpdateWorkerConfig",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/PauseWorkflowExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/UnpauseWorkflowExecution",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.nexusservice.v1.NexusService/DispatchNexusTask",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.nexusservice.v1.NexusService/DispatchByNamespaceAndTaskQueue",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.nexusservice.v1.NexusService/DispatchByEndpoint",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.nexusservice.v1.NexusService/CompleteNexusOperation",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.nexusservice.v1.NexusService/CompleteNexusOperationChasm",
        Scope::Namespace,
        Access::Write,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/RegisterNamespace",
        Scope::Namespace,
        Access::Admin,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/UpdateNamespace",
        Scope::Namespace,
        Access::Admin,
    ),
    (
        "/temporal.api.workflowservice.v1.WorkflowService/DeprecateNamespace",
        Scope::Namespace,
        Access::Admin,
    ),
    (
        "/temporal.api.operatorservice.v1.OperatorService/AddSearchAttributes",
        Scope::Namespace,
        Access::Admin,
    ),
    (
        "/temporal.api.operatorservice.v1.OperatorService/RemoveSearchAttributes",
        Scope::Namespace,
        Access::Admin,
    ),
    (
        "/temporal.api.operatorservice.v1.OperatorService/DeleteNamespace",
        Scope::Namespace,
        Access::Admin,
    ),
];
