//! An in-memory backend that behaves like a very small Temporal cluster, so the Frontend has
//! something real to protect: namespaces, workflow executions, search attributes and empty
//! long polls, answered with the fields real Temporal clients rely on.
//!
//! [`Backend`] is cheap to clone (all clones share one state) and implements both generated
//! server traits, `WorkflowService` and `OperatorService`. Every handler call is counted, so
//! tests can prove that a denied call never reached the service behind the authorization layer.

mod namespaces;
mod operator_service;
mod paging;
mod poll;
mod query;
mod search_attributes;
mod status;
mod workflow_service;
mod workflows;

pub use self::workflows::STARTER_MEMO_KEY;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use temporalio_protos::protos::temporal::api::enums::v1::WorkflowExecutionStatus;

use self::{namespaces::Namespaces, search_attributes::SearchAttributes, workflows::Workflows};

/// Settings of a [`Backend`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BackendConfig {
    /// Namespaces registered at start, besides `default` which always exists.
    pub namespaces: Vec<String>,
    /// The cluster name reported by `GetClusterInfo`, `ListClusters` and namespace replication
    /// configs. Default `active`, as Temporal's development server names it.
    pub cluster_name: String,
    /// How long an empty long poll waits before answering. Default 2 s; always cut short to stay
    /// within the client's deadline.
    pub poll_wait: Duration,
    /// Page size used when a list request asks for 0. Default 1000.
    pub default_page_size: usize,
    /// CPU time every call spends busy before it is answered, for benchmarks only: a bare
    /// server doing this much more work per call is the control that shows what the same
    /// added cost does to throughput and latency, whatever spends it. Default zero.
    pub busy_per_call: Duration,
}

impl Default for BackendConfig {
    fn default() -> BackendConfig {
        BackendConfig {
            namespaces: Vec::new(),
            cluster_name: "active".to_owned(),
            poll_wait: Duration::from_secs(2),
            default_page_size: 1000,
            busy_per_call: Duration::ZERO,
        }
    }
}

impl BackendConfig {
    /// Adds a namespace registered at start. Default: only `default`.
    #[must_use]
    pub fn with_namespace(mut self, name: impl Into<String>) -> BackendConfig {
        self.namespaces.push(name.into());
        self
    }

    /// Sets the cluster name. Default `active`.
    #[must_use]
    pub fn with_cluster_name(mut self, name: impl Into<String>) -> BackendConfig {
        self.cluster_name = name.into();
        self
    }

    /// Sets how long an empty long poll waits. Default 2 s.
    #[must_use]
    pub fn with_poll_wait(mut self, wait: Duration) -> BackendConfig {
        self.poll_wait = wait;
        self
    }

    /// Sets the page size used for `page_size = 0`. Default 1000; 0 is taken as 1.
    #[must_use]
    pub fn with_default_page_size(mut self, size: usize) -> BackendConfig {
        self.default_page_size = size.max(1);
        self
    }
}

/// A snapshot of one workflow execution, for tests and tools that inspect the backend directly.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkflowSnapshot {
    /// The workflow id.
    pub workflow_id: String,
    /// The run id given at start.
    pub run_id: String,
    /// The workflow type name.
    pub workflow_type: String,
    /// The task queue name.
    pub task_queue: String,
    /// The current status.
    pub status: WorkflowExecutionStatus,
    /// The `identity` the client sent in the start request.
    pub identity: String,
    /// The subject of the caller's claims at start (set by the authorization layer), if any.
    pub starter: Option<String>,
    /// Names of the signals received, in order.
    pub signals: Vec<String>,
}

/// The in-memory Temporal backend. Clones share state.
#[derive(Clone, Debug)]
pub struct Backend {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: BackendConfig,
    cluster_id: String,
    state: Mutex<State>,
    calls: Arc<AtomicU64>,
    calls_by_method: Mutex<HashMap<&'static str, u64>>,
}

/// Everything mutable, behind one lock: operations touch several parts at once (deleting a
/// namespace removes its workflows and search attributes).
#[derive(Debug)]
struct State {
    namespaces: Namespaces,
    workflows: Workflows,
    search_attributes: SearchAttributes,
}

impl Default for Backend {
    fn default() -> Backend {
        Backend::new(BackendConfig::default())
    }
}

impl Backend {
    /// Creates a backend with `default` and the configured namespaces registered.
    pub fn new(config: BackendConfig) -> Backend {
        let mut namespaces = Namespaces::default();
        namespaces.seed("default");
        for name in &config.namespaces {
            namespaces.seed(name);
        }
        Backend {
            inner: Arc::new(Inner {
                config,
                cluster_id: uuid::Uuid::new_v4().to_string(),
                state: Mutex::new(State {
                    namespaces,
                    workflows: Workflows::default(),
                    search_attributes: SearchAttributes::default(),
                }),
                calls: Arc::new(AtomicU64::new(0)),
                calls_by_method: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The backend's settings.
    pub fn config(&self) -> &BackendConfig {
        &self.inner.config
    }

    /// How many handler calls (of any method) reached this backend.
    pub fn calls(&self) -> u64 {
        self.inner.calls.load(Ordering::SeqCst)
    }

    /// The shared counter behind [`calls`](Backend::calls), for callers that want to watch it.
    pub fn call_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.inner.calls)
    }

    /// How many calls of one RPC (by its method name, e.g. `"StartWorkflowExecution"`) reached
    /// this backend.
    pub fn calls_to(&self, method: &str) -> u64 {
        lock(&self.inner.calls_by_method)
            .get(method)
            .copied()
            .unwrap_or(0)
    }

    /// Names of the registered namespaces, sorted.
    pub fn namespaces(&self) -> Vec<String> {
        self.state().namespaces.names()
    }

    /// The latest run of a workflow, if the namespace has one with this id.
    pub fn workflow(&self, namespace: &str, workflow_id: &str) -> Option<WorkflowSnapshot> {
        self.state().workflows.snapshot(namespace, workflow_id)
    }

    fn record_call(&self, method: &'static str) {
        busy(self.inner.config.busy_per_call);
        self.inner.calls.fetch_add(1, Ordering::SeqCst);
        *lock(&self.inner.calls_by_method).entry(method).or_default() += 1;
    }

    /// Fails unless the namespace is set and registered.
    fn check_namespace(&self, namespace: &str) -> Result<(), tonic::Status> {
        workflow_service::require(namespace, "Namespace")?;
        if self.state().namespaces.contains(namespace) {
            Ok(())
        } else {
            Err(status::namespace_not_found(namespace))
        }
    }

    fn cluster(&self) -> &str {
        &self.inner.config.cluster_name
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.inner.state)
    }
}

/// Spins for `work` (nothing when zero): CPU time spent, not a sleep, so a benchmark control
/// costs what real work would.
fn busy(work: Duration) {
    if work.is_zero() {
        return;
    }
    let start = std::time::Instant::now();
    while start.elapsed() < work {
        std::hint::spin_loop();
    }
}

/// Locks a mutex, carrying on after a panic elsewhere: every critical section leaves the state
/// consistent before it can panic, so the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
