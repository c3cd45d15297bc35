//! `frontend`: a Temporal-style Frontend on the real Temporal API, secured by `tonic-authz`.
//!
//! It serves `WorkflowService`, `OperatorService` and gRPC health over an in-memory backend,
//! with every call going through the authorization layer unless `--no-authz` is given, so the
//! `temporal` CLI and the SDKs can be pointed at it to see the layer at work:
//!
//! ```text
//! cargo run -p tonic-authz-examples --bin frontend -- --claim-mapper noop
//! temporal operator namespace describe -n default --address 127.0.0.1:7233
//! ```
//!
//! With `--jwks-uri` (repeatable), bearer JWTs are verified against those JWK Sets and mapped to
//! roles by Temporal's default JWT claim mapper (`permissions: ["default:write", ...]`):
//!
//! ```text
//! cargo run -p tonic-authz-examples --bin frontend -- --jwks-uri https://idp.example/.well-known/jwks.json
//! ```
//!
//! With `--tls-cert`/`--tls-key` it serves TLS, and with `--tls-client-ca` mutual TLS (client
//! certificates required and verified, their identity handed to the claim mapper):
//!
//! ```text
//! cargo run -p tonic-authz-examples --bin frontend -- --tls-cert server.pem \
//!     --tls-key server.key --tls-client-ca ca.pem --jwks-uri file:///path/jwks.json
//! ```
//!
//! Logs go to stderr, filtered by `RUST_LOG` (default `info`). Ctrl-C stops it after in-flight
//! calls finish.

use std::{net::SocketAddr, process::ExitCode, sync::Arc};

use clap::{Parser, ValueEnum};
use tokio::net::TcpListener;
use tonic_authz::tls::{GroupTls, ServerTls, TlsAcceptor, TlsError};
use tonic_authz::{
    AuthzLayer, DefaultAuthorizer, JwksKeyProvider, JwtClaimMapper, KeyError, NoopAuthorizer,
    NoopClaimMapper,
};
use tonic_authz_examples::{Backend, BackendConfig, Frontend};
use tracing_subscriber::EnvFilter;

/// Which authorizer decides.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum AuthorizerChoice {
    /// Temporal's default authorizer: roles from claims against Temporal's API table.
    Default,
    /// Allows every call.
    Noop,
}

/// Where claims come from.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum ClaimMapperChoice {
    /// Everyone is system admin, no credentials needed.
    Noop,
    /// No claim mapper: claims are always absent.
    None,
}

/// A Temporal-style Frontend secured by tonic-authz.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7233")]
    listen: SocketAddr,
    /// A namespace to register at start (repeatable); `default` always exists.
    #[arg(long = "namespace", value_name = "NAME")]
    namespaces: Vec<String>,
    /// The authorizer.
    #[arg(long, value_enum, default_value = "default")]
    authorizer: AuthorizerChoice,
    /// The claim mapper.
    #[arg(long, value_enum, default_value = "none")]
    claim_mapper: ClaimMapperChoice,
    /// Verify bearer JWTs with the keys of this JWK Set (`http://`, `https://` or `file://`;
    /// repeatable) and map them with Temporal's default JWT claim mapper.
    #[arg(long = "jwks-uri", value_name = "URI", conflicts_with = "claim_mapper")]
    jwks_uris: Vec<String>,
    /// Serve TLS with this PEM certificate chain (needs --tls-key).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<String>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<String>,
    /// Require client certificates signed by this PEM CA (mutual TLS; repeatable).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_client_ca: Vec<String>,
    /// Serve without the authorization layer at all.
    #[arg(long, conflicts_with_all = ["authorizer", "claim_mapper", "jwks_uris"])]
    no_authz: bool,
}

async fn authz_layer(args: &Args) -> Result<AuthzLayer, KeyError> {
    // Only registered namespaces become metric labels; callers cannot grow the label set.
    let known = std::iter::once("default".to_owned()).chain(args.namespaces.iter().cloned());
    let builder = AuthzLayer::builder().known_namespaces(known);
    let builder = match args.authorizer {
        AuthorizerChoice::Default => builder.authorizer(DefaultAuthorizer::new()),
        AuthorizerChoice::Noop => builder.authorizer(NoopAuthorizer),
    };
    if !args.jwks_uris.is_empty() {
        // A failed first fetch does not stop start-up: tokens are refused until keys load.
        let keys = JwksKeyProvider::builder()
            .uris(args.jwks_uris.iter().cloned())
            .build()
            .await?;
        tracing::info!(keys = keys.keys_loaded(), "JWT key provider ready");
        return Ok(builder
            .claim_mapper(JwtClaimMapper::new(Arc::new(keys)))
            .build());
    }
    Ok(match args.claim_mapper {
        ClaimMapperChoice::Noop => builder.claim_mapper(NoopClaimMapper),
        ClaimMapperChoice::None => builder,
    }
    .build())
}

/// The TLS acceptor of `--tls-*`, or `None` for plaintext.
fn tls_acceptor(args: &Args) -> Result<Option<TlsAcceptor>, TlsError> {
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        return Ok(None);
    };
    let mut server = ServerTls::default();
    server.cert_file.clone_from(cert);
    server.key_file.clone_from(key);
    server.client_ca_files.clone_from(&args.tls_client_ca);
    server.require_client_auth = !args.tls_client_ca.is_empty();
    let mut group = GroupTls::default();
    group.server = server;
    TlsAcceptor::new(&group).map(Some)
}

async fn shutdown_signal() {
    match tokio::signal::ctrl_c().await {
        Ok(()) => tracing::info!("shutting down"),
        Err(error) => {
            // Without a signal handler the server can only be killed; keep serving.
            tracing::error!(%error, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();

    let mut config = BackendConfig::default();
    for namespace in &args.namespaces {
        config = config.with_namespace(namespace.clone());
    }
    let mut frontend = Frontend::new(Backend::new(config));
    if args.no_authz {
        tracing::warn!("serving without authorization: every call is allowed");
    } else {
        match authz_layer(&args).await {
            Ok(layer) => frontend = frontend.with_authz(layer),
            Err(error) => {
                eprintln!("frontend: {error}");
                return ExitCode::FAILURE;
            }
        }
    }

    let listener = match TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("frontend: cannot listen on {}: {error}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().unwrap_or(args.listen);
    println!("listening on {addr}");
    tracing::info!(
        %addr,
        authorizer = ?args.authorizer,
        claim_mapper = ?args.claim_mapper,
        jwks_uris = ?args.jwks_uris,
        authz = !args.no_authz,
        tls = args.tls_cert.is_some(),
        mutual_tls = !args.tls_client_ca.is_empty(),
        "frontend started"
    );
    let served = match tls_acceptor(&args) {
        Ok(None) => frontend.serve(listener, shutdown_signal()).await,
        Ok(Some(acceptor)) => {
            frontend
                .serve_tls(listener, acceptor, shutdown_signal())
                .await
        }
        Err(error) => {
            eprintln!("frontend: {error}");
            return ExitCode::FAILURE;
        }
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("frontend: server failed: {error}");
            ExitCode::FAILURE
        }
    }
}
