//! The fuzz targets' bodies (`fuzz/src/lib.rs`) run on stable over generated inputs: random
//! bytes and mutations of well-formed seeds (gRPC frames, plain and gzip; protobuf messages;
//! JWTs; JWK Sets). The fuzzer proper runs them far longer on nightly (see `fuzz/README.md`);
//! this keeps their invariants checked in CI.
//!
//! Also property tests for the token path: the header split and the JWT parse never panic and
//! accept exactly the well-formed `Bearer` tokens.

mod common;

#[allow(dead_code, unreachable_pub)] // the fuzz crate's bodies; not every one is a test here
#[path = "../fuzz/src/lib.rs"]
mod bodies;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use tonic_authz::{ClaimsErrorKind, Role, fuzzing};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Applies up to `edits` random byte edits (overwrite, insert, delete) to `seed`.
fn mutate(seed: &[u8], edits: &[(u16, u8, u8)]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for &(at, op, byte) in edits {
        let at = usize::from(at) % (out.len() + 1);
        match op % 3 {
            0 if at < out.len() => out[at] = byte,
            1 => out.insert(at, byte),
            _ if at < out.len() => {
                out.remove(at);
            }
            _ => out.push(byte),
        }
    }
    out
}

fn edits() -> impl Strategy<Value = Vec<(u16, u8, u8)>> {
    prop::collection::vec(any::<(u16, u8, u8)>(), 0..6)
}

/// Frame reader seeds: byte 0 (mode), byte 1 (chunk seed), then a body.
fn frame_seeds() -> Vec<Vec<u8>> {
    let msg = [0x0a, 3, b'a', b'b', b'c', 0x10, 1];
    let gz = common::grpc::gzip(&msg);
    let bomb = common::grpc::gzip(&[0u8; 100_000]);
    let mut seeds = Vec::new();
    for mode in [0u8, 1, 2, 3, 4, 8, 12, 18, 22, 26, 30] {
        for body in [
            common::grpc::frame(&msg),
            common::grpc::frame_with_flag(1, &gz),
            common::grpc::frame_with_flag(1, &bomb),
            [common::grpc::frame(&msg), common::grpc::frame(b"")].concat(),
            common::grpc::frame(b""),
            vec![0, 0, 0],
        ] {
            seeds.push([&[mode, mode.wrapping_mul(37)], &body[..]].concat());
        }
    }
    seeds
}

fn jwt(header: &str, payload: &str, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

fn token_seeds() -> Vec<Vec<u8>> {
    let header = r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#;
    let payload = r#"{"sub":"alice","aud":["temporal"],"iss":"https://issuer.test/","exp":1900000000,"permissions":["default:read","temporal-system:admin"]}"#;
    let token = jwt(header, payload, b"sig");
    vec![
        [b"\x00Bearer ", token.as_bytes()].concat(),
        [b"\x02bearer ", token.as_bytes()].concat(),
        [
            &b"\x03"[..],
            header.as_bytes(),
            b"\xff",
            payload.as_bytes(),
            b"\xffsig",
        ]
        .concat(),
        [
            &b"\x01"[..],
            br#"{"alg":"none","kid":"k"}"#,
            b"\xff",
            br#"{"sub":1,"exp":"x","permissions":[1,"a:b:c",":read","ns:"]}"#,
        ]
        .concat(),
    ]
}

fn jwks_seeds() -> Vec<Vec<u8>> {
    vec![
        br#"{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"},{"kty":"EC","crv":"P-256","x":"AA","y":"AA"},{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},{"kty":"oct","k":"c2VjcmV0"},7,{"kid":3}]}"#.to_vec(),
        br#"{"keys":[]}"#.to_vec(),
        br#"{"keys":{}}"#.to_vec(),
        br#"[]"#.to_vec(),
    ]
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn frame_reader_on_random_bytes(data in prop::collection::vec(any::<u8>(), 0..64)) {
        bodies::frame_reader(&data);
    }

    #[test]
    fn namespace_scan_on_random_bytes(data in prop::collection::vec(any::<u8>(), 0..64)) {
        bodies::namespace_scan(&data);
    }

    #[test]
    fn token_on_random_bytes(data in prop::collection::vec(any::<u8>(), 0..96)) {
        bodies::token(&data);
    }

    #[test]
    fn jwks_on_random_bytes(data in prop::collection::vec(any::<u8>(), 0..96)) {
        bodies::jwks(&data);
    }
}

fn config_seeds() -> Vec<Vec<u8>> {
    [
        include_str!("../examples/config/jwt.yaml"),
        include_str!("../examples/config/mtls.yaml"),
        include_str!("../examples/config/jwt-mtls.yaml"),
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

proptest! {
    #![proptest_config(config(1500))]

    #[test]
    fn config_on_mutated_files(pick in any::<prop::sample::Index>(), e in edits()) {
        let seeds = config_seeds();
        bodies::config(&mutate(pick.get::<Vec<u8>>(&seeds), &e));
    }

    #[test]
    fn config_on_random_text(text in "\\PC{0,80}") {
        bodies::config(text.as_bytes());
    }

    #[test]
    fn frame_reader_on_mutated_frames(pick in any::<prop::sample::Index>(), e in edits()) {
        let seeds = frame_seeds();
        bodies::frame_reader(&mutate(pick.get::<Vec<u8>>(&seeds), &e));
    }

    #[test]
    fn token_on_mutated_tokens(pick in any::<prop::sample::Index>(), e in edits()) {
        let seeds = token_seeds();
        bodies::token(&mutate(pick.get::<Vec<u8>>(&seeds), &e));
    }

    #[test]
    fn jwks_on_mutated_documents(pick in any::<prop::sample::Index>(), e in edits()) {
        let seeds = jwks_seeds();
        bodies::jwks(&mutate(pick.get::<Vec<u8>>(&seeds), &e));
    }

    /// Any string that is not `<scheme> <rest>` with scheme `bearer` (any case) is a malformed
    /// header; an empty header gives no claims at all.
    #[test]
    fn header_split(header in "\\PC{0,40}") {
        let result = fuzzing::token(&header, 0, "", None);
        let scheme_ok = header
            .split_once(' ')
            .is_some_and(|(s, _)| s.eq_ignore_ascii_case("bearer"));
        if header.is_empty() {
            prop_assert!(matches!(result, Ok(None)));
        } else if !scheme_ok {
            let kind = result.map(|_| ()).unwrap_err().kind();
            prop_assert_eq!(kind, ClaimsErrorKind::MalformedHeader);
        } else {
            // Random text after the scheme is never a JWT.
            prop_assert!(result.is_err());
        }
    }

    /// A well-formed token with a string subject, any permissions of the form `ns:role`, and
    /// valid times parses to exactly those claims, whatever the scheme's case; the same token
    /// with one segment dropped, or an extra one, is malformed.
    #[test]
    fn well_formed_tokens_parse(
        scheme in "[bB][eE][aA][rR][eE][rR]",
        sub in "[a-z0-9@.]{0,12}",
        ns in "[a-z][a-z0-9-]{0,10}",
        role in prop::sample::select(vec!["read", "write", "admin", "worker", "READ", "bogus"]),
        kid in "\\PC{0,12}",
        sig in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let header = serde_json::json!({"alg": "ES256", "kid": kid}).to_string();
        let payload = serde_json::json!({
            "sub": sub, "exp": 1_900_000_000, "permissions": [format!("{ns}:{role}")]
        }).to_string();
        let token = jwt(&header, &payload, &sig);
        let claims = fuzzing::token(&format!("{scheme} {token}"), 1_800_000_000, "", None)
            .map_err(|e| TestCaseError::fail(e.to_string()))?
            .ok_or_else(|| TestCaseError::fail("no claims"))?;
        prop_assert_eq!(claims.subject(), sub.as_str());
        let expected = Role::from_permission_name(role);
        prop_assert_eq!(claims.namespace_role(&ns), expected);

        let (two, _) = token.rsplit_once('.').ok_or_else(|| TestCaseError::fail("dots"))?;
        for bad in [two.to_owned(), format!("{token}.x")] {
            let kind = fuzzing::token(&format!("{scheme} {bad}"), 0, "", None)
                .map(|_| ())
                .unwrap_err()
                .kind();
            prop_assert_eq!(kind, ClaimsErrorKind::MalformedToken);
        }
    }
}

/// The seeds themselves pass, and hit the paths they were written for.
#[test]
fn seeds_reach_their_paths() {
    for seed in frame_seeds() {
        bodies::frame_reader(&seed);
    }
    // mode 2: gzip, limit 0 -> the gzip seed is over the limit; mode 10: gzip, 1 KiB limit.
    let gz = common::grpc::frame_with_flag(1, &common::grpc::gzip(&[0x0a, 1, b'x']));
    let ok = fuzzing::first_message(&[&gz], false, Some(b"gzip"), 1024)
        .expect("ready body")
        .expect("valid gzip frame");
    assert_eq!(&ok.message[..], &[0x0a, 1, b'x']);
    let bomb = common::grpc::frame_with_flag(1, &common::grpc::gzip(&[0u8; 100_000]));
    let err = fuzzing::first_message(&[&bomb], false, Some(b"gzip"), 1024)
        .expect("ready body")
        .unwrap_err();
    assert_eq!(err.0, tonic::Code::ResourceExhausted);
    for seed in token_seeds() {
        bodies::token(&seed);
    }
    let claims = fuzzing::token(
        std::str::from_utf8(&token_seeds()[0][1..]).expect("ascii"),
        1_800_000_000,
        "temporal",
        Some("https://issuer.test/"),
    )
    .expect("valid seed")
    .expect("claims");
    assert_eq!(claims.subject(), "alice");
    assert_eq!(claims.system(), Role::ADMIN);
    for seed in jwks_seeds() {
        bodies::jwks(&seed);
    }
    assert_eq!(
        fuzzing::jwks(&jwks_seeds()[0]).map(|(k, s)| k + s).ok(),
        Some(6)
    );
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn api_key_file_on_random_bytes(data in prop::collection::vec(any::<u8>(), 0..96)) {
        bodies::api_key_file(&data);
    }

    #[test]
    fn api_key_file_on_mutated_entries(text in "(- sha256: [0-9a-f]{0,64}\n  subject: [a-z ]{0,4}\n  permissions: \\[[a-z:,]{0,12}\\]\n){0,3}") {
        bodies::api_key_file(text.as_bytes());
    }

    #[test]
    fn discovery_on_random_documents(pick in any::<u8>(), issuer in "(https://idp.example|http://127.0.0.1:8080|x)", uri in "(https?|file|ftp)://[a-z.]{0,8}/?") {
        let doc = format!(r#"{{"issuer":"{issuer}","jwks_uri":"{uri}"}}"#);
        let mut data = vec![pick];
        data.extend_from_slice(doc.as_bytes());
        bodies::discovery(&data);
    }

    #[test]
    fn claim_paths_on_random_payloads(path in "[a-z.\\\\]{0,8}", payload in r#"\{("[a-z.]{1,3}": ?(\["[a-z :]{0,5}"\]|"[a-z :]{0,6}"|\{"[a-z]": ?\["[a-z ]{0,4}"\]\}|7),?){0,3}\}"#) {
        bodies::claim_path(format!("{path}\n{payload}").as_bytes());
    }
}
