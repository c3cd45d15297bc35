//! The in-process JWKS issuer: the testkit's loopback HTTP/1.1 server, publishing the dev
//! signing key's JWK Set at `/.well-known/jwks.json` only, as an identity provider would. The
//! Frontend's `JwksKeyProvider` fetches it over real HTTP, so dev mode runs the same key path
//! as production.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tonic_authz_testkit::jwks_server::{self, Reply, Routes};

/// The path the JWK Set is served at.
pub const JWKS_PATH: &str = jwks_server::JWKS_PATH;

/// A running JWKS server; dropping it stops the server.
#[derive(Debug)]
pub struct JwksServer {
    inner: jwks_server::JwksServer,
}

impl JwksServer {
    /// Serves `jwks` on `listener` (bind it to a loopback address).
    ///
    /// # Errors
    ///
    /// The listener's address cannot be read.
    pub fn spawn(listener: TcpListener, jwks: &serde_json::Value) -> std::io::Result<JwksServer> {
        // Only the JWKS path answers, so a wrong URI fails loudly with a 404.
        let inner = jwks_server::JwksServer::serve(
            listener,
            Reply::json(jwks.to_string()),
            Routes::JwksPathOnly,
        )?;
        Ok(JwksServer { inner })
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
        self.inner.addr()
    }

    /// The URI of the JWK Set, for `JwksKeyProvider`.
    pub fn uri(&self) -> String {
        self.inner.uri()
    }
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
    }
}
