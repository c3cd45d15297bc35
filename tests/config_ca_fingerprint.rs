//! `certificateClaimRules[].caFingerprint` in the YAML config: a value that is not a SHA-256
//! fingerprint stops start-up naming the key and the file, and `AuthzLayer::from_config` warns
//! about every rule left unbound while the frontend trusts several client CAs (any of them can
//! issue the same name), and about a fingerprint no trusted CA has.

#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod common;

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use common::certs::{Ca, b64};
use tonic_authz::AuthzLayer;
use tonic_authz::CaFingerprint;
use tonic_authz::config::{ConfigErrorKind, ConfigLoader};

const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn rules_yaml(fingerprint: &str) -> String {
    format!(
        "global:\n  authorization:\n    certificateClaimRules:\n      - field: commonName\n        \
         value: a\n        permissions: [\"default:read\"]\n      - field: commonName\n        \
         value: b\n        permissions: [\"default:read\"]\n        caFingerprint: \"{fingerprint}\"\n"
    )
}

#[test]
fn a_bad_fingerprint_names_the_key_and_the_file() {
    for (value, why) in [
        (
            &HEX[..40],
            "40 hex digits, not 64 (is it a SHA-1 fingerprint?)",
        ),
        ("zz", "'z' is not a hex digit"),
        ("e3:b0:c", "each byte between colons must be two hex digits"),
        ("", "0 hex digits, not 64"),
    ] {
        let err = ConfigLoader::new()
            .source_name("conf/frontend.yaml")
            .load_str(&rules_yaml(value))
            .unwrap_err();
        assert_eq!(err.kind(), ConfigErrorKind::Parse, "{err}");
        assert_eq!(
            err.key_path(),
            Some("global.authorization.certificateClaimRules[1].caFingerprint"),
            "{err}"
        );
        assert_eq!(
            err.file()
                .map(|p| p.to_string_lossy().into_owned())
                .as_deref(),
            Some("conf/frontend.yaml")
        );
        assert!(
            err.message()
                .starts_with(&format!("invalid CA fingerprint {value:?}: {why}")),
            "{err}"
        );
        assert!(err.to_string().starts_with("conf/frontend.yaml:"), "{err}");
    }
    // The twin: the same file with a good value (colons, upper case) loads.
    let upper = HEX
        .as_bytes()
        .chunks(2)
        .map(|p| std::str::from_utf8(p).unwrap().to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(":");
    let config = ConfigLoader::new().load_str(&rules_yaml(&upper)).unwrap();
    let rules = &config.global.authorization.certificate_claim_rules;
    assert_eq!(rules[0].ca_fingerprint, None);
    assert_eq!(
        rules[1].ca_fingerprint,
        Some(HEX.parse::<CaFingerprint>().unwrap())
    );
}

/// A `tracing` writer that keeps everything written.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The warnings `AuthzLayer::from_config` logs for the config file at `path`.
fn start_up_warnings(path: &std::path::Path) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = ConfigLoader::new().load_file(path).unwrap();
    tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(AuthzLayer::from_config(&config)).unwrap()
    });
    let mut sink = captured.clone();
    sink.flush().unwrap();
    String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
}

/// A config file trusting `default_cas` on the frontend and `override_cas` on a host
/// override (none when empty), with one unbound rule and one bound to `bound`.
fn write_config(
    dir: &std::path::Path,
    default_cas: &[&Ca],
    override_cas: &[&Ca],
    bound: CaFingerprint,
) -> std::path::PathBuf {
    let server_ca = Ca::new("server-ca");
    let server = server_ca.server(&["localhost"]);
    let list = |cas: &[&Ca]| {
        cas.iter()
            .map(|ca| format!("\"{}\"", b64(&ca.pem)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let section = |cas: &[&Ca], indent: &str| {
        format!(
            "{indent}certData: \"{}\"\n{indent}keyData: \"{}\"\n{indent}clientCaData: [{}]\n\
             {indent}requireClientAuth: true\n",
            b64(&server.cert_pem),
            b64(&server.key_pem),
            list(cas)
        )
    };
    let mut yaml = format!(
        "global:\n  tls:\n    frontend:\n      server:\n{}",
        section(default_cas, "        ")
    );
    if !override_cas.is_empty() {
        yaml.push_str("      hostOverrides:\n        other.example:\n");
        yaml.push_str(&section(override_cas, "          "));
    }
    yaml.push_str(&format!(
        "  authorization:\n    certificateClaimRules:\n      - field: commonName\n        \
         value: a\n        permissions: [\"default:read\"]\n      - field: commonName\n        \
         value: b\n        permissions: [\"default:read\"]\n        caFingerprint: \"{bound}\"\n"
    ));
    let path = dir.join("frontend.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

#[test]
fn unbound_rules_are_warned_about_when_several_cas_are_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let ca_a = Ca::new("clients-a");
    let ca_b = Ca::new("clients-b");
    let a = CaFingerprint::of_der(&ca_a.der);
    let unbound = "global.authorization.certificateClaimRules[0]";

    // Two CAs on the listener: rule 0 (unbound) is warned about, rule 1 (bound to A) is not.
    let path = write_config(dir.path(), &[&ca_a, &ca_b], &[], a);
    let logs = start_up_warnings(&path);
    let expected = format!(
        "{unbound} (in {}) has no caFingerprint while global.tls.frontend trusts 2 client CAs",
        path.display()
    );
    assert!(logs.contains(&expected), "{logs}");
    assert!(logs.contains(" WARN "), "{logs}");
    assert!(!logs.contains("certificateClaimRules[1]"), "{logs}");

    // A host override bringing its own CA counts too.
    let path = write_config(dir.path(), &[&ca_a], &[&ca_b], a);
    let logs = start_up_warnings(&path);
    assert!(logs.contains("trusts 2 client CAs"), "{logs}");

    // The twin: one CA (the same CA twice counts once), no warning at all.
    let path = write_config(dir.path(), &[&ca_a], &[&ca_a], a);
    let logs = start_up_warnings(&path);
    assert!(!logs.contains("certificateClaimRules"), "{logs}");
}

#[test]
fn a_fingerprint_no_trusted_ca_has_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let ca_a = Ca::new("clients-a");
    let stranger = CaFingerprint::of_der(&Ca::new("elsewhere").der);
    let path = write_config(dir.path(), &[&ca_a], &[], stranger);
    let logs = start_up_warnings(&path);
    assert!(
        logs.contains(&format!(
            "global.authorization.certificateClaimRules[1].caFingerprint (in {}) {stranger} is \
             none of the client CAs global.tls.frontend trusts: the rule matches no certificate",
            path.display()
        )),
        "{logs}"
    );
}
