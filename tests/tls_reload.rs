//! Certificate reload without a restart: files replaced on disk take effect for new
//! connections, open connections keep working, and a broken file keeps the old material.

#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::certs::{Ca, write};
use common::tls::{
    check, check_on, connect, refusal, rustls_client, serve, server_cert, tonic_tls,
};
use rustls::AlertDescription;
use tonic_authz::tls::{GroupTls, TlsAcceptor, TlsErrorKind};
use tonic_health::pb::health_check_response::ServingStatus;

struct Files {
    dir: tempfile::TempDir,
    cert: String,
    key: String,
    ca: String,
}

fn files(server: &common::certs::Leaf, client_ca: &Ca) -> (Files, GroupTls) {
    let dir = tempfile::tempdir().unwrap();
    let cert = write(dir.path(), "server.pem", &server.cert_pem);
    let key = write(dir.path(), "server.key", &server.key_pem);
    let ca = write(dir.path(), "clients.pem", &client_ca.pem);
    let group: GroupTls = serde_json::from_value(serde_json::json!({
        "server": {
            "certFile": cert, "keyFile": key, "clientCaFiles": [ca], "requireClientAuth": true,
        }
    }))
    .unwrap();
    (Files { dir, cert, key, ca }, group)
}

#[tokio::test]
async fn reload_switches_new_connections_and_keeps_open_ones() {
    let server_ca_1 = Ca::new("server-ca-1");
    let client_ca_1 = Ca::new("client-ca-1");
    let server_1 = server_ca_1.server(&["localhost"]);
    let client_1 = client_ca_1.client("worker-old");
    let (f, group) = files(&server_1, &client_ca_1);
    let acceptor = TlsAcceptor::new(&group).unwrap();
    let served = serve(&acceptor).await;

    // An open connection from before the rotation.
    let old = connect(
        served.addr,
        tonic_tls(&server_ca_1, "localhost", Some(&client_1)),
    )
    .await
    .unwrap();
    assert_eq!(check_on(&old).await.unwrap(), ServingStatus::Serving);
    assert!(!acceptor.reload_now().unwrap(), "nothing changed yet");

    // Rotate everything: new server certificate from a new CA, new client CA.
    let server_ca_2 = Ca::new("server-ca-2");
    let client_ca_2 = Ca::new("client-ca-2");
    let server_2 = server_ca_2.server(&["localhost"]);
    std::fs::write(&f.cert, &server_2.cert_pem).unwrap();
    std::fs::write(&f.key, &server_2.key_pem).unwrap();
    std::fs::write(&f.ca, &client_ca_2.pem).unwrap();
    assert!(acceptor.reload_now().unwrap());

    // New connections get the new certificate ...
    let client_2 = client_ca_2.client("worker-new");
    assert_eq!(
        server_cert(
            served.addr,
            rustls_client(&server_ca_2, Some(&client_2)),
            "localhost"
        )
        .await,
        server_2.der
    );
    // ... a client signed by the new CA is accepted ...
    let status = check(
        served.addr,
        tonic_tls(&server_ca_2, "localhost", Some(&client_2)),
    )
    .await
    .unwrap();
    assert_eq!(status, ServingStatus::Serving);
    // ... one signed by the old CA is not ...
    assert_eq!(
        refusal(
            served.addr,
            rustls_client(&server_ca_2, Some(&client_1)),
            "localhost"
        )
        .await,
        Some(rustls::Error::AlertReceived(AlertDescription::UnknownCA))
    );
    // ... and the old connection still works (a reconnect would fail: it trusts only the old
    // server CA, which no longer signs the server certificate).
    assert_eq!(check_on(&old).await.unwrap(), ServingStatus::Serving);

    let seen = served.seen.lock().unwrap();
    let names: Vec<_> = seen
        .iter()
        .map(|s| s.as_ref().unwrap().0.common_name.clone())
        .collect();
    assert_eq!(names, vec!["worker-old", "worker-new", "worker-old"]);
}

#[tokio::test]
async fn a_broken_file_keeps_the_old_material() {
    let server_ca = Ca::new("server-ca");
    let client_ca = Ca::new("client-ca");
    let server = server_ca.server(&["localhost"]);
    let (f, group) = files(&server, &client_ca);
    let acceptor = TlsAcceptor::new(&group).unwrap();
    let served = serve(&acceptor).await;

    std::fs::write(&f.cert, "-----BEGIN CERTIFICATE-----\nnot base64!\n").unwrap();
    let err = acceptor.reload_now().unwrap_err();
    assert_eq!(err.field(), "server.certFile");
    assert_eq!(err.path(), Some(std::path::Path::new(&f.cert)));
    assert_eq!(err.kind(), TlsErrorKind::Parse);
    assert!(
        err.to_string()
            .starts_with(&format!("server.certFile: invalid PEM in {}: ", f.cert)),
        "{err}"
    );

    // A CA file that vanished: same, the old material stays.
    std::fs::write(&f.cert, &server.cert_pem).unwrap();
    std::fs::remove_file(&f.ca).unwrap();
    let err = acceptor.reload_now().unwrap_err();
    assert_eq!(err.kind(), TlsErrorKind::Read);
    assert_eq!(
        err.to_string(),
        format!(
            "server.clientCaFiles[0]: cannot read {}: No such file or directory (os error 2)",
            f.ca
        )
    );

    // A certificate that does not match the key: refused too.
    std::fs::write(&f.ca, &client_ca.pem).unwrap();
    let other = server_ca.server(&["localhost"]);
    std::fs::write(&f.cert, &other.cert_pem).unwrap();
    let err = acceptor.reload_now().unwrap_err();
    assert_eq!(err.field(), "server.keyFile");
    assert_eq!(err.kind(), TlsErrorKind::Build);

    let client = client_ca.client("worker-1");
    assert_eq!(
        server_cert(
            served.addr,
            rustls_client(&server_ca, Some(&client)),
            "localhost"
        )
        .await,
        server.der
    );
    let status = check(
        served.addr,
        tonic_tls(&server_ca, "localhost", Some(&client)),
    )
    .await
    .unwrap();
    assert_eq!(status, ServingStatus::Serving);
    drop(f.dir);
}

#[tokio::test(start_paused = true)]
async fn the_reloader_reloads_every_refresh_interval() {
    let server_ca = Ca::new("server-ca");
    let client_ca = Ca::new("client-ca");
    let server = server_ca.server(&["localhost"]);
    let (f, group) = files(&server, &client_ca);
    let acceptor = TlsAcceptor::new(&group).unwrap();
    let before = acceptor.server_config();

    assert!(!acceptor.spawn_reloader(Duration::ZERO).is_running());
    let reloader = acceptor.spawn_reloader(Duration::from_secs(60));
    assert!(reloader.is_running());

    let server_2 = server_ca.server(&["localhost"]);
    std::fs::write(&f.cert, &server_2.cert_pem).unwrap();
    std::fs::write(&f.key, &server_2.key_pem).unwrap();

    // Not before the interval has passed ...
    tokio::time::advance(Duration::from_secs(59)).await;
    tokio::task::yield_now().await;
    assert!(Arc::ptr_eq(&before, &acceptor.server_config()));

    // ... then the new material is in force.
    tokio::time::advance(Duration::from_secs(2)).await;
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!Arc::ptr_eq(&before, &acceptor.server_config()));

    // Dropping the handle stops the reloader.
    drop(reloader);
    let current = acceptor.server_config();
    std::fs::write(&f.cert, &server.cert_pem).unwrap();
    std::fs::write(&f.key, &server.key_pem).unwrap();
    tokio::time::advance(Duration::from_secs(120)).await;
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(Arc::ptr_eq(&current, &acceptor.server_config()));
}
