//! Test-time signing keys and a token builder for the JWT tests: keys are generated fresh
//! (rcgen over aws-lc-rs), tokens are assembled by hand so any header or payload, however
//! malformed, can be produced, and signed with jsonwebtoken.
#![allow(dead_code)] // each test binary uses a different subset

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey};
use rcgen::{
    KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_ED25519, PKCS_RSA_SHA256,
};
use serde_json::{Value, json};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A private key, its algorithm and its public half.
pub(crate) struct TestKey {
    pub(crate) alg: Algorithm,
    pub(crate) encoding: EncodingKey,
    pub(crate) public_pem: String,
    /// The public JWK without `kid` (as `Jwk::from_encoding_key` makes it, with `alg`).
    pub(crate) jwk: Value,
}

impl TestKey {
    fn generate(rcgen_alg: &'static rcgen::SignatureAlgorithm, alg: Algorithm) -> TestKey {
        let pair = KeyPair::generate_for(rcgen_alg).expect("generate key");
        let pem = pair.serialize_pem();
        let encoding = match alg {
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::PS256 => {
                EncodingKey::from_rsa_pem(pem.as_bytes())
            }
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem.as_bytes()),
            _ => EncodingKey::from_ed_pem(pem.as_bytes()),
        }
        .expect("encoding key");
        // jsonwebtoken cannot derive a JWK from every private key (Ed25519); Null then.
        let jwk = Jwk::from_encoding_key(&encoding, alg).map_or(Value::Null, |jwk| {
            serde_json::to_value(jwk).expect("jwk json")
        });
        TestKey {
            alg,
            encoding,
            public_pem: pair.public_key_pem(),
            jwk,
        }
    }

    pub(crate) fn rsa() -> TestKey {
        TestKey::generate(&PKCS_RSA_SHA256, Algorithm::RS256)
    }

    pub(crate) fn p256() -> TestKey {
        TestKey::generate(&PKCS_ECDSA_P256_SHA256, Algorithm::ES256)
    }

    pub(crate) fn p384() -> TestKey {
        TestKey::generate(&PKCS_ECDSA_P384_SHA384, Algorithm::ES384)
    }

    pub(crate) fn ed25519() -> TestKey {
        TestKey::generate(&PKCS_ED25519, Algorithm::EdDSA)
    }

    /// The public JWK with `kid`.
    pub(crate) fn jwk_with_kid(&self, kid: &str) -> Value {
        let mut jwk = self.jwk.clone();
        jwk["kid"] = Value::String(kid.to_owned());
        jwk
    }

    /// The public JWK with `kid` and without `alg` (so the key serves every algorithm of its type).
    pub(crate) fn jwk_without_alg(&self, kid: &str) -> Value {
        let mut jwk = self.jwk_with_kid(kid);
        if let Some(obj) = jwk.as_object_mut() {
            obj.remove("alg");
        }
        jwk
    }

    /// Signs a token with this key's algorithm; `header` gets `alg` and `kid` unless given.
    pub(crate) fn sign(&self, kid: &str, payload: &Value) -> String {
        self.sign_with(
            &self.alg,
            json!({ "alg": alg_name(self.alg), "kid": kid }),
            payload,
        )
    }

    /// Signs `header.payload` exactly as given, with `alg`.
    pub(crate) fn sign_with(&self, alg: &Algorithm, header: Value, payload: &Value) -> String {
        sign_raw(&self.encoding, *alg, &header, payload)
    }
}

pub(crate) fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::PS256 => "PS256",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::EdDSA => "EdDSA",
        Algorithm::HS256 => "HS256",
        _ => "other",
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn b64_json(value: &Value) -> String {
    b64(&serde_json::to_vec(value).expect("json"))
}

/// `b64(header).b64(payload).signature`, signed with `key` and `alg`.
pub(crate) fn sign_raw(
    key: &EncodingKey,
    alg: Algorithm,
    header: &Value,
    payload: &Value,
) -> String {
    let input = format!("{}.{}", b64_json(header), b64_json(payload));
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).expect("sign");
    format!("{input}.{signature}")
}

/// RSA-2048 key, generated once per test binary (generation is the slow part).
pub(crate) fn rsa() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::rsa)
}

/// A second RSA key.
pub(crate) fn rsa2() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::rsa)
}

/// EC P-256 key, generated once per test binary.
pub(crate) fn p256() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::p256)
}

/// A fixed "now" for deterministic time checks.
pub(crate) const NOW: u64 = 1_800_000_000;

pub(crate) fn fixed_clock() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// The payload Temporal's test generator makes: `permissions`, `exp` = now + 1h, `iss`
/// `test`, `aud` `["test-audience"]`, `sub` `test-user`.
pub(crate) fn temporal_payload(now: u64, permissions: &[&str]) -> Value {
    json!({
        "permissions": permissions,
        "exp": now + 3600,
        "iss": "test",
        "aud": ["test-audience"],
        "sub": "test-user",
    })
}

/// A JWK Set document with these keys.
pub(crate) fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}
