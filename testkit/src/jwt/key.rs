//! Signing keys made at run time with rcgen (over aws-lc-rs) or read from PEM: the private
//! half as a jsonwebtoken `EncodingKey`, the public half as PEM, raw bytes and a JWK.

use std::sync::OnceLock;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey};
use rcgen::{
    KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_ED25519, PKCS_RSA_SHA256,
    SignatureAlgorithm,
};
use serde_json::{Value, json};

use super::token::{alg_name, sign_raw};
use crate::Error;

/// A private key, its algorithm and its public half.
pub struct TestKey {
    /// The algorithm tokens signed by [`TestKey::sign`] use.
    pub alg: Algorithm,
    /// The private key, for jsonwebtoken.
    pub encoding: EncodingKey,
    /// The private key in PKCS#8 PEM.
    pub private_pem: String,
    /// The public key in SubjectPublicKeyInfo PEM.
    pub public_pem: String,
    /// The raw public key: the uncompressed point `0x04 || x || y` for EC keys, PKCS#1 DER
    /// for RSA, the 32 key bytes for Ed25519.
    pub public_raw: Vec<u8>,
    /// The public JWK without `kid` (as `Jwk::from_encoding_key` makes it, with `alg`);
    /// `Null` where jsonwebtoken cannot derive one (Ed25519).
    pub jwk: Value,
}

impl std::fmt::Debug for TestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key.
        f.debug_struct("TestKey")
            .field("alg", &self.alg)
            .field("public_pem", &self.public_pem)
            .finish_non_exhaustive()
    }
}

/// The rcgen key type that signs with `alg`.
fn key_type(alg: Algorithm) -> Result<&'static SignatureAlgorithm, Error> {
    match alg {
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::PS256 => Ok(&PKCS_RSA_SHA256),
        Algorithm::ES256 => Ok(&PKCS_ECDSA_P256_SHA256),
        Algorithm::ES384 => Ok(&PKCS_ECDSA_P384_SHA384),
        Algorithm::EdDSA => Ok(&PKCS_ED25519),
        _ => Err(Error::KeyType("an RSA, EC P-256, EC P-384 or Ed25519 key")),
    }
}

impl TestKey {
    /// A fresh key for `alg` (RSA-2048 for the RSA algorithms).
    ///
    /// # Errors
    ///
    /// `alg` is not an RSA, ECDSA or EdDSA algorithm, or the key cannot be made.
    pub fn generate(alg: Algorithm) -> Result<TestKey, Error> {
        let pair = KeyPair::generate_for(key_type(alg)?)?;
        TestKey::from_pair(&pair, alg)
    }

    /// A key for `alg` from a PKCS#8 PEM private key.
    ///
    /// # Errors
    ///
    /// The PEM does not parse, or holds a key of another type than `alg` needs.
    pub fn from_pem(pem: &str, alg: Algorithm) -> Result<TestKey, Error> {
        let pair = KeyPair::from_pem(pem)?;
        if !pair.is_compatible(key_type(alg)?) {
            return Err(Error::KeyType(match alg {
                Algorithm::ES256 => "an EC P-256 key",
                Algorithm::ES384 => "an EC P-384 key",
                Algorithm::EdDSA => "an Ed25519 key",
                _ => "an RSA key",
            }));
        }
        TestKey::from_pair(&pair, alg)
    }

    fn from_pair(pair: &KeyPair, alg: Algorithm) -> Result<TestKey, Error> {
        crate::crypto::install_defaults();
        let private_pem = pair.serialize_pem();
        let encoding = match alg {
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::PS256 => {
                EncodingKey::from_rsa_pem(private_pem.as_bytes())
            }
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(private_pem.as_bytes()),
            _ => EncodingKey::from_ed_pem(private_pem.as_bytes()),
        }?;
        // jsonwebtoken cannot derive a JWK from every private key (Ed25519); Null then.
        let jwk = match Jwk::from_encoding_key(&encoding, alg) {
            Ok(jwk) => serde_json::to_value(jwk).map_err(jsonwebtoken::errors::Error::from)?,
            Err(_) => Value::Null,
        };
        Ok(TestKey {
            alg,
            encoding,
            private_pem,
            public_pem: pair.public_key_pem(),
            public_raw: pair.public_key_raw().to_vec(),
            jwk,
        })
    }

    fn make(alg: Algorithm) -> TestKey {
        TestKey::generate(alg).expect("generate a test key")
    }

    /// A fresh RSA-2048 key for RS256.
    ///
    /// # Panics
    ///
    /// The key cannot be made (a broken test setup); so do the other constructors below.
    pub fn rsa() -> TestKey {
        TestKey::make(Algorithm::RS256)
    }

    /// A fresh EC P-256 key for ES256.
    pub fn p256() -> TestKey {
        TestKey::make(Algorithm::ES256)
    }

    /// A fresh EC P-384 key for ES384.
    pub fn p384() -> TestKey {
        TestKey::make(Algorithm::ES384)
    }

    /// A fresh Ed25519 key for EdDSA.
    pub fn ed25519() -> TestKey {
        TestKey::make(Algorithm::EdDSA)
    }

    /// The public JWK with `kid`.
    pub fn jwk_with_kid(&self, kid: &str) -> Value {
        let mut jwk = self.jwk.clone();
        jwk["kid"] = Value::String(kid.to_owned());
        jwk
    }

    /// The public JWK with `kid` and without `alg` (so the key serves every algorithm of its type).
    pub fn jwk_without_alg(&self, kid: &str) -> Value {
        let mut jwk = self.jwk_with_kid(kid);
        if let Some(obj) = jwk.as_object_mut() {
            obj.remove("alg");
        }
        jwk
    }

    /// Signs a token with this key's algorithm and a header of `alg` and `kid` only.
    ///
    /// # Panics
    ///
    /// Signing fails (a broken test setup).
    pub fn sign(&self, kid: &str, payload: &Value) -> String {
        self.sign_with(
            &self.alg,
            json!({ "alg": alg_name(self.alg), "kid": kid }),
            payload,
        )
    }

    /// Signs `header.payload` exactly as given, with `alg`.
    ///
    /// # Panics
    ///
    /// Signing fails (a broken test setup).
    pub fn sign_with(&self, alg: &Algorithm, header: Value, payload: &Value) -> String {
        sign_raw(&self.encoding, *alg, &header, payload)
    }
}

/// An RSA-2048 key, made once per process (generation is the slow part).
pub fn rsa() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::rsa)
}

/// A second RSA key, distinct from [`rsa`].
pub fn rsa2() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::rsa)
}

/// An EC P-256 key, made once per process.
pub fn p256() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::p256)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn a_pem_key_of_another_type_is_refused() {
        let ec = TestKey::p256();
        let again = TestKey::from_pem(&ec.private_pem, Algorithm::ES256).unwrap();
        assert_eq!(again.public_raw, ec.public_raw);
        assert_eq!(again.jwk, ec.jwk);
        let err = TestKey::from_pem(&ec.private_pem, Algorithm::ES384).unwrap_err();
        assert_eq!(err.to_string(), "the key is not an EC P-384 key");
        assert!(matches!(
            TestKey::from_pem("garbage", Algorithm::ES256),
            Err(Error::Certificate(_))
        ));
        assert!(matches!(
            TestKey::generate(Algorithm::HS256),
            Err(Error::KeyType(_))
        ));
    }
}
