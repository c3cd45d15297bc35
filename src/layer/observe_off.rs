//! The layer's metrics when the crate is built without the `metrics` feature: nothing is
//! recorded, and no metric key is ever built.

use std::sync::Arc;

use super::outcome::Outcome;

/// Records nothing (the `metrics` feature is off).
#[derive(Debug)]
pub(crate) struct Meters;

impl Meters {
    pub(crate) fn new(
        _known_namespaces: impl IntoIterator<Item = String>,
        _apis: Vec<Arc<str>>,
    ) -> Meters {
        Meters
    }

    pub(crate) fn latency_timer(&self, _namespace: &str) -> LatencyTimer {
        LatencyTimer
    }

    pub(crate) fn record(&self, _api: Option<usize>, _namespace: &str, _outcome: Outcome) {}
}

/// Times nothing (the `metrics` feature is off).
#[derive(Debug)]
pub(crate) struct LatencyTimer;

impl LatencyTimer {
    pub(crate) fn stop(self) {}
}
