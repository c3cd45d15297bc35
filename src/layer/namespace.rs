//! Where the namespace lives in a request message, and a zero-copy wire scan that reads it.
//!
//! The scan follows prost's decoding rules exactly for a message whose only known field is the
//! namespace string: the last occurrence wins; a wrong wire type, invalid UTF-8, a truncated
//! field, a bad key or an unbalanced group is an error; unknown fields of every wire type are
//! skipped (groups to the same depth limit as prost). So the namespace the authorizer sees is the
//! namespace the handler will decode.

use std::fmt;

/// prost's recursion limit for nested groups.
pub(super) const RECURSION_LIMIT: u32 = 100;

/// Why a request message could not be scanned for its namespace.
#[cfg_attr(
    not(feature = "fuzzing"),
    allow(unreachable_pub, reason = "public only through the `fuzzing` module")
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScanError {
    /// A varint is longer than 10 bytes, overflows, or is cut off.
    InvalidVarint,
    /// A field key is out of range, names field 0, or has wire type 6 or 7.
    InvalidKey,
    /// A field's length runs past the end of the message.
    Truncated,
    /// The namespace field is not length-delimited.
    WrongWireType,
    /// The namespace field is not valid UTF-8.
    InvalidUtf8,
    /// A group is not closed by its own end tag, or an end tag has no group.
    UnbalancedGroup,
    /// Groups are nested deeper than prost allows.
    TooDeep,
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScanError::InvalidVarint => "invalid varint",
            ScanError::InvalidKey => "invalid field key",
            ScanError::Truncated => "field runs past the end of the message",
            ScanError::WrongWireType => "namespace field has the wrong wire type",
            ScanError::InvalidUtf8 => "namespace field is not valid UTF-8",
            ScanError::UnbalancedGroup => "unbalanced group tags",
            ScanError::TooDeep => "groups nested too deeply",
        })
    }
}

impl std::error::Error for ScanError {}

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
pub(super) const LEN: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
const FIXED32: u8 = 5;

/// Reads the string field `field` of the protobuf message `msg` without copying.
///
/// Returns `Ok(None)` when the field is absent (prost would decode an empty string), the last
/// occurrence when it repeats, and an error wherever prost would fail on a message whose only
/// known field is this string.
///
/// # Errors
/// A [`ScanError`] saying what is malformed.
#[cfg_attr(
    not(feature = "fuzzing"),
    allow(unreachable_pub, reason = "public only through the `fuzzing` module")
)]
// Inlined into the layer's allowed path with its other steps (see `layer::call`).
#[inline(always)]
pub fn scan_string_field(msg: &[u8], field: u32) -> Result<Option<&str>, ScanError> {
    let mut pos = 0usize;
    let mut found: Option<&str> = None;
    while pos < msg.len() {
        let (tag, wire) = read_key(msg, &mut pos)?;
        if tag == field {
            if wire != LEN {
                return Err(ScanError::WrongWireType);
            }
            // Every occurrence is checked, not just the last: prost fails on the first bad one.
            let bytes = read_len_delimited(msg, &mut pos)?;
            found = Some(std::str::from_utf8(bytes).map_err(|_| ScanError::InvalidUtf8)?);
        } else {
            skip(msg, &mut pos, tag, wire, RECURSION_LIMIT)?;
        }
    }
    Ok(found)
}

/// Visits, in order, every occurrence of the length-delimited fields `fields` of `msg` (each
/// occurrence's bytes), skipping every other field as [`scan_string_field`] does.
///
/// # Errors
/// A [`ScanError`] where prost would fail on a message whose only known fields are these
/// (a listed field that is not length-delimited is [`ScanError::WrongWireType`]).
pub(crate) fn visit_message_fields<'a>(
    msg: &'a [u8],
    fields: &[u32],
    mut visit: impl FnMut(u32, &'a [u8]) -> Result<(), ScanError>,
) -> Result<(), ScanError> {
    let mut pos = 0usize;
    while pos < msg.len() {
        let (tag, wire) = read_key(msg, &mut pos)?;
        if fields.contains(&tag) {
            if wire != LEN {
                return Err(ScanError::WrongWireType);
            }
            visit(tag, read_len_delimited(msg, &mut pos)?)?;
        } else {
            skip(msg, &mut pos, tag, wire, RECURSION_LIMIT)?;
        }
    }
    Ok(())
}

#[inline(always)]
fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, ScanError> {
    let mut value = 0u64;
    for i in 0..10 {
        let byte = *buf.get(*pos).ok_or(ScanError::InvalidVarint)?;
        *pos += 1;
        if i == 9 && byte > 1 {
            return Err(ScanError::InvalidVarint);
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Ok(value);
        }
    }
    Err(ScanError::InvalidVarint)
}

#[inline(always)]
pub(super) fn read_key(buf: &[u8], pos: &mut usize) -> Result<(u32, u8), ScanError> {
    let key = read_varint(buf, pos)?;
    let key = u32::try_from(key).map_err(|_| ScanError::InvalidKey)?;
    let wire = (key & 7) as u8;
    if wire > FIXED32 {
        return Err(ScanError::InvalidKey);
    }
    let tag = key >> 3;
    if tag == 0 {
        return Err(ScanError::InvalidKey);
    }
    Ok((tag, wire))
}

#[inline(always)]
pub(super) fn read_len_delimited<'a>(
    buf: &'a [u8],
    pos: &mut usize,
) -> Result<&'a [u8], ScanError> {
    let len = read_varint(buf, pos)?;
    let start = *pos;
    let remaining = (buf.len() - start) as u64;
    if len > remaining {
        return Err(ScanError::Truncated);
    }
    // `len <= remaining`, which fits in usize.
    let end = start + len as usize;
    *pos = end;
    Ok(&buf[start..end])
}

pub(super) fn skip(
    buf: &[u8],
    pos: &mut usize,
    tag: u32,
    wire: u8,
    depth: u32,
) -> Result<(), ScanError> {
    if depth == 0 {
        return Err(ScanError::TooDeep);
    }
    let len: u64 = match wire {
        VARINT => {
            read_varint(buf, pos)?;
            0
        }
        FIXED64 => 8,
        FIXED32 => 4,
        LEN => read_varint(buf, pos)?,
        START_GROUP => loop {
            let (inner_tag, inner_wire) = read_key(buf, pos)?;
            if inner_wire == END_GROUP {
                if inner_tag != tag {
                    return Err(ScanError::UnbalancedGroup);
                }
                break 0;
            }
            skip(buf, pos, inner_tag, inner_wire, depth - 1)?;
        },
        _ => return Err(ScanError::UnbalancedGroup),
    };
    if len > (buf.len() - *pos) as u64 {
        return Err(ScanError::Truncated);
    }
    *pos += len as usize;
    Ok(())
}

/// Temporal's namespace-scoped methods and the field number of `namespace` in their request
/// message, read from the official descriptors (checked by a test in the examples crate).
#[cfg_attr(
    not(feature = "fuzzing"),
    allow(unreachable_pub, reason = "public only through the `fuzzing` module")
)]
pub fn temporal_namespace_fields() -> impl Iterator<Item = (&'static str, u32)> {
    crate::temporal::NAMESPACE_FIELDS.iter().copied()
}

/// Temporal's request fields a policy may look at: for each method, the context field name
/// (`taskQueue`, `workflowType`, `workflowId`, `scheduleId`, `signalName`, `updateName`,
/// `queryName`) and the path of field numbers to the string in the request message, read from
/// the official descriptors (checked by a test in the examples crate).
pub fn temporal_request_fields()
-> impl Iterator<Item = (&'static str, &'static str, &'static [u32])> {
    crate::temporal::REQUEST_FIELDS.iter().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_occurrence_wins_and_unknowns_are_skipped() {
        // field 2 varint, field 1 "a", field 3 fixed32, field 1 "bc", group 4 { field 1 "zz" }
        let msg = [
            0x10, 0x96, 0x01, 0x0a, 1, b'a', 0x1d, 1, 2, 3, 4, 0x0a, 2, b'b', b'c', 0x23, 0x0a, 2,
            b'z', b'z', 0x24,
        ];
        assert_eq!(scan_string_field(&msg, 1), Ok(Some("bc")));
        assert_eq!(scan_string_field(&msg, 9), Ok(None));
    }

    #[test]
    fn malformed_inputs_are_errors() {
        assert_eq!(
            scan_string_field(&[0x08, 0x01], 1),
            Err(ScanError::WrongWireType)
        );
        assert_eq!(
            scan_string_field(&[0x0a, 5, b'a'], 1),
            Err(ScanError::Truncated)
        );
        assert_eq!(
            scan_string_field(&[0x0a, 1, 0xff], 1),
            Err(ScanError::InvalidUtf8)
        );
        // An invalid earlier occurrence fails even when the last one is valid, as in prost.
        assert_eq!(
            scan_string_field(&[0x0a, 1, 0xff, 0x0a, 1, b'a'], 1),
            Err(ScanError::InvalidUtf8)
        );
        assert_eq!(scan_string_field(&[0x00], 1), Err(ScanError::InvalidKey));
        assert_eq!(scan_string_field(&[0x0e], 1), Err(ScanError::InvalidKey));
        assert_eq!(
            scan_string_field(&[0x23, 0x2c], 1),
            Err(ScanError::UnbalancedGroup)
        );
        assert_eq!(
            scan_string_field(&[0x24], 1),
            Err(ScanError::UnbalancedGroup)
        );
        assert_eq!(scan_string_field(&[0x80], 1), Err(ScanError::InvalidVarint));
        let deep: Vec<u8> = std::iter::repeat_n(0x23u8, 101).collect();
        assert_eq!(scan_string_field(&deep, 1), Err(ScanError::TooDeep));
    }
}
