//! A real HTTP/1.1 server on a loopback port (hyper 1) that publishes a JWK Set, as an
//! identity provider would, so JWKS clients are tested over real HTTP and the examples' dev
//! mode runs the same key path as production.
//!
//! What it answers can be changed while it runs ([`JwksServer::set_reply`]): a document, an
//! HTTP error, garbage, a redirect, or a delay before answering; it counts the requests it
//! gets ([`JwksServer::hits`]). It answers every path ([`Routes::AnyPath`], for tests that
//! point a client at any URI) or only [`JWKS_PATH`] ([`Routes::JwksPathOnly`], so a wrong URI
//! fails loudly with a 404).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The path the JWK Set is served at (and [`JwksServer::uri`] points to).
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// What the server answers.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// The body.
    pub body: String,
    /// How long to wait before answering.
    pub delay: Duration,
    /// The `Location` header, for redirects.
    pub location: Option<String>,
}

impl Reply {
    /// `200 OK` with this body (a JWK Set document, or anything else).
    pub fn json(body: impl Into<String>) -> Reply {
        Reply::status(200, body)
    }

    /// This status code with this body.
    pub fn status(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            body: body.into(),
            delay: Duration::ZERO,
            location: None,
        }
    }

    /// `302 Found` to `to`.
    pub fn redirect(to: impl Into<String>) -> Reply {
        Reply {
            location: Some(to.into()),
            ..Reply::status(302, "")
        }
    }

    /// The same answer after `delay`.
    #[must_use]
    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// Which requests get the [`Reply`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Routes {
    /// Every request, whatever its method and path.
    AnyPath,
    /// `GET` [`JWKS_PATH`] only; other paths are `404 Not Found`, other methods
    /// `405 Method Not Allowed`.
    JwksPathOnly,
}

struct State {
    reply: Mutex<Reply>,
    hits: AtomicU64,
    routes: Routes,
}

/// A running JWKS server; dropping it stops the server.
pub struct JwksServer {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for JwksServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksServer")
            .field("addr", &self.addr)
            .field("routes", &self.state.routes)
            .finish_non_exhaustive()
    }
}

impl JwksServer {
    /// Starts on an ephemeral port of `127.0.0.1`, answering every path with `reply`.
    ///
    /// # Panics
    ///
    /// The port cannot be bound (a broken test setup).
    pub async fn start(reply: Reply) -> JwksServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        JwksServer::serve(listener, reply, Routes::AnyPath).expect("local address")
    }

    /// Starts on a given address (e.g. one that was down before), answering every path.
    ///
    /// # Panics
    ///
    /// The address cannot be bound (a broken test setup).
    pub async fn start_on(addr: SocketAddr, reply: Reply) -> JwksServer {
        let listener = TcpListener::bind(addr).await.expect("bind again");
        JwksServer::serve(listener, reply, Routes::AnyPath).expect("local address")
    }

    /// Serves `reply` on `listener` (bind it to a loopback address) for `routes`.
    ///
    /// # Errors
    ///
    /// The listener's address cannot be read.
    pub fn serve(
        listener: TcpListener,
        reply: Reply,
        routes: Routes,
    ) -> std::io::Result<JwksServer> {
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            reply: Mutex::new(reply),
            hits: AtomicU64::new(0),
            routes,
        });
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&state)));
        Ok(JwksServer { addr, state, task })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URI of the JWK Set, for a JWKS client.
    pub fn uri(&self) -> String {
        format!("http://{}{JWKS_PATH}", self.addr)
    }

    /// How many requests it has received.
    pub fn hits(&self) -> u64 {
        self.state.hits.load(Ordering::SeqCst)
    }

    /// Answers `reply` from now on.
    pub fn set_reply(&self, reply: Reply) {
        *self
            .state
            .reply
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = reply;
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!(%error, "jwks server: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let state = Arc::clone(&state);
                async move { Ok::<_, Infallible>(respond(&state, &request).await) }
            });
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "jwks server: connection ended with an error");
            }
        });
    }
}

async fn respond(state: &State, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    state.hits.fetch_add(1, Ordering::SeqCst);
    if state.routes == Routes::JwksPathOnly {
        match (request.method(), request.uri().path()) {
            (&Method::GET, JWKS_PATH) => {}
            (&Method::GET, _) => return plain(StatusCode::NOT_FOUND, "not found\n"),
            _ => return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
        }
    }
    let reply = state
        .reply
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() = status;
    if status == StatusCode::OK {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    if let Some(location) = reply.location.and_then(|l| HeaderValue::try_from(l).ok()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

fn plain(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// An address on loopback where nothing listens (bound, then released).
///
/// # Panics
///
/// No port can be bound (a broken test setup).
pub async fn unused_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// One HTTP/1.1 request over a fresh connection; the status line and the body.
    async fn get(addr: SocketAddr, method: &str, path: &str) -> (String, String) {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        tcp.read_to_string(&mut response).await.unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        (head.lines().next().unwrap().to_owned(), body.to_owned())
    }

    #[tokio::test]
    async fn only_the_jwks_path_is_served_when_asked() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server =
            JwksServer::serve(listener, Reply::json("{\"keys\":[]}"), Routes::JwksPathOnly)
                .unwrap();
        let addr = server.addr();
        assert_eq!(
            get(addr, "GET", JWKS_PATH).await,
            ("HTTP/1.1 200 OK".to_owned(), "{\"keys\":[]}".to_owned())
        );
        assert_eq!(get(addr, "GET", "/jwks").await.0, "HTTP/1.1 404 Not Found");
        assert_eq!(
            get(addr, "POST", JWKS_PATH).await.0,
            "HTTP/1.1 405 Method Not Allowed"
        );
        assert_eq!(server.hits(), 3);
    }

    #[tokio::test]
    async fn any_path_gets_the_current_reply() {
        let server = JwksServer::start(Reply::json("one")).await;
        assert_eq!(get(server.addr(), "GET", "/a").await.1, "one");
        server.set_reply(Reply::status(503, "down"));
        assert_eq!(
            get(server.addr(), "GET", "/b").await,
            (
                "HTTP/1.1 503 Service Unavailable".to_owned(),
                "down".to_owned()
            )
        );
        assert_eq!(server.hits(), 2);
    }
}
