//! The request body: read the first gRPC message (bounded, with a deadline), decompress it, and
//! hand the inner service a body that replays exactly what the client sent, trailers included.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use tonic::{Code, Status};

/// How the client says its messages are compressed (`grpc-encoding`): tonic's encodings, each
/// behind the feature of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    Identity,
    #[cfg(feature = "gzip")]
    Gzip,
    #[cfg(feature = "deflate")]
    Deflate,
    #[cfg(feature = "zstd")]
    Zstd,
}

impl Encoding {
    /// Reads `grpc-encoding`; an encoding we cannot decompress is refused the way tonic refuses
    /// it, so clients that fall back on that answer keep working.
    pub(crate) fn from_headers(headers: &http::HeaderMap) -> Result<Encoding, Status> {
        let Some(value) = headers.get("grpc-encoding") else {
            return Ok(Encoding::Identity);
        };
        match value.as_bytes() {
            b"identity" => Ok(Encoding::Identity),
            #[cfg(feature = "gzip")]
            b"gzip" => Ok(Encoding::Gzip),
            #[cfg(feature = "deflate")]
            b"deflate" => Ok(Encoding::Deflate),
            #[cfg(feature = "zstd")]
            b"zstd" => Ok(Encoding::Zstd),
            other => {
                let name = String::from_utf8_lossy(other);
                let mut status = Status::unimplemented(format!(
                    "Content is compressed with `{name}` which isn't supported"
                ));
                status.metadata_mut().insert(
                    "grpc-accept-encoding",
                    tonic::metadata::MetadataValue::from_static(ACCEPT_ENCODING),
                );
                Err(status)
            }
        }
    }
}

/// What `grpc-accept-encoding` says when an encoding is refused: the enabled ones, in tonic's
/// order, or `identity` when none is.
const ACCEPT_ENCODING: &str = {
    const GZIP: bool = cfg!(feature = "gzip");
    const DEFLATE: bool = cfg!(feature = "deflate");
    const ZSTD: bool = cfg!(feature = "zstd");
    match (GZIP, DEFLATE, ZSTD) {
        (false, false, false) => "identity",
        (true, false, false) => "gzip",
        (false, true, false) => "deflate",
        (false, false, true) => "zstd",
        (true, true, false) => "gzip,deflate",
        (true, false, true) => "gzip,zstd",
        (false, true, true) => "deflate,zstd",
        (true, true, true) => "gzip,deflate,zstd",
    }
};

/// The first message, and every byte read to get it (to replay them untouched).
pub(crate) struct FirstMessage {
    /// The message bytes, decompressed. Uncompressed, they share the memory of `consumed`.
    pub(crate) message: Bytes,
    /// The bytes consumed from the body, in order, exactly as received: the one data frame
    /// read, or, when the message spanned several frames, one buffer holding them all (the
    /// frames themselves are not kept, so a message is never held twice).
    pub(crate) consumed: VecDeque<Bytes>,
}

const HEADER_LEN: usize = 5;

/// Reads the first length-prefixed message from `body`.
///
/// Never reads past the first message's last byte's frame, never buffers more than
/// `limit` + one HTTP/2 frame, and fails closed on anything malformed.
pub(crate) async fn read_first_message(
    body: &mut tonic::body::Body,
    encoding: Encoding,
    limit: usize,
) -> Result<FirstMessage, Status> {
    // The only frame read so far, kept as is (no copy while a message fits in one frame).
    let mut single: Option<Bytes> = None;
    // From the second frame on, every byte read, in order; each frame is dropped once copied.
    let mut pending = BytesMut::new();
    loop {
        let seen: &[u8] = match &single {
            Some(frame) => frame,
            None => &pending,
        };
        if seen.len() >= HEADER_LEN {
            let (compressed, len) = parse_header(&seen[..HEADER_LEN], encoding, limit)?;
            if seen.len() >= HEADER_LEN + len {
                let all = match single.take() {
                    Some(frame) => frame,
                    None => std::mem::take(&mut pending).freeze(),
                };
                let raw = all.slice(HEADER_LEN..HEADER_LEN + len);
                let message = if compressed {
                    decompress(&raw, encoding, limit)?
                } else {
                    raw
                };
                return Ok(FirstMessage {
                    message,
                    consumed: VecDeque::from([all]),
                });
            }
        }
        match body.frame().await {
            None => return Err(ended_early(seen.len())),
            Some(Err(status)) => return Err(status),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => {
                    if let Some(first) = single.take() {
                        pending.reserve(first.len() + data.len());
                        pending.extend_from_slice(&first);
                        pending.extend_from_slice(&data);
                    } else if pending.is_empty() {
                        single = Some(data);
                    } else {
                        pending.extend_from_slice(&data);
                    }
                }
                Err(_trailers) => return Err(ended_early(seen.len())),
            },
        }
    }
}

/// The body ended (or its trailers came) before the first message was complete. Bytes, not
/// frames, decide the wording: an empty DATA frame carries nothing, so the answer must not
/// depend on whether the client sent one.
fn ended_early(bytes_read: usize) -> Status {
    if bytes_read == 0 {
        Status::invalid_argument("missing request message")
    } else {
        Status::invalid_argument("request message is truncated")
    }
}

fn parse_header(header: &[u8], encoding: Encoding, limit: usize) -> Result<(bool, usize), Status> {
    let mut h = header;
    let flag = h.get_u8();
    let len = h.get_u32() as usize;
    let compressed = match flag {
        0 => false,
        1 => {
            if encoding == Encoding::Identity {
                return Err(Status::invalid_argument(
                    "protocol error: received message with compressed-flag but no grpc-encoding was specified",
                ));
            }
            true
        }
        other => {
            return Err(Status::invalid_argument(format!(
                "protocol error: received message with invalid compression flag: {other}"
            )));
        }
    };
    if len > limit {
        return Err(too_large(len, limit));
    }
    Ok((compressed, len))
}

fn too_large(found: usize, limit: usize) -> Status {
    Status::new(
        Code::ResourceExhausted,
        format!(
            "Error, decoded message length too large: found {found} bytes, the limit is: {limit} bytes"
        ),
    )
}

#[cfg_attr(
    not(any(feature = "gzip", feature = "deflate", feature = "zstd")),
    allow(unused_variables)
)]
fn decompress(raw: &Bytes, encoding: Encoding, limit: usize) -> Result<Bytes, Status> {
    match encoding {
        Encoding::Identity => Ok(raw.clone()),
        #[cfg(feature = "gzip")]
        Encoding::Gzip => inflate(flate2::read::GzDecoder::new(&raw[..]), raw.len(), limit),
        #[cfg(feature = "deflate")]
        Encoding::Deflate => inflate(flate2::read::ZlibDecoder::new(&raw[..]), raw.len(), limit),
        #[cfg(feature = "zstd")]
        Encoding::Zstd => {
            let decoder = zstd::stream::read::Decoder::with_buffer(&raw[..])
                .map_err(|e| decompress_error(&e))?;
            inflate(decoder, raw.len(), limit)
        }
    }
}

/// Reads `decoder` to its end, refusing more than `limit` bytes of output.
#[cfg(any(feature = "gzip", feature = "deflate", feature = "zstd"))]
fn inflate(decoder: impl std::io::Read, raw_len: usize, limit: usize) -> Result<Bytes, Status> {
    use std::io::Read;
    let mut out = Vec::with_capacity(raw_len.saturating_mul(2).min(limit));
    // Read one byte past the limit so an oversized (or bomb) payload is detected
    // without ever inflating more than limit + 1 bytes.
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| decompress_error(&e))?;
    if out.len() > limit {
        return Err(too_large(out.len(), limit));
    }
    Ok(Bytes::from(out))
}

#[cfg(any(feature = "gzip", feature = "deflate", feature = "zstd"))]
fn decompress_error(e: &std::io::Error) -> Status {
    Status::invalid_argument(format!("error decompressing request message: {e}"))
}

pin_project_lite::pin_project! {
    /// The request body the inner service sees: the frames already read, then the rest of the
    /// client's body (data and trailers) as it arrives.
    pub(crate) struct ReplayBody {
        prefix: VecDeque<Bytes>,
        #[pin]
        rest: tonic::body::Body,
    }
}

impl ReplayBody {
    pub(crate) fn new(prefix: VecDeque<Bytes>, rest: tonic::body::Body) -> ReplayBody {
        ReplayBody { prefix, rest }
    }
}

impl Body for ReplayBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.project();
        if let Some(data) = this.prefix.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        this.rest.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_empty() && self.rest.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let buffered: u64 = self.prefix.iter().map(|b| b.len() as u64).sum();
        let rest = self.rest.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(rest.lower() + buffered);
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper + buffered);
        }
        hint
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use std::convert::Infallible;

    use http_body_util::StreamBody;

    use super::*;

    fn body_of(chunks: Vec<Bytes>) -> tonic::body::Body {
        let frames = chunks
            .into_iter()
            .map(|c| Ok::<_, Infallible>(Frame::data(c)));
        tonic::body::Body::new(StreamBody::new(futures_util::stream::iter(frames)))
    }

    /// Whether `inner` lies inside `outer`'s memory.
    fn within(inner: &Bytes, outer: &Bytes) -> bool {
        let (start, end) = (
            outer.as_ptr() as usize,
            outer.as_ptr() as usize + outer.len(),
        );
        let at = inner.as_ptr() as usize;
        at >= start && at + inner.len() <= end
    }

    #[tokio::test]
    async fn a_message_over_several_frames_is_held_once() {
        let message: Vec<u8> = (0..=255_u8).cycle().take(40_000).collect();
        let mut wire = vec![0_u8];
        wire.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
        wire.extend_from_slice(&message);
        wire.extend_from_slice(b"next message");
        let chunks: Vec<Bytes> = wire.chunks(16_384).map(Bytes::copy_from_slice).collect();
        assert_eq!(chunks.len(), 3);
        let mut body = body_of(chunks);
        let first = read_first_message(&mut body, Encoding::Identity, 1 << 20)
            .await
            .unwrap();
        assert_eq!(first.message, message);
        // One buffer replays every byte read, and the message is a view into it.
        assert_eq!(first.consumed.len(), 1);
        assert_eq!(first.consumed[0], wire);
        assert!(within(&first.message, &first.consumed[0]));
    }

    #[tokio::test]
    async fn a_message_in_one_frame_is_not_copied() {
        let mut wire = vec![0_u8, 0, 0, 0, 3];
        wire.extend_from_slice(b"abcdef");
        let mut body = body_of(vec![Bytes::from(wire.clone())]);
        let first = read_first_message(&mut body, Encoding::Identity, 1 << 20)
            .await
            .unwrap();
        assert_eq!(first.message, &b"abc"[..]);
        assert_eq!(first.consumed.len(), 1);
        assert_eq!(first.consumed[0], wire);
        assert!(within(&first.message, &first.consumed[0]));
    }
}
