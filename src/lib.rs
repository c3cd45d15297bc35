//! Temporal-style authentication and authorization for any tonic gRPC server, as one tower
//! layer.
//!
//! A [`ClaimMapper`] turns the caller's credentials ([`AuthInfo`]: bearer token, verified
//! client certificate) into [`Claims`]; an [`Authorizer`] allows or denies the call from those
//! claims and the [`CallTarget`] (the gRPC method and the namespace read from the request).
//! Temporal's defaults ship built in: [`DefaultAuthorizer`] with Temporal's table of which API
//! needs which role, and the no-op pair [`NoopAuthorizer`] / [`NoopClaimMapper`].

mod auth_info;
mod authorizer;
mod claim_mapper;
mod claims;
pub mod config;
mod error;
mod future;
mod keys;
mod layer;
mod target;
pub mod tls;

pub use auth_info::AuthInfo;
pub use authorizer::{
    Access, ApiAccess, Authorizer, DefaultAuthorizer, MethodAccess, NoopAuthorizer, Scope,
    is_health_check_api, is_read_only_global_api, is_read_only_namespace_api,
};
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
    Authz, AuthzLayer, AuthzLayerBuilder, DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_MESSAGE_SIZE,
    ResponseFuture, ScanError, UNAUTHORIZED_MESSAGE, permission_denied, scan_string_field,
    temporal_namespace_fields,
};
pub use target::{CallTarget, Decision, RequestMessage};
