//! End to end over the Temporal API without the authorization layer: the backend answers the
//! way real Temporal clients need (section 11 of the client notes): workflow lifecycle, typed
//! already-started errors, namespaces with all three sub-messages, paging, search attributes,
//! clusters, health, and empty long polls that end before the client's deadline.

mod common;

use std::time::{Duration, Instant};

use prost::Message;
use temporalio_protos::protos::{
    google::rpc::Status as RpcStatus,
    temporal::api::{
        common::v1::{WorkflowExecution, WorkflowType},
        enums::v1::{
            IndexedValueType, NamespaceState, WorkflowExecutionStatus, WorkflowIdConflictPolicy,
        },
        errordetails::v1::WorkflowExecutionAlreadyStartedFailure,
        namespace::v1::UpdateNamespaceInfo,
        operatorservice::v1::{
            AddSearchAttributesRequest, DeleteNamespaceRequest, ListClustersRequest,
            ListSearchAttributesRequest, RemoveSearchAttributesRequest,
        },
        taskqueue::v1::TaskQueue,
        workflowservice::v1::{
            CountWorkflowExecutionsRequest, DescribeNamespaceRequest,
            DescribeWorkflowExecutionRequest, GetClusterInfoRequest, ListNamespacesRequest,
            ListWorkflowExecutionsRequest, PollActivityTaskQueueRequest,
            PollActivityTaskQueueResponse, PollWorkflowTaskQueueRequest,
            PollWorkflowTaskQueueResponse, RegisterNamespaceRequest,
            SignalWorkflowExecutionRequest, StartWorkflowExecutionRequest,
            TerminateWorkflowExecutionRequest, UpdateNamespaceRequest,
        },
    },
};
use tonic::{Code, Request};
use tonic_authz_examples::{BackendConfig, temporal::WORKFLOW_SERVICE_NAME};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use common::start;

fn start_request(workflow_id: &str, workflow_type: &str) -> StartWorkflowExecutionRequest {
    StartWorkflowExecutionRequest {
        namespace: "default".to_owned(),
        workflow_id: workflow_id.to_owned(),
        workflow_type: Some(WorkflowType {
            name: workflow_type.to_owned(),
        }),
        task_queue: Some(TaskQueue {
            name: "queue".to_owned(),
            ..Default::default()
        }),
        request_id: uuid::Uuid::new_v4().to_string(),
        ..Default::default()
    }
}

fn execution(workflow_id: &str) -> Option<WorkflowExecution> {
    Some(WorkflowExecution {
        workflow_id: workflow_id.to_owned(),
        run_id: String::new(),
    })
}

fn list(query: &str, page_size: i32, token: Vec<u8>) -> ListWorkflowExecutionsRequest {
    ListWorkflowExecutionsRequest {
        namespace: "default".to_owned(),
        page_size,
        next_page_token: token,
        query: query.to_owned(),
    }
}

#[tokio::test]
async fn workflow_lifecycle_start_list_describe_count_signal_terminate() {
    let harness = start(BackendConfig::default(), None).await;
    for gzip in [false, true] {
        let mut client = harness.workflow(gzip);
        let id = format!("order-{gzip}");
        let started = client
            .start_workflow_execution(start_request(&id, "process-order"))
            .await
            .expect("start")
            .into_inner();
        assert!(started.started);
        assert!(!started.run_id.is_empty());

        let listed = client
            .list_workflow_executions(list(&format!("WorkflowId = '{id}'"), 0, Vec::new()))
            .await
            .expect("list")
            .into_inner();
        assert_eq!(listed.executions.len(), 1);
        assert!(listed.next_page_token.is_empty());
        let info = &listed.executions[0];
        let listed_execution = info.execution.as_ref().expect("execution is always set");
        assert_eq!(listed_execution.workflow_id, id);
        assert_eq!(listed_execution.run_id, started.run_id);
        assert_eq!(info.status, WorkflowExecutionStatus::Running as i32);
        assert_eq!(
            info.r#type.as_ref().map(|t| t.name.as_str()),
            Some("process-order")
        );
        assert!(info.start_time.is_some());

        client
            .signal_workflow_execution(SignalWorkflowExecutionRequest {
                namespace: "default".to_owned(),
                workflow_execution: execution(&id),
                signal_name: "approve".to_owned(),
                ..Default::default()
            })
            .await
            .expect("signal");
        assert_eq!(
            harness
                .backend()
                .workflow("default", &id)
                .map(|w| w.signals),
            Some(vec!["approve".to_owned()])
        );

        client
            .terminate_workflow_execution(TerminateWorkflowExecutionRequest {
                namespace: "default".to_owned(),
                workflow_execution: execution(&id),
                reason: "test".to_owned(),
                ..Default::default()
            })
            .await
            .expect("terminate");

        let described = client
            .describe_workflow_execution(DescribeWorkflowExecutionRequest {
                namespace: "default".to_owned(),
                execution: execution(&id),
            })
            .await
            .expect("describe")
            .into_inner();
        let info = described.workflow_execution_info.expect("info is set");
        assert_eq!(info.status, WorkflowExecutionStatus::Terminated as i32);
        assert!(info.close_time.is_some());
        assert_eq!(info.history_length, 3, "started, signaled, terminated");
        assert_eq!(
            described
                .execution_config
                .and_then(|c| c.task_queue)
                .map(|q| q.name),
            Some("queue".to_owned())
        );

        // A closed workflow takes no more signals.
        let status = client
            .signal_workflow_execution(SignalWorkflowExecutionRequest {
                namespace: "default".to_owned(),
                workflow_execution: execution(&id),
                signal_name: "late".to_owned(),
                ..Default::default()
            })
            .await
            .expect_err("closed");
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(status.message(), "workflow execution already completed");
    }

    let mut client = harness.workflow(true);
    let count = |query: &str| CountWorkflowExecutionsRequest {
        namespace: "default".to_owned(),
        query: query.to_owned(),
    };
    let all = client
        .count_workflow_executions(count(""))
        .await
        .expect("count");
    assert_eq!(all.into_inner().count, 2);
    let running = client
        .count_workflow_executions(count("ExecutionStatus = 'Running'"))
        .await
        .expect("count running");
    assert_eq!(running.into_inner().count, 0);
    let bad = client
        .count_workflow_executions(count("StartTime > 0"))
        .await
        .expect_err("unsupported query");
    assert_eq!(bad.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn a_running_workflow_id_is_already_started_with_the_typed_detail() {
    let harness = start(BackendConfig::default(), None).await;
    let mut client = harness.workflow(true);
    let first = client
        .start_workflow_execution(start_request("dup", "t"))
        .await
        .expect("first start")
        .into_inner();
    let original = start_request("dup", "t");

    let status = client
        .start_workflow_execution(start_request("dup", "t"))
        .await
        .expect_err("same id while running");
    assert_eq!(status.code(), Code::AlreadyExists);
    let details = RpcStatus::decode(status.details()).expect("details decode");
    assert_eq!(details.details.len(), 1);
    assert_eq!(
        details.details[0].type_url,
        "type.googleapis.com/temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure"
    );
    let failure =
        WorkflowExecutionAlreadyStartedFailure::decode(details.details[0].value.as_slice())
            .expect("failure decodes");
    assert_eq!(failure.run_id, first.run_id);

    // USE_EXISTING returns the running run instead of failing.
    let reused = client
        .start_workflow_execution(StartWorkflowExecutionRequest {
            workflow_id_conflict_policy: WorkflowIdConflictPolicy::UseExisting as i32,
            ..original.clone()
        })
        .await
        .expect("use existing")
        .into_inner();
    assert_eq!(reused.run_id, first.run_id);
    assert!(!reused.started);

    // TERMINATE_EXISTING ends the old run and starts a new one.
    let replaced = client
        .start_workflow_execution(StartWorkflowExecutionRequest {
            workflow_id_conflict_policy: WorkflowIdConflictPolicy::TerminateExisting as i32,
            ..original
        })
        .await
        .expect("terminate existing")
        .into_inner();
    assert_ne!(replaced.run_id, first.run_id);
    assert!(replaced.started);
    let listed = client
        .list_workflow_executions(list("WorkflowId = 'dup'", 0, Vec::new()))
        .await
        .expect("list")
        .into_inner();
    let statuses: Vec<i32> = listed.executions.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        vec![
            WorkflowExecutionStatus::Running as i32,
            WorkflowExecutionStatus::Terminated as i32
        ]
    );
}

#[tokio::test]
async fn listing_pages_until_the_token_is_empty() {
    let harness = start(BackendConfig::default(), None).await;
    let mut client = harness.workflow(false);
    for i in 0..5 {
        client
            .start_workflow_execution(start_request(&format!("wf-{i}"), "t"))
            .await
            .expect("start");
    }
    let mut seen = Vec::new();
    let mut token = Vec::new();
    let mut pages = 0;
    loop {
        let page = client
            .list_workflow_executions(list("", 2, token))
            .await
            .expect("list page")
            .into_inner();
        pages += 1;
        seen.extend(
            page.executions
                .into_iter()
                .filter_map(|e| e.execution.map(|x| x.workflow_id)),
        );
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["wf-4", "wf-3", "wf-2", "wf-1", "wf-0"]);

    let bad = client
        .list_workflow_executions(list("", 2, b"forged".to_vec()))
        .await
        .expect_err("foreign token");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(bad.message(), "invalid page token");
}

#[tokio::test]
async fn namespaces_register_describe_update_list_delete() {
    let harness = start(BackendConfig::default().with_namespace("seeded"), None).await;
    let mut client = harness.workflow(true);
    client
        .register_namespace(RegisterNamespaceRequest {
            namespace: "payments".to_owned(),
            description: "money".to_owned(),
            ..Default::default()
        })
        .await
        .expect("register");
    let again = client
        .register_namespace(RegisterNamespaceRequest {
            namespace: "payments".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("taken");
    assert_eq!(again.code(), Code::AlreadyExists);

    let described = client
        .describe_namespace(DescribeNamespaceRequest {
            namespace: "payments".to_owned(),
            ..Default::default()
        })
        .await
        .expect("describe")
        .into_inner();
    let info = described.namespace_info.expect("namespace_info");
    assert_eq!(info.name, "payments");
    assert_eq!(info.description, "money");
    assert_eq!(info.state, NamespaceState::Registered as i32);
    assert!(!info.id.is_empty());
    assert!(described.config.is_some());
    assert_eq!(
        described
            .replication_config
            .expect("replication_config")
            .active_cluster_name,
        "active"
    );

    // By id as well.
    let by_id = client
        .describe_namespace(DescribeNamespaceRequest {
            id: info.id.clone(),
            ..Default::default()
        })
        .await
        .expect("describe by id")
        .into_inner();
    assert_eq!(
        by_id.namespace_info.map(|i| i.name),
        Some("payments".to_owned())
    );

    let updated = client
        .update_namespace(UpdateNamespaceRequest {
            namespace: "payments".to_owned(),
            update_info: Some(UpdateNamespaceInfo {
                owner_email: "ops@example.com".to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("update")
        .into_inner();
    let updated_info = updated.namespace_info.expect("namespace_info");
    assert_eq!(updated_info.owner_email, "ops@example.com");
    assert_eq!(updated_info.description, "money");
    assert!(updated.config.is_some() && updated.replication_config.is_some());

    let mut names = Vec::new();
    let mut token = Vec::new();
    loop {
        let page = client
            .list_namespaces(ListNamespacesRequest {
                page_size: 2,
                next_page_token: token,
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner();
        for namespace in page.namespaces {
            assert!(namespace.config.is_some() && namespace.replication_config.is_some());
            names.push(namespace.namespace_info.expect("namespace_info").name);
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(names, ["default", "payments", "seeded"]);

    let deleted = harness
        .operator(true)
        .delete_namespace(DeleteNamespaceRequest {
            namespace: "payments".to_owned(),
            ..Default::default()
        })
        .await
        .expect("delete")
        .into_inner();
    assert_eq!(deleted.deleted_namespace, "payments");
    let gone = client
        .describe_namespace(DescribeNamespaceRequest {
            namespace: "payments".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("deleted");
    assert_eq!(gone.code(), Code::NotFound);
    assert_eq!(gone.message(), "Namespace payments is not found.");
}

#[tokio::test]
async fn search_attributes_and_clusters() {
    let harness = start(BackendConfig::default(), None).await;
    let mut operator = harness.operator(true);
    operator
        .add_search_attributes(AddSearchAttributesRequest {
            namespace: "default".to_owned(),
            search_attributes: [("CustomerId".to_owned(), IndexedValueType::Keyword as i32)].into(),
        })
        .await
        .expect("add");
    let reserved = operator
        .add_search_attributes(AddSearchAttributesRequest {
            namespace: "default".to_owned(),
            search_attributes: [("WorkflowId".to_owned(), IndexedValueType::Keyword as i32)].into(),
        })
        .await
        .expect_err("system name");
    assert_eq!(reserved.code(), Code::InvalidArgument);

    let listed = operator
        .list_search_attributes(ListSearchAttributesRequest {
            namespace: "default".to_owned(),
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(
        listed.custom_attributes.get("CustomerId"),
        Some(&(IndexedValueType::Keyword as i32))
    );
    assert!(listed.system_attributes.contains_key("WorkflowId"));

    operator
        .remove_search_attributes(RemoveSearchAttributesRequest {
            namespace: "default".to_owned(),
            search_attributes: vec!["CustomerId".to_owned()],
        })
        .await
        .expect("remove");
    let missing = operator
        .remove_search_attributes(RemoveSearchAttributesRequest {
            namespace: "default".to_owned(),
            search_attributes: vec!["CustomerId".to_owned()],
        })
        .await
        .expect_err("already removed");
    assert_eq!(missing.code(), Code::NotFound);

    let clusters = operator
        .list_clusters(ListClustersRequest::default())
        .await
        .expect("clusters")
        .into_inner();
    assert_eq!(clusters.clusters.len(), 1);
    assert_eq!(clusters.clusters[0].cluster_name, "active");
    assert!(clusters.next_page_token.is_empty());

    let info = harness
        .workflow(true)
        .get_cluster_info(GetClusterInfoRequest {})
        .await
        .expect("cluster info")
        .into_inner();
    assert_eq!(info.cluster_name, "active");
    assert_eq!(info.cluster_id, clusters.clusters[0].cluster_id);
}

#[tokio::test]
async fn health_reports_the_workflow_service_serving() {
    let harness = start(BackendConfig::default(), None).await;
    let mut health = HealthClient::new(harness.channel.clone())
        .send_compressed(tonic::codec::CompressionEncoding::Gzip);
    let response = health
        .check(HealthCheckRequest {
            service: WORKFLOW_SERVICE_NAME.to_owned(),
        })
        .await
        .expect("health check")
        .into_inner();
    assert_eq!(response.status, ServingStatus::Serving as i32);
    let unknown = health
        .check(HealthCheckRequest {
            service: "no.such.Service".to_owned(),
        })
        .await
        .expect_err("unknown service");
    assert_eq!(unknown.code(), Code::NotFound);
}

#[tokio::test]
async fn empty_polls_are_all_default_and_end_before_the_deadline() {
    let config = BackendConfig::default().with_poll_wait(Duration::from_secs(30));
    let harness = start(config, None).await;
    let mut client = harness.workflow(true);

    let mut request = Request::new(PollWorkflowTaskQueueRequest {
        namespace: "default".to_owned(),
        task_queue: Some(TaskQueue {
            name: "queue".to_owned(),
            ..Default::default()
        }),
        ..Default::default()
    });
    request.set_timeout(Duration::from_millis(600));
    let began = Instant::now();
    let response = client
        .poll_workflow_task_queue(request)
        .await
        .expect("an empty poll is OK, not DEADLINE_EXCEEDED")
        .into_inner();
    assert!(began.elapsed() < Duration::from_millis(600));
    assert_eq!(response, PollWorkflowTaskQueueResponse::default());

    let mut request = Request::new(PollActivityTaskQueueRequest {
        namespace: "default".to_owned(),
        ..Default::default()
    });
    request.set_timeout(Duration::from_millis(300));
    let response = client
        .poll_activity_task_queue(request)
        .await
        .expect("empty activity poll")
        .into_inner();
    assert_eq!(response, PollActivityTaskQueueResponse::default());

    let unknown = client
        .poll_activity_task_queue(PollActivityTaskQueueRequest {
            namespace: "nowhere".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("unknown namespace");
    assert_eq!(unknown.code(), Code::NotFound);
}
