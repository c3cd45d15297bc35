//! The [`Authorizer`] plug-in point: allow or deny one call from the caller's claims and the
//! call target, plus Temporal's two implementations ([`DefaultAuthorizer`], [`NoopAuthorizer`]).
//!
//! # Example
//! ```
//! use tonic_authz::{Authorizer, CallTarget, Claims, Decision};
//!
//! // Any closure over (claims, target) is an authorizer.
//! let only_alice = |claims: Option<&Claims>, _target: &CallTarget| {
//!     let ok = claims.is_some_and(|c| c.subject() == "alice");
//!     async move { Ok(if ok { Decision::Allow } else { Decision::deny() }) }
//! };
//! fn assert_authorizer<A: Authorizer>(_: &A) {}
//! assert_authorizer(&only_alice);
//! ```

#[cfg(feature = "cedar")]
mod cedar;
mod default;

use std::future::Future;
use std::sync::Arc;

pub use crate::access::{Access, ApiAccess, MethodAccess, Scope};
#[cfg(feature = "cedar")]
pub use cedar::{CedarAuthorizer, CedarAuthorizerBuilder, CedarError, CedarErrorKind, Reload};
pub use default::DefaultAuthorizer;

use crate::{BoxFuture, CallTarget, Claims, Decision};

/// Decides whether a call may proceed (Temporal's `Authorizer`).
///
/// An `Err` is an authorizer failure, not a denial: the layer turns it into the generic
/// denial, or returns it as-is when the layer exposes authorizer errors.
pub trait Authorizer: Send + Sync + 'static {
    /// Decides on one call. `claims` is `None` when the caller presented no credentials and
    /// the claim mapper requires them.
    fn authorize<'a>(
        &'a self,
        claims: Option<&'a Claims>,
        target: &'a CallTarget,
    ) -> BoxFuture<'a, Result<Decision, tonic::Status>>;

    /// The decision when it can be made without waiting (a table lookup, a policy
    /// evaluation), or `None` when only [`authorize`](Self::authorize) can make it. The layer
    /// asks this first and awaits `authorize` only on `None`, which saves a boxed future per
    /// call. A decision must be the one `authorize` would make. Defaults to `None`.
    fn authorize_now(
        &self,
        claims: Option<&Claims>,
        target: &CallTarget,
    ) -> Option<Result<Decision, tonic::Status>> {
        let _ = (claims, target);
        None
    }

    /// Whether deciding on `api_name` needs the request message (and so its namespace).
    ///
    /// When `false` the layer does not read the body at all and the target's namespace is
    /// empty. Defaults to `true`, which is always correct; return `false` only for APIs whose
    /// decision cannot depend on the request.
    fn needs_request(&self, api_name: &str) -> bool {
        let _ = api_name;
        true
    }

    /// Whether deciding on `api_name` for a caller with these `claims` (`None`: the caller
    /// presented no credentials) needs the request message. The layer asks after the claim
    /// mapper has run and before it reads the body, so a caller the authorizer will refuse
    /// whatever the request says costs no buffering. Defaults to
    /// [`needs_request`](Self::needs_request).
    fn needs_request_for(&self, api_name: &str, claims: Option<&Claims>) -> bool {
        let _ = claims;
        self.needs_request(api_name)
    }
}

impl<F, Fut> Authorizer for F
where
    F: Fn(Option<&Claims>, &CallTarget) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Decision, tonic::Status>> + Send + 'static,
{
    fn authorize<'a>(
        &'a self,
        claims: Option<&'a Claims>,
        target: &'a CallTarget,
    ) -> BoxFuture<'a, Result<Decision, tonic::Status>> {
        Box::pin(self(claims, target))
    }
}

impl<A: Authorizer + ?Sized> Authorizer for Arc<A> {
    fn authorize<'a>(
        &'a self,
        claims: Option<&'a Claims>,
        target: &'a CallTarget,
    ) -> BoxFuture<'a, Result<Decision, tonic::Status>> {
        (**self).authorize(claims, target)
    }

    fn authorize_now(
        &self,
        claims: Option<&Claims>,
        target: &CallTarget,
    ) -> Option<Result<Decision, tonic::Status>> {
        (**self).authorize_now(claims, target)
    }

    fn needs_request(&self, api_name: &str) -> bool {
        (**self).needs_request(api_name)
    }

    fn needs_request_for(&self, api_name: &str, claims: Option<&Claims>) -> bool {
        (**self).needs_request_for(api_name, claims)
    }
}

/// Allows every call (Temporal's no-op authorizer, selected by `authorizer: noop`).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopAuthorizer;

impl Authorizer for NoopAuthorizer {
    fn authorize<'a>(
        &'a self,
        _claims: Option<&'a Claims>,
        _target: &'a CallTarget,
    ) -> BoxFuture<'a, Result<Decision, tonic::Status>> {
        Box::pin(std::future::ready(Ok(Decision::Allow)))
    }

    fn authorize_now(
        &self,
        _claims: Option<&Claims>,
        _target: &CallTarget,
    ) -> Option<Result<Decision, tonic::Status>> {
        Some(Ok(Decision::Allow))
    }

    fn needs_request(&self, _api_name: &str) -> bool {
        false
    }
}
