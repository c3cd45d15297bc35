//! [`AuthzLayer`]: the tower middleware that authenticates and authorizes every call.
//!
//! For each call it reads the credentials (auth header, extra header, verified TLS peer), asks
//! the [`ClaimMapper`] for [`Claims`], reads the namespace from the first request message when
//! the [`Authorizer`] needs it, and asks the authorizer. A denial is answered with gRPC
//! `PERMISSION_DENIED` / `Request unauthorized.` and the inner service never sees the call; on
//! allow the inner service gets the request untouched, with the `Claims` in its extensions.
//!
//! The module reads in the order a call takes: [`AuthzLayerBuilder`] (`builder.rs`) makes the
//! layer, [`Authz`] (`service.rs`) is the tower service it wraps around yours, and `call.rs`
//! is one call step by step (credentials, first message, claims, decision, forward or deny),
//! helped by `body.rs` (the first message and the replayed body), `namespace.rs` (where the
//! namespace sits in a message) and `observe.rs` (metrics).
//!
//! # Example
//! ```no_run
//! use tonic_authz::{AuthzLayer, DefaultAuthorizer, NoopClaimMapper};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let layer = AuthzLayer::new(NoopClaimMapper, DefaultAuthorizer::new());
//! let (_, health) = tonic_health::server::health_reporter();
//! tonic::transport::Server::builder()
//!     .layer(layer)
//!     .add_service(health)
//!     .serve("127.0.0.1:7233".parse()?)
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! [`Claims`]: crate::Claims

pub(crate) mod body;
mod builder;
mod call;
mod check;
mod cross_namespace;
mod denial;
// Request fields on a path are read only by the Cedar authorizer and the fuzz entry points.
#[cfg(any(feature = "cedar", feature = "fuzzing"))]
mod field_path;
mod forward_body;
mod future;
mod namespace;
#[cfg(feature = "metrics")]
mod observe;
#[cfg(not(feature = "metrics"))]
#[path = "observe_off.rs"]
mod observe;
mod outcome;
mod pool_check;
mod service;
mod status;
#[cfg(test)]
mod tests;
mod token_text;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;
use prost_reflect::MessageDescriptor;

pub use builder::AuthzLayerBuilder;
pub use check::CheckOutcome;
#[cfg(feature = "fuzzing")]
pub(crate) use cross_namespace::cross_namespace_targets;
pub use denial::{Denial, DenialKind, DenialStyle};
#[cfg(feature = "fuzzing")]
pub use field_path::scan_string_path;
#[cfg(all(feature = "cedar", not(feature = "fuzzing")))]
pub(crate) use field_path::scan_string_path;
pub use future::ResponseFuture;
#[cfg(feature = "fuzzing")]
pub use namespace::{ScanError, scan_string_field};
pub use namespace::{temporal_namespace_fields, temporal_request_fields};
pub use pool_check::DescriptorPoolError;
pub use service::Authz;

use crate::target::ApiName;
use crate::{AuditDecisions, AuditSink, Authorizer, ClaimMapper, RequestMessage};
use observe::Meters;

/// Default bound on one request message, before and after decompression (tonic's default).
pub(crate) const DEFAULT_MAX_MESSAGE_SIZE: usize = 4 * 1024 * 1024;

/// The largest `max_message_size` accepted (1 GiB): a bigger bound is a slip (a number of bits
/// taken for bytes, a value meant for another key), and every message under it may be held in
/// memory while its call is decided.
pub(crate) const MAX_MESSAGE_SIZE_BOUND: usize = 1 << 30;
/// Default deadline for receiving the first request message.
pub(crate) const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

type AudienceFn = dyn Fn(&str, Option<&RequestMessage>) -> String + Send + Sync;
type NamespaceFn = dyn Fn(&str, &RequestMessage) -> Result<String, tonic::Status> + Send + Sync;

/// How the layer handles one method: where its namespace is, and whether it has one request.
#[derive(Clone, Debug)]
pub(crate) struct MethodPlan {
    /// The method path, for what records it as an `Arc<str>` (audit records, denials, a
    /// call that waits).
    pub(crate) api: Arc<str>,
    /// The same path, as the call's target holds it: static text for Temporal's methods, so
    /// an allowed call counts no reference on a counter every call shares. Both are kept, so
    /// neither kind of use has to convert per call.
    pub(crate) name: ApiName,
    pub(crate) namespace_field: Option<u32>,
    pub(crate) request_stream: bool,
    pub(crate) descriptor: Option<MessageDescriptor>,
    /// The namespace field cannot be read as the handler will: every call is refused.
    pub(crate) refused: bool,
    /// Where this method's metric keys are in [`Meters`], so a call finds them without
    /// hashing its path a second time.
    pub(crate) meter: usize,
}

/// Everything the layer shares across calls, settled once when the layer is built.
pub(crate) struct Shared {
    pub(crate) claim_mapper: Option<Arc<dyn ClaimMapper>>,
    pub(crate) authorizer: Arc<dyn Authorizer>,
    pub(crate) auth_header: HeaderName,
    pub(crate) extra_header: HeaderName,
    pub(crate) audience: Audience,
    pub(crate) max_message_size: usize,
    pub(crate) body_timeout: Duration,
    pub(crate) expose_authorizer_errors: bool,
    pub(crate) dry_run: bool,
    pub(crate) cross_namespace_commands: bool,
    pub(crate) plans: Plans,
    pub(crate) namespace_fn: Option<Arc<NamespaceFn>>,
    pub(crate) meters: Meters,
    pub(crate) denials: denial::Denials,
    pub(crate) audit: Option<Arc<dyn AuditSink>>,
    pub(crate) audit_decisions: AuditDecisions,
}

/// Each known method's plan, by path. Looked up on every call, so with a fast hasher: the
/// keys are the tables' paths, never chosen by callers.
pub(crate) type Plans = HashMap<Box<str>, MethodPlan, crate::path_hash::PathHash>;

/// The expected JWT audience handed to the claim mapper.
pub(crate) enum Audience {
    None,
    Static(String),
    Fn(Arc<AudienceFn>),
}

/// The authorization layer. Cheap to clone; wrap a whole server
/// (`Server::builder().layer(..)`) or one service (`layer.layer(svc)`, which keeps its
/// `NamedService` name).
#[derive(Clone)]
pub struct AuthzLayer {
    shared: Arc<Shared>,
    keep_compressed: bool,
}

impl AuthzLayer {
    /// A layer with this claim mapper and authorizer, and the builder's defaults for
    /// everything else (see [`AuthzLayer::builder`]).
    pub fn new(claim_mapper: impl ClaimMapper, authorizer: impl Authorizer) -> AuthzLayer {
        AuthzLayer::builder()
            .claim_mapper(claim_mapper)
            .authorizer(authorizer)
            .build()
    }

    /// A builder with Temporal's defaults: the default authorizer, no claim mapper (so every
    /// call but the two always-allowed APIs is denied until one is set), headers
    /// `authorization` / `authorization-extras`, no audience, 4 MiB messages, 10 s body deadline.
    pub fn builder() -> AuthzLayerBuilder {
        AuthzLayerBuilder::default()
    }

    pub(crate) fn from_shared(shared: Shared) -> AuthzLayer {
        AuthzLayer {
            shared: Arc::new(shared),
            keep_compressed: false,
        }
    }

    /// Whether the inner service gets a compressed first request message exactly as the
    /// client sent it (`true`), or the copy the layer already inflated to read the namespace,
    /// as an uncompressed gRPC message (`false`, the default).
    ///
    /// The default suits a handler in this process: it decodes the very same message without
    /// inflating it a second time (gRPC marks compression per message, so the handler sees an
    /// uncompressed one). Set `true` in front of a proxy that forwards the bytes to another
    /// server, so they travel compressed as they came. Messages after the first, and calls
    /// whose body the layer does not read, always pass as received.
    #[must_use]
    pub fn keep_compressed(mut self, keep: bool) -> AuthzLayer {
        self.keep_compressed = keep;
        self
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub(crate) fn keeps_compressed(&self) -> bool {
        self.keep_compressed
    }
}

impl<S> tower_layer::Layer<S> for AuthzLayer {
    type Service = Authz<S>;

    fn layer(&self, inner: S) -> Authz<S> {
        Authz::new(inner, self)
    }
}

impl fmt::Debug for AuthzLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthzLayer")
            .field("claim_mapper", &self.shared.claim_mapper.is_some())
            .field("auth_header", &self.shared.auth_header)
            .field("extra_header", &self.shared.extra_header)
            .field("max_message_size", &self.shared.max_message_size)
            .field("body_timeout", &self.shared.body_timeout)
            .field(
                "expose_authorizer_errors",
                &self.shared.expose_authorizer_errors,
            )
            .field("dry_run", &self.shared.dry_run)
            .field(
                "cross_namespace_commands",
                &self.shared.cross_namespace_commands,
            )
            .field("methods", &self.shared.plans.len())
            .field("keep_compressed", &self.keep_compressed)
            .finish_non_exhaustive()
    }
}
