//! Shared helpers for the integration tests.
// Helpers are shared by several test binaries, each using a subset; `pub` is how they share.
#![allow(unreachable_pub, dead_code)]

pub mod certs;
pub mod tls;
