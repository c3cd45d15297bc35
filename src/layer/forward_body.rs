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

pin_project_lite::pin_project! {
    /// The replayed prefix, then the client's body; trailers lose the principal headers and
    /// the layer's credentials headers.
    pub(crate) struct ForwardBody {
        prefix: Prefix,
        #[pin]
        rest: tonic::body::Body,
        shared: Arc<Shared>,
    }
}

impl ForwardBody {
    pub(crate) fn new(prefix: Prefix, rest: tonic::body::Body, shared: Arc<Shared>) -> ForwardBody {
        ForwardBody {
            prefix,
            rest,
            shared,
        }
    }
}

impl Body for ForwardBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.project();
        if let Some(data) = this.prefix.pop() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        let shared = this.shared;
        this.rest.poll_frame(cx).map(|frame| {
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
        self.prefix.is_empty() && self.rest.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let buffered = self.prefix.len();
        let rest = self.rest.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(rest.lower() + buffered);
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper + buffered);
        }
        hint
    }
}
