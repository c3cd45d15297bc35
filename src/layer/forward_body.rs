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
/// layer's credentials headers.
///
/// When the layer read a message, the client's body is asked at once (without waiting) for
/// what follows it. A unary call has nothing more to send, so the answer is usually the end
/// of the stream, either already known (a client that sends the message and its end in one
/// `DATA` frame) or in an empty frame that came with the message (tonic's client). Then
/// nothing is left to read or filter: the body is the prefix alone, and the handler reads the
/// end through no wrapper. A frame that did come is kept and handed on in order; a body
/// still open is read on later as it arrives.
pub(crate) struct ForwardBody {
    prefix: Prefix,
    /// What the client's body had sent after the message when it was asked.
    peeked: Option<Result<Frame<Bytes>, Status>>,
    rest: Option<Rest>,
}

impl ForwardBody {
    // Inlined into the layer's allowed path with its other steps (see `layer::call`).
    #[inline(always)]
    pub(crate) fn new(
        prefix: Prefix,
        mut rest: tonic::body::Body,
        shared: &Arc<Shared>,
    ) -> ForwardBody {
        let (peeked, ended) = if prefix.is_empty() {
            (None, false)
        } else {
            // Nothing is woken by this poll: the handler polls the body again, with its
            // task's waker, before it waits for anything.
            let mut now = Context::from_waker(std::task::Waker::noop());
            loop {
                match Pin::new(&mut rest).poll_frame(&mut now) {
                    Poll::Ready(None) => break (None, true),
                    // An empty frame carries nothing; what follows it is asked for too.
                    Poll::Ready(Some(Ok(frame)))
                        if frame.data_ref().is_some_and(Bytes::is_empty) => {}
                    Poll::Ready(Some(frame)) => break (Some(frame), false),
                    Poll::Pending => break (None, false),
                }
            }
        };
        let rest = (!ended).then(|| (rest, Arc::clone(shared)));
        ForwardBody {
            prefix,
            peeked,
            rest,
        }
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
        let frame = match this.peeked.take() {
            Some(frame) => frame,
            None => match Pin::new(rest).poll_frame(cx) {
                Poll::Ready(Some(frame)) => frame,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            },
        };
        Poll::Ready(Some(frame.map(|frame| match frame.into_trailers() {
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
        })))
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_empty()
            && self.peeked.is_none()
            && self
                .rest
                .as_ref()
                .is_none_or(|(rest, _)| rest.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        let buffered = self.prefix.len()
            + match &self.peeked {
                Some(Ok(frame)) => frame.data_ref().map_or(0, |d| d.len() as u64),
                _ => 0,
            };
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

    /// A client's body: frames that have come (`None`: one that has not yet), then its end.
    struct Client(VecDeque<Option<Frame<Bytes>>>);

    impl Body for Client {
        type Data = Bytes;
        type Error = Status;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
            match self.0.pop_front() {
                Some(Some(frame)) => Poll::Ready(Some(Ok(frame))),
                // Not yet: it comes at once, so the next poll has it.
                Some(None) => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                None => Poll::Ready(None),
            }
        }

        fn is_end_stream(&self) -> bool {
            self.0.is_empty()
        }
    }

    fn forward(frames: impl IntoIterator<Item = Option<Frame<Bytes>>>) -> ForwardBody {
        let shared = Arc::clone(&AuthzLayer::builder().build().shared);
        let prefix = Prefix::new(Bytes::from_static(b"first"), Bytes::from_static(b"more"));
        let client = Client(frames.into_iter().collect());
        ForwardBody::new(prefix, tonic::body::Body::new(client), &shared)
    }

    fn data(bytes: &'static [u8]) -> Option<Frame<Bytes>> {
        Some(Frame::data(Bytes::from_static(bytes)))
    }

    fn sneaked_trailers() -> Option<Frame<Bytes>> {
        let mut trailers = HeaderMap::new();
        trailers.insert("authorization", "Bearer sneaked".parse().expect("value"));
        trailers.insert("temporal-principal-name", "admin".parse().expect("value"));
        trailers.insert("x-kept", "yes".parse().expect("value"));
        Some(Frame::trailers(trailers))
    }

    async fn read_all(body: ForwardBody) -> (Bytes, Option<HeaderMap>) {
        let all = body.collect().await.expect("no error");
        let trailers = all.trailers().cloned();
        (all.to_bytes(), trailers)
    }

    #[tokio::test]
    async fn a_body_that_ended_with_the_message_is_the_prefix_alone() {
        for frames in [vec![], vec![data(b"")], vec![data(b""), data(b"")]] {
            let body = forward(frames);
            assert!(body.rest.is_none() && body.peeked.is_none(), "nothing left");
            assert_eq!(body.size_hint().exact(), Some(9));
            assert!(!body.is_end_stream());
            let (bytes, trailers) = read_all(body).await;
            assert_eq!(bytes, Bytes::from_static(b"firstmore"));
            assert!(trailers.is_none());
        }
    }

    #[tokio::test]
    async fn what_came_after_the_message_follows_it_and_trailers_lose_the_layers_headers() {
        let cases = [
            vec![data(b"-rest"), sneaked_trailers()],
            vec![data(b""), sneaked_trailers()],
            vec![None, data(b"-rest"), sneaked_trailers()],
            vec![data(b"-rest"), None, sneaked_trailers()],
        ];
        for frames in cases {
            let pending_first = frames.first().is_some_and(Option::is_none);
            let sends_data = frames
                .iter()
                .flatten()
                .any(|f| f.data_ref().is_some_and(|d| !d.is_empty()));
            let body = forward(frames);
            assert!(body.rest.is_some());
            assert_eq!(body.peeked.is_none(), pending_first);
            let (bytes, trailers) = read_all(body).await;
            let want: &[u8] = if sends_data {
                b"firstmore-rest"
            } else {
                b"firstmore"
            };
            assert_eq!(bytes, Bytes::from_static(want));
            let trailers = trailers.expect("trailers");
            assert_eq!(trailers.len(), 1, "{trailers:?}");
            assert_eq!(trailers["x-kept"], "yes");
        }
    }
}
