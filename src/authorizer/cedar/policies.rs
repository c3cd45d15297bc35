//! Loading a policy set: parse the Cedar text, name each policy by its `@id("...")`
//! annotation (so a decision's reason names policies the way their authors do), validate the
//! set against the schema, and note which request fields the policies refer to, so the
//! authorizer reads only those from each request.
//!
//! Cedar evaluates every policy of the set it is given, so the snapshot also keeps, per API,
//! the policies whose scope can match it: a policy whose action scope excludes the API, or
//! whose principal scope is `principal == X` for another caller, can never be satisfied by the
//! call (nor fail on it, since its condition is not evaluated), so leaving it out changes no
//! decision and no reason. With 1 000 per-caller policies a call evaluates a handful.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    ActionConstraint, EntityUid, Policy, PolicyId, PolicySet, PrincipalConstraint, Schema,
    ValidationMode, Validator,
};

use super::decisions::DecisionCache;
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

/// An API's action and the action groups it is in, for matching policy scopes.
pub(super) struct ActionScope<'a> {
    pub(super) api: &'a str,
    pub(super) uid: EntityUid,
    pub(super) groups: HashSet<EntityUid>,
}

/// At most this many policy copies go into the per-API and per-caller subsets; beyond it the
/// subsets are not built and every call evaluates the whole set (correct, slower).
const MAX_INDEXED: usize = 200_000;

/// A validated policy set and what it needs from each request.
#[derive(Debug)]
pub(super) struct PolicySnapshot {
    pub(super) policies: PolicySet,
    /// Per API: the policies without a `principal ==` scope whose action scope admits it.
    by_action: HashMap<Box<str>, PolicySet>,
    /// The policies without a `principal ==` scope, for APIs outside the table.
    generic: PolicySet,
    /// Per caller named in a `principal ==` scope: the generic policies plus its own.
    by_principal: HashMap<EntityUid, PolicySet>,
    /// Bit `i` set when some policy mentions `CONTEXT_FIELDS[i]`.
    pub(super) fields: u16,
    /// The text the set was loaded from, to tell whether a file really changed.
    pub(super) text: String,
    /// The answers of recent calls under this set.
    pub(super) decisions: DecisionCache,
}

impl PolicySnapshot {
    /// Parses, renames and validates `text`.
    ///
    /// # Errors
    /// A parse error, a template (not supported), two policies with the same id, or a policy
    /// that does not validate against `schema`; the message names the policy.
    pub(super) fn load(
        text: &str,
        schema: &Schema,
        actions: &[ActionScope<'_>],
    ) -> Result<PolicySnapshot, CedarError> {
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
        let (by_action, generic, by_principal) = index(&policies, actions)?;
        Ok(PolicySnapshot {
            policies,
            by_action,
            generic,
            by_principal,
            fields,
            text: text.to_owned(),
            decisions: DecisionCache::default(),
        })
    }

    /// The policies that can match a call of `api` by `principal`.
    pub(super) fn for_call(&self, principal: Option<&EntityUid>, api: &str) -> &PolicySet {
        if let Some(own) = principal.and_then(|p| self.by_principal.get(p)) {
            return own;
        }
        self.by_action.get(api).unwrap_or(&self.generic)
    }
}

type Index = (
    HashMap<Box<str>, PolicySet>,
    PolicySet,
    HashMap<EntityUid, PolicySet>,
);

/// The per-API and per-caller subsets of `policies` (see the module docs).
fn index(policies: &PolicySet, actions: &[ActionScope<'_>]) -> Result<Index, CedarError> {
    let set = |p: Vec<Policy>| {
        PolicySet::from_policies(p)
            .map_err(|e| CedarError::new(CedarErrorKind::Parse, e.to_string()))
    };
    let mut generic = Vec::new();
    let mut named: HashMap<EntityUid, Vec<Policy>> = HashMap::new();
    for policy in policies.policies() {
        match policy.principal_constraint() {
            PrincipalConstraint::Eq(uid) => named.entry(uid).or_default().push(policy.clone()),
            _ => generic.push(policy.clone()),
        }
    }
    let admits = |policy: &Policy, scope: &ActionScope<'_>| match policy.action_constraint() {
        ActionConstraint::Any => true,
        ActionConstraint::Eq(uid) => uid == scope.uid,
        ActionConstraint::In(uids) => uids
            .iter()
            .any(|u| *u == scope.uid || scope.groups.contains(u)),
    };
    let action_copies: usize = actions
        .iter()
        .map(|a| generic.iter().filter(|p| admits(p, a)).count())
        .sum();
    let principal_copies =
        named.len() * generic.len() + named.values().map(Vec::len).sum::<usize>();
    if action_copies + principal_copies > MAX_INDEXED {
        return Ok((HashMap::new(), policies.clone(), HashMap::new()));
    }
    let mut by_action = HashMap::with_capacity(actions.len());
    for scope in actions {
        let admitted: Vec<Policy> = generic
            .iter()
            .filter(|p| admits(p, scope))
            .cloned()
            .collect();
        by_action.insert(scope.api.into(), set(admitted)?);
    }
    let mut by_principal = HashMap::with_capacity(named.len());
    for (uid, own) in named {
        by_principal.insert(uid, set(generic.iter().cloned().chain(own).collect())?);
    }
    Ok((by_action, set(generic)?, by_principal))
}

/// An error as one line.
fn describe(error: &impl std::fmt::Display) -> String {
    error.to_string()
}
