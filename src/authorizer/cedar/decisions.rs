//! The decisions of recent calls under one policy set, kept so a call exactly like an earlier
//! one is answered without evaluating the policies again.
//!
//! Cedar's answer is a function of the policies, the entities and the request alone: there is
//! no clock, no randomness and no outside lookup in an evaluation. A call's entities and the
//! request's principal, action, resource and base context are one entry of the entity cache,
//! and the rest of the context is the request fields the policies refer to. So an answer is
//! kept under that entry (held here, so its address cannot be reused while the answer is
//! kept) and the field values, and used only when both compare equal: the entry by identity,
//! every field value in full. A hash collision can only cost an evaluation.
//!
//! The cache belongs to one policy snapshot, so a reload starts with an empty one. An answer
//! whose evaluation reported a policy error is not kept, so the warning is logged on every
//! call that meets it. The cache is bounded: when it holds [`CAPACITY`] answers it is emptied
//! and fills again.

use std::sync::Arc;

use super::cache::CallEntities;
use super::memo::Memo;
use super::policies::CONTEXT_FIELDS;

/// At most this many answers (each well under a kilobyte).
pub(super) const CAPACITY: usize = 4096;

/// The request fields of one call, by their index in [`CONTEXT_FIELDS`]: a value only for the
/// fields the policies refer to that the request carries, non-empty.
pub(super) type Fields<'a> = [Option<&'a str>; CONTEXT_FIELDS.len()];

/// Cedar's answer for one call.
#[derive(Debug)]
pub(super) struct Verdict {
    /// The call is allowed.
    pub(super) allow: bool,
    /// The ids of the determining policies: the permits that allowed it, or the forbids that
    /// denied it (empty when nothing permits it).
    pub(super) policies: Vec<String>,
    /// Some policy failed to evaluate (it was skipped); such an answer is not kept.
    pub(super) had_errors: bool,
    /// Why a denial was made, built once with the answer: the forbids that matched, or that
    /// nothing permits the call. Empty when allowed.
    pub(super) reason: String,
}

impl Verdict {
    /// The answer, with its reason built.
    pub(super) fn new(allow: bool, policies: Vec<String>, had_errors: bool) -> Verdict {
        let reason = if allow {
            String::new()
        } else if policies.is_empty() {
            "no policy permits the call".to_owned()
        } else {
            format!("forbidden by policy {}", policies.join(", "))
        };
        Verdict {
            allow,
            policies,
            had_errors,
            reason,
        }
    }
}

/// What a kept answer was computed from.
#[derive(Debug)]
struct Kept {
    call: Arc<CallEntities>,
    fields: [Option<Box<str>>; CONTEXT_FIELDS.len()],
}

impl Kept {
    fn matches(&self, call: &Arc<CallEntities>, fields: &Fields<'_>) -> bool {
        Arc::ptr_eq(&self.call, call)
            && self
                .fields
                .iter()
                .zip(fields)
                .all(|(own, theirs)| own.as_deref() == *theirs)
    }
}

/// The cache (see the module docs).
#[derive(Debug, Default)]
pub(super) struct DecisionCache {
    entries: Memo<Kept, Verdict, CAPACITY>,
}

impl DecisionCache {
    /// The answer for `call` with `fields`, computed by `decide` when there is none kept.
    ///
    /// # Errors
    /// Those of `decide` (nothing is kept then).
    pub(super) fn get_or_decide<E>(
        &self,
        call: &Arc<CallEntities>,
        fields: &Fields<'_>,
        decide: impl FnOnce() -> Result<Verdict, E>,
    ) -> Result<Arc<Verdict>, E> {
        self.entries.get_or_insert(
            &(Arc::as_ptr(call), fields),
            |k| k.matches(call, fields),
            decide,
            |verdict| {
                (!verdict.had_errors).then(|| Kept {
                    call: Arc::clone(call),
                    fields: fields.map(|f| f.map(Into::into)),
                })
            },
        )
    }

    /// How many answers the cache holds.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cedar_policy::{Context, Entities, EntityUid};
    use std::cell::Cell;

    fn call() -> Arc<CallEntities> {
        let uid: EntityUid = r#"Temporal::Caller::"a""#.parse().expect("uid");
        Arc::new(CallEntities {
            entities: Entities::empty(),
            principal: uid.clone(),
            action: uid.clone(),
            resource: uid,
            context: Context::empty(),
            pairs: Vec::new(),
        })
    }

    fn fields(workflow_type: Option<&str>) -> Fields<'_> {
        let mut f: Fields<'_> = [None; CONTEXT_FIELDS.len()];
        f[2] = workflow_type;
        f
    }

    /// Decides `allow` and counts the evaluations.
    fn decider(
        count: &Cell<u32>,
        allow: bool,
        had_errors: bool,
    ) -> impl FnOnce() -> Result<Verdict, ()> + '_ {
        move || {
            count.set(count.get() + 1);
            Ok(Verdict::new(allow, vec!["p".to_owned()], had_errors))
        }
    }

    #[test]
    fn only_an_identical_call_reuses_an_answer() {
        let cache = DecisionCache::default();
        let evaluations = Cell::new(0);
        let (a, twin) = (call(), call());
        let first = cache
            .get_or_decide(
                &a,
                &fields(Some("Order")),
                decider(&evaluations, true, false),
            )
            .expect("decided");
        let again = cache
            .get_or_decide(
                &a,
                &fields(Some("Order")),
                decider(&evaluations, false, false),
            )
            .expect("kept");
        assert!(again.allow && Arc::ptr_eq(&first, &again));
        assert_eq!(evaluations.get(), 1);
        // Another field value, no value, or equal entities in another entry: evaluated again.
        for (entry, value) in [(&a, Some("Orde")), (&a, None), (&twin, Some("Order"))] {
            let other = cache
                .get_or_decide(entry, &fields(value), decider(&evaluations, false, false))
                .expect("decided");
            assert!(!other.allow);
        }
        assert_eq!(evaluations.get(), 4);
        assert_eq!(cache.len(), 4);
    }

    #[test]
    fn an_answer_with_policy_errors_is_not_kept() {
        let cache = DecisionCache::default();
        let evaluations = Cell::new(0);
        let a = call();
        for _ in 0..2 {
            let verdict = cache
                .get_or_decide(&a, &fields(None), decider(&evaluations, false, true))
                .expect("decided");
            assert!(!verdict.allow);
        }
        assert_eq!(evaluations.get(), 2);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn a_failed_decision_is_not_kept_and_a_full_cache_is_emptied() {
        let cache = DecisionCache::default();
        let a = call();
        let failed: Result<Arc<Verdict>, ()> = cache.get_or_decide(&a, &fields(None), || Err(()));
        assert!(failed.is_err());
        assert_eq!(cache.len(), 0);
        let names: Vec<String> = (0..=CAPACITY).map(|i| format!("type-{i}")).collect();
        let evaluations = Cell::new(0);
        for name in &names {
            cache
                .get_or_decide(&a, &fields(Some(name)), decider(&evaluations, true, false))
                .expect("decided");
        }
        assert_eq!(cache.len(), 1);
    }
}
