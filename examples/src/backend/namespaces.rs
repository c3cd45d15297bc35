//! Namespace records and how they are reported: every response carries `namespace_info`,
//! `config` and `replication_config`, state `REGISTERED` and an id, because the `temporal` CLI
//! dereferences all three sub-messages when it prints a namespace.

use std::{collections::BTreeMap, collections::HashMap, time::Duration};

use temporalio_protos::protos::temporal::api::{
    enums::v1::{NamespaceState, ReplicationState},
    namespace::v1::{NamespaceConfig, NamespaceInfo, UpdateNamespaceInfo},
    replication::v1::{ClusterReplicationConfig, NamespaceReplicationConfig},
    workflowservice::v1::DescribeNamespaceResponse,
};

/// Retention used when a registration does not set one (the CLI's default, 72 h).
const DEFAULT_RETENTION: Duration = Duration::from_secs(72 * 3600);

/// One registered namespace.
#[derive(Clone, Debug)]
pub(super) struct Namespace {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) owner_email: String,
    pub(super) data: HashMap<String, String>,
    pub(super) state: NamespaceState,
    pub(super) retention: Option<prost_wkt_types::Duration>,
}

impl Namespace {
    pub(super) fn new(name: &str) -> Namespace {
        Namespace {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_owned(),
            description: String::new(),
            owner_email: String::new(),
            data: HashMap::new(),
            state: NamespaceState::Registered,
            retention: prost_wkt_types::Duration::try_from(DEFAULT_RETENTION).ok(),
        }
    }

    /// Applies the `update_info` part of an `UpdateNamespace` request.
    pub(super) fn apply_info(&mut self, info: UpdateNamespaceInfo) {
        if !info.description.is_empty() {
            self.description = info.description;
        }
        if !info.owner_email.is_empty() {
            self.owner_email = info.owner_email;
        }
        // Temporal merges data keys into the existing map.
        self.data.extend(info.data);
        if let Ok(state) = NamespaceState::try_from(info.state)
            && state != NamespaceState::Unspecified
        {
            self.state = state;
        }
    }

    pub(super) fn info(&self) -> NamespaceInfo {
        NamespaceInfo {
            name: self.name.clone(),
            state: self.state as i32,
            description: self.description.clone(),
            owner_email: self.owner_email.clone(),
            data: self.data.clone(),
            id: self.id.clone(),
            ..Default::default()
        }
    }

    pub(super) fn config(&self) -> NamespaceConfig {
        NamespaceConfig {
            workflow_execution_retention_ttl: self.retention,
            ..Default::default()
        }
    }

    pub(super) fn replication_config(&self, cluster: &str) -> NamespaceReplicationConfig {
        NamespaceReplicationConfig {
            active_cluster_name: cluster.to_owned(),
            clusters: vec![ClusterReplicationConfig {
                cluster_name: cluster.to_owned(),
                ..Default::default()
            }],
            state: ReplicationState::Normal as i32,
        }
    }

    pub(super) fn describe(&self, cluster: &str) -> DescribeNamespaceResponse {
        DescribeNamespaceResponse {
            namespace_info: Some(self.info()),
            config: Some(self.config()),
            replication_config: Some(self.replication_config(cluster)),
            ..Default::default()
        }
    }
}

/// All namespaces, by name.
#[derive(Debug, Default)]
pub(super) struct Namespaces {
    by_name: BTreeMap<String, Namespace>,
}

impl Namespaces {
    /// Registers a namespace at start (no error if it exists).
    pub(super) fn seed(&mut self, name: &str) {
        self.by_name
            .entry(name.to_owned())
            .or_insert_with(|| Namespace::new(name));
    }

    pub(super) fn names(&self) -> Vec<String> {
        self.by_name.keys().cloned().collect()
    }

    pub(super) fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    pub(super) fn get(&self, name: &str) -> Option<&Namespace> {
        self.by_name.get(name)
    }

    pub(super) fn get_mut(&mut self, name: &str) -> Option<&mut Namespace> {
        self.by_name.get_mut(name)
    }

    pub(super) fn by_id(&self, id: &str) -> Option<&Namespace> {
        self.by_name.values().find(|ns| ns.id == id)
    }

    /// Adds a namespace; false if the name is taken.
    pub(super) fn insert(&mut self, namespace: Namespace) -> bool {
        if self.by_name.contains_key(&namespace.name) {
            return false;
        }
        self.by_name.insert(namespace.name.clone(), namespace);
        true
    }

    pub(super) fn remove(&mut self, name: &str) -> Option<Namespace> {
        self.by_name.remove(name)
    }

    /// All namespaces in name order.
    pub(super) fn all(&self) -> Vec<Namespace> {
        self.by_name.values().cloned().collect()
    }
}
