//! Faults under load against the running Frontend on loopback: a JWKS endpoint that flaps,
//! stalls and sends huge bodies while 1 000 calls run; TLS clients that connect and stall; a
//! request body that never completes; 10 000 concurrent mixed calls with memory checked after.
//! Each test asserts that only the expected gRPC codes come back, that nothing panics, and that
//! the server keeps serving. Tests run one at a time (they measure time and memory).

mod common;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::{Full, StreamBody, combinators::BoxBody};
use hyper_util::rt::TokioIo;
use serde_json::json;
use temporalio_protos::protos::temporal::api::workflowservice::v1::DescribeNamespaceRequest;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_stream::StreamExt;
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Server};
use tonic_authz::tls::{GroupTls, TlsAcceptor};
use tonic_authz::{AuthzLayer, DefaultAuthorizer, JwksKeyProvider, JwtClaimMapper};
use tonic_authz_examples::{Backend, BackendConfig, services, workflow_client};

use common::raw;
use common::tokens::{self, Issuer};
use common::{Harness, start};

const DESCRIBE: &str = "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace";

/// One fault test at a time: they measure latency and process memory.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn layer(mapper: JwtClaimMapper, body_timeout: Duration) -> AuthzLayer {
    AuthzLayer::builder()
        .claim_mapper(mapper)
        .authorizer(DefaultAuthorizer::new())
        .body_timeout(body_timeout)
        .build()
}

fn describe_request(token: &str) -> tonic::Request<DescribeNamespaceRequest> {
    let mut request = tonic::Request::new(DescribeNamespaceRequest {
        namespace: "default".to_owned(),
        ..Default::default()
    });
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii"),
    );
    request
}

/// `calls` concurrent DescribeNamespace calls spread over `channels`, the token of call `i`
/// given by `token(i)`; returns how many ended with each code.
async fn run_calls(
    channels: &[Channel],
    calls: usize,
    token: impl Fn(usize) -> String,
) -> BTreeMap<String, usize> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..calls {
        let mut client = workflow_client(channels[i % channels.len()].clone(), i % 2 == 0);
        let request = describe_request(&token(i));
        tasks.spawn(async move {
            match client.describe_namespace(request).await {
                Ok(_) => Code::Ok,
                Err(status) => status.code(),
            }
        });
    }
    let mut codes = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        let code = done.expect("no call task panics");
        *codes.entry(format!("{code:?}")).or_insert(0) += 1;
    }
    codes
}

async fn channels(harness: &Harness, n: usize) -> Vec<Channel> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(harness.server.channel().await.expect("connect"));
    }
    out
}

fn codes(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| ((*c).to_owned(), *n))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// A JWKS endpoint that misbehaves.
// ---------------------------------------------------------------------------------------------

const JWKS_OK: u8 = 0;
const JWKS_FAIL: u8 = 1;
const JWKS_SLOW: u8 = 2;
const JWKS_HUGE: u8 = 3;

/// An HTTP/1.1 JWKS server whose behaviour `mode` switches at run time.
struct JwksServer {
    url: String,
    mode: Arc<AtomicU8>,
    requests: Arc<AtomicU64>,
}

async fn jwks_server(document: String) -> JwksServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().expect("addr")
    );
    let mode = Arc::new(AtomicU8::new(JWKS_OK));
    let requests = Arc::new(AtomicU64::new(0));
    let document = Bytes::from(document);
    let (m, r) = (Arc::clone(&mode), Arc::clone(&requests));
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (mode, requests, document) = (Arc::clone(&m), Arc::clone(&r), document.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_req: Request<_>| {
                    let (mode, document) = (mode.load(Ordering::SeqCst), document.clone());
                    requests.fetch_add(1, Ordering::SeqCst);
                    async move { Ok::<_, Infallible>(jwks_response(mode, document).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    JwksServer {
        url,
        mode,
        requests,
    }
}

async fn jwks_response(mode: u8, document: Bytes) -> Response<Full<Bytes>> {
    match mode {
        JWKS_FAIL => Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .body(Full::new(Bytes::from_static(b"down")))
            .expect("response"),
        JWKS_SLOW => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            Response::new(Full::new(document))
        }
        JWKS_HUGE => {
            // 8 MiB of valid JSON: whitespace, then the real document.
            let mut huge = vec![b' '; 8 << 20];
            huge.extend_from_slice(&document);
            Response::new(Full::new(Bytes::from(huge)))
        }
        _ => Response::new(Full::new(document)),
    }
}

/// The issuer's public key as a JWK Set.
fn jwks_document(issuer: &Issuer) -> String {
    let pair = rcgen::KeyPair::from_pem(&issuer.private_pem).expect("key");
    let point = pair.public_key_raw();
    assert_eq!(point.len(), 65, "uncompressed P-256 point");
    json!({"keys": [{
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": issuer.kid,
        "x": tokens::b64(&point[1..33]), "y": tokens::b64(&point[33..]),
    }]})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_flapping_slow_and_huge_during_a_thousand_calls() {
    let _serial = SERIAL.lock().await;
    let issuer = Issuer::new("k1");
    let jwks = jwks_server(jwks_document(&issuer)).await;
    let keys = JwksKeyProvider::builder()
        .uri(&jwks.url)
        .refresh_interval(Duration::from_millis(100))
        .kid_miss_cooldown(Duration::from_millis(50))
        .timeout(Duration::from_millis(500))
        .max_document_size(256 * 1024)
        .build()
        .await
        .expect("provider");
    assert_eq!(keys.keys_loaded(), 1, "the first fetch loads the key");
    let mapper = JwtClaimMapper::builder(Arc::new(keys))
        .cache_capacity(0) // every call verifies and looks its key up
        .build();
    let harness = start(
        BackendConfig::default(),
        Some(layer(mapper, Duration::from_secs(5))),
    )
    .await;
    let alice = issuer.sign(&tokens::payload("alice", &["default:write"]));
    // Signed by the same key under kids the set does not have: each one asks for a refetch.
    let strangers: Vec<String> = (0..50)
        .map(|i| {
            issuer.sign_with_kid(
                &tokens::payload("alice", &["default:write"]),
                &format!("rotated-{i}"),
            )
        })
        .collect();
    let chans = channels(&harness, 4).await;

    // The endpoint cycles through failing, slow, huge and healthy every 40 ms meanwhile.
    let flapper = {
        let mode = Arc::clone(&jwks.mode);
        tokio::spawn(async move {
            for step in 0u8.. {
                mode.store(
                    [JWKS_FAIL, JWKS_SLOW, JWKS_HUGE, JWKS_OK][usize::from(step % 4)],
                    Ordering::SeqCst,
                );
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        })
    };
    let started = Instant::now();
    let result = run_calls(&chans, 1000, |i| {
        if i % 4 == 3 {
            strangers[i % strangers.len()].clone()
        } else {
            alice.clone()
        }
    })
    .await;
    let elapsed = started.elapsed();
    flapper.abort();

    // Known-key calls never depend on the endpoint; unknown kids are denied, never hung.
    assert_eq!(result, codes(&[("Ok", 750), ("PermissionDenied", 250)]));
    assert_eq!(harness.backend().calls(), 750);
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    assert!(
        jwks.requests.load(Ordering::SeqCst) >= 2,
        "the endpoint was asked again during the run"
    );
    // Healthy again: still serving, with the same key.
    jwks.mode.store(JWKS_OK, Ordering::SeqCst);
    let after = run_calls(&chans, 20, |_| alice.clone()).await;
    assert_eq!(after, codes(&[("Ok", 20)]));
    eprintln!(
        "jwks faults: 1000 calls in {elapsed:?}, {} JWKS requests",
        jwks.requests.load(Ordering::SeqCst)
    );
}

// ---------------------------------------------------------------------------------------------
// TLS clients that connect and stall.
// ---------------------------------------------------------------------------------------------

struct TlsFiles {
    _dir: tempfile::TempDir,
    ca_pem: String,
    group: GroupTls,
}

fn tls_files() -> TlsFiles {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca");
    let ca = rcgen::Issuer::new(ca_params, ca_key);
    let server_key = rcgen::KeyPair::generate().expect("key");
    let server = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .signed_by(&server_key, &ca)
        .expect("leaf");
    let write = |name: &str, pem: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, pem).expect("write");
        path.to_string_lossy().into_owned()
    };
    let group: GroupTls = serde_json::from_value(json!({"server": {
        "certFile": write("server.pem", &server.pem()),
        "keyFile": write("server.key", &server_key.serialize_pem()),
    }}))
    .expect("group");
    TlsFiles {
        _dir: dir,
        ca_pem: ca_cert.pem(),
        group,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_tls_clients_do_not_stop_the_server() {
    let _serial = SERIAL.lock().await;
    let files = tls_files();
    let acceptor = TlsAcceptor::new(&files.group)
        .expect("acceptor")
        .with_handshake_timeout(Duration::from_millis(500));
    let issuer = Issuer::new("k1");
    let mapper = JwtClaimMapper::new(Arc::new(issuer.provider()));
    let backend = Backend::new(BackendConfig::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let routes = services(&backend).await.into_routes();
    let incoming = acceptor.incoming(listener);
    let server = tokio::spawn(
        Server::builder()
            .layer(layer(mapper, Duration::from_secs(5)))
            .add_routes(routes)
            .serve_with_incoming(incoming),
    );

    // 200 connections that send nothing, and 50 that send half a ClientHello and stop.
    let mut stalled = Vec::new();
    for i in 0..250 {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        if i >= 200 {
            tcp.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc])
                .await
                .expect("write");
        }
        stalled.push(tcp);
    }

    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&files.ca_pem))
        .domain_name("localhost");
    let channel = Endpoint::from_shared(format!("https://{addr}"))
        .expect("uri")
        .tls_config(tls)
        .expect("tls")
        .connect()
        .await
        .expect("a TLS client connects while 250 others stall");
    let alice = issuer.sign(&tokens::payload("alice", &["default:write"]));
    let mallory = issuer.sign(&tokens::payload("mallory", &[]));
    let started = Instant::now();
    let result = run_calls(std::slice::from_ref(&channel), 200, |i| {
        if i % 2 == 0 {
            alice.clone()
        } else {
            mallory.clone()
        }
    })
    .await;
    assert_eq!(result, codes(&[("Ok", 100), ("PermissionDenied", 100)]));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(backend.calls(), 100);

    // The stalled handshakes are dropped after the timeout: every socket reads end of stream
    // (or a reset), none is left hanging.
    tokio::time::sleep(Duration::from_millis(700)).await;
    for mut tcp in stalled {
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(
            Duration::from_secs(2),
            tokio::io::AsyncReadExt::read(&mut tcp, &mut buf),
        )
        .await
        .expect("the server closed the stalled connection");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }
    // Still serving afterwards.
    let result = run_calls(&[channel], 10, |_| alice.clone()).await;
    assert_eq!(result, codes(&[("Ok", 10)]));
    assert!(!server.is_finished(), "the server is still running");
    server.abort();
}

// ---------------------------------------------------------------------------------------------
// A request body that never completes.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_hit_the_body_deadline_while_others_are_served() {
    let _serial = SERIAL.lock().await;
    let issuer = Issuer::new("k1");
    let mapper = JwtClaimMapper::new(Arc::new(issuer.provider()));
    let harness = start(
        BackendConfig::default(),
        Some(layer(mapper, Duration::from_millis(500))),
    )
    .await;
    let alice = issuer.sign(&tokens::payload("alice", &["default:write"]));
    let addr: SocketAddr = harness.server.addr();

    // 20 calls that send 3 bytes of the frame prefix, then nothing (the stream stays open).
    let mut slow = tokio::task::JoinSet::new();
    let mut senders = Vec::new();
    for _ in 0..20 {
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(1);
        tx.send(Bytes::from_static(&[0, 0, 0]))
            .await
            .expect("queued");
        senders.push(tx);
        let body = BoxBody::new(StreamBody::new(
            tokio_stream::wrappers::ReceiverStream::new(rx)
                .map(|b| Ok::<_, Infallible>(Frame::data(b))),
        ));
        let req = raw::grpc(DESCRIBE)
            .header("authorization", format!("Bearer {alice}"))
            .body(body)
            .expect("request");
        slow.spawn(async move {
            let mut conn = raw::connect(addr).await;
            let started = Instant::now();
            let reply = raw::send(&mut conn, req).await;
            (reply, started.elapsed())
        });
    }
    // Meanwhile, honest calls are served at once.
    let chans = channels(&harness, 2).await;
    let started = Instant::now();
    let result = run_calls(&chans, 200, |_| alice.clone()).await;
    assert_eq!(result, codes(&[("Ok", 200)]));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    while let Some(done) = slow.join_next().await {
        let (reply, waited) = done.expect("no task panics");
        assert_eq!(reply.grpc(), Some(Code::DeadlineExceeded), "{reply:?}");
        assert_eq!(reply.message, "timed out waiting for the request message");
        assert!(
            waited >= Duration::from_millis(450) && waited < Duration::from_secs(3),
            "{waited:?}"
        );
    }
    drop(senders);
    assert_eq!(
        harness.backend().calls(),
        200,
        "no slow body reached the backend"
    );
}

// ---------------------------------------------------------------------------------------------
// 10 000 concurrent mixed calls, and memory.
// ---------------------------------------------------------------------------------------------

/// Resident set size of this process, from `/proc/self/statm` (pages of 4 KiB).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("procfs");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages");
    pages * 4096
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_concurrent_mixed_calls() {
    let _serial = SERIAL.lock().await;
    let issuer = Issuer::new("k1");
    let mapper = JwtClaimMapper::new(Arc::new(issuer.provider()));
    // Ten thousand streams in flight on two shared cores can take seconds to deliver their
    // bodies; a generous body deadline keeps the counts exact (the deadline has its own test).
    let harness = start(
        BackendConfig::default().with_namespace("secret"),
        Some(layer(mapper, Duration::from_secs(120))),
    )
    .await;
    let alice = issuer.sign(&tokens::payload("alice", &["default:write"]));
    let mallory = issuer.sign(&tokens::payload("mallory", &[]));
    let forged = {
        let (h, p, _) = tokens::segments(&alice);
        format!("{h}.{p}.")
    };
    let token = |i: usize| match i % 4 {
        0 | 1 => alice.clone(),
        2 => mallory.clone(),
        _ => forged.clone(),
    };
    let chans = channels(&harness, 8).await;

    // Warm up (connections, caches, allocator), then measure.
    let warm = run_calls(&chans, 1000, &token).await;
    assert_eq!(warm, codes(&[("Ok", 500), ("PermissionDenied", 500)]));
    let baseline = rss_bytes();

    let started = Instant::now();
    let first = run_calls(&chans, 10_000, &token).await;
    let elapsed = started.elapsed();
    assert_eq!(first, codes(&[("Ok", 5000), ("PermissionDenied", 5000)]));
    let after_first = rss_bytes();

    let second = run_calls(&chans, 10_000, &token).await;
    assert_eq!(second, codes(&[("Ok", 5000), ("PermissionDenied", 5000)]));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after_second = rss_bytes();

    assert_eq!(harness.backend().calls(), 500 + 5000 + 5000);
    // Still serving.
    let after = run_calls(&chans, 10, |_| alice.clone()).await;
    assert_eq!(after, codes(&[("Ok", 10)]));

    let mib = |b: u64| b as f64 / f64::from(1u32 << 20);
    eprintln!(
        "10k mixed calls in {elapsed:?}; RSS baseline {:.1} MiB, after 10k {:.1} MiB, after 20k {:.1} MiB",
        mib(baseline),
        mib(after_first),
        mib(after_second)
    );
    // No growth per call. Allocators keep freed pages, so RSS stays near the first round's
    // high-water mark rather than dropping to the baseline; a leak instead grows every round by
    // the same amount. So the second round may add at most half of what the first one did, and
    // the whole run stays within a bounded distance of the warmed-up baseline.
    let first_growth = after_first.saturating_sub(baseline);
    assert!(
        after_second.saturating_sub(after_first) <= first_growth / 2 + (8 << 20),
        "memory grew by {:.1} MiB in the second round after {:.1} MiB in the first",
        mib(after_second.saturating_sub(after_first)),
        mib(first_growth)
    );
    assert!(
        after_second <= baseline + (512 << 20),
        "memory {:.1} MiB over the baseline",
        mib(after_second.saturating_sub(baseline))
    );
}
