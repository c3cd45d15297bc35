//! `frontend can-i`, run as the real binary against real configuration files: a JWT caller
//! under `authorizer: cedar` with the sample workflow-type policy (allowed and denied, with the
//! deciding policy named), a reader refused a write by the default authorizer (with the role
//! it needed), a client certificate holding the Worker role, an API key, and a token of a
//! trusted issuer (its issuer and groups in the answer).

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rcgen::{CertificateParams, DnType, KeyPair, PKCS_ECDSA_P256_SHA256};
use tonic_authz_examples::dev::{SigningKey, TokenRequest};

struct Setup {
    dir: tempfile::TempDir,
    signer: SigningKey,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
    let signer = SigningKey::from_pem(&key.serialize_pem()).expect("signing key");
    fs::write(dir.path().join("jwks.json"), signer.jwks().to_string()).expect("jwks");
    let policies = ["temporal-default.cedar", "workflow-types.cedar"]
        .map(|f| {
            fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("policies")
                    .join(f),
            )
            .expect("sample policy")
        })
        .join("\n");
    fs::write(dir.path().join("policies.cedar"), policies).expect("policies");
    Setup { dir, signer }
}

impl Setup {
    fn config(&self, name: &str, extra: &str) -> String {
        let path = self.dir.path().join(name);
        let jwks = self.dir.path().join("jwks.json");
        fs::write(
            &path,
            format!(
                "global:\n  authorization:\n    jwtKeyProvider:\n      keySourceURIs: [\"file://{}\"]\n{extra}",
                jwks.display()
            ),
        )
        .expect("config");
        path.display().to_string()
    }

    fn token(&self, subject: &str, permission: &str) -> String {
        self.signer
            .mint(&TokenRequest::new(
                subject,
                [permission],
                Duration::from_secs(600),
            ))
            .expect("token")
    }
}

fn can_i(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_frontend"))
        .arg("can-i")
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
}

#[test]
fn cedar_policies_are_named_in_the_answer() {
    let s = setup();
    let policies = s.dir.path().join("policies.cedar");
    let config = s.config(
        "cedar.yaml",
        &format!(
            "    authorizer: cedar\n    cedar:\n      policyFile: {}\n      reloadInterval: 0s\n",
            policies.display()
        ),
    );
    let token = s.token("orders-team", "default:write");
    let base = [
        "--config",
        &config,
        "--token",
        &token,
        "--api",
        "StartWorkflowExecution",
        "--namespace",
        "default",
    ];
    let (code, out) = can_i(&[&base[..], &["--field", "workflowType=OrderWorkflow"]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("decision: allowed"), "{out}");
    assert!(out.contains("subject=\"orders-team\""), "{out}");
    assert!(out.contains("permitted by namespace-write"), "{out}");

    let (code, out) = can_i(&[&base[..], &["--field", "workflowType=PayrollWorkflow"]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("decision: denied"), "{out}");
    assert!(
        out.contains("forbidden by orders-team-workflow-types"),
        "{out}"
    );

    let (code, out) = can_i(&[&base[..], &["--field", "signalName=x"]].concat());
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("has no request field \"signalName\""), "{out}");
}

#[test]
fn the_default_authorizer_says_which_role_was_needed() {
    let s = setup();
    let config = s.config("default.yaml", "");
    let token = s.token("reader", "default:read");
    let args = |api: &'static str| {
        vec![
            "--config".to_owned(),
            config.clone(),
            "--token".to_owned(),
            token.clone(),
            "--api".to_owned(),
            api.to_owned(),
            "--namespace".to_owned(),
            "default".to_owned(),
        ]
    };
    let run = |a: Vec<String>| can_i(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let (code, out) = run(args("StartWorkflowExecution"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("needs: role writer or above in \"default\""),
        "{out}"
    );
    assert!(out.contains("caller has reader"), "{out}");
    let (code, out) = run(args("DescribeNamespace"));
    assert_eq!(code, 0, "{out}");
    // A forged token is refused by the claim mapper.
    let mut forged = args("DescribeNamespace");
    forged[3].push('x');
    let (code, out) = run(forged);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("refused by the claim mapper"), "{out}");
}

#[test]
fn a_certificate_with_the_worker_role() {
    let s = setup();
    let config = s.config(
        "cert.yaml",
        "    workerRole: true\n    certificateClaimRules:\n      - field: commonName\n        value: orders-worker\n        permissions: [\"default:worker\"]\n",
    );
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(DnType::CommonName, "orders-worker");
    let cert = params.self_signed(&key).expect("cert");
    let cert_file = s.dir.path().join("worker.pem");
    fs::write(&cert_file, cert.pem()).expect("cert file");
    let cert_file = cert_file.display().to_string();
    let ask = |api: &str| {
        can_i(&[
            "--config",
            &config,
            "--cert",
            &cert_file,
            "--api",
            api,
            "--namespace",
            "default",
        ])
    };
    let (code, out) = ask("PollWorkflowTaskQueue");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("with the Worker role"), "{out}");
    let (code, out) = ask("StartWorkflowExecution");
    assert_eq!(code, 1, "{out}");
}

fn frontend(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_frontend"))
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_api_key_allowed_and_denied() {
    let s = setup();
    let keys = s.dir.path().join("api-keys.yaml");
    let keys_arg = keys.display().to_string();
    let (code, key, err) = frontend(&[
        "api-key",
        "create",
        "--file",
        &keys_arg,
        "--permission",
        "default:read",
        "--subject",
        "ci-reader",
        "--ttl",
        "1h",
    ]);
    assert_eq!(code, 0, "{err}");
    let key = key.trim().to_owned();
    let config = s.config(
        "api-keys.yaml.conf",
        &format!("    apiKeys:\n      file: {keys_arg}\n      reloadInterval: 0s\n"),
    );
    let ask = |key: &str, api: &str| {
        can_i(&[
            "--config",
            &config,
            "--api-key",
            key,
            "--api",
            api,
            "--namespace",
            "default",
        ])
    };
    let (code, out) = ask(&key, "DescribeNamespace");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("decision: allowed"), "{out}");
    assert!(
        out.contains("subject=\"ci-reader\" authType=\"api-key\""),
        "{out}"
    );
    let (code, out) = ask(&key, "StartWorkflowExecution");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("decision: denied"), "{out}");
    assert!(out.contains("caller has reader"), "{out}");
    // A key that is not in the file is refused by the claim mapper.
    let (code, out) = ask("tak_not-a-key-in-the-file", "DescribeNamespace");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("refused by the claim mapper"), "{out}");
    // A token and a key at once is a usage error.
    let token = s.token("reader", "default:read");
    let (code, out) = can_i(&[
        "--config",
        &config,
        "--api-key",
        &key,
        "--token",
        &token,
        "--api",
        "DescribeNamespace",
    ]);
    assert_eq!(code, 2, "{out}");
}

#[test]
fn a_trusted_issuer_token_shows_its_issuer_and_groups() {
    let s = setup();
    let jwks = s.dir.path().join("acme-jwks.json");
    let config = s.dir.path().join("issuers.yaml");
    fs::write(
        &config,
        format!(
            "global:\n  authorization:\n    issuers:\n      - issuer: https://idp.example/realms/acme\n        keySourceURIs: [\"file://{}\"]\n        groupPermissions:\n          team-payments: [\"payments:write\"]\n",
            jwks.display()
        ),
    )
    .expect("config");
    let config = config.display().to_string();
    let key = tonic_authz_testkit::jwt::TestKey::p256();
    fs::write(
        &jwks,
        tonic_authz_testkit::jwt::jwks(&[key.jwk_with_kid("acme")]),
    )
    .expect("jwks");
    let token = |iss: &str| {
        key.sign(
            "acme",
            &serde_json::json!({
                "iss": iss,
                "sub": "alice",
                "exp": tonic_authz_testkit::jwt::unix_now() + 600,
                "permissions": ["default:read", "team-payments", "ops"],
            }),
        )
    };
    let ask = |token: &str| {
        can_i(&[
            "--config",
            &config,
            "--token",
            token,
            "--api",
            "DescribeNamespace",
            "--namespace",
            "default",
        ])
    };
    let (code, out) = ask(&token("https://idp.example/realms/acme"));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("authType=\"jwt\" issuer=\"https://idp.example/realms/acme\""),
        "{out}"
    );
    assert!(
        out.contains(
            "namespaces=[default:reader, payments:writer] groups=[\"team-payments\", \"ops\"]"
        ),
        "{out}"
    );
    // Deny twin: the same key under an issuer the configuration does not trust.
    let (code, out) = ask(&token("https://idp.example/realms/other"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("untrusted issuer"), "{out}");
}
