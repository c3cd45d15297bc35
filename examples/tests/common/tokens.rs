//! JWTs for the end-to-end tests: an ES256 issuer whose public key the layer trusts (through a
//! `StaticKeyProvider`), and hand-made tokens for what no honest issuer signs.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tonic_authz::{StaticKeyProvider, VerificationKey};

/// An ES256 signing key (P-256, made at test time) and the `kid` it signs under.
pub struct Issuer {
    pub kid: String,
    pub public_pem: String,
    pub private_pem: String,
    encoding: EncodingKey,
}

impl Issuer {
    pub fn new(kid: &str) -> Issuer {
        let pair = rcgen::KeyPair::generate().expect("P-256 key");
        let private_pem = pair.serialize_pem();
        let encoding = EncodingKey::from_ec_pem(private_pem.as_bytes()).expect("PKCS#8 EC key");
        Issuer {
            kid: kid.to_owned(),
            public_pem: pair.public_key_pem(),
            private_pem,
            encoding,
        }
    }

    /// A key provider that trusts this issuer's public key under its `kid`.
    pub fn provider(&self) -> StaticKeyProvider {
        StaticKeyProvider::new().with_key(
            self.kid.clone(),
            VerificationKey::from_pem(self.public_pem.as_bytes()).expect("public key PEM"),
        )
    }

    /// `payload` signed with ES256 under this issuer's `kid`.
    pub fn sign(&self, payload: &Value) -> String {
        self.sign_with_kid(payload, &self.kid.clone())
    }

    /// The ES256 signature (base64url) over any signing input.
    pub fn sign_input(&self, signing_input: &str) -> String {
        jsonwebtoken::crypto::sign(signing_input.as_bytes(), &self.encoding, Algorithm::ES256)
            .expect("signs")
    }

    /// `payload` signed with ES256 under any `kid`.
    pub fn sign_with_kid(&self, payload: &Value, kid: &str) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, payload, &self.encoding).expect("signs")
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// A payload for `sub` with `permissions`, valid for an hour.
pub fn payload(sub: &str, permissions: &[&str]) -> Value {
    json!({ "sub": sub, "exp": now() + 3600, "iat": now() - 10, "permissions": permissions })
}

/// base64url without padding, as JWT segments are.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token assembled from parts, signed by nobody.
pub fn assemble(header: &Value, payload: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes()),
        b64(signature)
    )
}

/// The three segments of a compact token.
pub fn segments(token: &str) -> (String, String, String) {
    let mut parts = token.split('.').map(str::to_owned);
    let (Some(h), Some(p), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("not a compact JWT");
    };
    (h, p, s)
}
