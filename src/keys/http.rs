//! The HTTP client that fetches key sets and OpenID provider metadata: bounded connect and
//! total timeouts, no redirect from `https` to `http`, and optionally extra trusted CA
//! certificates for an identity provider with a private CA. Users may pass their own
//! `reqwest::Client` instead (proxies, client certificates, anything reqwest offers).

use std::time::Duration;

use crate::keys::key::{KeyError, KeyErrorKind};

/// How the key providers' own HTTP client is made when the user passes none.
#[derive(Clone, Debug)]
pub(crate) struct HttpSettings {
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    /// PEM bundles of extra trusted CA certificates, added to the system's roots.
    pub(crate) extra_roots_pem: Vec<Vec<u8>>,
    /// A client given by the user; used as is, the settings above then do not apply to it
    /// (except `timeout`, which also bounds each fetch).
    pub(crate) client: Option<reqwest::Client>,
}

impl HttpSettings {
    pub(crate) fn new(connect_timeout: Duration, timeout: Duration) -> HttpSettings {
        HttpSettings {
            connect_timeout,
            timeout,
            extra_roots_pem: Vec::new(),
            client: None,
        }
    }

    /// The client to fetch with.
    pub(crate) fn client(&self) -> Result<reqwest::Client, KeyError> {
        if let Some(client) = &self.client {
            return Ok(client.clone());
        }
        let mut roots = Vec::new();
        for pem in &self.extra_roots_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                KeyError::new("cannot read the extra CA certificates").with_source(e)
            })?;
            if certs.is_empty() {
                return Err(KeyError::new(
                    "the extra CA certificate bundle holds no certificate",
                ));
            }
            roots.extend(certs);
        }
        let builder = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .redirect(redirect_policy())
            .user_agent(concat!("tonic-authz/", env!("CARGO_PKG_VERSION")))
            .tls_certs_merge(roots);
        crate::crypto::http_client_tls(builder)
            .map_err(|e| {
                KeyError::new(format!("cannot create the HTTP client: {e}"))
                    .with_kind(KeyErrorKind::Setup)
            })?
            .build()
            .map_err(|e| {
                KeyError::new("cannot create the HTTP client")
                    .with_kind(KeyErrorKind::Setup)
                    .with_source(e)
            })
    }
}

/// Follows at most 5 redirects and never from `https` to `http`: a downgrade would let the
/// network substitute the keys.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let downgrade = attempt.url().scheme() == "http"
            && attempt.previous().iter().any(|u| u.scheme() == "https");
        if downgrade {
            attempt.error("refusing a redirect from https to http")
        } else if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    })
}
