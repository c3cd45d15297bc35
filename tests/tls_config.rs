//! The TLS configuration: Temporal's YAML shape, start-up validation with Temporal's texts
//! (spec F.2 and G.6), enablement rules (F.3), loading errors naming field and file, and
//! certificate expiration checks (F.8).

#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

mod common;

use std::time::Duration;

use common::certs::{Ca, b64, write};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use tonic_authz::tls::{ExpirationChecks, GlobalTls, GroupTls, TlsAcceptor, TlsErrorKind};

fn global(json: serde_json::Value) -> GlobalTls {
    serde_json::from_value(json).unwrap()
}

/// The validation error text for `section` placed at `path` (e.g. `frontend.server`).
fn error_at(path: &str, section: serde_json::Value) -> Option<String> {
    let mut value = section;
    for key in path.rsplit('.') {
        value = serde_json::json!({ key: value });
    }
    global(value).validate().err().map(|e| e.to_string())
}

#[test]
fn temporal_yaml_shape_deserializes() {
    let yaml = r#"
internode:
  server:
    certFile: /certs/internode.pem
    keyFile: /certs/internode.key
    requireClientAuth: true
    clientCaFiles: [/certs/ca.pem]
  client:
    serverName: internode.example.com
    rootCaFiles: [/certs/ca.pem]
frontend:
  server:
    certData: Zm9v
    keyData: YmFy
    clientCaData: [Y2E=]
  client:
    serverName: frontend.example.com
    disableHostVerification: false
    forceTLS: true
  hostOverrides:
    api.example.com:
      certFile: /certs/api.pem
      keyFile: /certs/api.key
systemWorker:
  certFile: /certs/worker.pem
  keyFile: /certs/worker.key
  client:
    serverName: frontend.example.com
remoteClusters:
  "*.temporal.cloud":
    client:
      forceTLS: true
refreshInterval: 1m
expirationChecks:
  warningWindow: 720h
  errorWindow: 72h
  checkInterval: 1h
"#;
    let tls: GlobalTls = serde_saphyr::from_str(yaml).unwrap();
    assert_eq!(tls.refresh_interval, Duration::from_secs(60));
    assert_eq!(
        tls.expiration_checks.warning_window,
        Duration::from_secs(720 * 3600)
    );
    assert_eq!(
        tls.expiration_checks.error_window,
        Duration::from_secs(72 * 3600)
    );
    assert_eq!(
        tls.expiration_checks.check_interval,
        Duration::from_secs(3600)
    );
    assert!(tls.internode.server.require_client_auth);
    assert_eq!(tls.internode.client.server_name, "internode.example.com");
    assert!(tls.frontend.client.force_tls);
    assert_eq!(tls.frontend.server.client_ca_data, vec!["Y2E="]);
    assert_eq!(
        tls.frontend.host_overrides["api.example.com"].cert_file,
        "/certs/api.pem"
    );
    assert!(tls.system_worker.is_configured());
    assert!(tls.remote_clusters["*.temporal.cloud"].client.force_tls);
    assert_eq!(tls.validate().map_err(|e| e.to_string()), Ok(()));

    // Defaults: everything off; unknown keys refused.
    let empty: GlobalTls = serde_saphyr::from_str("{}").unwrap();
    assert_eq!(empty, GlobalTls::default());
    let err = serde_saphyr::from_str::<GlobalTls>("frontend:\n  server:\n    certfile: x\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `certfile`"), "{err}");
}

#[test]
fn is_enabled_follows_temporal() {
    // G.6 IsEnabled table.
    let rows = [
        (serde_json::json!({}), false, false),
        (serde_json::json!({"server": {"keyFile": "k"}}), true, false),
        (serde_json::json!({"server": {"keyData": "k"}}), true, false),
        (
            serde_json::json!({"client": {"rootCaFiles": ["a"]}}),
            false,
            true,
        ),
        (
            serde_json::json!({"client": {"rootCaData": ["a"]}}),
            false,
            true,
        ),
        (
            serde_json::json!({"client": {"forceTLS": true}}),
            false,
            true,
        ),
        (
            serde_json::json!({"client": {"forceTLS": false}}),
            false,
            false,
        ),
    ];
    for (json, server, client) in rows {
        let g: GroupTls = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(g.server.is_enabled(), server, "{json}");
        assert_eq!(g.client.is_enabled(), client, "{json}");
    }
    // isSystemWorker.
    let worker = |json: serde_json::Value| {
        global(serde_json::json!({ "systemWorker": json }))
            .system_worker
            .is_configured()
    };
    assert!(!worker(serde_json::json!({})));
    assert!(worker(serde_json::json!({"certFile": "c"})));
    assert!(worker(serde_json::json!({"certData": "c"})));
    assert!(worker(serde_json::json!({"client": {"rootCaData": ["c"]}})));
    assert!(worker(
        serde_json::json!({"client": {"rootCaFiles": ["c"]}})
    ));
    assert!(worker(serde_json::json!({"client": {"forceTLS": true}})));
    assert!(!worker(serde_json::json!({"client": {"forceTLS": false}})));
}

#[test]
fn cert_and_key_file_and_data_together_are_refused() {
    for group in ["internode", "frontend"] {
        let at = format!("{group}.server");
        let ok = |s: serde_json::Value| assert_eq!(error_at(&at, s.clone()), None, "{s}");
        ok(serde_json::json!({}));
        ok(serde_json::json!({"certFile": "c", "keyFile": "k"}));
        ok(serde_json::json!({"certData": "c", "keyData": "k"}));
        assert_eq!(
            error_at(
                &at,
                serde_json::json!({"certFile": "c", "certData": "c", "keyFile": "k"})
            ),
            Some(format!(
                "{at}: cannot specify CertFile and CertData at the same time"
            ))
        );
        assert_eq!(
            error_at(
                &at,
                serde_json::json!({"certFile": "c", "keyFile": "k", "keyData": "k"})
            ),
            Some(format!(
                "{at}: cannot specify KeyFile and KeyData at the same time"
            ))
        );
        // Ours: a certificate without a key (Temporal would silently serve plaintext).
        assert_eq!(
            error_at(&at, serde_json::json!({"certFile": "c"})),
            Some(format!(
                "{at}: cannot specify CertFile or CertData without KeyFile or KeyData"
            ))
        );
        assert_eq!(
            error_at(&at, serde_json::json!({"keyData": "k"})),
            Some(format!(
                "{at}: cannot specify KeyFile or KeyData without CertFile or CertData"
            ))
        );
    }
    assert_eq!(
        error_at(
            "systemWorker",
            serde_json::json!({"certFile": "c", "certData": "c"})
        ),
        Some("systemWorker: cannot specify CertFile and CertData at the same time".to_owned())
    );
    assert_eq!(
        error_at(
            "systemWorker",
            serde_json::json!({"keyFile": "k", "keyData": "k", "certFile": "c"})
        ),
        Some("systemWorker: cannot specify KeyFile and KeyData at the same time".to_owned())
    );
}

#[test]
fn ca_lists_follow_temporal() {
    let cases = [
        ("server", "clientCaData", "ServerTLS.ClientCAData"),
        ("server", "clientCaFiles", "ServerTLS.ClientCAFiles"),
        ("client", "rootCaData", "ClientTLS.RootCAData"),
        ("client", "rootCaFiles", "ClientTLS.RootCAFiles"),
    ];
    for group in ["internode", "frontend"] {
        for (side, key, temporal) in cases {
            let at = format!("{group}.{side}");
            for ok in [
                serde_json::json!([]),
                serde_json::json!(["foo"]),
                serde_json::json!(["foo", "bar"]),
            ] {
                assert_eq!(
                    error_at(&at, serde_json::json!({ key: ok })),
                    None,
                    "{at}.{key}"
                );
            }
            for bad in [serde_json::json!(["foo", " "]), serde_json::json!([""])] {
                assert_eq!(
                    error_at(&at, serde_json::json!({ key: bad })),
                    Some(format!(
                        "{at}.{key}: invalid {temporal}: CA cannot be empty string"
                    ))
                );
            }
        }
        assert_eq!(
            error_at(
                &format!("{group}.server"),
                serde_json::json!({"clientCaFiles": ["a"], "clientCaData": ["b"]})
            ),
            Some(format!(
                "{group}.server: cannot specify ClientCAFiles and ClientCAData at the same time"
            ))
        );
        assert_eq!(
            error_at(
                &format!("{group}.client"),
                serde_json::json!({"rootCaFiles": ["a"], "rootCaData": ["b"]})
            ),
            Some(format!(
                "{group}.client: cannot specify RootCAFiles and RootCAData at the same time"
            ))
        );
    }
    assert_eq!(
        error_at("systemWorker.client", serde_json::json!({"rootCaData": [""]})),
        Some(
            "systemWorker.client.rootCaData: invalid ClientTLS.RootCAData: CA cannot be empty string"
                .to_owned()
        )
    );
}

#[test]
fn host_overrides_are_validated() {
    assert_eq!(
        error_at("frontend.hostOverrides", serde_json::json!({" ": {}})),
        Some("frontend.hostOverrides: host name cannot be empty string".to_owned())
    );
    assert_eq!(
        error_at(
            "frontend.hostOverrides",
            serde_json::json!({"api.example.com": {"certFile": "a", "certData": "b", "keyFile": "k"}})
        ),
        Some(
            "frontend.hostOverrides.api.example.com: cannot specify CertFile and CertData at the same time"
                .to_owned()
        )
    );
    assert_eq!(
        error_at(
            "frontend.hostOverrides",
            serde_json::json!({"api.example.com": {"clientCaData": [""]}})
        ),
        Some(
            "frontend.hostOverrides.api.example.com.clientCaData: invalid ServerTLS.ClientCAData: CA cannot be empty string"
                .to_owned()
        )
    );
}

#[test]
fn require_client_auth_without_client_cas_is_refused() {
    assert_eq!(
        error_at(
            "frontend.server",
            serde_json::json!({"certFile": "c", "keyFile": "k", "requireClientAuth": true})
        ),
        Some(
            "frontend.server.requireClientAuth: requireClientAuth needs clientCaFiles or clientCaData"
                .to_owned()
        )
    );
}

#[test]
fn loading_errors_name_the_field_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("ca");
    let leaf = ca.server(&["localhost"]);
    let cert = write(dir.path(), "server.pem", &leaf.cert_pem);
    let key = write(dir.path(), "server.key", &leaf.key_pem);
    let missing = dir.path().join("missing.pem").to_str().unwrap().to_owned();
    let garbage = write(dir.path(), "garbage.pem", "hello\n");
    let load = |server: serde_json::Value| {
        let g: GroupTls = serde_json::from_value(serde_json::json!({ "server": server })).unwrap();
        TlsAcceptor::new(&g).map(|_| ()).unwrap_err()
    };

    let err = load(serde_json::json!({"certFile": missing, "keyFile": key}));
    assert_eq!(
        err.to_string(),
        format!("server.certFile: cannot read {missing}: No such file or directory (os error 2)")
    );
    assert_eq!(err.kind(), TlsErrorKind::Read);
    assert_eq!(err.path(), Some(std::path::Path::new(&missing)));

    let err = load(serde_json::json!({"certFile": garbage, "keyFile": key}));
    assert_eq!(
        err.to_string(),
        format!("server.certFile: no PEM certificate in {garbage}")
    );
    assert_eq!(err.kind(), TlsErrorKind::Parse);

    let err = load(serde_json::json!({"certFile": cert, "keyFile": garbage}));
    assert!(
        err.to_string().starts_with(&format!(
            "server.keyFile: no usable PEM private key in {garbage}: "
        )),
        "{err}"
    );
    assert_eq!(err.path(), Some(std::path::Path::new(&garbage)));

    // A certificate where the key should be never echoes the file's content.
    let err = load(serde_json::json!({"certFile": cert, "keyFile": cert}));
    assert_eq!(err.field(), "server.keyFile");

    let err = load(serde_json::json!({"certData": "not base64!", "keyData": b64(&leaf.key_pem)}));
    assert!(
        err.to_string()
            .starts_with("server.certData: invalid base64: "),
        "{err}"
    );
    assert_eq!(err.path(), None);

    let err = load(serde_json::json!({
        "certFile": cert, "keyFile": key, "requireClientAuth": true,
        "clientCaData": [b64(&ca.pem), b64("no pem here")],
    }));
    assert_eq!(
        err.to_string(),
        "server.clientCaData[1]: no PEM certificate in data"
    );

    let err = load(serde_json::json!({
        "certFile": cert, "keyFile": key, "clientCaFiles": [missing],
    }));
    assert_eq!(
        err.to_string(),
        format!(
            "server.clientCaFiles[0]: cannot read {missing}: No such file or directory (os error 2)"
        )
    );

    let other_key = ca.server(&["x"]).key_pem;
    let other_key = write(dir.path(), "other.key", &other_key);
    let err = load(serde_json::json!({"certFile": cert, "keyFile": other_key}));
    assert_eq!(err.kind(), TlsErrorKind::Build);
    assert!(
        err.to_string()
            .starts_with("server.keyFile: unusable certificate and key: "),
        "{err}"
    );

    let err = load(serde_json::json!({}));
    assert_eq!(
        err.to_string(),
        "server: server TLS is off: set keyFile or keyData"
    );
}

#[test]
fn expiration_checks_count_log_and_set_gauges() {
    let dir = tempfile::tempdir().unwrap();
    let day = time::Duration::days(1);
    let ca = Ca::new("server-ca");
    // The server certificate expires in 2 days: inside the error window.
    let server = ca
        .leaf()
        .cn("server")
        .dns("localhost")
        .validity(-day, day * 2)
        .sign();
    // One client CA expires in 10 days (warning window), one has expired, one is fine.
    let soon = Ca::with_validity("soon", -day, day * 10);
    let gone = Ca::with_validity("gone", -day * 30, -day);
    let fine = Ca::new("fine");
    let g: GroupTls = serde_json::from_value(serde_json::json!({ "server": {
        "certFile": write(dir.path(), "s.pem", &server.cert_pem),
        "keyFile": write(dir.path(), "s.key", &server.key_pem),
        "clientCaData": [b64(&soon.pem), b64(&gone.pem), b64(&fine.pem)],
        "requireClientAuth": true,
    }}))
    .unwrap();
    let acceptor = TlsAcceptor::new(&g).unwrap();

    let checks: ExpirationChecks = serde_json::from_value(serde_json::json!({
        "warningWindow": "720h", "errorWindow": "72h", "checkInterval": "1h"
    }))
    .unwrap();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let report = metrics::with_local_recorder(&recorder, || acceptor.check_expiration(&checks));
    assert_eq!((report.expired, report.expiring), (1, 2));
    let mut gauges: Vec<(String, Vec<String>, f64)> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let labels = key
                .key()
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            let DebugValue::Gauge(v) = value else {
                panic!("not a gauge")
            };
            (key.key().name().to_owned(), labels, v.into_inner())
        })
        .collect();
    gauges.sort_by(|a, b| a.0.cmp(&b.0));
    // The time left on the certificate that expires first: the one that expired a day ago.
    let earliest = gauges.pop().unwrap();
    assert_eq!(earliest.0, "tonic_authz_certificate_expiry_seconds");
    assert!((-86_410.0..-86_390.0).contains(&earliest.2), "{earliest:?}");
    assert_eq!(
        gauges,
        vec![
            (
                "certificates_expired".to_owned(),
                vec!["operation=ServerTls".to_owned()],
                1.0
            ),
            (
                "certificates_expiring".to_owned(),
                vec!["operation=ServerTls".to_owned()],
                2.0
            ),
        ]
    );

    // Only the error window: it becomes the window. The 10-day CA is then not flagged.
    let only_error = serde_json::from_value(serde_json::json!({"errorWindow": "72h"})).unwrap();
    let report = acceptor.check_expiration(&only_error);
    assert_eq!((report.expired, report.expiring), (1, 1));
    // No window at all: nothing is checked.
    let report = acceptor.check_expiration(&ExpirationChecks::default());
    assert_eq!((report.expired, report.expiring), (0, 0));
}
