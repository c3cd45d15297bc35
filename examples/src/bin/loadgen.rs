//! `loadgen`: a gRPC load generator for the Frontend, to measure what the authorization layer
//! costs end to end.
//!
//! It opens K HTTP/2 connections (plaintext, TLS or mutual TLS), keeps N calls in flight
//! spread over them, runs for a duration or a number of calls after a warm-up, and reports
//! calls per second, p50/p90/p99 latency and how many calls ended with each gRPC code:
//!
//! ```text
//! cargo run --release -p tonic-authz-examples --bin loadgen -- \
//!     --address 127.0.0.1:7233 --connections 2 --concurrency 64 --duration 10 \
//!     --ca ca.pem --cert client.pem --key client.key --server-name localhost \
//!     --token "$TOKEN"
//! ```
//!
//! `--json` prints one JSON object instead, for scripts (`examples/bench/compare.sh`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use tonic::metadata::MetadataValue;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic_authz_examples::temporal::api::workflowservice::v1::{
    DescribeNamespaceRequest, GetSystemInfoRequest,
};
use tonic_authz_examples::workflow_client;

/// The call every worker makes.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Method {
    /// `WorkflowService/DescribeNamespace` (namespace-scoped read: the body is read).
    DescribeNamespace,
    /// `WorkflowService/GetSystemInfo` (always allowed: the body is not read).
    GetSystemInfo,
}

/// Drives N concurrent calls over K HTTP/2 connections and reports throughput and latency.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Server address, `host:port`.
    #[arg(long, default_value = "127.0.0.1:7233")]
    address: String,
    /// HTTP/2 connections to open.
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// Calls kept in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds to measure for (ignored with --count).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Measure this many calls instead of a duration.
    #[arg(long)]
    count: Option<u64>,
    /// Seconds of unmeasured calls first (connections up, token cached).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// The method to call.
    #[arg(long, value_enum, default_value = "describe-namespace")]
    method: Method,
    /// The namespace asked for by DescribeNamespace.
    #[arg(long, default_value = "default")]
    namespace: String,
    /// Bearer token sent in `authorization` (`Bearer ` is added when missing).
    #[arg(long, env = "LOADGEN_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// gzip request messages, as Temporal SDKs do.
    #[arg(long)]
    gzip: bool,
    /// CA certificate (PEM) that signed the server's certificate; enables TLS.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS; needs --key.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Client private key (PEM) for mutual TLS; needs --cert.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Name to verify the server's certificate against (SNI). Default: the address's host.
    #[arg(long)]
    server_name: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// What the workers saw.
struct Tally {
    /// Latency in microseconds.
    latency: Histogram<u64>,
    codes: BTreeMap<i32, u64>,
}

impl Tally {
    fn new() -> Result<Tally, String> {
        Ok(Tally {
            // 1 µs to 60 s at 3 significant digits.
            latency: Histogram::new_with_bounds(1, 60_000_000, 3)
                .map_err(|e| format!("histogram: {e}"))?,
            codes: BTreeMap::new(),
        })
    }

    fn merge(&mut self, other: &Tally) -> Result<(), String> {
        self.latency
            .add(&other.latency)
            .map_err(|e| format!("histogram: {e}"))?;
        for (code, n) in &other.codes {
            *self.codes.entry(*code).or_default() += n;
        }
        Ok(())
    }
}

async fn channels(args: &Args) -> Result<Vec<Channel>, String> {
    let scheme = if args.ca.is_some() { "https" } else { "http" };
    let mut endpoint = Endpoint::from_shared(format!("{scheme}://{}", args.address))
        .map_err(|e| format!("bad address {}: {e}", args.address))?
        .tcp_nodelay(true);
    if let Some(ca) = &args.ca {
        let read = |p: &PathBuf| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
        let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca)?));
        if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
            tls = tls.identity(Identity::from_pem(read(cert)?, read(key)?));
        }
        let host = args
            .address
            .rsplit_once(':')
            .map_or(args.address.as_str(), |(h, _)| h);
        tls = tls.domain_name(args.server_name.as_deref().unwrap_or(host));
        endpoint = endpoint
            .tls_config(tls)
            .map_err(|e| format!("tls config: {e}"))?;
    }
    let mut out = Vec::with_capacity(args.connections.max(1));
    for _ in 0..args.connections.max(1) {
        // `connect` (not `connect_lazy`) so each channel is its own HTTP/2 connection, up now.
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| format!("cannot connect to {}: {e:?}", args.address))?;
        out.push(channel);
    }
    Ok(out)
}

/// One worker: calls back to back until told to stop; records only while `measuring`.
async fn worker(
    channel: Channel,
    args: Arc<Args>,
    token: Option<MetadataValue<tonic::metadata::Ascii>>,
    measuring: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    remaining: Arc<AtomicU64>,
) -> Result<Tally, String> {
    let mut client = workflow_client(channel, args.gzip);
    let mut tally = Tally::new()?;
    while !stop.load(Ordering::Relaxed) {
        let counted = measuring.load(Ordering::Relaxed);
        if counted && args.count.is_some() {
            // Claim one call of the budget; none left means this worker is done.
            let claimed = remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok();
            if !claimed {
                break;
            }
        }
        let started = Instant::now();
        let code = match args.method {
            Method::DescribeNamespace => {
                let mut req = tonic::Request::new(DescribeNamespaceRequest {
                    namespace: args.namespace.clone(),
                    ..Default::default()
                });
                if let Some(t) = &token {
                    req.metadata_mut().insert("authorization", t.clone());
                }
                client.describe_namespace(req).await.map(|_| ())
            }
            Method::GetSystemInfo => {
                let mut req = tonic::Request::new(GetSystemInfoRequest::default());
                if let Some(t) = &token {
                    req.metadata_mut().insert("authorization", t.clone());
                }
                client.get_system_info(req).await.map(|_| ())
            }
        }
        .map_or_else(|s| s.code() as i32, |()| 0);
        if counted {
            let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            tally.latency.saturating_record(micros.max(1));
            *tally.codes.entry(code).or_default() += 1;
        }
    }
    Ok(tally)
}

async fn run(args: Args) -> Result<(Tally, Duration), String> {
    let token = match &args.token {
        None => None,
        Some(t) => {
            let t = if t.starts_with("Bearer ") || t.starts_with("bearer ") {
                t.clone()
            } else {
                format!("Bearer {t}")
            };
            Some(
                MetadataValue::try_from(t.as_str())
                    .map_err(|_| "the token is not a valid header value".to_owned())?,
            )
        }
    };
    let channels = channels(&args).await?;
    let args = Arc::new(args);
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let remaining = Arc::new(AtomicU64::new(args.count.unwrap_or(u64::MAX)));
    let mut workers = Vec::with_capacity(args.concurrency);
    for i in 0..args.concurrency.max(1) {
        workers.push(tokio::spawn(worker(
            channels[i % channels.len()].clone(),
            Arc::clone(&args),
            token.clone(),
            Arc::clone(&measuring),
            Arc::clone(&stop),
            Arc::clone(&remaining),
        )));
    }
    tokio::time::sleep(Duration::from_secs_f64(args.warmup.max(0.0))).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    if args.count.is_none() {
        tokio::time::sleep(Duration::from_secs_f64(args.duration.max(0.0))).await;
        stop.store(true, Ordering::Relaxed);
    }
    let mut total = Tally::new()?;
    for w in workers {
        let tally = w.await.map_err(|e| format!("worker failed: {e}"))??;
        total.merge(&tally)?;
    }
    // With --count the run ends when the last call does; with a duration, at the stop signal
    // (calls in flight then still finish and are counted).
    Ok((total, started.elapsed()))
}

fn code_name(code: i32) -> String {
    format!("{:?}", tonic::Code::from(code))
}

fn report(args_json: bool, tally: &Tally, elapsed: Duration) {
    let calls = tally.latency.len();
    let secs = elapsed.as_secs_f64();
    let rate = calls as f64 / secs;
    let (p50, p90, p99) = (
        tally.latency.value_at_quantile(0.50),
        tally.latency.value_at_quantile(0.90),
        tally.latency.value_at_quantile(0.99),
    );
    if args_json {
        let codes: Vec<String> = tally
            .codes
            .iter()
            .map(|(c, n)| format!("\"{}\":{n}", code_name(*c)))
            .collect();
        println!(
            "{{\"calls\":{calls},\"secs\":{secs:.3},\"calls_per_sec\":{rate:.1},\"p50_us\":{p50},\"p90_us\":{p90},\"p99_us\":{p99},\"codes\":{{{}}}}}",
            codes.join(",")
        );
    } else {
        println!("calls:      {calls} in {secs:.2} s");
        println!("throughput: {rate:.0} calls/s");
        println!("latency:    p50 {p50} µs, p90 {p90} µs, p99 {p99} µs");
        for (code, n) in &tally.codes {
            println!("code {:<18} {n}", code_name(*code));
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let json = args.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok((tally, elapsed)) => {
            report(json, &tally, elapsed);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}
