//! The one crypto provider of a build, chosen by the `aws-lc-rs` and `ring` features
//! (aws-lc-rs when both are on). JWT signature checks, the rustls configs of [`tls`](crate::tls)
//! and the JWKS HTTP client all take their provider from here, so a build never mixes two.
//! With neither feature the process-wide default is used, the one the application installed
//! (`rustls::crypto::CryptoProvider::install_default` and its jsonwebtoken counterpart).

/// What to tell an operator whose build has no provider and whose process installed none.
#[cfg_attr(
    any(feature = "aws-lc-rs", feature = "ring"),
    allow(dead_code, reason = "only read in builds without a provider feature")
)]
pub(crate) const NO_PROVIDER: &str = "no crypto provider: enable the `aws-lc-rs` or `ring` feature \
     of tonic-authz, or install a process-wide default provider";

/// The provider that checks JWT signatures; `None` only without a provider feature and
/// without an installed default.
pub(crate) fn jwt_provider() -> Option<&'static jsonwebtoken::crypto::CryptoProvider> {
    #[cfg(feature = "aws-lc-rs")]
    return Some(&jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER);
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    return Some(&jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER);
    #[cfg(not(any(feature = "aws-lc-rs", feature = "ring")))]
    jsonwebtoken::crypto::CryptoProvider::try_get_default()
}

/// The rustls provider; `None` only without a provider feature and without an installed
/// default.
#[cfg(feature = "tls")]
pub(crate) fn rustls_provider() -> Option<std::sync::Arc<rustls::crypto::CryptoProvider>> {
    #[cfg(feature = "aws-lc-rs")]
    return Some(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ));
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    return Some(std::sync::Arc::new(rustls::crypto::ring::default_provider()));
    #[cfg(not(any(feature = "aws-lc-rs", feature = "ring")))]
    rustls::crypto::CryptoProvider::get_default().cloned()
}

/// Gives the JWKS HTTP client this build's provider. reqwest is built without a provider of
/// its own: on aws-lc-rs it uses its built-in rustls setup (which is aws-lc-rs); on ring it
/// gets a config with the same platform verifier reqwest would use; with neither, reqwest
/// takes the installed default, which must exist (reqwest would panic without one).
///
/// # Errors
/// No provider feature and no installed default, or the platform verifier cannot start.
#[cfg(feature = "jwks")]
pub(crate) fn http_client_tls(
    builder: reqwest::ClientBuilder,
) -> Result<reqwest::ClientBuilder, String> {
    #[cfg(feature = "aws-lc-rs")]
    return Ok(builder);
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    {
        use std::sync::Arc;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new(Arc::clone(&provider))
            .map_err(|e| format!("cannot start the platform certificate verifier: {e}"))?;
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        return Ok(builder.tls_backend_preconfigured(config));
    }
    #[cfg(not(any(feature = "aws-lc-rs", feature = "ring")))]
    match rustls::crypto::CryptoProvider::get_default() {
        Some(_) => Ok(builder),
        None => Err(NO_PROVIDER.to_owned()),
    }
}
