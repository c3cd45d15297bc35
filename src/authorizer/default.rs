//! [`DefaultAuthorizer`]: Temporal's default decision procedure over an [`ApiAccess`] table.

use crate::temporal::{is_health_check_api, is_worker_api};
use crate::{ApiAccess, Authorizer, BoxFuture, CallTarget, Claims, Decision, Role, Scope};

/// Temporal's default authorizer.
///
/// 1. `/grpc.health.v1.Health/Check` and `WorkflowService/GetSystemInfo` are always allowed.
/// 2. No claims: deny.
/// 3. Unknown API: deny.
/// 4. Cluster scope uses the system role; namespace scope ORs the system role with the role in
///    the request's namespace (exact, case-sensitive).
/// 5. Allow iff that mask, as a number, is at least the access's required role.
/// 6. Only with [`DefaultAuthorizer::with_worker_role`]: otherwise, allow a namespace-scoped
///    API a worker needs ([`worker_apis`](crate::worker_apis)) when that mask holds the
///    Worker role.
///
/// # Example
/// ```
/// use tonic_authz::{Access, ApiAccess, DefaultAuthorizer, Scope};
///
/// let authz = DefaultAuthorizer::new().with_access(
///     ApiAccess::temporal()
///         .try_with_method("/shop.Orders/Get", Scope::Namespace, Access::Read)?
///         .with_service("shop.Admin", Scope::Cluster, Access::Admin),
/// );
/// # let _ = authz;
/// # Ok::<(), tonic_authz::InvalidMethodPath>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct DefaultAuthorizer {
    access: ApiAccess,
    worker_role: bool,
}

impl DefaultAuthorizer {
    /// The default authorizer over Temporal's table.
    #[must_use]
    pub fn new() -> DefaultAuthorizer {
        DefaultAuthorizer::default()
    }

    /// Replaces the access table (start from [`ApiAccess::temporal`] to keep Temporal's APIs).
    #[must_use]
    pub fn with_access(mut self, access: ApiAccess) -> DefaultAuthorizer {
        self.access = access;
        self
    }

    /// Gives the Worker role a meaning: a caller holding it in a namespace may also call the
    /// APIs a worker needs there ([`worker_apis`](crate::worker_apis)), and nothing else it
    /// could not call already. Default: off, as in Temporal, where the Worker role alone grants
    /// nothing.
    #[must_use]
    pub fn with_worker_role(mut self) -> DefaultAuthorizer {
        self.worker_role = true;
        self
    }

    /// Whether the Worker role grants the worker APIs (see
    /// [`DefaultAuthorizer::with_worker_role`]).
    #[must_use]
    pub fn worker_role(&self) -> bool {
        self.worker_role
    }

    /// The access table.
    #[must_use]
    pub fn access(&self) -> &ApiAccess {
        &self.access
    }

    /// The decision, synchronously (the procedure never waits on anything).
    #[must_use]
    // Inlined into the layer's allowed path with its other steps (see `layer::call`).
    #[inline(always)]
    pub fn decide(&self, claims: Option<&Claims>, target: &CallTarget) -> Decision {
        let api = target.api_name();
        if is_health_check_api(api) {
            return Decision::Allow;
        }
        let Some(claims) = claims else {
            return Decision::deny();
        };
        let Some(method) = self.access.get(api) else {
            return Decision::deny();
        };
        let effective = match method.scope {
            Scope::Cluster => claims.system(),
            Scope::Namespace => claims.system() | claims.namespace_role(target.namespace()),
        };
        // Numeric comparison, as Temporal; bits outside the four roles are ignored so a buggy
        // mapper's stray bit cannot count as admin.
        let effective = effective & Role::from_bits(0b1111);
        let by_role = effective.bits() >= method.access.required_role().bits();
        // The Worker role, when switched on, adds the worker APIs in the namespace.
        let by_worker_role = self.worker_role
            && method.scope == Scope::Namespace
            && effective.contains(Role::WORKER)
            && is_worker_api(api);
        if by_role || by_worker_role {
            Decision::Allow
        } else {
            Decision::deny()
        }
    }
}

impl Authorizer for DefaultAuthorizer {
    fn authorize<'a>(
        &'a self,
        claims: Option<&'a Claims>,
        target: &'a CallTarget,
    ) -> BoxFuture<'a, Result<Decision, tonic::Status>> {
        Box::pin(std::future::ready(Ok(self.decide(claims, target))))
    }

    fn authorize_now(
        &self,
        claims: Option<&Claims>,
        target: &CallTarget,
    ) -> Option<Result<Decision, tonic::Status>> {
        Some(Ok(self.decide(claims, target)))
    }

    fn needs_request(&self, api_name: &str) -> bool {
        // Only namespace-scoped APIs look at the request; the rest pass straight through.
        !is_health_check_api(api_name)
            && self
                .access
                .get(api_name)
                .is_some_and(|m| m.scope == Scope::Namespace)
    }

    fn needs_request_for(&self, api_name: &str, claims: Option<&Claims>) -> bool {
        // Without claims every API but the health check is denied, whatever the request.
        claims.is_some() && self.needs_request(api_name)
    }
}
