//! Where a claim lives in a token's payload: a dotted path into nested objects
//! (`realm_access.roles`, `resource_access.temporal.roles`), with `\.` for a dot inside a key
//! (`https://example\.com/roles`) and `\\` for a backslash, and how a claim's value reads as
//! a list of strings: an array of strings, or (for OAuth `scope`) one space-separated string.
//!
//! The path is parsed once, from configuration; resolving it against a token is a walk over
//! already-decoded JSON objects, with no allocation.

use std::fmt;

use serde_json::{Map, Value};

/// A path to a claim, parsed from its dotted form.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ClaimPath {
    segments: Vec<String>,
    text: String,
}

/// Why a dotted claim path does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClaimPathError(pub(crate) String);

impl fmt::Display for ClaimPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl ClaimPath {
    /// Parses a dotted path: segments split on `.`; `\.` is a dot inside a segment and `\\` a
    /// backslash.
    ///
    /// # Errors
    /// A blank path, an empty segment (`a..b`, `.a`, `a.`), or a `\` before anything but `.`
    /// or `\`.
    pub(crate) fn parse(text: &str) -> Result<ClaimPath, ClaimPathError> {
        if text.trim().is_empty() {
            return Err(ClaimPathError("claim path is blank".to_owned()));
        }
        let mut segments = Vec::new();
        let mut current = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(escaped @ ('.' | '\\')) => current.push(escaped),
                    _ => {
                        return Err(ClaimPathError(format!(
                            "claim path {text:?}: `\\` must be followed by `.` or `\\`"
                        )));
                    }
                },
                '.' => segments.push(std::mem::take(&mut current)),
                other => current.push(other),
            }
        }
        segments.push(current);
        if segments.iter().any(String::is_empty) {
            return Err(ClaimPathError(format!(
                "claim path {text:?} has an empty segment"
            )));
        }
        Ok(ClaimPath {
            segments,
            text: text.to_owned(),
        })
    }

    /// A path of one top-level claim, taken literally (dots included): Temporal's own
    /// `permissionsClaimName` names a top-level claim.
    pub(crate) fn top_level(name: &str) -> ClaimPath {
        ClaimPath {
            segments: vec![name.to_owned()],
            text: name.replace('\\', "\\\\").replace('.', "\\."),
        }
    }

    /// The value at this path, if every step is an object holding the next key.
    pub(crate) fn resolve<'v>(&self, payload: &'v Map<String, Value>) -> Option<&'v Value> {
        let (first, rest) = self.segments.split_first()?;
        let mut value = payload.get(first)?;
        for segment in rest {
            value = value.as_object()?.get(segment)?;
        }
        Some(value)
    }

    /// The path as configured.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text)
    }
}

/// The strings in a claim value: each string element of an array (others skipped), or, when
/// `split_string` is set, the space-separated words of a string. Anything else yields nothing.
pub(crate) fn claim_strings(
    value: Option<&Value>,
    split_string: bool,
) -> impl Iterator<Item = &str> {
    let (array, string) = match value {
        Some(Value::Array(items)) => (Some(items), None),
        Some(Value::String(s)) if split_string => (None, Some(s.as_str())),
        _ => (None, None),
    };
    array
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .chain(string.into_iter().flat_map(|s| s.split(' ')))
        .filter(|s| !s.is_empty())
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

    #[test]
    fn parses_dots_and_escapes() {
        let p = ClaimPath::parse("realm_access.roles").expect("valid");
        assert_eq!(p.segments, ["realm_access", "roles"]);
        let p = ClaimPath::parse(r"https://example\.com/roles").expect("valid");
        assert_eq!(p.segments, ["https://example.com/roles"]);
        let p = ClaimPath::parse(r"a\\.b").expect("valid");
        assert_eq!(p.segments, ["a\\", "b"]);
        for bad in ["", "  ", "a..b", ".a", "a.", r"a\b", "a\\"] {
            assert!(ClaimPath::parse(bad).is_err(), "{bad:?} must be refused");
        }
        assert_eq!(
            ClaimPath::parse("a..b").expect_err("bad").to_string(),
            "claim path \"a..b\" has an empty segment"
        );
    }

    #[test]
    fn resolves_nested_objects_only() {
        let payload = obj(json!({
            "realm_access": {"roles": ["a", "b"]},
            "resource_access": {"temporal": {"roles": ["c"]}},
            "https://example.com/roles": ["d"],
            "list": [{"roles": ["e"]}],
        }));
        let at = |p: &str| {
            ClaimPath::parse(p)
                .expect("valid")
                .resolve(&payload)
                .cloned()
        };
        assert_eq!(at("realm_access.roles"), Some(json!(["a", "b"])));
        assert_eq!(at("resource_access.temporal.roles"), Some(json!(["c"])));
        assert_eq!(at(r"https://example\.com/roles"), Some(json!(["d"])));
        assert_eq!(at("list.roles"), None);
        assert_eq!(at("list.0.roles"), None);
        assert_eq!(at("realm_access.roles.x"), None);
        assert_eq!(at("missing"), None);
        let literal = ClaimPath::top_level("a.b");
        assert_eq!(literal.as_str(), r"a\.b");
        assert_eq!(literal.resolve(&obj(json!({"a.b": 1}))), Some(&json!(1)));
    }

    #[test]
    fn strings_from_arrays_and_scopes() {
        let v = json!(["x", 1, "y", ""]);
        assert_eq!(
            claim_strings(Some(&v), true).collect::<Vec<_>>(),
            ["x", "y"]
        );
        let s = json!("openid  default:read profile");
        assert_eq!(
            claim_strings(Some(&s), true).collect::<Vec<_>>(),
            ["openid", "default:read", "profile"]
        );
        assert_eq!(claim_strings(Some(&s), false).count(), 0);
        assert_eq!(claim_strings(Some(&json!({"a": "b"})), true).count(), 0);
        assert_eq!(claim_strings(None, true).count(), 0);
    }
}
