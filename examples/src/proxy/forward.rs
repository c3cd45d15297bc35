//! The forwarding service: the inner service of the authorization layer in proxy mode. It
//! hands each allowed request to the next connection of the [`Pool`] and returns the
//! upstream's response as it came (headers, frames, trailers), its body wrapped only so a
//! connection lost mid-stream ends the call with a gRPC status instead of a reset.
//!
//! tonic's `Channel` does the HTTP/2 work: it rewrites the URI's scheme and authority to the
//! upstream's, relays every other header (appending its own token to `user-agent`, as a proxy
//! adds a `via`), passes `grpc-timeout` on (and stops waiting for response headers when it
//! expires), and resets the upstream stream when this call is dropped, which is what happens
//! when the client cancels. Nothing here decodes a message.
//!
//! Each forwarded service is one route: [`Forward::named`] gives the `Forward` a gRPC service
//! name so tonic's router sends only that service's paths to it; any other path is answered
//! by the router (`UNIMPLEMENTED`) and never reaches the upstream.

use std::{
    convert::Infallible,
    error::Error as StdError,
    future::Future,
    marker::PhantomData,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use http::{Request, Response};
use tonic::{Status, TimeoutExpired, body::Body, server::NamedService};
use tower::{Service, ServiceExt as _};

use super::{body::UpstreamBody, credentials::UpstreamCredentials, pool::Pool};

/// `grpc.health.v1.Health`.
pub const HEALTH_SERVICE_NAME: &str = "grpc.health.v1.Health";
/// `temporal.api.adminservice.v1.AdminService`, forwarded only when configured.
pub const ADMIN_SERVICE_NAME: &str = "temporal.api.adminservice.v1.AdminService";

/// Forwards every request to the upstream behind `pool`.
#[derive(Clone, Debug)]
pub struct Forward {
    pool: Pool,
    credentials: Arc<UpstreamCredentials>,
}

impl Forward {
    /// A forwarder over `pool` applying `credentials` to every request.
    pub fn new(pool: Pool, credentials: UpstreamCredentials) -> Forward {
        Forward {
            pool,
            credentials: Arc::new(credentials),
        }
    }

    /// This forwarder as the gRPC service `N::NAME`, for a tonic router.
    pub(crate) fn named<N: ServiceName>(&self) -> Named<N> {
        Named {
            forward: self.clone(),
            name: PhantomData,
        }
    }
}

impl Service<Request<Body>> for Forward {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Each call takes a channel of its own; the channel's readiness is awaited in `call`.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        self.credentials.apply(request.headers_mut());
        let channel = self.pool.next_channel();
        let pool = self.pool.clone();
        Box::pin(async move {
            match channel.oneshot(request).await {
                Ok(response) => Ok(response.map(|body| Body::new(UpstreamBody::new(body)))),
                Err(error) => {
                    let status = failure_status(pool.address(), &error);
                    tracing::warn!(upstream = pool.address(), code = ?status.code(), message = status.message(), "upstream call failed");
                    Ok(status.into_http())
                }
            }
        })
    }
}

/// The status for a call the upstream never answered: `DEADLINE_EXCEEDED` when the caller's
/// `grpc-timeout` ran out first, `UNAVAILABLE` (with the cause, e.g. connection refused or
/// the connect timeout) otherwise.
fn failure_status(address: &str, error: &(dyn StdError + 'static)) -> Status {
    let mut causes = Vec::new();
    let mut next = Some(error);
    while let Some(cause) = next {
        if cause.is::<TimeoutExpired>() {
            return Status::deadline_exceeded(format!(
                "deadline exceeded before upstream {address} answered"
            ));
        }
        let text = cause.to_string();
        if !causes.contains(&text) {
            causes.push(text);
        }
        next = cause.source();
    }
    Status::unavailable(format!(
        "upstream {address} unavailable: {}",
        causes.join(": ")
    ))
}

/// A gRPC service name for [`Named`].
pub(crate) trait ServiceName: Send + Sync + 'static {
    /// The full service name, e.g. `grpc.health.v1.Health`.
    const NAME: &'static str;
}

/// [`Forward`] under one gRPC service name.
#[derive(Debug)]
pub(crate) struct Named<N> {
    forward: Forward,
    name: PhantomData<fn() -> N>,
}

impl<N> Clone for Named<N> {
    fn clone(&self) -> Self {
        Named {
            forward: self.forward.clone(),
            name: PhantomData,
        }
    }
}

impl<N: ServiceName> NamedService for Named<N> {
    const NAME: &'static str = N::NAME;
}

impl<N> Service<Request<Body>> for Named<N> {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = <Forward as Service<Request<Body>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.forward.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        self.forward.call(request)
    }
}

/// Names of the services the proxy can forward.
pub(crate) mod names {
    use super::ServiceName;
    use crate::temporal::{OPERATOR_SERVICE_NAME, WORKFLOW_SERVICE_NAME};

    /// `WorkflowService`.
    #[derive(Debug)]
    pub(crate) struct Workflow;
    impl ServiceName for Workflow {
        const NAME: &'static str = WORKFLOW_SERVICE_NAME;
    }

    /// `OperatorService`.
    #[derive(Debug)]
    pub(crate) struct Operator;
    impl ServiceName for Operator {
        const NAME: &'static str = OPERATOR_SERVICE_NAME;
    }

    /// gRPC health.
    #[derive(Debug)]
    pub(crate) struct Health;
    impl ServiceName for Health {
        const NAME: &'static str = super::HEALTH_SERVICE_NAME;
    }

    /// `AdminService`.
    #[derive(Debug)]
    pub(crate) struct Admin;
    impl ServiceName for Admin {
        const NAME: &'static str = super::ADMIN_SERVICE_NAME;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expired_deadline_is_not_reported_as_unavailable() {
        let status = failure_status("h:1", &TimeoutExpired(()));
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let status = failure_status("h:1", &refused);
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert_eq!(status.message(), "upstream h:1 unavailable: refused");
    }
}
