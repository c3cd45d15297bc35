//! [`AuthzLayerBuilder`]: every setting of the layer with its default, and `build`, which
//! settles once what each call would otherwise work out again (the per-method plan, header
//! names, metric keys).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;
use prost_reflect::{DescriptorPool, Kind, MessageDescriptor};

use super::denial::{Denial, DenialStyle, Denials};
use super::observe::Meters;
use super::pool_check::{DescriptorPoolError, check_namespace_field};
use super::{
    Audience, AuthzLayer, DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_MESSAGE_SIZE, MethodPlan, NamespaceFn,
    Plans, Shared, temporal_namespace_fields,
};
use crate::target::ApiName;
use crate::{
    AuditDecisions, AuditSink, Authorizer, ClaimMapper, DefaultAuthorizer, RequestMessage,
};

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
    cross_namespace_commands: bool,
    pools: Vec<DescriptorPool>,
    namespace_field_name: String,
    namespace_fn: Option<Arc<NamespaceFn>>,
    known_namespaces: Vec<String>,
    denials: Denials,
    audit: Option<Arc<dyn AuditSink>>,
    audit_decisions: AuditDecisions,
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
            cross_namespace_commands: false,
            pools: Vec::new(),
            namespace_field_name: "namespace".to_owned(),
            namespace_fn: None,
            known_namespaces: Vec::new(),
            denials: Denials::default(),
            audit: None,
            audit_decisions: AuditDecisions::Denied,
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

    /// The header carrying the token. Default `authorization`.
    pub fn auth_header_name(mut self, name: HeaderName) -> AuthzLayerBuilder {
        self.auth_header = name;
        self
    }

    /// The extra header (Temporal's `authorization-extras`). Default `authorization-extras`.
    /// With a custom name, the default header is ignored.
    pub fn auth_extra_header_name(mut self, name: HeaderName) -> AuthzLayerBuilder {
        self.extra_header = name;
        self
    }

    /// A fixed expected JWT audience for every call. Default: none (not checked); an empty
    /// audience means none.
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
    /// Default: none (not checked).
    pub fn audience_fn<F>(mut self, f: F) -> AuthzLayerBuilder
    where
        F: Fn(&str, Option<&RequestMessage>) -> String + Send + Sync + 'static,
    {
        self.audience = Audience::Fn(Arc::new(f));
        self
    }

    /// Bound on one request message, compressed and decompressed. Default 4 MiB; values above
    /// 1 GiB are taken as 1 GiB (the configuration file refuses them).
    pub fn max_message_size(mut self, bytes: usize) -> AuthzLayerBuilder {
        self.max_message_size = bytes.min(super::MAX_MESSAGE_SIZE_BOUND);
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

    /// Authorize each workflow command that acts in another namespace (signal an external
    /// workflow, start a child, cancel an external workflow) as the API that does the same
    /// directly, in the namespace it names, after the `RespondWorkflowTaskCompleted` call itself
    /// is allowed (Temporal's `system.enableCrossNamespaceCommands` checks). The first such check
    /// that does not allow denies the call. Default false, as in Temporal.
    pub fn cross_namespace_commands(mut self, enabled: bool) -> AuthzLayerBuilder {
        self.cross_namespace_commands = enabled;
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

    /// Which gRPC codes refusals get: Temporal's `PERMISSION_DENIED` for every refusal, or the
    /// gRPC convention, `UNAUTHENTICATED` for missing or invalid credentials (see
    /// [`DenialStyle`]). Default [`DenialStyle::Temporal`], which Temporal's clients expect.
    pub fn denial_style(mut self, style: DenialStyle) -> AuthzLayerBuilder {
        self.denials.style = style;
        self
    }

    /// Shapes every refusal's response: the closure gets the [`Denial`] (kind, API, namespace,
    /// internal reason, claims) and the status the layer would send, and returns the status to
    /// send. Not called for malformed requests, nor in dry-run mode (nothing is refused).
    /// Default: none.
    pub fn on_denial<F>(mut self, f: F) -> AuthzLayerBuilder
    where
        F: Fn(&Denial, tonic::Status) -> tonic::Status + Send + Sync + 'static,
    {
        self.denials.hook = Some(Arc::new(f));
        self
    }

    /// The decision audit sink: one [`AuditRecord`](crate::AuditRecord) per audited call
    /// (see [`AuthzLayerBuilder::audit_decisions`]), handed over before the call is forwarded
    /// or answered. The sink must not block ([`JsonLinesAuditSink`](crate::JsonLinesAuditSink)
    /// queues and drops). Default: none.
    pub fn audit(mut self, sink: impl AuditSink) -> AuthzLayerBuilder {
        self.audit = Some(Arc::new(sink));
        self
    }

    /// Which calls are audited. Default [`AuditDecisions::Denied`].
    pub fn audit_decisions(mut self, decisions: AuditDecisions) -> AuthzLayerBuilder {
        self.audit_decisions = decisions;
        self
    }

    /// The layer.
    ///
    /// A namespace field from a descriptor pool that the layer cannot read as the handler will
    /// (inside a `oneof`, or with a proto2 default) is logged as an error, and every call to
    /// that method is refused; [`try_build`](Self::try_build) reports it instead.
    pub fn build(self) -> AuthzLayer {
        let (plans, errors) = self.plans();
        for error in &errors {
            tracing::error!(%error, "every call to this method is refused");
        }
        self.finish(plans)
    }

    /// The layer, or the first namespace field from a descriptor pool that it cannot read as
    /// the handler will.
    ///
    /// # Errors
    ///
    /// A method whose request's namespace field is a member of a (non-synthetic) `oneof`, or
    /// has a proto2 default value. proto3 `optional` fields are fine.
    pub fn try_build(self) -> Result<AuthzLayer, DescriptorPoolError> {
        let (plans, mut errors) = self.plans();
        if !errors.is_empty() {
            return Err(errors.swap_remove(0));
        }
        Ok(self.finish(plans))
    }

    fn finish(self, mut plans: Plans) -> AuthzLayer {
        if self.dry_run {
            tracing::warn!("authorization runs in dry-run mode: denials are logged, not enforced");
        }
        let mut apis = Vec::with_capacity(plans.len());
        for plan in plans.values_mut() {
            plan.meter = apis.len();
            apis.push(Arc::clone(&plan.api));
        }
        AuthzLayer::from_shared(Shared {
            claim_mapper: self.claim_mapper,
            authorizer: self.authorizer,
            auth_header: self.auth_header,
            extra_header: self.extra_header,
            audience: self.audience,
            max_message_size: self.max_message_size,
            body_timeout: self.body_timeout,
            expose_authorizer_errors: self.expose_authorizer_errors,
            dry_run: self.dry_run,
            cross_namespace_commands: self.cross_namespace_commands,
            namespace_fn: self.namespace_fn,
            meters: Meters::new(self.known_namespaces, apis),
            plans,
            denials: self.denials,
            audit: self.audit,
            audit_decisions: self.audit_decisions,
        })
    }

    /// One plan per known method: Temporal's table first, then the descriptor pools, a later
    /// entry replacing an earlier one for the same path.
    fn plans(&self) -> (Plans, Vec<DescriptorPoolError>) {
        let mut plans = Plans::default();
        let mut errors = Vec::new();
        for path in crate::temporal::table_paths() {
            plans.insert(path.into(), plan(ApiName::Static(path), None, false, None));
        }
        for (path, field) in temporal_namespace_fields() {
            plans.insert(
                path.into(),
                plan(ApiName::Static(path), Some(field), false, None),
            );
        }
        for path in crate::temporal::REQUEST_STREAMS {
            plans.insert(path.into(), plan(ApiName::Static(path), None, true, None));
        }
        for pool in &self.pools {
            for service in pool.services() {
                for method in service.methods() {
                    let path = format!("/{}/{}", service.full_name(), method.name());
                    let input = method.input();
                    let field = input
                        .get_field_by_name(&self.namespace_field_name)
                        .filter(|f| f.kind() == Kind::String && !f.is_list());
                    let checked = field
                        .as_ref()
                        .map_or(Ok(()), |f| check_namespace_field(&path, f));
                    let number = field.map(|f| f.number());
                    let name = ApiName::Shared(Arc::from(path.as_str()));
                    let mut p = plan(name, number, method.is_client_streaming(), Some(input));
                    if let Err(error) = checked {
                        p.refused = true;
                        errors.push(error);
                    }
                    plans.insert(path.into(), p);
                }
            }
        }
        (plans, errors)
    }
}

fn plan(
    name: ApiName,
    namespace_field: Option<u32>,
    request_stream: bool,
    descriptor: Option<MessageDescriptor>,
) -> MethodPlan {
    MethodPlan {
        api: match &name {
            ApiName::Shared(path) => Arc::clone(path),
            ApiName::Static(path) => Arc::from(*path),
        },
        name,
        namespace_field,
        request_stream,
        descriptor,
        refused: false,
        meter: 0,
    }
}

impl fmt::Debug for AuthzLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthzLayerBuilder").finish_non_exhaustive()
    }
}
