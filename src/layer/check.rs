//! [`AuthzLayer::check`]: the layer's claim mapper and authorizer put to one call described by
//! hand rather than received, for tools that answer "would this caller be allowed?" (the
//! examples' `frontend can-i`) with exactly the components a configuration builds.

use std::sync::Arc;

use super::AuthzLayer;
use crate::{AuthInfo, CallTarget, Claims, ClaimsError, Decision};

/// What the layer's components made of one described call.
#[derive(Debug)]
#[non_exhaustive]
pub struct CheckOutcome {
    /// The claim mapper's answer: `Ok(None)` without a mapper, or without credentials when the
    /// mapper requires them.
    pub claims: Result<Option<Claims>, ClaimsError>,
    /// The authorizer's answer; `None` when the claim mapper failed (the call is denied then).
    pub decision: Option<Result<Decision, tonic::Status>>,
}

impl CheckOutcome {
    /// True iff the call would be forwarded (dry-run mode aside).
    #[must_use]
    pub fn is_allowed(&self) -> bool {
        matches!(self.decision, Some(Ok(Decision::Allow)))
    }
}

impl AuthzLayer {
    /// Runs this layer's claim mapper on `info` and its authorizer on `target`, as a call
    /// would, without a connection or a request body: the namespace and request message are
    /// the target's. `info`'s audience is filled in as the layer would fill it (the fixed
    /// audience; an audience closure sees the target's message).
    pub async fn check(&self, info: Option<AuthInfo>, target: &CallTarget) -> CheckOutcome {
        let shared = Arc::clone(self.shared());
        let claims = match (&shared.claim_mapper, info) {
            (Some(mapper), Some(mut info)) => {
                info.audience = match &shared.audience {
                    super::Audience::None => String::new(),
                    super::Audience::Static(a) => a.clone(),
                    super::Audience::Fn(f) => f(target.api_name(), target.request()),
                };
                if info.auth_token.is_empty()
                    && info.tls_subject.is_none()
                    && mapper.auth_info_required()
                {
                    Ok(None)
                } else {
                    mapper.get_claims(&info).await.map(Some)
                }
            }
            _ => Ok(None),
        };
        let decision = match &claims {
            Ok(c) => Some(shared.authorizer.authorize(c.as_ref(), target).await),
            Err(_) => None,
        };
        CheckOutcome { claims, decision }
    }
}
