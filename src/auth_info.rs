//! [`AuthInfo`]: everything a [`ClaimMapper`](crate::ClaimMapper) may use to identify a caller.

use std::fmt;
use std::sync::Arc;

use crate::peer::{TlsConnection, TlsSubject};

/// The raw credentials of one call, gathered by the layer (Temporal's `AuthInfo`).
///
/// Build one with [`AuthInfo::default`] and set fields; the struct is `#[non_exhaustive]` so
/// new sources of identity can be added without breaking claim mappers.
#[derive(Default)]
#[non_exhaustive]
pub struct AuthInfo {
    /// The first value of the auth header (default `authorization`), verbatim, including any
    /// `Bearer ` prefix. Empty when the header is absent.
    pub auth_token: String,
    /// The subject of the verified client certificate, when the connection is mutual TLS.
    pub tls_subject: Option<Arc<TlsSubject>>,
    /// The verified peer certificate chain and its SANs, when the connection is TLS with a
    /// client certificate.
    pub tls_connection: Option<Arc<TlsConnection>>,
    /// The first value of the extra header (default `authorization-extras`).
    pub extra_data: String,
    /// The expected JWT audience for this call; empty means "do not check".
    pub audience: String,
    /// Which of the layer's token texts `auth_token` is (`layer::token_text`): the same
    /// number always means the same bytes, so a mapper may answer from what it found for
    /// that text before without reading the token again. Zero (no text known) in any
    /// `AuthInfo` the layer did not make, and in every clone: a clone's `auth_token` can be
    /// changed, the layer's own, lent to a mapper, cannot.
    pub(crate) text_id: u64,
}

impl Clone for AuthInfo {
    fn clone(&self) -> AuthInfo {
        AuthInfo {
            auth_token: self.auth_token.clone(),
            tls_subject: self.tls_subject.clone(),
            tls_connection: self.tls_connection.clone(),
            extra_data: self.extra_data.clone(),
            audience: self.audience.clone(),
            text_id: 0,
        }
    }
}

impl AuthInfo {
    /// Auth info carrying just a token (the raw header value).
    #[must_use]
    pub fn with_token(token: impl Into<String>) -> AuthInfo {
        AuthInfo {
            auth_token: token.into(),
            ..AuthInfo::default()
        }
    }
}

impl fmt::Debug for AuthInfo {
    // The token is a credential: never print it, only whether it is there.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthInfo")
            .field(
                "auth_token",
                &format_args!("<{} bytes>", self.auth_token.len()),
            )
            .field("tls_subject", &self.tls_subject)
            .field("tls_connection", &self.tls_connection.is_some())
            .field(
                "extra_data",
                &format_args!("<{} bytes>", self.extra_data.len()),
            )
            .field("audience", &self.audience)
            .finish()
    }
}
