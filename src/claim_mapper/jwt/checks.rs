//! The payload's claim checks, as Temporal makes them: `exp`/`iat`/`nbf` with `0` meaning
//! absent and non-numbers rejected, the audience rules (an array with a non-string element
//! fails), the issuer when one is configured, and `sub` as a string.

use serde_json::{Map, Value};

use crate::{ClaimsError, ClaimsErrorKind};

/// A time claim: absent (or `0`), a whole number of seconds, or present but not a number.
fn time_claim(payload: &Map<String, Value>, name: &str) -> Result<Option<i64>, ()> {
    match payload.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            // Go decodes JSON numbers as float64 and truncates to whole seconds.
            let secs = n.as_f64().map_or(0, |f| f as i64);
            Ok((secs != 0).then_some(secs))
        }
        Some(_) => Err(()),
    }
}

/// Checks `exp`, `iat` and `nbf` against `now` (Unix seconds) with `leeway` seconds; returns
/// `exp` for the cache. As in golang-jwt, every claim is checked and the last failure wins.
pub(crate) fn check_times(
    payload: &Map<String, Value>,
    now: i64,
    leeway: i64,
) -> Result<Option<i64>, ClaimsError> {
    let time_error = |m: &'static str| ClaimsError::new(ClaimsErrorKind::Time, m);
    let mut failure = None;
    let exp = match time_claim(payload, "exp") {
        Ok(Some(exp)) if now >= exp.saturating_add(leeway) => {
            failure = Some(time_error("Token is expired"));
            Some(exp)
        }
        Ok(exp) => exp,
        Err(()) => {
            failure = Some(time_error("\"exp\" claim is not a number"));
            None
        }
    };
    match time_claim(payload, "iat") {
        Ok(Some(iat)) if now.saturating_add(leeway) < iat => {
            failure = Some(time_error("Token used before issued"));
        }
        Ok(_) => {}
        Err(()) => failure = Some(time_error("\"iat\" claim is not a number")),
    }
    match time_claim(payload, "nbf") {
        Ok(Some(nbf)) if now.saturating_add(leeway) < nbf => {
            failure = Some(time_error("Token is not valid yet"));
        }
        Ok(_) => {}
        Err(()) => failure = Some(time_error("\"nbf\" claim is not a number")),
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(exp),
    }
}

/// Whether an expiry (already validated once) has passed.
pub(crate) fn is_expired(exp: Option<i64>, now: i64, leeway: i64) -> bool {
    exp.is_some_and(|exp| now >= exp.saturating_add(leeway))
}

/// The `aud` claim, kept in the cache so each call checks its own expected audience.
#[derive(Debug, Clone)]
pub(crate) enum Audience {
    Missing,
    One(String),
    Many(Vec<String>),
    /// A number, object, null, or an array with a non-string element: never matches.
    Invalid,
}

impl Audience {
    pub(crate) fn from_payload(payload: &Map<String, Value>) -> Audience {
        match payload.get("aud") {
            None => Audience::Missing,
            Some(Value::String(s)) => Audience::One(s.clone()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map_or(Audience::Invalid, Audience::Many),
            Some(_) => Audience::Invalid,
        }
    }

    /// Checks against the expected audience; a blank expectation checks nothing.
    // Inlined into the layer's allowed path with its other steps (see `layer::call`).
    #[inline(always)]
    pub(crate) fn check(&self, expected: &str) -> Result<(), ClaimsError> {
        if expected.trim().is_empty() {
            return Ok(());
        }
        let ok = match self {
            Audience::One(aud) => aud == expected,
            Audience::Many(auds) => auds.iter().any(|a| a == expected),
            Audience::Missing | Audience::Invalid => false,
        };
        if ok {
            Ok(())
        } else {
            Err(ClaimsError::new(
                ClaimsErrorKind::Audience,
                "audience mismatch",
            ))
        }
    }
}

/// Checks `iss` when an issuer is configured (Temporal does not check it).
pub(crate) fn check_issuer(
    payload: &Map<String, Value>,
    expected: Option<&str>,
) -> Result<(), ClaimsError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    match payload.get("iss") {
        Some(Value::String(iss)) if iss == expected => Ok(()),
        Some(_) => Err(ClaimsError::new(ClaimsErrorKind::Issuer, "issuer mismatch")),
        None => Err(ClaimsError::new(
            ClaimsErrorKind::Issuer,
            "token has no \"iss\" claim",
        )),
    }
}

/// The `sub` claim, which must be a string (possibly empty). Only the fuzz entry point reads
/// it this way; the mapper reads the subject through its configured claim path.
#[cfg(feature = "fuzzing")]
pub(crate) fn subject(payload: &Map<String, Value>) -> Result<&str, ClaimsError> {
    match payload.get("sub") {
        Some(Value::String(sub)) => Ok(sub),
        _ => Err(ClaimsError::new(
            ClaimsErrorKind::Claim,
            "unexpected value type of \"sub\" claim",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    const N: i64 = 1_800_000_000;

    fn times(v: Value) -> Result<Option<i64>, String> {
        check_times(&obj(v), N, 0).map_err(|e| e.message().to_owned())
    }

    #[test]
    fn time_claims_follow_temporal() {
        assert_eq!(times(json!({"exp": N})), Err("Token is expired".into()));
        assert_eq!(times(json!({"exp": N + 1})), Ok(Some(N + 1)));
        assert_eq!(times(json!({"exp": 0})), Ok(None));
        assert_eq!(times(json!({"exp": 0.0})), Ok(None));
        assert_eq!(times(json!({"exp": (N + 1) as f64 + 0.9})), Ok(Some(N + 1)));
        assert_eq!(
            times(json!({"exp": (N + 100).to_string()})),
            Err("\"exp\" claim is not a number".into())
        );
        assert_eq!(
            times(json!({"exp": null})),
            Err("\"exp\" claim is not a number".into())
        );
        assert_eq!(
            times(json!({"iat": N + 1})),
            Err("Token used before issued".into())
        );
        assert_eq!(times(json!({"iat": N})), Ok(None));
        assert_eq!(
            times(json!({"nbf": N + 1})),
            Err("Token is not valid yet".into())
        );
        assert_eq!(times(json!({"nbf": N})), Ok(None));
        assert_eq!(
            times(json!({"iat": true})),
            Err("\"iat\" claim is not a number".into())
        );
        // The last failing check is reported.
        assert_eq!(
            times(json!({"exp": 1, "nbf": N + 5})),
            Err("Token is not valid yet".into())
        );
        // Leeway.
        assert!(check_times(&obj(json!({"exp": N, "nbf": N + 5})), N, 5).is_ok());
    }

    #[test]
    fn audience_rules() {
        let aud = |v: Value| Audience::from_payload(&obj(json!({ "aud": v })));
        assert!(aud(json!("A")).check("A").is_ok());
        assert!(aud(json!(["x", "A"])).check("A").is_ok());
        assert!(aud(json!(["A", 1])).check("A").is_err());
        assert!(Audience::from_payload(&Map::new()).check("A").is_err());
        assert!(aud(json!("")).check("A").is_err());
        assert!(aud(json!("a")).check("A").is_err());
        assert!(aud(json!(7)).check("A").is_err());
        assert!(aud(json!(7)).check("  ").is_ok());
        assert!(Audience::from_payload(&Map::new()).check("").is_ok());
        // The configured value is compared untrimmed.
        assert!(aud(json!("A")).check(" A").is_err());
    }
}
