//! Temporal-style authentication and authorization for any tonic gRPC server, as one tower
//! layer.
//!
//! A [`ClaimMapper`] turns the caller's credentials ([`AuthInfo`]: bearer token, verified
//! client certificate) into [`Claims`]; an [`Authorizer`] allows or denies the call from those
//! claims and the [`CallTarget`] (the gRPC method and the namespace read from the request).
//! Temporal's defaults ship built in: [`DefaultAuthorizer`] with Temporal's table of which API
//! needs which role, [`JwtClaimMapper`] over a [`JwksKeyProvider`], the certificate mapper
//! [`CertificateClaimMapper`], and the no-op pair [`NoopAuthorizer`] / [`NoopClaimMapper`].
//! [`AuthzLayer`] puts them in front of any service; [`tls`] serves mutual TLS; [`config`]
//! reads all of it from a Temporal-shaped YAML file. The layer takes descriptors of your own
//! services from [`prost_reflect`], re-exported so its version always matches.
//!
//! A denied call never reaches the service: the client gets `PERMISSION_DENIED`
//! "Request unauthorized." with a `PermissionDeniedFailure` detail, as from Temporal. An
//! allowed call carries its [`Claims`] in the request extensions.
//!
//! # Example
//!
//! A gRPC health service behind the layer, with a claim mapper and an authorizer written as
//! closures (in production: [`JwtClaimMapper`] and [`DefaultAuthorizer`]):
//!
//! ```
//! use tonic_authz::{AuthInfo, AuthzLayer, CallTarget, Claims, ClaimsError, ClaimsErrorKind, Decision, Role};
//! use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mapper = |info: &AuthInfo| {
//!     let claims = match info.auth_token.as_str() {
//!         "Bearer ops-key" => Ok(Claims::new().with_subject("ops").with_system(Role::READER)),
//!         _ => Err(ClaimsError::new(ClaimsErrorKind::UnknownKey, "unknown key")),
//!     };
//!     async move { claims }
//! };
//! let authorizer = |claims: Option<&Claims>, _target: &CallTarget| {
//!     let reader = claims.is_some_and(|c| c.system().contains(Role::READER));
//!     async move { Ok(if reader { Decision::Allow } else { Decision::deny() }) }
//! };
//! let layer = AuthzLayer::builder().claim_mapper(mapper).authorizer(authorizer).build();
//!
//! let (_reporter, health) = tonic_health::server::health_reporter();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let url = format!("http://{}", listener.local_addr()?);
//! tokio::spawn(
//!     tonic::transport::Server::builder()
//!         .layer(layer)
//!         .add_service(health)
//!         .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
//! );
//!
//! let channel = tonic::transport::Endpoint::from_shared(url)?.connect().await?;
//! let mut client = HealthClient::new(channel);
//! let mut request = tonic::Request::new(HealthCheckRequest::default());
//! request.metadata_mut().insert("authorization", "Bearer ops-key".parse()?);
//! assert!(client.check(request).await.is_ok());
//!
//! let denied = client.check(HealthCheckRequest::default()).await.unwrap_err();
//! assert_eq!(denied.code(), tonic::Code::PermissionDenied);
//! assert_eq!(denied.message(), "Request unauthorized.");
//! # Ok(())
//! # }
//! ```
//!
//! The `tonic-authz-examples` crate has a secured Temporal Frontend, a non-Temporal service
//! protected through a descriptor pool, and custom mappers and authorizers.
//!
//! # Cargo features
//!
//! | feature | default | what it compiles in | dependencies |
//! |---|---|---|---|
//! | `jwks` | yes | [`JwksKeyProvider`]: JWK Sets over HTTP(S) or from files, refreshed in the background | reqwest |
//! | `tls` | yes | the [`tls`] module (acceptor with reload, TLS config, client configs, expiry checks) and the parsing of a verified client certificate ([`PeerIdentity`], [`peer_identity`]); without it the layer sees no certificate | rustls, tokio-rustls, x509-parser, tonic's TLS connect info |
//! | `config` | yes | the [`config`] module: Temporal's YAML; **implies `tls` and `jwks`**, since Temporal's configuration has both sections | serde-saphyr |
//! | `metrics` | yes | metrics through the `metrics` facade: decisions, authorization latency, JWKS fetches, certificate expiry | metrics |
//! | `gzip` | yes | gzip-compressed request messages (every Temporal client gzips) | flate2 |
//! | `deflate` | no | deflate-compressed request messages | flate2 |
//! | `zstd` | no | zstd-compressed request messages | zstd |
//! | `aws-lc-rs` | yes | aws-lc-rs as the crypto provider of JWT signatures, rustls and the JWKS client | aws-lc-rs |
//! | `ring` | no | ring (RustCrypto for JWT signatures) instead, for a tonic server on `tls-ring` | ring |
//!
//! One more feature, `fuzzing`, exposes internals to the fuzz targets; it is not for users and
//! has no stability promise.
//!
//! The core (always compiled): the layer, the plug-in traits and their implementations
//! ([`JwtClaimMapper`], [`CertificateClaimMapper`], [`DefaultAuthorizer`],
//! [`StaticKeyProvider`], ...) and the data types.
//!
//! Compression: the layer reads the first request message, so it must decompress whatever
//! the service behind it accepts. Enable the same encodings here as on tonic; a message in an
//! encoding not enabled here is refused with `UNIMPLEMENTED`, as tonic refuses it.
//!
//! Crypto provider: exactly one per build. With both `aws-lc-rs` and `ring`, this crate uses
//! aws-lc-rs, but rustls then has no single default provider for code that relies on it
//! (tonic's client TLS without a `tls-*` feature of its own): enable one. With neither, the process-wide defaults are used, which the application must install
//! (rustls's `CryptoProvider::install_default` and jsonwebtoken's); until then TLS configs
//! fail to build and every token signature fails to verify.
//!
//! ```toml
//! # A tonic server on ring, without the YAML configuration:
//! tonic-authz = { version = "0.1", default-features = false, features = ["jwks", "tls", "metrics", "gzip", "ring"] }
//! ```
#![doc = include_str!("../docs/security-model.md")]
#![doc = include_str!("../docs/configuration.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod access;
mod audit;
mod auth_info;
mod authorizer;
mod ca_fingerprint;
mod claim_mapper;
mod claims;
mod clock;
#[cfg(feature = "config")]
pub mod config;
mod crypto;
#[cfg(feature = "tls")]
mod duration;
mod error;
mod future;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod keys;
mod layer;
mod path_hash;
mod peer;
mod permission;
mod target;
mod temporal;
#[cfg(feature = "tls")]
pub mod tls;

pub use access::InvalidMethodPath;
pub use audit::{
    AUDIT_DROPPED, AUDIT_WRITTEN, AuditDecisions, AuditRecord, AuditSink, DEFAULT_AUDIT_QUEUE,
    JsonLinesAuditSink,
};
pub use auth_info::AuthInfo;
pub use authorizer::{
    Access, ApiAccess, Authorizer, DefaultAuthorizer, MethodAccess, NoopAuthorizer, Scope,
};
#[cfg(feature = "cedar")]
pub use authorizer::{CedarAuthorizer, CedarAuthorizerBuilder, CedarError, CedarErrorKind, Reload};
pub use ca_fingerprint::{CaFingerprint, CaFingerprintError};
#[cfg(feature = "config")]
pub use claim_mapper::{
    API_KEY_AUTH_TYPE, ApiKeyClaimMapper, ApiKeyClaimMapperBuilder, ApiKeyError, api_key_sha256,
};
pub use claim_mapper::{
    CERTIFICATE_AUTH_TYPE, CertificateClaimMapper, CertificateField, CertificateRule,
    CertificateRuleError, ClaimMapper, CombinedClaimMapper, JwtClaimMapper, JwtClaimMapperBuilder,
    NoopClaimMapper,
};
pub use claim_mapper::{IssuerError, TrustedIssuer, TrustedIssuerBuilder};
pub use claims::{Claims, Role};
pub use error::{BoxError, ClaimsError, ClaimsErrorKind};
pub use future::BoxFuture;
#[cfg(feature = "jwks")]
pub use keys::{
    DISCOVERY_PATH, DiscoveryKeyProvider, DiscoveryKeyProviderBuilder, JwksKeyProvider,
    JwksKeyProviderBuilder,
};
pub use keys::{
    JwtAlgorithm, KeyError, KeyErrorKind, StaticKeyProvider, TokenKeyProvider, VerificationKey,
};
pub use layer::DescriptorPoolError;
pub use layer::{Authz, AuthzLayer, AuthzLayerBuilder, CheckOutcome, ResponseFuture};
pub use layer::{Denial, DenialKind, DenialStyle};
pub use layer::{temporal_namespace_fields, temporal_request_fields};
#[cfg(feature = "tls")]
pub use peer::{PeerIdentity, peer_identity};
pub use peer::{TlsConnection, TlsSubject};
/// The descriptor types [`AuthzLayerBuilder`] and [`RequestMessage`] take and return.
pub use prost_reflect;
pub use target::{CallTarget, Decision, RequestMessage};
pub use temporal::{
    is_health_check_api, is_read_only_global_api, is_read_only_namespace_api, is_worker_api,
    worker_apis,
};
