//! A public key (or, when explicitly allowed, an HMAC secret) that verifies token signatures,
//! and the error returned when one cannot be built.
//!
//! The key decides which algorithms it verifies (its type, curve and, for a JWK, its `alg`),
//! so a token can never pick an algorithm its key was not made for.

use std::error::Error as StdError;
use std::fmt;

use jsonwebtoken::{DecodingKey, DecodingKeyKind};

use crate::BoxError;
use crate::keys::algorithm::JwtAlgorithm;

/// Why a key, a key set or a key provider could not be built or loaded.
#[derive(Debug)]
pub struct KeyError {
    kind: KeyErrorKind,
    message: String,
    source: Option<BoxError>,
}

/// What kind of [`KeyError`] happened, for code that reacts differently (e.g. retries a
/// [`Fetch`](KeyErrorKind::Fetch) but not an [`InvalidKey`](KeyErrorKind::InvalidKey)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyErrorKind {
    /// A key (JWK, PEM, HMAC secret) is malformed, unsupported, or cannot verify the
    /// algorithm asked for.
    InvalidKey,
    /// A key-set document is not JSON or has no `keys` array.
    InvalidKeySet,
    /// A key-source URI is malformed or of an unsupported kind.
    InvalidSource,
    /// A key source could not be read: connection, timeout, HTTP status, size cap, file.
    Fetch,
    /// The machinery could not be set up (the HTTP client, the crypto provider).
    Setup,
}

impl KeyError {
    /// An [`InvalidKey`](KeyErrorKind::InvalidKey) error; [`with_kind`](Self::with_kind)
    /// says otherwise.
    pub(crate) fn new(message: impl Into<String>) -> KeyError {
        KeyError {
            kind: KeyErrorKind::InvalidKey,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_kind(mut self, kind: KeyErrorKind) -> KeyError {
        self.kind = kind;
        self
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> KeyError {
        self.source = Some(source.into());
        self
    }

    /// What kind of error this is.
    #[must_use]
    pub fn kind(&self) -> KeyErrorKind {
        self.kind
    }

    /// The message, without the source chain.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for KeyError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// The shape of a key, which bounds the algorithms it can verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyShape {
    Rsa,
    EcP256,
    EcP384,
    Ed25519,
    Hmac,
}

impl KeyShape {
    fn supports(self, alg: JwtAlgorithm) -> bool {
        use JwtAlgorithm as A;
        match self {
            KeyShape::Rsa => matches!(
                alg,
                A::RS256 | A::RS384 | A::RS512 | A::PS256 | A::PS384 | A::PS512
            ),
            KeyShape::EcP256 => alg == A::ES256,
            KeyShape::EcP384 => alg == A::ES384,
            KeyShape::Ed25519 => alg == A::EdDSA,
            KeyShape::Hmac => alg.is_hmac(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            KeyShape::Rsa => "RSA",
            KeyShape::EcP256 => "EC P-256",
            KeyShape::EcP384 => "EC P-384",
            KeyShape::Ed25519 => "Ed25519",
            KeyShape::Hmac => "HMAC",
        }
    }
}

/// A key that verifies token signatures.
///
/// Built from a JWK, a PEM public key or certificate, or (explicitly, see
/// [`insecure_hmac_secret`](VerificationKey::insecure_hmac_secret)) an HMAC secret. Which
/// algorithms it accepts follows from the key itself: RSA keys verify RS256–RS512 and
/// PS256–PS512, P-256 keys ES256, P-384 keys ES384, Ed25519 keys EdDSA, HMAC secrets HS256–HS512;
/// [`with_algorithm`](VerificationKey::with_algorithm) (or a JWK's `alg`) narrows it to one.
///
/// `Debug` never prints key material.
#[derive(Clone)]
pub struct VerificationKey {
    shape: KeyShape,
    pinned: Option<JwtAlgorithm>,
    key: DecodingKey,
}

impl VerificationKey {
    pub(crate) fn from_parts(shape: KeyShape, key: DecodingKey) -> VerificationKey {
        VerificationKey {
            shape,
            pinned: None,
            key,
        }
    }

    /// A public key from PEM: an RSA (`PUBLIC KEY` or `RSA PUBLIC KEY`), EC P-256/P-384 or
    /// Ed25519 public key, or an X.509 certificate carrying one.
    ///
    /// # Errors
    /// When the PEM holds no usable public key.
    pub fn from_pem(pem: &[u8]) -> Result<VerificationKey, KeyError> {
        if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            return Ok(VerificationKey::from_parts(KeyShape::Rsa, key));
        }
        if let Ok(key) = DecodingKey::from_ec_pem(pem) {
            // The decoded key is the uncompressed point: its length names the curve.
            let shape = match key.try_get_as_bytes().map(<[u8]>::len) {
                Ok(65) => KeyShape::EcP256,
                Ok(97) => KeyShape::EcP384,
                _ => return Err(KeyError::new("unsupported EC curve in PEM key")),
            };
            return Ok(VerificationKey::from_parts(shape, key));
        }
        if let Ok(key) = DecodingKey::from_ed_pem(pem) {
            return Ok(VerificationKey::from_parts(KeyShape::Ed25519, key));
        }
        Err(KeyError::new(
            "PEM data holds no RSA, EC P-256/P-384 or Ed25519 public key",
        ))
    }

    /// An HMAC shared secret (HS256/HS384/HS512).
    ///
    /// Insecure by nature: whoever can verify can also mint tokens. Use it only when the
    /// issuer and this server share the secret on purpose; the mapper also needs the HS
    /// algorithm in its allow-list. A secret shorter than 32 bytes is refused (JWA asks for a key at least as long as
    /// the hash output).
    ///
    /// # Errors
    /// When the secret is shorter than 32 bytes.
    pub fn insecure_hmac_secret(secret: &[u8]) -> Result<VerificationKey, KeyError> {
        if secret.len() < 32 {
            return Err(KeyError::new("HMAC secret must be at least 32 bytes"));
        }
        let key = DecodingKey::from_secret(secret)
            .map_err(|e| KeyError::new("invalid HMAC secret").with_source(e))?;
        Ok(VerificationKey::from_parts(KeyShape::Hmac, key))
    }

    /// Restricts the key to one algorithm.
    ///
    /// # Errors
    /// When the key cannot verify `alg` at all (e.g. ES256 on an RSA key).
    pub fn with_algorithm(mut self, alg: JwtAlgorithm) -> Result<VerificationKey, KeyError> {
        if !self.shape.supports(alg) {
            return Err(KeyError::new(format!(
                "{} key cannot verify {alg}",
                self.shape.name()
            )));
        }
        self.pinned = Some(alg);
        Ok(self)
    }

    /// Whether this key verifies signatures made with `alg`.
    #[must_use]
    pub fn supports(&self, alg: JwtAlgorithm) -> bool {
        self.shape.supports(alg) && self.pinned.is_none_or(|p| p == alg)
    }

    /// The key type for logs: `RSA`, `EC P-256`, `EC P-384`, `Ed25519` or `HMAC`.
    #[must_use]
    pub fn key_type(&self) -> &'static str {
        self.shape.name()
    }

    /// Checks `signature` over `message`. The caller has already checked
    /// [`supports`](Self::supports); a mismatch still fails closed.
    pub(crate) fn verify(&self, alg: JwtAlgorithm, message: &[u8], signature: &[u8]) -> bool {
        if !self.supports(alg) {
            return false;
        }
        let Some(provider) = crate::crypto::jwt_provider() else {
            // Fail closed: no signature can be checked in this build.
            tracing::error!("{}", crate::crypto::NO_PROVIDER);
            return false;
        };
        match (provider.verifier_factory)(&alg.to_jsonwebtoken(), &self.key) {
            Ok(verifier) => {
                jsonwebtoken::signature::Verifier::verify(&*verifier, message, &signature.to_vec())
                    .is_ok()
            }
            Err(_) => false,
        }
    }
}

impl PartialEq for VerificationKey {
    fn eq(&self, other: &VerificationKey) -> bool {
        self.shape == other.shape
            && self.pinned == other.pinned
            && match (self.key.kind(), other.key.kind()) {
                (DecodingKeyKind::SecretOrDer(a), DecodingKeyKind::SecretOrDer(b)) => a == b,
                (
                    DecodingKeyKind::RsaModulusExponent { n: n1, e: e1 },
                    DecodingKeyKind::RsaModulusExponent { n: n2, e: e2 },
                ) => n1 == n2 && e1 == e2,
                _ => false,
            }
    }
}

impl Eq for VerificationKey {}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("type", &self.shape.name())
            .field("algorithm", &self.pinned)
            .finish_non_exhaustive()
    }
}
