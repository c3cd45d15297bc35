//! The other namespaces a completed workflow task acts in, read from its commands.
//!
//! Temporal can let a workflow signal, start or cancel workflows in other namespaces. When that
//! is enabled, the layer authorizes each such command again, as the API that does the same
//! thing directly and in the namespace the command names (see `crate::temporal` for the
//! command table). This module finds those (API, namespace) pairs in the request bytes.
//!
//! The scan is stricter than Temporal's own check, never looser: Temporal picks the attributes
//! by the command's type, while this scan authorizes every one of the three attribute messages
//! present in a command, whatever its type says. For a well-formed command the two agree; for a
//! malformed one the handler refuses the request anyway. A repeated attribute message merges as
//! protobuf does, so the namespace checked is the one the handler decodes.

use super::namespace::{ScanError, scan_string_field, visit_message_fields};
use crate::temporal::{COMMANDS_FIELD, CROSS_NAMESPACE_COMMANDS, TARGET_NAMESPACE_FIELD};

/// The (API, namespace) pairs to authorize for a `RespondWorkflowTaskCompleted` request in
/// `own_namespace`: in command order, without the request's own namespace, the empty
/// namespace, or a pair already listed.
///
/// # Errors
/// A [`ScanError`] when the commands or their attributes are malformed.
pub(crate) fn cross_namespace_targets(
    request: &[u8],
    own_namespace: &str,
) -> Result<Vec<(&'static str, String)>, ScanError> {
    let mut targets: Vec<(&'static str, String)> = Vec::new();
    visit_message_fields(request, &[COMMANDS_FIELD], |_, command| {
        for (api, namespace) in command_targets(command)? {
            let namespace = namespace.unwrap_or_default();
            if namespace.is_empty()
                || namespace == own_namespace
                || targets.iter().any(|(a, n)| *a == api && n == namespace)
            {
                continue;
            }
            targets.push((api, namespace.to_owned()));
        }
        Ok(())
    })?;
    Ok(targets)
}

/// The namespaces named by one command's attribute messages: for each attribute field of the
/// table, `None` when the command does not carry it, else the API and the namespace it names
/// (`None` inside when the attributes leave it unset).
fn command_targets(
    command: &[u8],
) -> Result<impl Iterator<Item = (&'static str, Option<&str>)>, ScanError> {
    let fields = CROSS_NAMESPACE_COMMANDS.map(|(field, _)| field);
    let mut found: [Option<Option<&str>>; 3] = [None; 3];
    visit_message_fields(command, &fields, |field, attributes| {
        let namespace = scan_string_field(attributes, TARGET_NAMESPACE_FIELD)?;
        if let Some(slot) = fields.iter().position(|f| *f == field) {
            // Occurrences of one message field merge: a later namespace replaces an earlier
            // one, a later message without one keeps it.
            let entry = found[slot].get_or_insert(None);
            if namespace.is_some() {
                *entry = namespace;
            }
        }
        Ok(())
    })?;
    Ok(CROSS_NAMESPACE_COMMANDS
        .into_iter()
        .zip(found)
        .filter_map(|((_, api), namespace)| namespace.map(|n| (api, n))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A length-delimited field.
    fn field(number: u32, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![u8::try_from(number << 3 | 2).expect("small field number")];
        out.push(u8::try_from(bytes.len()).expect("short test field"));
        out.extend_from_slice(bytes);
        out
    }

    fn command(attribute_field: u32, namespace: &str) -> Vec<u8> {
        // command_type (varint field 1) first, as a client sends it; its value does not matter.
        let mut out = vec![0x08, 0x07];
        out.extend(field(attribute_field, &field(1, namespace.as_bytes())));
        out
    }

    fn request(commands: &[Vec<u8>]) -> Vec<u8> {
        let mut out = field(9, b"tn");
        for c in commands {
            out.extend(field(2, c));
        }
        out
    }

    const SIGNAL: &str = "/temporal.api.workflowservice.v1.WorkflowService/SignalWorkflowExecution";
    const START: &str = "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";
    const CANCEL: &str =
        "/temporal.api.workflowservice.v1.WorkflowService/RequestCancelWorkflowExecution";

    #[test]
    fn each_command_kind_maps_to_its_api() {
        for (attribute, api) in [(13, SIGNAL), (12, START), (9, CANCEL)] {
            let req = request(&[command(attribute, "target-namespace")]);
            assert_eq!(
                cross_namespace_targets(&req, "tn"),
                Ok(vec![(api, "target-namespace".to_owned())])
            );
        }
    }

    #[test]
    fn own_and_empty_namespaces_and_repeats_are_skipped() {
        let req = request(&[
            command(13, "tn"),
            command(13, ""),
            command(13, "target"),
            command(12, "target"),
            command(9, "target"),
            command(13, "target"),
            command(12, "another"),
            // Other commands (here: complete workflow, field 4) are ignored.
            field(4, &field(1, b"x")),
        ]);
        assert_eq!(
            cross_namespace_targets(&req, "tn"),
            Ok(vec![
                (SIGNAL, "target".to_owned()),
                (START, "target".to_owned()),
                (CANCEL, "target".to_owned()),
                (START, "another".to_owned()),
            ])
        );
    }

    #[test]
    fn repeated_attributes_merge_as_protobuf_does() {
        // Two signal attribute messages in one command: the later namespace wins, and a later
        // message without a namespace keeps the earlier one.
        let mut cmd = command(13, "first");
        cmd.extend(field(13, &field(1, b"second")));
        cmd.extend(field(13, &field(3, b"no namespace here")));
        assert_eq!(
            cross_namespace_targets(&request(&[cmd]), "tn"),
            Ok(vec![(SIGNAL, "second".to_owned())])
        );
    }

    #[test]
    fn malformed_commands_are_errors() {
        // A command that is not length-delimited.
        assert_eq!(
            cross_namespace_targets(&[0x10, 0x01], "tn"),
            Err(ScanError::WrongWireType)
        );
        // A target namespace that is not UTF-8.
        let bad = request(&[{
            let mut c = vec![0x08, 0x07];
            c.extend(field(13, &field(1, &[0xff])));
            c
        }]);
        assert_eq!(
            cross_namespace_targets(&bad, "tn"),
            Err(ScanError::InvalidUtf8)
        );
        // Attributes that run past the end of the command.
        assert_eq!(
            cross_namespace_targets(&field(2, &[0x6a, 0x05, 0x0a]), "tn"),
            Err(ScanError::Truncated)
        );
    }
}
