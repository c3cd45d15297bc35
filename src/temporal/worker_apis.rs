//! The APIs a Temporal worker needs, and nothing more: what the Worker role grants when it is
//! switched on ([`DefaultAuthorizer::with_worker_role`](crate::DefaultAuthorizer::with_worker_role),
//! `workerRole: true`), and the members of the `Worker` action group of the Cedar schema.
//!
//! A worker polls its task queues, answers the tasks (complete, fail, cancel, heartbeat, query
//! answers, Nexus answers), reads a workflow's history when its cache misses, resets its sticky
//! queue, reports its own heartbeats and configuration, says goodbye on shutdown, and checks
//! the namespace and the server at start-up. It never starts, signals, queries, lists or
//! terminates workflows: that is a client's job and needs the Writer or Reader role.

/// Full gRPC paths of the APIs the Worker role grants, in one namespace.
#[rustfmt::skip]
pub(crate) const WORKER_APIS: &[&str] = &[
    "/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo",
    "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace",
    "/temporal.api.workflowservice.v1.WorkflowService/PollWorkflowTaskQueue",
    "/temporal.api.workflowservice.v1.WorkflowService/RespondWorkflowTaskCompleted",
    "/temporal.api.workflowservice.v1.WorkflowService/RespondWorkflowTaskFailed",
    "/temporal.api.workflowservice.v1.WorkflowService/RespondQueryTaskCompleted",
    "/temporal.api.workflowservice.v1.WorkflowService/GetWorkflowExecutionHistory",
    "/temporal.api.workflowservice.v1.WorkflowService/ResetStickyTaskQueue",
    "/temporal.api.workflowservice.v1.WorkflowService/PollActivityTaskQueue",
    "/temporal.api.workflowservice.v1.WorkflowService/RecordActivityTaskHeartbeat",
    "/temporal.api.workflowservice.v1.WorkflowService/RecordActivityTaskHeartbeatById",
    "/temporal.api.workflowservice.v1.WorkflowService/RespondActivityTaskCompleted",
    "/temporal.api.workflowservice.v1.WorkflowService/RespondActivityTaskCompletedById",
    "/temporal.api.workflowservice.v1.WorkflowService/RespondActivityTaskFailed",
    "/temporal.api.workflowservice.v1.WorkflowService/RespondActivityTaskFailedById",
    "/temporal.api.workflowservice.v1.WorkflowService/RespondActivityTaskCanceled",
    "/temporal.api.workflowservice.v1.WorkflowService/RespondActivityTaskCanceledById",
    "/temporal.api.workflowservice.v1.WorkflowService/PollNexusTaskQueue",
    "/temporal.api.workflowservice.v1.WorkflowService/RespondNexusTaskCompleted",
    "/temporal.api.workflowservice.v1.WorkflowService/RespondNexusTaskFailed",
    "/temporal.api.workflowservice.v1.WorkflowService/RecordWorkerHeartbeat",
    "/temporal.api.workflowservice.v1.WorkflowService/FetchWorkerConfig",
    "/temporal.api.workflowservice.v1.WorkflowService/ShutdownWorker",
];

/// True iff `path` is one of the APIs the Worker role grants.
#[must_use]
pub fn is_worker_api(path: &str) -> bool {
    WORKER_APIS.contains(&path)
}

/// The APIs the Worker role grants, as full gRPC paths.
pub fn worker_apis() -> impl Iterator<Item = &'static str> {
    WORKER_APIS.iter().copied()
}
