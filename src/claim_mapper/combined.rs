//! [`CombinedClaimMapper`]: several claim mappers (say JWT and client certificate) merged into
//! one, so a deployment can accept either credential or both.
//!
//! # Policy
//! - A mapper added with [`with_token_mapper`](CombinedClaimMapper::with_token_mapper) runs
//!   only when the call carries a token; one added with
//!   [`with_certificate_mapper`](CombinedClaimMapper::with_certificate_mapper) only when it
//!   carries a verified client certificate; one added with
//!   [`with_mapper`](CombinedClaimMapper::with_mapper) always. A mapper whose credential is
//!   absent is skipped, so a certificate-only call is not refused by the JWT mapper.
//! - Any mapper that runs and fails denies the call: a bad token is never rescued by a good
//!   certificate (a present but invalid credential is a red flag, not a fallback case).
//! - The claims of the mappers that ran are merged in the order they were added
//!   ([`Claims::merge`]): roles are OR'ed; subject and `auth_type` come from the first mapper
//!   that set them. Extensions are those of the first mapper that ran.
//!
//! # Example
//! ```
//! use tonic_authz::{CertificateClaimMapper, CertificateField, CertificateRule, CombinedClaimMapper};
//!
//! let certs = CertificateClaimMapper::new(vec![
//!     CertificateRule::new(CertificateField::CommonName, "worker-1", ["billing:worker"]),
//! ]).unwrap();
//! let token_mapper = |_info: &tonic_authz::AuthInfo| async {
//!     Ok::<_, tonic_authz::ClaimsError>(tonic_authz::Claims::new())
//! };
//! let mapper = CombinedClaimMapper::new()
//!     .with_token_mapper(token_mapper)
//!     .with_certificate_mapper(certs);
//! # let _ = mapper;
//! ```

use std::fmt;
use std::sync::Arc;

use crate::{AuthInfo, BoxFuture, ClaimMapper, Claims, ClaimsError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Runs {
    Always,
    WithToken,
    WithCertificate,
}

/// Several claim mappers merged into one; see the module docs for the policy.
#[derive(Clone, Default)]
pub struct CombinedClaimMapper {
    mappers: Vec<(Runs, Arc<dyn ClaimMapper>)>,
}

impl fmt::Debug for CombinedClaimMapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CombinedClaimMapper")
            .field(
                "mappers",
                &self.mappers.iter().map(|(r, _)| r).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl CombinedClaimMapper {
    /// An empty combination (returns empty claims until mappers are added).
    #[must_use]
    pub fn new() -> CombinedClaimMapper {
        CombinedClaimMapper::default()
    }

    /// Adds a mapper that runs only when the call carries a token (non-empty auth header).
    #[must_use]
    pub fn with_token_mapper(mut self, mapper: impl ClaimMapper) -> CombinedClaimMapper {
        self.mappers.push((Runs::WithToken, Arc::new(mapper)));
        self
    }

    /// Adds a mapper that runs only when the call carries a verified client certificate.
    #[must_use]
    pub fn with_certificate_mapper(mut self, mapper: impl ClaimMapper) -> CombinedClaimMapper {
        self.mappers.push((Runs::WithCertificate, Arc::new(mapper)));
        self
    }

    /// Adds a mapper that runs on every call it is given.
    #[must_use]
    pub fn with_mapper(mut self, mapper: impl ClaimMapper) -> CombinedClaimMapper {
        self.mappers.push((Runs::Always, Arc::new(mapper)));
        self
    }
}

impl ClaimMapper for CombinedClaimMapper {
    fn get_claims<'a>(
        &'a self,
        auth_info: &'a AuthInfo,
    ) -> BoxFuture<'a, Result<Claims, ClaimsError>> {
        Box::pin(async move {
            let has_token = !auth_info.auth_token.is_empty();
            let has_cert = auth_info.tls_subject.is_some() || auth_info.tls_connection.is_some();
            let mut merged: Option<Claims> = None;
            for (runs, mapper) in &self.mappers {
                let applies = match runs {
                    Runs::Always => true,
                    Runs::WithToken => has_token,
                    Runs::WithCertificate => has_cert,
                };
                if !applies {
                    continue;
                }
                let claims = mapper.get_claims(auth_info).await?;
                match merged.as_mut() {
                    Some(m) => m.merge(&claims),
                    None => merged = Some(claims),
                }
            }
            Ok(merged.unwrap_or_default())
        })
    }

    /// True unless an always-running mapper works without credentials: token and certificate
    /// mappers have nothing to do when there are none.
    fn auth_info_required(&self) -> bool {
        self.mappers
            .iter()
            .filter(|(runs, _)| *runs == Runs::Always)
            .all(|(_, m)| m.auth_info_required())
    }
}
