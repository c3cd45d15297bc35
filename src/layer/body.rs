//! The request body: read the first gRPC message (bounded, with a deadline), decompress it, and
//! hand the inner service a body that replays exactly what the client sent, trailers included.

use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use http_body::Body as _;
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

/// The header that says how a call's messages are compressed.
pub(crate) const GRPC_ENCODING: http::HeaderName = http::HeaderName::from_static("grpc-encoding");

impl Encoding {
    /// The encoding a `grpc-encoding` value names (none: identity); `None` for one we cannot
    /// decompress.
    pub(crate) fn from_value(value: Option<&http::HeaderValue>) -> Option<Encoding> {
        match value.map(http::HeaderValue::as_bytes) {
            None | Some(b"identity") => Some(Encoding::Identity),
            #[cfg(feature = "gzip")]
            Some(b"gzip") => Some(Encoding::Gzip),
            #[cfg(feature = "deflate")]
            Some(b"deflate") => Some(Encoding::Deflate),
            #[cfg(feature = "zstd")]
            Some(b"zstd") => Some(Encoding::Zstd),
            Some(_) => None,
        }
    }

    /// Reads `grpc-encoding`; an encoding we cannot decompress is refused the way tonic refuses
    /// it, so clients that fall back on that answer keep working.
    pub(crate) fn from_headers(headers: &http::HeaderMap) -> Result<Encoding, Status> {
        let value = headers.get(GRPC_ENCODING);
        Encoding::from_value(value).ok_or_else(|| {
            let name = String::from_utf8_lossy(value.map_or(&[][..], |v| v.as_bytes()));
            let mut status = Status::unimplemented(format!(
                "Content is compressed with `{name}` which isn't supported"
            ));
            status.metadata_mut().insert(
                "grpc-accept-encoding",
                tonic::metadata::MetadataValue::from_static(ACCEPT_ENCODING),
            );
            status
        })
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

/// The first message, and every byte read to get it (to replay them).
pub(crate) struct FirstMessage {
    /// The message bytes, decompressed. Uncompressed, they share the memory of `consumed`;
    /// decompressed, that of `inflated`.
    pub(crate) message: Bytes,
    /// The bytes consumed from the body, exactly as received: the one data frame read, or,
    /// when the message spanned several frames, one buffer holding them all (the frames
    /// themselves are not kept, so a message is never held twice).
    consumed: Bytes,
    /// Where the first message's gRPC frame ends in `consumed`; any bytes after it belong to
    /// the next messages.
    frame_end: usize,
    /// A compressed message decompressed, as an uncompressed gRPC frame (flag 0, length,
    /// message): what the inner service can read instead of inflating the message again.
    inflated: Option<Bytes>,
}

impl FirstMessage {
    /// The message (handed over, not shared again), and what the inner service reads before
    /// the rest of the body. By default a compressed message is replayed as the uncompressed
    /// frame already made here, followed by whatever came after it, so an in-process handler
    /// decodes exactly the same message without inflating it a second time (gRPC's
    /// per-message flag says it is not compressed). With `keep_compressed` (a proxy
    /// forwarding the bytes to another server), exactly the bytes received.
    // Inlined into the layer's allowed path with its other steps (see `layer::call`).
    #[inline(always)]
    pub(crate) fn into_parts(self, keep_compressed: bool) -> (Bytes, Prefix) {
        let prefix = match self.inflated {
            Some(frame) if !keep_compressed => {
                Prefix::new(frame, self.consumed.slice(self.frame_end..))
            }
            _ => Prefix::new(self.consumed, Bytes::new()),
        };
        (self.message, prefix)
    }

    /// [`into_parts`](Self::into_parts) without the message.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn replay(self, keep_compressed: bool) -> Prefix {
        self.into_parts(keep_compressed).1
    }
}

#[cfg(feature = "fuzzing")]
impl FirstMessage {
    /// [`replay`](Self::replay) without giving the message up, for the fuzz targets.
    pub(crate) fn clone_replay(&self, keep_compressed: bool) -> Prefix {
        FirstMessage {
            message: self.message.clone(),
            consumed: self.consumed.clone(),
            frame_end: self.frame_end,
            inflated: self.inflated.clone(),
        }
        .replay(keep_compressed)
    }
}

/// Up to two buffers the inner service reads before the rest of the body, in order.
#[derive(Debug, Default)]
pub(crate) struct Prefix {
    first: Option<Bytes>,
    second: Option<Bytes>,
}

impl Prefix {
    #[inline(always)]
    pub(super) fn new(first: Bytes, second: Bytes) -> Prefix {
        let some = |b: Bytes| (!b.is_empty()).then_some(b);
        Prefix {
            first: some(first),
            second: some(second),
        }
    }

    /// The next buffer to hand out, if any is left.
    pub(crate) fn pop(&mut self) -> Option<Bytes> {
        self.first.take().or_else(|| self.second.take())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none() && self.second.is_none()
    }

    /// How many bytes are left.
    pub(crate) fn len(&self) -> u64 {
        [&self.first, &self.second]
            .into_iter()
            .flatten()
            .map(|b| b.len() as u64)
            .sum()
    }
}

const HEADER_LEN: usize = 5;

/// Reads the first length-prefixed message from `body`.
///
/// Never reads past the first message's last byte's frame, never buffers more than
/// `limit` + one HTTP/2 frame, and fails closed on anything malformed.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) async fn read_first_message(
    body: &mut tonic::body::Body,
    encoding: Encoding,
    limit: usize,
) -> Result<FirstMessage, Status> {
    let mut reader = MessageReader::default();
    std::future::poll_fn(|cx| reader.poll_read(body, cx, encoding, limit)).await
}

/// The first message as far as it has been read: what [`read_first_message`] does, one poll
/// at a time, keeping what it has read between polls. So a read can be tried once without
/// waiting and resumed later with every frame it already took from the body.
#[derive(Debug, Default)]
pub(crate) struct MessageReader {
    /// The only frame read so far, kept as is (no copy while a message fits in one frame).
    single: Option<Bytes>,
    /// From the second frame on, every byte read, in order; each frame is dropped once copied.
    pending: BytesMut,
}

impl MessageReader {
    /// Reads frames from `body` until the first message is complete, or the body has nothing
    /// more yet (`Pending`; `cx` is woken when it has).
    #[inline(always)]
    pub(crate) fn poll_read(
        &mut self,
        body: &mut tonic::body::Body,
        cx: &mut Context<'_>,
        encoding: Encoding,
        limit: usize,
    ) -> Poll<Result<FirstMessage, Status>> {
        loop {
            if let Some(done) = self.complete(encoding, limit) {
                return Poll::Ready(done);
            }
            let data = match ready!(std::pin::Pin::new(&mut *body).poll_frame(cx)) {
                None => return Poll::Ready(Err(ended_early(self.seen().len()))),
                Some(Err(status)) => return Poll::Ready(Err(status)),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => data,
                    Err(_trailers) => return Poll::Ready(Err(ended_early(self.seen().len()))),
                },
            };
            if let Some(first) = self.single.take() {
                self.pending.reserve(first.len() + data.len());
                self.pending.extend_from_slice(&first);
                self.pending.extend_from_slice(&data);
            } else if self.pending.is_empty() {
                self.single = Some(data);
            } else {
                self.pending.extend_from_slice(&data);
            }
        }
    }

    /// Every byte read so far.
    fn seen(&self) -> &[u8] {
        match &self.single {
            Some(frame) => frame,
            None => &self.pending,
        }
    }

    /// The first message, once every byte of it has been read; `None` while bytes are missing.
    #[inline(always)]
    fn complete(
        &mut self,
        encoding: Encoding,
        limit: usize,
    ) -> Option<Result<FirstMessage, Status>> {
        let seen = self.seen();
        if seen.len() < HEADER_LEN {
            return None;
        }
        let (compressed, len) = match parse_header(&seen[..HEADER_LEN], encoding, limit) {
            Ok(header) => header,
            Err(status) => return Some(Err(status)),
        };
        if seen.len() < HEADER_LEN + len {
            return None;
        }
        let consumed = match self.single.take() {
            Some(frame) => frame,
            None => std::mem::take(&mut self.pending).freeze(),
        };
        let frame_end = HEADER_LEN + len;
        let raw = consumed.slice(HEADER_LEN..frame_end);
        let (message, inflated) = if compressed {
            match decompress(&raw, encoding, limit) {
                Ok(frame) => (frame.slice(HEADER_LEN..), Some(frame)),
                Err(status) => return Some(Err(status)),
            }
        } else {
            (raw, None)
        };
        Some(Ok(FirstMessage {
            message,
            consumed,
            frame_end,
            inflated,
        }))
    }
}

/// The body ended (or its trailers came) before the first message was complete. Bytes, not
/// frames, decide the wording: an empty DATA frame carries nothing, so the answer must not
/// depend on whether the client sent one.
#[cold]
fn ended_early(bytes_read: usize) -> Status {
    if bytes_read == 0 {
        Status::invalid_argument("missing request message")
    } else {
        Status::invalid_argument("request message is truncated")
    }
}

#[inline(always)]
fn parse_header(header: &[u8], encoding: Encoding, limit: usize) -> Result<(bool, usize), Status> {
    let mut h = header;
    let flag = h.get_u8();
    let len = h.get_u32() as usize;
    let compressed = match flag {
        0 => false,
        1 if encoding == Encoding::Identity => return Err(compressed_without_encoding()),
        1 => true,
        other => return Err(invalid_flag(other)),
    };
    if len > limit {
        return Err(too_large(len, limit));
    }
    Ok((compressed, len))
}

// The refusals below are built out of line, and `#[cold]` keeps the branches to them out of
// the way of the allowed path's code, into which the reader is inlined (see `layer::call`).

#[cold]
fn compressed_without_encoding() -> Status {
    Status::invalid_argument(
        "protocol error: received message with compressed-flag but no grpc-encoding was specified",
    )
}

#[cold]
fn invalid_flag(flag: u8) -> Status {
    Status::invalid_argument(format!(
        "protocol error: received message with invalid compression flag: {flag}"
    ))
}

#[cold]
fn too_large(found: usize, limit: usize) -> Status {
    Status::new(
        Code::ResourceExhausted,
        format!(
            "Error, decoded message length too large: found {found} bytes, the limit is: {limit} bytes"
        ),
    )
}

/// Decompresses `raw` into an uncompressed gRPC frame: the 5-byte header (flag 0, length)
/// followed by the message, in one buffer, so replaying it costs no copy.
#[cfg_attr(
    not(any(feature = "gzip", feature = "deflate", feature = "zstd")),
    allow(unused_variables)
)]
fn decompress(raw: &Bytes, encoding: Encoding, limit: usize) -> Result<Bytes, Status> {
    match encoding {
        // `parse_header` refuses a compressed message without an encoding.
        Encoding::Identity => Err(Status::internal("no encoding to decompress with")),
        #[cfg(feature = "gzip")]
        // The `bufread` decoders read the message where it lies; the `read` ones would first
        // copy it into a zeroed 32 KiB buffer of their own, on every call.
        Encoding::Gzip => inflate(flate2::bufread::GzDecoder::new(&raw[..]), raw.len(), limit),
        #[cfg(feature = "deflate")]
        Encoding::Deflate => inflate(
            flate2::bufread::ZlibDecoder::new(&raw[..]),
            raw.len(),
            limit,
        ),
        #[cfg(feature = "zstd")]
        Encoding::Zstd => {
            let decoder = zstd::stream::read::Decoder::with_buffer(&raw[..])
                .map_err(|e| decompress_error(&e))?;
            inflate(decoder, raw.len(), limit)
        }
    }
}

/// Reads `decoder` to its end after a frame header, refusing more than `limit` bytes of
/// output.
#[cfg(any(feature = "gzip", feature = "deflate", feature = "zstd"))]
fn inflate(decoder: impl std::io::Read, raw_len: usize, limit: usize) -> Result<Bytes, Status> {
    use std::io::Read;
    let mut out = Vec::with_capacity(HEADER_LEN + raw_len.saturating_mul(2).min(limit));
    out.extend_from_slice(&[0; HEADER_LEN]);
    // Read one byte past the limit so an oversized (or bomb) payload is detected
    // without ever inflating more than limit + 1 bytes.
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| decompress_error(&e))?;
    let len = out.len() - HEADER_LEN;
    if len > limit {
        return Err(too_large(len, limit));
    }
    // `limit` is at most `MAX_MESSAGE_SIZE_BOUND`, far below 4 GiB.
    let len = u32::try_from(len).map_err(|_| too_large(len, limit))?;
    out[1..HEADER_LEN].copy_from_slice(&len.to_be_bytes());
    Ok(Bytes::from(out))
}

#[cfg(any(feature = "gzip", feature = "deflate", feature = "zstd"))]
fn decompress_error(e: &std::io::Error) -> Status {
    Status::invalid_argument(format!("error decompressing request message: {e}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use std::convert::Infallible;

    use http_body::Frame;
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
        assert_eq!(first.consumed, wire);
        assert!(within(&first.message, &first.consumed));
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
        assert_eq!(first.consumed, wire);
        assert!(within(&first.message, &first.consumed));
        let mut replay = first.replay(false);
        assert_eq!(replay.pop().unwrap(), wire);
        assert!(replay.pop().is_none());
    }

    #[cfg(feature = "gzip")]
    #[tokio::test]
    async fn a_compressed_message_is_replayed_inflated_or_as_received() {
        use std::io::Write;
        let message: Vec<u8> = b"namespace default ".repeat(50);
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&message).unwrap();
        let compressed = encoder.finish().unwrap();
        let mut wire = vec![1_u8];
        wire.extend_from_slice(&u32::try_from(compressed.len()).unwrap().to_be_bytes());
        wire.extend_from_slice(&compressed);
        let after = b"\0\0\0\0\x02hi";
        wire.extend_from_slice(after);
        let read = || async {
            let mut body = body_of(vec![Bytes::from(wire.clone())]);
            read_first_message(&mut body, Encoding::Gzip, 1 << 20)
                .await
                .unwrap()
        };

        let first = read().await;
        assert_eq!(first.message, message);
        let mut replay = first.replay(false);
        let frame = replay.pop().unwrap();
        assert_eq!(frame[0], 0, "the replayed frame is not compressed");
        assert_eq!(
            frame[1..5],
            u32::try_from(message.len()).unwrap().to_be_bytes()
        );
        assert_eq!(frame[5..], message[..]);
        assert_eq!(replay.pop().unwrap(), &after[..]);
        assert!(replay.pop().is_none());

        let mut replay = read().await.replay(true);
        assert_eq!(replay.len(), wire.len() as u64);
        assert_eq!(replay.pop().unwrap(), wire);
        assert!(replay.is_empty());
    }

    #[cfg(feature = "gzip")]
    #[tokio::test]
    async fn an_inflated_message_over_the_limit_is_refused() {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&[0_u8; 10_000]).unwrap();
        let compressed = encoder.finish().unwrap();
        let mut wire = vec![1_u8];
        wire.extend_from_slice(&u32::try_from(compressed.len()).unwrap().to_be_bytes());
        wire.extend_from_slice(&compressed);
        let mut body = body_of(vec![Bytes::from(wire)]);
        let Err(status) = read_first_message(&mut body, Encoding::Gzip, 9_999).await else {
            panic!("a message inflating past the limit was accepted");
        };
        assert_eq!(status.code(), Code::ResourceExhausted);
    }
}
