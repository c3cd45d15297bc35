//! [`Authz`]: the service the layer wraps around an inner gRPC service, and the per-call
//! procedure (Temporal's interceptor, sections E.2 and E.3 of the reference).

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Request, Response};
use tonic::Status;
use tonic::server::NamedService;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tower_service::Service;
use tracing::Instrument;

use super::body::{Encoding, ReplayBody, read_first_message};
use super::namespace::scan_string_field;
use super::observe::{self, Outcome};
use super::status::permission_denied;
use super::{Audience, MethodPlan, ResponseFuture, Shared};
use crate::{AuthInfo, CallTarget, Claims, Decision, PeerIdentity, RequestMessage, tls};

/// Inbound principal headers are stripped on every call so callers cannot spoof them.
const PRINCIPAL_HEADERS: [&str; 2] = ["temporal-principal-type", "temporal-principal-name"];

/// The authorization middleware around `S`. Built by [`AuthzLayer`](super::AuthzLayer).
#[derive(Clone)]
pub struct Authz<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Authz<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Authz<S> {
        Authz { inner, shared }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S> std::fmt::Debug for Authz<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authz").finish_non_exhaustive()
    }
}

impl<S: NamedService> NamedService for Authz<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B, ResBody> Service<Request<B>> for Authz<S>
where
    S: Service<Request<tonic::body::Body>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<crate::BoxError>,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<Result<Response<ResBody>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The readied service goes into the future; a fresh clone stays for the next call.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        let (parts, body) = req.into_parts();
        let req = Request::from_parts(parts, tonic::body::Body::new(body));
        ResponseFuture::new(Box::pin(handle(shared, inner, req)))
    }
}

/// One call: gather credentials, read the namespace if needed, map claims, authorize, and
/// either forward or answer with the denial.
async fn handle<S, ResBody>(
    shared: Arc<Shared>,
    mut inner: S,
    mut req: Request<tonic::body::Body>,
) -> Result<Response<ResBody>, S::Error>
where
    S: Service<Request<tonic::body::Body>, Response = Response<ResBody>>,
    ResBody: Default,
{
    let started = Instant::now();
    let plan = shared.plans.get(req.uri().path());
    let api: Arc<str> = plan.map_or_else(|| Arc::from(req.uri().path()), |p| Arc::clone(&p.api));
    let span = tracing::debug_span!(
        "authz",
        api = %api,
        namespace = tracing::field::Empty,
        subject = tracing::field::Empty,
        decision = tracing::field::Empty,
        reason = tracing::field::Empty,
        latency_us = tracing::field::Empty,
    );

    for name in PRINCIPAL_HEADERS {
        req.headers_mut().remove(name);
    }

    // 1. The first request message, when the authorizer needs it.
    let mut namespace = String::new();
    let mut request = None;
    if wants_request(&shared, plan, &api) {
        match read_request(&shared, plan, &api, &mut req)
            .instrument(span.clone())
            .await
        {
            Ok((ns, msg)) => {
                namespace = ns;
                request = Some(msg);
            }
            Err(status) => {
                span.record("decision", "malformed");
                span.record("reason", tracing::field::display(status.message()));
                span.in_scope(
                    || tracing::debug!(code = ?status.code(), "malformed request refused"),
                );
                observe::record(&shared.labels, "", Outcome::Malformed, None);
                return Ok(status.into_http());
            }
        }
    }
    span.record("namespace", namespace.as_str());

    // 2. Credentials and claims.
    let stream = plan.is_some_and(|p| p.request_stream);
    let peer = peer_identity(req.extensions_mut());
    let info = auth_info(&shared, req.headers(), peer, &api, request.as_ref(), stream);
    let claims = match map_claims(&shared, info).instrument(span.clone()).await {
        Ok(claims) => claims,
        Err(error) => {
            let kind = error.kind();
            span.record("decision", "denied");
            span.record("reason", tracing::field::display(&error));
            span.in_scope(|| {
                tracing::info!(reason = %error, kind = kind.as_str(), "authorization error: claim mapper failed");
            });
            observe::record(
                &shared.labels,
                &namespace,
                Outcome::MapperFailed(kind),
                None,
            );
            return deny_or_dry_run(&shared, inner, req, None, "").await;
        }
    };
    if let Some(c) = &claims {
        span.record("subject", c.subject());
    }

    // 3. The decision.
    let mut target = CallTarget::new(Arc::clone(&api), namespace);
    if let Some(msg) = request {
        target = target.with_request(msg);
    }
    let authz_started = Instant::now();
    let decision = shared
        .authorizer
        .authorize(claims.as_ref(), &target)
        .instrument(span.clone())
        .await;
    let authz_latency = authz_started.elapsed();
    span.record("latency_us", started.elapsed().as_micros() as u64);
    match decision {
        Ok(Decision::Allow) => {
            span.record("decision", "allowed");
            observe::record(
                &shared.labels,
                target.namespace(),
                Outcome::Allowed,
                Some(authz_latency),
            );
            if let Some(c) = claims {
                req.extensions_mut().insert(c);
            }
            inner.call(req).await
        }
        Ok(Decision::Deny { reason }) => {
            let reason = reason.unwrap_or_default();
            span.record("decision", "denied");
            span.record("reason", reason.as_str());
            let outcome = if shared.dry_run {
                Outcome::DryRunDenied
            } else {
                Outcome::Denied
            };
            observe::record(
                &shared.labels,
                target.namespace(),
                outcome,
                Some(authz_latency),
            );
            span.in_scope(|| {
                tracing::info!(reason = %reason, namespace = target.namespace(), "request denied by authorizer");
            });
            deny_or_dry_run(&shared, inner, req, claims, &reason).await
        }
        Err(status) => {
            span.record("decision", "authorizer_failed");
            span.record("reason", tracing::field::display(status.message()));
            span.in_scope(
                || tracing::warn!(code = ?status.code(), "authorization error: authorizer failed"),
            );
            observe::record(
                &shared.labels,
                target.namespace(),
                Outcome::AuthorizerFailed,
                Some(authz_latency),
            );
            if shared.dry_run {
                return dry_run_forward(inner, req, claims).await;
            }
            if shared.expose_authorizer_errors {
                return Ok(status.into_http());
            }
            Ok(permission_denied("").into_http())
        }
    }
}

/// The denial, or in dry-run mode the call let through with a warning.
async fn deny_or_dry_run<S, ResBody>(
    shared: &Shared,
    inner: S,
    req: Request<tonic::body::Body>,
    claims: Option<Claims>,
    reason: &str,
) -> Result<Response<ResBody>, S::Error>
where
    S: Service<Request<tonic::body::Body>, Response = Response<ResBody>>,
    ResBody: Default,
{
    if shared.dry_run {
        return dry_run_forward(inner, req, claims).await;
    }
    Ok(permission_denied(reason).into_http())
}

async fn dry_run_forward<S, ResBody>(
    mut inner: S,
    mut req: Request<tonic::body::Body>,
    claims: Option<Claims>,
) -> Result<Response<ResBody>, S::Error>
where
    S: Service<Request<tonic::body::Body>, Response = Response<ResBody>>,
{
    tracing::warn!(
        api = req.uri().path(),
        "dry run: a denied call is let through"
    );
    if let Some(c) = claims {
        req.extensions_mut().insert(c);
    }
    inner.call(req).await
}

/// Whether this call's body must be read before deciding.
fn wants_request(shared: &Shared, plan: Option<&MethodPlan>, api: &str) -> bool {
    match plan {
        Some(p) if p.request_stream => false,
        Some(_) => shared.authorizer.needs_request(api),
        None => shared.namespace_fn.is_some() && shared.authorizer.needs_request(api),
    }
}

/// Reads the first message and its namespace, replacing the body with one that replays it.
async fn read_request(
    shared: &Shared,
    plan: Option<&MethodPlan>,
    api: &str,
    req: &mut Request<tonic::body::Body>,
) -> Result<(String, RequestMessage), Status> {
    let encoding = Encoding::from_headers(req.headers())?;
    let body = req.body_mut();
    let first = tokio::time::timeout(
        shared.body_timeout,
        read_first_message(body, encoding, shared.max_message_size),
    )
    .await
    .map_err(|_| Status::deadline_exceeded("timed out waiting for the request message"))??;
    let rest = std::mem::replace(body, tonic::body::Body::empty());
    *body = tonic::body::Body::new(ReplayBody::new(first.consumed, rest));

    let mut message = RequestMessage::new(first.message);
    if let Some(descriptor) = plan.and_then(|p| p.descriptor.clone()) {
        message = message.with_descriptor(descriptor);
    }
    let namespace = match plan.and_then(|p| p.namespace_field) {
        Some(field) => scan_string_field(message.bytes(), field)
            .map_err(|e| Status::invalid_argument(format!("malformed request message: {e}")))?
            .unwrap_or_default()
            .to_owned(),
        None => match (&shared.namespace_fn, plan) {
            (Some(f), None) => f(api, &message)?,
            _ => String::new(),
        },
    };
    Ok((namespace, message))
}

/// Temporal's `GetAuthInfo`: `Ok(None)` when there is no mapper, or no credentials and the
/// mapper requires them.
fn auth_info(
    shared: &Shared,
    headers: &http::HeaderMap,
    peer: Option<PeerIdentity>,
    api: &str,
    request: Option<&RequestMessage>,
    stream: bool,
) -> Result<Option<AuthInfo>, crate::ClaimsError> {
    let Some(mapper) = &shared.claim_mapper else {
        return Ok(None);
    };
    let token = first_header(headers, &shared.auth_header)?;
    let (tls_subject, tls_connection) = match peer {
        Some(p) => (
            Some(Arc::clone(p.subject())),
            Some(Arc::clone(p.connection())),
        ),
        None => (None, None),
    };
    if tls_subject.is_none() && token.is_empty() && mapper.auth_info_required() {
        return Ok(None);
    }
    let audience = match &shared.audience {
        _ if stream && token.is_empty() => String::new(),
        Audience::None => String::new(),
        Audience::Static(a) => a.clone(),
        Audience::Fn(f) => f(api, request),
    };
    Ok(Some(AuthInfo {
        auth_token: token,
        tls_subject,
        tls_connection,
        extra_data: first_header(headers, &shared.extra_header)?,
        // As Temporal: on streams the audience is asked for only when a token is present.
        audience,
    }))
}

/// The claim-mapper call.
async fn map_claims(
    shared: &Shared,
    info: Result<Option<AuthInfo>, crate::ClaimsError>,
) -> Result<Option<Claims>, crate::ClaimsError> {
    let (Some(mapper), Some(info)) = (&shared.claim_mapper, info?) else {
        return Ok(None);
    };
    mapper.get_claims(&info).await.map(Some)
}

/// The first value of a credentials header as text (gRPC metadata semantics, as Temporal: a
/// repeated header's first value wins). Bytes that are not UTF-8 are refused, never guessed.
fn first_header(
    headers: &http::HeaderMap,
    name: &http::HeaderName,
) -> Result<String, crate::ClaimsError> {
    match headers.get(name) {
        None => Ok(String::new()),
        Some(v) => std::str::from_utf8(v.as_bytes())
            .map(str::to_owned)
            .map_err(|_| {
                crate::ClaimsError::new(
                    crate::ClaimsErrorKind::MalformedHeader,
                    format!("header {name} is not valid UTF-8"),
                )
            }),
    }
}

/// The verified client certificate's identity. Connections from this crate's acceptor carry it
/// parsed once per connection ([`tls::PeerConnectInfo`]); the service behind the layer also gets
/// tonic's own TLS connect info, so `tonic::Request::remote_addr` and `peer_certs` work there as
/// with tonic's TLS. With tonic's own TLS only the raw chain is there, and it is parsed here.
fn peer_identity(extensions: &mut http::Extensions) -> Option<PeerIdentity> {
    if let Some(info) = extensions.get::<tls::PeerConnectInfo>() {
        let peer = info.peer_identity().cloned();
        let tonic_info = info.tonic().clone();
        extensions.insert(tonic_info);
        return peer;
    }
    let certs = extensions
        .get::<TlsConnectInfo<TcpConnectInfo>>()?
        .peer_certs()?;
    PeerIdentity::from_chain(&certs)
}
