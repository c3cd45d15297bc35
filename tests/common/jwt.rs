//! A JWT signing key made at test time (ES256 on P-256, with rcgen): its public half as a JWK
//! Set document, its private half signing tokens.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;

/// An ES256 signing key with a key id.
pub struct SigningKey {
    kid: String,
    encoding: jsonwebtoken::EncodingKey,
    jwks: String,
}

impl SigningKey {
    /// A fresh P-256 key named `kid`.
    pub fn es256(kid: &str) -> SigningKey {
        let key = rcgen::KeyPair::generate().unwrap();
        let point = key.public_key_raw();
        assert_eq!(point.len(), 65, "an uncompressed P-256 point");
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let jwks = serde_json::json!({"keys": [{
            "kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
            "x": b64(&point[1..33]), "y": b64(&point[33..]),
        }]});
        SigningKey {
            kid: kid.to_owned(),
            encoding: jsonwebtoken::EncodingKey::from_ec_pem(key.serialize_pem().as_bytes())
                .unwrap(),
            jwks: jwks.to_string(),
        }
    }

    /// The JWK Set document holding the public key.
    pub fn jwks(&self) -> &str {
        &self.jwks
    }

    /// A token with these claims, signed with this key.
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

/// Seconds since the Unix epoch, for `iat` / `exp`.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
