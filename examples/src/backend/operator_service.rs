//! The `OperatorService` handlers the backend implements: search attributes, namespace
//! deletion and the cluster list. Every other method keeps the generated UNIMPLEMENTED default.

use temporalio_protos::protos::temporal::api::operatorservice::v1 as op;
use tonic::{Request, Response, Status};

use super::{Backend, paging, search_attributes, status};
use crate::temporal::operatorservice::operator_service_server::OperatorService;

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl OperatorService for Backend {
    async fn add_search_attributes(
        &self,
        request: Request<op::AddSearchAttributesRequest>,
    ) -> Reply<op::AddSearchAttributesResponse> {
        self.record_call("AddSearchAttributes");
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        self.state()
            .search_attributes
            .add(&request.namespace, request.search_attributes)?;
        Ok(Response::new(op::AddSearchAttributesResponse {}))
    }

    async fn remove_search_attributes(
        &self,
        request: Request<op::RemoveSearchAttributesRequest>,
    ) -> Reply<op::RemoveSearchAttributesResponse> {
        self.record_call("RemoveSearchAttributes");
        let request = request.into_inner();
        self.check_namespace(&request.namespace)?;
        self.state()
            .search_attributes
            .remove(&request.namespace, &request.search_attributes)?;
        Ok(Response::new(op::RemoveSearchAttributesResponse {}))
    }

    async fn list_search_attributes(
        &self,
        request: Request<op::ListSearchAttributesRequest>,
    ) -> Reply<op::ListSearchAttributesResponse> {
        self.record_call("ListSearchAttributes");
        let request = request.into_inner();
        // An empty namespace lists only the system attributes, as there is no custom scope.
        let custom_attributes = if request.namespace.is_empty() {
            Default::default()
        } else {
            self.check_namespace(&request.namespace)?;
            self.state().search_attributes.custom(&request.namespace)
        };
        Ok(Response::new(op::ListSearchAttributesResponse {
            custom_attributes,
            system_attributes: search_attributes::system(),
            storage_schema: Default::default(),
        }))
    }

    async fn delete_namespace(
        &self,
        request: Request<op::DeleteNamespaceRequest>,
    ) -> Reply<op::DeleteNamespaceResponse> {
        self.record_call("DeleteNamespace");
        let request = request.into_inner();
        let mut state = self.state();
        let name = match (
            request.namespace.is_empty(),
            request.namespace_id.is_empty(),
        ) {
            (false, _) => request.namespace,
            (true, false) => state
                .namespaces
                .by_id(&request.namespace_id)
                .map(|namespace| namespace.name.clone())
                .ok_or_else(|| status::namespace_not_found(&request.namespace_id))?,
            (true, true) => {
                return Err(status::invalid_argument("Namespace is not set on request."));
            }
        };
        if state.namespaces.remove(&name).is_none() {
            return Err(status::namespace_not_found(&name));
        }
        state.workflows.remove_namespace(&name);
        state.search_attributes.remove_namespace(&name);
        Ok(Response::new(op::DeleteNamespaceResponse {
            deleted_namespace: name,
        }))
    }

    async fn list_clusters(
        &self,
        request: Request<op::ListClustersRequest>,
    ) -> Reply<op::ListClustersResponse> {
        self.record_call("ListClusters");
        let request = request.into_inner();
        let offset = paging::offset(&request.next_page_token)?;
        let size = paging::page_size(request.page_size, self.config().default_page_size);
        let clusters = [op::ClusterMetadata {
            cluster_name: self.config().cluster_name.clone(),
            cluster_id: self.inner.cluster_id.clone(),
            initial_failover_version: 1,
            history_shard_count: 1,
            is_connection_enabled: true,
            ..Default::default()
        }];
        let (clusters, next_page_token) = paging::page(&clusters, offset, size);
        Ok(Response::new(op::ListClustersResponse {
            clusters,
            next_page_token,
        }))
    }
}
