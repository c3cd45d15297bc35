//! The request body the inner service sees: what the layer read to decide (the first
//! message, replayed), then the rest of the client's body as it arrives, with the headers the
//! layer owns taken out of its trailers.
//!
//! The layer strips the principal headers from the request's headers so callers cannot spoof
//! them, and reads credentials from the headers only; a client can also send any of them as
//! request trailers, which a handler may see merged into its metadata. So they are removed
//! there too. One wrapper does both, so a call costs one boxed body at most.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tonic::Status;

use super::Shared;
use super::body::Prefix;
use super::call::PRINCIPAL_HEADERS;

/// The rest of the client's body, and the layer's settings that name the headers to take out
/// of its trailers.
type Rest = (tonic::body::Body, Arc<Shared>);

/// The replayed prefix, then the client's body; trailers lose the principal headers and the
/// layer's credentials headers. When the client's body had already ended with the message the
/// layer read (a unary call's one `DATA` frame carries the end of the stream), nothing is
/// left to read or filter: the body is the prefix alone, and the handler's read of the end
/// of the stream costs nothing.
pub(crate) struct ForwardBody {
    prefix: Prefix,
    rest: Option<Rest>,
}

impl ForwardBody {
    pub(crate) fn new(
        prefix: Prefix,
        rest: tonic::body::Body,
        shared: &Arc<Shared>,
    ) -> ForwardBody {
        let rest = (!rest.is_end_stream()).then(|| (rest, Arc::clone(shared)));
        ForwardBody { prefix, rest }
    }
}

impl Body for ForwardBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = &mut *self;
        if let Some(data) = this.prefix.pop() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        let Some((rest, shared)) = &mut this.rest else {
            return Poll::Ready(None);
        };
        Pin::new(rest).poll_frame(cx).map(|frame| {
            frame.map(|result| {
                result.map(|frame| match frame.into_trailers() {
                    Ok(mut trailers) => {
                        for name in PRINCIPAL_HEADERS
                            .iter()
                            .chain([&shared.auth_header, &shared.extra_header])
                        {
                            trailers.remove(name);
                        }
                        Frame::trailers(trailers)
                    }
                    Err(frame) => frame,
                })
            })
        })
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_empty()
            && self
                .rest
                .as_ref()
                .is_none_or(|(rest, _)| rest.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        let buffered = self.prefix.len();
        let Some((rest, _)) = &self.rest else {
            return SizeHint::with_exact(buffered);
        };
        let rest = rest.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(rest.lower() + buffered);
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper + buffered);
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use http::HeaderMap;
    use http_body_util::BodyExt;

    use super::*;
    use crate::AuthzLayer;

    /// A client's body that has the given frames still to come.
    struct Client(VecDeque<Frame<Bytes>>);

    impl Body for Client {
        type Data = Bytes;
        type Error = Status;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
            Poll::Ready(self.0.pop_front().map(Ok))
        }

        fn is_end_stream(&self) -> bool {
            self.0.is_empty()
        }
    }

    fn shared() -> Arc<Shared> {
        Arc::clone(&AuthzLayer::builder().build().shared)
    }

    fn prefix() -> Prefix {
        Prefix::new(Bytes::from_static(b"first"), Bytes::from_static(b"more"))
    }

    #[tokio::test]
    async fn a_body_that_has_ended_is_the_prefix_alone() {
        let body = ForwardBody::new(prefix(), tonic::body::Body::empty(), &shared());
        assert!(body.rest.is_none(), "nothing left to read");
        assert_eq!(body.size_hint().exact(), Some(9));
        assert!(!body.is_end_stream());
        let all = body.collect().await.expect("no error");
        assert!(all.trailers().is_none());
        assert_eq!(all.to_bytes(), Bytes::from_static(b"firstmore"));
    }

    #[tokio::test]
    async fn the_rest_follows_the_prefix_and_its_trailers_lose_the_layers_headers() {
        let mut trailers = HeaderMap::new();
        trailers.insert("authorization", "Bearer sneaked".parse().expect("value"));
        trailers.insert("temporal-principal-name", "admin".parse().expect("value"));
        trailers.insert("x-kept", "yes".parse().expect("value"));
        let client = Client(VecDeque::from([
            Frame::data(Bytes::from_static(b"-rest")),
            Frame::trailers(trailers),
        ]));
        let body = ForwardBody::new(prefix(), tonic::body::Body::new(client), &shared());
        assert!(body.rest.is_some());
        let all = body.collect().await.expect("no error");
        let trailers = all.trailers().expect("trailers").clone();
        assert_eq!(all.to_bytes(), Bytes::from_static(b"firstmore-rest"));
        assert_eq!(trailers.len(), 1, "{trailers:?}");
        assert_eq!(trailers["x-kept"], "yes");
    }
}
