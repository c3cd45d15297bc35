//! The `WorkflowService` handlers the backend implements; every other method keeps the
//! generated UNIMPLEMENTED default. Each handler counts its call first, then validates, then
//! works on the shared state under one short lock (never held across an `.await`).

use std::time::SystemTime;

use temporalio_protos::protos::temporal::api::{
    enums::v1::{WorkflowExecutionStatus, WorkflowIdConflictPolicy, WorkflowIdReusePolicy},
    version::v1::VersionInfo,
    workflowservice::v1::{self as wf, get_system_info_response::Capabilities},
};
use tonic::{Request, Response, Status};

use super::{
    Backend,
    namespaces::Namespace,
    paging, poll, query, search_attributes,
    status::{self, invalid_argument},
    workflows::{Run, StartOutcome, StartRequest},
};
use crate::temporal::workflowservice::workflow_service_server::WorkflowService;

impl Backend {
    /// Applies `change` to a running workflow run, or answers as Temporal does when the run is
    /// unknown or already closed.
    fn with_running_run<T>(
        &self,
        namespace: &str,
        workflow_id: &str,
        run_id: &str,
        change: impl FnOnce(&mut Run) -> T,
    ) -> Result<T, Status> {
        let mut state = self.state();
        let run = state
            .workflows
            .find_mut(namespace, workflow_id, run_id)
            .ok_or_else(|| status::workflow_not_found(workflow_id, self.cluster()))?;
        if !run.is_running() {
            return Err(status::workflow_completed(self.cluster()));
        }
        Ok(change(run))
    }
}

type Reply<T> = Result<Response<T>, Status>;

/// The subject of the claims the authorization layer attached, if any.
fn caller_subject<T>(request: &Request<T>) -> Option<String> {
    request
        .extensions()
        .get::<tonic_authz::Claims>()
        .map(|claims| claims.subject().to_owned())
}

pub(super) fn require(value: &str, what: &str) -> Result<(), Status> {
    if value.is_empty() {
        Err(invalid_argument(format!("{what} is not set on request.")))
    } else {
        Ok(())
    }
}

#[tonic::async_trait]
impl WorkflowService for Backend {
    async fn register_namespace(
        &self,
        request: Request<wf::RegisterNamespaceRequest>,
    ) -> Reply<wf::RegisterNamespaceResponse> {
        self.record_call("RegisterNamespace");
        let request = request.into_inner();
        require(&request.namespace, "Namespace")?;
        let mut namespace = Namespace::new(&request.namespace);
        namespace.description = request.description;
        namespace.owner_email = request.owner_email;
        namespace.data = request.data;
        if request.workflow_execution_retention_period.is_some() {
            namespace.retention = request.workflow_execution_retention_period;
        }
        if !self.state().namespaces.insert(namespace) {
            return Err(status::namespace_already_exists());
        }
        Ok(Response::new(wf::RegisterNamespaceResponse {}))
    }

    async fn describe_namespace(
        &self,
        request: Request<wf::DescribeNamespaceRequest>,
    ) -> Reply<wf::DescribeNamespaceResponse> {
        self.record_call("DescribeNamespace");
        let request = request.into_inner();
        let state = self.state();
        let found = match (request.namespace.is_empty(), request.id.is_empty()) {
            (false, _) => state.namespaces.get(&request.namespace),
            (true, false) => state.namespaces.by_id(&request.id),
            (true, true) => return Err(invalid_argument("Namespace is not set on request.")),
        };
        match found {
            Some(namespace) => Ok(Response::new(namespace.describe(self.cluster()))),
            None if request.namespace.is_empty() => Err(status::namespace_not_found(&request.id)),
            None => Err(status::namespace_not_found(&request.namespace)),
        }
    }

    async fn list_namespaces(
        &self,
        request: Request<wf::ListNamespacesRequest>,
    ) -> Reply<wf::ListNamespacesResponse> {
        self.record_call("ListNamespaces");
        let request = request.into_inner();
        let offset = paging::offset(&request.next_page_token)?;
        let size = paging::page_size(request.page_size, self.config().default_page_size);
        let all = self.state().namespaces.all();
        let (page, next_page_token) = paging::page(&all, offset, size);
        Ok(Response::new(wf::ListNamespacesResponse {
            namespaces: page
                .iter()
                .map(|namespace| namespace.describe(self.cluster()))
                .collect(),
            next_page_token,
        }))
    }

    async fn update_namespace(
        &self,
        request: Request<wf::UpdateNamespaceRequest>,
    ) -> Reply<wf::UpdateNamespaceResponse> {
        self.record_call("UpdateNamespace");
        let request = request.into_inner();
        require(&request.namespace, "Namespace")?;
        let mut state = self.state();
        let namespace = state
            .namespaces
            .get_mut(&request.namespace)
            .ok_or_else(|| status::namespace_not_found(&request.namespace))?;
        if let Some(info) = request.update_info {
            namespace.apply_info(info);
        }
        if let Some(retention) = request
            .config
            .and_then(|config| config.workflow_execution_retention_ttl)
        {
            namespace.retention = Some(retention);
        }
        Ok(Response::new(wf::UpdateNamespaceResponse {
            namespace_info: Some(namespace.info()),
            config: Some(namespace.config()),
            replication_config: Some(namespace.replication_config(self.cluster())),
            ..Default::default()
        }))
    }

    async fn start_workflow_execution(
        &self,
        request: Request<wf::StartWorkflowExecutionRequest>,
    ) -> Reply<wf::StartWorkflowExecutionResponse> {
        self.record_call("StartWorkflowExecution");
        let starter = caller_subject(&request);
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        require(&request.workflow_id, "WorkflowId")?;
        let workflow_type = request.workflow_type.map(|t| t.name).unwrap_or_default();
        require(&workflow_type, "WorkflowType")?;
        let task_queue = request.task_queue.map(|q| q.name).unwrap_or_default();
        require(&task_queue, "TaskQueue")?;
        let run = Run {
            workflow_id: request.workflow_id.clone(),
            run_id: uuid::Uuid::new_v4().to_string(),
            workflow_type,
            task_queue,
            request_id: request.request_id,
            identity: request.identity,
            starter,
            start_time: SystemTime::now(),
            close_time: None,
            status: WorkflowExecutionStatus::Running,
            signals: Vec::new(),
            memo: request.memo,
        };
        let start = StartRequest {
            run,
            reuse_policy: WorkflowIdReusePolicy::try_from(request.workflow_id_reuse_policy)
                .unwrap_or_default(),
            conflict_policy: WorkflowIdConflictPolicy::try_from(
                request.workflow_id_conflict_policy,
            )
            .unwrap_or_default(),
        };
        let outcome = self.state().workflows.start(&request.namespace, start);
        let (run_id, started) = match outcome {
            StartOutcome::New { run_id } => (run_id, true),
            StartOutcome::Existing { run_id } => (run_id, false),
            StartOutcome::AlreadyStarted { run_id, request_id } => {
                return Err(status::already_started(
                    &request.workflow_id,
                    &run_id,
                    &request_id,
                ));
            }
        };
        Ok(Response::new(wf::StartWorkflowExecutionResponse {
            first_execution_run_id: run_id.clone(),
            run_id,
            started,
            status: WorkflowExecutionStatus::Running as i32,
            ..Default::default()
        }))
    }

    async fn list_workflow_executions(
        &self,
        request: Request<wf::ListWorkflowExecutionsRequest>,
    ) -> Reply<wf::ListWorkflowExecutionsResponse> {
        self.record_call("ListWorkflowExecutions");
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        let query = query::parse(&request.query)?;
        let offset = paging::offset(&request.next_page_token)?;
        let size = paging::page_size(request.page_size, self.config().default_page_size);
        let infos: Vec<_> = self
            .state()
            .workflows
            .list(&request.namespace, &query)
            .into_iter()
            .map(Run::info)
            .collect();
        let (executions, next_page_token) = paging::page(&infos, offset, size);
        Ok(Response::new(wf::ListWorkflowExecutionsResponse {
            executions,
            next_page_token,
        }))
    }

    async fn count_workflow_executions(
        &self,
        request: Request<wf::CountWorkflowExecutionsRequest>,
    ) -> Reply<wf::CountWorkflowExecutionsResponse> {
        self.record_call("CountWorkflowExecutions");
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        let query = query::parse(&request.query)?;
        let count = self
            .state()
            .workflows
            .list(&request.namespace, &query)
            .len();
        Ok(Response::new(wf::CountWorkflowExecutionsResponse {
            count: i64::try_from(count).unwrap_or(i64::MAX),
            groups: Vec::new(),
        }))
    }

    async fn describe_workflow_execution(
        &self,
        request: Request<wf::DescribeWorkflowExecutionRequest>,
    ) -> Reply<wf::DescribeWorkflowExecutionResponse> {
        self.record_call("DescribeWorkflowExecution");
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        let execution = request.execution.unwrap_or_default();
        require(&execution.workflow_id, "WorkflowId")?;
        let mut state = self.state();
        let run = state
            .workflows
            .find_mut(
                &request.namespace,
                &execution.workflow_id,
                &execution.run_id,
            )
            .ok_or_else(|| status::workflow_not_found(&execution.workflow_id, self.cluster()))?;
        Ok(Response::new(wf::DescribeWorkflowExecutionResponse {
            execution_config: Some(run.config()),
            workflow_execution_info: Some(run.info()),
            ..Default::default()
        }))
    }

    async fn signal_workflow_execution(
        &self,
        request: Request<wf::SignalWorkflowExecutionRequest>,
    ) -> Reply<wf::SignalWorkflowExecutionResponse> {
        self.record_call("SignalWorkflowExecution");
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        let execution = request.workflow_execution.unwrap_or_default();
        require(&execution.workflow_id, "WorkflowId")?;
        require(&request.signal_name, "SignalName")?;
        let signal = request.signal_name;
        self.with_running_run(
            &request.namespace,
            &execution.workflow_id,
            &execution.run_id,
            |run| {
                run.signals.push(signal);
            },
        )?;
        Ok(Response::new(wf::SignalWorkflowExecutionResponse::default()))
    }

    async fn terminate_workflow_execution(
        &self,
        request: Request<wf::TerminateWorkflowExecutionRequest>,
    ) -> Reply<wf::TerminateWorkflowExecutionResponse> {
        self.record_call("TerminateWorkflowExecution");
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        let execution = request.workflow_execution.unwrap_or_default();
        require(&execution.workflow_id, "WorkflowId")?;
        self.with_running_run(
            &request.namespace,
            &execution.workflow_id,
            &execution.run_id,
            |run| {
                run.status = WorkflowExecutionStatus::Terminated;
                run.close_time = Some(SystemTime::now());
            },
        )?;
        Ok(Response::new(
            wf::TerminateWorkflowExecutionResponse::default(),
        ))
    }

    async fn get_system_info(
        &self,
        _request: Request<wf::GetSystemInfoRequest>,
    ) -> Reply<wf::GetSystemInfoResponse> {
        self.record_call("GetSystemInfo");
        // Advertise only what this backend does: Temporal clients change their requests and
        // retries according to these flags.
        Ok(Response::new(wf::GetSystemInfoResponse {
            server_version: env!("CARGO_PKG_VERSION").to_owned(),
            capabilities: Some(Capabilities {
                signal_and_query_header: true,
                internal_error_differentiation: true,
                supports_schedules: false,
                ..Default::default()
            }),
        }))
    }

    async fn get_cluster_info(
        &self,
        _request: Request<wf::GetClusterInfoRequest>,
    ) -> Reply<wf::GetClusterInfoResponse> {
        self.record_call("GetClusterInfo");
        Ok(Response::new(wf::GetClusterInfoResponse {
            supported_clients: [
                ("temporal-cli", ">=1.0.0 <2.0.0"),
                ("temporal-go", ">=1.0.0 <2.0.0"),
                ("temporal-python", ">=1.0.0 <2.0.0"),
            ]
            .into_iter()
            .map(|(client, versions)| (client.to_owned(), versions.to_owned()))
            .collect(),
            server_version: env!("CARGO_PKG_VERSION").to_owned(),
            cluster_id: self.inner.cluster_id.clone(),
            version_info: Some(VersionInfo::default()),
            cluster_name: self.cluster().to_owned(),
            history_shard_count: 1,
            persistence_store: "memory".to_owned(),
            visibility_store: "memory".to_owned(),
            initial_failover_version: 1,
            failover_version_increment: 10,
        }))
    }

    async fn get_search_attributes(
        &self,
        _request: Request<wf::GetSearchAttributesRequest>,
    ) -> Reply<wf::GetSearchAttributesResponse> {
        self.record_call("GetSearchAttributes");
        let mut keys = search_attributes::system();
        keys.extend(self.state().search_attributes.all_custom());
        Ok(Response::new(wf::GetSearchAttributesResponse { keys }))
    }

    async fn poll_workflow_task_queue(
        &self,
        request: Request<wf::PollWorkflowTaskQueueRequest>,
    ) -> Reply<wf::PollWorkflowTaskQueueResponse> {
        self.record_call("PollWorkflowTaskQueue");
        let wait = poll::wait_for(request.metadata(), self.config().poll_wait);
        self.check_namespace(&request.get_ref().namespace)?;
        tokio::time::sleep(wait).await;
        Ok(Response::new(wf::PollWorkflowTaskQueueResponse::default()))
    }

    async fn poll_activity_task_queue(
        &self,
        request: Request<wf::PollActivityTaskQueueRequest>,
    ) -> Reply<wf::PollActivityTaskQueueResponse> {
        self.record_call("PollActivityTaskQueue");
        let wait = poll::wait_for(request.metadata(), self.config().poll_wait);
        self.check_namespace(&request.get_ref().namespace)?;
        tokio::time::sleep(wait).await;
        Ok(Response::new(wf::PollActivityTaskQueueResponse::default()))
    }

    async fn poll_nexus_task_queue(
        &self,
        request: Request<wf::PollNexusTaskQueueRequest>,
    ) -> Reply<wf::PollNexusTaskQueueResponse> {
        self.record_call("PollNexusTaskQueue");
        let wait = poll::wait_for(request.metadata(), self.config().poll_wait);
        self.check_namespace(&request.get_ref().namespace)?;
        tokio::time::sleep(wait).await;
        Ok(Response::new(wf::PollNexusTaskQueueResponse::default()))
    }
}
