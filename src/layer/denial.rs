//! How a refused call is answered: Temporal's way by default (`PERMISSION_DENIED`, `Request
//! unauthorized.`, for every refusal), or the gRPC convention on request, where missing or
//! invalid credentials get `UNAUTHENTICATED` and only a known caller without the role gets
//! `PERMISSION_DENIED`; and an optional hook that shapes the response last.
//!
//! # Example
//!
//! ```
//! use tonic_authz::{AuthzLayer, DenialKind, DenialStyle};
//!
//! let layer = AuthzLayer::builder()
//!     .denial_style(DenialStyle::Grpc)
//!     .on_denial(|denial, status| match denial.kind() {
//!         // Point people without the role at the access request page.
//!         DenialKind::PermissionDenied => tonic::Status::permission_denied(format!(
//!             "{} needs a role on namespace {:?}: see https://access.example/",
//!             denial.api(),
//!             denial.namespace()
//!         )),
//!         _ => status,
//!     })
//!     .build();
//! # drop(layer);
//! ```

use std::fmt;
use std::sync::Arc;

use tonic::Status;

use super::status::unauthenticated;
use crate::Claims;

/// Which gRPC codes refusals get. Default: [`DenialStyle::Temporal`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenialStyle {
    /// As Temporal's server: every refusal is `PERMISSION_DENIED` `Request unauthorized.`
    /// with the `PermissionDeniedFailure` detail, which Temporal's clients expect.
    #[default]
    Temporal,
    /// The gRPC convention: missing or invalid credentials are `UNAUTHENTICATED`
    /// `Request unauthenticated.`; a caller whose credentials are valid but who lacks the
    /// role still gets Temporal's `PERMISSION_DENIED`.
    Grpc,
}

/// Why a call is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenialKind {
    /// No credentials where the claim mapper needs them, no claim mapper, or credentials the
    /// claim mapper refused (a bad signature, an expired token, ...).
    Unauthenticated,
    /// A known caller the authorizer denied.
    PermissionDenied,
    /// The authorizer failed (returned an error); the call is refused.
    AuthorizerFailed,
}

/// A refusal about to be answered, as the [`on_denial`] hook sees it. The `reason` is the
/// internal one (also in the logs and the span): put it in a response only if callers may
/// see it.
///
/// [`on_denial`]: super::AuthzLayerBuilder::on_denial
#[derive(Debug)]
pub struct Denial {
    pub(crate) kind: DenialKind,
    pub(crate) api: Arc<str>,
    pub(crate) namespace: String,
    pub(crate) reason: String,
    pub(crate) claims: Option<Claims>,
}

impl Denial {
    /// Why the call is refused.
    #[must_use]
    pub fn kind(&self) -> DenialKind {
        self.kind
    }

    /// The gRPC method path, `/package.Service/Method`.
    #[must_use]
    pub fn api(&self) -> &str {
        &self.api
    }

    /// The namespace read from the request; empty when none was read.
    #[must_use]
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The internal reason (the claim mapper's error, the authorizer's reason or error).
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The caller's claims, when the claim mapper produced some.
    #[must_use]
    pub fn claims(&self) -> Option<&Claims> {
        self.claims.as_ref()
    }
}

/// The `on_denial` hook: the refusal and the status the layer would send, to the status sent.
pub(crate) type DenialFn = dyn Fn(&Denial, Status) -> Status + Send + Sync;

/// The layer's answer policy, settled when the layer is built.
#[derive(Clone, Default)]
pub(crate) struct Denials {
    pub(crate) style: DenialStyle,
    pub(crate) hook: Option<Arc<DenialFn>>,
}

impl Denials {
    /// The status to send for `denial`, given Temporal's answer `status`.
    /// Whether [`respond`](Self::respond) can answer other than with the status it is given.
    pub(crate) fn reshapes(&self) -> bool {
        self.style != DenialStyle::Temporal || self.hook.is_some()
    }

    pub(crate) fn respond(&self, denial: &Denial, status: Status) -> Status {
        let status = match (self.style, denial.kind) {
            (DenialStyle::Grpc, DenialKind::Unauthenticated) => unauthenticated(),
            _ => status,
        };
        match &self.hook {
            Some(hook) => hook(denial, status),
            None => status,
        }
    }
}

impl fmt::Debug for Denials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Denials")
            .field("style", &self.style)
            .field("hook", &self.hook.is_some())
            .finish()
    }
}
