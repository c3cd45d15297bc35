//! `custom_authorizer`: your own `ClaimMapper` and `Authorizer`, each written twice — as a
//! struct implementing the trait, and as a closure — protecting the demo `TenantService`.
//!
//! - Claims come from API keys in the `authorization` header (`Bearer <key>`), looked up in a
//!   fixed table (a stand-in for a database or an introspection endpoint).
//! - The struct authorizer delegates to Temporal's default authorizer, then adds a rule that
//!   reads the request itself: orders above a quantity limit need an admin.
//! - The closure authorizer is a one-liner policy: any role on the namespace allows the call.
//!
//! ```text
//! cargo run -p tonic-authz-examples --bin custom_authorizer             # the structs
//! cargo run -p tonic-authz-examples --bin custom_authorizer -- --closures
//! ```

use std::{collections::HashMap, net::SocketAddr, process::ExitCode};

use clap::Parser;
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic_authz::{
    AuthInfo, Authorizer, AuthzLayer, BoxFuture, CallTarget, ClaimMapper, Claims, ClaimsError,
    ClaimsErrorKind, Decision, DefaultAuthorizer, Role,
};
use tonic_authz_examples::demo::{
    self, DemoService,
    pb::{CreateOrderRequest, tenant_service_server::TenantServiceServer},
};

/// The demo keys: key → (subject, namespace, role).
const API_KEYS: &[(&str, &str, &str, Role)] = &[
    ("key-alice", "alice", "payments", Role::WRITER),
    ("key-bob", "bob", "payments", Role::READER),
    ("key-root", "root", "payments", Role::ADMIN),
];

/// The quantity above which `CreateOrder` needs an admin.
const MAX_QUANTITY: i64 = 100;

/// A claim mapper as a struct: API keys from a table.
#[derive(Debug)]
struct ApiKeyMapper {
    keys: HashMap<&'static str, (&'static str, &'static str, Role)>,
}

impl ApiKeyMapper {
    fn new() -> ApiKeyMapper {
        let keys = API_KEYS
            .iter()
            .map(|&(k, s, n, r)| (k, (s, n, r)))
            .collect();
        ApiKeyMapper { keys }
    }
}

impl ClaimMapper for ApiKeyMapper {
    fn get_claims<'a>(&'a self, info: &'a AuthInfo) -> BoxFuture<'a, Result<Claims, ClaimsError>> {
        Box::pin(async move { claims_for_key(&self.keys, &info.auth_token) })
    }

    // A table lookup needs no waiting: answering here spares the layer the boxed future above.
    fn get_claims_now(&self, info: &AuthInfo) -> Option<Result<Claims, ClaimsError>> {
        Some(claims_for_key(&self.keys, &info.auth_token))
    }
}

fn claims_for_key(
    keys: &HashMap<&'static str, (&'static str, &'static str, Role)>,
    header: &str,
) -> Result<Claims, ClaimsError> {
    let key = header.strip_prefix("Bearer ").unwrap_or_default();
    let &(subject, namespace, role) = keys
        .get(key)
        .ok_or_else(|| ClaimsError::new(ClaimsErrorKind::UnknownKey, "unknown api key"))?;
    Ok(Claims::new()
        .with_subject(subject)
        .with_auth_type("api-key")
        .with_namespace(namespace, role))
}

/// An authorizer as a struct: Temporal's rules, plus a limit that looks inside the request.
#[derive(Debug)]
struct QuotaAuthorizer {
    base: DefaultAuthorizer,
}

impl Authorizer for QuotaAuthorizer {
    fn authorize<'a>(
        &'a self,
        claims: Option<&'a Claims>,
        target: &'a CallTarget,
    ) -> BoxFuture<'a, Result<Decision, tonic::Status>> {
        Box::pin(async move {
            let decision = self.base.decide(claims, target);
            if decision != Decision::Allow || target.method_name() != "CreateOrder" {
                return Ok(decision);
            }
            let Some(Ok(order)) = target.request().map(|r| r.decode::<CreateOrderRequest>()) else {
                return Ok(Decision::deny_with_reason("unreadable order"));
            };
            let admin = claims.is_some_and(|c| {
                (c.system() | c.namespace_role(target.namespace())).contains(Role::ADMIN)
            });
            Ok(if order.quantity > MAX_QUANTITY && !admin {
                Decision::deny_with_reason("quantity above the limit needs an admin")
            } else {
                Decision::Allow
            })
        })
    }
}

/// Serves the demo TenantService with a custom claim mapper and authorizer.
#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7235")]
    listen: SocketAddr,
    /// Use the closure versions instead of the structs.
    #[arg(long)]
    closures: bool,
}

fn layer(closures: bool) -> Result<AuthzLayer, tonic_authz::BoxError> {
    let builder = AuthzLayer::builder().descriptor_pool(demo::descriptor_pool()?);
    if !closures {
        let base = DefaultAuthorizer::new().with_access(demo::access()?);
        return Ok(builder
            .claim_mapper(ApiKeyMapper::new())
            .authorizer(QuotaAuthorizer { base })
            .build());
    }
    // The same mapper as a closure over the table.
    let keys: HashMap<_, _> = API_KEYS
        .iter()
        .map(|&(k, s, n, r)| (k, (s, n, r)))
        .collect();
    let mapper = move |info: &AuthInfo| {
        let claims = claims_for_key(&keys, &info.auth_token);
        async move { claims }
    };
    // Members only: any role on the call's namespace allows it.
    let authorizer = |claims: Option<&Claims>, target: &CallTarget| {
        let member = claims.is_some_and(|c| !c.namespace_role(target.namespace()).is_empty());
        async move {
            Ok(if member {
                Decision::Allow
            } else {
                Decision::deny()
            })
        }
    };
    Ok(builder.claim_mapper(mapper).authorizer(authorizer).build())
}

async fn run(args: Args) -> Result<(), tonic_authz::BoxError> {
    let layer = layer(args.closures)?;
    let listener = TcpListener::bind(args.listen).await?;
    println!("listening on {}", listener.local_addr()?);
    Server::builder()
        .layer(layer)
        .add_service(TenantServiceServer::new(DemoService::new()))
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
            eprintln!("custom_authorizer: {error}");
            ExitCode::FAILURE
        }
    }
}
