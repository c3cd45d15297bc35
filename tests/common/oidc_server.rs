//! A real HTTP/1 server on 127.0.0.1 (hyper 1) that plays an OpenID provider's key
//! publication: `/.well-known/openid-configuration` (naming itself as issuer, or whatever
//! metadata a test sets) and the JWK Set at `/jwks` (changeable while it runs), counting
//! requests per path.
#![allow(dead_code)] // each test binary uses a different subset

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

struct State {
    metadata: Mutex<Option<String>>,
    jwks: Mutex<String>,
    discovery_hits: AtomicU64,
    jwks_hits: AtomicU64,
}

pub(crate) struct OidcServer {
    pub(crate) addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl OidcServer {
    /// Serves `jwks` with metadata naming this server as the issuer.
    pub(crate) async fn start(jwks: impl Into<String>) -> OidcServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        OidcServer::serve(listener, jwks.into())
    }

    /// Starts on a given address (one that was down before).
    pub(crate) async fn start_on(addr: SocketAddr, jwks: impl Into<String>) -> OidcServer {
        let listener = TcpListener::bind(addr).await.expect("bind again");
        OidcServer::serve(listener, jwks.into())
    }

    fn serve(listener: TcpListener, jwks: String) -> OidcServer {
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(State {
            metadata: Mutex::new(None),
            jwks: Mutex::new(jwks),
            discovery_hits: AtomicU64::new(0),
            jwks_hits: AtomicU64::new(0),
        });
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                        let state = Arc::clone(&state);
                        async move {
                            let (status, body) = match req.uri().path() {
                                "/.well-known/openid-configuration" => {
                                    state.discovery_hits.fetch_add(1, Ordering::SeqCst);
                                    let custom = state.metadata.lock().expect("lock").clone();
                                    let body = custom.unwrap_or_else(|| {
                                        serde_json::json!({
                                            "issuer": format!("http://{addr}"),
                                            "jwks_uri": format!("http://{addr}/jwks"),
                                        })
                                        .to_string()
                                    });
                                    (200, body)
                                }
                                "/jwks" => {
                                    state.jwks_hits.fetch_add(1, Ordering::SeqCst);
                                    (200, state.jwks.lock().expect("lock").clone())
                                }
                                _ => (404, String::new()),
                            };
                            let mut response = Response::new(Full::new(Bytes::from(body)));
                            *response.status_mut() = StatusCode::from_u16(status).expect("status");
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        OidcServer { addr, state, task }
    }

    /// The issuer URL (`http://127.0.0.1:PORT`).
    pub(crate) fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn jwks_uri(&self) -> String {
        format!("http://{}/jwks", self.addr)
    }

    pub(crate) fn set_jwks(&self, jwks: impl Into<String>) {
        *self.state.jwks.lock().expect("lock") = jwks.into();
    }

    /// Replaces the metadata document (None: the default one).
    pub(crate) fn set_metadata(&self, metadata: Option<String>) {
        *self.state.metadata.lock().expect("lock") = metadata;
    }

    pub(crate) fn discovery_hits(&self) -> u64 {
        self.state.discovery_hits.load(Ordering::SeqCst)
    }

    pub(crate) fn jwks_hits(&self) -> u64 {
        self.state.jwks_hits.load(Ordering::SeqCst)
    }
}

impl Drop for OidcServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
