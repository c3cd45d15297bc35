//! [`ResponseFuture`]: the future of one call through [`Authz`](super::Authz).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::BoxFuture;

pin_project_lite::pin_project! {
    /// The response future of [`Authz`](super::Authz): the inner service's own future when the
    /// call was decided at once (the usual case, with no allocation of its own), the denial
    /// answer, or, when a step had to wait, the rest of the call boxed.
    pub struct ResponseFuture<F: Future> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<F: Future> {
        Inner { #[pin] future: F },
        Ready { output: Option<F::Output> },
        Waiting { future: BoxFuture<'static, F::Output> },
    }
}

impl<F: Future> ResponseFuture<F> {
    /// The inner service's future for an allowed call.
    pub(crate) fn inner(future: F) -> ResponseFuture<F> {
        ResponseFuture {
            kind: Kind::Inner { future },
        }
    }

    /// An answer known at once (a refusal).
    pub(crate) fn ready(output: F::Output) -> ResponseFuture<F> {
        ResponseFuture {
            kind: Kind::Ready {
                output: Some(output),
            },
        }
    }

    /// The rest of a call that had to wait.
    pub(crate) fn waiting(future: BoxFuture<'static, F::Output>) -> ResponseFuture<F> {
        ResponseFuture {
            kind: Kind::Waiting { future },
        }
    }
}

impl<F: Future> Future for ResponseFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future } => future.poll(cx),
            // Polled again after it answered: a contract breach by the caller, answered with
            // `Pending` rather than a panic.
            KindProj::Ready { output } => output.take().map_or(Poll::Pending, Poll::Ready),
            KindProj::Waiting { future } => future.as_mut().poll(cx),
        }
    }
}

impl<F: Future> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
