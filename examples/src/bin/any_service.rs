//! `any_service`: the layer in front of a service that is not Temporal.
//!
//! It serves the demo `TenantService` (`proto/demo/v1/demo.proto`). The layer learns where
//! each request's namespace is from a `prost_reflect::DescriptorPool` built from the same
//! descriptor set the service code was generated from, and Temporal's default authorizer
//! learns which role each method needs from an `ApiAccess` table. Tokens are the dev tokens
//! of `frontend` (same dev directory, same key):
//!
//! ```text
//! cargo run -p tonic-authz-examples --bin any_service
//! cargo run -p tonic-authz-examples --bin frontend -- token --permission payments:write
//! ```
//!
//! Plaintext on loopback to stay short; see `frontend` for TLS.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, sync::Arc};

use clap::Parser;
use tokio::net::TcpListener;
use tonic::{codec::CompressionEncoding, transport::Server};
use tonic_authz::{AuthzLayer, DefaultAuthorizer, JwtClaimMapper, StaticKeyProvider};
use tonic_authz_examples::{
    demo::{self, DemoService, pb::tenant_service_server::TenantServiceServer},
    dev::{DEV_ISSUER, DevDir, SigningKey},
};

/// The demo TenantService behind the authorization layer, with dev tokens.
#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7234")]
    listen: SocketAddr,
    /// The dev directory holding the token signing key [default: target/tonic-authz-dev].
    #[arg(long, value_name = "DIR")]
    dev_dir: Option<PathBuf>,
}

async fn run(args: Args) -> Result<(), tonic_authz::BoxError> {
    // Tokens: those `frontend token` mints, checked against the dev key's public half.
    let dir = args
        .dev_dir
        .map_or_else(DevDir::default_location, DevDir::new);
    let jwks = SigningKey::load_or_create(&dir)?.jwks().to_string();
    let keys = StaticKeyProvider::from_jwks(&jwks)?;
    let mapper = JwtClaimMapper::builder(Arc::new(keys))
        .issuer(DEV_ISSUER)
        .build();

    let layer = AuthzLayer::builder()
        .claim_mapper(mapper)
        .authorizer(DefaultAuthorizer::new().with_access(demo::access()?))
        // Where the namespace is in each request, from the service's own descriptors.
        .descriptor_pool(demo::descriptor_pool()?)
        .build();

    let listener = TcpListener::bind(args.listen).await?;
    println!("listening on {}", listener.local_addr()?);
    let service =
        TenantServiceServer::new(DemoService::new()).accept_compressed(CompressionEncoding::Gzip);
    Server::builder()
        .layer(layer)
        .add_service(service)
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
        )
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("any_service: {error}");
            ExitCode::FAILURE
        }
    }
}
