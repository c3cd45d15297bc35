//! Where token signing keys come from: the [`TokenKeyProvider`] plug-in point, with
//! [`JwksKeyProvider`] (JWK Sets over HTTP(S) or from files, refreshed in the background)
//! and [`DiscoveryKeyProvider`] (an OpenID provider's keys found from its issuer URL), both
//! feature `jwks` (`fetch.rs`, `jwks.rs`, `discovery.rs`, `http.rs`), and [`StaticKeyProvider`]
//! (keys given in code or files; always compiled).
//!
//! # Example
//! ```
//! use std::sync::Arc;
//! use tonic_authz::{JwtAlgorithm, StaticKeyProvider, TokenKeyProvider};
//!
//! let jwks = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1",
//!   "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
//!   "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;
//! let keys = StaticKeyProvider::from_jwks(jwks)?;
//! assert!(keys.current_key(JwtAlgorithm::ES256, "k1").is_some());
//! assert!(keys.current_key(JwtAlgorithm::RS256, "k1").is_none());
//! let provider: Arc<dyn TokenKeyProvider> = Arc::new(keys);
//! # let _ = provider;
//! # Ok::<_, tonic_authz::KeyError>(())
//! ```

mod algorithm;
#[cfg(feature = "jwks")]
pub(crate) mod discovery;
#[cfg(feature = "jwks")]
mod fetch;
#[cfg(feature = "jwks")]
mod http;
pub(crate) mod jwk;
#[cfg(feature = "jwks")]
mod jwks;
mod key;
mod provider;
mod set;
mod static_keys;

pub use algorithm::JwtAlgorithm;
#[cfg(feature = "jwks")]
pub use discovery::{DISCOVERY_PATH, DiscoveryKeyProvider, DiscoveryKeyProviderBuilder};
#[cfg(feature = "jwks")]
pub use jwks::{JwksKeyProvider, JwksKeyProviderBuilder};
pub use key::{KeyError, KeyErrorKind, VerificationKey};
pub use provider::TokenKeyProvider;
pub(crate) use set::quote_kid;
pub use static_keys::StaticKeyProvider;
