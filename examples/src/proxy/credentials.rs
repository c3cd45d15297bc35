//! What the upstream receives as the `authorization` header: the caller's own (the default, so
//! an upstream that checks its own tokens keeps working), none, or one static credential of
//! the proxy's. The static value is read once at start-up from a file or an environment
//! variable, marked sensitive (HPACK never indexes it) and never printed: `Debug` shows only
//! where it came from.

use std::fmt;

use http::{HeaderMap, HeaderValue, header::AUTHORIZATION};

/// The `authorization` policy towards the upstream.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum UpstreamCredentials {
    /// The caller's header, unchanged. The default.
    #[default]
    Forward,
    /// No `authorization` header.
    Drop,
    /// This value in place of the caller's; `source` says where it was read from.
    Static {
        /// The header value (sensitive).
        value: HeaderValue,
        /// Where the value came from, for logs (`file /run/secrets/x`, `env UPSTREAM_TOKEN`).
        source: String,
    },
}

impl UpstreamCredentials {
    /// A static credential from the text of a file or variable: surrounding whitespace
    /// (a trailing newline, typically) is removed.
    ///
    /// # Errors
    ///
    /// The text is blank or not a valid header value; the message never quotes it.
    pub fn static_value(text: &str, source: String) -> Result<UpstreamCredentials, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err(format!("{source} is empty"));
        }
        let mut value = HeaderValue::from_str(text)
            .map_err(|_| format!("{source} is not a valid header value"))?;
        value.set_sensitive(true);
        Ok(UpstreamCredentials::Static { value, source })
    }

    /// Applies the policy to a request's headers.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        match self {
            UpstreamCredentials::Forward => {}
            UpstreamCredentials::Drop => {
                headers.remove(AUTHORIZATION);
            }
            UpstreamCredentials::Static { value, .. } => {
                headers.insert(AUTHORIZATION, value.clone());
            }
        }
    }
}

impl fmt::Debug for UpstreamCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpstreamCredentials::Forward => f.write_str("Forward"),
            UpstreamCredentials::Drop => f.write_str("Drop"),
            UpstreamCredentials::Static { source, .. } => f
                .debug_struct("Static")
                .field("source", source)
                .field("value", &"<redacted>")
                .finish(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn each_policy_sets_the_header_it_says() {
        let caller = || {
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer caller"));
            headers
        };
        let mut headers = caller();
        UpstreamCredentials::Forward.apply(&mut headers);
        assert_eq!(headers[AUTHORIZATION], "Bearer caller");

        let mut headers = caller();
        UpstreamCredentials::Drop.apply(&mut headers);
        assert!(headers.get(AUTHORIZATION).is_none());

        let fixed = UpstreamCredentials::static_value("Bearer proxy\n", "env X".into()).unwrap();
        let mut headers = caller();
        fixed.apply(&mut headers);
        assert_eq!(headers[AUTHORIZATION], "Bearer proxy");
        assert!(headers[AUTHORIZATION].is_sensitive());
    }

    #[test]
    fn a_static_value_is_never_shown() {
        let fixed = UpstreamCredentials::static_value("Bearer s3cret", "env X".into()).unwrap();
        let shown = format!("{fixed:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("env X"), "{shown}");
        for bad in ["", " \n", "Bearer \u{1}x"] {
            let err = UpstreamCredentials::static_value(bad, "file f".into()).unwrap_err();
            assert!(err.starts_with("file f is "), "{err}");
            assert!(!err.contains('\u{1}'));
        }
    }
}
