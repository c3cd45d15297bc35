//! [`AuthzLayer`]: the tower middleware that authenticates and authorizes every call.
//!
//! For each call it reads the credentials (auth header, extra header, verified TLS peer), asks
//! the [`ClaimMapper`] for [`Claims`], reads the namespace from the first request message when
//! the [`Authorizer`] needs it, and asks the authorizer. A denial is answered with gRPC
//! `PERMISSION_DENIED` / `Request unauthorized.` and the inner service never sees the call; on
//! allow the inner service gets the request untouched, with the `Claims` in its extensions.
//!
//! # Example
//! ```no_run
//! use tonic_authz::{AuthzLayer, DefaultAuthorizer, NoopClaimMapper};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let layer = AuthzLayer::builder()
//!     .claim_mapper(NoopClaimMapper)
//!     .authorizer(DefaultAuthorizer::new())
//!     .build();
//! let (_, health) = tonic_health::server::health_reporter();
//! tonic::transport::Server::builder()
//!     .layer(layer)
//!     .add_service(health)
//!     .serve("127.0.0.1:7233".parse()?)
//!     .await?;
//! # Ok(()) }
//! ```

pub(crate) mod body;
mod future;
mod namespace;
mod observe;
mod service;
mod status;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;
use prost_reflect::{DescriptorPool, Kind, MessageDescriptor};

pub use future::ResponseFuture;
pub use namespace::{ScanError, scan_string_field, temporal_namespace_fields};
pub use service::Authz;
pub use status::{UNAUTHORIZED_MESSAGE, permission_denied};

use crate::{ApiAccess, Authorizer, ClaimMapper, DefaultAuthorizer, RequestMessage};
use observe::NamespaceLabels;

/// Default bound on one request message, before and after decompression (tonic's default).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 4 * 1024 * 1024;
/// Default deadline for receiving the first request message.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

type AudienceFn = dyn Fn(&str, Option<&RequestMessage>) -> String + Send + Sync;
type NamespaceFn = dyn Fn(&str, &RequestMessage) -> Result<String, tonic::Status> + Send + Sync;

/// How the layer handles one method: where its namespace is, and whether it has one request.
#[derive(Clone, Debug)]
pub(crate) struct MethodPlan {
    pub(crate) api: Arc<str>,
    pub(crate) namespace_field: Option<u32>,
    pub(crate) request_stream: bool,
    pub(crate) descriptor: Option<MessageDescriptor>,
}

/// Everything the layer shares across calls.
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
    pub(crate) plans: HashMap<Box<str>, MethodPlan>,
    pub(crate) namespace_fn: Option<Arc<NamespaceFn>>,
    pub(crate) labels: NamespaceLabels,
}

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
}

impl AuthzLayer {
    /// A builder with Temporal's defaults: the default authorizer, no claim mapper (so every
    /// call but the two always-allowed APIs is denied until one is set), headers
    /// `authorization` / `authorization-extras`, no audience, 4 MiB messages, 10 s body deadline.
    pub fn builder() -> AuthzLayerBuilder {
        AuthzLayerBuilder::default()
    }
}

impl<S> tower_layer::Layer<S> for AuthzLayer {
    type Service = Authz<S>;

    fn layer(&self, inner: S) -> Authz<S> {
        Authz::new(inner, Arc::clone(&self.shared))
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
            .field("methods", &self.shared.plans.len())
            .finish_non_exhaustive()
    }
}

/// Builds an [`AuthzLayer`]. Every setter states its default.
#[must_use]
pub struct AuthzLayerBuilder {
    claim_mapper: Option<Arc<dyn ClaimMapper>>,
    authorizer: Arc<dyn Authorizer>,
    auth_header: HeaderName,
    extra_header: HeaderName,
    audience: Audience,
    max_message_size: usize,
    body_timeout: Duration,
    expose_authorizer_errors: bool,
    dry_run: bool,
    pools: Vec<DescriptorPool>,
    namespace_field_name: String,
    namespace_fn: Option<Arc<NamespaceFn>>,
    known_namespaces: Vec<String>,
}

impl Default for AuthzLayerBuilder {
    fn default() -> AuthzLayerBuilder {
        AuthzLayerBuilder {
            claim_mapper: None,
            authorizer: Arc::new(DefaultAuthorizer::new()),
            auth_header: HeaderName::from_static("authorization"),
            extra_header: HeaderName::from_static("authorization-extras"),
            audience: Audience::None,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            expose_authorizer_errors: false,
            dry_run: false,
            pools: Vec::new(),
            namespace_field_name: "namespace".to_owned(),
            namespace_fn: None,
            known_namespaces: Vec::new(),
        }
    }
}

impl AuthzLayerBuilder {
    /// The claim mapper. Default: none, so claims are always absent.
    pub fn claim_mapper(mut self, mapper: impl ClaimMapper) -> AuthzLayerBuilder {
        self.claim_mapper = Some(Arc::new(mapper));
        self
    }

    /// The claim mapper, already shared.
    pub fn shared_claim_mapper(mut self, mapper: Arc<dyn ClaimMapper>) -> AuthzLayerBuilder {
        self.claim_mapper = Some(mapper);
        self
    }

    /// The authorizer. Default: [`DefaultAuthorizer`] over Temporal's table.
    pub fn authorizer(mut self, authorizer: impl Authorizer) -> AuthzLayerBuilder {
        self.authorizer = Arc::new(authorizer);
        self
    }

    /// The authorizer, already shared.
    pub fn shared_authorizer(mut self, authorizer: Arc<dyn Authorizer>) -> AuthzLayerBuilder {
        self.authorizer = authorizer;
        self
    }

    /// The header carrying the token. Default `authorization`. An empty name keeps the default
    /// (as Temporal).
    ///
    /// An invalid header name keeps the previous one and is logged at error level; use
    /// [`AuthzLayerBuilder::try_auth_header_name`] to fail instead.
    pub fn auth_header_name(self, name: &str) -> AuthzLayerBuilder {
        self.try_auth_header_name(name).unwrap_or_else(|(b, e)| {
            tracing::error!(name, error = %e, "invalid auth header name ignored");
            b
        })
    }

    /// Like [`AuthzLayerBuilder::auth_header_name`], failing on an invalid header name.
    ///
    /// # Errors
    /// The builder back and the error when `name` is not a valid header name.
    #[allow(clippy::result_large_err)] // the builder is handed back so the caller can go on
    pub fn try_auth_header_name(
        mut self,
        name: &str,
    ) -> Result<AuthzLayerBuilder, (AuthzLayerBuilder, http::header::InvalidHeaderName)> {
        match parse_header_name(name) {
            Ok(Some(h)) => self.auth_header = h,
            Ok(None) => {}
            Err(e) => return Err((self, e)),
        }
        Ok(self)
    }

    /// The extra header (Temporal's `authorization-extras`). Default `authorization-extras`.
    /// With a custom name, the default header is ignored. An empty name keeps the default.
    pub fn auth_extra_header_name(self, name: &str) -> AuthzLayerBuilder {
        self.try_auth_extra_header_name(name)
            .unwrap_or_else(|(b, e)| {
                tracing::error!(name, error = %e, "invalid auth extra header name ignored");
                b
            })
    }

    /// Like [`AuthzLayerBuilder::auth_extra_header_name`], failing on an invalid header name.
    ///
    /// # Errors
    /// The builder back and the error when `name` is not a valid header name.
    #[allow(clippy::result_large_err)] // the builder is handed back so the caller can go on
    pub fn try_auth_extra_header_name(
        mut self,
        name: &str,
    ) -> Result<AuthzLayerBuilder, (AuthzLayerBuilder, http::header::InvalidHeaderName)> {
        match parse_header_name(name) {
            Ok(Some(h)) => self.extra_header = h,
            Ok(None) => {}
            Err(e) => return Err((self, e)),
        }
        Ok(self)
    }

    /// A fixed expected JWT audience for every call. Default: none (not checked).
    pub fn audience(mut self, audience: impl Into<String>) -> AuthzLayerBuilder {
        let audience = audience.into();
        self.audience = if audience.is_empty() {
            Audience::None
        } else {
            Audience::Static(audience)
        };
        self
    }

    /// The expected audience computed per call from the API name and, when the layer read it,
    /// the request message (absent on streams and on APIs whose request is not read).
    pub fn audience_fn<F>(mut self, f: F) -> AuthzLayerBuilder
    where
        F: Fn(&str, Option<&RequestMessage>) -> String + Send + Sync + 'static,
    {
        self.audience = Audience::Fn(Arc::new(f));
        self
    }

    /// Bound on one request message, compressed and decompressed. Default 4 MiB.
    pub fn max_message_size(mut self, bytes: usize) -> AuthzLayerBuilder {
        self.max_message_size = bytes;
        self
    }

    /// Deadline for the first request message to arrive. Default 10 s.
    pub fn body_timeout(mut self, timeout: Duration) -> AuthzLayerBuilder {
        self.body_timeout = timeout;
        self
    }

    /// Return an authorizer's own error to the client instead of the generic denial
    /// (Temporal's `frontend.exposeAuthorizerErrors`). Default false.
    pub fn expose_authorizer_errors(mut self, expose: bool) -> AuthzLayerBuilder {
        self.expose_authorizer_errors = expose;
        self
    }

    /// Compute, log and count decisions but let denied calls through. Default false.
    /// Announced at warn level when the layer is built.
    pub fn dry_run(mut self, dry_run: bool) -> AuthzLayerBuilder {
        self.dry_run = dry_run;
        self
    }

    /// Descriptors of other services: their methods' request messages are scanned for the
    /// namespace field (see [`AuthzLayerBuilder::namespace_field_name`]), and their streaming
    /// shape is known. Default: only Temporal's built-in table.
    pub fn descriptor_pool(mut self, pool: DescriptorPool) -> AuthzLayerBuilder {
        self.pools.push(pool);
        self
    }

    /// The name of the namespace field in messages from descriptor pools. Default `namespace`.
    pub fn namespace_field_name(mut self, name: impl Into<String>) -> AuthzLayerBuilder {
        self.namespace_field_name = name.into();
        self
    }

    /// Reads the namespace of methods that neither Temporal's table nor a descriptor pool
    /// covers. The closure gets the API name and the first request message; such methods are
    /// treated as having one request message (unary or server-streaming). Default: none.
    pub fn namespace_fn<F>(mut self, f: F) -> AuthzLayerBuilder
    where
        F: Fn(&str, &RequestMessage) -> Result<String, tonic::Status> + Send + Sync + 'static,
    {
        self.namespace_fn = Some(Arc::new(f));
        self
    }

    /// Namespaces allowed as metric label values; any other namespace is counted as
    /// `_unknown_`, so callers cannot grow the label set. Default: none.
    pub fn known_namespaces<I, N>(mut self, namespaces: I) -> AuthzLayerBuilder
    where
        I: IntoIterator<Item = N>,
        N: Into<String>,
    {
        self.known_namespaces = namespaces.into_iter().map(Into::into).collect();
        self
    }

    /// The layer.
    pub fn build(self) -> AuthzLayer {
        let mut plans: HashMap<Box<str>, MethodPlan> = HashMap::new();
        for (path, _) in ApiAccess::temporal().methods() {
            plans.insert(path.into(), plan(path, None, false, None));
        }
        for (path, field) in temporal_namespace_fields() {
            plans.insert(path.into(), plan(path, Some(field), false, None));
        }
        for pool in &self.pools {
            for service in pool.services() {
                for method in service.methods() {
                    let path = format!("/{}/{}", service.full_name(), method.name());
                    let input = method.input();
                    let field = input
                        .get_field_by_name(&self.namespace_field_name)
                        .filter(|f| f.kind() == Kind::String && !f.is_list())
                        .map(|f| f.number());
                    let p = plan(&path, field, method.is_client_streaming(), Some(input));
                    plans.insert(path.into(), p);
                }
            }
        }
        if self.dry_run {
            tracing::warn!("authorization runs in dry-run mode: denials are logged, not enforced");
        }
        AuthzLayer {
            shared: Arc::new(Shared {
                claim_mapper: self.claim_mapper,
                authorizer: self.authorizer,
                auth_header: self.auth_header,
                extra_header: self.extra_header,
                audience: self.audience,
                max_message_size: self.max_message_size,
                body_timeout: self.body_timeout,
                expose_authorizer_errors: self.expose_authorizer_errors,
                dry_run: self.dry_run,
                plans,
                namespace_fn: self.namespace_fn,
                labels: NamespaceLabels::new(self.known_namespaces),
            }),
        }
    }
}

/// A configured header name: `None` for an empty name (keep the default, as Temporal).
fn parse_header_name(name: &str) -> Result<Option<HeaderName>, http::header::InvalidHeaderName> {
    if name.is_empty() {
        return Ok(None);
    }
    HeaderName::try_from(name).map(Some)
}

fn plan(
    path: &str,
    namespace_field: Option<u32>,
    request_stream: bool,
    descriptor: Option<MessageDescriptor>,
) -> MethodPlan {
    MethodPlan {
        api: Arc::from(path),
        namespace_field,
        request_stream,
        descriptor,
    }
}

impl fmt::Debug for AuthzLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthzLayerBuilder").finish_non_exhaustive()
    }
}
