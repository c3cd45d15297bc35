//! The dev token issuer: an EC P-256 signing key kept in the dev directory, the JWK Set that
//! publishes its public half, and ES256 tokens in the shape Temporal's JWT claim mapper reads
//! (`sub`, `permissions: ["namespace:role", …]`, `iat`, `exp`, `iss`).
//!
//! The `iss` of the tokens a running dev Frontend prints is its embedded issuer's URL
//! (`http://127.0.0.1:<port>`), which the Frontend trusts through OpenID discovery; tokens
//! minted offline (`frontend token`, which cannot know that port) carry [`DEV_ISSUER`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::Algorithm;
use sha2::{Digest, Sha256};
use tonic_authz::Role;
use tonic_authz_testkit::jwt::{self, TestKey};

use super::{DevDir, DevError, files};

/// The `iss` of dev tokens minted without an issuer URL (`frontend token`); dev mode accepts
/// it beside its embedded issuer's URL.
pub const DEV_ISSUER: &str = "tonic-authz-dev";

/// The namespace whose permissions are system-wide (Temporal's `temporal-system`).
pub const SYSTEM_NAMESPACE: &str = "temporal-system";

/// The dev signing key and what is derived from it.
pub struct SigningKey {
    /// The key bound to its kid, which publishes the JWK and signs.
    inner: jwt::SigningKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key.
        f.debug_struct("SigningKey")
            .field("kid", &self.inner.kid())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads the signing key from the dev directory, making and saving one when there is
    /// none. An existing key that does not parse is an error, never silently replaced:
    /// replacing it would invalidate every token minted with it.
    ///
    /// # Errors
    ///
    /// The file cannot be read or written, or holds something other than an EC P-256 key.
    pub fn load_or_create(dir: &DevDir) -> Result<SigningKey, DevError> {
        let path = dir.signing_key();
        let pem = match files::read_optional(&path)? {
            Some(pem) => pem,
            None => {
                let key = TestKey::generate(Algorithm::ES256)
                    .map_err(|e| DevError::new("cannot generate a signing key").with_source(e))?;
                files::write(&path, &key.private_pem, true)?;
                key.private_pem
            }
        };
        SigningKey::from_pem(&pem).map_err(|e| {
            DevError::new(format!("{} is not a usable signing key", path.display())).with_source(e)
        })
    }

    /// A signing key from a PKCS#8 PEM EC P-256 private key.
    ///
    /// # Errors
    ///
    /// The PEM is not an EC P-256 private key.
    pub fn from_pem(pem: &str) -> Result<SigningKey, DevError> {
        let key = TestKey::from_pem(pem, Algorithm::ES256)
            .map_err(|e| DevError::new("cannot load the key").with_source(e))?;
        let public = &key.public_raw;
        if public.len() != 65 || public.first() != Some(&4) {
            return Err(DevError::new("unexpected EC public key encoding"));
        }
        // A key id derived from the public key: stable across restarts, new with a new key.
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(public)[..12]);
        Ok(SigningKey {
            inner: jwt::SigningKey::new(key, kid),
        })
    }

    /// The key id tokens carry in their header.
    pub fn kid(&self) -> &str {
        self.inner.kid()
    }

    /// The JWK Set (RFC 7517) publishing the public key.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [self.inner.jwk()] })
    }

    /// Mints an ES256 token for `request`.
    ///
    /// # Errors
    ///
    /// A permission is not `namespace:role` with a known role, or signing failed.
    pub fn mint(&self, request: &TokenRequest) -> Result<String, DevError> {
        for permission in &request.permissions {
            check_permission(permission)?;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| DevError::new("the system clock is before 1970").with_source(e))?;
        let iat = now.as_secs();
        let exp = iat.saturating_add(request.ttl.as_secs());
        let claims = serde_json::json!({
            "sub": request.subject,
            "iss": request.issuer.as_deref().unwrap_or(DEV_ISSUER),
            "iat": iat,
            "exp": exp,
            "permissions": request.permissions,
        });
        self.inner
            .try_sign(&claims)
            .map_err(|e| DevError::new("cannot sign the token").with_source(e))
    }
}

/// What a dev token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequest {
    /// The `sub` claim.
    pub subject: String,
    /// `namespace:role` entries; `temporal-system:<role>` is a system-wide role.
    pub permissions: Vec<String>,
    /// Time to expiry.
    pub ttl: Duration,
    /// The `iss` claim; `None` gives [`DEV_ISSUER`].
    pub issuer: Option<String>,
}

impl TokenRequest {
    /// A token for `subject` with `permissions`, valid for `ttl`.
    pub fn new<I, S>(subject: impl Into<String>, permissions: I, ttl: Duration) -> TokenRequest
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        TokenRequest {
            subject: subject.into(),
            permissions: permissions.into_iter().map(Into::into).collect(),
            ttl,
            issuer: None,
        }
    }

    /// The same request with `iss` set to `issuer` (the embedded issuer's URL).
    #[must_use]
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> TokenRequest {
        self.issuer = Some(issuer.into());
        self
    }
}

/// Refuses what the claim mapper would silently ignore, so a typo fails loudly here.
fn check_permission(permission: &str) -> Result<(), DevError> {
    let valid = permission.split_once(':').is_some_and(|(namespace, role)| {
        !namespace.is_empty() && Role::from_permission_name(role) != Role::UNDEFINED
    });
    if valid {
        Ok(())
    } else {
        Err(DevError::new(format!(
            "invalid permission {permission:?}: expected NAMESPACE:ROLE with ROLE one of read, write, admin, worker"
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use std::sync::Arc;

    use tonic_authz::{JwtClaimMapper, StaticKeyProvider};

    use super::*;

    #[tokio::test]
    async fn minted_tokens_verify_against_the_published_jwks() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DevDir::new(tmp.path());
        let key = SigningKey::load_or_create(&dir).unwrap();
        // Reloading gives the same key (same kid), so old tokens stay valid.
        assert_eq!(SigningKey::load_or_create(&dir).unwrap().kid(), key.kid());

        let keys = StaticKeyProvider::from_jwks(&key.jwks().to_string()).unwrap();
        let mapper = JwtClaimMapper::builder(Arc::new(keys))
            .issuer(DEV_ISSUER)
            .build();
        let token = key
            .mint(&TokenRequest::new(
                "alice",
                ["default:read", "temporal-system:admin"],
                Duration::from_secs(60),
            ))
            .unwrap();
        let claims = mapper
            .claims_for_token(&format!("Bearer {token}"), "")
            .await
            .unwrap();
        assert_eq!(claims.subject(), "alice");
        assert_eq!(claims.namespace_role("default"), Role::READER);
        assert_eq!(claims.system(), Role::ADMIN);

        // A token signed by another key is refused.
        let other = SigningKey::load_or_create(&DevDir::new(tmp.path().join("other"))).unwrap();
        let forged = other
            .mint(&TokenRequest::new(
                "mallory",
                ["default:admin"],
                Duration::from_secs(60),
            ))
            .unwrap();
        let err = mapper
            .claims_for_token(&format!("Bearer {forged}"), "")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), tonic_authz::ClaimsErrorKind::UnknownKey);
    }

    #[test]
    fn bad_permissions_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let key = SigningKey::load_or_create(&DevDir::new(tmp.path())).unwrap();
        for bad in ["default", "default:owner", ":read", "default:"] {
            let err = key
                .mint(&TokenRequest::new("a", [bad], Duration::from_secs(1)))
                .unwrap_err();
            assert!(err.to_string().starts_with("invalid permission"), "{err}");
        }
    }

    #[test]
    fn a_corrupt_key_file_is_an_error_not_a_new_key() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DevDir::new(tmp.path());
        std::fs::write(dir.signing_key(), "garbage").unwrap();
        let err = SigningKey::load_or_create(&dir).unwrap_err();
        assert!(
            err.to_string().contains("is not a usable signing key"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.signing_key()).unwrap(),
            "garbage"
        );
    }
}
