//! [`DefaultAuthorizer`]: Temporal's default decision procedure over an [`ApiAccess`] table.

use crate::temporal::is_health_check_api;
use crate::{ApiAccess, Authorizer, BoxFuture, CallTarget, Claims, Decision, Role, Scope};

/// Temporal's default authorizer.
///
/// 1. `/grpc.health.v1.Health/Check` and `WorkflowService/GetSystemInfo` are always allowed.
/// 2. No claims: deny.
/// 3. Unknown API: deny.
/// 4. Cluster scope uses the system role; namespace scope ORs the system role with the role in
///    the request's namespace (exact, case-sensitive).
/// 5. Allow iff that mask, as a number, is at least the access's required role.
///
/// # Example
/// ```
/// use tonic_authz::{Access, ApiAccess, DefaultAuthorizer, Scope};
///
/// let authz = DefaultAuthorizer::new().with_access(
///     ApiAccess::temporal()
///         .with_method("/shop.Orders/Get", Scope::Namespace, Access::Read)
///         .with_service("shop.Admin", Scope::Cluster, Access::Admin),
/// );
/// # let _ = authz;
/// ```
#[derive(Clone, Debug, Default)]
pub struct DefaultAuthorizer {
    access: ApiAccess,
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

    /// The access table.
    #[must_use]
    pub fn access(&self) -> &ApiAccess {
        &self.access
    }

    /// The decision, synchronously (the procedure never waits on anything).
    #[must_use]
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
        if effective.bits() >= method.access.required_role().bits() {
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
