//! [`ResponseFuture`]: the future of one call through [`Authz`](super::Authz).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::BoxFuture;

/// The response future of [`Authz`](super::Authz): authorization, then the inner service's
/// response, or the denial response without ever calling the inner service.
pub struct ResponseFuture<T> {
    inner: BoxFuture<'static, T>,
}

impl<T> ResponseFuture<T> {
    pub(crate) fn new(inner: BoxFuture<'static, T>) -> ResponseFuture<T> {
        ResponseFuture { inner }
    }
}

impl<T> Future for ResponseFuture<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.inner.as_mut().poll(cx)
    }
}

impl<T> fmt::Debug for ResponseFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
