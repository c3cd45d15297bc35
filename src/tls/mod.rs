//! TLS on rustls (aws-lc-rs): Temporal's `global.tls` configuration ([`GlobalTls`] with the
//! `frontend` and `internode` [`GroupTls`]), its start-up validation, a reloadable server
//! acceptor for tonic ([`TlsAcceptor`]), client configs for internode calls, certificate
//! expiration checks, and the accepted connection ([`TlsServerStream`]) whose
//! [`PeerConnectInfo`] carries the client certificate's identity, parsed once per connection.
//!
//! Every config is built with an explicit aws-lc-rs provider, so nothing depends on a
//! process-wide default provider being installed.

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

pub use client::{DangerousNoServerVerification, server_name};
pub use config::{ClientTls, ExpirationChecks, GlobalTls, GroupTls, ServerTls, WorkerTls};
pub use error::{TlsError, TlsErrorKind};
pub use expiry::ExpirationReport;
pub use server::{BackgroundTask, TlsAcceptor, TlsIncoming};
pub use stream::{PeerConnectInfo, TlsServerStream};

/// The one crypto provider every config of this crate uses.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}
