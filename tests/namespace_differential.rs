//! The namespace the layer reads from a request equals what prost decodes from the same bytes:
//! built messages (repeated namespaces, unknown fields of every wire type including groups,
//! nested namespaces), malformed inputs, and arbitrary bytes (property tests). The scanner never
//! panics, errs exactly when prost errs, and agrees with prost otherwise.

mod common;

use proptest::prelude::*;
use prost::Message;
use tonic_authz::fuzzing::{ScanError, scan_string_field};

// ---------------------------------------------------------------------------------------------
// The reference: prost decoding a message whose only known field is the namespace.
// ---------------------------------------------------------------------------------------------

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
namespace_at!(NamespaceAt7, "7");
namespace_at!(NamespaceAt16, "16");
namespace_at!(NamespaceAtMax, "536870911");

/// The field numbers the reference structs cover (1-byte and 2-byte keys, and the largest).
const FIELDS: [u32; 5] = [1, 2, 7, 16, MAX_FIELD];
const MAX_FIELD: u32 = (1 << 29) - 1;

/// What prost makes of `bytes` for a message with a string `namespace` at `field`.
fn prost_namespace(bytes: &[u8], field: u32) -> Result<String, prost::DecodeError> {
    match field {
        1 => NamespaceAt1::decode(bytes).map(|m| m.namespace),
        2 => NamespaceAt2::decode(bytes).map(|m| m.namespace),
        7 => NamespaceAt7::decode(bytes).map(|m| m.namespace),
        16 => NamespaceAt16::decode(bytes).map(|m| m.namespace),
        MAX_FIELD => NamespaceAtMax::decode(bytes).map(|m| m.namespace),
        other => panic!("no reference struct for field {other}"),
    }
}

/// What the layer's scanner makes of the same bytes.
fn scan(bytes: &[u8], field: u32) -> Result<Option<String>, ScanError> {
    scan_string_field(bytes, field).map(|found| found.map(str::to_owned))
}

/// Asserts the scanner and prost agree on `bytes`: both fail, or both succeed with the same
/// namespace (absent reads as empty, as prost's default).
fn assert_agrees(bytes: &[u8], field: u32) -> Result<Option<String>, ()> {
    let reference = prost_namespace(bytes, field);
    let scanned = scan(bytes, field);
    match (&reference, &scanned) {
        (Ok(ns), Ok(found)) => assert_eq!(
            found.as_deref().unwrap_or(""),
            ns,
            "field {field}, bytes {bytes:02x?}"
        ),
        (Err(_), Err(_)) => {}
        _ => panic!(
            "field {field}, bytes {bytes:02x?}: prost gave {reference:?}, the scanner {scanned:?}"
        ),
    }
    scanned.map_err(|_| ())
}

// ---------------------------------------------------------------------------------------------
// Building messages field by field.
// ---------------------------------------------------------------------------------------------

fn varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn key(field: u32, wire_type: u8, out: &mut Vec<u8>) {
    varint((u64::from(field) << 3) | u64::from(wire_type), out);
}

/// One field of a message.
#[derive(Clone, Debug)]
enum Entry {
    /// The namespace field itself (at the message's namespace field number).
    Namespace(String),
    Varint(u32, u64),
    Fixed64(u32, u64),
    Fixed32(u32, u32),
    Bytes(u32, Vec<u8>),
    /// A length-delimited field holding a message, which may have its own namespace.
    Nested(u32, Vec<Entry>),
    /// A group (wire types 3 and 4) of fields, which may hold the namespace field number.
    Group(u32, Vec<Entry>),
}

/// Encodes `entries`. At the top level (`top`), other fields never reuse the namespace's field
/// number (that would be a second namespace of another wire type); inside nested messages and
/// groups anything goes, since the scanner must skip them whole.
fn encode(entries: &[Entry], namespace_field: u32, top: bool, out: &mut Vec<u8>) {
    let other = |f: &u32| {
        if top && *f == namespace_field {
            if *f == MAX_FIELD { *f - 1 } else { *f + 1 }
        } else {
            *f
        }
    };
    for entry in entries {
        match entry {
            Entry::Namespace(s) => {
                key(namespace_field, 2, out);
                varint(s.len() as u64, out);
                out.extend_from_slice(s.as_bytes());
            }
            Entry::Varint(f, v) => {
                key(other(f), 0, out);
                varint(*v, out);
            }
            Entry::Fixed64(f, v) => {
                key(other(f), 1, out);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Entry::Fixed32(f, v) => {
                key(other(f), 5, out);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Entry::Bytes(f, b) => {
                key(other(f), 2, out);
                varint(b.len() as u64, out);
                out.extend_from_slice(b);
            }
            Entry::Nested(f, inner) => {
                let mut body = Vec::new();
                encode(inner, namespace_field, false, &mut body);
                key(other(f), 2, out);
                varint(body.len() as u64, out);
                out.extend_from_slice(&body);
            }
            Entry::Group(f, inner) => {
                key(other(f), 3, out);
                encode(inner, namespace_field, false, out);
                key(other(f), 4, out);
            }
        }
    }
}

fn message(entries: &[Entry], namespace_field: u32) -> Vec<u8> {
    let mut out = Vec::new();
    encode(entries, namespace_field, true, &mut out);
    out
}

/// The namespace a valid message carries: its last top-level namespace entry.
fn expected(entries: &[Entry]) -> Option<String> {
    entries.iter().rev().find_map(|e| match e {
        Entry::Namespace(s) => Some(s.clone()),
        _ => None,
    })
}

// ---------------------------------------------------------------------------------------------
// Built messages.
// ---------------------------------------------------------------------------------------------

fn ns(s: &str) -> Entry {
    Entry::Namespace(s.to_owned())
}

#[test]
fn absent_namespace_is_none_and_empty_namespace_is_some_empty() {
    for field in FIELDS {
        assert_eq!(assert_agrees(&[], field), Ok(None));
        let only_other = message(&[Entry::Varint(field % 5 + 20, 3)], field);
        assert_eq!(assert_agrees(&only_other, field), Ok(None));
        assert_eq!(
            assert_agrees(&message(&[ns("")], field), field),
            Ok(Some(String::new()))
        );
    }
}

#[test]
fn repeated_namespace_last_wins() {
    for field in FIELDS {
        let bytes = message(
            &[ns("first"), Entry::Varint(99, 1), ns("second"), ns("third")],
            field,
        );
        assert_eq!(assert_agrees(&bytes, field), Ok(Some("third".to_owned())));
        // An empty last occurrence wins too.
        let bytes = message(&[ns("first"), ns("")], field);
        assert_eq!(assert_agrees(&bytes, field), Ok(Some(String::new())));
    }
}

#[test]
fn unknown_fields_of_every_wire_type_are_skipped() {
    for field in FIELDS {
        let entries = [
            Entry::Varint(3, u64::MAX),
            Entry::Fixed64(4, u64::MAX),
            Entry::Fixed32(5, u32::MAX),
            Entry::Bytes(6, vec![0xff; 300]),
            Entry::Group(
                8,
                vec![Entry::Varint(1, 1), Entry::Group(9, vec![ns("in-group")])],
            ),
            ns("acme"),
            Entry::Varint(MAX_FIELD, 0),
            Entry::Group(10, vec![]),
            Entry::Fixed32(11, 0),
        ];
        assert_eq!(
            assert_agrees(&message(&entries, field), field),
            Ok(Some("acme".to_owned()))
        );
    }
}

#[test]
fn nested_namespaces_are_ignored() {
    for field in FIELDS {
        // A nested message and a group, both carrying the namespace's field number, after the
        // real namespace: the top-level value stands.
        let entries = [
            ns("outer"),
            Entry::Nested(30, vec![ns("inner"), Entry::Nested(31, vec![ns("deeper")])]),
            Entry::Group(32, vec![ns("grouped")]),
        ];
        assert_eq!(
            assert_agrees(&message(&entries, field), field),
            Ok(Some("outer".to_owned()))
        );
        // Only nested namespaces: the request has none.
        let entries = [
            Entry::Nested(30, vec![ns("inner")]),
            Entry::Group(32, vec![ns("g")]),
        ];
        assert_eq!(assert_agrees(&message(&entries, field), field), Ok(None));
    }
}

#[test]
fn inside_a_group_the_namespace_number_may_have_any_wire_type() {
    // Groups are skipped whole, so a varint at the namespace's number inside one is fine.
    let mut bytes = Vec::new();
    key(20, 3, &mut bytes);
    key(7, 0, &mut bytes);
    varint(5, &mut bytes);
    key(7, 5, &mut bytes);
    bytes.extend_from_slice(&[1, 2, 3, 4]);
    key(20, 4, &mut bytes);
    bytes.extend(message(&[ns("acme")], 7));
    assert_eq!(assert_agrees(&bytes, 7), Ok(Some("acme".to_owned())));
}

// ---------------------------------------------------------------------------------------------
// Malformed messages: the scanner fails exactly where prost fails.
// ---------------------------------------------------------------------------------------------

#[test]
fn wrong_wire_type_for_the_namespace_is_an_error() {
    for field in FIELDS {
        for (wire_type, body) in [(0u8, vec![0x01]), (1, vec![0; 8]), (5, vec![0; 4])] {
            let mut bytes = message(&[ns("acme")], field);
            key(field, wire_type, &mut bytes);
            bytes.extend_from_slice(&body);
            assert!(
                assert_agrees(&bytes, field).is_err(),
                "wire type {wire_type}"
            );
        }
        // A group at the namespace's number.
        let mut bytes = Vec::new();
        key(field, 3, &mut bytes);
        key(field, 4, &mut bytes);
        assert!(assert_agrees(&bytes, field).is_err(), "group");
    }
}

#[test]
fn invalid_utf8_in_any_occurrence_is_an_error() {
    for field in FIELDS {
        let bad = |out: &mut Vec<u8>| {
            key(field, 2, out);
            varint(2, out);
            out.extend_from_slice(&[0xc3, 0x28]);
        };
        let mut last = message(&[ns("acme")], field);
        bad(&mut last);
        assert!(assert_agrees(&last, field).is_err());
        let mut first = Vec::new();
        bad(&mut first);
        first.extend(message(&[ns("acme")], field));
        assert!(assert_agrees(&first, field).is_err());
    }
}

#[test]
fn every_truncation_of_a_valid_message_agrees_with_prost() {
    for field in FIELDS {
        let entries = [
            Entry::Varint(3, 300),
            ns("acme"),
            Entry::Fixed64(4, 1),
            Entry::Group(8, vec![Entry::Fixed32(1, 2), ns("g")]),
            Entry::Nested(9, vec![ns("n")]),
            ns("last"),
            Entry::Fixed32(5, 7),
        ];
        let bytes = message(&entries, field);
        let mut errors = 0;
        for end in 0..bytes.len() {
            if assert_agrees(&bytes[..end], field).is_err() {
                errors += 1;
            }
        }
        assert!(errors > 0, "some truncations are malformed");
        assert_eq!(assert_agrees(&bytes, field), Ok(Some("last".to_owned())));
    }
}

#[test]
fn structural_errors_agree_with_prost() {
    let valid = message(&[ns("acme")], 7);
    let with = |tail: &[u8]| {
        let mut b = valid.clone();
        b.extend_from_slice(tail);
        b
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("field number 0", with(&[0x00, 0x00])),
        ("wire type 6", with(&[0x0e])),
        ("wire type 7", with(&[0x0f])),
        ("end group at top level", with(&[0x0c])),
        ("mismatched end group", with(&[0x0b, 0x14])),
        ("unterminated group", with(&[0x0b])),
        (
            "eleven-byte varint",
            with(&[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ]),
        ),
        (
            "ten-byte varint overflowing 64 bits",
            with(&[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
            ]),
        ),
        (
            "ten-byte varint at the limit",
            with(&[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ]),
        ),
        ("key above u32", with(&[0xff, 0xff, 0xff, 0xff, 0x7f])),
        ("length beyond the end", with(&[0x12, 0x05, 0x61])),
        ("huge length", with(&[0x12, 0xff, 0xff, 0xff, 0xff, 0x0f])),
        ("fixed64 cut short", with(&[0x09, 0x01, 0x02])),
        ("fixed32 cut short", with(&[0x0d, 0x01])),
        ("namespace length beyond the end", with(&[0x3a, 0x09, 0x61])),
        ("dangling key continuation", with(&[0x80])),
    ];
    for (name, bytes) in cases {
        let reference = prost_namespace(&bytes, 7);
        let scanned = scan(&bytes, 7);
        assert_eq!(
            reference.is_ok(),
            scanned.is_ok(),
            "{name}: prost {reference:?}, scanner {scanned:?}"
        );
        if let (Ok(r), Ok(s)) = (&reference, &scanned) {
            assert_eq!(s.as_deref().unwrap_or(""), r, "{name}");
        }
    }
}

#[test]
fn deeply_nested_groups_agree_with_prost() {
    for depth in [1usize, 50, 99, 100, 101, 200, 5000] {
        let mut bytes = message(&[ns("acme")], 7);
        for _ in 0..depth {
            key(20, 3, &mut bytes);
        }
        for _ in 0..depth {
            key(20, 4, &mut bytes);
        }
        let reference = prost_namespace(&bytes, 7);
        let scanned = scan(&bytes, 7);
        assert_eq!(
            reference.is_ok(),
            scanned.is_ok(),
            "depth {depth}: prost {reference:?}, scanner {scanned:?}"
        );
    }
    // prost's limit also counts a plain field inside the innermost group.
    for depth in [98usize, 99, 100, 101] {
        let mut bytes = Vec::new();
        for _ in 0..depth {
            key(20, 3, &mut bytes);
        }
        key(21, 0, &mut bytes);
        varint(1, &mut bytes);
        for _ in 0..depth {
            key(20, 4, &mut bytes);
        }
        let reference = prost_namespace(&bytes, 7);
        let scanned = scan(&bytes, 7);
        assert_eq!(
            reference.is_ok(),
            scanned.is_ok(),
            "depth {depth} with a field inside: prost {reference:?}, scanner {scanned:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Property tests.
// ---------------------------------------------------------------------------------------------

fn field_number() -> impl Strategy<Value = u32> {
    prop_oneof![1u32..40, 1u32..=MAX_FIELD]
}

fn entry() -> impl Strategy<Value = Entry> {
    let leaf = prop_oneof![
        any::<String>().prop_map(Entry::Namespace),
        (field_number(), any::<u64>()).prop_map(|(f, v)| Entry::Varint(f, v)),
        (field_number(), any::<u64>()).prop_map(|(f, v)| Entry::Fixed64(f, v)),
        (field_number(), any::<u32>()).prop_map(|(f, v)| Entry::Fixed32(f, v)),
        (
            field_number(),
            proptest::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(f, b)| Entry::Bytes(f, b)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            (
                field_number(),
                proptest::collection::vec(inner.clone(), 0..6)
            )
                .prop_map(|(f, e)| Entry::Nested(f, e)),
            (field_number(), proptest::collection::vec(inner, 0..6))
                .prop_map(|(f, e)| Entry::Group(f, e)),
        ]
    })
}

fn namespace_field() -> impl Strategy<Value = u32> {
    proptest::sample::select(FIELDS.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn built_messages_give_prosts_namespace(
        entries in proptest::collection::vec(entry(), 0..12),
        field in namespace_field(),
    ) {
        let bytes = message(&entries, field);
        let want = expected(&entries);
        // The generator builds valid messages: prost agrees with the model.
        prop_assert_eq!(
            prost_namespace(&bytes, field).expect("valid message"),
            want.clone().unwrap_or_default()
        );
        prop_assert_eq!(assert_agrees(&bytes, field), Ok(want));
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_agree_with_prost(
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
        field in namespace_field(),
    ) {
        let _ = assert_agrees(&bytes, field);
    }

    #[test]
    fn mutated_messages_agree_with_prost(
        entries in proptest::collection::vec(entry(), 1..8),
        field in namespace_field(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = message(&entries, field);
        if !bytes.is_empty() {
            for (at, value) in &flips {
                let i = at.index(bytes.len());
                bytes[i] = *value;
            }
            let _ = assert_agrees(&bytes, field);
            let end = cut.index(bytes.len() + 1);
            let _ = assert_agrees(&bytes[..end], field);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The frame reader: any chunking of the same body gives the same namespace and forwards the
// same bytes.
// ---------------------------------------------------------------------------------------------

mod chunking {
    use std::convert::Infallible;
    use std::sync::{Arc, Mutex};

    use bytes::Bytes;
    use http::{Request, Response};
    use proptest::prelude::*;
    use tonic_authz::{AuthzLayer, CallTarget, Claims, Decision, NoopClaimMapper};
    use tower::{Layer, ServiceExt, service_fn};

    use super::common::demo::{self, CreateOrderRequest};
    use super::common::grpc::{self, chunked_body_by, frame};
    use prost::Message;

    /// What one call through the layer produced.
    #[derive(Debug, PartialEq)]
    enum Outcome {
        /// Allowed: the namespace the authorizer saw and the bytes the handler got.
        Forwarded(String, Bytes),
        /// Refused with this gRPC code before reaching the handler.
        Refused(tonic::Code),
    }

    /// Sends `body` to `CreateOrder` of the demo service, split into chunks of `sizes`.
    async fn call(body: &[u8], sizes: &[usize]) -> Outcome {
        let seen_ns = Arc::new(Mutex::new(None::<String>));
        let authorizer = {
            let seen_ns = Arc::clone(&seen_ns);
            move |_: Option<&Claims>, target: &CallTarget| {
                *seen_ns.lock().expect("lock") = Some(target.namespace().to_owned());
                async { Ok(Decision::Allow) }
            }
        };
        let forwarded = Arc::new(Mutex::new(None::<Bytes>));
        let inner = {
            let forwarded = Arc::clone(&forwarded);
            service_fn(move |req: Request<tonic::body::Body>| {
                let forwarded = Arc::clone(&forwarded);
                async move {
                    let (bytes, _) = grpc::collect(req.into_body()).await;
                    *forwarded.lock().expect("lock") = Some(bytes);
                    Ok::<_, Infallible>(Response::new(tonic::body::Body::empty()))
                }
            })
        };
        let svc = AuthzLayer::builder()
            .claim_mapper(NoopClaimMapper)
            .authorizer(authorizer)
            .descriptor_pool(demo::descriptor_pool())
            .build()
            .layer(inner);
        let req = Request::builder()
            .uri(format!("http://localhost{}", demo::CREATE_ORDER))
            .header("content-type", "application/grpc")
            .body(chunked_body_by(body, sizes, None))
            .expect("request");
        let resp = svc.oneshot(req).await.expect("infallible");
        if let Some(status) = grpc::header_status(&resp) {
            assert!(
                forwarded.lock().expect("lock").is_none(),
                "refused but forwarded"
            );
            return Outcome::Refused(status.code());
        }
        let ns = seen_ns
            .lock()
            .expect("lock")
            .clone()
            .expect("authorizer called");
        let bytes = forwarded
            .lock()
            .expect("lock")
            .clone()
            .expect("handler called");
        Outcome::Forwarded(ns, bytes)
    }

    fn two_messages() -> Vec<u8> {
        let mut body = frame(&demo::create_order("acme", "nested").encode_to_vec());
        body.extend(frame(
            &CreateOrderRequest {
                namespace: "second".to_owned(),
                ..CreateOrderRequest::default()
            }
            .encode_to_vec(),
        ));
        body
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn one_byte_chunks_and_one_chunk_agree() {
        let rt = runtime();
        let body = two_messages();
        let whole = rt.block_on(call(&body, &[body.len()]));
        assert_eq!(
            whole,
            Outcome::Forwarded("acme".to_owned(), Bytes::from(body.clone()))
        );
        let ones = vec![1; body.len()];
        assert_eq!(rt.block_on(call(&body, &ones)), whole);
        // Empty chunks in between change nothing.
        let mut with_empty = Vec::new();
        for _ in 0..body.len() {
            with_empty.extend([0, 1]);
        }
        assert_eq!(rt.block_on(call(&body, &with_empty)), whole);

        // A truncated first message is refused the same way whatever the chunking.
        let cut = &body[..20];
        let refused = Outcome::Refused(tonic::Code::InvalidArgument);
        assert_eq!(rt.block_on(call(cut, &[cut.len()])), refused);
        assert_eq!(rt.block_on(call(cut, &vec![1; cut.len()])), refused);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn any_chunking_gives_the_same_result(
            sizes in proptest::collection::vec(0usize..9, 1..80),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let rt = runtime();
            let full = two_messages();
            let body = if truncate { &full[..cut.index(full.len())] } else { &full[..] };
            let reference = rt.block_on(call(body, &[body.len()]));
            prop_assert_eq!(rt.block_on(call(body, &sizes)), reference);
        }
    }
}
