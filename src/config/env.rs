//! `${NAME}` environment-variable substitution in configuration values.
//!
//! Substitution happens on each string value as it is deserialized, not on the file's text, so
//! a variable can never inject YAML structure, comments are never expanded, and an error points
//! at the value that named the variable. Keys are never expanded, and neither are the Temporal
//! sections this crate ignores (their values may name variables only the Temporal server has).
//!
//! Grammar: `${NAME}` with `NAME` = `[A-Za-z_][A-Za-z0-9_]*` is replaced by the variable's
//! value; `${NAME:-default}` by the value, or by `default` when the variable is unset or empty
//! (as the shell and Temporal's own config templates do; the default is literal text, up to the
//! first `}`); `$${` is a literal `${`; any other `$` is kept as is. An unset variable without
//! a default, an unterminated `${` or a bad name is an error.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

/// Where variable values come from: the process environment, or a test's table.
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Expands `${NAME}` references in `value`; `Ok(None)` when there is nothing to expand.
pub(crate) fn expand(value: &str, env: EnvLookup<'_>) -> Result<Option<String>, String> {
    if !value.contains('$') {
        return Ok(None);
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    let mut changed = false;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
            changed = true;
        } else if let Some(after) = tail.strip_prefix("${") {
            let Some(end) = after.find('}') else {
                return Err(format!("unterminated `${{` in {value:?}"));
            };
            let (name, default) = match after[..end].split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (&after[..end], None),
            };
            if !is_valid_name(name) {
                return Err(format!(
                    "invalid environment variable name {name:?} in {value:?}"
                ));
            }
            match (env(name), default) {
                (Some(v), Some(default)) if v.is_empty() => out.push_str(default),
                (Some(v), _) => out.push_str(&v),
                (None, Some(default)) => out.push_str(default),
                (None, None) => {
                    return Err(format!("environment variable `{name}` is not set"));
                }
            }
            rest = &after[end + 1..];
            changed = true;
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(changed.then_some(out))
}

fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// A deserializer that expands variables in every string value below it.
pub(crate) struct EnvDeserializer<'e, D> {
    inner: D,
    env: EnvLookup<'e>,
}

impl<'e, D> EnvDeserializer<'e, D> {
    pub(crate) fn new(inner: D, env: EnvLookup<'e>) -> Self {
        EnvDeserializer { inner, env }
    }
}

struct EnvVisitor<'e, V> {
    inner: V,
    env: EnvLookup<'e>,
}

struct EnvSeed<'e, S> {
    inner: S,
    env: EnvLookup<'e>,
}

struct EnvAccess<'e, A> {
    inner: A,
    env: EnvLookup<'e>,
}

/// Integer targets (ports, sizes) read a scalar as it comes, so that a `${NAME}` reference,
/// which is a string in the file, becomes the number its expansion spells.
macro_rules! integer_deserialize {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                self.inner.deserialize_any(IntegerVisitor { inner: visitor, env: self.env })
            }
        )*
    };
}

macro_rules! forward_deserialize {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                self.inner.$method(EnvVisitor { inner: visitor, env: self.env })
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for EnvDeserializer<'_, D> {
    type Error = D::Error;

    forward_deserialize!(
        deserialize_any,
        deserialize_bool,
        deserialize_i128,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
    );

    integer_deserialize!(
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_unit_struct(
            name,
            EnvVisitor {
                inner: visitor,
                env: self.env,
            },
        )
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_newtype_struct(
            name,
            EnvVisitor {
                inner: visitor,
                env: self.env,
            },
        )
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_tuple(
            len,
            EnvVisitor {
                inner: visitor,
                env: self.env,
            },
        )
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_tuple_struct(
            name,
            len,
            EnvVisitor {
                inner: visitor,
                env: self.env,
            },
        )
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_struct(
            name,
            fields,
            EnvVisitor {
                inner: visitor,
                env: self.env,
            },
        )
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_enum(
            name,
            variants,
            EnvVisitor {
                inner: visitor,
                env: self.env,
            },
        )
    }

    // Ignored sections are skipped untouched: their variables belong to another program.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_ignored_any(visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
                self.inner.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for EnvVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        match expand(v, self.env).map_err(E::custom)? {
            Some(expanded) => self.inner.visit_string(expanded),
            None => self.inner.visit_str(v),
        }
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        match expand(v, self.env).map_err(E::custom)? {
            Some(expanded) => self.inner.visit_string(expanded),
            None => self.inner.visit_borrowed_str(v),
        }
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        match expand(&v, self.env).map_err(E::custom)? {
            Some(expanded) => self.inner.visit_string(expanded),
            None => self.inner.visit_string(v),
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(EnvDeserializer::new(d, self.env))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner
            .visit_newtype_struct(EnvDeserializer::new(d, self.env))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(EnvAccess {
            inner: seq,
            env: self.env,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(EnvAccess {
            inner: map,
            env: self.env,
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(EnvAccess {
            inner: data,
            env: self.env,
        })
    }
}

/// Reads an integer, or a string whose `${NAME}` expansion is an integer; any other value goes
/// to the target's visitor unchanged, which refuses it as before.
struct IntegerVisitor<'e, V> {
    inner: V,
    env: EnvLookup<'e>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for IntegerVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    // An out-of-range number is re-raised as a plain message, which the YAML parser locates
    // at the value (its own range errors point at the key instead).
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        self.inner.visit_u64(v).map_err(relocate)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<V::Value, E> {
        self.inner.visit_i64(v).map_err(relocate)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        let Some(expanded) = expand(v, self.env).map_err(E::custom)? else {
            return self.inner.visit_str(v);
        };
        let text = expanded.trim();
        if let Ok(n) = text.parse::<u64>() {
            self.inner.visit_u64(n)
        } else if let Ok(n) = text.parse::<i64>() {
            self.inner.visit_i64(n)
        } else {
            Err(E::custom(format!(
                "{v:?} expands to {expanded:?}, which is not an integer"
            )))
        }
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        self.visit_str(&v)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }
}

/// The error's message without the location its text ends with, as a plain message.
fn relocate<E: de::Error>(error: E) -> E {
    let text = error.to_string();
    let bare = match text.rfind(" at line ") {
        Some(at) if text[at..].contains(", column ") => &text[..at],
        _ => text.as_str(),
    };
    E::custom(bare)
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for EnvSeed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(EnvDeserializer::new(d, self.env))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for EnvAccess<'_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.inner.next_element_seed(EnvSeed {
            inner: seed,
            env: self.env,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for EnvAccess<'_, A> {
    type Error = A::Error;

    // Keys are structure, not values: never expanded.
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(seed)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.next_value_seed(EnvSeed {
            inner: seed,
            env: self.env,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, 'e, A: EnumAccess<'de>> EnumAccess<'de> for EnvAccess<'e, A> {
    type Error = A::Error;
    type Variant = EnvAccess<'e, A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let (value, variant) = self.inner.variant_seed(seed)?;
        Ok((
            value,
            EnvAccess {
                inner: variant,
                env: self.env,
            },
        ))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for EnvAccess<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.newtype_variant_seed(EnvSeed {
            inner: seed,
            env: self.env,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.inner.tuple_variant(
            len,
            EnvVisitor {
                inner: visitor,
                env: self.env,
            },
        )
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.inner.struct_variant(
            fields,
            EnvVisitor {
                inner: visitor,
                env: self.env,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "DIR" => Some("/etc/certs".to_owned()),
            "EMPTY" => Some(String::new()),
            "DOLLAR" => Some("${DIR}".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn expands_references() {
        assert_eq!(expand("plain", &env), Ok(None));
        assert_eq!(
            expand("${DIR}/a.pem", &env),
            Ok(Some("/etc/certs/a.pem".to_owned()))
        );
        assert_eq!(
            expand("${DIR}${EMPTY}${DIR}", &env),
            Ok(Some("/etc/certs/etc/certs".to_owned()))
        );
        assert_eq!(expand("a$b$", &env), Ok(None));
        assert_eq!(expand("^$", &env), Ok(None));
        assert_eq!(expand("$${DIR}", &env), Ok(Some("${DIR}".to_owned())));
        // A value is not expanded twice.
        assert_eq!(expand("${DOLLAR}", &env), Ok(Some("${DIR}".to_owned())));
    }

    #[test]
    fn defaults_apply_when_unset_or_empty() {
        assert_eq!(
            expand("${DIR:-/tmp}/a.pem", &env),
            Ok(Some("/etc/certs/a.pem".to_owned()))
        );
        assert_eq!(expand("${NOPE:-7233}", &env), Ok(Some("7233".to_owned())));
        assert_eq!(expand("${EMPTY:-x}", &env), Ok(Some("x".to_owned())));
        // An empty default is a choice: the variable may be unset.
        assert_eq!(expand("a${NOPE:-}b", &env), Ok(Some("ab".to_owned())));
        // The default is literal text, never expanded again.
        assert_eq!(
            expand("${NOPE:-$HOME:-x}", &env),
            Ok(Some("$HOME:-x".to_owned()))
        );
        assert_eq!(
            expand("${1X:-y}", &env),
            Err("invalid environment variable name \"1X\" in \"${1X:-y}\"".to_owned())
        );
        assert_eq!(
            expand("${NOPE:-never", &env),
            Err("unterminated `${` in \"${NOPE:-never\"".to_owned())
        );
    }

    #[test]
    fn refuses_bad_references() {
        assert_eq!(
            expand("${NOPE}", &env),
            Err("environment variable `NOPE` is not set".to_owned())
        );
        assert_eq!(
            expand("x${DIR", &env),
            Err("unterminated `${` in \"x${DIR\"".to_owned())
        );
        assert_eq!(
            expand("${1X}", &env),
            Err("invalid environment variable name \"1X\" in \"${1X}\"".to_owned())
        );
        assert_eq!(
            expand("${}", &env),
            Err("invalid environment variable name \"\" in \"${}\"".to_owned())
        );
    }
}
