//! The [`ClaimMapper`] plug-in point: turn a caller's credentials ([`AuthInfo`]) into
//! [`Claims`], plus Temporal's no-op mapper.
//!
//! # Example
//! ```
//! use tonic_authz::{AuthInfo, ClaimMapper, Claims, ClaimsError, Role};
//!
//! // Any closure over the auth info is a claim mapper.
//! let mapper = |info: &AuthInfo| {
//!     let is_ops = info.tls_subject.as_ref().is_some_and(|s| s.common_name == "ops");
//!     async move {
//!         Ok::<_, ClaimsError>(if is_ops { Claims::system_admin() } else { Claims::new() })
//!     }
//! };
//! fn assert_mapper<M: ClaimMapper>(_: &M) {}
//! assert_mapper(&mapper);
//! ```

#[cfg(feature = "config")]
mod api_key;
mod certificate;
mod combined;
pub(crate) mod jwt;

#[cfg(all(feature = "config", feature = "fuzzing"))]
pub(crate) use api_key::parse_key_file;
#[cfg(feature = "config")]
pub use api_key::{
    API_KEY_AUTH_TYPE, ApiKeyClaimMapper, ApiKeyClaimMapperBuilder, ApiKeyError, api_key_sha256,
};
pub use certificate::{
    CERTIFICATE_AUTH_TYPE, CertificateClaimMapper, CertificateField, CertificateRule,
    CertificateRuleError,
};
pub use combined::CombinedClaimMapper;

use std::future::Future;
use std::sync::{Arc, OnceLock};

pub use jwt::{
    IssuerError, JwtClaimMapper, JwtClaimMapperBuilder, TrustedIssuer, TrustedIssuerBuilder,
};

use crate::{AuthInfo, BoxFuture, Claims, ClaimsError};

/// Maps credentials to claims (Temporal's `ClaimMapper`).
pub trait ClaimMapper: Send + Sync + 'static {
    /// The caller's claims. An error denies the call with the generic denial.
    fn get_claims<'a>(
        &'a self,
        auth_info: &'a AuthInfo,
    ) -> BoxFuture<'a, Result<Claims, ClaimsError>>;

    /// The caller's claims when they can be had without waiting (a token verified before, a
    /// certificate rule, a key table lookup), or `None` when only
    /// [`get_claims`](Self::get_claims) can answer. The layer asks this first and awaits
    /// `get_claims` only on `None`, which saves a boxed future on most calls. An answer must
    /// be the one `get_claims` would give, and `None` must leave nothing half done: the layer
    /// then calls `get_claims` with the same auth info. Defaults to `None`.
    fn get_claims_now(&self, auth_info: &AuthInfo) -> Option<Result<Claims, ClaimsError>> {
        let _ = auth_info;
        None
    }

    /// Whether the mapper needs credentials to run. When `true` (the default, as in Temporal)
    /// and a call carries neither a token nor a verified client certificate, the mapper is not
    /// called and the authorizer sees no claims.
    fn auth_info_required(&self) -> bool {
        true
    }
}

impl<F, Fut> ClaimMapper for F
where
    F: Fn(&AuthInfo) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Claims, ClaimsError>> + Send + 'static,
{
    fn get_claims<'a>(
        &'a self,
        auth_info: &'a AuthInfo,
    ) -> BoxFuture<'a, Result<Claims, ClaimsError>> {
        Box::pin(self(auth_info))
    }
}

impl<M: ClaimMapper + ?Sized> ClaimMapper for Arc<M> {
    fn get_claims<'a>(
        &'a self,
        auth_info: &'a AuthInfo,
    ) -> BoxFuture<'a, Result<Claims, ClaimsError>> {
        (**self).get_claims(auth_info)
    }

    fn get_claims_now(&self, auth_info: &AuthInfo) -> Option<Result<Claims, ClaimsError>> {
        (**self).get_claims_now(auth_info)
    }

    fn auth_info_required(&self) -> bool {
        (**self).auth_info_required()
    }
}

/// Makes everyone system admin and needs no credentials (Temporal's no-op claim mapper,
/// selected by `claimMapper: noop`).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopClaimMapper;

impl ClaimMapper for NoopClaimMapper {
    fn get_claims<'a>(
        &'a self,
        _auth_info: &'a AuthInfo,
    ) -> BoxFuture<'a, Result<Claims, ClaimsError>> {
        Box::pin(std::future::ready(Ok(admin())))
    }

    fn get_claims_now(&self, _auth_info: &AuthInfo) -> Option<Result<Claims, ClaimsError>> {
        Some(Ok(admin()))
    }

    fn auth_info_required(&self) -> bool {
        false
    }
}

/// The no-op mapper's claims: one shared value, so the per-call cost is a reference-count
/// increment.
fn admin() -> Claims {
    static ADMIN: OnceLock<Claims> = OnceLock::new();
    ADMIN.get_or_init(Claims::system_admin).clone()
}
