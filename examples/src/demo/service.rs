//! An in-memory `TenantService`: orders counted per namespace. Handlers trust the namespace in
//! the request because the layer authorized exactly that namespace before calling them.

use std::{
    collections::HashMap,
    pin::Pin,
    sync::{Arc, Mutex},
};

use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};
use tonic_authz::Claims;

use super::pb::{
    CreateOrderRequest, CreateOrderResponse, DescribeTenantRequest, DescribeTenantResponse,
    GetServerInfoRequest, GetServerInfoResponse, OrderEvent, UploadOrdersRequest,
    UploadOrdersResponse, WatchOrdersRequest, tenant_service_server::TenantService,
};

/// The demo service's state: how many orders each namespace has.
#[derive(Clone, Debug, Default)]
pub struct DemoService {
    orders: Arc<Mutex<HashMap<String, u64>>>,
}

impl DemoService {
    /// An empty service.
    pub fn new() -> DemoService {
        DemoService::default()
    }

    /// How many orders `namespace` has.
    pub fn order_count(&self, namespace: &str) -> u64 {
        self.lock().get(namespace).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        // A poisoned lock only means another handler panicked mid-update of a counter.
        self.orders.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self, namespace: &str, count: u64) -> u64 {
        let mut orders = self.lock();
        let total = orders.entry(namespace.to_owned()).or_insert(0);
        *total += count;
        *total
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<OrderEvent, Status>> + Send>>;

#[tonic::async_trait]
impl TenantService for DemoService {
    async fn create_order(
        &self,
        request: Request<CreateOrderRequest>,
    ) -> Result<Response<CreateOrderResponse>, Status> {
        // The claims the layer verified, for handlers that want the caller's identity.
        let by = request
            .extensions()
            .get::<Claims>()
            .map(|c| c.subject().to_owned())
            .unwrap_or_default();
        let request = request.into_inner();
        let total = self.add(&request.namespace, 1);
        tracing::info!(namespace = %request.namespace, %by, total, "order created");
        Ok(Response::new(CreateOrderResponse {
            order_id: format!("{}-{total}", request.namespace),
        }))
    }

    async fn get_server_info(
        &self,
        _request: Request<GetServerInfoRequest>,
    ) -> Result<Response<GetServerInfoResponse>, Status> {
        Ok(Response::new(GetServerInfoResponse {
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }))
    }

    type WatchOrdersStream = EventStream;

    async fn watch_orders(
        &self,
        request: Request<WatchOrdersRequest>,
    ) -> Result<Response<EventStream>, Status> {
        let request = request.into_inner();
        let event = OrderEvent {
            order_id: request.order_id,
            kind: format!("{} orders", self.order_count(&request.namespace)),
            order: None,
        };
        Ok(Response::new(Box::pin(tokio_stream::once(Ok(event)))))
    }

    async fn upload_orders(
        &self,
        request: Request<Streaming<UploadOrdersRequest>>,
    ) -> Result<Response<UploadOrdersResponse>, Status> {
        let mut stream = request.into_inner();
        let mut accepted = 0u32;
        while let Some(order) = stream.next().await {
            let order = order?;
            self.add(&order.namespace, 1);
            accepted = accepted.saturating_add(1);
        }
        Ok(Response::new(UploadOrdersResponse { accepted }))
    }

    type SyncOrdersStream = EventStream;

    async fn sync_orders(
        &self,
        request: Request<Streaming<UploadOrdersRequest>>,
    ) -> Result<Response<EventStream>, Status> {
        let this = self.clone();
        let events = request.into_inner().map(move |order| {
            let order = order?;
            let total = this.add(&order.namespace, 1);
            Ok(OrderEvent {
                order_id: format!("{}-{total}", order.namespace),
                kind: "created".to_owned(),
                order: order.order,
            })
        });
        Ok(Response::new(Box::pin(events)))
    }

    async fn describe_tenant(
        &self,
        request: Request<DescribeTenantRequest>,
    ) -> Result<Response<DescribeTenantResponse>, Status> {
        let request = request.into_inner();
        Ok(Response::new(DescribeTenantResponse {
            order_count: self.order_count(&request.tenant),
            tenant: request.tenant,
        }))
    }
}
