//! One call through [`Authz`](super::Authz), in the order it happens: the credentials, the
//! claims, the first request message (when the authorizer needs it for these claims), the
//! decision, and then the call forwarded or denied. Each step is one small function that
//! answers at once when it can ([`start`]); a call whose step must wait goes on from that step
//! as a future ([`Waiting::run`]). How the call ended is an [`Ending`], and [`Call::finish`]
//! records it (span fields, metrics, one log line) in one place before the call is forwarded
//! or answered.
//!
//! The steps an allowed call runs are `#[inline(always)]`, here and in the modules they call
//! (the token text, the body reader, the namespace scan, the JWT mapper's cache hit, the
//! default authorizer's table, the counters). The compiler then makes one function of them
//! inside `Authz::call`, in the crate that builds the server. On a busy server each line of
//! code a call runs is fetched again on the next call, and each separate function starts on
//! a line of its own. A step behind a trait object (the claim mapper, the authorizer) stays a
//! call. Measured in docs/performance.md (*One function for the allowed path*).

use std::borrow::Cow;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use smol_str::SmolStr;
use tonic::Status;
use tonic::body::Body;
#[cfg(feature = "tls")]
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tower_service::Service;
use tracing::{Instrument, Span};

use super::body::{Encoding, FirstMessage, GRPC_ENCODING, MessageReader, Prefix};
use super::cross_namespace::cross_namespace_targets;
use super::denial::{Denial, DenialKind};
use super::forward_body::ForwardBody;
use super::namespace::scan_string_field;
use super::observe::LatencyTimer;
use super::outcome::Outcome;
use super::status::{generic_denial, permission_denied};
use super::token_text;
use super::{Audience, MethodPlan, Shared};
use crate::target::ApiName;
use crate::temporal::RESPOND_WORKFLOW_TASK_COMPLETED;
use crate::{
    AuditDecisions, AuditRecord, AuthInfo, CallTarget, ClaimMapper, Claims, ClaimsError,
    ClaimsErrorKind, Decision, RequestMessage, TlsConnection, TlsSubject,
};
#[cfg(feature = "tls")]
use crate::{PeerIdentity, tls};

/// Awaits the future `$step` inside the call's span, so its events carry the call's fields;
/// when nothing listens (the span is disabled), as it is: entering a disabled span on every
/// poll still costs. A macro rather than an `async fn`, so the step's future is awaited in
/// place instead of being copied into a wrapper future first.
macro_rules! in_span {
    ($call:expr, $step:expr) => {
        if $call.span.is_disabled() {
            $step.await
        } else {
            $step.instrument($call.span.clone()).await
        }
    };
}

/// Inbound principal headers are stripped on every call so callers cannot spoof them.
pub(super) const PRINCIPAL_HEADERS: [HeaderName; 2] = [
    HeaderName::from_static("temporal-principal-type"),
    HeaderName::from_static("temporal-principal-name"),
];

/// What the layer made of a call without waiting for anything.
pub(super) enum Started<ResBody> {
    /// Allowed (or let through in dry-run mode): the request, changed in place, is for the
    /// inner service, with the claims in its extensions.
    Forward,
    /// Refused or malformed: the answer.
    Answer(Response<ResBody>),
    /// A step must wait (a claim mapper or authorizer without an answer at hand, a message not
    /// yet received): the rest of the call, to run as a future.
    Wait(Box<Waiting>),
}

/// Starts one call: every step that can answer at once, in order, then [`Call::finish`].
/// Most calls end here (a cached token, a decision from tables, a unary message that came
/// with its headers), so they need no future of their own: the caller hands the inner
/// service's future on as it is. `keep_compressed`: replay a compressed first message as
/// received rather than inflated.
#[inline(always)]
pub(super) fn start<ResBody: Default>(
    shared: &Arc<Shared>,
    req: &mut Request<Body>,
    keep_compressed: bool,
) -> Started<ResBody> {
    let call = Call::start(shared, req, keep_compressed);
    let (credentials, encoding) = read_headers(shared, req);
    let mut read = Read {
        encoding,
        ..Read::default()
    };
    match call.decide_now(credentials, req, &mut read) {
        Now::Ended(ending) => match call.finish(ending).then(req, read.prefix, shared) {
            None => Started::Forward,
            Some(response) => Started::Answer(response),
        },
        Now::Wait(resume) => Started::Wait(Box::new(Waiting {
            api: call.api.into_owned(),
            span: call.span,
            started: call.started,
            peer: call.peer,
            keep_compressed,
            req: std::mem::take(req),
            read,
            resume,
        })),
    }
}

/// A call that must wait for one of its steps: what it knows so far.
pub(super) struct Waiting {
    api: Arc<str>,
    span: Span,
    started: Option<Instant>,
    peer: Option<std::net::SocketAddr>,
    keep_compressed: bool,
    req: Request<Body>,
    read: Read,
    resume: Resume,
}

impl Waiting {
    /// The rest of the call: the step that had to wait and those after it, then
    /// [`Call::finish`], then the inner service's answer or the refusal.
    pub(super) async fn run<S, ResBody>(
        self,
        shared: Arc<Shared>,
        mut inner: S,
    ) -> Result<Response<ResBody>, S::Error>
    where
        S: Service<Request<Body>, Response = Response<ResBody>>,
        ResBody: Default,
    {
        let Waiting {
            api,
            span,
            started,
            peer,
            keep_compressed,
            mut req,
            mut read,
            resume,
        } = self;
        let call = Call {
            shared: &shared,
            plan: shared.plans.get(req.uri().path()),
            api: Cow::Owned(api),
            span,
            started,
            peer,
            keep_compressed,
        };
        let ending = call.resume(resume, &mut req, &mut read).await;
        match call.finish(ending).then(&mut req, read.prefix, &shared) {
            None => inner.call(req).await,
            Some(response) => Ok(response),
        }
    }
}

/// The first message as far as it was read, and what the inner service must read before
/// the rest of the body.
#[derive(Debug, Default)]
struct Read {
    reader: MessageReader,
    prefix: Prefix,
    /// How the messages are compressed, from the headers; `None` when the encoding is one the
    /// layer cannot read.
    encoding: Option<Encoding>,
}

/// Where a call that had to wait goes on.
enum Resume {
    /// The message is read before the claim mapper runs (an audience computed from the
    /// request, or dry-run mode).
    RequestFirst(Result<Option<AuthInfo>, ClaimsError>),
    /// The claim mapper had no answer without waiting.
    Claims(AuthInfo),
    /// The first message had not all arrived.
    Message(Option<Claims>),
    /// The authorizer had no answer without waiting; its latency timer is running.
    Authorize {
        claims: Option<Claims>,
        target: CallTarget,
        timer: LatencyTimer,
    },
    /// The call's commands are checked in other namespaces too.
    Decision {
        claims: Option<Claims>,
        namespace: SmolStr,
        request: Option<RequestMessage>,
    },
}

/// How far a call got without waiting.
enum Now {
    /// To its end.
    Ended(Ending),
    /// To a step that must wait: where to resume.
    Wait(Resume),
}

/// What one call knows about itself from its first line on.
struct Call<'a> {
    shared: &'a Shared,
    plan: Option<&'a MethodPlan>,
    /// The method path: its plan's, borrowed, for a method a table knows (no reference count
    /// taken on the shared path); its own otherwise, and once the call must wait.
    api: Cow<'a, Arc<str>>,
    span: Span,
    /// When the call began; read only when something records it (an enabled span, the
    /// audit log), so a call costs no clock read for it otherwise.
    started: Option<Instant>,
    /// The peer's address, read only when calls are audited.
    peer: Option<std::net::SocketAddr>,
    /// Replay a compressed first message as received (see `AuthzLayer::keep_compressed`).
    keep_compressed: bool,
}

/// How the steps ended, before anything is recorded.
enum Ending {
    /// The first message could not be read or its namespace is malformed.
    Malformed(Status),
    /// The claim mapper refused the credentials.
    MapperFailed {
        namespace: SmolStr,
        error: ClaimsError,
    },
    /// The authorizer answered (or failed).
    Decided {
        claims: Option<Claims>,
        target: CallTarget,
        decision: Result<Decision, Status>,
        /// The namespaces of the checks allowed before the deciding one (cross-namespace
        /// commands), each counted as Temporal counts every authorizer call.
        earlier: Vec<String>,
    },
}

/// What to do with the call once it is recorded.
enum Next {
    Forward(Option<Claims>),
    /// Denied, but the layer runs in dry-run mode.
    LetThrough(Option<Claims>),
    Respond(Status),
    /// Refused with Temporal's generic denial (`PERMISSION_DENIED`, `Request unauthorized.`,
    /// no reason): the most common refusal, answered from headers built once.
    Refuse,
}

impl<'a> Call<'a> {
    #[inline(always)]
    fn start(shared: &'a Shared, req: &Request<Body>, keep_compressed: bool) -> Call<'a> {
        let path = req.uri().path();
        let plan = shared.plans.get(path);
        let api = plan.map_or_else(|| Cow::Owned(Arc::from(path)), |p| Cow::Borrowed(&p.api));
        let span = tracing::debug_span!(
            "authz",
            api = %&**api,
            namespace = tracing::field::Empty,
            subject = tracing::field::Empty,
            decision = tracing::field::Empty,
            reason = tracing::field::Empty,
            latency_us = tracing::field::Empty,
        );
        let timed = !span.is_disabled() || shared.audit.is_some();
        Call {
            shared,
            plan,
            api,
            span,
            started: timed.then(Instant::now),
            peer: shared
                .audit
                .as_ref()
                .and_then(|_| peer_addr(req.extensions())),
            keep_compressed,
        }
    }

    /// The steps from the credentials to the decision, as far as each answers without
    /// waiting; where one would wait, what the call knows so far, to [`resume`](Self::resume).
    ///
    /// The claim mapper runs before the body is read, so a caller without valid credentials
    /// is refused without the layer buffering or inflating a byte of its message. The message
    /// comes first only when the audience is computed from the request, and in dry-run mode,
    /// where every call is forwarded anyway and a would-be denial is worth recording with its
    /// namespace. The namespace and the subject go into the span as soon as they are known, so
    /// the events of the later steps carry them.
    #[inline(always)]
    fn decide_now(
        &self,
        credentials: Result<Option<AuthInfo>, ClaimsError>,
        req: &mut Request<Body>,
        read: &mut Read,
    ) -> Now {
        if matches!(self.shared.audience, Audience::Fn(_)) || self.shared.dry_run {
            return Now::Wait(Resume::RequestFirst(credentials));
        }
        let claims = match self.claims_now(credentials, None) {
            Ok(Ok(claims)) => claims,
            Ok(Err(error)) => {
                return Now::Ended(Ending::MapperFailed {
                    namespace: SmolStr::default(),
                    error,
                });
            }
            Err(info) => return Now::Wait(Resume::Claims(info)),
        };
        self.record_subject(claims.as_ref());
        let needs = self.needs_request(claims.as_ref());
        let (namespace, request) = match self.first_message_now(req, needs, read) {
            Poll::Ready(Ok(first)) => first,
            Poll::Ready(Err(status)) => return Now::Ended(Ending::Malformed(status)),
            Poll::Pending => return Now::Wait(Resume::Message(claims)),
        };
        self.record("namespace", namespace.as_str());
        self.decision_now(claims, namespace, request)
    }

    /// The steps of [`decide_now`](Self::decide_now) from the one that had to wait, awaiting
    /// what they need.
    async fn resume(&self, from: Resume, req: &mut Request<Body>, read: &mut Read) -> Ending {
        let claims = match from {
            Resume::RequestFirst(credentials) => {
                return self.decide_request_first(credentials, req, read).await;
            }
            Resume::Claims(info) => match self.claims_later(&info).await {
                Ok(claims) => claims,
                Err(error) => {
                    return Ending::MapperFailed {
                        namespace: SmolStr::default(),
                        error,
                    };
                }
            },
            Resume::Message(claims) => claims,
            Resume::Authorize {
                claims,
                target,
                timer,
            } => {
                let decision = self.authorize_later(claims.as_ref(), &target, timer).await;
                return Ending::Decided {
                    claims,
                    target,
                    decision,
                    earlier: Vec::new(),
                };
            }
            Resume::Decision {
                claims,
                namespace,
                request,
            } => return self.decision(claims, namespace, request).await,
        };
        self.record_subject(claims.as_ref());
        let needs = self.needs_request(claims.as_ref());
        let (namespace, request) = match in_span!(self, self.first_message(req, needs, read)) {
            Ok(first) => first,
            Err(status) => return Ending::Malformed(status),
        };
        self.record("namespace", namespace.as_str());
        self.decision(claims, namespace, request).await
    }

    /// [`decide_now`](Self::decide_now) when the expected audience depends on the request,
    /// or in dry-run mode: the first message is read before the claim mapper runs.
    async fn decide_request_first(
        &self,
        credentials: Result<Option<AuthInfo>, ClaimsError>,
        req: &mut Request<Body>,
        read: &mut Read,
    ) -> Ending {
        let needs = self.shared.authorizer.needs_request(&self.api);
        let (namespace, request) = match in_span!(self, self.first_message(req, needs, read)) {
            Ok(first) => first,
            Err(status) => return Ending::Malformed(status),
        };
        self.record("namespace", namespace.as_str());
        let claims = match self.claims(credentials, request.as_ref()).await {
            Ok(claims) => claims,
            Err(error) => return Ending::MapperFailed { namespace, error },
        };
        self.record_subject(claims.as_ref());
        self.decision(claims, namespace, request).await
    }

    /// Whether the authorizer needs the request message to decide for these claims.
    #[inline(always)]
    fn needs_request(&self, claims: Option<&Claims>) -> bool {
        self.shared.authorizer.needs_request_for(&self.api, claims)
    }

    /// Puts the caller's subject into the span.
    #[inline(always)]
    fn record_subject(&self, claims: Option<&Claims>) {
        if let Some(c) = claims {
            self.record("subject", c.subject());
        }
    }

    /// The first request message and its namespace, when the authorizer needs them
    /// (`authorizer_needs`) and the call has one, as far as the body has arrived: `Pending`
    /// while part of the message is still to come. `read.prefix` gets what the inner service
    /// must read before the rest of the body.
    #[inline(always)]
    fn first_message_now(
        &self,
        req: &mut Request<Body>,
        authorizer_needs: bool,
        read: &mut Read,
    ) -> Poll<Result<(SmolStr, Option<RequestMessage>), Status>> {
        // Nothing is woken by this poll: a call that must wait is polled again, with its
        // task's waker, as soon as it is handed over as a future.
        let mut now = Context::from_waker(Waker::noop());
        self.poll_first_message(req, authorizer_needs, read, &mut now)
    }

    /// [`first_message_now`](Self::first_message_now), waiting (up to the body deadline) for
    /// the part of the message still to come.
    async fn first_message(
        &self,
        req: &mut Request<Body>,
        authorizer_needs: bool,
        read: &mut Read,
    ) -> Result<(SmolStr, Option<RequestMessage>), Status> {
        let mut poll =
            |cx: &mut Context<'_>| self.poll_first_message(req, authorizer_needs, read, cx);
        // What is missing is usually already on its way. The body is read once with this
        // task's waker, so the frame's arrival wakes the task at once, and the task yields
        // once before the body deadline starts: a timer costs more than the yield, since
        // registering one can mean waking the runtime's thread that keeps the timers.
        if let Poll::Ready(first) = std::future::poll_fn(|cx| Poll::Ready(poll(cx))).await {
            return first;
        }
        tokio::task::yield_now().await;
        // The deadline (a clock read, and a timer if the message is still missing when it is
        // first looked at) starts only now.
        tokio::time::timeout(self.shared.body_timeout, std::future::poll_fn(poll))
            .await
            .map_err(|_| Status::deadline_exceeded("timed out waiting for the request message"))?
    }

    /// One read of the first message with `cx`'s waker: see
    /// [`first_message_now`](Self::first_message_now).
    #[inline(always)]
    fn poll_first_message(
        &self,
        req: &mut Request<Body>,
        authorizer_needs: bool,
        read: &mut Read,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(SmolStr, Option<RequestMessage>), Status>> {
        if self.plan.is_some_and(|p| p.refused) {
            // Logged when the layer was built: the namespace cannot be read reliably.
            return Poll::Ready(Err(undeterminable_namespace()));
        }
        if !self.wants_request(authorizer_needs) {
            return Poll::Ready(Ok((SmolStr::default(), None)));
        }
        let encoding = match read.encoding {
            Some(encoding) => encoding,
            // The refusal, from the header itself.
            None => match Encoding::from_headers(req.headers()) {
                Ok(encoding) => encoding,
                Err(status) => return Poll::Ready(Err(status)),
            },
        };
        let limit = self.shared.max_message_size;
        read.reader
            .poll_read(req.body_mut(), cx, encoding, limit)
            .map(|first| self.understood(first?, &mut read.prefix))
    }

    /// Whether this call's body must be read before deciding.
    #[inline(always)]
    fn wants_request(&self, authorizer_needs: bool) -> bool {
        match self.plan {
            Some(p) if p.request_stream => false,
            // Cross-namespace checks read the commands whatever the authorizer needs, so they
            // can never be skipped for want of the message.
            Some(_) => authorizer_needs || self.checks_cross_namespace(),
            None => self.shared.namespace_fn.is_some() && authorizer_needs,
        }
    }

    /// The first message read, with its namespace; `prefix` gets what to replay.
    #[inline(always)]
    fn understood(
        &self,
        first: FirstMessage,
        prefix: &mut Prefix,
    ) -> Result<(SmolStr, Option<RequestMessage>), Status> {
        let (bytes, replay) = first.into_parts(self.keep_compressed);
        *prefix = replay;
        let mut message = RequestMessage::new(bytes);
        if let Some(descriptor) = self.plan.and_then(|p| p.descriptor.clone()) {
            message = message.with_descriptor(descriptor);
        }
        let namespace = self.namespace(&message)?;
        Ok((namespace, Some(message)))
    }

    /// The namespace in the message: from the method's namespace field, or for methods no
    /// table knows, from the user's closure; empty when neither applies.
    #[inline(always)]
    fn namespace(&self, message: &RequestMessage) -> Result<SmolStr, Status> {
        if let Some(field) = self.plan.and_then(|p| p.namespace_field) {
            return Ok(SmolStr::new(
                scan_string_field(message.bytes(), field)
                    .map_err(malformed_message)?
                    .unwrap_or_default(),
            ));
        }
        match (&self.shared.namespace_fn, self.plan) {
            (Some(f), None) => f(&self.api, message).map(SmolStr::from),
            _ => Ok(SmolStr::default()),
        }
    }

    /// The claim mapper's answer when it has one without waiting; otherwise the credentials
    /// back, with the expected audience filled in, for [`claims_later`](Self::claims_later).
    #[inline(always)]
    fn claims_now(
        &self,
        credentials: Result<Option<AuthInfo>, ClaimsError>,
        request: Option<&RequestMessage>,
    ) -> Result<Result<Option<Claims>, ClaimsError>, AuthInfo> {
        let Some(mapper) = &self.shared.claim_mapper else {
            return Ok(Ok(None));
        };
        let mut info = match credentials {
            Ok(Some(info)) => info,
            Ok(None) => return Ok(Ok(None)),
            Err(error) => return Ok(Err(error)),
        };
        info.audience = self.audience(&info, request);
        match self.in_scope(|| mapper.get_claims_now(&info)) {
            Some(answer) => {
                token_text::give_back(std::mem::take(&mut info.auth_token), info.text_id);
                Ok(answer.map(Some))
            }
            None => Err(info),
        }
    }

    /// The claim mapper's awaited answer, for credentials it had no answer for at once.
    async fn claims_later(&self, info: &AuthInfo) -> Result<Option<Claims>, ClaimsError> {
        match &self.shared.claim_mapper {
            Some(mapper) => in_span!(self, mapper.get_claims(info)).map(Some),
            // Only a call with a claim mapper waits for one.
            None => Ok(None),
        }
    }

    /// The claim mapper's answer for the credentials, with the expected audience filled in.
    async fn claims(
        &self,
        credentials: Result<Option<AuthInfo>, ClaimsError>,
        request: Option<&RequestMessage>,
    ) -> Result<Option<Claims>, ClaimsError> {
        match self.claims_now(credentials, request) {
            Ok(answer) => answer,
            Err(info) => {
                let answer = self.claims_later(&info).await;
                token_text::give_back(info.auth_token, info.text_id);
                answer
            }
        }
    }

    /// The expected audience for this call. As Temporal: on streams it is asked for only when
    /// a token is present.
    #[inline(always)]
    fn audience(&self, info: &AuthInfo, request: Option<&RequestMessage>) -> String {
        let stream = self.plan.is_some_and(|p| p.request_stream);
        match &self.shared.audience {
            _ if stream && info.auth_token.is_empty() => String::new(),
            Audience::None => String::new(),
            Audience::Static(a) => a.clone(),
            Audience::Fn(f) => f(&self.api, request),
        }
    }

    /// The call's target: its API, the namespace, and the message when there is one.
    #[inline(always)]
    fn target(&self, namespace: SmolStr, request: Option<RequestMessage>) -> CallTarget {
        let stream = self.plan.is_some_and(|p| p.request_stream);
        let api = match self.plan {
            Some(plan) => plan.name.clone(),
            None => ApiName::Shared(Arc::clone(&self.api)),
        };
        let target = CallTarget::in_namespace(api, namespace).with_request_stream(stream);
        match request {
            Some(message) => target.with_request(message),
            None => target,
        }
    }

    /// The authorizer's decision when it has one without waiting, for a call whose commands
    /// are not checked in other namespaces; otherwise where to [`resume`](Self::resume).
    #[inline(always)]
    fn decision_now(
        &self,
        claims: Option<Claims>,
        namespace: SmolStr,
        request: Option<RequestMessage>,
    ) -> Now {
        if request.is_some() && self.checks_cross_namespace() {
            return Now::Wait(Resume::Decision {
                claims,
                namespace,
                request,
            });
        }
        let target = self.target(namespace, request);
        match self.authorize_now(claims.as_ref(), &target) {
            Ok(decision) => Now::Ended(Ending::Decided {
                claims,
                target,
                decision,
                earlier: Vec::new(),
            }),
            Err(timer) => Now::Wait(Resume::Authorize {
                claims,
                target,
                timer,
            }),
        }
    }

    /// The authorizer's decision on the call's target, then, when enabled, on each other
    /// namespace the call's workflow commands act in: the first of these that is not an allow
    /// decides the call.
    async fn decision(
        &self,
        claims: Option<Claims>,
        namespace: SmolStr,
        request: Option<RequestMessage>,
    ) -> Ending {
        let cross = match self.cross_namespace_targets(&namespace, request.as_ref()) {
            Ok(cross) => cross,
            Err(status) => return Ending::Malformed(status),
        };
        let mut request = request;
        // The message moves into the target unless cross-namespace checks need it again.
        let first = if cross.is_empty() {
            request.take()
        } else {
            request.clone()
        };
        let mut target = self.target(namespace, first);
        let mut decision = self.authorize(claims.as_ref(), &target).await;
        let mut earlier = Vec::new();
        for (api, namespace) in cross {
            if !matches!(decision, Ok(Decision::Allow)) {
                break;
            }
            earlier.push(target.namespace().to_owned());
            target = CallTarget::new(Arc::from(api), namespace);
            if let Some(message) = &request {
                target = target.with_request(message.clone());
            }
            decision = self.authorize(claims.as_ref(), &target).await;
        }
        Ending::Decided {
            claims,
            target,
            decision,
            earlier,
        }
    }

    /// One authorizer call, timed when the latency histogram records.
    async fn authorize(
        &self,
        claims: Option<&Claims>,
        target: &CallTarget,
    ) -> Result<Decision, Status> {
        match self.authorize_now(claims, target) {
            Ok(decision) => decision,
            Err(timer) => self.authorize_later(claims, target, timer).await,
        }
    }

    /// The authorizer's answer when it has one without waiting; otherwise its running latency
    /// timer, for [`authorize_later`](Self::authorize_later).
    #[inline(always)]
    fn authorize_now(
        &self,
        claims: Option<&Claims>,
        target: &CallTarget,
    ) -> Result<Result<Decision, Status>, LatencyTimer> {
        let timer = self.shared.meters.latency_timer(target.namespace());
        let authorizer = &self.shared.authorizer;
        match self.in_scope(|| authorizer.authorize_now(claims, target)) {
            Some(decision) => {
                timer.stop();
                Ok(decision)
            }
            None => Err(timer),
        }
    }

    /// The authorizer's awaited answer, for a call it had no answer for at once.
    async fn authorize_later(
        &self,
        claims: Option<&Claims>,
        target: &CallTarget,
        timer: LatencyTimer,
    ) -> Result<Decision, Status> {
        let decision = in_span!(self, self.shared.authorizer.authorize(claims, target));
        timer.stop();
        decision
    }

    /// Whether this call's workflow commands are authorized in the namespaces they name.
    #[inline(always)]
    fn checks_cross_namespace(&self) -> bool {
        self.shared.cross_namespace_commands && **self.api == *RESPOND_WORKFLOW_TASK_COMPLETED
    }

    /// The (API, namespace) pairs the call's workflow commands act in beyond its own
    /// namespace, when cross-namespace commands are enabled and this is a completed workflow
    /// task; otherwise none.
    fn cross_namespace_targets(
        &self,
        namespace: &str,
        request: Option<&RequestMessage>,
    ) -> Result<Vec<(&'static str, String)>, Status> {
        match request {
            Some(message) if self.checks_cross_namespace() => {
                cross_namespace_targets(message.bytes(), namespace).map_err(|e| {
                    Status::invalid_argument(format!("malformed workflow commands: {e}"))
                })
            }
            _ => Ok(Vec::new()),
        }
    }

    /// Records how the call ended (span fields, metrics, one log line) and says what to do
    /// with it.
    #[inline(always)]
    fn finish(&self, ending: Ending) -> Next {
        match ending {
            // Most calls end here: allowed, by one decision, with nothing listening (no clock
            // was read, so no span is enabled and no audit sink is set). They are only
            // counted, without running through the code for every other ending: a busy
            // server has evicted that code from the CPU's caches by the next call, and fetching
            // it again costs more than its instructions.
            Ending::Decided {
                claims,
                target,
                decision: Ok(Decision::Allow),
                earlier,
            } if earlier.is_empty() && self.started.is_none() => {
                self.shared
                    .meters
                    .record(self.meter(), target.namespace(), Outcome::Allowed);
                Next::Forward(claims)
            }
            ending => self.finish_in_full(ending),
        }
    }

    /// [`finish`](Self::finish) for any ending.
    #[inline(never)]
    fn finish_in_full(&self, ending: Ending) -> Next {
        let dry_run = self.shared.dry_run;
        let outcome = ending.outcome(dry_run);
        if let (true, Some(started)) = (ending.authorized(), self.started) {
            let elapsed = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            self.record("latency_us", elapsed);
        }
        if !self.span.is_disabled() {
            ending.record(&self.span);
        }
        if let Ending::Decided { earlier, .. } = &ending {
            for namespace in earlier {
                self.shared
                    .meters
                    .record(self.meter(), namespace, Outcome::Allowed);
            }
        }
        self.shared
            .meters
            .record(self.meter(), ending.namespace(), outcome);
        self.in_scope(|| ending.log());
        self.audit(&ending, outcome);
        // What a refusal is matters only to a style or hook that reshapes the answer.
        let reshaped = !dry_run && self.shared.denials.reshapes();
        let denial = reshaped.then(|| ending.denial(&self.api)).flatten();
        match (
            ending.next(dry_run, self.shared.expose_authorizer_errors),
            denial,
        ) {
            (Next::Respond(status), Some(denial)) => {
                Next::Respond(self.shared.denials.respond(&denial, status))
            }
            (Next::Refuse, Some(denial)) => {
                Next::Respond(self.shared.denials.respond(&denial, permission_denied("")))
            }
            (next, _) => next,
        }
    }

    /// Where the method's metric keys are: `None` for a method no table knows.
    #[inline(always)]
    fn meter(&self) -> Option<usize> {
        self.plan.map(|p| p.meter)
    }

    /// Puts `value` into the span's `field`, when something listens: a disabled span still
    /// looks the field up by name.
    #[inline(always)]
    fn record(&self, field: &str, value: impl tracing::Value) {
        if !self.span.is_disabled() {
            self.span.record(field, value);
        }
    }

    /// `step` run inside the call's span, so its events carry the call's fields; when nothing
    /// listens (the span is disabled), as it is: entering a disabled span still costs.
    #[inline(always)]
    fn in_scope<T>(&self, step: impl FnOnce() -> T) -> T {
        if self.span.is_disabled() {
            step()
        } else {
            self.span.in_scope(step)
        }
    }

    /// Hands the call's record to the audit sink, when there is one and it wants this call.
    fn audit(&self, ending: &Ending, outcome: Outcome) {
        let Some(sink) = &self.shared.audit else {
            return;
        };
        if outcome == Outcome::Allowed && self.shared.audit_decisions == AuditDecisions::Denied {
            return;
        }
        let (subject, auth_type, issuer) = match ending {
            Ending::Decided {
                claims: Some(c), ..
            } => (
                c.subject().to_owned(),
                c.auth_type().to_owned(),
                c.issuer().unwrap_or_default().to_owned(),
            ),
            _ => (String::new(), String::new(), String::new()),
        };
        sink.record(AuditRecord {
            time: std::time::SystemTime::now(),
            subject,
            auth_type,
            issuer,
            peer: self.peer,
            api: Arc::clone(&self.api),
            namespace: ending.namespace().to_owned(),
            decision: outcome.as_str(),
            reason: ending.reason(),
            latency: self.started.map(|s| s.elapsed()).unwrap_or_default(),
        });
    }
}

impl Ending {
    /// The outcome counted in the metrics.
    fn outcome(&self, dry_run: bool) -> Outcome {
        match self {
            Ending::Malformed(_) => Outcome::Malformed,
            Ending::MapperFailed { error, .. } => Outcome::MapperFailed(error.kind()),
            Ending::Decided { decision, .. } => match decision {
                Ok(Decision::Allow) => Outcome::Allowed,
                Ok(Decision::Deny { .. }) if dry_run => Outcome::DryRunDenied,
                Ok(Decision::Deny { .. }) => Outcome::Denied,
                Err(_) => Outcome::AuthorizerFailed,
            },
        }
    }

    /// Whether the authorizer ran.
    fn authorized(&self) -> bool {
        matches!(self, Ending::Decided { .. })
    }

    /// The namespace for the metric labels; empty when the message was never understood.
    fn namespace(&self) -> &str {
        match self {
            Ending::Malformed(_) => "",
            Ending::MapperFailed { namespace, .. } => namespace,
            Ending::Decided { target, .. } => target.namespace(),
        }
    }

    /// The internal reason of a call that was not allowed, for the audit log.
    fn reason(&self) -> String {
        match self {
            Ending::Malformed(status) => status.message().to_owned(),
            Ending::MapperFailed { error, .. } => error.to_string(),
            Ending::Decided { decision, .. } => match decision {
                Ok(Decision::Allow) => String::new(),
                Ok(Decision::Deny { reason }) => reason.clone().unwrap_or_default(),
                Err(status) => status.message().to_owned(),
            },
        }
    }

    /// The span's `decision` and `reason` fields.
    fn record(&self, span: &Span) {
        match self {
            Ending::Malformed(status) => {
                span.record("decision", "malformed");
                span.record("reason", tracing::field::display(status.message()));
            }
            Ending::MapperFailed { error, .. } => {
                span.record("decision", "denied");
                span.record("reason", tracing::field::display(error));
            }
            Ending::Decided { decision, .. } => match decision {
                Ok(Decision::Allow) => {
                    span.record("decision", "allowed");
                }
                Ok(Decision::Deny { reason }) => {
                    span.record("decision", "denied");
                    span.record("reason", reason.as_deref().unwrap_or_default());
                }
                Err(status) => {
                    span.record("decision", "authorizer_failed");
                    span.record("reason", tracing::field::display(status.message()));
                }
            },
        }
    }

    /// The one log line of the call (none for an allowed call), inside its span.
    fn log(&self) {
        match self {
            Ending::Malformed(status) => {
                tracing::debug!(code = ?status.code(), "malformed request refused");
            }
            Ending::MapperFailed { error, .. } => {
                let kind = error.kind();
                tracing::info!(
                    reason = %error,
                    kind = kind.as_str(),
                    "authorization error: claim mapper failed"
                );
            }
            Ending::Decided {
                target, decision, ..
            } => match decision {
                Ok(Decision::Allow) => {}
                Ok(Decision::Deny { reason }) => {
                    tracing::info!(
                        reason = %reason.as_deref().unwrap_or_default(),
                        namespace = target.namespace(),
                        "request denied by authorizer"
                    );
                }
                Err(status) => {
                    tracing::warn!(code = ?status.code(), "authorization error: authorizer failed");
                }
            },
        }
    }

    /// What a refusal is, for the answer policy; `None` when the call is not refused (or is
    /// malformed, which is not a denial). No claims and a denial means no credentials.
    fn denial(&self, api: &Arc<str>) -> Option<Denial> {
        let (kind, namespace, reason, claims) = match self {
            Ending::Malformed(_) => return None,
            Ending::MapperFailed { namespace, error } => (
                DenialKind::Unauthenticated,
                namespace.as_str(),
                error.to_string(),
                None,
            ),
            Ending::Decided {
                claims,
                target,
                decision,
                ..
            } => {
                let kind = match (decision, claims) {
                    (Ok(Decision::Allow), _) => return None,
                    (Ok(Decision::Deny { .. }), None) => DenialKind::Unauthenticated,
                    (Ok(Decision::Deny { .. }), Some(_)) => DenialKind::PermissionDenied,
                    (Err(_), _) => DenialKind::AuthorizerFailed,
                };
                let reason = match decision {
                    Ok(Decision::Deny { reason }) => reason.clone().unwrap_or_default(),
                    Err(status) => status.message().to_owned(),
                    Ok(Decision::Allow) => String::new(),
                };
                (kind, target.namespace(), reason, claims.clone())
            }
        };
        Some(Denial {
            kind,
            api: Arc::clone(api),
            namespace: namespace.to_owned(),
            reason,
            claims,
        })
    }

    /// Forward, let through (dry run) or answer. A malformed request is never forwarded, not
    /// even in dry-run mode: the handler could not read it either.
    fn next(self, dry_run: bool, expose_authorizer_errors: bool) -> Next {
        match self {
            Ending::Malformed(status) => Next::Respond(status),
            Ending::MapperFailed { .. } if dry_run => Next::LetThrough(None),
            Ending::MapperFailed { .. } => Next::Refuse,
            Ending::Decided {
                claims, decision, ..
            } => match decision {
                Ok(Decision::Allow) => Next::Forward(claims),
                _ if dry_run => Next::LetThrough(claims),
                Ok(Decision::Deny { reason: None }) => Next::Refuse,
                Ok(Decision::Deny {
                    reason: Some(reason),
                }) => Next::Respond(permission_denied(&reason)),
                Err(status) if expose_authorizer_errors => Next::Respond(status),
                Err(_) => Next::Refuse,
            },
        }
    }
}

impl Next {
    /// The call's last step: `None` when `req` is for the inner service (its body now
    /// replaying `prefix`, its extensions holding the claims), else the answer.
    #[inline(always)]
    fn then<ResBody: Default>(
        self,
        req: &mut Request<Body>,
        prefix: Prefix,
        shared: &Arc<Shared>,
    ) -> Option<Response<ResBody>> {
        let claims = match self {
            Next::Forward(claims) => claims,
            Next::LetThrough(claims) => {
                tracing::warn!(
                    api = req.uri().path(),
                    "dry run: a denied call is let through"
                );
                claims
            }
            Next::Respond(status) => return Some(status.into_http()),
            Next::Refuse => return Some(generic_denial()),
        };
        // The request is changed where it lies, not moved: its 200-odd bytes of head would be
        // copied at each move.
        if let Some(c) = claims {
            req.extensions_mut().insert(c);
        }
        let body = std::mem::take(req.body_mut());
        *req.body_mut() = Body::new(ForwardBody::new(prefix, body, shared));
        None
    }
}

/// The request headers the layer reads, found in one pass over the header map rather than
/// one hashed lookup each: a request has a handful of headers, and comparing their names is
/// cheaper than hashing ours. Each is its name's first value (gRPC metadata semantics, as
/// Temporal: a repeated header's first value wins); the principal headers, which only the
/// layer may set, are never read as any of them.
#[derive(Default)]
struct Heads<'h> {
    token: Option<&'h HeaderValue>,
    extra: Option<&'h HeaderValue>,
    encoding: Option<&'h HeaderValue>,
    /// Whether the caller sent a principal header, to be removed.
    principal: bool,
}

impl<'h> Heads<'h> {
    #[inline(always)]
    fn of(headers: &'h HeaderMap, shared: &Shared) -> Heads<'h> {
        let mut heads = Heads::default();
        for (name, value) in headers {
            if PRINCIPAL_HEADERS.contains(name) {
                heads.principal = true;
                continue;
            }
            if *name == shared.auth_header {
                heads.token.get_or_insert(value);
            }
            if *name == shared.extra_header {
                heads.extra.get_or_insert(value);
            }
            if *name == GRPC_ENCODING {
                heads.encoding.get_or_insert(value);
            }
        }
        heads
    }
}

/// Reads the request's headers once: strips the principal headers (a caller rarely sends
/// them, so usually nothing is removed) and gathers the credentials, and says how the
/// messages are compressed (`None`: an encoding the layer cannot read, refused if the body is
/// read).
#[inline(always)]
fn read_headers(
    shared: &Shared,
    req: &mut Request<Body>,
) -> (Result<Option<AuthInfo>, ClaimsError>, Option<Encoding>) {
    let heads = Heads::of(req.headers(), shared);
    let encoding = Encoding::from_value(heads.encoding);
    let texts = shared.claim_mapper.as_deref().map(|mapper| {
        // The token's text is usually the thread's last token (`token_text`).
        let token = match heads.token {
            None => Ok((String::new(), 0)),
            Some(v) => token_text::text_of(v).ok_or_else(|| not_utf8(&shared.auth_header)),
        };
        let extra = match heads.extra {
            None => Ok(String::new()),
            Some(v) => new_text(v.as_bytes()).ok_or_else(|| not_utf8(&shared.extra_header)),
        };
        (mapper, token, extra)
    });
    if heads.principal {
        for name in &PRINCIPAL_HEADERS {
            req.headers_mut().remove(name);
        }
    }
    let credentials = match texts {
        Some((mapper, token, extra)) => credentials(mapper, token, extra, req.extensions_mut()),
        None => Ok(None),
    };
    (credentials, encoding)
}

/// Temporal's `GetAuthInfo`, but for the audience (which may need the request message and is
/// filled in by [`Call::claims`]): `Ok(None)` when there are no credentials and the mapper
/// requires them.
#[inline(always)]
fn credentials(
    mapper: &dyn ClaimMapper,
    token: Result<(String, u64), ClaimsError>,
    extra: Result<String, ClaimsError>,
    extensions: &mut http::Extensions,
) -> Result<Option<AuthInfo>, ClaimsError> {
    let (token, text_id) = token?;
    let (tls_subject, tls_connection) = peer_credentials(extensions);
    if tls_subject.is_none() && token.is_empty() && mapper.auth_info_required() {
        return Ok(None);
    }
    Ok(Some(AuthInfo {
        auth_token: token,
        tls_subject,
        tls_connection,
        extra_data: extra?,
        audience: String::new(),
        text_id,
    }))
}

// The refusals below are built out of line, and `#[cold]` keeps the branches to them out of
// the way of the allowed path's code (see `Call::finish`).

/// A credentials header whose bytes are not UTF-8.
#[cold]
fn not_utf8(name: &HeaderName) -> ClaimsError {
    ClaimsError::new(
        ClaimsErrorKind::MalformedHeader,
        format!("header {name} is not valid UTF-8"),
    )
}

/// A request message the namespace scan could not read.
#[cold]
fn malformed_message(error: impl std::fmt::Display) -> Status {
    Status::invalid_argument(format!("malformed request message: {error}"))
}

/// A method whose namespace field the layer refused when it was built.
#[cold]
fn undeterminable_namespace() -> Status {
    Status::failed_precondition("the request's namespace cannot be determined for this method")
}

/// A header's bytes as a new `String`, when they are UTF-8.
fn new_text(bytes: &[u8]) -> Option<String> {
    std::str::from_utf8(bytes).ok().map(str::to_owned)
}

/// The peer's address from whichever connection info the server put in the request.
#[cfg(feature = "tls")]
fn peer_addr(extensions: &http::Extensions) -> Option<std::net::SocketAddr> {
    if let Some(info) = extensions.get::<tls::PeerConnectInfo>() {
        return info.remote_addr();
    }
    if let Some(info) = extensions.get::<TcpConnectInfo>() {
        return info.remote_addr();
    }
    extensions
        .get::<TlsConnectInfo<TcpConnectInfo>>()
        .and_then(|i| i.get_ref().remote_addr())
}

/// Without the `tls` feature there is no connection info to read an address from.
#[cfg(not(feature = "tls"))]
fn peer_addr(_extensions: &http::Extensions) -> Option<std::net::SocketAddr> {
    None
}

/// The verified client certificate's subject and connection info, when there is one. Our
/// acceptor parses the certificate once per connection and hands it over in
/// [`tls::PeerConnectInfo`], which the layer takes out of the request: its parts move into the
/// call, and tonic's own connect info takes its place for the service behind the layer (one
/// entry for one, so the request's extensions do not outgrow their first table). With tonic's
/// own TLS only the raw chain is there, so it is parsed here.
#[cfg(feature = "tls")]
#[inline(always)]
fn peer_credentials(extensions: &mut http::Extensions) -> PeerCredentials {
    let peer = match extensions.remove::<tls::PeerConnectInfo>() {
        Some(info) => {
            let (tonic_info, peer) = info.into_parts();
            extensions.insert(tonic_info);
            peer
        }
        None => extensions
            .get::<TlsConnectInfo<TcpConnectInfo>>()
            .and_then(|info| info.peer_certs())
            .and_then(|certs| PeerIdentity::from_chain(&certs)),
    };
    match peer.map(PeerIdentity::into_parts) {
        Some((subject, connection)) => (Some(subject), Some(connection)),
        None => (None, None),
    }
}

/// Without the `tls` feature no certificate is read: the mappers see header credentials only.
#[cfg(not(feature = "tls"))]
fn peer_credentials(_: &mut http::Extensions) -> PeerCredentials {
    (None, None)
}

type PeerCredentials = (Option<Arc<TlsSubject>>, Option<Arc<TlsConnection>>);
