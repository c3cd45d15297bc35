//! A signing key bound to its key id: the JWK Set document that publishes its public half,
//! and well-formed tokens (jsonwebtoken's `encode`, header `typ`, `alg` and `kid`) signed with
//! its private half.

use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};

use super::key::TestKey;
use crate::Error;

/// A key and the `kid` its tokens carry.
#[derive(Debug)]
pub struct SigningKey {
    key: TestKey,
    kid: String,
    jwk: Value,
    jwks: String,
}

impl SigningKey {
    /// Binds `key` to `kid`.
    pub fn new(key: TestKey, kid: impl Into<String>) -> SigningKey {
        let kid = kid.into();
        let mut jwk = key.jwk_with_kid(&kid);
        jwk["use"] = Value::String("sig".to_owned());
        let jwks = json!({ "keys": [&jwk] }).to_string();
        SigningKey {
            key,
            kid,
            jwk,
            jwks,
        }
    }

    /// A fresh EC P-256 (ES256) key named `kid`.
    ///
    /// # Panics
    ///
    /// The key cannot be made (a broken test setup).
    pub fn es256(kid: &str) -> SigningKey {
        SigningKey::new(TestKey::p256(), kid)
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key.
    pub fn key(&self) -> &TestKey {
        &self.key
    }

    /// The public JWK as published: with `kid`, `alg` and `use: sig`.
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// The JWK Set document holding the public key (with `kid`, `alg` and `use: sig`).
    pub fn jwks(&self) -> &str {
        &self.jwks
    }

    /// A token with these claims, signed with this key.
    ///
    /// # Panics
    ///
    /// Signing fails (a broken test setup).
    pub fn sign(&self, claims: &Value) -> String {
        self.try_sign(claims).expect("sign a test token")
    }

    /// A token with these claims, signed with this key.
    ///
    /// # Errors
    ///
    /// jsonwebtoken cannot sign with this key.
    pub fn try_sign(&self, claims: &Value) -> Result<String, Error> {
        let mut header = Header::new(self.key.alg);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.key.encoding)?)
    }

    /// The algorithm its tokens are signed with.
    pub fn alg(&self) -> Algorithm {
        self.key.alg
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn the_jwks_publishes_the_key_under_its_kid() {
        let key = SigningKey::es256("k1");
        let doc: Value = serde_json::from_str(key.jwks()).unwrap();
        let jwk = &doc["keys"][0];
        assert_eq!(jwk["kid"], "k1");
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["alg"], "ES256");
        assert_eq!(jwk["use"], "sig");

        let token = key.sign(&json!({ "sub": "a" }));
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some("k1"));
        assert_eq!(header.alg, Algorithm::ES256);
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(key.jwks()).unwrap();
        let decoding = jsonwebtoken::DecodingKey::from_jwk(&set.keys[0]).unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<Value>(&token, &decoding, &validation).unwrap();
        assert_eq!(data.claims["sub"], "a");
        // Another key's token does not verify against this set.
        let other = SigningKey::es256("k1").sign(&json!({ "sub": "a" }));
        assert!(jsonwebtoken::decode::<Value>(&other, &decoding, &validation).is_err());
    }
}
