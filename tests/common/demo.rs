//! The demo service of `proto/demo/v1/demo.proto`: its descriptor pool, compiled at test time
//! with protox (no build script, no protoc), and its request and response messages as prost
//! structs written by hand, so tests can encode and decode them.
//!
//! The structs mirror the `.proto` file field for field; `tests/demo_proto.rs` checks that they
//! agree with the compiled descriptors.

use prost_reflect::DescriptorPool;

/// The full name of the demo service.
pub(crate) const SERVICE: &str = "demo.v1.TenantService";

/// Unary; namespace at field 7; a nested `Order` with its own `namespace`.
pub(crate) const CREATE_ORDER: &str = "/demo.v1.TenantService/CreateOrder";
/// Unary; no namespace.
pub(crate) const GET_SERVER_INFO: &str = "/demo.v1.TenantService/GetServerInfo";
/// Server-streaming; namespace at field 2.
pub(crate) const WATCH_ORDERS: &str = "/demo.v1.TenantService/WatchOrders";
/// Client-streaming.
pub(crate) const UPLOAD_ORDERS: &str = "/demo.v1.TenantService/UploadOrders";
/// Bidirectional streaming.
pub(crate) const SYNC_ORDERS: &str = "/demo.v1.TenantService/SyncOrders";
/// Unary; the namespace is the field `tenant` (field 3).
pub(crate) const DESCRIBE_TENANT: &str = "/demo.v1.TenantService/DescribeTenant";

/// Field number of `namespace` in `CreateOrderRequest`.
pub(crate) const CREATE_ORDER_NAMESPACE_FIELD: u32 = 7;
/// Field number of `namespace` in `WatchOrdersRequest`.
pub(crate) const WATCH_ORDERS_NAMESPACE_FIELD: u32 = 2;
/// Field number of `namespace` in `UploadOrdersRequest`.
pub(crate) const UPLOAD_ORDERS_NAMESPACE_FIELD: u32 = 1;
/// Name of the field holding the namespace in `DescribeTenantRequest`.
pub(crate) const DESCRIBE_TENANT_NAMESPACE_FIELD_NAME: &str = "tenant";
/// Field number of `tenant` in `DescribeTenantRequest`.
pub(crate) const DESCRIBE_TENANT_NAMESPACE_FIELD: u32 = 3;

/// The directory holding `demo/v1/demo.proto`.
pub(crate) fn proto_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("proto")
}

/// The demo service's descriptors, compiled from `proto/` now.
pub(crate) fn descriptor_pool() -> DescriptorPool {
    let fds = protox::compile(["demo/v1/demo.proto"], [proto_dir()])
        .expect("proto/demo/v1/demo.proto compiles");
    DescriptorPool::from_file_descriptor_set(fds).expect("the compiled descriptors are valid")
}

/// `demo.v1.Order`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Order {
    #[prost(string, tag = "1")]
    pub(crate) namespace: String,
    #[prost(string, tag = "2")]
    pub(crate) item: String,
    #[prost(int32, tag = "3")]
    pub(crate) count: i32,
}

/// `demo.v1.CreateOrderRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct CreateOrderRequest {
    #[prost(string, tag = "1")]
    pub(crate) order_id: String,
    #[prost(message, optional, tag = "2")]
    pub(crate) order: Option<Order>,
    #[prost(string, repeated, tag = "3")]
    pub(crate) tags: Vec<String>,
    #[prost(int64, tag = "4")]
    pub(crate) quantity: i64,
    #[prost(fixed32, tag = "5")]
    pub(crate) priority: u32,
    #[prost(double, tag = "6")]
    pub(crate) price: f64,
    #[prost(string, tag = "7")]
    pub(crate) namespace: String,
    #[prost(bytes = "vec", tag = "8")]
    pub(crate) payload: Vec<u8>,
}

/// `demo.v1.CreateOrderResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct CreateOrderResponse {
    #[prost(string, tag = "1")]
    pub(crate) order_id: String,
}

/// `demo.v1.GetServerInfoRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct GetServerInfoRequest {
    #[prost(bool, tag = "1")]
    pub(crate) verbose: bool,
}

/// `demo.v1.GetServerInfoResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct GetServerInfoResponse {
    #[prost(string, tag = "1")]
    pub(crate) version: String,
}

/// `demo.v1.WatchOrdersRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct WatchOrdersRequest {
    #[prost(string, tag = "1")]
    pub(crate) order_id: String,
    #[prost(string, tag = "2")]
    pub(crate) namespace: String,
}

/// `demo.v1.OrderEvent`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct OrderEvent {
    #[prost(string, tag = "1")]
    pub(crate) order_id: String,
    #[prost(string, tag = "2")]
    pub(crate) kind: String,
    #[prost(message, optional, tag = "3")]
    pub(crate) order: Option<Order>,
}

/// `demo.v1.UploadOrdersRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct UploadOrdersRequest {
    #[prost(string, tag = "1")]
    pub(crate) namespace: String,
    #[prost(message, optional, tag = "2")]
    pub(crate) order: Option<Order>,
}

/// `demo.v1.UploadOrdersResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct UploadOrdersResponse {
    #[prost(uint32, tag = "1")]
    pub(crate) accepted: u32,
}

/// `demo.v1.DescribeTenantRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct DescribeTenantRequest {
    #[prost(string, tag = "1")]
    pub(crate) region: String,
    #[prost(bool, tag = "2")]
    pub(crate) include_usage: bool,
    #[prost(string, tag = "3")]
    pub(crate) tenant: String,
}

/// `demo.v1.DescribeTenantResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct DescribeTenantResponse {
    #[prost(string, tag = "1")]
    pub(crate) tenant: String,
    #[prost(uint64, tag = "2")]
    pub(crate) order_count: u64,
}

/// A `CreateOrderRequest` with every field set, the nested order in `order_namespace`.
pub(crate) fn create_order(namespace: &str, order_namespace: &str) -> CreateOrderRequest {
    CreateOrderRequest {
        order_id: "order-1".to_owned(),
        order: Some(Order {
            namespace: order_namespace.to_owned(),
            item: "widget".to_owned(),
            count: 3,
        }),
        tags: vec!["rush".to_owned(), "gift".to_owned()],
        quantity: -42,
        priority: 7,
        price: 19.5,
        namespace: namespace.to_owned(),
        payload: vec![0, 1, 2, 0xff],
    }
}
