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
//! reads all of it from a Temporal-shaped YAML file.
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
//! See `docs/security-model.md` for what is verified and what is not, and the
//! `tonic-authz-examples` crate for a secured Temporal Frontend, a non-Temporal service
//! protected through a descriptor pool, and custom mappers and authorizers.

mod access;
mod audit;
mod auth_info;
mod authorizer;
mod claim_mapper;
mod claims;
pub mod config;
mod duration;
mod error;
mod future;
#[doc(hidden)]
pub mod fuzzing;
mod keys;
mod layer;
mod peer;
mod permission;
mod target;
mod temporal;
pub mod tls;

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
pub use claim_mapper::{
    CERTIFICATE_AUTH_TYPE, CertificateClaimMapper, CertificateField, CertificateRule,
    CertificateRuleError, ClaimMapper, CombinedClaimMapper, JwtClaimMapper, JwtClaimMapperBuilder,
    NoopClaimMapper,
};
pub use claims::{Claims, Role};
pub use error::{BoxError, ClaimsError, ClaimsErrorKind};
pub use future::BoxFuture;
pub use keys::{
    JwksKeyProvider, JwksKeyProviderBuilder, JwtAlgorithm, KeyError, StaticKeyProvider,
    TokenKeyProvider, VerificationKey,
};
pub use layer::{
    Authz, AuthzLayer, AuthzLayerBuilder, CheckOutcome, DEFAULT_BODY_TIMEOUT,
    DEFAULT_MAX_MESSAGE_SIZE, ResponseFuture, ScanError, UNAUTHORIZED_MESSAGE, permission_denied,
    scan_string_field, scan_string_path, temporal_namespace_fields, temporal_request_fields,
};
pub use peer::{PeerIdentity, TlsConnection, TlsSubject, peer_identity};
pub use target::{CallTarget, Decision, RequestMessage};
pub use temporal::{
    is_health_check_api, is_read_only_global_api, is_read_only_namespace_api, is_worker_api,
    worker_apis,
};
