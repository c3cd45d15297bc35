//! The token's structure: the `Bearer <jwt>` header value, then the JWT itself split into its
//! three segments and decoded, written out so the semantics are exactly Temporal's where users
//! depend on them: three segments, unpadded base64url, a JSON object in header and payload, and
//! the `alg`/`kid` rules. The signature is verified by the mapper and the payload's claims by
//! `checks.rs`.
//!
//! Error messages never include the token; header values from the token are shortened.

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use crate::keys::JwtAlgorithm;
use crate::{ClaimsError, ClaimsErrorKind};

/// Splits an auth header value `Bearer <jwt>` (scheme case-insensitive, split on the first
/// space) into the token; `None` for an empty header.
pub(crate) fn bearer_token(auth_token: &str) -> Result<Option<&str>, ClaimsError> {
    if auth_token.is_empty() {
        return Ok(None);
    }
    // Nearly every header starts `Bearer `: its first space is then the seventh byte, so it
    // is answered without searching a long token for a space.
    if let (Some(scheme), Some(b' '), Some(jwt)) = (
        auth_token.get(..6),
        auth_token.as_bytes().get(6),
        auth_token.get(7..),
    ) && scheme.eq_ignore_ascii_case("bearer")
    {
        return Ok(Some(jwt));
    }
    let Some((scheme, jwt)) = auth_token.split_once(' ') else {
        return Err(ClaimsError::new(
            ClaimsErrorKind::MalformedHeader,
            "unexpected authorization token format",
        ));
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ClaimsError::new(
            ClaimsErrorKind::MalformedHeader,
            "unexpected name in authorization token",
        ));
    }
    Ok(Some(jwt))
}

/// Unpadded base64url, tolerant of non-zero trailing bits (Go's non-strict decoding);
/// padded input is refused.
const SEGMENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// A structurally valid token whose algorithm is allowed; the signature is not checked yet.
#[derive(Debug)]
pub(crate) struct UnverifiedToken<'t> {
    /// `header.payload`, the bytes the signature covers.
    pub(crate) signing_input: &'t str,
    pub(crate) signature: Vec<u8>,
    pub(crate) alg: JwtAlgorithm,
    pub(crate) kid: String,
    pub(crate) payload: Map<String, Value>,
}

fn malformed(message: &'static str) -> ClaimsError {
    ClaimsError::new(ClaimsErrorKind::MalformedToken, message)
}

fn decode_object(segment: &str) -> Option<Map<String, Value>> {
    let bytes = SEGMENT.decode(segment).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Splits and decodes `token`, checks `alg` against `allowed` and reads `kid`.
pub(crate) fn parse<'t>(
    token: &'t str,
    allowed: &[JwtAlgorithm],
) -> Result<UnverifiedToken<'t>, ClaimsError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("token contains an invalid number of segments"));
    };
    let Some(header) = decode_object(header) else {
        let lower = token.get(..7).map(str::to_ascii_lowercase);
        return Err(malformed(if lower.as_deref() == Some("bearer ") {
            "tokenstring should not contain 'bearer '"
        } else {
            "token header is not base64url-encoded JSON object"
        }));
    };
    let Some(payload_map) = decode_object(payload) else {
        return Err(malformed(
            "token payload is not base64url-encoded JSON object",
        ));
    };
    let Some(Value::String(alg_name)) = header.get("alg") else {
        return Err(ClaimsError::new(
            ClaimsErrorKind::Algorithm,
            "signing method (alg) is unspecified.",
        ));
    };
    let alg = match JwtAlgorithm::from_name(alg_name) {
        Some(alg) if allowed.contains(&alg) => alg,
        Some(alg) => {
            return Err(ClaimsError::new(
                ClaimsErrorKind::Algorithm,
                format!("signing method {alg} is invalid"),
            ));
        }
        None if alg_name == "none" => {
            return Err(ClaimsError::new(
                ClaimsErrorKind::Algorithm,
                "signing method none is invalid",
            ));
        }
        None => {
            return Err(ClaimsError::new(
                ClaimsErrorKind::Algorithm,
                "signing method (alg) is unavailable.",
            ));
        }
    };
    let Some(Value::String(kid)) = header.get("kid") else {
        return Err(ClaimsError::new(
            ClaimsErrorKind::MissingKeyId,
            "malformed token - no \"kid\" header",
        ));
    };
    // We understand no extension, so a token that demands one must be refused (the JWS rule for
    // the `crit` header).
    if header.contains_key("crit") {
        return Err(malformed("token has critical header parameters"));
    }
    let Ok(signature_bytes) = SEGMENT.decode(signature) else {
        return Err(malformed("token signature is not base64url"));
    };
    let signing_input = &token[..header_payload_len(token)];
    Ok(UnverifiedToken {
        signing_input,
        signature: signature_bytes,
        alg,
        kid: kid.clone(),
        payload: payload_map,
    })
}

fn header_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

/// The general rule [`bearer_token`]'s quick path for `Bearer ` must agree with: split on the
/// first space, and the scheme is `bearer` in any case. `None` where it refuses the header.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn bearer_split_rule(h: &str) -> Option<Option<&str>> {
    if h.is_empty() {
        return Some(None);
    }
    let (scheme, jwt) = h.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(Some(jwt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_token_splits_on_the_first_space() {
        for h in [
            "",
            "Bearer a.b.c",
            "bearer a.b.c",
            "BEARER a.b.c",
            "Bearer ",
            "Bearer  a.b.c",
            "Bearer a b",
            "Bearer",
            "Bearer\ta.b.c",
            "Bearerx a.b.c",
            "Beare a.b.c",
            " Bearer a.b.c",
            "Basic a.b.c",
            "Bearér a.b.c",
            "Beаrer a.b.c",
            "ééé a",
            "a.b.c",
        ] {
            let fast = bearer_token(h).ok();
            assert_eq!(fast, bearer_split_rule(h), "{h:?}");
        }
        assert_eq!(bearer_token("bEaReR t").unwrap(), Some("t"));
        assert_eq!(
            bearer_token("Basic t").unwrap_err().message(),
            "unexpected name in authorization token"
        );
        assert_eq!(
            bearer_token("Bearer").unwrap_err().message(),
            "unexpected authorization token format"
        );
    }

    #[test]
    fn structure_errors() {
        let err = |t: &str| {
            parse(t, &[JwtAlgorithm::RS256])
                .expect_err("must fail")
                .message()
                .to_owned()
        };
        assert_eq!(err("a.b"), "token contains an invalid number of segments");
        assert_eq!(
            err("a.b.c.d"),
            "token contains an invalid number of segments"
        );
        assert_eq!(
            err("Bearer x.y.z"),
            "tokenstring should not contain 'bearer '"
        );
        assert_eq!(
            err("!!.y.z"),
            "token header is not base64url-encoded JSON object"
        );
    }
}
