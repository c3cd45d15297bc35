//! A real HTTP/1 server on 127.0.0.1 (hyper 1) that serves a JWK Set and counts requests.
//! What it answers can be changed while it runs: a document, an HTTP error, garbage, or a
//! delay before answering.
#![allow(dead_code)] // each test binary uses a different subset

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) delay: Duration,
    pub(crate) location: Option<String>,
}

impl Reply {
    pub(crate) fn json(body: impl Into<String>) -> Reply {
        Reply {
            status: 200,
            body: body.into(),
            delay: Duration::ZERO,
            location: None,
        }
    }

    pub(crate) fn status(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            body: body.into(),
            delay: Duration::ZERO,
            location: None,
        }
    }

    pub(crate) fn redirect(to: impl Into<String>) -> Reply {
        Reply {
            status: 302,
            body: String::new(),
            delay: Duration::ZERO,
            location: Some(to.into()),
        }
    }

    pub(crate) fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

struct State {
    reply: Mutex<Reply>,
    hits: AtomicU64,
}

pub(crate) struct JwksServer {
    pub(crate) addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl JwksServer {
    pub(crate) async fn start(reply: Reply) -> JwksServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        JwksServer::serve(listener, reply)
    }

    /// Starts on a given address (e.g. one that was down before).
    pub(crate) async fn start_on(addr: SocketAddr, reply: Reply) -> JwksServer {
        let listener = TcpListener::bind(addr).await.expect("bind again");
        JwksServer::serve(listener, reply)
    }

    fn serve(listener: TcpListener, reply: Reply) -> JwksServer {
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(State {
            reply: Mutex::new(reply),
            hits: AtomicU64::new(0),
        });
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |_req: Request<hyper::body::Incoming>| {
                        let state = Arc::clone(&state);
                        async move {
                            state.hits.fetch_add(1, Ordering::SeqCst);
                            let reply = state.reply.lock().expect("lock").clone();
                            if !reply.delay.is_zero() {
                                tokio::time::sleep(reply.delay).await;
                            }
                            let mut response = Response::new(Full::new(Bytes::from(reply.body)));
                            *response.status_mut() =
                                StatusCode::from_u16(reply.status).expect("status");
                            if let Some(location) = reply.location {
                                response.headers_mut().insert(
                                    hyper::header::LOCATION,
                                    location.parse().expect("location"),
                                );
                            }
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        JwksServer { addr, state, task }
    }

    pub(crate) fn uri(&self) -> String {
        format!("http://{}/.well-known/jwks.json", self.addr)
    }

    pub(crate) fn hits(&self) -> u64 {
        self.state.hits.load(Ordering::SeqCst)
    }

    pub(crate) fn set_reply(&self, reply: Reply) {
        *self.state.reply.lock().expect("lock") = reply;
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An address on loopback where nothing listens (bound, then released).
pub(crate) async fn unused_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr")
}
