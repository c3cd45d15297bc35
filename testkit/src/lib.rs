//! Test support for `tonic-authz`, shared by the library's integration tests, its benches and
//! the examples' dev mode, so there is one copy of each piece instead of one per caller.
//!
//! - [`jwks_server`]: a real HTTP/1.1 server on a loopback port publishing a JWK Set, whose
//!   answer can be changed while it runs and which counts the requests it gets.
//! - [`certs`]: certificate authorities and leaf certificates made with rcgen, with any
//!   subject, subject alternative names and validity.
//! - [`crypto`]: the process-wide crypto providers, installed when the first key or
//!   certificate is made, so a build with two providers compiled in still runs its tests.
//! - [`jwt`]: signing keys made at run time (RSA, EC, Ed25519), their public JWKs, and tokens
//!   signed with jsonwebtoken, either well-formed or assembled by hand however malformed.
//!
//! The functions that panic on failure ([`certs::Ca::new`], [`jwt::TestKey::rsa`], …) are for
//! tests, where a failure is a broken test setup; each has a fallible twin
//! ([`certs::Ca::builder`], [`jwt::TestKey::generate`], …) for code that runs as a program, such
//! as the examples' dev mode. Nothing here is fit for production: keys and certificates are
//! made on the spot and kept in memory or in plain files.
//!
//! # Example
//!
//! ```
//! use tonic_authz_testkit::jwks_server::{JwksServer, Reply};
//! use tonic_authz_testkit::jwt::{SigningKey, unix_now};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let key = SigningKey::es256("key-1");
//! let server = JwksServer::start(Reply::json(key.jwks())).await;
//! let token = key.sign(&serde_json::json!({ "sub": "alice", "exp": unix_now() + 60 }));
//! assert!(server.uri().starts_with("http://127.0.0.1:"));
//! assert_eq!(token.split('.').count(), 3);
//! # }
//! ```

pub mod certs;
pub mod crypto;
mod error;
pub mod jwks_server;
pub mod jwt;

pub use error::Error;
