//! TLS on rustls (with the build's crypto provider, aws-lc-rs by default): Temporal's
//! `global.tls` configuration ([`GlobalTls`] with the `frontend` and `internode`
//! [`GroupTls`]), its start-up validation, a reloadable server acceptor for tonic
//! ([`TlsAcceptor`], also from PEM files or a ready rustls `ServerConfig`), client configs for
//! internode calls, certificate expiration checks, and the accepted connection
//! ([`TlsServerStream`]) whose [`PeerConnectInfo`] carries the client certificate's identity,
//! parsed once per connection.
//!
//! Every config is built with the provider the `aws-lc-rs` or `ring` feature chose, so nothing
//! depends on a process-wide default provider being installed (unless neither is enabled).
//!
//! Compiled with the `tls` feature.

mod anchors;
mod client;
mod config;
mod error;
mod expiry;
mod load;
mod pending;
mod server;
mod stream;
mod validate;

use std::sync::Arc;

#[cfg(feature = "config")]
pub(crate) use anchors::trusted_client_cas;
pub use config::{ClientTls, ExpirationChecks, GlobalTls, GroupTls, ServerTls, WorkerTls};
pub use error::{TlsError, TlsErrorKind};
pub use expiry::ExpirationReport;
pub use server::{BackgroundTask, TlsAcceptor, TlsIncoming};
pub use stream::{PeerConnectInfo, TlsServerStream};

/// The one crypto provider every config of this crate uses.
///
/// # Errors
/// The build has no provider feature and the process installed no default.
pub(crate) fn provider() -> Result<Arc<rustls::crypto::CryptoProvider>, TlsError> {
    crate::crypto::rustls_provider()
        .ok_or_else(|| TlsError::new(TlsErrorKind::Build, "", crate::crypto::NO_PROVIDER))
}
