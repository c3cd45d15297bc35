//! Error types: why a claim mapper refused a caller.
//!
//! The precise reason stays on the server (logs, metrics); the client always sees the generic
//! `PERMISSION_DENIED` / `Request unauthorized.`.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

/// A boxed, thread-safe error.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The class of a claim-mapping failure; stable, low-cardinality, usable as a metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClaimsErrorKind {
    /// The auth header is not `Bearer <token>`.
    MalformedHeader,
    /// The token is not a well-formed JWT (segments, base64, JSON).
    MalformedToken,
    /// `alg` is missing, unknown or not allowed.
    Algorithm,
    /// `kid` is missing or not a string.
    MissingKeyId,
    /// No key is known for the token's `kid` and `alg`.
    UnknownKey,
    /// The signature does not verify.
    Signature,
    /// `exp`, `nbf` or `iat` rejects the token now.
    Time,
    /// The audience does not match.
    Audience,
    /// The issuer does not match.
    Issuer,
    /// A required claim (`sub`) is missing or of the wrong type.
    Claim,
    /// No key set has been loaded yet.
    KeysUnavailable,
    /// The client certificate could not be mapped.
    Certificate,
    /// An API key is unknown (or revoked) or expired.
    ApiKey,
    /// Anything else, from a custom claim mapper.
    Other,
}

impl ClaimsErrorKind {
    /// A short snake_case label for logs and metrics.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ClaimsErrorKind::MalformedHeader => "malformed_header",
            ClaimsErrorKind::MalformedToken => "malformed_token",
            ClaimsErrorKind::Algorithm => "algorithm",
            ClaimsErrorKind::MissingKeyId => "missing_kid",
            ClaimsErrorKind::UnknownKey => "unknown_key",
            ClaimsErrorKind::Signature => "signature",
            ClaimsErrorKind::Time => "time",
            ClaimsErrorKind::Audience => "audience",
            ClaimsErrorKind::Issuer => "issuer",
            ClaimsErrorKind::Claim => "claim",
            ClaimsErrorKind::KeysUnavailable => "keys_unavailable",
            ClaimsErrorKind::Certificate => "certificate",
            ClaimsErrorKind::ApiKey => "api_key",
            ClaimsErrorKind::Other => "other",
        }
    }
}

/// A claim mapper's refusal. Never shown to the client.
#[derive(Debug)]
pub struct ClaimsError {
    kind: ClaimsErrorKind,
    message: Cow<'static, str>,
    source: Option<BoxError>,
}

impl ClaimsError {
    /// An error of `kind` with a message for server logs (must not contain secrets).
    pub fn new(kind: ClaimsErrorKind, message: impl Into<Cow<'static, str>>) -> ClaimsError {
        ClaimsError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying cause.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> ClaimsError {
        self.source = Some(source.into());
        self
    }

    /// The class of the failure.
    #[must_use]
    pub fn kind(&self) -> ClaimsErrorKind {
        self.kind
    }

    /// The message, without the source chain.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ClaimsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for ClaimsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}
