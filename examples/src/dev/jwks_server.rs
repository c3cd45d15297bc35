//! The in-process JWKS issuer: a tiny HTTP/1.1 server on a loopback port that publishes the
//! dev signing key's JWK Set at `/.well-known/jwks.json`, as an identity provider would. The
//! Frontend's `JwksKeyProvider` fetches it over real HTTP, so dev mode runs the same key path
//! as production.

use std::{convert::Infallible, net::SocketAddr};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::{net::TcpListener, task::JoinHandle};

/// The path the JWK Set is served at.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The OpenID provider metadata (discovery) of this issuer, naming `http://<addr>` as the
/// issuer and the JWK Set above as `jwks_uri`, so `DiscoveryKeyProvider` finds the dev keys
/// from the issuer URL alone.
fn discovery_document(addr: SocketAddr) -> Bytes {
    Bytes::from(
        serde_json::json!({
            "issuer": format!("http://{addr}"),
            "jwks_uri": format!("http://{addr}{JWKS_PATH}"),
            "id_token_signing_alg_values_supported": ["ES256"],
        })
        .to_string(),
    )
}

/// A running JWKS server; dropping it stops the server.
#[derive(Debug)]
pub struct JwksServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl JwksServer {
    /// Serves `jwks` on `listener` (bind it to a loopback address).
    ///
    /// # Errors
    ///
    /// The listener's address cannot be read.
    pub fn spawn(listener: TcpListener, jwks: &serde_json::Value) -> std::io::Result<JwksServer> {
        let addr = listener.local_addr()?;
        let body = Bytes::from(jwks.to_string());
        let metadata = discovery_document(addr);
        let task = tokio::spawn(async move {
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        tracing::warn!(%error, "jwks server: accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let body = body.clone();
                let metadata = metadata.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let body = body.clone();
                        let metadata = metadata.clone();
                        async move { Ok::<_, Infallible>(respond(&request, body, metadata)) }
                    });
                    if let Err(error) = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                    {
                        tracing::debug!(%error, "jwks server: connection ended with an error");
                    }
                });
            }
        });
        Ok(JwksServer { addr, task })
    }

    /// Binds `127.0.0.1` on an ephemeral port and serves `jwks` there.
    ///
    /// # Errors
    ///
    /// The port cannot be bound.
    pub async fn bind_loopback(jwks: &serde_json::Value) -> std::io::Result<JwksServer> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        JwksServer::spawn(listener, jwks)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The issuer URL, `http://<addr>`: what its discovery document names as `issuer`, what
    /// `DiscoveryKeyProvider` starts from, and the `iss` of the tokens dev mode prints.
    pub fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URI of the JWK Set, for `JwksKeyProvider`.
    pub fn uri(&self) -> String {
        format!("http://{}{JWKS_PATH}", self.addr)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn respond(request: &Request<Incoming>, jwks: Bytes, metadata: Bytes) -> Response<Full<Bytes>> {
    let (status, body) = match (request.method(), request.uri().path()) {
        (&Method::GET, JWKS_PATH) => (StatusCode::OK, jwks),
        (&Method::GET, tonic_authz::DISCOVERY_PATH) => (StatusCode::OK, metadata),
        (&Method::GET, _) => (StatusCode::NOT_FOUND, Bytes::from_static(b"not found\n")),
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            Bytes::from_static(b"method not allowed\n"),
        ),
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let content_type = if status == StatusCode::OK {
        "application/json"
    } else {
        "text/plain"
    };
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_key_provider_loads_the_served_jwks() {
        let tmp = tempfile::tempdir().unwrap();
        let key = super::super::SigningKey::load_or_create(&super::super::DevDir::new(tmp.path()))
            .unwrap();
        let server = JwksServer::bind_loopback(&key.jwks()).await.unwrap();
        assert!(server.uri().starts_with("http://127.0.0.1:"));
        let provider = tonic_authz::JwksKeyProvider::builder()
            .uri(server.uri())
            .build()
            .await
            .unwrap();
        assert!(provider.is_loaded());
        assert_eq!(provider.keys_loaded(), 1);

        // Anything but the JWKS path is a 404, so a wrong URI fails loudly.
        let wrong = tonic_authz::JwksKeyProvider::builder()
            .uri(format!("http://{}/jwks", server.addr()))
            .build()
            .await
            .unwrap();
        assert!(!wrong.is_loaded());

        // The issuer URL alone finds the same keys through discovery.
        let discovered =
            tonic_authz::DiscoveryKeyProvider::builder(format!("http://{}", server.addr()))
                .build()
                .await
                .unwrap();
        assert_eq!(server.issuer(), format!("http://{}", server.addr()));
        assert_eq!(discovered.jwks_uri(), Some(server.uri()));
        assert_eq!(discovered.keys_loaded(), 1);
    }
}
