//! Adversarial inputs against the running Frontend on loopback: forged and malformed tokens,
//! broken gRPC frames, hostile protobuf messages, and odd HTTP. Every case asserts the exact
//! gRPC code (and message where the layer writes it) and that the backend saw no call at all,
//! or, where the call is legitimately served, that the handler acted on the namespace the
//! layer authorized.
//!
//! The layer trusts one ES256 key (`kid` `k1`) through a `StaticKeyProvider`, accepts ES256
//! and HS256 (so the HMAC-with-the-public-key forgery meets the key-type check, not just the
//! allow-list), bounds messages at 64 KiB, and waits 2 s for a body. `alice` may write
//! `default`; `mallory` holds a valid token with no role at all.

mod common;

use std::sync::Arc;
use std::time::Duration;

use http::Request;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use prost::Message;
use serde_json::json;
use temporalio_protos::protos::temporal::api::workflowservice::v1::{
    DescribeNamespaceRequest, DescribeNamespaceResponse,
};
use tonic::Code;
use tonic_authz::{AuthzLayer, DefaultAuthorizer, JwtAlgorithm, JwtClaimMapper};
use tonic_authz_examples::BackendConfig;

use common::raw::{self, RawBody, Reply};
use common::tokens::{self, Issuer};
use common::{Harness, start};

const DESCRIBE: &str = "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace";
const LIMIT: usize = 64 * 1024;

struct Fixture {
    harness: Harness,
    issuer: Issuer,
    alice: String,
    mallory: String,
}

impl Fixture {
    async fn new() -> Fixture {
        let issuer = Issuer::new("k1");
        let mapper = JwtClaimMapper::builder(Arc::new(issuer.provider()))
            .algorithms([JwtAlgorithm::ES256, JwtAlgorithm::HS256])
            .build();
        let layer = AuthzLayer::builder()
            .claim_mapper(mapper)
            .authorizer(DefaultAuthorizer::new())
            .max_message_size(LIMIT)
            .body_timeout(Duration::from_secs(2))
            .build();
        let harness = start(
            BackendConfig::default().with_namespace("secret"),
            Some(layer),
        )
        .await;
        let alice = issuer.sign(&tokens::payload("alice", &["default:write"]));
        let mallory = issuer.sign(&tokens::payload("mallory", &[]));
        Fixture {
            harness,
            issuer,
            alice,
            mallory,
        }
    }

    /// DescribeNamespace(`default`) through the generated tonic client with this
    /// `authorization` value.
    async fn describe_with(&self, authorization: &str) -> Result<String, tonic::Status> {
        let mut request = tonic::Request::new(DescribeNamespaceRequest {
            namespace: "default".to_owned(),
            ..Default::default()
        });
        request.metadata_mut().insert(
            "authorization",
            authorization.parse().expect("ascii header value"),
        );
        self.harness
            .workflow(true)
            .describe_namespace(request)
            .await
            .map(|r| r.into_inner().namespace_info.unwrap_or_default().name)
    }

    /// Like [`Fixture::describe_with`], with `Bearer <token>`.
    async fn describe_bearer(&self, token: &str) -> Result<String, tonic::Status> {
        self.describe_with(&format!("Bearer {token}")).await
    }

    /// A raw request on a fresh HTTP/2 connection.
    async fn raw(&self, req: Request<RawBody>) -> Reply {
        let mut conn = raw::connect(self.harness.server.addr()).await;
        raw::send(&mut conn, req).await
    }

    /// A raw DescribeNamespace carrying alice's token and `body`.
    async fn raw_alice(&self, body: RawBody) -> Reply {
        let req = raw::grpc(DESCRIBE)
            .header("authorization", format!("Bearer {}", self.alice))
            .body(body)
            .expect("request");
        self.raw(req).await
    }

    /// Asserts the backend has not been called.
    fn untouched(&self) {
        assert_eq!(self.harness.backend().calls(), 0, "the backend saw a call");
    }
}

/// The exact denial: PERMISSION_DENIED, `Request unauthorized.`, and nothing reached the
/// backend.
fn assert_denied(fx: &Fixture, result: Result<String, tonic::Status>) {
    let status = result.expect_err("must be denied");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(status.message(), "Request unauthorized.");
    fx.untouched();
}

fn assert_raw(fx: &Fixture, reply: &Reply, code: Code, message: &str) {
    assert_eq!(reply.grpc(), Some(code), "{reply:?}");
    assert_eq!(reply.message, message, "{reply:?}");
    fx.untouched();
}

fn describe(namespace: &str) -> Vec<u8> {
    DescribeNamespaceRequest {
        namespace: namespace.to_owned(),
        ..Default::default()
    }
    .encode_to_vec()
}

// ---------------------------------------------------------------------------------------------
// Controls: the same harness serves honest calls, so every denial below is the layer's doing.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn control_valid_token_is_served() {
    let fx = Fixture::new().await;
    assert_eq!(
        fx.describe_bearer(&fx.alice).await.expect("allowed"),
        "default"
    );
    assert_eq!(fx.harness.backend().calls_to("DescribeNamespace"), 1);
}

#[tokio::test]
async fn control_raw_client_is_served() {
    let fx = Fixture::new().await;
    let reply = fx
        .raw_alice(raw::body(raw::frame(&describe("default"))))
        .await;
    assert_eq!(reply.grpc(), Some(Code::Ok), "{reply:?}");
    assert_eq!(fx.harness.backend().calls_to("DescribeNamespace"), 1);
}

// ---------------------------------------------------------------------------------------------
// Tokens.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn token_missing() {
    let fx = Fixture::new().await;
    let result = fx
        .harness
        .workflow(true)
        .describe_namespace(DescribeNamespaceRequest {
            namespace: "default".to_owned(),
            ..Default::default()
        })
        .await
        .map(|_| String::new());
    assert_denied(&fx, result);
}

#[tokio::test]
async fn token_alg_none() {
    let fx = Fixture::new().await;
    for alg in ["none", "None", "NONE"] {
        let token = tokens::assemble(
            &json!({"alg": alg, "kid": "k1", "typ": "JWT"}),
            &tokens::payload("alice", &["temporal-system:admin"]),
            b"",
        );
        assert_denied(&fx, fx.describe_bearer(&token).await);
    }
}

#[tokio::test]
async fn token_hmac_signed_with_the_public_key() {
    let fx = Fixture::new().await;
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".to_owned());
    let key = EncodingKey::from_secret(fx.issuer.public_pem.as_bytes()).expect("secret");
    let token = jsonwebtoken::encode(
        &header,
        &tokens::payload("alice", &["temporal-system:admin"]),
        &key,
    )
    .expect("signs");
    assert_denied(&fx, fx.describe_bearer(&token).await);
}

#[tokio::test]
async fn token_stripped_signature() {
    let fx = Fixture::new().await;
    let (h, p, _) = tokens::segments(&fx.alice);
    assert_denied(&fx, fx.describe_bearer(&format!("{h}.{p}.")).await);
}

#[tokio::test]
async fn token_signature_segment_dropped() {
    let fx = Fixture::new().await;
    let (h, p, _) = tokens::segments(&fx.alice);
    assert_denied(&fx, fx.describe_bearer(&format!("{h}.{p}")).await);
}

#[tokio::test]
async fn token_swapped_payload() {
    let fx = Fixture::new().await;
    let (h, _, s) = tokens::segments(&fx.mallory);
    let (_, p, _) = tokens::segments(&fx.alice);
    // Mallory's header and signature around alice's payload.
    assert_denied(&fx, fx.describe_bearer(&format!("{h}.{p}.{s}")).await);
    // A payload rewritten to grant admin, signature untouched.
    let (h, _, s) = tokens::segments(&fx.alice);
    let forged = tokens::b64(
        tokens::payload("alice", &["temporal-system:admin"])
            .to_string()
            .as_bytes(),
    );
    assert_denied(&fx, fx.describe_bearer(&format!("{h}.{forged}.{s}")).await);
}

#[tokio::test]
async fn token_signed_by_another_key_under_the_trusted_kid() {
    let fx = Fixture::new().await;
    let attacker = Issuer::new("k1");
    let token = attacker.sign(&tokens::payload("alice", &["temporal-system:admin"]));
    assert_denied(&fx, fx.describe_bearer(&token).await);
}

#[tokio::test]
async fn token_kid_path_traversal() {
    let fx = Fixture::new().await;
    for kid in ["../../../../etc/passwd", "k1/../k1", "..%2f..%2fk1", "k1\0"] {
        // Signed with the trusted key: only the kid is wrong.
        let token = fx
            .issuer
            .sign_with_kid(&tokens::payload("alice", &["default:write"]), kid);
        assert_denied(&fx, fx.describe_bearer(&token).await);
    }
}

#[tokio::test]
async fn token_huge_kid() {
    let fx = Fixture::new().await;
    let kid = "k".repeat(8 * 1024);
    let token = fx
        .issuer
        .sign_with_kid(&tokens::payload("alice", &["default:write"]), &kid);
    assert_denied(&fx, fx.describe_bearer(&token).await);
}

#[tokio::test]
async fn token_unknown_and_missing_kid() {
    let fx = Fixture::new().await;
    let unknown = fx
        .issuer
        .sign_with_kid(&tokens::payload("alice", &["default:write"]), "k2");
    assert_denied(&fx, fx.describe_bearer(&unknown).await);
    let no_kid = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &tokens::payload("alice", &["default:write"]),
        &EncodingKey::from_secret(&[7u8; 32]).expect("secret"),
    )
    .expect("signs");
    assert_denied(&fx, fx.describe_bearer(&no_kid).await);
}

/// A 1 MB header is far over what the server's HTTP/2 layer takes (hyper caps the header
/// list and the CONTINUATION frames carrying it): the server ends the connection with GOAWAY
/// `ENHANCE_YOUR_CALM` before any request exists, which the tonic client reports as
/// RESOURCE_EXHAUSTED; the raw client gets no answer at all. Nothing reaches the layer, let
/// alone the backend.
#[tokio::test]
async fn token_one_megabyte() {
    let fx = Fixture::new().await;
    let payload = json!({"sub": "alice", "exp": tokens::now() + 60, "pad": "x".repeat(1 << 20)});
    let token = fx.issuer.sign(&payload);
    assert!(token.len() > 1_000_000);
    let status = fx.describe_bearer(&token).await.expect_err("refused");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    fx.untouched();

    let req = raw::grpc(DESCRIBE)
        .header("authorization", format!("Bearer {token}"))
        .body(raw::body(raw::frame(&describe("default"))))
        .expect("request");
    let mut conn = raw::connect(fx.harness.server.addr()).await;
    let outcome = raw::exchange(&mut conn, req).await;
    assert!(
        outcome.is_err(),
        "no answer for an oversized header list: {outcome:?}"
    );
    fx.untouched();
}

#[tokio::test]
async fn token_non_ascii_header_bytes() {
    let fx = Fixture::new().await;
    // obs-text bytes (valid in an HTTP header, not UTF-8) and UTF-8 that is not ASCII.
    let mut latin1 = b"Bearer ".to_vec();
    latin1.extend_from_slice(fx.alice.as_bytes());
    latin1.extend_from_slice(&[0xff, 0xfe]);
    let utf8 = format!("Bearer {}é", fx.alice);
    for value in [latin1, utf8.into_bytes()] {
        let req = raw::grpc(DESCRIBE)
            .header(
                "authorization",
                http::HeaderValue::from_bytes(&value).expect("obs-text is a valid header value"),
            )
            .body(raw::body(raw::frame(&describe("default"))))
            .expect("request");
        let reply = fx.raw(req).await;
        assert_raw(&fx, &reply, Code::PermissionDenied, "Request unauthorized.");
    }
}

#[tokio::test]
async fn token_two_authorization_headers() {
    let fx = Fixture::new().await;
    let valid = format!("Bearer {}", fx.alice);
    let other = format!("Bearer {}", fx.mallory);
    // Whichever comes first, two credentials are ambiguous and refused.
    for (first, second) in [(&valid, &other), (&other, &valid), (&valid, &valid)] {
        let req = raw::grpc(DESCRIBE)
            .header("authorization", first.as_str())
            .header("authorization", second.as_str())
            .body(raw::body(raw::frame(&describe("default"))))
            .expect("request");
        let reply = fx.raw(req).await;
        assert_raw(&fx, &reply, Code::PermissionDenied, "Request unauthorized.");
    }
}

#[tokio::test]
async fn token_bearer_with_two_spaces() {
    let fx = Fixture::new().await;
    assert_denied(
        &fx,
        fx.describe_with(&format!("Bearer  {}", fx.alice)).await,
    );
}

#[tokio::test]
async fn token_wrong_or_missing_scheme() {
    let fx = Fixture::new().await;
    for value in [
        format!("Basic {}", fx.alice),
        fx.alice.clone(),
        format!("Bearer\t{}", fx.alice),
        "Bearer ".to_owned(),
        "Bearer".to_owned(),
    ] {
        assert_denied(&fx, fx.describe_with(&value).await);
    }
}

#[tokio::test]
async fn token_expired_and_not_yet_valid() {
    let fx = Fixture::new().await;
    let expired =
        json!({"sub": "alice", "exp": tokens::now() - 5, "permissions": ["default:write"]});
    let future = json!({"sub": "alice", "exp": tokens::now() + 3600, "nbf": tokens::now() + 600,
        "permissions": ["default:write"]});
    let string_exp = json!({"sub": "alice", "exp": (tokens::now() + 3600).to_string(),
        "permissions": ["default:write"]});
    for payload in [expired, future, string_exp] {
        assert_denied(&fx, fx.describe_bearer(&fx.issuer.sign(&payload)).await);
    }
}

#[tokio::test]
async fn token_critical_header() {
    let fx = Fixture::new().await;
    // A header demanding an extension nobody here implements, with a valid signature over it.
    let header = tokens::b64(br#"{"alg":"ES256","kid":"k1","crit":["exp"],"exp":1}"#);
    let (_, p, _) = tokens::segments(&fx.alice);
    let signing_input = format!("{header}.{p}");
    let signature = fx.issuer.sign_input(&signing_input);
    // Control: the same construction without `crit` is accepted, so only `crit` is refused.
    let plain = format!("{}.{p}", tokens::b64(br#"{"alg":"ES256","kid":"k1"}"#));
    let accepted = format!("{plain}.{}", fx.issuer.sign_input(&plain));
    assert_eq!(
        fx.describe_bearer(&accepted).await.expect("allowed"),
        "default"
    );
    fx.harness
        .backend()
        .call_counter()
        .store(0, std::sync::atomic::Ordering::SeqCst);
    assert_denied(
        &fx,
        fx.describe_bearer(&format!("{signing_input}.{signature}"))
            .await,
    );
}

#[tokio::test]
async fn token_padded_segments() {
    let fx = Fixture::new().await;
    let (h, p, s) = tokens::segments(&fx.alice);
    let pad = |x: &str| format!("{x}{}", "=".repeat((4 - x.len() % 4) % 4));
    let padded = format!("{}.{}.{}", pad(&h), pad(&p), pad(&s));
    assert_ne!(
        padded, fx.alice,
        "the test needs a segment that takes padding"
    );
    assert_denied(&fx, fx.describe_bearer(&padded).await);
}

#[tokio::test]
async fn token_algorithm_confusion_rs256_header_on_an_ec_key() {
    let fx = Fixture::new().await;
    let (_, p, s) = tokens::segments(&fx.alice);
    let h = tokens::b64(br#"{"alg":"RS256","kid":"k1"}"#);
    assert_denied(&fx, fx.describe_bearer(&format!("{h}.{p}.{s}")).await);
}

#[tokio::test]
async fn token_wrong_shape() {
    let fx = Fixture::new().await;
    let (h, p, s) = tokens::segments(&fx.alice);
    let array_payload = tokens::b64(br#"["alice"]"#);
    for token in [
        format!("{h}.{p}.{s}.{s}.{s}"),
        format!("{h}.{array_payload}.{s}"),
        format!("{h}..{s}"),
        "...".to_owned(),
    ] {
        assert_denied(&fx, fx.describe_bearer(&token).await);
    }
}

#[tokio::test]
async fn token_without_subject() {
    let fx = Fixture::new().await;
    let payload = json!({"exp": tokens::now() + 60, "permissions": ["default:write"]});
    assert_denied(&fx, fx.describe_bearer(&fx.issuer.sign(&payload)).await);
}

#[tokio::test]
async fn token_valid_but_for_another_namespace() {
    let fx = Fixture::new().await;
    let token = fx.issuer.sign(&tokens::payload("bob", &["secret:admin"]));
    assert_denied(&fx, fx.describe_bearer(&token).await);
}

// ---------------------------------------------------------------------------------------------
// gRPC frames (alice's valid token: only the framing is wrong).
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn frame_length_over_the_limit() {
    let fx = Fixture::new().await;
    let mut bytes = vec![0u8];
    bytes.extend_from_slice(&(10u32 << 20).to_be_bytes());
    bytes.extend_from_slice(&describe("default"));
    let reply = fx.raw_alice(raw::body(bytes)).await;
    assert_raw(
        &fx,
        &reply,
        Code::ResourceExhausted,
        "Error, decoded message length too large: found 10485760 bytes, the limit is: 65536 bytes",
    );
}

#[tokio::test]
async fn frame_truncated() {
    let fx = Fixture::new().await;
    let mut bytes = raw::frame(&describe("default"));
    bytes.truncate(bytes.len() - 2);
    let reply = fx.raw_alice(raw::body(bytes)).await;
    assert_raw(
        &fx,
        &reply,
        Code::InvalidArgument,
        "request message is truncated",
    );
    // Only the 5-byte prefix, and less than that.
    let reply = fx.raw_alice(raw::body(vec![0, 0, 0])).await;
    assert_raw(
        &fx,
        &reply,
        Code::InvalidArgument,
        "request message is truncated",
    );
}

#[tokio::test]
async fn frame_missing() {
    let fx = Fixture::new().await;
    let reply = fx.raw_alice(raw::frames(vec![])).await;
    assert_raw(
        &fx,
        &reply,
        Code::InvalidArgument,
        "missing request message",
    );
}

#[tokio::test]
async fn frame_zero_length_on_a_namespace_scoped_api() {
    let fx = Fixture::new().await;
    // An empty message has no namespace: alice's `default` role does not apply.
    let reply = fx.raw_alice(raw::body(raw::frame(b""))).await;
    assert_raw(&fx, &reply, Code::PermissionDenied, "Request unauthorized.");
}

#[tokio::test]
async fn frame_compressed_flag_without_grpc_encoding() {
    let fx = Fixture::new().await;
    let reply = fx
        .raw_alice(raw::body(raw::frame_with_flag(
            1,
            &raw::gzip(&describe("default")),
        )))
        .await;
    assert_raw(
        &fx,
        &reply,
        Code::InvalidArgument,
        "protocol error: received message with compressed-flag but no grpc-encoding was specified",
    );
}

#[tokio::test]
async fn frame_invalid_compression_flag() {
    let fx = Fixture::new().await;
    let reply = fx
        .raw_alice(raw::body(raw::frame_with_flag(2, &describe("default"))))
        .await;
    assert_raw(
        &fx,
        &reply,
        Code::InvalidArgument,
        "protocol error: received message with invalid compression flag: 2",
    );
}

#[tokio::test]
async fn frame_gzip_bomb_over_the_limit() {
    let fx = Fixture::new().await;
    // 16 MiB of one protobuf field inflating from a few KiB.
    let mut bomb = describe("default");
    bomb.extend(std::iter::repeat_n(0u8, 16 << 20));
    let compressed = raw::gzip(&bomb);
    assert!(compressed.len() < LIMIT, "the bomb fits the wire limit");
    let req = raw::grpc(DESCRIBE)
        .header("authorization", format!("Bearer {}", fx.alice))
        .header("grpc-encoding", "gzip")
        .body(raw::body(raw::frame_with_flag(1, &compressed)))
        .expect("request");
    let reply = fx.raw(req).await;
    assert_raw(
        &fx,
        &reply,
        Code::ResourceExhausted,
        "Error, decoded message length too large: found 65537 bytes, the limit is: 65536 bytes",
    );
}

#[tokio::test]
async fn frame_corrupt_gzip() {
    let fx = Fixture::new().await;
    let mut compressed = raw::gzip(&describe("default"));
    let mid = compressed.len() / 2;
    compressed[mid] ^= 0xff;
    compressed.truncate(compressed.len() - 4);
    let req = raw::grpc(DESCRIBE)
        .header("authorization", format!("Bearer {}", fx.alice))
        .header("grpc-encoding", "gzip")
        .body(raw::body(raw::frame_with_flag(1, &compressed)))
        .expect("request");
    let reply = fx.raw(req).await;
    assert_eq!(reply.grpc(), Some(Code::InvalidArgument), "{reply:?}");
    assert!(
        reply
            .message
            .starts_with("error decompressing request message: "),
        "{reply:?}"
    );
    fx.untouched();
}

#[tokio::test]
async fn frame_unknown_encoding() {
    let fx = Fixture::new().await;
    let req = raw::grpc(DESCRIBE)
        .header("authorization", format!("Bearer {}", fx.alice))
        .header("grpc-encoding", "br")
        .body(raw::body(raw::frame_with_flag(1, &describe("default"))))
        .expect("request");
    let reply = fx.raw(req).await;
    assert_raw(
        &fx,
        &reply,
        Code::Unimplemented,
        "Content is compressed with `br` which isn't supported",
    );
}

#[tokio::test]
async fn frame_two_messages_on_a_unary_call_first_denied() {
    let fx = Fixture::new().await;
    // The first message decides; a permitted second one does not rescue a forbidden first.
    let body = [
        raw::frame(&describe("secret")),
        raw::frame(&describe("default")),
    ]
    .concat();
    let reply = fx.raw_alice(raw::body(body)).await;
    assert_raw(&fx, &reply, Code::PermissionDenied, "Request unauthorized.");
    // Split across data frames the same way.
    let reply = fx
        .raw_alice(raw::frames(vec![
            raw::frame(&describe("secret")),
            raw::frame(&describe("default")),
        ]))
        .await;
    assert_raw(&fx, &reply, Code::PermissionDenied, "Request unauthorized.");
}

/// A permitted first message smuggling a forbidden second one: tonic's unary decoder takes
/// the first message and discards the rest, so the handler acts on exactly the namespace the
/// layer authorized.
#[tokio::test]
async fn frame_two_messages_on_a_unary_call_second_ignored() {
    let fx = Fixture::new().await;
    let body = [
        raw::frame(&describe("default")),
        raw::frame(&describe("secret")),
    ]
    .concat();
    let reply = fx.raw_alice(raw::body(body)).await;
    assert_eq!(reply.grpc(), Some(Code::Ok), "{reply:?}");
    let response = DescribeNamespaceResponse::decode(&reply.body[5..]).expect("response");
    assert_eq!(response.namespace_info.unwrap_or_default().name, "default");
    assert_eq!(fx.harness.backend().calls_to("DescribeNamespace"), 1);
}

// ---------------------------------------------------------------------------------------------
// Messages (alice's valid token, well-framed; only the protobuf is hostile).
// ---------------------------------------------------------------------------------------------

fn key(field: u32, wire: u8) -> Vec<u8> {
    varint(u64::from(field) << 3 | u64::from(wire))
}

fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    out
}

fn string_field(field: u32, bytes: &[u8]) -> Vec<u8> {
    [key(field, 2), varint(bytes.len() as u64), bytes.to_vec()].concat()
}

async fn raw_message(fx: &Fixture, message: Vec<u8>) -> Reply {
    fx.raw_alice(raw::body(raw::frame(&message))).await
}

#[tokio::test]
async fn message_duplicate_namespace_last_wins() {
    let fx = Fixture::new().await;
    let message = [string_field(1, b"default"), string_field(1, b"secret")].concat();
    let reply = raw_message(&fx, message).await;
    assert_raw(&fx, &reply, Code::PermissionDenied, "Request unauthorized.");
}

/// The mirror image: the permitted namespace last. prost's last-wins is what both the layer
/// and the handler read, so the handler describes `default`, never `secret`.
#[tokio::test]
async fn message_duplicate_namespace_permitted_last() {
    let fx = Fixture::new().await;
    let message = [string_field(1, b"secret"), string_field(1, b"default")].concat();
    let reply = raw_message(&fx, message).await;
    assert_eq!(reply.grpc(), Some(Code::Ok), "{reply:?}");
    let response = DescribeNamespaceResponse::decode(&reply.body[5..]).expect("response");
    assert_eq!(response.namespace_info.unwrap_or_default().name, "default");
    assert_eq!(fx.harness.backend().calls(), 1);
}

#[tokio::test]
async fn message_wrong_wire_type() {
    let fx = Fixture::new().await;
    for message in [
        [key(1, 0), varint(7)].concat(),
        [key(1, 5), vec![1, 2, 3, 4]].concat(),
        [string_field(1, b"default"), key(1, 1), vec![0; 8]].concat(),
    ] {
        let reply = raw_message(&fx, message).await;
        assert_raw(
            &fx,
            &reply,
            Code::InvalidArgument,
            "malformed request message: namespace field has the wrong wire type",
        );
    }
}

#[tokio::test]
async fn message_invalid_utf8() {
    let fx = Fixture::new().await;
    for message in [
        string_field(1, b"defa\xffult"),
        // A bad earlier occurrence is fatal to prost even when the last one is fine.
        [string_field(1, b"\xc3"), string_field(1, b"default")].concat(),
    ] {
        let reply = raw_message(&fx, message).await;
        assert_raw(
            &fx,
            &reply,
            Code::InvalidArgument,
            "malformed request message: namespace field is not valid UTF-8",
        );
    }
}

#[tokio::test]
async fn message_namespace_only_in_a_nested_message() {
    let fx = Fixture::new().await;
    // An unknown field 9 holding a message whose field 1 is `default`: not the namespace.
    let message = string_field(9, &string_field(1, b"default"));
    let reply = raw_message(&fx, message).await;
    assert_raw(&fx, &reply, Code::PermissionDenied, "Request unauthorized.");
}

#[tokio::test]
async fn message_namespace_by_id_only() {
    let fx = Fixture::new().await;
    // DescribeNamespace also looks namespaces up by id; an empty namespace authorizes nothing.
    let reply = raw_message(&fx, string_field(2, b"any-namespace-id")).await;
    assert_raw(&fx, &reply, Code::PermissionDenied, "Request unauthorized.");
}

#[tokio::test]
async fn message_deeply_nested_unknown_groups() {
    let fx = Fixture::new().await;
    let depth = 150;
    let mut message = Vec::new();
    for _ in 0..depth {
        message.extend(key(5, 3));
    }
    for _ in 0..depth {
        message.extend(key(5, 4));
    }
    message.extend(string_field(1, b"default"));
    let reply = raw_message(&fx, message).await;
    assert_raw(
        &fx,
        &reply,
        Code::InvalidArgument,
        "malformed request message: groups nested too deeply",
    );
}

#[tokio::test]
async fn message_unbalanced_groups() {
    let fx = Fixture::new().await;
    for message in [
        [key(5, 3), key(6, 4), string_field(1, b"default")].concat(),
        [string_field(1, b"default"), key(5, 4)].concat(),
        [string_field(1, b"default"), key(5, 3)].concat(),
    ] {
        let reply = raw_message(&fx, message).await;
        assert_eq!(reply.grpc(), Some(Code::InvalidArgument), "{reply:?}");
        assert!(
            reply.message.starts_with("malformed request message: "),
            "{reply:?}"
        );
        fx.untouched();
    }
}

#[tokio::test]
async fn message_truncated_field_and_bad_varints() {
    let fx = Fixture::new().await;
    let cases: [(Vec<u8>, &str); 4] = [
        (
            [key(1, 2), varint(50), b"default".to_vec()].concat(),
            "field runs past the end of the message",
        ),
        (
            [string_field(1, b"default"), vec![0xff; 11]].concat(),
            "invalid varint",
        ),
        (
            [string_field(1, b"default"), vec![0x00]].concat(),
            "invalid field key",
        ),
        (
            [string_field(1, b"default"), key(3, 7)].concat(),
            "invalid field key",
        ),
    ];
    for (message, why) in cases {
        let reply = raw_message(&fx, message).await;
        assert_raw(
            &fx,
            &reply,
            Code::InvalidArgument,
            &format!("malformed request message: {why}"),
        );
    }
}

#[tokio::test]
async fn message_namespace_header_is_only_a_hint() {
    let fx = Fixture::new().await;
    let req = raw::grpc(DESCRIBE)
        .header("authorization", format!("Bearer {}", fx.alice))
        .header("temporal-namespace", "default")
        .body(raw::body(raw::frame(&describe("secret"))))
        .expect("request");
    let reply = fx.raw(req).await;
    assert_raw(&fx, &reply, Code::PermissionDenied, "Request unauthorized.");
}

// ---------------------------------------------------------------------------------------------
// HTTP.
// ---------------------------------------------------------------------------------------------

/// The layer authorizes whatever the content type says; with mallory's role-less token the
/// call is refused before tonic's codec could complain.
#[tokio::test]
async fn http_wrong_content_type() {
    let fx = Fixture::new().await;
    for content_type in ["application/json", "text/plain", "application/grpc-web"] {
        let req = raw::grpc(DESCRIBE)
            .header("authorization", format!("Bearer {}", fx.mallory))
            .header("content-type", content_type)
            .body(raw::body(raw::frame(&describe("default"))))
            .expect("request");
        let reply = fx.raw(req).await;
        assert_raw(&fx, &reply, Code::PermissionDenied, "Request unauthorized.");
    }
}

/// tonic serves HTTP/2 only: an HTTP/1.1 request gets no gRPC answer at all (the server
/// closes the connection on the missing HTTP/2 preface).
#[tokio::test]
async fn http_1_1_is_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fx = Fixture::new().await;
    let mut tcp = tokio::net::TcpStream::connect(fx.harness.server.addr())
        .await
        .expect("connect");
    let body = raw::frame(&describe("default"));
    let head = format!(
        "POST {DESCRIBE} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/grpc\r\n\
         te: trailers\r\nauthorization: Bearer {}\r\ncontent-length: {}\r\n\r\n",
        fx.alice,
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.expect("write");
    tcp.write_all(&body).await.expect("write");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server closes the connection");
    assert!(
        !answer.starts_with(b"HTTP/1.1 200"),
        "no HTTP/1.1 answer: {:?}",
        String::from_utf8_lossy(&answer)
    );
    fx.untouched();
}

/// `te: trailers` is not checked by tonic; the layer still decides on the credentials.
#[tokio::test]
async fn http_missing_te() {
    let fx = Fixture::new().await;
    let req = Request::builder()
        .method("POST")
        .uri(format!("http://127.0.0.1{DESCRIBE}"))
        .header("content-type", "application/grpc")
        .header("authorization", format!("Bearer {}", fx.mallory))
        .body(raw::body(raw::frame(&describe("default"))))
        .expect("request");
    let reply = fx.raw(req).await;
    assert_raw(&fx, &reply, Code::PermissionDenied, "Request unauthorized.");
}

/// Paths that name no method in any table are refused even with a valid token: the default
/// authorizer knows no such API.
#[tokio::test]
async fn http_path_without_a_method() {
    let fx = Fixture::new().await;
    for path in [
        "/temporal.api.workflowservice.v1.WorkflowService/",
        "/temporal.api.workflowservice.v1.WorkflowService",
        "/",
        "//temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace",
    ] {
        let req = raw::grpc(path)
            .header("authorization", format!("Bearer {}", fx.alice))
            .body(raw::body(raw::frame(&describe("default"))))
            .expect("request");
        let reply = fx.raw(req).await;
        assert_raw(&fx, &reply, Code::PermissionDenied, "Request unauthorized.");
    }
}

#[tokio::test]
async fn http_path_of_a_method_in_no_table() {
    let fx = Fixture::new().await;
    for path in [
        "/acme.Evil/StealEverything",
        "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespaceX",
        "/temporal.api.workflowservice.v1.WorkflowService/describeNamespace",
        "/temporal.api.workflowservice.v1.WorkflowService/Describe%4Eamespace",
    ] {
        let req = raw::grpc(path)
            .header("authorization", format!("Bearer {}", fx.alice))
            .body(raw::body(raw::frame(&describe("default"))))
            .expect("request");
        let reply = fx.raw(req).await;
        assert_raw(&fx, &reply, Code::PermissionDenied, "Request unauthorized.");
    }
}

/// A GET (no body semantics) with a role-less token is refused by the layer like any call.
#[tokio::test]
async fn http_get_method() {
    let fx = Fixture::new().await;
    let req = raw::grpc(DESCRIBE)
        .method("GET")
        .header("authorization", format!("Bearer {}", fx.mallory))
        .body(raw::body(raw::frame(&describe("default"))))
        .expect("request");
    let reply = fx.raw(req).await;
    assert_raw(&fx, &reply, Code::PermissionDenied, "Request unauthorized.");
}
