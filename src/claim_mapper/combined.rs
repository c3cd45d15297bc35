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

/// `claims` merged into what earlier mappers gave.
fn merge(merged: &mut Option<Claims>, claims: Claims) {
    match merged.as_mut() {
        Some(m) => m.merge(&claims),
        None => *merged = Some(claims),
    }
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

    /// The mappers that run for these credentials, in the order they were added.
    fn applying<'s>(
        &'s self,
        auth_info: &AuthInfo,
    ) -> impl Iterator<Item = &'s Arc<dyn ClaimMapper>> {
        let has_token = !auth_info.auth_token.is_empty();
        let has_cert = auth_info.tls_subject.is_some() || auth_info.tls_connection.is_some();
        self.mappers
            .iter()
            .filter(move |(runs, _)| match runs {
                Runs::Always => true,
                Runs::WithToken => has_token,
                Runs::WithCertificate => has_cert,
            })
            .map(|(_, mapper)| mapper)
    }
}

impl ClaimMapper for CombinedClaimMapper {
    fn get_claims<'a>(
        &'a self,
        auth_info: &'a AuthInfo,
    ) -> BoxFuture<'a, Result<Claims, ClaimsError>> {
        Box::pin(async move {
            let mut merged: Option<Claims> = None;
            for mapper in self.applying(auth_info) {
                merge(&mut merged, mapper.get_claims(auth_info).await?);
            }
            Ok(merged.unwrap_or_default())
        })
    }

    /// The merged claims when every mapper that applies can answer without waiting. A mapper
    /// that cannot makes this `None`, and the layer then runs them all through
    /// [`get_claims`](ClaimMapper::get_claims), so the earlier ones answer twice (a cached
    /// token's hit is then counted twice); the answers are the same both times.
    fn get_claims_now(&self, auth_info: &AuthInfo) -> Option<Result<Claims, ClaimsError>> {
        let mut merged: Option<Claims> = None;
        for mapper in self.applying(auth_info) {
            match mapper.get_claims_now(auth_info)? {
                Ok(claims) => merge(&mut merged, claims),
                Err(e) => return Some(Err(e)),
            }
        }
        Some(Ok(merged.unwrap_or_default()))
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

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::{ClaimsErrorKind, NoopClaimMapper, Role, TlsSubject};

    /// A token mapper in the JWT mapper's shape: fails on a bad token.
    fn token_mapper(calls: Arc<AtomicUsize>) -> impl ClaimMapper {
        move |info: &AuthInfo| {
            calls.fetch_add(1, Ordering::SeqCst);
            let result = if info.auth_token == "Bearer good" {
                Ok(Claims::new()
                    .with_subject("alice")
                    .with_auth_type("jwt")
                    .with_namespace("billing", Role::READER))
            } else {
                Err(ClaimsError::new(ClaimsErrorKind::Signature, "bad token"))
            };
            async move { result }
        }
    }

    fn cert_mapper(calls: Arc<AtomicUsize>) -> impl ClaimMapper {
        move |_: &AuthInfo| {
            calls.fetch_add(1, Ordering::SeqCst);
            async {
                Ok(Claims::new()
                    .with_subject("worker-1")
                    .with_auth_type("certificate")
                    .with_namespace("billing", Role::WRITER)
                    .with_system(Role::WORKER))
            }
        }
    }

    fn info(token: &str, cert: bool) -> AuthInfo {
        let mut info = AuthInfo::with_token(token);
        if cert {
            info.tls_subject = Some(Arc::new(TlsSubject::default()));
        }
        info
    }

    #[tokio::test]
    async fn merges_the_mappers_whose_credentials_are_present() {
        let (t, c) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mapper = CombinedClaimMapper::new()
            .with_token_mapper(token_mapper(t.clone()))
            .with_certificate_mapper(cert_mapper(c.clone()));
        assert!(mapper.auth_info_required());

        let both = mapper.get_claims(&info("Bearer good", true)).await.unwrap();
        assert_eq!(both.subject(), "alice");
        assert_eq!(both.auth_type(), "jwt");
        assert_eq!(both.namespace_role("billing"), Role::READER | Role::WRITER);
        assert_eq!(both.system(), Role::WORKER);

        // Certificate only: the token mapper is skipped, not failed.
        let cert_only = mapper.get_claims(&info("", true)).await.unwrap();
        assert_eq!(cert_only.subject(), "worker-1");
        assert_eq!(cert_only.auth_type(), "certificate");
        assert_eq!(cert_only.namespace_role("billing"), Role::WRITER);

        // Token only.
        let token_only = mapper
            .get_claims(&info("Bearer good", false))
            .await
            .unwrap();
        assert_eq!(token_only.subject(), "alice");
        assert_eq!(token_only.system(), Role::UNDEFINED);

        // Nothing: empty claims.
        let none = mapper.get_claims(&info("", false)).await.unwrap();
        assert_eq!(none, Claims::new());
        assert_eq!((t.load(Ordering::SeqCst), c.load(Ordering::SeqCst)), (2, 2));
    }

    #[tokio::test]
    async fn answers_now_only_when_every_applying_mapper_can() {
        let certs = crate::CertificateClaimMapper::new(vec![crate::CertificateRule::new(
            crate::CertificateField::CommonName,
            "worker-1",
            ["billing:worker"],
        )])
        .unwrap();
        let t = Arc::new(AtomicUsize::new(0));
        let mapper = CombinedClaimMapper::new()
            .with_token_mapper(token_mapper(t.clone()))
            .with_certificate_mapper(certs);
        let mut cert = info("", true);
        cert.tls_subject = Some(Arc::new(TlsSubject {
            common_name: "worker-1".to_owned(),
            ..TlsSubject::default()
        }));
        // Certificate only: the certificate rules answer now, as `get_claims` does.
        let now = mapper.get_claims_now(&cert).unwrap().unwrap();
        assert_eq!(now, mapper.get_claims(&cert).await.unwrap());
        assert_eq!(now.namespace_role("billing"), Role::WORKER);
        // A token: the token mapper (a closure) can only answer by waiting, so nothing now,
        // and it was not run.
        let mut both = cert.clone();
        both.auth_token = "Bearer good".to_owned();
        assert!(mapper.get_claims_now(&both).is_none());
        assert_eq!(t.load(Ordering::SeqCst), 0);
        // Nothing applies: empty claims now.
        assert_eq!(
            mapper.get_claims_now(&info("", false)).unwrap().unwrap(),
            Claims::new()
        );
    }

    #[tokio::test]
    async fn a_present_but_bad_credential_denies() {
        let c = Arc::new(AtomicUsize::new(0));
        let mapper = CombinedClaimMapper::new()
            .with_token_mapper(token_mapper(Arc::new(AtomicUsize::new(0))))
            .with_certificate_mapper(cert_mapper(c.clone()));
        let err = mapper
            .get_claims(&info("Bearer bad", true))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ClaimsErrorKind::Signature);
        assert_eq!(err.to_string(), "bad token");
        // The first failure stops the chain.
        assert_eq!(c.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn always_mappers_decide_whether_auth_info_is_required() {
        let mapper = CombinedClaimMapper::new()
            .with_token_mapper(token_mapper(Arc::new(AtomicUsize::new(0))))
            .with_mapper(NoopClaimMapper);
        assert!(!mapper.auth_info_required());
        let claims = mapper.get_claims(&info("", false)).await.unwrap();
        assert_eq!(claims.system(), Role::ADMIN);
        assert!(CombinedClaimMapper::new().auth_info_required());
    }
}
