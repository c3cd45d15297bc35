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
use tonic_authz_examples::temporal::workflowservice::workflow_service_client::WorkflowServiceClient;

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
    /// gzip request messages and accept gzip responses, as Temporal SDKs do. Without it
    /// messages go uncompressed both ways. The request message is compressed once, up front
    /// (every call sends the same one), and responses are read to their end with their status
    /// checked but not inflated: the server does all the work a compressing client gives it,
    /// while the load generator, spared a compressor per call, keeps up with it.
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
    /// Offer at most this many calls per second in total (paced, spread over the workers);
    /// default: as fast as the server answers. Two servers compared at the same offered
    /// load do the same work per second, so their CPU per call compares fairly even when
    /// the load generator, not the server, is the bottleneck.
    #[arg(long)]
    rate: Option<f64>,
    /// The server's process id (same machine): its CPU time (user + system, from
    /// `/proc/PID/stat`) over the measured window is reported per call.
    #[arg(long)]
    server_pid: Option<u32>,
}

/// A process's CPU time so far (user + system, every thread, exited ones included), in clock
/// ticks, from `/proc/PID/stat`.
fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("/proc/{pid}/stat: {e}"))?;
    // The command name (field 2) may hold spaces: count fields from its closing parenthesis.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| format!("/proc/{pid}/stat: unexpected format"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of the file (utime, stime) are the 12th and 13th after the name.
    let field = |i: usize| -> Result<u64, String> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("/proc/{pid}/stat: no field {}", i + 3))
    };
    Ok(field(11)? + field(12)?)
}

/// Clock ticks per second (`getconf CLK_TCK`), the unit of `/proc/PID/stat`'s times.
fn clock_ticks_per_sec() -> Result<u64, String> {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .map_err(|e| format!("getconf CLK_TCK: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("getconf CLK_TCK: {e}"))
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
    pace: Arc<Pace>,
) -> Result<Tally, String> {
    // gzip both ways, as Temporal SDKs do; without --gzip, neither way (a server answering
    // in gzip costs as much as the rest of a trivial call).
    let mut raw = channel.clone();
    let mut client = WorkflowServiceClient::new(channel);
    let gzip = args.gzip.then(|| GzipCall::new(&args, token.as_ref()));
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
        pace.wait().await;
        let started = Instant::now();
        let code = match (&gzip, args.method) {
            (Some(call), _) => call.send(&mut raw).await,
            (None, Method::DescribeNamespace) => {
                let mut req = tonic::Request::new(DescribeNamespaceRequest {
                    namespace: args.namespace.clone(),
                    ..Default::default()
                });
                if let Some(t) = &token {
                    req.metadata_mut().insert("authorization", t.clone());
                }
                client.describe_namespace(req).await.map(|_| ())
            }
            (None, Method::GetSystemInfo) => {
                let mut req = tonic::Request::new(GetSystemInfoRequest::default());
                if let Some(t) = &token {
                    req.metadata_mut().insert("authorization", t.clone());
                }
                client.get_system_info(req).await.map(|_| ())
            }
        };
        let code = code.map_or_else(|s| s.code() as i32, |()| 0);
        if counted {
            let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            tally.latency.saturating_record(micros.max(1));
            *tally.codes.entry(code).or_default() += 1;
        }
    }
    Ok(tally)
}

/// One gzip call, prepared once: the request as Temporal SDKs send it (`grpc-encoding: gzip`,
/// the message compressed with the compressed flag set, gzip accepted in return), written
/// as HTTP/2 directly on the channel.
struct GzipCall {
    path: http::uri::PathAndQuery,
    frame: bytes::Bytes,
    token: Option<http::HeaderValue>,
}

impl GzipCall {
    fn new(args: &Args, token: Option<&MetadataValue<tonic::metadata::Ascii>>) -> GzipCall {
        use prost::Message;
        use std::io::Write;
        let (method, message) = match args.method {
            Method::DescribeNamespace => (
                "DescribeNamespace",
                DescribeNamespaceRequest {
                    namespace: args.namespace.clone(),
                    ..Default::default()
                }
                .encode_to_vec(),
            ),
            Method::GetSystemInfo => (
                "GetSystemInfo",
                GetSystemInfoRequest::default().encode_to_vec(),
            ),
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        // Writing to a Vec cannot fail.
        let compressed = gz
            .write_all(&message)
            .and_then(|()| gz.finish())
            .unwrap_or_default();
        let mut frame = vec![1_u8];
        frame.extend_from_slice(
            &u32::try_from(compressed.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        frame.extend_from_slice(&compressed);
        GzipCall {
            path: http::uri::PathAndQuery::try_from(format!(
                "/temporal.api.workflowservice.v1.WorkflowService/{method}"
            ))
            .unwrap_or_else(|_| http::uri::PathAndQuery::from_static("/")),
            frame: frame.into(),
            token: token.and_then(|t| http::HeaderValue::from_bytes(t.as_bytes()).ok()),
        }
    }

    /// Sends the call; its gRPC status (from the trailers, or the headers of a trailers-only
    /// answer).
    async fn send(&self, channel: &mut Channel) -> Result<(), tonic::Status> {
        use http_body_util::BodyExt;
        use tower::Service;
        let mut req = http::Request::new(tonic::body::Body::new(http_body_util::Full::new(
            self.frame.clone(),
        )));
        *req.method_mut() = http::Method::POST;
        *req.uri_mut() = http::Uri::from(self.path.clone());
        let headers = req.headers_mut();
        headers.insert(
            "content-type",
            http::HeaderValue::from_static("application/grpc"),
        );
        headers.insert("te", http::HeaderValue::from_static("trailers"));
        headers.insert("grpc-encoding", http::HeaderValue::from_static("gzip"));
        headers.insert(
            "grpc-accept-encoding",
            http::HeaderValue::from_static("gzip"),
        );
        if let Some(t) = &self.token {
            headers.insert("authorization", t.clone());
        }
        std::future::poll_fn(|cx| channel.poll_ready(cx))
            .await
            .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        let response = channel
            .call(req)
            .await
            .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        if let Some(status) = tonic::Status::from_header_map(response.headers()) {
            return status_result(status);
        }
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        match body.trailers().and_then(tonic::Status::from_header_map) {
            Some(status) => status_result(status),
            None => Err(tonic::Status::internal("no grpc-status in the answer")),
        }
    }
}

fn status_result(status: tonic::Status) -> Result<(), tonic::Status> {
    if status.code() == tonic::Code::Ok {
        Ok(())
    } else {
        Err(status)
    }
}

/// Paces calls to a total rate: call `n` may start at `start + n / rate`.
struct Pace {
    start: tokio::time::Instant,
    interval: Option<Duration>,
    issued: AtomicU64,
}

impl Pace {
    fn new(rate: Option<f64>) -> Pace {
        Pace {
            start: tokio::time::Instant::now(),
            interval: rate
                .filter(|r| *r > 0.0)
                .map(|r| Duration::from_secs_f64(1.0 / r)),
            issued: AtomicU64::new(0),
        }
    }

    async fn wait(&self) {
        if let Some(interval) = self.interval {
            let n = self.issued.fetch_add(1, Ordering::Relaxed);
            let at = self.start + interval.mul_f64(n as f64);
            tokio::time::sleep_until(at).await;
        }
    }
}

/// What one run measured.
struct Measured {
    tally: Tally,
    elapsed: Duration,
    /// The server's CPU time over the measured window, when its pid was given.
    server_cpu: Option<Duration>,
}

async fn run(args: Args) -> Result<Measured, String> {
    let ticks_per_sec = match args.server_pid {
        Some(_) => Some(clock_ticks_per_sec()?),
        None => None,
    };
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
    let pace = Arc::new(Pace::new(args.rate));
    let mut workers = Vec::with_capacity(args.concurrency);
    for i in 0..args.concurrency.max(1) {
        workers.push(tokio::spawn(worker(
            channels[i % channels.len()].clone(),
            Arc::clone(&args),
            token.clone(),
            Arc::clone(&measuring),
            Arc::clone(&stop),
            Arc::clone(&remaining),
            Arc::clone(&pace),
        )));
    }
    tokio::time::sleep(Duration::from_secs_f64(args.warmup.max(0.0))).await;
    let cpu_before = args.server_pid.map(cpu_ticks).transpose()?;
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
    let elapsed = started.elapsed();
    let server_cpu = match (args.server_pid, cpu_before, ticks_per_sec) {
        (Some(pid), Some(before), Some(hz)) => {
            let ticks = cpu_ticks(pid)?.saturating_sub(before);
            Some(Duration::from_secs_f64(ticks as f64 / hz.max(1) as f64))
        }
        _ => None,
    };
    Ok(Measured {
        tally: total,
        elapsed,
        server_cpu,
    })
}

fn code_name(code: i32) -> String {
    format!("{:?}", tonic::Code::from(code))
}

fn report(args_json: bool, measured: &Measured) {
    let (tally, elapsed) = (&measured.tally, measured.elapsed);
    let calls = tally.latency.len();
    let cpu_per_call = measured
        .server_cpu
        .map(|cpu| cpu.as_secs_f64() * 1e6 / calls.max(1) as f64);
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
            "{{\"calls\":{calls},\"secs\":{secs:.3},\"calls_per_sec\":{rate:.1},\"p50_us\":{p50},\"p90_us\":{p90},\"p99_us\":{p99},\"server_cpu_us_per_call\":{},\"codes\":{{{}}}}}",
            cpu_per_call.map_or_else(|| "null".to_owned(), |c| format!("{c:.3}")),
            codes.join(",")
        );
    } else {
        println!("calls:      {calls} in {secs:.2} s");
        println!("throughput: {rate:.0} calls/s");
        println!("latency:    p50 {p50} µs, p90 {p90} µs, p99 {p99} µs");
        if let Some(c) = cpu_per_call {
            println!("server CPU: {c:.2} µs per call");
        }
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
        Ok(measured) => {
            report(json, &measured);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}
