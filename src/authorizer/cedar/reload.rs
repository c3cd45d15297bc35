//! Policy reload: the policy file is read again when it changes, and a new set replaces the
//! old one only when it parses and validates. A bad or missing file keeps the old policies,
//! is logged and is counted in `tonic_authz_cedar_reload_failures_total`.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::policies::PolicySnapshot;
use super::{CedarAuthorizer, CedarError, CedarErrorKind, Inner};

/// Counter of reloads that kept the old policies.
#[cfg(feature = "metrics")]
pub(super) const RELOAD_FAILURES: &str = "tonic_authz_cedar_reload_failures_total";
/// Counter of reloads that replaced the policies.
#[cfg(feature = "metrics")]
pub(super) const RELOADS: &str = "tonic_authz_cedar_reloads_total";

/// What a reload did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reload {
    /// The file is unchanged; nothing was done.
    Unchanged,
    /// The new policies replaced the old ones.
    Replaced,
}

impl CedarAuthorizer {
    /// Reads the policy file again; when its text changed and the new policies validate, they
    /// replace the current ones. On error the current policies stay, the failure is logged and
    /// counted.
    ///
    /// # Errors
    /// No policy file (the policies came from text), a file that cannot be read (removed,
    /// say), or policies that do not parse or validate.
    pub fn reload(&self) -> Result<Reload, CedarError> {
        let result = reload(&self.inner);
        match &result {
            Ok(Reload::Replaced) => {
                #[cfg(feature = "metrics")]
                metrics::counter!(RELOADS).increment(1);
                tracing::info!(file = ?self.inner.file, "cedar policies reloaded");
            }
            Ok(Reload::Unchanged) => {}
            Err(e) => {
                #[cfg(feature = "metrics")]
                metrics::counter!(RELOAD_FAILURES).increment(1);
                tracing::warn!(error = %e, "cedar policy reload failed; the previous policies stay");
            }
        }
        result
    }

    /// Checks the policy file every `interval` on the current tokio runtime and reloads it
    /// when it changed (see [`CedarAuthorizer::reload`]). The task ends when the last clone
    /// of the authorizer is dropped. Must be called inside a tokio runtime.
    pub fn spawn_reloader(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        #[cfg(feature = "metrics")]
        metrics::describe_counter!(
            RELOAD_FAILURES,
            "Cedar policy reloads that failed and kept the previous policies"
        );
        #[cfg(feature = "metrics")]
        metrics::describe_counter!(RELOADS, "Cedar policy reloads that replaced the policies");
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let authz = CedarAuthorizer { inner };
                // File reads block, so they run where blocking is allowed.
                let _ = tokio::task::spawn_blocking(move || authz.reload()).await;
            }
        })
    }
}

fn reload(inner: &Inner) -> Result<Reload, CedarError> {
    let Some(file) = &inner.file else {
        return Err(CedarError::new(
            CedarErrorKind::Read,
            "the policies did not come from a file",
        ));
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| CedarError::new(CedarErrorKind::Read, format!("{}: {e}", file.display())))?;
    if inner.snapshot.load().text == text {
        return Ok(Reload::Unchanged);
    }
    let snapshot = PolicySnapshot::load(&text, &inner.schema, &inner.actions.scopes())
        .map_err(|e| e.in_file(file))?;
    inner.snapshot.store(Arc::new(snapshot));
    Ok(Reload::Replaced)
}
