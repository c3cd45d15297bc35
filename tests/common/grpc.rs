//! gRPC on the wire, by hand: length-prefixed frames, request bodies split into arbitrary
//! chunks with optional trailers, and the decoding of a denial's `grpc-status-details-bin`.

use std::convert::Infallible;

use bytes::Bytes;
use futures_util::stream;
use http::HeaderMap;
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use prost::Message;

/// The type URL of Temporal's permission-denied detail.
pub(crate) const PERMISSION_DENIED_FAILURE_URL: &str =
    "type.googleapis.com/temporal.api.errordetails.v1.PermissionDeniedFailure";

/// One uncompressed gRPC frame: flag 0, big-endian length, message.
pub(crate) fn frame(message: &[u8]) -> Vec<u8> {
    frame_with_flag(0, message)
}

/// One gRPC frame with the given compression flag.
pub(crate) fn frame_with_flag(flag: u8, message: &[u8]) -> Vec<u8> {
    let len = u32::try_from(message.len()).expect("test messages are small");
    let mut out = Vec::with_capacity(5 + message.len());
    out.push(flag);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// The frames of several messages, concatenated.
pub(crate) fn frames<M: Message>(messages: &[M]) -> Vec<u8> {
    messages
        .iter()
        .flat_map(|m| frame(&m.encode_to_vec()))
        .collect()
}

/// gzip-compresses `message` (for `grpc-encoding: gzip` frames with flag 1).
pub(crate) fn gzip(message: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(message).expect("writes to memory");
    encoder.finish().expect("writes to memory")
}

/// A request body of boxed frames, for `http::Request<ChunkedBody>`.
pub(crate) type ChunkedBody =
    StreamBody<stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;

/// `bytes` split into chunks of at most `chunk` bytes (at least one chunk, even when empty),
/// then `trailers` when given.
pub(crate) fn chunked_body(bytes: &[u8], chunk: usize, trailers: Option<HeaderMap>) -> ChunkedBody {
    let sizes = vec![chunk.max(1); bytes.len().div_ceil(chunk.max(1)).max(1)];
    chunked_body_by(bytes, &sizes, trailers)
}

/// `bytes` split into chunks of the given sizes (the last chunk takes the rest), then
/// `trailers` when given.
pub(crate) fn chunked_body_by(
    bytes: &[u8],
    sizes: &[usize],
    trailers: Option<HeaderMap>,
) -> ChunkedBody {
    let mut frames = Vec::new();
    let mut rest = bytes;
    for (i, size) in sizes.iter().enumerate() {
        let take = if i + 1 == sizes.len() {
            rest.len()
        } else {
            (*size).min(rest.len())
        };
        let (head, tail) = rest.split_at(take);
        frames.push(Ok(Frame::data(Bytes::copy_from_slice(head))));
        rest = tail;
    }
    if let Some(t) = trailers {
        frames.push(Ok(Frame::trailers(t)));
    }
    StreamBody::new(stream::iter(frames))
}

/// Everything a body yields: its data, concatenated, and its trailers.
pub(crate) async fn collect<B>(body: B) -> (Bytes, Option<HeaderMap>)
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let collected = body.collect().await.expect("the body reads to its end");
    let trailers = collected.trailers().cloned();
    (collected.to_bytes(), trailers)
}

/// `google.rpc.Status`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub(crate) code: i32,
    #[prost(string, tag = "2")]
    pub(crate) message: String,
    #[prost(message, repeated, tag = "3")]
    pub(crate) details: Vec<Any>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Any {
    #[prost(string, tag = "1")]
    pub(crate) type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) value: Vec<u8>,
}

/// `temporal.api.errordetails.v1.PermissionDeniedFailure` (its field 1, `reason`).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct PermissionDeniedFailure {
    #[prost(string, tag = "1")]
    pub(crate) reason: String,
}

/// Asserts `status` is Temporal's denial, with exactly one `PermissionDeniedFailure` detail
/// whose reason is `reason` (empty for the generic denial).
pub(crate) fn assert_temporal_denial(status: &tonic::Status, reason: &str) {
    assert_eq!(status.code(), tonic::Code::PermissionDenied, "{status:?}");
    assert_eq!(status.message(), "Request unauthorized.");
    let details = RpcStatus::decode(status.details()).expect("details are a google.rpc.Status");
    assert_eq!(details.code, tonic::Code::PermissionDenied as i32);
    assert_eq!(details.message, "Request unauthorized.");
    assert_eq!(details.details.len(), 1, "{details:?}");
    assert_eq!(details.details[0].type_url, PERMISSION_DENIED_FAILURE_URL);
    let failure = PermissionDeniedFailure::decode(details.details[0].value.as_slice())
        .expect("the detail is a PermissionDeniedFailure");
    assert_eq!(failure.reason, reason);
}

/// The gRPC status carried by a response's headers (a trailers-only response), if any.
pub(crate) fn header_status<B>(response: &http::Response<B>) -> Option<tonic::Status> {
    tonic::Status::from_header_map(response.headers())
}
