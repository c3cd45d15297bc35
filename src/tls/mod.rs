//! TLS on rustls (aws-lc-rs): Temporal's `global.tls` configuration ([`GlobalTls`] with the
//! `frontend` and `internode` [`GroupTls`]), its start-up validation, a reloadable server
//! acceptor for tonic ([`TlsAcceptor`]), client configs for internode calls, certificate
//! expiration checks, and the peer identity claim mappers read ([`TlsSubject`],
//! [`TlsConnection`]).
//!
//! Every config is built with an explicit aws-lc-rs provider, so nothing depends on a
//! process-wide default provider being installed.

mod client;
mod config;
mod error;
mod expiry;
mod load;
mod peer;
mod server;
mod validate;

use std::sync::Arc;

pub use client::{DangerousNoServerVerification, server_name};
pub use config::{ClientTls, ExpirationChecks, GlobalTls, GroupTls, ServerTls, WorkerTls};
pub use error::{TlsError, TlsErrorKind};
pub use expiry::ExpirationReport;
pub(crate) use peer::cached_peer_identity;
pub use peer::{TlsConnection, TlsSubject, peer_identity};
pub use server::{BackgroundTask, TlsAcceptor, TlsIncoming};

/// The one crypto provider every config of this crate uses.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}
