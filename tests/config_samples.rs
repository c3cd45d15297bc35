//! Every sample configuration under `examples/config/` loads and means what its comments say.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tonic_authz::config::{AuthorizerKind, ClaimMapperKind, Config, ConfigLoader};

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/config")
}

fn sample_env(name: &str) -> Option<String> {
    match name {
        "TONIC_AUTHZ_CERT_DIR" => Some("/etc/tonic-authz/certs".to_owned()),
        "TONIC_AUTHZ_JWKS_URI" => Some("file:///etc/tonic-authz/jwks.json".to_owned()),
        _ => None,
    }
}

fn load(name: &str) -> Config {
    match ConfigLoader::new()
        .env(sample_env)
        .load_file(samples_dir().join(name))
    {
        Ok(config) => config,
        Err(e) => panic!("sample {name} should load: {e}"),
    }
}

#[test]
fn every_sample_loads() {
    let mut names: Vec<String> = match std::fs::read_dir(samples_dir()) {
        Ok(dir) => dir
            .filter_map(Result::ok)
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".yaml"))
            .collect(),
        Err(e) => panic!("samples dir: {e}"),
    };
    names.sort();
    assert_eq!(names, ["jwt-mtls.yaml", "jwt.yaml", "mtls.yaml"]);
    for name in &names {
        let config = load(name);
        assert_eq!(
            config.global.authorization.authorizer,
            AuthorizerKind::Default,
            "{name}"
        );
        assert_eq!(
            config.global.authorization.claim_mapper,
            ClaimMapperKind::Default,
            "{name}"
        );
        assert_eq!(
            config
                .services
                .frontend
                .rpc
                .listen_addr()
                .map(|a| a.to_string())
                .ok()
                .as_deref(),
            Some("127.0.0.1:7233"),
            "{name}"
        );
    }
}

#[test]
fn samples_need_their_variables() {
    let loaded = ConfigLoader::new()
        .env(|_| None)
        .load_file(samples_dir().join("jwt.yaml"));
    let e = match loaded {
        Ok(config) => panic!("should fail, got {config:?}"),
        Err(e) => e,
    };
    assert_eq!(
        e.message(),
        "environment variable `TONIC_AUTHZ_JWKS_URI` is not set"
    );
    assert_eq!(
        e.key_path(),
        Some("global.authorization.jwtKeyProvider.keySourceURIs[0]")
    );
    assert!(e.to_string().contains("examples/config/jwt.yaml:"), "{e}");
}

#[test]
fn jwt_sample_is_jwt_only() {
    let config = load("jwt.yaml");
    let a = &config.global.authorization;
    assert_eq!(
        a.jwt_key_provider.key_source_uris,
        ["file:///etc/tonic-authz/jwks.json"]
    );
    assert_eq!(a.jwt_key_provider.refresh_interval, Duration::from_secs(60));
    assert_eq!(a.audience, "temporal-frontend");
    assert!(a.certificate_claim_rules.is_empty());
    assert!(config.global.tls.frontend.server.key_file.is_empty());
}

#[test]
fn mtls_sample_is_mtls_only() {
    let config = load("mtls.yaml");
    let a = &config.global.authorization;
    assert!(a.jwt_key_provider.key_source_uris.is_empty());
    assert_eq!(a.certificate_claim_rules.len(), 3);
    let server = &config.global.tls.frontend.server;
    assert_eq!(server.cert_file, "/etc/tonic-authz/certs/server.pem");
    assert_eq!(server.key_file, "/etc/tonic-authz/certs/server.key");
    assert_eq!(server.client_ca_files, ["/etc/tonic-authz/certs/ca.pem"]);
    assert!(server.require_client_auth);
}

#[test]
fn jwt_mtls_sample_has_both() {
    let config = load("jwt-mtls.yaml");
    let a = &config.global.authorization;
    assert_eq!(
        a.jwt_key_provider.key_source_uris,
        ["file:///etc/tonic-authz/jwks.json"]
    );
    assert_eq!(a.issuer.as_deref(), Some("https://issuer.example/"));
    assert_eq!(a.certificate_claim_rules.len(), 1);
    assert!(!a.dry_run);
    let server = &config.global.tls.frontend.server;
    assert!(server.require_client_auth);
    assert_eq!(server.client_ca_files, ["/etc/tonic-authz/certs/ca.pem"]);
    assert_eq!(
        config.global.tls.expiration_checks.warning_window,
        Duration::from_secs(720 * 3600)
    );
}
