//! Helpers shared by the integration tests.

// Each test file uses only a part of the helpers.
#![allow(dead_code)]

pub(crate) mod demo;
pub(crate) mod grpc;
