//! What every decision did, for operators: the metrics (Temporal's names where Temporal has
//! them). Namespace labels are bounded: only namespaces the operator declared as known become
//! label values; anything else is `_unknown_`, as Temporal does with its registry.
//!
//! The metric keys are built once, when the layer is built, so a call only looks its keys up;
//! the metrics are described (help text, unit) then too. `docs/observability.md` lists them
//! with what to alert on.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use metrics::{Histogram, IntoF64, Key, Label, Level, Metadata, Unit};

use super::outcome::Outcome;
use crate::ClaimsErrorKind;

/// The label value for a namespace nobody declared.
pub(crate) const UNKNOWN_NAMESPACE: &str = "_unknown_";

const DECISIONS: &str = "tonic_authz_decisions_total";
const LATENCY: &str = "service_authorization_latency";
const UNAUTHORIZED: &str = "service_errors_unauthorized";
const AUTHORIZE_FAILED: &str = "service_errors_authorize_failed";
const MAPPER_FAILURES: &str = "tonic_authz_claim_mapper_failures_total";
const DRY_RUN_DENIALS: &str = "tonic_authz_dry_run_denials_total";
const API_DECISIONS: &str = "tonic_authz_api_decisions_total";

/// The label value for a method no table knows (callers choose paths: they never become
/// label values).
const UNKNOWN_API: &str = "_unknown_";

/// Describes the layer's metrics to the installed recorder (help text and unit), so exporters
/// such as Prometheus show them.
fn describe() {
    metrics::describe_counter!(
        DECISIONS,
        Unit::Count,
        "Authorization decisions by outcome: allowed, denied, dry_run_denied (denied but let \
         through in dry-run mode), claim_mapper_failed, authorizer_failed, malformed_request."
    );
    metrics::describe_histogram!(
        LATENCY,
        Unit::Seconds,
        "Time the authorizer took to decide one call, by namespace (Temporal's name)."
    );
    metrics::describe_counter!(
        UNAUTHORIZED,
        Unit::Count,
        "Calls denied by the authorizer, by namespace (Temporal's name); dry-run denials are \
         counted in tonic_authz_dry_run_denials_total instead."
    );
    metrics::describe_counter!(
        AUTHORIZE_FAILED,
        Unit::Count,
        "Calls denied because the authorizer failed (returned an error), by namespace \
         (Temporal's name)."
    );
    metrics::describe_counter!(
        MAPPER_FAILURES,
        Unit::Count,
        "Calls denied because the claim mapper refused the credentials, by reason."
    );
    metrics::describe_counter!(
        API_DECISIONS,
        Unit::Count,
        "Authorization decisions by API (the gRPC method path; _unknown_ for methods no table \
         knows) and outcome, as in tonic_authz_decisions_total."
    );
    metrics::describe_counter!(
        DRY_RUN_DENIALS,
        Unit::Count,
        "Calls the authorizer denied but the layer let through because it runs in dry-run \
         mode, by namespace."
    );
}

/// What the `metrics` macros would attach, so recorders that filter on it see the same.
static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

impl Outcome {
    const ALL: [Outcome; 6] = [
        Outcome::Allowed,
        Outcome::Denied,
        Outcome::DryRunDenied,
        Outcome::MapperFailed(ClaimsErrorKind::Other),
        Outcome::AuthorizerFailed,
        Outcome::Malformed,
    ];

    /// The position of this outcome's decision counter in [`Meters`].
    fn index(self) -> usize {
        match self {
            Outcome::Allowed => 0,
            Outcome::Denied => 1,
            Outcome::DryRunDenied => 2,
            Outcome::MapperFailed(_) => 3,
            Outcome::AuthorizerFailed => 4,
            Outcome::Malformed => 5,
        }
    }
}

/// The keys of the metrics labelled with one namespace.
#[derive(Debug)]
struct NamespaceKeys {
    latency: Key,
    unauthorized: Key,
    dry_run_denied: Key,
    authorize_failed: Key,
}

impl NamespaceKeys {
    fn new(namespace: &str) -> NamespaceKeys {
        let labels = vec![
            Label::new("operation", "Authorization"),
            Label::new("namespace", namespace.to_owned()),
        ];
        NamespaceKeys {
            latency: Key::from_parts(LATENCY, labels.clone()),
            unauthorized: Key::from_parts(UNAUTHORIZED, labels.clone()),
            dry_run_denied: Key::from_parts(DRY_RUN_DENIALS, labels.clone()),
            authorize_failed: Key::from_parts(AUTHORIZE_FAILED, labels),
        }
    }
}

/// Every metric key a call can need, built once per layer.
#[derive(Debug)]
pub(crate) struct Meters {
    decisions: [Key; 6],
    /// By known method, at the position its plan names ([`MethodPlan::meter`]).
    ///
    /// [`MethodPlan::meter`]: super::MethodPlan::meter
    apis: Vec<[Key; 6]>,
    unknown_api: [Key; 6],
    known: HashMap<String, NamespaceKeys, foldhash::fast::RandomState>,
    unknown: NamespaceKeys,
}

impl Meters {
    /// Keys for the declared namespaces and the known methods (`apis`, each at the position
    /// its plan's `meter` names).
    pub(crate) fn new(
        known_namespaces: impl IntoIterator<Item = String>,
        apis: Vec<Arc<str>>,
    ) -> Meters {
        describe();
        let api_keys = |api: &str| {
            Outcome::ALL.map(|o| {
                Key::from_parts(
                    API_DECISIONS,
                    vec![
                        Label::new("api", api.to_owned()),
                        Label::from_static_parts("outcome", o.as_str()),
                    ],
                )
            })
        };
        let meters = Meters {
            apis: apis.iter().map(|api| api_keys(api)).collect(),
            unknown_api: api_keys(UNKNOWN_API),
            decisions: Outcome::ALL.map(|o| {
                Key::from_parts(
                    DECISIONS,
                    vec![Label::from_static_parts("outcome", o.as_str())],
                )
            }),
            known: known_namespaces
                .into_iter()
                .map(|ns| {
                    let keys = NamespaceKeys::new(&ns);
                    (ns, keys)
                })
                .collect(),
            unknown: NamespaceKeys::new(UNKNOWN_NAMESPACE),
        };
        meters.register();
        meters
    }

    /// Registers the counters every deployment has at zero, so their series exist before the
    /// first event: an alert on `increase(...)` or a dashboard panel then sees 0, not "no
    /// data". Per-API and per-namespace series appear with their first call.
    fn register(&self) {
        metrics::with_recorder(|recorder| {
            for key in self.decisions.iter().chain([
                &self.unknown.unauthorized,
                &self.unknown.authorize_failed,
                &self.unknown.dry_run_denied,
            ]) {
                recorder.register_counter(key, &METADATA).increment(0);
            }
        });
    }

    /// The keys for `namespace`: its own when declared, `_unknown_` otherwise.
    fn namespace(&self, namespace: &str) -> &NamespaceKeys {
        if namespace.is_empty() {
            return &self.unknown;
        }
        self.known.get(namespace).unwrap_or(&self.unknown)
    }

    /// A timer for one authorizer call in `namespace`, running only when the installed
    /// recorder keeps the latency histogram: a call reads no clock for a histogram that
    /// nothing records (no recorder installed, or one that drops it). The `metrics` facade
    /// cannot say whether a histogram records, but a histogram computes the value it is given
    /// only when it does, so the timer hands it a value that notes being computed, zero
    /// times over: nothing is recorded. The recorder is asked first with the `_unknown_`
    /// namespace's key, which needs no lookup, so without a recorder a call looks up no
    /// namespace; a recorder that keeps the histogram for some namespaces but not for
    /// `_unknown_` therefore gets no latency.
    // Inlined into the layer's allowed path with its other steps (see `layer::call`).
    #[inline(always)]
    pub(crate) fn latency_timer(&self, namespace: &str) -> LatencyTimer {
        metrics::with_recorder(|recorder| {
            let unknown = recorder.register_histogram(&self.unknown.latency, &METADATA);
            if !records(&unknown) {
                return LatencyTimer { running: None };
            }
            let keys = self.namespace(namespace);
            let histogram = if std::ptr::eq(keys, &self.unknown) {
                unknown
            } else {
                recorder.register_histogram(&keys.latency, &METADATA)
            };
            LatencyTimer {
                running: records(&histogram).then(|| (histogram, Instant::now())),
            }
        })
    }

    /// Records the counters of one call: `api` is the method's position (its plan's
    /// `meter`), `None` for a method no table knows. The namespace's keys are looked up only
    /// for the outcomes counted by namespace, so an allowed call does not.
    #[inline(always)]
    pub(crate) fn record(&self, api: Option<usize>, namespace: &str, outcome: Outcome) {
        metrics::with_recorder(|recorder| {
            recorder
                .register_counter(&self.decisions[outcome.index()], &METADATA)
                .increment(1);
            let api_keys = api
                .and_then(|i| self.apis.get(i))
                .unwrap_or(&self.unknown_api);
            recorder
                .register_counter(&api_keys[outcome.index()], &METADATA)
                .increment(1);
            match outcome {
                Outcome::Denied => {
                    recorder
                        .register_counter(&self.namespace(namespace).unauthorized, &METADATA)
                        .increment(1);
                }
                // Apart from the real denials, so a dry run never trips their alerts.
                Outcome::DryRunDenied => {
                    recorder
                        .register_counter(&self.namespace(namespace).dry_run_denied, &METADATA)
                        .increment(1);
                }
                Outcome::AuthorizerFailed => {
                    recorder
                        .register_counter(&self.namespace(namespace).authorize_failed, &METADATA)
                        .increment(1);
                }
                Outcome::MapperFailed(kind) => {
                    // A failure path: its key is built here rather than one per error kind
                    // up front.
                    let key = Key::from_parts(
                        MAPPER_FAILURES,
                        vec![Label::from_static_parts("reason", kind.as_str())],
                    );
                    recorder.register_counter(&key, &METADATA).increment(1);
                }
                Outcome::Allowed | Outcome::Malformed => {}
            }
        });
    }
}

/// How long one authorizer call took, for the latency histogram; idle when nothing records it.
#[derive(Debug)]
pub(crate) struct LatencyTimer {
    running: Option<(Histogram, Instant)>,
}

impl LatencyTimer {
    /// Records the time since the timer started, if it is running.
    #[inline(always)]
    pub(crate) fn stop(self) {
        if let Some((histogram, started)) = self.running {
            histogram.record(started.elapsed().as_secs_f64());
        }
    }
}

/// Whether `histogram` records what it is given.
#[inline(always)]
fn records(histogram: &Histogram) -> bool {
    let asked = Cell::new(false);
    histogram.record_many(Noted(&asked), 0);
    asked.get()
}

/// A histogram value that notes whether the histogram asked for it.
struct Noted<'a>(&'a Cell<bool>);

impl IntoF64 for Noted<'_> {
    fn into_f64(self) -> f64 {
        self.0.set(true);
        0.0
    }
}
