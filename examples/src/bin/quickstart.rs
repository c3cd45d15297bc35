//! `quickstart`: the README's quick start as a program, so CI compiles it. The README shows
//! the code between the `README: begin` / `README: end` markers (dedented), and the `readme`
//! test checks they stay the same.
//!
//! It serves the demo `TenantService` with tokens from a JWKS URI; point `JWKS_URI` at your
//! identity provider's key set to run it:
//!
//! ```text
//! JWKS_URI=https://idp.example.com/.well-known/jwks.json \
//!     cargo run -p tonic-authz-examples --bin quickstart
//! ```

// README: begin
use std::sync::Arc;
use tonic::transport::Server;
use tonic_authz::{
    Access, ApiAccess, AuthzLayer, DefaultAuthorizer, JwksKeyProvider, JwtClaimMapper, Scope,
};
// README: end
use tonic_authz_examples::demo::{
    self, DemoService, pb::tenant_service_server::TenantServiceServer,
};

#[tokio::main]
async fn main() -> Result<(), tonic_authz::BoxError> {
    let jwks_uri = std::env::var("JWKS_URI")
        .unwrap_or_else(|_| "https://idp.example.com/.well-known/jwks.json".to_owned());
    let addr = "127.0.0.1:7234".parse()?;
    let (my_descriptor_set, my_service) = (
        demo::DESCRIPTOR_SET,
        TenantServiceServer::new(DemoService::new()),
    );
    // README: begin
    // Tokens from your identity provider: {"sub": "...", "permissions": ["acme:write"]}.
    let keys = JwksKeyProvider::builder().uri(jwks_uri).build().await?;
    // Which role each of your methods needs (reads: reader, the rest: writer).
    let access = ApiAccess::temporal()
        .with_service("demo.v1.TenantService", Scope::Namespace, Access::Write)
        .try_with_method(
            "/demo.v1.TenantService/WatchOrders",
            Scope::Namespace,
            Access::Read,
        )?;
    let layer = AuthzLayer::builder()
        .claim_mapper(JwtClaimMapper::new(Arc::new(keys)))
        .authorizer(DefaultAuthorizer::new().with_access(access))
        // Where each request's `namespace` field is: your service's own descriptors.
        .descriptor_pool(prost_reflect::DescriptorPool::decode(my_descriptor_set)?)
        .build();
    Server::builder()
        .layer(layer)
        .add_service(my_service)
        .serve(addr)
        .await?;
    // In a handler: request.extensions().get::<tonic_authz::Claims>() is the verified caller.
    // README: end
    Ok(())
}
