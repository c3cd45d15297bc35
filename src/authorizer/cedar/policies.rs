//! Loading a policy set: parse the Cedar text, name each policy by its `@id("...")`
//! annotation (so a decision's reason names policies the way their authors do), validate the
//! set against the schema, and note which request fields the policies refer to, so the
//! authorizer reads only those from each request.

use std::str::FromStr;

use cedar_policy::{Policy, PolicyId, PolicySet, Schema, ValidationMode, Validator};

use super::error::{CedarError, CedarErrorKind};

/// The request fields a policy may refer to as `context.<name>`, in the order of the bits of
/// [`PolicySnapshot::fields`].
pub(super) const CONTEXT_FIELDS: [&str; 8] = [
    "taskQueue",
    "normalTaskQueue",
    "workflowType",
    "workflowId",
    "scheduleId",
    "signalName",
    "updateName",
    "queryName",
];

/// A validated policy set and what it needs from each request.
#[derive(Debug)]
pub(super) struct PolicySnapshot {
    pub(super) policies: PolicySet,
    /// Bit `i` set when some policy mentions `CONTEXT_FIELDS[i]`.
    pub(super) fields: u16,
    /// The text the set was loaded from, to tell whether a file really changed.
    pub(super) text: String,
}

impl PolicySnapshot {
    /// Parses, renames and validates `text`.
    ///
    /// # Errors
    /// A parse error, a template (not supported), two policies with the same id, or a policy
    /// that does not validate against `schema`; the message names the policy.
    pub(super) fn load(text: &str, schema: &Schema) -> Result<PolicySnapshot, CedarError> {
        let parsed = PolicySet::from_str(text)
            .map_err(|e| CedarError::new(CedarErrorKind::Parse, describe(&e)))?;
        if let Some(template) = parsed.templates().next() {
            return Err(CedarError::new(
                CedarErrorKind::Parse,
                format!("policy {}: templates are not supported", template.id()),
            ));
        }
        let renamed: Vec<Policy> = parsed
            .policies()
            .map(|p| match p.annotation("id") {
                Some(id) => p.new_id(PolicyId::new(id)),
                None => p.clone(),
            })
            .collect();
        let policies = PolicySet::from_policies(renamed)
            .map_err(|e| CedarError::new(CedarErrorKind::Parse, e.to_string()))?;
        let result = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
        if !result.validation_passed() {
            let errors: Vec<String> = result.validation_errors().map(describe).collect();
            return Err(CedarError::new(
                CedarErrorKind::Invalid,
                format!("policies do not validate: {}", errors.join("; ")),
            ));
        }
        let sources: Vec<String> = policies.policies().map(ToString::to_string).collect();
        let fields = CONTEXT_FIELDS
            .iter()
            .enumerate()
            .filter(|(_, name)| sources.iter().any(|s| s.contains(*name)))
            .fold(0u16, |bits, (i, _)| bits | (1 << i));
        Ok(PolicySnapshot {
            policies,
            fields,
            text: text.to_owned(),
        })
    }
}

/// An error as one line.
fn describe(error: &impl std::fmt::Display) -> String {
    error.to_string()
}
