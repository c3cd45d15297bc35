//! Go-style durations (`500ms`, `30s`, `1m`, `1h30m`, `0`), as Temporal's YAML spells them.
//!
//! Temporal decodes its durations with Go's `time.ParseDuration`; `humantime` reads a different
//! language (it has days and months, and no fractions such as `1.5h`), so this is a small parser
//! of Go's grammar: a sequence of decimal numbers, each with an optional fraction and a unit
//! (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`); `0` alone needs no unit. Negative durations are
//! refused: every duration here is an interval or a window. A bare YAML integer other than `0`
//! is refused too (Go would read it as nanoseconds, which is never what was meant).

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

/// Why a duration could not be read; the text says which value, as Go's parser does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DurationError(String);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DurationError {}

const NANOS_PER_UNIT: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),  // micro sign
    ("\u{3bc}s", 1_000), // Greek small letter mu
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60 * 1_000_000_000),
    ("h", 3_600 * 1_000_000_000),
];

/// Parses a Go duration string (see the module docs).
pub(crate) fn parse(text: &str) -> Result<Duration, DurationError> {
    let invalid = || DurationError(format!("invalid duration {text:?}"));
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    if let Some(negated) = rest.strip_prefix('-') {
        if negated.contains('0') && negated.chars().all(|c| c == '0' || c == '.') {
            return Ok(Duration::ZERO);
        }
        return Err(DurationError(format!(
            "negative duration {text:?} is not allowed"
        )));
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, after_int) = rest.split_at(int_len);
        let (frac_part, after_num) = match after_int.strip_prefix('.') {
            Some(after_dot) => {
                let frac_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
                after_dot.split_at(frac_len)
            }
            None => ("", after_int),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = after_num
            .char_indices()
            .find(|&(_, c)| c == '.' || c.is_ascii_digit())
            .map_or(after_num.len(), |(i, _)| i);
        let (unit, after_unit) = after_num.split_at(unit_len);
        if unit.is_empty() {
            return Err(DurationError(format!("missing unit in duration {text:?}")));
        }
        let Some(&(_, scale)) = NANOS_PER_UNIT.iter().find(|(name, _)| *name == unit) else {
            return Err(DurationError(format!(
                "unknown unit {unit:?} in duration {text:?}"
            )));
        };
        let out_of_range = || DurationError(format!("duration {text:?} is out of range"));
        let int: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| out_of_range())?
        };
        let mut nanos = int.checked_mul(scale).ok_or_else(out_of_range)?;
        // Digits past nanosecond precision cannot matter; cap them to keep the maths in range.
        let frac_digits = &frac_part[..frac_part.len().min(18)];
        if !frac_digits.is_empty() {
            let frac: u128 = frac_digits.parse().map_err(|_| invalid())?;
            let denominator = 10u128.pow(u32::try_from(frac_digits.len()).unwrap_or(18));
            nanos = nanos
                .checked_add(frac * scale / denominator)
                .ok_or_else(out_of_range)?;
        }
        total = total.checked_add(nanos).ok_or_else(out_of_range)?;
        if total > u128::from(u64::MAX) {
            return Err(out_of_range());
        }
        rest = after_unit;
    }
    let nanos = u64::try_from(total)
        .map_err(|_| DurationError(format!("duration {text:?} is out of range")))?;
    Ok(Duration::from_nanos(nanos))
}

/// Formats a duration the way Go prints one (`1h30m0s`, `500ms`, `0s`); [`parse`] reads it back.
pub(crate) fn format(duration: Duration) -> String {
    if duration.is_zero() {
        return "0s".to_owned();
    }
    let nanos = duration.as_nanos();
    if nanos < 1_000_000_000 {
        return if nanos.is_multiple_of(1_000_000) {
            format!("{}ms", nanos / 1_000_000)
        } else if nanos.is_multiple_of(1_000) {
            format!("{}us", nanos / 1_000)
        } else {
            format!("{nanos}ns")
        };
    }
    let secs = duration.as_secs();
    let (hours, minutes, seconds) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    match duration.subsec_nanos() {
        0 => out.push_str(&format!("{seconds}s")),
        sub => {
            let frac = format!("{sub:09}");
            out.push_str(&format!("{seconds}.{}s", frac.trim_end_matches('0')));
        }
    }
    out
}

/// `serialize_with` for a [`Duration`] field, in Go's form (pairs with [`deserialize`]).
pub(crate) fn serialize<S: serde::Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(*duration))
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as `30s`, `1m` or `1h30m`")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse(v.trim()).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        if v == 0 {
            Ok(Duration::ZERO)
        } else {
            Err(E::custom(format!("missing unit in duration \"{v}\"")))
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom(format!(
                "negative duration \"{v}\" is not allowed"
            ))),
        }
    }
}

/// `deserialize_with` for a [`Duration`] field.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    deserializer.deserialize_any(DurationVisitor)
}

/// `deserialize_with` for an `Option<Duration>` field (`~`/`null` is `None`).
#[cfg(feature = "config")]
pub(crate) fn deserialize_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    struct OptionVisitor;

    impl<'de> Visitor<'de> for OptionVisitor {
        type Value = Option<Duration>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration such as `30s`, `1m` or `1h30m`")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            deserialize(d).map(Some)
        }
    }

    deserializer.deserialize_option(OptionVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Duration {
        match parse(text) {
            Ok(d) => d,
            Err(e) => panic!("{text:?} should parse: {e}"),
        }
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Ok(d) => panic!("{text:?} should fail, got {d:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn go_durations() {
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok("0s"), Duration::ZERO);
        assert_eq!(ok("-0"), Duration::ZERO);
        assert_eq!(ok("+5s"), Duration::from_secs(5));
        assert_eq!(ok("30s"), Duration::from_secs(30));
        assert_eq!(ok("1m"), Duration::from_secs(60));
        assert_eq!(ok("1h30m"), Duration::from_secs(5400));
        assert_eq!(ok("2h45m30.5s"), Duration::from_millis(9_930_500));
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("1.5h"), Duration::from_secs(5400));
        assert_eq!(ok(".5s"), Duration::from_millis(500));
        assert_eq!(ok("1.s"), Duration::from_secs(1));
        assert_eq!(ok("10us"), Duration::from_micros(10));
        assert_eq!(ok("10\u{b5}s"), Duration::from_micros(10));
        assert_eq!(ok("10\u{3bc}s"), Duration::from_micros(10));
        assert_eq!(ok("7ns"), Duration::from_nanos(7));
        assert_eq!(ok("1m1m"), Duration::from_secs(120));
        assert_eq!(ok("0.000000001s"), Duration::from_nanos(1));
        assert_eq!(ok("0.0000000019s"), Duration::from_nanos(1));
    }

    #[test]
    fn bad_durations() {
        assert_eq!(err(""), "invalid duration \"\"");
        assert_eq!(err("abc"), "invalid duration \"abc\"");
        assert_eq!(err("."), "invalid duration \".\"");
        assert_eq!(err("s"), "invalid duration \"s\"");
        assert_eq!(err("90"), "missing unit in duration \"90\"");
        assert_eq!(err("1h30"), "missing unit in duration \"1h30\"");
        assert_eq!(err("1d"), "unknown unit \"d\" in duration \"1d\"");
        assert_eq!(err("1 m"), "unknown unit \" m\" in duration \"1 m\"");
        assert_eq!(err("-5s"), "negative duration \"-5s\" is not allowed");
        assert_eq!(
            err("99999999999999999999h"),
            "duration \"99999999999999999999h\" is out of range"
        );
        assert_eq!(
            err("1000000000000000000000000000000000000000000s"),
            "duration \"1000000000000000000000000000000000000000000s\" is out of range"
        );
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format(Duration::ZERO), "0s");
        assert_eq!(format(Duration::from_secs(60)), "1m0s");
        assert_eq!(format(Duration::from_secs(5400)), "1h30m0s");
        assert_eq!(format(Duration::from_millis(1500)), "1.5s");
        for d in ["1h30m0s", "500ms", "2m3.25s", "7ns", "10us", "26h0m0s"] {
            assert_eq!(format(ok(d)), d);
        }
    }
}
