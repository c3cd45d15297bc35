//! JWK and JWK Set decoding (RFC 7517/7518/8037), key by key.
//!
//! Unlike Temporal (where one undecodable key fails the whole document), a key this crate
//! cannot use is skipped with a warning and the rest of the set still loads. A key is usable
//! when its `use` (if any) is `sig`, its `key_ops` (if any) include `verify`, its `alg` (if
//! any) is one this crate verifies and fits the key, and its material is well formed. Symmetric
//! (`oct`) keys are never taken from a key set.

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use jsonwebtoken::DecodingKey;
use serde_json::Value;

use crate::keys::algorithm::JwtAlgorithm;
use crate::keys::key::{KeyError, KeyErrorKind, KeyShape, VerificationKey};

/// JWK members are base64url; tolerate padding, which some issuers emit.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const MIN_RSA_BITS: usize = 2048;

/// Keys decoded from one JWK Set document.
#[derive(Debug, Default)]
pub(crate) struct DecodedSet {
    /// `(kid, key)` in document order; a key without `kid` is under `""`.
    pub(crate) keys: Vec<(String, VerificationKey)>,
    /// How many keys were skipped.
    pub(crate) skipped: usize,
}

// The JWK constructor lives here, beside the JWK decoder, so that `key.rs` (the key type)
// depends on nothing in this file and the dependency runs one way: JWK decoding uses keys.
impl VerificationKey {
    /// A public key from one JWK (JSON text), honouring its `alg`, `use` and `key_ops`.
    ///
    /// # Errors
    /// When the JSON is not a JWK this crate can use (see [`JwksKeyProvider`](crate::JwksKeyProvider)
    /// for what is accepted).
    pub fn from_jwk(json: &str) -> Result<VerificationKey, KeyError> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| KeyError::new("JWK is not valid JSON").with_source(e))?;
        parse_jwk(&value).map(|(_, key)| key)
    }
}

/// Decodes a JWK Set. The document must be a JSON object with a `keys` array; each unusable
/// key is skipped with a warning naming `source` and the reason.
pub(crate) fn parse_jwks(bytes: &[u8], source: &str) -> Result<DecodedSet, KeyError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| {
        KeyError::new(format!("{source}: key set is not valid JSON"))
            .with_kind(KeyErrorKind::InvalidKeySet)
            .with_source(e)
    })?;
    let Some(keys) = doc.get("keys").and_then(Value::as_array) else {
        return Err(
            KeyError::new(format!("{source}: key set has no \"keys\" array"))
                .with_kind(KeyErrorKind::InvalidKeySet),
        );
    };
    let mut set = DecodedSet::default();
    for (index, jwk) in keys.iter().enumerate() {
        match parse_jwk(jwk) {
            Ok(entry) => set.keys.push(entry),
            Err(e) => {
                set.skipped += 1;
                tracing::warn!(source, index, reason = %e, "skipping unusable key in key set");
            }
        }
    }
    Ok(set)
}

/// Decodes one JWK into its `kid` (or `""`) and key.
pub(crate) fn parse_jwk(jwk: &Value) -> Result<(String, VerificationKey), KeyError> {
    let Some(obj) = jwk.as_object() else {
        return Err(KeyError::new("key is not a JSON object"));
    };
    let kid = match obj.get("kid") {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(KeyError::new("\"kid\" is not a string")),
    };
    let member = |name: &str| -> Result<Option<&str>, KeyError> {
        match obj.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(KeyError::new(format!("\"{name}\" is not a string"))),
        }
    };
    if let Some(key_use) = member("use")?
        && key_use != "sig"
    {
        return Err(KeyError::new(format!("key use {key_use:?} is not \"sig\"")));
    }
    if let Some(ops) = obj.get("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return Err(KeyError::new("key_ops does not include \"verify\""));
        }
    }
    let alg = match member("alg")? {
        None => None,
        Some(name) => Some(
            JwtAlgorithm::from_name(name)
                .ok_or_else(|| KeyError::new(format!("unsupported key algorithm {name:?}")))?,
        ),
    };
    let required = |name: &str| -> Result<Vec<u8>, KeyError> {
        let text = member(name)?.ok_or_else(|| KeyError::new(format!("missing \"{name}\"")))?;
        B64URL
            .decode(text)
            .map_err(|e| KeyError::new(format!("\"{name}\" is not base64url")).with_source(e))
    };
    let key = match member("kty")? {
        Some("RSA") => {
            let n = required("n")?;
            let e = required("e")?;
            let n = strip_leading_zeros(&n);
            let bits = n.len() * 8 - n.first().map_or(0, |b| b.leading_zeros() as usize);
            if bits < MIN_RSA_BITS {
                return Err(KeyError::new(format!(
                    "RSA key of {bits} bits is shorter than {MIN_RSA_BITS}"
                )));
            }
            if strip_leading_zeros(&e).is_empty() {
                return Err(KeyError::new("RSA exponent is zero"));
            }
            VerificationKey::from_parts(KeyShape::Rsa, DecodingKey::from_rsa_raw_components(n, &e))
        }
        Some("EC") => {
            let (shape, len) = match member("crv")? {
                Some("P-256") => (KeyShape::EcP256, 32),
                Some("P-384") => (KeyShape::EcP384, 48),
                Some(other) => {
                    return Err(KeyError::new(format!("unsupported EC curve {other:?}")));
                }
                None => return Err(KeyError::new("missing \"crv\"")),
            };
            let x = required("x")?;
            let y = required("y")?;
            if x.len() != len || y.len() != len {
                return Err(KeyError::new("EC coordinates have the wrong length"));
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            VerificationKey::from_parts(shape, DecodingKey::from_ec_der(&point))
        }
        Some("OKP") => {
            match member("crv")? {
                Some("Ed25519") => {}
                Some(other) => {
                    return Err(KeyError::new(format!("unsupported OKP curve {other:?}")));
                }
                None => return Err(KeyError::new("missing \"crv\"")),
            }
            let x = required("x")?;
            if x.len() != 32 {
                return Err(KeyError::new("Ed25519 key has the wrong length"));
            }
            VerificationKey::from_parts(KeyShape::Ed25519, DecodingKey::from_ed_der(&x))
        }
        Some("oct") => {
            return Err(KeyError::new(
                "symmetric (oct) keys are not accepted from a key set",
            ));
        }
        Some(other) => return Err(KeyError::new(format!("unsupported key type {other:?}"))),
        None => return Err(KeyError::new("missing \"kty\"")),
    };
    let key = match alg {
        Some(alg) => key.with_algorithm(alg)?,
        None => key,
    };
    Ok((kid, key))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn rsa_jwk(bits: usize) -> Value {
        let mut n = vec![0xC5u8; bits / 8];
        n[0] = 0xC5;
        serde_json::json!({"kty": "RSA", "kid": "r", "n": b64(&n), "e": b64(&[1, 0, 1])})
    }

    #[test]
    fn rsa_key_bits_are_checked() {
        assert!(parse_jwk(&rsa_jwk(2048)).is_ok());
        let err = parse_jwk(&rsa_jwk(1024)).expect_err("must fail");
        assert_eq!(err.message(), "RSA key of 1024 bits is shorter than 2048");
    }

    #[test]
    fn use_alg_and_key_ops_are_respected() {
        let mut jwk = rsa_jwk(2048);
        jwk["use"] = "enc".into();
        assert_eq!(
            parse_jwk(&jwk).expect_err("must fail").message(),
            "key use \"enc\" is not \"sig\""
        );
        let mut jwk = rsa_jwk(2048);
        jwk["alg"] = "ES256".into();
        assert_eq!(
            parse_jwk(&jwk).expect_err("must fail").message(),
            "RSA key cannot verify ES256"
        );
        let mut jwk = rsa_jwk(2048);
        jwk["alg"] = "RSA-OAEP".into();
        assert_eq!(
            parse_jwk(&jwk).expect_err("must fail").message(),
            "unsupported key algorithm \"RSA-OAEP\""
        );
        let mut jwk = rsa_jwk(2048);
        jwk["key_ops"] = serde_json::json!(["encrypt"]);
        assert_eq!(
            parse_jwk(&jwk).expect_err("must fail").message(),
            "key_ops does not include \"verify\""
        );
        let mut jwk = rsa_jwk(2048);
        jwk["alg"] = "PS256".into();
        let (kid, key) = parse_jwk(&jwk).expect("must succeed");
        assert_eq!(kid, "r");
        assert!(key.supports(JwtAlgorithm::PS256));
        assert!(!key.supports(JwtAlgorithm::RS256));
    }

    #[test]
    fn unsupported_keys_are_skipped_not_fatal() {
        let doc = serde_json::json!({"keys": [
            {"kty": "oct", "k": b64(&[7; 32])},
            {"kty": "EC", "crv": "P-521", "x": b64(&[1; 66]), "y": b64(&[1; 66])},
            {"kty": "OKP", "crv": "X25519", "x": b64(&[1; 32])},
            rsa_jwk(2048),
        ]});
        let set = parse_jwks(doc.to_string().as_bytes(), "test").expect("must succeed");
        assert_eq!(set.keys.len(), 1);
        assert_eq!(set.skipped, 3);
    }

    #[test]
    fn documents_without_keys_fail() {
        let err = parse_jwks(br#"{"error":"boom"}"#, "src").expect_err("must fail");
        assert_eq!(err.message(), "src: key set has no \"keys\" array");
        let err = parse_jwks(b"<html>", "src").expect_err("must fail");
        assert_eq!(err.message(), "src: key set is not valid JSON");
    }
}
