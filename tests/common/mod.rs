//! Shared helpers for the integration tests. Certificates, signing keys, tokens and the
//! loopback JWKS server come from `tonic-authz-testkit` (shared with the benches and the
//! examples); what stays here is specific to this crate's tests.
// Helpers (and re-exports) are shared by several test binaries, each using a subset; `pub` is
// how they share.
#![allow(unreachable_pub, dead_code, unused_imports)]

pub(crate) mod demo;
pub(crate) mod grpc;
#[allow(clippy::unwrap_used)]
pub mod tls;

pub use tonic_authz_testkit::certs;

/// An ES256 key bound to its `kid`, and the clock for `iat` / `exp`.
pub mod jwt {
    pub use tonic_authz_testkit::jwt::{SigningKey, unix_now as now};
}
