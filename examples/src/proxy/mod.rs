//! The Frontend as an authorizing proxy: instead of the in-memory backend, every call the
//! authorization layer allows is forwarded to a real Temporal frontend (`frontend --upstream
//! HOST:PORT`, or the `upstream` section of the configuration file).
//!
//! ```text
//! SDK / CLI / worker ──mTLS+JWT──▶ Frontend (AuthzLayer ─▶ Forward) ──h2 (TLS)──▶ Temporal frontend
//! ```
//!
//! - [`Pool`]: a few HTTP/2 connections to the upstream (tonic `Channel`s, each one
//!   reconnecting by itself after a failure), used in turn; each new connection dials TCP and,
//!   when configured, TLS with certificates read again from disk.
//! - [`Forward`]: the tower service behind the layer. It relays the request (headers, frames,
//!   trailers) and streams the response back as the upstream sent it (headers, frames,
//!   `grpc-status`, `grpc-message`, `grpc-status-details-bin`). It never decodes a message:
//!   compression passes through untouched, and only the layer peeks at the first message.
//! - [`UpstreamCredentials`]: what the upstream receives as `authorization` (the caller's,
//!   none, or a static value read at start-up and never logged).
//! - [`Proxy`]: the above built from [`tonic_authz::config::Upstream`], with the services to
//!   forward as tonic `Routes`.
//!
//! A call the layer denies never reaches [`Forward`], so it never opens an upstream stream.
//! When the upstream cannot be reached the caller gets `UNAVAILABLE` within the connect
//! timeout, and the next call dials again.

mod body;
mod build;
mod connector;
mod credentials;
mod forward;
mod pool;

pub use build::{Origin, Proxy, ProxyError};
pub use credentials::UpstreamCredentials;
pub use forward::{ADMIN_SERVICE_NAME, Forward, HEALTH_SERVICE_NAME};
pub use pool::Pool;
