//! The demo service from `proto/demo/v1/demo.proto`: a small multi-tenant `TenantService`
//! that is not Temporal, to show the layer protecting any tonic service. Its generated code,
//! its descriptor set (for the layer's [`prost_reflect::DescriptorPool`]), an in-memory
//! implementation, and the access table that tells Temporal's default authorizer which role
//! each method needs.

mod service;

use tonic_authz::{Access, ApiAccess, Scope};

pub use service::DemoService;

/// Code generated from `demo.proto` (messages, client and server).
#[allow(missing_docs, unreachable_pub, clippy::all)] // generated code
pub mod pb {
    tonic::include_proto!("demo.v1");
}

/// The serialized `FileDescriptorSet` the code in [`pb`] was generated from.
pub const DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/demo_descriptor_set.bin"));

/// The service's full name.
pub const SERVICE_NAME: &str = "demo.v1.TenantService";

/// The descriptor pool of the demo service, for `AuthzLayer::builder().descriptor_pool(..)`:
/// the layer reads each request's `namespace` field through it.
///
/// # Errors
///
/// The embedded descriptor set does not decode (a build problem).
pub fn descriptor_pool() -> Result<prost_reflect::DescriptorPool, prost_reflect::DescriptorError> {
    prost_reflect::DescriptorPool::decode(DESCRIPTOR_SET)
}

/// Which role each demo method needs, for `DefaultAuthorizer::with_access`: reads need a
/// namespace reader, writes a namespace writer, and server info is a cluster-wide read.
/// `DescribeTenant` names its namespace `tenant`, which the layer does not read as the
/// namespace, so it is a cluster-wide read too (system readers only).
///
/// # Errors
/// None in practice: the method paths are well formed.
pub fn access() -> Result<ApiAccess, tonic_authz::InvalidMethodPath> {
    let method = |name: &str| format!("/{SERVICE_NAME}/{name}");
    ApiAccess::temporal()
        .with_service(SERVICE_NAME, Scope::Namespace, Access::Write)
        .try_with_method(&method("WatchOrders"), Scope::Namespace, Access::Read)?
        .try_with_method(&method("DescribeTenant"), Scope::Cluster, Access::Read)?
        .try_with_method(&method("GetServerInfo"), Scope::Cluster, Access::Read)
}
