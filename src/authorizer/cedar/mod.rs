//! [`CedarAuthorizer`]: decisions from a [Cedar](https://www.cedarpolicy.com) policy set, so
//! operators can write rules beyond "a role per namespace" (task queues, workflow types,
//! subjects) without writing code.
//!
//! Each call is a Cedar request: the principal is the caller (`Temporal::Caller`, or
//! `Temporal::Anonymous` without claims), the action is the API (`Temporal::Action::"StartWorkflowExecution"`,
//! in the groups `NamespaceWrite` and so on of Temporal's classification), the resource is the
//! namespace (`Temporal::Namespace::"default"`), and the context holds the roles that count
//! and the request fields the policies refer to (task queue, workflow type and id, schedule
//! id, signal, update and query names). The schema is `temporal.cedarschema` beside this
//! file plus one action per API; policies are validated against it when loaded.
//!
//! `examples/policies/temporal-default.cedar` writes Temporal's default rules as policies:
//! with it, this authorizer decides exactly as [`DefaultAuthorizer`](crate::DefaultAuthorizer).
//!
//! # Example
//! ```
//! use tonic_authz::{CallTarget, CedarAuthorizer, Claims, Role};
//!
//! let authz = CedarAuthorizer::from_policy_text(
//!     r#"permit (principal is Temporal::Caller, action in Temporal::Action::"NamespaceRead", resource)
//!        when { context.role >= 2 };"#,
//! )?;
//! let reader = Claims::new().with_namespace("default", Role::READER);
//! let api = "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace";
//! assert!(authz.decide(Some(&reader), &CallTarget::new(api, "default"))?.is_allow());
//! assert!(!authz.decide(Some(&reader), &CallTarget::new(api, "other"))?.is_allow());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cache;
mod decisions;
mod error;
mod memo;
mod policies;
mod reload;
pub use reload::Reload;
mod request;
mod schema;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use cedar_policy::Schema;

use decisions::Verdict;
pub use error::{CedarError, CedarErrorKind};
use policies::PolicySnapshot;
use request::Actions;

use crate::{ApiAccess, Authorizer, BoxFuture, CallTarget, Claims, Decision, Scope};

/// Decides from a Cedar policy set, reloadable at run time. Cheap to clone (clones share the
/// policies).
#[derive(Clone)]
pub struct CedarAuthorizer {
    inner: Arc<Inner>,
}

struct Inner {
    snapshot: ArcSwap<PolicySnapshot>,
    schema: Schema,
    actions: Actions,
    file: Option<PathBuf>,
    expose_reasons: bool,
    cedar: cedar_policy::Authorizer,
}

/// Builds a [`CedarAuthorizer`].
#[must_use]
#[derive(Debug, Default)]
pub struct CedarAuthorizerBuilder {
    access: Option<ApiAccess>,
    expose_reasons: bool,
}

impl CedarAuthorizerBuilder {
    /// The access table the action groups come from (start from [`ApiAccess::temporal`] to
    /// keep Temporal's APIs). Default: Temporal's table.
    pub fn access(mut self, access: ApiAccess) -> CedarAuthorizerBuilder {
        self.access = Some(access);
        self
    }

    /// Put the ids of the policies that decided a denial in the denial's reason, which the
    /// client sees (the layer's `exposeAuthorizerErrors`). Default false: the ids are only
    /// logged.
    pub fn expose_reasons(mut self, expose: bool) -> CedarAuthorizerBuilder {
        self.expose_reasons = expose;
        self
    }

    /// The authorizer over policies given as text.
    ///
    /// # Errors
    /// Policies that do not parse or do not validate against the schema.
    pub fn policy_text(self, text: &str) -> Result<CedarAuthorizer, CedarError> {
        self.build(text, None)
    }

    /// The authorizer over the policies in `file`; [`CedarAuthorizer::reload`] (or
    /// [`CedarAuthorizer::spawn_reloader`]) reads it again.
    ///
    /// # Errors
    /// A file that cannot be read, or policies that do not parse or validate; the message
    /// names the file and the policy.
    pub fn policy_file(self, file: impl AsRef<Path>) -> Result<CedarAuthorizer, CedarError> {
        let file = file.as_ref();
        let text = std::fs::read_to_string(file).map_err(|e| {
            CedarError::new(CedarErrorKind::Read, format!("{}: {e}", file.display()))
        })?;
        self.build(&text, Some(file.to_path_buf()))
    }

    fn build(self, text: &str, file: Option<PathBuf>) -> Result<CedarAuthorizer, CedarError> {
        let access = self.access.unwrap_or_else(ApiAccess::temporal);
        let schema = schema::schema(&access)?;
        let actions = Actions::new(access)?;
        let snapshot =
            PolicySnapshot::load(text, &schema, &actions.scopes()).map_err(|e| match &file {
                Some(f) => e.in_file(f),
                None => e,
            })?;
        Ok(CedarAuthorizer {
            inner: Arc::new(Inner {
                snapshot: ArcSwap::from_pointee(snapshot),
                schema,
                actions,
                file,
                expose_reasons: self.expose_reasons,
                cedar: cedar_policy::Authorizer::new(),
            }),
        })
    }
}

impl CedarAuthorizer {
    /// A builder (Temporal's access table, reasons not exposed).
    pub fn builder() -> CedarAuthorizerBuilder {
        CedarAuthorizerBuilder::default()
    }

    /// The authorizer over policies given as text, with the builder's defaults.
    ///
    /// # Errors
    /// Policies that do not parse or do not validate against the schema.
    pub fn from_policy_text(text: &str) -> Result<CedarAuthorizer, CedarError> {
        CedarAuthorizer::builder().policy_text(text)
    }

    /// The authorizer over the policies in `file`, with the builder's defaults.
    ///
    /// # Errors
    /// A file that cannot be read, or policies that do not parse or validate.
    pub fn from_policy_file(file: impl AsRef<Path>) -> Result<CedarAuthorizer, CedarError> {
        CedarAuthorizer::builder().policy_file(file)
    }

    /// The schema policies are validated against, as Cedar schema text (the shipped model
    /// plus one action per API of the access table).
    #[must_use]
    pub fn schema_text(&self) -> String {
        schema::schema_text(self.inner.actions.access())
    }

    /// The policy file, when the policies came from one.
    #[must_use]
    pub fn policy_file_path(&self) -> Option<&Path> {
        self.inner.file.as_deref()
    }

    /// Replaces the policies with `text`, validated first; on error the current policies stay.
    ///
    /// # Errors
    /// Policies that do not parse or validate.
    pub fn replace_policies(&self, text: &str) -> Result<(), CedarError> {
        let snapshot =
            PolicySnapshot::load(text, &self.inner.schema, &self.inner.actions.scopes())?;
        self.inner.snapshot.store(Arc::new(snapshot));
        Ok(())
    }

    /// The decision, synchronously (Cedar evaluation never waits on anything). The reason of
    /// a denial names the policies that decided it (`forbid`s that matched), or says that no
    /// policy permits the call; it is kept in the decision only with
    /// [`CedarAuthorizerBuilder::expose_reasons`], and logged at debug level in any case.
    ///
    /// # Errors
    /// A request field that is malformed on its path, or a Cedar failure building the request.
    pub fn decide(
        &self,
        claims: Option<&Claims>,
        target: &CallTarget,
    ) -> Result<Decision, tonic::Status> {
        let verdict = self.evaluate(claims, target)?;
        if verdict.allow {
            return Ok(Decision::Allow);
        }
        tracing::debug!(reason = %verdict.reason, "cedar denied the call");
        Ok(if self.inner.expose_reasons {
            Decision::deny_with_reason(verdict.reason.clone())
        } else {
            Decision::deny()
        })
    }

    /// Why the current policy set decides as it does for one call: the decision and the ids
    /// of the determining policies (the `permit`s that allowed it, or the `forbid`s that
    /// denied it; empty when nothing permits it). For `frontend can-i`.
    ///
    /// # Errors
    /// As [`CedarAuthorizer::decide`].
    pub fn explain(
        &self,
        claims: Option<&Claims>,
        target: &CallTarget,
    ) -> Result<(bool, Vec<String>), tonic::Status> {
        let verdict = self.evaluate(claims, target)?;
        Ok((verdict.allow, verdict.policies.clone()))
    }

    /// Cedar's answer for one call: the answer kept for an identical earlier call under the
    /// current snapshot, or its request and entities evaluated against the policies of that
    /// snapshot that can match the call's API and caller.
    fn evaluate(
        &self,
        claims: Option<&Claims>,
        target: &CallTarget,
    ) -> Result<Arc<Verdict>, tonic::Status> {
        let snapshot = self.inner.snapshot.load();
        let actions = &self.inner.actions;
        let call = actions.entities(claims, target)?;
        let fields = actions.fields(target, snapshot.fields)?;
        snapshot.decisions.get_or_decide(&call, &fields, || {
            let request = Actions::request(&call, &fields)?;
            let policies = snapshot.for_call(Some(&call.principal), target.api_name());
            let response = self
                .inner
                .cedar
                .is_authorized(&request, policies, &call.entities);
            let diagnostics = response.diagnostics();
            let mut had_errors = false;
            for error in diagnostics.errors() {
                had_errors = true;
                tracing::warn!(error = %error, "cedar policy failed to evaluate; it is skipped");
            }
            Ok(Verdict::new(
                response.decision() == cedar_policy::Decision::Allow,
                diagnostics.reason().map(ToString::to_string).collect(),
                had_errors,
            ))
        })
    }
}

impl Authorizer for CedarAuthorizer {
    fn authorize<'a>(
        &'a self,
        claims: Option<&'a Claims>,
        target: &'a CallTarget,
    ) -> BoxFuture<'a, Result<Decision, tonic::Status>> {
        Box::pin(std::future::ready(self.decide(claims, target)))
    }

    fn authorize_now(
        &self,
        claims: Option<&Claims>,
        target: &CallTarget,
    ) -> Option<Result<Decision, tonic::Status>> {
        Some(self.decide(claims, target))
    }

    fn needs_request(&self, api_name: &str) -> bool {
        // The namespace for namespace-scoped APIs, as the default authorizer; the request
        // fields only when some policy refers to one this API carries.
        let actions = &self.inner.actions;
        actions
            .access()
            .get(api_name)
            .is_some_and(|m| m.scope == Scope::Namespace)
            || actions.has_fields(api_name, self.inner.snapshot.load().fields)
    }
}

impl fmt::Debug for CedarAuthorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CedarAuthorizer")
            .field("file", &self.inner.file)
            .field(
                "policies",
                &self.inner.snapshot.load().policies.num_of_policies(),
            )
            .field("expose_reasons", &self.inner.expose_reasons)
            .finish_non_exhaustive()
    }
}
