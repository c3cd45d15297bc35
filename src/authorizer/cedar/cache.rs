//! The entities of recent calls, kept so a call like an earlier one does not build them again.
//!
//! What goes into a call's entity set (the caller entity, the namespace entity, the API's
//! action entity in its groups) and the part of the context that does not come from the
//! request message (the API and the two roles) depend only on the API, the namespace and the
//! claims' subject, auth type, issuer, groups, system role and role in that namespace. Building
//! them (evaluating each attribute, then the transitive closure of the entity set) is most of
//! a decision's cost, and a server sees the same few callers call the same few APIs over and
//! over, so they are kept here under exactly those inputs.
//!
//! An entry is found by a hash of the inputs and used only when every input compares equal,
//! so a hash collision or a reused allocation can never hand one caller another's entities.
//! The cache is bounded: when it holds [`CAPACITY`] entries it is emptied and fills again.
//! Nothing in it depends on the policies, so a policy reload keeps it.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use cedar_policy::{Context, Entities, EntityUid, RestrictedExpression};

use super::memo::Memo;
use crate::{Claims, Role};

/// At most this many entries; a full cache is emptied (a few hundred bytes to a few
/// kilobytes each).
pub(super) const CAPACITY: usize = 1024;

/// What one call's entities and base context are built from (borrowed from the call).
#[derive(Debug, Clone, Copy)]
pub(super) struct CallKey<'a> {
    pub(super) api: &'a str,
    pub(super) namespace: &'a str,
    pub(super) claims: Option<&'a Claims>,
    /// The four role bits of the role that counts for the API.
    pub(super) role: u16,
    /// The four role bits of the role in the namespace.
    pub(super) namespace_role: u16,
}

/// The same inputs [`OwnedKey::matches`] compares.
impl Hash for CallKey<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.api.hash(h);
        self.namespace.hash(h);
        self.role.hash(h);
        self.namespace_role.hash(h);
        if let Some(c) = self.claims {
            c.subject().hash(h);
            c.auth_type().hash(h);
            c.issuer().hash(h);
            role_bits(c.system()).hash(h);
            c.groups().hash(h);
        }
    }
}

impl CallKey<'_> {
    fn owned(&self) -> OwnedKey {
        OwnedKey {
            api: self.api.into(),
            namespace: self.namespace.into(),
            role: self.role,
            namespace_role: self.namespace_role,
            caller: self.claims.map(|c| Caller {
                subject: c.subject().into(),
                auth_type: c.auth_type().into(),
                issuer: c.issuer().map(Into::into),
                system: role_bits(c.system()),
                groups: c.groups().to_vec(),
            }),
        }
    }
}

/// The claims' parts the caller entity is built from.
#[derive(Debug)]
struct Caller {
    subject: Box<str>,
    auth_type: Box<str>,
    issuer: Option<Box<str>>,
    system: u16,
    groups: Vec<String>,
}

/// A [`CallKey`] kept with its entry.
#[derive(Debug)]
struct OwnedKey {
    api: Box<str>,
    namespace: Box<str>,
    role: u16,
    namespace_role: u16,
    caller: Option<Caller>,
}

impl OwnedKey {
    fn matches(&self, key: &CallKey<'_>) -> bool {
        let caller = match (&self.caller, key.claims) {
            (None, None) => true,
            (Some(own), Some(c)) => {
                *own.subject == *c.subject()
                    && *own.auth_type == *c.auth_type()
                    && own.issuer.as_deref() == c.issuer()
                    && own.system == role_bits(c.system())
                    && own.groups == c.groups()
            }
            _ => false,
        };
        caller
            && self.role == key.role
            && self.namespace_role == key.namespace_role
            && *self.api == *key.api
            && *self.namespace == *key.namespace
    }
}

/// One call's entity set, the uids of its request, and its context before the request fields.
#[derive(Debug)]
pub(super) struct CallEntities {
    pub(super) entities: Entities,
    pub(super) principal: EntityUid,
    pub(super) action: EntityUid,
    pub(super) resource: EntityUid,
    /// The context when the call adds no request field.
    pub(super) context: Context,
    /// The same context as pairs, to add request fields to.
    pub(super) pairs: Vec<(String, RestrictedExpression)>,
}

/// The cache (see the module docs).
#[derive(Debug, Default)]
pub(super) struct EntityCache {
    entries: Memo<OwnedKey, CallEntities, CAPACITY>,
}

impl EntityCache {
    /// The entry for `key`, built by `build` when there is none.
    ///
    /// # Errors
    /// Those of `build` (nothing is kept then).
    pub(super) fn get_or_build<E>(
        &self,
        key: &CallKey<'_>,
        build: impl FnOnce() -> Result<CallEntities, E>,
    ) -> Result<Arc<CallEntities>, E> {
        self.entries
            .get_or_insert(key, |k| k.matches(key), build, |_| Some(key.owned()))
    }

    /// How many entries the cache holds.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// A role as its four role bits (a stray bit from a buggy mapper cannot count as admin).
pub(super) fn role_bits(role: Role) -> u16 {
    (role & Role::from_bits(0b1111)).bits()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(context: &str) -> Result<CallEntities, ()> {
        let uid: EntityUid = r#"Temporal::Caller::"a""#.parse().map_err(|_| ())?;
        Ok(CallEntities {
            entities: Entities::empty(),
            principal: uid.clone(),
            action: uid.clone(),
            resource: uid,
            context: Context::empty(),
            pairs: vec![(
                "api".to_owned(),
                RestrictedExpression::new_string(context.to_owned()),
            )],
        })
    }

    #[test]
    fn equal_inputs_share_an_entry_and_others_do_not() {
        let cache = EntityCache::default();
        let alice = Claims::new().with_subject("alice").with_groups(["ops"]);
        let other_groups = Claims::new().with_subject("alice").with_groups(["dev"]);
        let key = |claims, namespace| CallKey {
            api: "/a",
            namespace,
            claims,
            role: 2,
            namespace_role: 2,
        };
        let first = cache.get_or_build(&key(Some(&alice), "ns"), || entry("first"));
        let same = alice.clone();
        let again = cache.get_or_build(&key(Some(&same), "ns"), || entry("again"));
        assert!(Arc::ptr_eq(&first.expect("built"), &again.expect("found")));
        for (claims, namespace) in [
            (Some(&other_groups), "ns"),
            (None, "ns"),
            (Some(&alice), "x"),
        ] {
            let built = cache
                .get_or_build(&key(claims, namespace), || entry("new"))
                .expect("built");
            assert_eq!(
                format!("{:?}", built.pairs),
                format!("{:?}", entry("new").expect("entry").pairs)
            );
        }
        assert_eq!(cache.len(), 4);
    }

    #[test]
    fn a_full_cache_is_emptied() {
        let cache = EntityCache::default();
        let names: Vec<String> = (0..=CAPACITY).map(|i| format!("ns-{i}")).collect();
        for name in &names {
            let key = CallKey {
                api: "/a",
                namespace: name,
                claims: None,
                role: 0,
                namespace_role: 0,
            };
            cache.get_or_build(&key, || entry("x")).expect("built");
        }
        assert_eq!(cache.len(), 1);
    }
}
