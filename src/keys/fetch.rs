//! Reading one key-set source: `http://`, `https://` (reqwest, bounded in time and size,
//! status checked) or `file://` (local files only, as Temporal allows).

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use tokio::io::AsyncReadExt;

use crate::keys::key::{KeyError, KeyErrorKind};

/// Where a key set is read from.
#[derive(Clone, Debug)]
pub(crate) struct KeySource {
    kind: SourceKind,
    /// The URI for logs and errors, without any password.
    display: String,
}

#[derive(Clone, Debug)]
enum SourceKind {
    Http(Url),
    File(PathBuf),
}

impl KeySource {
    /// Parses a key-source URI.
    ///
    /// A `file://` URI must have an empty host or `localhost` (Temporal's rule); other schemes
    /// than `http`, `https` and `file` are refused.
    pub(crate) fn parse(uri: &str) -> Result<KeySource, KeyError> {
        // A query string may carry an access key (`?key=...`): it never reaches a log line.
        let without_query = uri.split(['?', '#']).next().unwrap_or_default();
        let url = Url::parse(uri).map_err(|e| {
            KeyError::new(format!("invalid key source URI {without_query:?}"))
                .with_kind(KeyErrorKind::InvalidSource)
                .with_source(e)
        })?;
        let mut shown = url.clone();
        if shown.password().is_some() {
            // Only fails for URLs that cannot carry credentials, which have none to hide.
            let _ = shown.set_password(Some("redacted"));
        }
        shown.set_query(None);
        shown.set_fragment(None);
        let display = shown.to_string();
        if url.scheme() == "http" && !is_loopback(&url) {
            tracing::warn!(
                source = %shown,
                "JWKS key source over plain http to a host that is not loopback: the keys can \
                 be changed in transit; use https"
            );
        }
        let kind = match url.scheme() {
            "http" | "https" => SourceKind::Http(url),
            "file" => {
                let host = url.host_str().unwrap_or("");
                if !host.is_empty() && host != "localhost" {
                    return Err(KeyError::new(format!(
                        "file URI with remote host is not supported: {display}"
                    ))
                    .with_kind(KeyErrorKind::InvalidSource));
                }
                let path = url.to_file_path().map_err(|()| {
                    KeyError::new(format!("file URI has no usable path: {display}"))
                        .with_kind(KeyErrorKind::InvalidSource)
                })?;
                SourceKind::File(path)
            }
            other => {
                return Err(KeyError::new(format!(
                    "unsupported key source scheme {other:?} in {display} (expected http, https or file)"
                )).with_kind(KeyErrorKind::InvalidSource));
            }
        };
        Ok(KeySource { kind, display })
    }

    pub(crate) fn display(&self) -> &str {
        &self.display
    }

    /// Reads the whole document, refusing more than `max_bytes`.
    pub(crate) async fn read(
        &self,
        client: &reqwest::Client,
        max_bytes: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, KeyError> {
        match &self.kind {
            SourceKind::Http(url) => self.read_http(client, url, max_bytes, timeout).await,
            SourceKind::File(path) => self.read_file(path, max_bytes).await,
        }
    }

    async fn read_http(
        &self,
        client: &reqwest::Client,
        url: &Url,
        max_bytes: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, KeyError> {
        let transport = |e: reqwest::Error| {
            let what = if e.is_timeout() {
                format!("{}: request timed out after {timeout:?}", self.display)
            } else if e.is_connect() {
                format!("{}: cannot connect", self.display)
            } else {
                format!("{}: request failed", self.display)
            };
            // The source would repeat the URL; keep it without it.
            KeyError::new(what)
                .with_kind(KeyErrorKind::Fetch)
                .with_source(e.without_url())
        };
        let mut response = client
            .get(url.clone())
            .timeout(timeout)
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            return Err(KeyError::new(format!(
                "{}: unexpected HTTP status {status}",
                self.display
            ))
            .with_kind(KeyErrorKind::Fetch));
        }
        let too_large = || {
            KeyError::new(format!(
                "{}: key set larger than {max_bytes} bytes",
                self.display
            ))
            .with_kind(KeyErrorKind::Fetch)
        };
        if response
            .content_length()
            .is_some_and(|len| len > max_bytes as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    async fn read_file(&self, path: &PathBuf, max_bytes: usize) -> Result<Vec<u8>, KeyError> {
        let io = |e: std::io::Error| {
            KeyError::new(format!("{}: cannot read file", self.display))
                .with_kind(KeyErrorKind::Fetch)
                .with_source(e)
        };
        let file = tokio::fs::File::open(path).await.map_err(io)?;
        let mut body = Vec::new();
        // Read one byte past the cap to tell "exactly at the cap" from "too large".
        file.take(max_bytes as u64 + 1)
            .read_to_end(&mut body)
            .await
            .map_err(io)?;
        if body.len() > max_bytes {
            return Err(KeyError::new(format!(
                "{}: key set larger than {max_bytes} bytes",
                self.display
            ))
            .with_kind(KeyErrorKind::Fetch));
        }
        Ok(body)
    }
}

/// Whether the URL's host is this machine (`localhost`, 127.0.0.0/8, `::1`).
fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_not_shown() {
        let src = KeySource::parse("https://idp.example/jwks?api_key=secret#frag").expect("valid");
        assert_eq!(src.display(), "https://idp.example/jwks");
        let err = KeySource::parse("ftp://idp.example/jwks?api_key=secret").expect_err("refused");
        assert!(!err.to_string().contains("secret"), "{err}");
        let err = KeySource::parse("not a uri?api_key=secret").expect_err("refused");
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn plain_http_is_loopback_only_without_a_warning() {
        for (uri, loopback) in [
            ("http://127.0.0.1:8080/jwks", true),
            ("http://127.0.0.2/jwks", true),
            ("http://localhost/jwks", true),
            ("http://[::1]/jwks", true),
            ("http://idp.example/jwks", false),
            ("http://10.0.0.1/jwks", false),
        ] {
            let url = Url::parse(uri).expect("valid");
            assert_eq!(is_loopback(&url), loopback, "{uri}");
        }
    }

    #[test]
    fn file_uri_host_rules() {
        assert!(KeySource::parse("file:///tmp/keys.json").is_ok());
        assert!(KeySource::parse("file://localhost/tmp/keys.json").is_ok());
        let err = KeySource::parse("file://remotehost/tmp/test.json").expect_err("must fail");
        assert_eq!(
            err.message(),
            "file URI with remote host is not supported: file://remotehost/tmp/test.json"
        );
    }

    #[test]
    fn schemes_and_syntax() {
        assert!(KeySource::parse("https://idp.example/.well-known/jwks.json").is_ok());
        let err = KeySource::parse("ftp://idp.example/jwks").expect_err("must fail");
        assert_eq!(
            err.message(),
            "unsupported key source scheme \"ftp\" in ftp://idp.example/jwks (expected http, https or file)"
        );
        let err = KeySource::parse("not a uri").expect_err("must fail");
        assert_eq!(err.message(), "invalid key source URI \"not a uri\"");
    }

    #[test]
    fn passwords_are_not_shown() {
        let src = KeySource::parse("https://user:secret@idp.example/jwks").expect("must succeed");
        assert_eq!(src.display(), "https://user:redacted@idp.example/jwks");
    }
}
