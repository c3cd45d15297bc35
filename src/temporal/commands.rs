//! Workflow commands that act in another namespace, and the API each is authorized as.
//!
//! A worker completes a workflow task with a list of commands; three of them can name another
//! namespace (signal an external workflow, start a child workflow, cancel an external workflow).
//! With cross-namespace commands enabled, each such command is authorized as the API a client
//! would call to do the same thing directly, in the namespace it names, so a worker of one
//! namespace cannot act in another through its workflows. Field numbers are those of Temporal's
//! messages; a test in the examples crate checks them against the official descriptors.

/// The API whose request carries the commands.
pub(crate) const RESPOND_WORKFLOW_TASK_COMPLETED: &str =
    "/temporal.api.workflowservice.v1.WorkflowService/RespondWorkflowTaskCompleted";

/// `RespondWorkflowTaskCompletedRequest.commands` (repeated `Command`).
pub(crate) const COMMANDS_FIELD: u32 = 2;

/// The `namespace` field of each of the three attribute messages below.
pub(crate) const TARGET_NAMESPACE_FIELD: u32 = 1;

/// `Command` attribute fields that name a namespace, and the API each is authorized as.
#[rustfmt::skip]
pub(crate) const CROSS_NAMESPACE_COMMANDS: [(u32, &str); 3] = [
    // request_cancel_external_workflow_execution_command_attributes
    (9, "/temporal.api.workflowservice.v1.WorkflowService/RequestCancelWorkflowExecution"),
    // start_child_workflow_execution_command_attributes
    (12, "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution"),
    // signal_external_workflow_execution_command_attributes
    (13, "/temporal.api.workflowservice.v1.WorkflowService/SignalWorkflowExecution"),
];
