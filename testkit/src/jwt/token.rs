//! Tokens assembled by hand: base64url parts, a signature from jsonwebtoken's crypto, and
//! the payload and JWK Set shapes the tests use, so any header or payload, however
//! malformed, can be produced.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

/// The `alg` header value of `alg`.
pub fn alg_name(alg: Algorithm) -> &'static str {
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

/// Unpadded base64url, as JWTs encode their parts.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Unpadded base64url of `value`'s JSON text.
pub fn b64_json(value: &Value) -> String {
    b64(value.to_string().as_bytes())
}

/// `b64(header).b64(payload).signature`, signed with `key` and `alg`.
///
/// # Panics
///
/// jsonwebtoken cannot sign with this key and algorithm (a broken test setup).
pub fn sign_raw(key: &EncodingKey, alg: Algorithm, header: &Value, payload: &Value) -> String {
    let input = format!("{}.{}", b64_json(header), b64_json(payload));
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).expect("sign");
    format!("{input}.{signature}")
}

/// The payload Temporal's test generator makes: `permissions`, `exp` = now + 1h, `iss`
/// `test`, `aud` `["test-audience"]`, `sub` `test-user`.
pub fn temporal_payload(now: u64, permissions: &[&str]) -> Value {
    json!({
        "permissions": permissions,
        "exp": now + 3600,
        "iss": "test",
        "aud": ["test-audience"],
        "sub": "test-user",
    })
}

/// A JWK Set document with these keys.
pub fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}
