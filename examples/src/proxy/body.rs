//! The response body relayed from the upstream: the upstream's frames and trailers pass
//! through untouched; only an error (the upstream connection lost mid-stream) is turned into
//! trailers with `grpc-status: UNAVAILABLE`, so the client sees a gRPC status it can retry on
//! rather than a reset stream.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tonic::{Status, body::Body};

/// The upstream's response body, ending with an `UNAVAILABLE` status if it breaks.
#[derive(Debug)]
pub(crate) struct UpstreamBody {
    inner: Body,
    done: bool,
}

impl UpstreamBody {
    pub(crate) fn new(inner: Body) -> UpstreamBody {
        UpstreamBody { inner, done: false }
    }
}

impl HttpBody for UpstreamBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if self.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Err(error))) => {
                self.done = true;
                let status = Status::unavailable(format!(
                    "connection to the upstream lost during the call: {error}"
                ));
                let mut trailers = HeaderMap::new();
                match status.add_header(&mut trailers) {
                    Ok(()) => Poll::Ready(Some(Ok(Frame::trailers(trailers)))),
                    Err(status) => Poll::Ready(Some(Err(status))),
                }
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
