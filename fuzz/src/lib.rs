//! The bodies of the fuzz targets: each takes the fuzzer's bytes, runs one parser of untrusted
//! input, and panics only when an invariant breaks. Shared with `tests/fuzz_smoke.rs`, which
//! runs the same bodies on stable over generated inputs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use prost::Message;
use tonic_authz::fuzzing;

/// The frame reader and decompression. Byte 0 picks the `grpc-encoding`, the size limit and
/// whether trailers follow; byte 1 seeds the chunking; the rest is the body. The result must
/// not depend on the chunking: the same body whole, in the fuzzer's chunks and byte by byte
/// must give the same message or the same error.
pub fn frame_reader(data: &[u8]) {
    let (Some(&mode), Some(&seed)) = (data.first(), data.get(1)) else {
        return;
    };
    let body = &data[2..];
    let encoding: Option<&[u8]> = match mode & 3 {
        0 => None,
        1 => Some(b"identity"),
        2 => Some(b"gzip"),
        _ => Some(b"br"),
    };
    let limit = [0usize, 16, 1024, 64 * 1024][usize::from((mode >> 2) & 3)];
    let trailers = mode & 16 != 0;

    let whole = run(&[body], trailers, encoding, limit);
    // Byte by byte; an empty body as no DATA frame at all.
    let bytewise: Vec<&[u8]> = body.chunks(1).collect();
    let chunked = chunks(body, seed);
    // The chunks again, each arriving after a `Pending`: the reader resumes with what it
    // already took, as the layer's does when a message has not all arrived.
    let paused = match fuzzing::first_message_paused(&chunked, trailers, encoding, limit) {
        Some(outcome) => outcome,
        None => panic!("the reader did not finish on a body that pauses before each frame"),
    };
    for other in [
        run(&bytewise, trailers, encoding, limit),
        run(&chunked, trailers, encoding, limit),
        paused,
    ] {
        match (&whole, &other) {
            (Ok(a), Ok(b)) => assert_eq!(a.message, b.message, "message depends on chunking"),
            (Err(a), Err(b)) => assert_eq!(a, b, "error depends on chunking"),
            _ => panic!("outcome depends on chunking: {whole:?} vs {other:?}"),
        }
    }
    if let Ok(first) = &whole {
        assert!(first.message.len() <= limit, "message over the limit");
        assert!(body.starts_with(&first.consumed), "replay is not the body");
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        assert!(
            first.consumed.len() >= 5 + len,
            "replay misses message bytes"
        );
        if body[0] == 0 {
            assert_eq!(first.message, body[5..5 + len], "identity message altered");
            assert_eq!(
                first.replayed, first.consumed,
                "an identity message is replayed as is"
            );
        } else {
            // A compressed message is replayed inflated: flag 0, its length, the message, then
            // the bytes after it exactly as received.
            let replayed = &first.replayed;
            assert_eq!(replayed[0], 0, "replayed message still marked compressed");
            let n = u32::from_be_bytes([replayed[1], replayed[2], replayed[3], replayed[4]]);
            assert_eq!(n as usize, first.message.len(), "replayed length is wrong");
            assert_eq!(replayed[5..5 + first.message.len()], first.message[..]);
            assert_eq!(
                replayed[5 + first.message.len()..],
                first.consumed[5 + len..],
                "bytes after the first message altered"
            );
        }
    }
}

type Outcome = Result<fuzzing::FirstMessage, (tonic::Code, String)>;

fn run(chunks: &[&[u8]], trailers: bool, encoding: Option<&[u8]>, limit: usize) -> Outcome {
    match fuzzing::first_message(chunks, trailers, encoding, limit) {
        Some(outcome) => outcome,
        None => panic!("the reader did not finish on a ready body"),
    }
}

/// `body` split at sizes 0..=15 drawn from a small generator seeded by `seed` (empty HTTP/2
/// data frames are legal); always at least one chunk.
fn chunks(body: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut state = u32::from(seed) | 0x100;
    let mut out = Vec::new();
    let mut rest = body;
    loop {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let size = ((state >> 16) % 16) as usize;
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        out.push(chunk);
        rest = tail;
        if rest.is_empty() {
            return out;
        }
    }
}

macro_rules! namespace_at {
    ($name:ident, $tag:literal) => {
        #[derive(Clone, PartialEq, prost::Message)]
        struct $name {
            #[prost(string, tag = $tag)]
            namespace: String,
        }
    };
}

namespace_at!(NamespaceAt1, "1");
namespace_at!(NamespaceAt2, "2");
namespace_at!(NamespaceAt16, "16");
namespace_at!(NamespaceAtMax, "536870911");

/// The namespace scanner against prost: byte 0 picks the field, the rest is the message. Both
/// fail, or both give the same namespace.
pub fn namespace_scan(data: &[u8]) {
    let Some((&pick, msg)) = data.split_first() else {
        return;
    };
    let (field, reference) = match pick & 3 {
        0 => (1, NamespaceAt1::decode(msg).map(|m| m.namespace)),
        1 => (2, NamespaceAt2::decode(msg).map(|m| m.namespace)),
        2 => (16, NamespaceAt16::decode(msg).map(|m| m.namespace)),
        _ => (
            (1 << 29) - 1,
            NamespaceAtMax::decode(msg).map(|m| m.namespace),
        ),
    };
    let scanned = fuzzing::scan_string_field(msg, field);
    match (&reference, &scanned) {
        (Ok(ns), Ok(found)) => assert_eq!(found.unwrap_or(""), ns, "scanner disagrees"),
        (Err(_), Err(_)) => {}
        _ => panic!("prost gave {reference:?}, the scanner {scanned:?}"),
    }
}

/// The token path up to the signature check. Byte 0 even: the rest is the auth header as
/// sent. Byte 0 odd: the rest is `header JSON \xff payload JSON \xff signature`, encoded into
/// a well-formed `Bearer` token so the fuzzer reaches the claim checks quickly. Rejections
/// never quote the token.
pub fn token(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let header = if pick & 1 == 0 {
        match std::str::from_utf8(rest) {
            Ok(s) => s.to_owned(),
            Err(_) => return,
        }
    } else {
        let mut parts = rest.splitn(3, |&b| b == 0xff);
        let segment = |p: Option<&[u8]>| URL_SAFE_NO_PAD.encode(p.unwrap_or_default());
        let (h, p, s) = (
            segment(parts.next()),
            segment(parts.next()),
            segment(parts.next()),
        );
        format!("Bearer {h}.{p}.{s}")
    };
    let (audience, issuer) = if pick & 2 == 0 {
        ("", None)
    } else {
        ("temporal", Some("https://issuer.test/"))
    };
    match fuzzing::token(&header, 1_800_000_000, audience, issuer) {
        Ok(_) => {}
        Err(e) => {
            let text = format!("{e} {e:?}");
            let jwt = header.split_once(' ').map_or("", |(_, t)| t);
            if jwt.len() >= 24 {
                assert!(!text.contains(jwt), "error quotes the token: {text}");
            }
        }
    }
}

/// The JWK Set parser: never panics; on success every array element is either a key or
/// skipped.
pub fn jwks(data: &[u8]) {
    if let Ok((keys, skipped)) = fuzzing::jwks(data) {
        let doc: serde_json::Value = match serde_json::from_slice(data) {
            Ok(doc) => doc,
            Err(e) => panic!("parser accepted what serde_json refuses: {e}"),
        };
        let elements = doc
            .get("keys")
            .and_then(serde_json::Value::as_array)
            .map_or(0, Vec::len);
        assert_eq!(keys + skipped, elements, "keys lost");
    }
}

/// The configuration parser (YAML in Temporal's shape, `${NAME}` variables, Go durations):
/// never panics, and every error can be displayed. Variables resolve from a fixed table, never
/// from the process environment.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loaded = tonic_authz::config::ConfigLoader::new()
        .env(|name| (name == "TONIC_AUTHZ_JWKS_URI").then(|| "file:///jwks.json".to_owned()))
        .load_str(text);
    if let Err(e) = loaded {
        assert!(!e.to_string().is_empty(), "an error says something");
    }
}

/// A `RespondWorkflowTaskCompletedRequest` as the handler decodes it, with only the fields the
/// cross-namespace check reads (and one other command attribute, so variants can replace each
/// other as in Temporal's oneof).
#[derive(Clone, PartialEq, prost::Message)]
struct RespondWorkflowTaskCompleted {
    #[prost(message, repeated, tag = "2")]
    commands: Vec<WorkflowCommand>,
    #[prost(string, tag = "9")]
    namespace: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct WorkflowCommand {
    #[prost(oneof = "CommandAttributes", tags = "4, 9, 12, 13")]
    attributes: Option<CommandAttributes>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum CommandAttributes {
    #[prost(message, tag = "4")]
    CompleteWorkflow(TargetNamespace),
    #[prost(message, tag = "9")]
    CancelExternal(TargetNamespace),
    #[prost(message, tag = "12")]
    StartChild(TargetNamespace),
    #[prost(message, tag = "13")]
    SignalExternal(TargetNamespace),
}

#[derive(Clone, PartialEq, prost::Message)]
struct TargetNamespace {
    #[prost(string, tag = "1")]
    namespace: String,
}

/// The cross-namespace command scan against prost: whenever prost decodes the request, the
/// scan accepts it too, and every other namespace a command acts in (as the handler decodes
/// it) is among the pairs the layer authorizes; none of those pairs is empty, the request's
/// own namespace, or listed twice.
pub fn cross_namespace(data: &[u8]) {
    let Ok(request) = RespondWorkflowTaskCompleted::decode(data) else {
        return;
    };
    let own = request.namespace.as_str();
    let targets = fuzzing::cross_namespace_targets(data, own)
        .unwrap_or_else(|| panic!("prost decodes {request:?}, the scan refuses it"));
    for (i, pair) in targets.iter().enumerate() {
        assert!(
            !pair.1.is_empty() && pair.1 != own,
            "needless check {pair:?}"
        );
        assert!(!targets[..i].contains(pair), "{pair:?} listed twice");
    }
    for command in &request.commands {
        let (api, target) = match &command.attributes {
            Some(CommandAttributes::CancelExternal(t)) => ("RequestCancelWorkflowExecution", t),
            Some(CommandAttributes::StartChild(t)) => ("StartWorkflowExecution", t),
            Some(CommandAttributes::SignalExternal(t)) => ("SignalWorkflowExecution", t),
            Some(CommandAttributes::CompleteWorkflow(_)) | None => continue,
        };
        if target.namespace.is_empty() || target.namespace == own {
            continue;
        }
        assert!(
            targets
                .iter()
                .any(|(a, n)| a.ends_with(api) && *n == target.namespace),
            "the handler would act in {:?} through {api}, the layer checks only {targets:?}",
            target.namespace
        );
    }
}

/// The API-key file parser. Every key loaded comes from one `sha256` entry, and a refusal
/// says where.
pub fn api_key_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match fuzzing::api_key_file(&text) {
        Ok(keys) => assert!(keys <= text.matches("sha256").count(), "keys from nowhere"),
        Err(message) => assert!(!message.is_empty(), "empty refusal"),
    }
}

/// The OpenID provider metadata reader. Byte 0 picks the configured issuer; an accepted
/// document names exactly that issuer and an `http(s)` `jwks_uri` (`https` for an `https`
/// issuer).
pub fn discovery(data: &[u8]) {
    let Some((&pick, document)) = data.split_first() else {
        return;
    };
    let issuer = [
        "https://idp.example",
        "http://127.0.0.1:8080",
        "https://a.example/realms/x",
        "",
    ][usize::from(pick & 3)];
    if let Ok(jwks_uri) = fuzzing::discovery_document(document, issuer) {
        let doc: serde_json::Value = match serde_json::from_slice(document) {
            Ok(doc) => doc,
            Err(e) => panic!("reader accepted what serde_json refuses: {e}"),
        };
        assert_eq!(doc["issuer"].as_str(), Some(issuer), "issuer not checked");
        assert_eq!(doc["jwks_uri"].as_str(), Some(jwks_uri.as_str()));
        assert!(
            jwks_uri.starts_with("https:")
                || (jwks_uri.starts_with("http:") && !issuer.starts_with("https:")),
            "scheme not checked: {jwks_uri}"
        );
    }
}

/// Claim paths over token JSON. The bytes before the first `\n` are the path, the rest the
/// payload. The strings found are never empty, never more than the payload could hold, and a
/// path that resolves to nothing yields nothing.
pub fn claim_path(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (path, payload) = text.split_once('\n').unwrap_or((&text, "{}"));
    if let Some(strings) = fuzzing::claim_path(path, payload.as_bytes()) {
        assert!(strings.iter().all(|s| !s.is_empty()), "empty permission");
        assert!(strings.len() <= payload.len(), "more strings than bytes");
        assert!(
            strings
                .iter()
                .all(|s| !s.contains(' ') || payload.contains('[')),
            "a space-separated string was not split"
        );
    }
}

/// `task_queue.name` at `[2, 1]`, as in `PollWorkflowTaskQueueRequest`.
#[derive(Clone, PartialEq, prost::Message)]
struct PathOuter {
    #[prost(message, optional, tag = "2")]
    inner: Option<PathInner>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PathInner {
    #[prost(string, tag = "1")]
    name: String,
}

/// `request.input.name` at `[5, 2, 2]`, as in `UpdateWorkflowExecutionRequest`.
#[derive(Clone, PartialEq, prost::Message)]
struct DeepOuter {
    #[prost(message, optional, tag = "5")]
    request: Option<DeepMiddle>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct DeepMiddle {
    #[prost(message, optional, tag = "2")]
    input: Option<DeepInner>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct DeepInner {
    #[prost(string, tag = "2")]
    name: String,
}

/// The nested request-field scan that feeds the Cedar context (`scan_string_path`) agrees
/// with prost decoding the same bytes: both fail, or both give the same string (absent =
/// empty). Byte 0 picks the path.
pub fn request_field_scan(data: &[u8]) {
    let Some((&pick, msg)) = data.split_first() else {
        return;
    };
    let (path, reference): (&[u32], _) = if pick & 1 == 0 {
        (
            &[2, 1],
            PathOuter::decode(msg).map(|m| m.inner.map(|i| i.name).unwrap_or_default()),
        )
    } else {
        (
            &[5, 2, 2],
            DeepOuter::decode(msg).map(|m| {
                m.request
                    .and_then(|r| r.input)
                    .map(|i| i.name)
                    .unwrap_or_default()
            }),
        )
    };
    let scanned = fuzzing::scan_string_path(msg, path);
    match (&reference, &scanned) {
        (Ok(name), Ok(found)) => assert_eq!(found.unwrap_or(""), name, "scanner disagrees"),
        (Err(_), Err(_)) => {}
        _ => panic!("prost gave {reference:?}, the scanner {scanned:?}"),
    }
}

/// Policy text as the Cedar authorizer loads it: no panic; a set that loads decides a fixed
/// call (with request fields) without panicking, and the decision is stable.
pub fn cedar_policies(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(authz) = tonic_authz::CedarAuthorizer::from_policy_text(text) else {
        return;
    };
    let claims = tonic_authz::Claims::new()
        .with_subject("orders-worker")
        .with_namespace("default", tonic_authz::Role::WRITER)
        .with_issuer("https://idp.example")
        .with_groups(["team-orders", "ops"]);
    // PollWorkflowTaskQueue { namespace: "default", task_queue { name: "orders" } }
    let msg = b"\x0a\x07default\x12\x08\x0a\x06orders".to_vec();
    let target = tonic_authz::CallTarget::new(
        "/temporal.api.workflowservice.v1.WorkflowService/PollWorkflowTaskQueue",
        "default",
    )
    .with_request(tonic_authz::RequestMessage::new(msg.into()));
    let first = authz.decide(Some(&claims), &target).map(|d| d.is_allow());
    let second = authz.decide(Some(&claims), &target).map(|d| d.is_allow());
    assert_eq!(first.ok(), second.ok(), "decisions differ");
    let _ = authz.decide(None, &target);
}
