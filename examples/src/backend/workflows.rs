//! Workflow executions: start (with Temporal's id-conflict and id-reuse rules), signal,
//! terminate, and the `WorkflowExecutionInfo` clients read back. The subject of the caller's
//! claims is kept as the starter and reported in the memo under [`STARTER_MEMO_KEY`], so an
//! end-to-end test can see which identity the authorization layer passed to the handler.

use std::{collections::HashMap, time::SystemTime};

use temporalio_protos::protos::temporal::api::{
    common::v1::{Memo, Payload, WorkflowExecution, WorkflowType},
    enums::v1::{
        TaskQueueKind, WorkflowExecutionStatus, WorkflowIdConflictPolicy, WorkflowIdReusePolicy,
    },
    taskqueue::v1::TaskQueue,
    workflow::v1::{WorkflowExecutionConfig, WorkflowExecutionInfo},
};

use super::{WorkflowSnapshot, query::Clause, query::Query};

/// Memo key under which the starter's claims subject is reported (a `json/plain` string).
pub const STARTER_MEMO_KEY: &str = "tonic-authz-starter";

/// One run of a workflow.
#[derive(Clone, Debug)]
pub(super) struct Run {
    pub(super) workflow_id: String,
    pub(super) run_id: String,
    pub(super) workflow_type: String,
    pub(super) task_queue: String,
    pub(super) request_id: String,
    pub(super) identity: String,
    pub(super) starter: Option<String>,
    pub(super) start_time: SystemTime,
    pub(super) close_time: Option<SystemTime>,
    pub(super) status: WorkflowExecutionStatus,
    pub(super) signals: Vec<String>,
    pub(super) memo: Option<Memo>,
}

impl Run {
    pub(super) fn is_running(&self) -> bool {
        self.status == WorkflowExecutionStatus::Running
    }

    pub(super) fn matches(&self, query: &Query) -> bool {
        query.clauses.iter().all(|clause| match clause {
            Clause::WorkflowId(id) => self.workflow_id == *id,
            Clause::RunId(id) => self.run_id == *id,
            Clause::WorkflowType(name) => self.workflow_type == *name,
            Clause::TaskQueue(name) => self.task_queue == *name,
            Clause::Status(status) => self.status == *status,
        })
    }

    pub(super) fn execution(&self) -> WorkflowExecution {
        WorkflowExecution {
            workflow_id: self.workflow_id.clone(),
            run_id: self.run_id.clone(),
        }
    }

    pub(super) fn info(&self) -> WorkflowExecutionInfo {
        let mut memo = self.memo.clone().unwrap_or_default();
        if let Some(starter) = &self.starter {
            memo.fields
                .insert(STARTER_MEMO_KEY.to_owned(), json_string_payload(starter));
        }
        // Started, one event per signal, and the closing event.
        let events = 1 + self.signals.len() + usize::from(self.close_time.is_some());
        WorkflowExecutionInfo {
            execution: Some(self.execution()),
            r#type: Some(WorkflowType {
                name: self.workflow_type.clone(),
            }),
            start_time: Some(self.start_time.into()),
            close_time: self.close_time.map(Into::into),
            status: self.status as i32,
            history_length: i64::try_from(events).unwrap_or(i64::MAX),
            execution_time: Some(self.start_time.into()),
            memo: (!memo.fields.is_empty()).then_some(memo),
            task_queue: self.task_queue.clone(),
            first_run_id: self.run_id.clone(),
            ..Default::default()
        }
    }

    pub(super) fn config(&self) -> WorkflowExecutionConfig {
        WorkflowExecutionConfig {
            task_queue: Some(TaskQueue {
                name: self.task_queue.clone(),
                kind: TaskQueueKind::Normal as i32,
                normal_name: String::new(),
            }),
            ..Default::default()
        }
    }

    pub(super) fn snapshot(&self) -> WorkflowSnapshot {
        WorkflowSnapshot {
            workflow_id: self.workflow_id.clone(),
            run_id: self.run_id.clone(),
            workflow_type: self.workflow_type.clone(),
            task_queue: self.task_queue.clone(),
            status: self.status,
            identity: self.identity.clone(),
            starter: self.starter.clone(),
            signals: self.signals.clone(),
        }
    }
}

fn json_string_payload(text: &str) -> Payload {
    Payload {
        metadata: HashMap::from([("encoding".to_owned(), b"json/plain".to_vec())]),
        data: serde_json::Value::String(text.to_owned())
            .to_string()
            .into_bytes(),
        ..Default::default()
    }
}

/// What a start request asks for, after validation.
#[derive(Debug)]
pub(super) struct StartRequest {
    pub(super) run: Run,
    pub(super) reuse_policy: WorkflowIdReusePolicy,
    pub(super) conflict_policy: WorkflowIdConflictPolicy,
}

/// The outcome of a start.
#[derive(Debug)]
pub(super) enum StartOutcome {
    /// A new run was created.
    New { run_id: String },
    /// The running execution was reused (conflict policy USE_EXISTING or a retried request id).
    Existing { run_id: String },
    /// Rejected: a run with this id is running, or reuse is not allowed.
    AlreadyStarted { run_id: String, request_id: String },
}

/// All runs, per namespace, in start order.
#[derive(Debug, Default)]
pub(super) struct Workflows {
    by_namespace: HashMap<String, Vec<Run>>,
}

impl Workflows {
    pub(super) fn start(&mut self, namespace: &str, request: StartRequest) -> StartOutcome {
        let runs = self.by_namespace.entry(namespace.to_owned()).or_default();
        let latest = runs
            .iter_mut()
            .rev()
            .find(|run| run.workflow_id == request.run.workflow_id);
        if let Some(existing) = latest {
            if existing.is_running() {
                // A client retrying the same start gets the same run back.
                if existing.request_id == request.run.request_id {
                    return StartOutcome::Existing {
                        run_id: existing.run_id.clone(),
                    };
                }
                match request.conflict_policy {
                    WorkflowIdConflictPolicy::UseExisting => {
                        return StartOutcome::Existing {
                            run_id: existing.run_id.clone(),
                        };
                    }
                    WorkflowIdConflictPolicy::TerminateExisting => {
                        existing.status = WorkflowExecutionStatus::Terminated;
                        existing.close_time = Some(SystemTime::now());
                    }
                    _ => {
                        return StartOutcome::AlreadyStarted {
                            run_id: existing.run_id.clone(),
                            request_id: existing.request_id.clone(),
                        };
                    }
                }
            } else if request.reuse_policy == WorkflowIdReusePolicy::RejectDuplicate
                || (request.reuse_policy == WorkflowIdReusePolicy::AllowDuplicateFailedOnly
                    && existing.status == WorkflowExecutionStatus::Completed)
            {
                return StartOutcome::AlreadyStarted {
                    run_id: existing.run_id.clone(),
                    request_id: existing.request_id.clone(),
                };
            }
        }
        let run_id = request.run.run_id.clone();
        runs.push(request.run);
        StartOutcome::New { run_id }
    }

    /// Runs of a namespace matching a query, newest first (as Temporal lists them).
    pub(super) fn list(&self, namespace: &str, query: &Query) -> Vec<&Run> {
        self.by_namespace
            .get(namespace)
            .map(|runs| runs.iter().rev().filter(|run| run.matches(query)).collect())
            .unwrap_or_default()
    }

    /// A run by workflow id and, if not empty, run id; the latest run otherwise.
    pub(super) fn find_mut(
        &mut self,
        namespace: &str,
        workflow_id: &str,
        run_id: &str,
    ) -> Option<&mut Run> {
        self.by_namespace
            .get_mut(namespace)?
            .iter_mut()
            .rev()
            .find(|run| {
                run.workflow_id == workflow_id && (run_id.is_empty() || run.run_id == run_id)
            })
    }

    pub(super) fn snapshot(&self, namespace: &str, workflow_id: &str) -> Option<WorkflowSnapshot> {
        self.by_namespace
            .get(namespace)?
            .iter()
            .rev()
            .find(|run| run.workflow_id == workflow_id)
            .map(Run::snapshot)
    }

    pub(super) fn remove_namespace(&mut self, namespace: &str) {
        self.by_namespace.remove(namespace);
    }
}
