//! A zero-copy wire scan for one string field reached through nested messages (for example
//! `task_queue.name`, fields 2 then 1), following prost's decoding rules as the namespace scan
//! does: every occurrence of an embedded message is merged into one, so the last occurrence
//! of the string across all of them wins; a wrong wire type, invalid UTF-8 or a truncated
//! field on the path is an error; everything off the path is skipped.

use super::namespace::{LEN, RECURSION_LIMIT, ScanError, read_key, read_len_delimited, skip};

/// Reads the string at `path` (field numbers from the outer message inwards) of the protobuf
/// message `msg` without copying. An empty path is never present.
///
/// Returns `Ok(None)` when the string or any message on the way is absent (prost would
/// decode an empty string), the last occurrence otherwise.
///
/// # Errors
/// A [`ScanError`] saying what is malformed on the path.
#[cfg_attr(
    not(feature = "fuzzing"),
    allow(unreachable_pub, reason = "public only through the `fuzzing` module")
)]
pub fn scan_string_path<'a>(msg: &'a [u8], path: &[u32]) -> Result<Option<&'a str>, ScanError> {
    let Some((&field, rest)) = path.split_first() else {
        return Ok(None);
    };
    let mut pos = 0usize;
    let mut found: Option<&str> = None;
    while pos < msg.len() {
        let (tag, wire) = read_key(msg, &mut pos)?;
        if tag != field {
            skip(msg, &mut pos, tag, wire, RECURSION_LIMIT)?;
            continue;
        }
        if wire != LEN {
            return Err(ScanError::WrongWireType);
        }
        let bytes = read_len_delimited(msg, &mut pos)?;
        if rest.is_empty() {
            found = Some(std::str::from_utf8(bytes).map_err(|_| ScanError::InvalidUtf8)?);
        } else if let Some(inner) = scan_string_path(bytes, rest)? {
            // Embedded messages merge: a later occurrence without the string keeps the
            // earlier one's value.
            found = Some(inner);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_strings_merge_across_occurrences() {
        // field 2 { field 1 "a" }, field 3 varint, field 2 { field 4 varint }
        let msg = [0x12, 3, 0x0a, 1, b'a', 0x18, 1, 0x12, 2, 0x20, 1];
        assert_eq!(scan_string_path(&msg, &[2, 1]), Ok(Some("a")));
        // field 2 { field 1 "b" } appended: the last occurrence wins.
        let mut later = msg.to_vec();
        later.extend_from_slice(&[0x12, 3, 0x0a, 1, b'b']);
        assert_eq!(scan_string_path(&later, &[2, 1]), Ok(Some("b")));
        assert_eq!(scan_string_path(&msg, &[2, 9]), Ok(None));
        assert_eq!(scan_string_path(&msg, &[]), Ok(None));
        assert_eq!(scan_string_path(&[0x0a, 1, b'x'], &[1]), Ok(Some("x")));
    }

    #[test]
    fn malformed_paths_are_errors() {
        assert_eq!(
            scan_string_path(&[0x10, 1], &[2, 1]),
            Err(ScanError::WrongWireType)
        );
        assert_eq!(
            scan_string_path(&[0x12, 2, 0x0a, 5], &[2, 1]),
            Err(ScanError::Truncated)
        );
        assert_eq!(
            scan_string_path(&[0x12, 3, 0x0a, 1, 0xff], &[2, 1]),
            Err(ScanError::InvalidUtf8)
        );
    }
}
