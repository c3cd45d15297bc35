//! Reading one key-set source: `http://`, `https://` (reqwest, bounded in time and size,
//! status checked) or `file://` (local files only, as Temporal allows).

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use tokio::io::AsyncReadExt;

use crate::keys::key::KeyError;

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
        let url = Url::parse(uri)
            .map_err(|e| KeyError::new(format!("invalid key source URI {uri:?}")).with_source(e))?;
        let mut shown = url.clone();
        if shown.password().is_some() {
            // Only fails for URLs that cannot carry credentials, which have none to hide.
            let _ = shown.set_password(Some("redacted"));
        }
        let display = shown.to_string();
        let kind = match url.scheme() {
            "http" | "https" => SourceKind::Http(url),
            "file" => {
                let host = url.host_str().unwrap_or("");
                if !host.is_empty() && host != "localhost" {
                    return Err(KeyError::new(format!(
                        "file URI with remote host is not supported: {display}"
                    )));
                }
                let path = url.to_file_path().map_err(|()| {
                    KeyError::new(format!("file URI has no usable path: {display}"))
                })?;
                SourceKind::File(path)
            }
            other => {
                return Err(KeyError::new(format!(
                    "unsupported key source scheme {other:?} in {display} (expected http, https or file)"
                )));
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
            KeyError::new(what).with_source(e.without_url())
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
            )));
        }
        let too_large = || {
            KeyError::new(format!(
                "{}: key set larger than {max_bytes} bytes",
                self.display
            ))
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
            KeyError::new(format!("{}: cannot read file", self.display)).with_source(e)
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
            )));
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
