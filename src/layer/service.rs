//! [`Authz`]: the service the layer wraps around an inner gRPC service, and its tower
//! `Service` contract. What happens inside one call is in `call.rs`.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tonic::server::NamedService;
use tower_service::Service;

use super::call::{self, Started};
use super::{AuthzLayer, ResponseFuture, Shared};
use crate::{Authorizer, ClaimMapper};

/// The authorization middleware around `S`. Usually made by [`AuthzLayer`]; [`Authz::new`]
/// wraps one service directly.
#[derive(Clone)]
pub struct Authz<S> {
    inner: S,
    shared: Arc<Shared>,
    keep_compressed: bool,
}

impl<S> Authz<S> {
    /// Wraps `inner` with the settings of `layer` (the same as `layer.layer(inner)`).
    pub fn new(inner: S, layer: &AuthzLayer) -> Authz<S> {
        Authz {
            inner,
            shared: Arc::clone(layer.shared()),
            keep_compressed: layer.keeps_compressed(),
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

// On `Authz<()>` only, so that `Authz::layer(..)` needs no type annotation (as
// `HashMap::new` is on the default hasher only); the layer is the same for every `S`.
impl Authz<()> {
    /// A layer with this claim mapper and authorizer and the builder's defaults for
    /// everything else; the same as [`AuthzLayer::new`].
    ///
    /// ```
    /// use tonic_authz::{Authz, DefaultAuthorizer, NoopClaimMapper};
    /// use tower_layer::Layer;
    ///
    /// let layer = Authz::layer(NoopClaimMapper, DefaultAuthorizer::new());
    /// let service = layer.layer(tower::service_fn(|_: http::Request<tonic::body::Body>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(tonic::body::Body::empty()))
    /// }));
    /// let _inner = service.into_inner();
    /// ```
    pub fn layer(claim_mapper: impl ClaimMapper, authorizer: impl Authorizer) -> AuthzLayer {
        AuthzLayer::new(claim_mapper, authorizer)
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
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let mut req = req.map(tonic::body::Body::new);
        match call::start(&self.shared, &mut req, self.keep_compressed) {
            // The readied service is called at once: no clone, no future of our own.
            Started::Forward => ResponseFuture::inner(self.inner.call(req)),
            Started::Answer(response) => ResponseFuture::ready(Ok(response)),
            Started::Wait(waiting) => {
                // The readied service goes into the future; a fresh clone stays for the next
                // call.
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                let shared = Arc::clone(&self.shared);
                ResponseFuture::waiting(Box::pin(waiting.run(shared, inner)))
            }
        }
    }
}
