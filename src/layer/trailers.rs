//! The request body with headers the layer owns taken out of its trailers. The layer strips
//! the principal headers from the request's headers so callers cannot spoof them, and reads
//! credentials from the headers only; a client can also send any of them as request trailers,
//! which a handler may see merged into its metadata. So they are removed there too.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tonic::Status;

use super::Shared;
use super::call::PRINCIPAL_HEADERS;

pin_project_lite::pin_project! {
    /// A body whose trailers lose the principal headers and the layer's credentials headers;
    /// data passes untouched.
    pub(crate) struct StripTrailers {
        #[pin]
        inner: tonic::body::Body,
        shared: Arc<Shared>,
    }
}

impl StripTrailers {
    pub(crate) fn new(inner: tonic::body::Body, shared: Arc<Shared>) -> StripTrailers {
        StripTrailers { inner, shared }
    }
}

impl Body for StripTrailers {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.project();
        let shared = this.shared;
        this.inner.poll_frame(cx).map(|frame| {
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
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
