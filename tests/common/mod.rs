//! Shared helpers for the integration tests.
// Helpers are shared by several test binaries, each using a subset; `pub` is how they share.
#![allow(unreachable_pub, dead_code)]

// Test-only certificate and TLS plumbing: a failure there is a broken test setup.
#[allow(clippy::unwrap_used)]
pub mod certs;
pub(crate) mod demo;
pub(crate) mod grpc;
#[allow(clippy::unwrap_used)]
pub mod jwt;
#[allow(clippy::unwrap_used)]
pub mod tls;
