//! The process-wide crypto providers of the tests' own TLS clients and token signing.
//!
//! A build of the library with both its `aws-lc-rs` and `ring` features (as
//! `cargo test --all-features` makes) compiles both providers into rustls and jsonwebtoken.
//! The library picks its provider explicitly, but code that relies on the process default
//! (tonic's client TLS, jsonwebtoken's key conversions) then cannot choose one and panics, as
//! it would in any application built that way. The testkit installs aws-lc-rs as that
//! default, as such an application must, the first time it makes a key or a certificate.

/// Installs aws-lc-rs as the process-wide default provider of rustls and jsonwebtoken, unless
/// one is installed already (then that one stays).
pub fn install_defaults() {
    // An `Err` says a default is already installed: the caller's choice, which stands.
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
