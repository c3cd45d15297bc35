//! Search attributes: Temporal's built-in system attributes plus custom ones added per namespace
//! through the OperatorService, with Temporal's rules (a system name cannot be reused, a custom
//! name keeps its type, removing an unknown name is NOT_FOUND).

use std::collections::{BTreeMap, HashMap};

use temporalio_protos::protos::temporal::api::enums::v1::IndexedValueType;
use tonic::Status;

use super::status::invalid_argument;

/// The system attributes every namespace has.
pub(super) fn system() -> HashMap<String, i32> {
    [
        ("WorkflowId", IndexedValueType::Keyword),
        ("RunId", IndexedValueType::Keyword),
        ("WorkflowType", IndexedValueType::Keyword),
        ("TaskQueue", IndexedValueType::Keyword),
        ("ExecutionStatus", IndexedValueType::Keyword),
        ("StartTime", IndexedValueType::Datetime),
        ("CloseTime", IndexedValueType::Datetime),
        ("ExecutionTime", IndexedValueType::Datetime),
        ("HistoryLength", IndexedValueType::Int),
    ]
    .into_iter()
    .map(|(name, kind)| (name.to_owned(), kind as i32))
    .collect()
}

/// Custom attributes per namespace.
#[derive(Debug, Default)]
pub(super) struct SearchAttributes {
    custom: HashMap<String, BTreeMap<String, i32>>,
}

impl SearchAttributes {
    pub(super) fn custom(&self, namespace: &str) -> HashMap<String, i32> {
        self.custom
            .get(namespace)
            .map(|attributes| attributes.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }

    /// Custom attributes of every namespace (for the cluster-wide `GetSearchAttributes`).
    pub(super) fn all_custom(&self) -> HashMap<String, i32> {
        self.custom
            .values()
            .flat_map(|attributes| attributes.iter().map(|(k, v)| (k.clone(), *v)))
            .collect()
    }

    /// Adds attributes, all or none.
    pub(super) fn add(
        &mut self,
        namespace: &str,
        attributes: HashMap<String, i32>,
    ) -> Result<(), Status> {
        let system = system();
        let existing = self.custom.get(namespace);
        for (name, kind) in &attributes {
            if name.is_empty() {
                return Err(invalid_argument("search attribute name is empty"));
            }
            if system.contains_key(name) {
                return Err(invalid_argument(format!(
                    "Search attribute {name} is reserved by system."
                )));
            }
            match IndexedValueType::try_from(*kind) {
                Ok(IndexedValueType::Unspecified) | Err(_) => {
                    return Err(invalid_argument(format!(
                        "Unknown search attribute type for {name}."
                    )));
                }
                Ok(_) => {}
            }
            if let Some(current) = existing.and_then(|attrs| attrs.get(name))
                && current != kind
            {
                return Err(invalid_argument(format!(
                    "Search attribute {name} already exists with a different type."
                )));
            }
        }
        self.custom
            .entry(namespace.to_owned())
            .or_default()
            .extend(attributes);
        Ok(())
    }

    /// Removes attributes, all or none.
    pub(super) fn remove(&mut self, namespace: &str, names: &[String]) -> Result<(), Status> {
        let custom = self.custom.entry(namespace.to_owned()).or_default();
        if let Some(missing) = names.iter().find(|name| !custom.contains_key(*name)) {
            return Err(Status::not_found(format!(
                "Search attribute {missing} doesn't exist."
            )));
        }
        for name in names {
            custom.remove(name);
        }
        Ok(())
    }

    pub(super) fn remove_namespace(&mut self, namespace: &str) {
        self.custom.remove(namespace);
    }
}
