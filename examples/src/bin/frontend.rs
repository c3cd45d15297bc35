//! `frontend`: a Temporal-style Frontend on the real Temporal API, secured by `tonic-authz`.
//!
//! It serves `WorkflowService`, `OperatorService` and gRPC health over an in-memory backend,
//! every call going through the authorization layer, so the `temporal` CLI and the SDKs can be
//! pointed at it to see the layer at work. With no security flags it starts in dev mode
//! (mutual TLS, JWTs from an in-process issuer, Temporal's default authorizer) and prints how
//! to connect:
//!
//! ```text
//! cargo run -p tonic-authz-examples --bin frontend
//! cargo run -p tonic-authz-examples --bin frontend -- token --permission default:read --ttl 1h
//! ```
//!
//! `--config FILE` reads a Temporal-shaped YAML file instead (`global.authorization`,
//! `global.tls`, `services.frontend.rpc`; see `docs/configuration.md`); the explicit flags
//! (`--tls-cert`, `--jwks-uri`, `--certificate-rule`, `--claim-mapper`, …) configure exactly
//! what they name. `--metrics-listen ADDR` serves Prometheus metrics of every decision in any
//! mode:
//!
//! ```text
//! TONIC_AUTHZ_CERT_DIR=... TONIC_AUTHZ_JWKS_URI=... cargo run -p tonic-authz-examples \
//!     --bin frontend -- --config examples/config/jwt-mtls.yaml --metrics-listen 127.0.0.1:9090
//! curl -s 127.0.0.1:9090/metrics
//! ```
//!
//! Logs go to stderr, filtered by `RUST_LOG` (default `info`). Ctrl-C stops it after in-flight
//! calls finish.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use clap::{Args, Parser, Subcommand, ValueEnum};
use tokio::net::TcpListener;
use tonic_authz::{
    AuthzLayer, CertificateRule,
    config::{Config, Upstream, UpstreamCredentials},
    tls::{GroupTls, TlsAcceptor},
};
use tonic_authz_examples::{
    Backend, BackendConfig, Frontend,
    connections::ConnectionLimits,
    dev::{DevDir, DevSetup, JwksServer, SigningKey, TokenRequest, guide},
    proxy::{Origin, Proxy},
    security::{
        AuthorizerKind, ClaimMapperKind, SecuritySettings, authorization_off_notice,
        parse_certificate_rule,
    },
};
use tracing_subscriber::EnvFilter;

const DEV_MODE_HELP: &str = "\
Dev mode:
  Without any of --config, --authorizer, --claim-mapper, --no-authz, --tls-cert, --tls-key,
  --tls-client-ca, --require-client-auth, --jwks-uri, --audience, --issuer or
  --certificate-rule, the frontend starts in dev mode: mutual TLS with a dev CA, JWTs
  signed by a dev key served from an in-process JWKS issuer, and Temporal's default
  authorizer. Certificates and the signing key live in the dev directory (--dev-dir,
  default target/tonic-authz-dev under the workspace) and are reused on the next start.
  --listen, --namespace and the --upstream* flags work in both modes. Any of the flags above turns dev mode off
  and configures exactly what is given (no TLS unless --tls-cert/--tls-key).";

/// A Temporal-style Frontend secured by tonic-authz.
#[derive(Debug, Parser)]
#[command(version, after_help = DEV_MODE_HELP, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Mints a dev token signed with the dev key and prints it (nothing else).
    Token(TokenArgs),
    /// Manages API keys (`api-key create --permission default:write --ttl 90d --file PATH`).
    ApiKey(tonic_authz_examples::api_key_cmd::ApiKeyArgs),
    /// Would this caller be allowed this call? Prints the decision, the claims and why;
    /// exits 0 when allowed, 1 when denied.
    CanI(tonic_authz_examples::can_i::CanIArgs),
}

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
    /// From credentials: JWTs (--jwks-uri) and/or client certificates (--certificate-rule).
    Default,
    /// Everyone is system admin, no credentials needed.
    Noop,
    /// No claim mapper: claims are always absent.
    None,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// A Temporal-shaped YAML configuration (global.authorization, global.tls,
    /// services.frontend.rpc); excludes the other security flags.
    #[arg(long, value_name = "FILE", conflicts_with_all = [
        "authorizer", "claim_mapper", "no_authz", "tls_cert", "tls_key", "tls_client_cas",
        "require_client_auth", "jwks_uri", "audience", "issuer", "certificate_rules", "dev_dir",
    ])]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:7233, or the config's services.frontend.rpc].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Serve Prometheus metrics (every authorization decision) on this address, at `/metrics`.
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
    /// Benchmarks only: nanoseconds of CPU every call spends busy in the handler, so a bare
    /// server can be given the layer's added cost as a control (`examples/bench/compare.sh`).
    #[arg(long, value_name = "NS", hide = true)]
    bench_busy_ns: Option<u64>,
    /// A namespace to register at start (repeatable); `default` always exists.
    #[arg(long = "namespace", value_name = "NAME")]
    namespaces: Vec<String>,
    /// The authorizer [default: default].
    #[arg(long, value_enum)]
    authorizer: Option<AuthorizerChoice>,
    /// The claim mapper [default: `default` with --jwks-uri or --certificate-rule, else none].
    #[arg(long, value_enum)]
    claim_mapper: Option<ClaimMapperChoice>,
    /// Serve without the authorization layer at all.
    #[arg(long, conflicts_with_all = ["authorizer", "claim_mapper", "jwks_uri", "certificate_rules"])]
    no_authz: bool,
    /// Serve TLS with this PEM certificate chain.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// A PEM CA client certificates may chain to (repeatable).
    #[arg(long = "tls-client-ca", value_name = "FILE", requires = "tls_key")]
    tls_client_cas: Vec<PathBuf>,
    /// Refuse connections without a client certificate from a --tls-client-ca.
    #[arg(long, requires = "tls_client_cas")]
    require_client_auth: bool,
    /// A JWK Set URI (http, https or file) whose keys sign accepted tokens (repeatable).
    #[arg(long = "jwks-uri", value_name = "URI")]
    jwks_uri: Vec<String>,
    /// The audience tokens must carry [default: not checked].
    #[arg(long, requires = "jwks_uri")]
    audience: Option<String>,
    /// The issuer tokens must carry [default: not checked].
    #[arg(long, requires = "jwks_uri")]
    issuer: Option<String>,
    /// Grants certificate callers roles: FIELD=VALUE=PERMISSION[,PERMISSION...], FIELD one of
    /// commonName, organization, organizationalUnit, dnsName, uri; VALUE may end with `*`
    /// (repeatable). Example: commonName=ops-admin=temporal-system:admin
    #[arg(long = "certificate-rule", value_name = "RULE", value_parser = parse_certificate_rule)]
    certificate_rules: Vec<CertificateRule>,
    /// The dev mode directory [default: target/tonic-authz-dev under the workspace].
    #[arg(long, value_name = "DIR")]
    dev_dir: Option<PathBuf>,
    #[command(flatten)]
    upstream: UpstreamArgs,
}

/// Proxy mode: forward allowed calls to a real Temporal frontend (with --config, the file's
/// `upstream` section instead).
#[derive(Debug, Args)]
#[group(id = "upstream_flags", multiple = true, conflicts_with = "config")]
struct UpstreamArgs {
    /// Forward every allowed call to this real Temporal frontend (HOST:PORT) instead of
    /// serving the in-memory backend; keep that server's own port private.
    #[arg(long = "upstream", value_name = "HOST:PORT")]
    upstream_address: Option<String>,
    /// HTTP/2 connections kept to the upstream [default: 2].
    #[arg(
        long = "upstream-connections",
        value_name = "N",
        requires = "upstream_address"
    )]
    upstream_connections: Option<usize>,
    /// How long a dial to the upstream may take before the call fails with UNAVAILABLE
    /// [default: 5s].
    #[arg(long = "upstream-connect-timeout", value_name = "DURATION", requires = "upstream_address",
          value_parser = humantime::parse_duration)]
    upstream_connect_timeout: Option<Duration>,
    /// Also forward temporal.api.adminservice.v1.AdminService.
    #[arg(long = "upstream-admin-service", requires = "upstream_address")]
    upstream_admin_service: bool,
    /// Send no `authorization` header to the upstream [default: the caller's is passed on].
    #[arg(long = "upstream-drop-credentials", requires = "upstream_address",
          conflicts_with_all = ["upstream_credential_file", "upstream_credential_env"])]
    upstream_drop_credentials: bool,
    /// Send this file's content (e.g. `Bearer <api key>`) as `authorization` to the upstream,
    /// in place of the caller's.
    #[arg(
        long = "upstream-credential-file",
        value_name = "FILE",
        requires = "upstream_address",
        conflicts_with = "upstream_credential_env"
    )]
    upstream_credential_file: Option<PathBuf>,
    /// Send this environment variable's value as `authorization` to the upstream, in place of
    /// the caller's.
    #[arg(
        long = "upstream-credential-env",
        value_name = "NAME",
        requires = "upstream_address"
    )]
    upstream_credential_env: Option<String>,
    /// Dial the upstream over TLS, trusting this PEM CA (repeatable).
    #[arg(
        long = "upstream-tls-ca",
        value_name = "FILE",
        requires = "upstream_address"
    )]
    upstream_tls_cas: Vec<PathBuf>,
    /// The name the upstream's certificate must carry [default: the host of --upstream].
    #[arg(
        long = "upstream-tls-server-name",
        value_name = "NAME",
        requires = "upstream_tls_cas"
    )]
    upstream_tls_server_name: Option<String>,
    /// Present this PEM client certificate to the upstream (mutual TLS).
    #[arg(long = "upstream-tls-cert", value_name = "FILE", requires_all = ["upstream_tls_key", "upstream_tls_cas"])]
    upstream_tls_cert: Option<PathBuf>,
    /// The PEM private key of --upstream-tls-cert.
    #[arg(
        long = "upstream-tls-key",
        value_name = "FILE",
        requires = "upstream_tls_cert"
    )]
    upstream_tls_key: Option<PathBuf>,
}

impl UpstreamArgs {
    /// The `upstream` section these flags describe, or `None` without --upstream.
    fn settings(&self) -> Option<Upstream> {
        let address = self.upstream_address.as_ref()?;
        let mut upstream = Upstream::default();
        upstream.address = address.clone();
        if let Some(connections) = self.upstream_connections {
            upstream.connections = connections;
        }
        if let Some(timeout) = self.upstream_connect_timeout {
            upstream.connect_timeout = timeout;
        }
        upstream.forward_admin_service = self.upstream_admin_service;
        if self.upstream_drop_credentials {
            upstream.credentials = UpstreamCredentials::Drop;
        }
        if let Some(file) = &self.upstream_credential_file {
            upstream.credentials = UpstreamCredentials::Static;
            upstream.static_credential_file = file.display().to_string();
        }
        if let Some(name) = &self.upstream_credential_env {
            upstream.credentials = UpstreamCredentials::Static;
            upstream.static_credential_env = name.clone();
        }
        upstream.tls.client.root_ca_files = self
            .upstream_tls_cas
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        upstream.tls.client.server_name = self.upstream_tls_server_name.clone().unwrap_or_default();
        upstream.tls.cert_file = self
            .upstream_tls_cert
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        upstream.tls.key_file = self
            .upstream_tls_key
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        Some(upstream)
    }
}

#[derive(Debug, Args)]
struct TokenArgs {
    /// A permission NAMESPACE:ROLE, ROLE one of read, write, admin, worker; `temporal-system`
    /// as namespace is system-wide (repeatable, at least one).
    #[arg(long = "permission", value_name = "PERMISSION", required = true)]
    permissions: Vec<String>,
    /// Time to expiry, a Go duration as in the config file, e.g. 30m, 1h, 168h.
    #[arg(long, default_value = "1h", value_parser = parse_ttl)]
    ttl: Duration,
    /// The token's subject (`sub`).
    #[arg(long, default_value = "dev-user")]
    subject: String,
    /// The dev mode directory holding the signing key [default: target/tonic-authz-dev under
    /// the workspace].
    #[arg(long, value_name = "DIR")]
    dev_dir: Option<PathBuf>,
}

/// `--ttl`: the config file's duration syntax, so one syntax holds everywhere.
fn parse_ttl(text: &str) -> Result<Duration, String> {
    tonic_authz::config::parse_duration(text).map_err(|e| e.to_string())
}

impl ServeArgs {
    /// Dev mode is on when no flag configures security (see `DEV_MODE_HELP`).
    fn dev_mode(&self) -> bool {
        self.config.is_none()
            && self.authorizer.is_none()
            && self.claim_mapper.is_none()
            && !self.no_authz
            && self.tls_cert.is_none()
            && self.tls_key.is_none()
            && self.tls_client_cas.is_empty()
            && !self.require_client_auth
            && self.jwks_uri.is_empty()
            && self.audience.is_none()
            && self.issuer.is_none()
            && self.certificate_rules.is_empty()
    }

    /// Every namespace served: `default` and the `--namespace` ones.
    fn all_namespaces(&self) -> Vec<String> {
        let mut all = vec!["default".to_owned()];
        for namespace in &self.namespaces {
            if !all.contains(namespace) {
                all.push(namespace.clone());
            }
        }
        all
    }

    fn security_settings(&self) -> SecuritySettings {
        let mut settings = SecuritySettings::default();
        settings.authorizer = match self.authorizer {
            Some(AuthorizerChoice::Noop) => AuthorizerKind::Noop,
            Some(AuthorizerChoice::Default) | None => AuthorizerKind::Default,
        };
        let has_credentials = !self.jwks_uri.is_empty() || !self.certificate_rules.is_empty();
        settings.claim_mapper = match self.claim_mapper {
            Some(ClaimMapperChoice::Default) => ClaimMapperKind::Credentials,
            Some(ClaimMapperChoice::Noop) => ClaimMapperKind::Noop,
            Some(ClaimMapperChoice::None) => ClaimMapperKind::None,
            None if has_credentials => ClaimMapperKind::Credentials,
            None => ClaimMapperKind::None,
        };
        settings.jwks_uris = self.jwks_uri.clone();
        settings.audience = self.audience.clone();
        settings.issuer = self.issuer.clone();
        settings.certificate_rules = self.certificate_rules.clone();
        settings.known_namespaces = self.all_namespaces();
        settings
    }

    fn tls_group(&self) -> Option<GroupTls> {
        let (cert, key) = (self.tls_cert.as_ref()?, self.tls_key.as_ref()?);
        let mut group = GroupTls::default();
        group.server.cert_file = cert.display().to_string();
        group.server.key_file = key.display().to_string();
        group.server.client_ca_files = self
            .tls_client_cas
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        group.server.require_client_auth = self.require_client_auth;
        Some(group)
    }
}

/// Resolves on Ctrl-C (SIGINT). The handler is registered when this is called, not when the
/// future is first polled, so a signal sent as soon as the address is printed stops the server
/// cleanly instead of killing it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
    async move {
        #[cfg(unix)]
        let received = match signal {
            Ok(mut signal) => {
                signal.recv().await;
                Ok(())
            }
            Err(error) => Err(error),
        };
        #[cfg(not(unix))]
        let received = tokio::signal::ctrl_c().await;
        match received {
            Ok(()) => tracing::info!("shutting down"),
            Err(error) => {
                // Without a signal handler the server can only be killed; keep serving.
                tracing::error!(%error, "cannot listen for ctrl-c");
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Prints a line to stdout. A closed stdout (the reader went away) must not stop the server,
/// so write errors are ignored rather than panicking as `println!` would.
fn say(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}

/// A start-up failure: the message for stderr.
type Failure = String;

fn mint(args: &TokenArgs) -> Result<String, Failure> {
    let dir = args
        .dev_dir
        .clone()
        .map_or_else(DevDir::default_location, DevDir::new);
    let key = SigningKey::load_or_create(&dir).map_err(|e| e.to_string())?;
    key.mint(&TokenRequest::new(
        args.subject.clone(),
        args.permissions.iter().cloned(),
        args.ttl,
    ))
    .map_err(|e| e.to_string())
}

/// What the chosen mode runs: the Frontend, the TLS acceptor of dev mode and the explicit
/// flags (a config's TLS is inside the Frontend), the address, and dev mode's parts that must
/// stay alive while it serves.
struct Plan {
    frontend: Frontend,
    acceptor: Option<TlsAcceptor>,
    listen: SocketAddr,
    dev: Option<(DevSetup, JwksServer)>,
    /// The banner line when authorization is off (a no-op selected, or `--no-authz`).
    authz_off: Option<&'static str>,
}

const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 7233);

/// Dev mode: certificates, signing key and JWKS issuer from the dev directory.
async fn dev_plan(args: &ServeArgs, frontend: Frontend) -> Result<Plan, Failure> {
    let dir = args
        .dev_dir
        .clone()
        .map_or_else(DevDir::default_location, DevDir::new);
    let setup = DevSetup::prepare(dir).map_err(|e| format!("dev mode: {e}"))?;
    let jwks = JwksServer::bind_loopback(&setup.signing_key().jwks())
        .await
        .map_err(|e| format!("dev mode: cannot start the JWKS issuer: {e}"))?;
    let layer = setup
        .security_settings(jwks.issuer(), jwks.uri(), &args.all_namespaces())
        .layer()
        .await
        .map_err(|e| e.to_string())?;
    let acceptor = TlsAcceptor::new(&setup.tls_group()).map_err(|e| format!("tls: {e}"))?;
    Ok(Plan {
        frontend: frontend.with_authz(layer),
        acceptor: Some(acceptor),
        listen: args.listen.unwrap_or(DEFAULT_LISTEN),
        dev: Some((setup, jwks)),
        authz_off: None,
    })
}

/// `--config FILE`: everything from the Temporal-shaped file.
async fn config_plan(args: &ServeArgs, path: &Path, frontend: Frontend) -> Result<Plan, Failure> {
    let config = Config::load_file(path).map_err(|e| e.to_string())?;
    let a = &config.global.authorization;
    let authz_off = authorization_off_notice(
        a.authorizer == tonic_authz::config::AuthorizerKind::Noop,
        a.claim_mapper == tonic_authz::config::ClaimMapperKind::Noop,
    );
    let layer = AuthzLayer::from_config(&config)
        .await
        .map_err(|e| e.to_string())?;
    let limits = ConnectionLimits::from_config(&config.services.frontend.rpc);
    let mut frontend = frontend.with_authz(layer).with_connection_limits(limits);
    if let Some(upstream) = &config.upstream {
        let proxy = Proxy::from_config(upstream, &Origin::File(path.to_path_buf()))
            .map_err(|e| e.to_string())?;
        frontend = frontend.with_upstream(proxy);
    }
    // The Frontend keeps the TLS (and its certificate reload) while it serves.
    match config.frontend_tls().map_err(|e| e.to_string())? {
        Some(tls) => frontend = frontend.with_tls(tls),
        None => tracing::warn!(
            "global.tls.frontend has no server key: serving plaintext, tokens travel in clear"
        ),
    }
    let listen = match args.listen {
        Some(listen) => listen,
        None => config
            .services
            .frontend
            .rpc
            .listen_addr()
            .map_err(|e| e.to_string())?,
    };
    Ok(Plan {
        frontend,
        acceptor: None,
        listen,
        dev: None,
        authz_off,
    })
}

/// The explicit flags: exactly what they name.
async fn flags_plan(args: &ServeArgs, frontend: Frontend) -> Result<Plan, Failure> {
    if args.dev_dir.is_some() {
        return Err("--dev-dir only applies in dev mode (see --help)".to_owned());
    }
    let settings = args.security_settings();
    let authz_off = if args.no_authz {
        Some("AUTHORIZATION IS OFF: served without the authorization layer")
    } else {
        settings.authorization_off()
    };
    let frontend = if args.no_authz {
        tracing::warn!("serving without authorization: every call is allowed");
        frontend
    } else {
        let layer = settings.layer().await.map_err(|e| e.to_string())?;
        frontend.with_authz(layer)
    };
    let acceptor = match args.tls_group() {
        Some(group) => Some(TlsAcceptor::new(&group).map_err(|e| format!("tls: {e}"))?),
        None => None,
    };
    Ok(Plan {
        frontend,
        acceptor,
        listen: args.listen.unwrap_or(DEFAULT_LISTEN),
        dev: None,
        authz_off,
    })
}

/// Runs the server as configured: dev mode, a config file or the explicit flags.
async fn serve(args: ServeArgs) -> Result<(), Failure> {
    if let Some(addr) = args.metrics_listen {
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .with_http_listener(addr)
            // A histogram (not a summary) for the authorization latency, so dashboards can
            // aggregate it across instances: from 10 µs to 1 s.
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(
                    "service_authorization_latency".to_owned(),
                ),
                &[
                    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5,
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                ],
            )
            .map_err(|e| format!("metrics: {e}"))?
            .install()
            .map_err(|e| format!("cannot serve metrics on {addr}: {e}"))?;
        tracing::info!(%addr, "metrics at http://{addr}/metrics");
    }
    let namespaces = args.all_namespaces();
    let mut config = BackendConfig::default();
    config.busy_per_call = Duration::from_nanos(args.bench_busy_ns.unwrap_or(0));
    for namespace in namespaces.iter().filter(|n| *n != "default") {
        config = config.with_namespace(namespace.clone());
    }
    let frontend = Frontend::new(Backend::new(config));
    let frontend = match args.upstream.settings() {
        Some(upstream) => frontend.with_upstream(
            Proxy::from_config(&upstream, &Origin::Flags).map_err(|e| e.to_string())?,
        ),
        None => frontend,
    };
    let plan = if let Some(path) = &args.config {
        config_plan(&args, path, frontend).await?
    } else if args.dev_mode() {
        dev_plan(&args, frontend).await?
    } else {
        flags_plan(&args, frontend).await?
    };

    let listener = TcpListener::bind(plan.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", plan.listen))?;
    let addr = listener.local_addr().unwrap_or(plan.listen);
    let shutdown = shutdown_signal();
    say(&format!("listening on {addr}"));
    if let Some(notice) = plan.authz_off {
        say(notice);
    }
    if let Some(proxy) = plan.frontend.upstream() {
        say(&format!(
            "forwarding allowed calls to the Temporal frontend at {} ({} connections)",
            proxy.pool().address(),
            proxy.pool().size()
        ));
    }
    if let Some((setup, jwks)) = &plan.dev {
        let tokens = setup
            .ready_made_tokens(&jwks.issuer())
            .map_err(|e| e.to_string())?;
        say(&guide(addr, setup, &jwks.issuer(), &tokens, &namespaces));
    }
    tracing::info!(
        %addr,
        dev_mode = plan.dev.is_some(),
        config = ?args.config,
        authz = !args.no_authz,
        "frontend started"
    );
    let served = match &plan.acceptor {
        Some(acceptor) => {
            plan.frontend
                .serve_with_incoming(acceptor.incoming(listener), shutdown)
                .await
        }
        None => plan.frontend.serve(listener, shutdown).await,
    };
    served.map_err(|e| format!("server failed: {e}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Token(args)) => mint(&args).map(|token| println!("{token}")),
        Some(Command::ApiKey(args)) => {
            tonic_authz_examples::api_key_cmd::run(&args).map(|key| println!("{key}"))
        }
        Some(Command::CanI(args)) => {
            return match tonic_authz_examples::can_i::can_i(&args).await {
                Ok(answer) => {
                    print!("{}", answer.report);
                    ExitCode::from(u8::from(!answer.allowed))
                }
                Err(message) => {
                    eprintln!("frontend can-i: {message}");
                    ExitCode::from(2)
                }
            };
        }
        None => serve(cli.serve).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("frontend: {message}");
            ExitCode::FAILURE
        }
    }
}
