//! Entry points into the parsers that see untrusted bytes, for the fuzz targets under `fuzz/`
//! and the smoke tests that run the same bodies on stable, plus the built-in tables that the
//! examples crate checks against Temporal's descriptors. Compiled only with the `fuzzing`
//! feature, which the fuzz crate and this package's own tests and benchmarks enable. Not part
//! of the public API: no stability promise, hidden from the docs.
//!
//! Each function runs one parser the way the layer runs it and returns what the layer would
//! act on, so a fuzz target can check invariants (never a panic, bounded output, results
//! independent of how the body was chunked) rather than only "does not crash".

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_util::FutureExt;
use http_body::Frame;
use http_body_util::StreamBody;

use crate::claim_mapper::jwt::checks;
use crate::claim_mapper::jwt::token::{self as jwt_token, bearer_token};
use crate::keys::JwtAlgorithm;
use crate::keys::jwk::parse_jwks;
use crate::layer::body::{Encoding, MessageReader, read_first_message};
use crate::permission::{self, PermissionFormat, PermissionParser, apply_permissions};
use crate::{Claims, ClaimsError, KeyError};

pub use crate::layer::{ScanError, scan_string_field, scan_string_path, temporal_namespace_fields};

/// What the frame reader made of a body: the decompressed first message and how many body
/// bytes it consumed (whole HTTP/2 data frames, as the layer replays them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstMessage {
    /// The first message, decompressed.
    pub message: Bytes,
    /// The bytes of every data frame read to get it, concatenated: what a proxy replays
    /// (`AuthzLayer::keep_compressed(true)`).
    pub consumed: Bytes,
    /// What an in-process handler reads instead (the default): the same bytes, except that a
    /// compressed first message comes as an uncompressed gRPC message.
    pub replayed: Bytes,
}

/// Runs the layer's first-message reader over a body made of `chunks` (one HTTP/2 data frame
/// each, then trailers when `trailers` is set), with `grpc_encoding` as the header value (none
/// when absent or not a valid header value) and a `limit` on the message size.
///
/// Returns `None` if the reader did not finish on a body whose frames are all ready, which
/// must never happen; otherwise the reader's result, the error as (code, message).
pub fn first_message(
    chunks: &[&[u8]],
    trailers: bool,
    grpc_encoding: Option<&[u8]>,
    limit: usize,
) -> Option<Result<FirstMessage, (tonic::Code, String)>> {
    read_body(chunks, trailers, grpc_encoding, limit, false)
}

/// [`first_message`] over a body that is not ready before each of its frames, read as the
/// layer reads a message that has not all arrived: the reader is polled without a waker of
/// its own, gives up at each `Pending`, and resumes on the next poll with what it already
/// took. Returns `None` if it did not finish within two polls per frame.
pub fn first_message_paused(
    chunks: &[&[u8]],
    trailers: bool,
    grpc_encoding: Option<&[u8]>,
    limit: usize,
) -> Option<Result<FirstMessage, (tonic::Code, String)>> {
    read_body(chunks, trailers, grpc_encoding, limit, true)
}

/// [`first_message`], or with `paused` [`first_message_paused`].
fn read_body(
    chunks: &[&[u8]],
    trailers: bool,
    grpc_encoding: Option<&[u8]>,
    limit: usize,
    paused: bool,
) -> Option<Result<FirstMessage, (tonic::Code, String)>> {
    let encoding = match encoding(grpc_encoding) {
        Ok(e) => e,
        Err(refused) => return Some(Err(refused)),
    };
    let frames = body_frames(chunks, trailers);
    if !paused {
        let frames = futures_util::stream::iter(frames.into_iter().map(Ok::<_, Infallible>));
        let mut body = tonic::body::Body::new(StreamBody::new(frames));
        let result = read_first_message(&mut body, encoding, limit).now_or_never()?;
        return Some(outcome(result));
    }
    let polls = 2 * (frames.len() + 1);
    let mut body = tonic::body::Body::new(Paused {
        frames: frames.into(),
        ready: false,
    });
    let mut reader = MessageReader::default();
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..polls {
        if let Poll::Ready(result) = reader.poll_read(&mut body, &mut cx, encoding, limit) {
            return Some(outcome(result));
        }
    }
    None
}

/// The encoding `grpc_encoding` names, or the refusal as (code, message).
fn encoding(grpc_encoding: Option<&[u8]>) -> Result<Encoding, (tonic::Code, String)> {
    let mut headers = http::HeaderMap::new();
    if let Some(value) = grpc_encoding.and_then(|v| http::HeaderValue::from_bytes(v).ok()) {
        headers.insert("grpc-encoding", value);
    }
    Encoding::from_headers(&headers).map_err(|status| (status.code(), status.message().to_owned()))
}

/// One DATA frame per chunk, then empty trailers when `trailers` is set.
fn body_frames(chunks: &[&[u8]], trailers: bool) -> Vec<Frame<Bytes>> {
    let mut frames: Vec<Frame<Bytes>> = chunks
        .iter()
        .map(|c| Frame::data(Bytes::copy_from_slice(c)))
        .collect();
    if trailers {
        frames.push(Frame::trailers(http::HeaderMap::new()));
    }
    frames
}

/// What the reader's result says, as the fuzz targets compare it.
fn outcome(
    result: Result<crate::layer::body::FirstMessage, tonic::Status>,
) -> Result<FirstMessage, (tonic::Code, String)> {
    result
        .map(|first| {
            let message = first.message.clone();
            let consumed = concat(first.clone_replay(true));
            let replayed = concat(first.replay(false));
            FirstMessage {
                message,
                consumed,
                replayed,
            }
        })
        .map_err(|status| (status.code(), status.message().to_owned()))
}

/// A body that answers `Pending` once before each of its frames (waking its task at once),
/// as a client's DATA frames that arrive after the headers do.
struct Paused {
    frames: VecDeque<Frame<Bytes>>,
    ready: bool,
}

impl http_body::Body for Paused {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if !self.ready {
            self.ready = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.ready = false;
        Poll::Ready(self.frames.pop_front().map(Ok))
    }
}

/// Every buffer of a replay prefix, in order, in one.
fn concat(mut prefix: crate::layer::body::Prefix) -> Bytes {
    let mut all = Vec::new();
    while let Some(b) = prefix.pop() {
        all.extend_from_slice(&b);
    }
    Bytes::from(all)
}

/// The token path before any key is looked up: the auth header split (`Bearer <jwt>`), the
/// JWT structure and header checks (every algorithm allowed), then the claim checks that read
/// the unverified payload (times at `now`, audience `audience`, issuer `issuer`, subject,
/// permissions). In the layer the payload checks run only after the signature verifies; here
/// they run on any payload, so the fuzzer reaches them.
///
/// # Errors
/// The [`ClaimsError`] the claim mapper would reject the token with.
pub fn token(
    auth_header: &str,
    now: i64,
    audience: &str,
    issuer: Option<&str>,
) -> Result<Option<Claims>, ClaimsError> {
    // The split's quick path for headers that start `Bearer ` must agree with the rule it
    // shortens.
    let split = bearer_token(auth_header);
    assert_eq!(
        split.as_ref().ok().copied(),
        jwt_token::bearer_split_rule(auth_header),
        "bearer split"
    );
    let Some(jwt) = split? else {
        return Ok(None);
    };
    let token = jwt_token::parse(jwt, &JwtAlgorithm::ALL)?;
    // The signing input is what the signature covers: the token up to its last dot.
    debug_assert!(jwt.starts_with(token.signing_input));
    checks::check_times(&token.payload, now, 0)?;
    checks::Audience::from_payload(&token.payload).check(audience)?;
    checks::check_issuer(&token.payload, issuer)?;
    let subject = checks::subject(&token.payload)?;
    let mut claims = Claims::new().with_subject(subject).with_auth_type("jwt");
    let parser = PermissionParser::new(
        PermissionFormat::new(None),
        [permission::TEMPORAL_SYSTEM_NAMESPACE],
    );
    apply_permissions(&mut claims, token.payload.get("permissions"), &parser);
    Ok(Some(claims))
}

/// Decodes a JWK Set document as the key providers do; returns how many keys were usable and
/// how many were skipped.
///
/// # Errors
/// A [`KeyError`] when the document is not a JSON object with a `keys` array.
pub fn jwks(document: &[u8]) -> Result<(usize, usize), KeyError> {
    let set = parse_jwks(document, "fuzz")?;
    Ok((set.keys.len(), set.skipped))
}

/// The cross-namespace command scan of a `RespondWorkflowTaskCompleted` request in namespace
/// `own`: the (API, namespace) pairs the layer would authorize, or `None` when the layer would
/// refuse the request as malformed.
pub fn cross_namespace_targets(request: &[u8], own: &str) -> Option<Vec<(&'static str, String)>> {
    crate::layer::cross_namespace_targets(request, own).ok()
}

#[cfg(feature = "config")]
/// Parses an API-key file as [`ApiKeyClaimMapper`](crate::ApiKeyClaimMapper) does; returns
/// how many keys it holds.
///
/// # Errors
/// The parser's message when the file is refused.
pub fn api_key_file(text: &str) -> Result<usize, String> {
    crate::claim_mapper::parse_key_file(text).map(|table| table.len())
}

#[cfg(feature = "jwks")]
/// Reads an OpenID provider metadata document as
/// [`DiscoveryKeyProvider`](crate::DiscoveryKeyProvider) does, for `issuer`; returns the
/// `jwks_uri`.
///
/// # Errors
/// A [`KeyError`] when the document is refused.
pub fn discovery_document(document: &[u8], issuer: &str) -> Result<String, KeyError> {
    crate::keys::discovery::parse_discovery(document, issuer)
}

/// Parses `path` as a dotted claim path and resolves it in `payload` (JSON), as a trusted
/// issuer reads its permissions claim (arrays and space-separated strings); returns the
/// strings found, or `None` when the path or the payload does not parse.
pub fn claim_path(path: &str, payload: &[u8]) -> Option<Vec<String>> {
    use crate::claim_mapper::jwt::claim_path::{ClaimPath, claim_strings};
    let path = ClaimPath::parse(path).ok()?;
    let serde_json::Value::Object(payload) = serde_json::from_slice(payload).ok()? else {
        return None;
    };
    Some(
        claim_strings(path.resolve(&payload), true)
            .map(str::to_owned)
            .collect(),
    )
}
