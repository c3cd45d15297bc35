//! Bad configuration fails at load time with a message naming the file, the key path and,
//! where the YAML parser knows it, the line and column.

use std::io::Write as _;

use tonic_authz::config::{Config, ConfigError, ConfigErrorKind, ConfigLoader};

fn fail(yaml: &str) -> ConfigError {
    let loaded = ConfigLoader::new()
        .env(|name| (name == "SET").then(|| "value".to_owned()))
        .source_name("conf/frontend.yaml")
        .load_str(yaml);
    match loaded {
        Ok(config) => panic!("should fail, got {config:?}"),
        Err(e) => e,
    }
}

#[test]
fn unknown_authorizer_is_temporals_error() {
    let e = fail("global:\n  authorization:\n    authorizer: opa\n");
    assert_eq!(e.kind(), ConfigErrorKind::Parse);
    assert_eq!(e.message(), "unknown authorizer: opa");
    assert_eq!(e.key_path(), Some("global.authorization.authorizer"));
    assert_eq!(
        e.file()
            .map(|p| p.to_string_lossy().into_owned())
            .as_deref(),
        Some("conf/frontend.yaml")
    );
    assert_eq!((e.line(), e.column()), (Some(3), Some(17)));
    assert_eq!(
        e.to_string(),
        "conf/frontend.yaml:3:17: global.authorization.authorizer: unknown authorizer: opa"
    );
}

#[test]
fn unknown_claim_mapper_is_temporals_error() {
    let e = fail("global:\n  authorization:\n    claimMapper: \"Default \"\n");
    assert_eq!(e.message(), "unknown claim mapper: Default ");
    assert_eq!(
        e.to_string(),
        "conf/frontend.yaml:3:18: global.authorization.claimMapper: unknown claim mapper: Default "
    );
}

#[test]
fn blank_selectors_stop_start_up() {
    // Stricter than Temporal, which reads a blank selector as the no-op pair.
    let mapper = "global.authorization.claimMapper: is empty: write \"default\", or \"noop\" \
                  to let every caller act as system admin";
    let authorizer = "global.authorization.authorizer: is empty: write \"default\", or \"noop\" \
                      to allow every call";
    for (yaml, expected) in [
        ("global:\n  authorization:\n    claimMapper: \"\"\n", mapper),
        ("global:\n  authorization:\n    claimMapper:\n", mapper),
        ("global:\n  authorization:\n    claimMapper: ~\n", mapper),
        (
            "global:\n  authorization:\n    authorizer: ''\n",
            authorizer,
        ),
        (
            "global:\n  authorization:\n    authorizer: \"  \"\n",
            authorizer,
        ),
    ] {
        let e = fail(yaml);
        assert_eq!(e.kind(), ConfigErrorKind::Parse, "{yaml}");
        assert!(e.to_string().starts_with("conf/frontend.yaml:"), "{e}");
        assert!(e.to_string().ends_with(expected), "{yaml}: {e}");
    }
    // A variable that expands to nothing is blank too.
    let e = ConfigLoader::new()
        .env(|name| (name == "MAPPER").then(String::new))
        .load_str("global:\n  authorization:\n    claimMapper: \"${MAPPER}\"\n")
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().ends_with(mapper), "{e}");
}

#[test]
fn unknown_keys_are_errors_everywhere_we_read() {
    let e = fail("global:\n  authorization:\n    authHeader: x\n");
    assert_eq!(e.key_path(), Some("global.authorization.authHeader"));
    assert!(
        e.message()
            .starts_with("unknown field `authHeader`, expected one of"),
        "{e}"
    );
    assert_eq!((e.line(), e.column()), (Some(3), Some(5)));

    let e = fail("global:\n  authorization:\n    jwtKeyProvider:\n      keySourceUris: []\n");
    assert_eq!(
        e.key_path(),
        Some("global.authorization.jwtKeyProvider.keySourceUris")
    );
    assert!(
        e.message().starts_with("unknown field `keySourceUris`"),
        "{e}"
    );

    let e = fail("global:\n  tls:\n    frontend:\n      server:\n        certfile: a.pem\n");
    assert_eq!(e.key_path(), Some("global.tls.frontend.server.certfile"));
    assert_eq!((e.line(), e.column()), (Some(5), Some(9)));

    let e = fail("services:\n  frontend:\n    rpc:\n      grpcport: 1\n");
    assert_eq!(e.key_path(), Some("services.frontend.rpc.grpcport"));

    // Outside the sections acted on, the file is read as Temporal reads it: unknown keys
    // are Temporal's (or a later Temporal's) and are skipped.
    for yaml in [
        "services:\n  fronted:\n    rpc: {}\n",
        "services:\n  frontend:\n    newTemporalKey: 1\n",
        "globals:\n  authorization: {}\n",
        "global:\n  authorisation: {}\n",
    ] {
        assert!(Config::load_str(yaml).is_ok(), "{yaml}");
    }
}

#[test]
fn bad_durations_name_the_key() {
    let e = fail("global:\n  authorization:\n    jwtKeyProvider:\n      refreshInterval: 1d\n");
    assert_eq!(
        e.to_string(),
        "conf/frontend.yaml:4:24: global.authorization.jwtKeyProvider.refreshInterval: \
         unknown unit \"d\" in duration \"1d\""
    );
    let e = fail("global:\n  authorization:\n    leeway: 60\n");
    assert_eq!(
        e.to_string(),
        "conf/frontend.yaml:3:13: global.authorization.leeway: missing unit in duration \"60\""
    );
    let e = fail("global:\n  tls:\n    refreshInterval: -1m\n");
    assert_eq!(e.key_path(), Some("global.tls.refreshInterval"));
    assert_eq!(e.message(), "negative duration \"-1m\" is not allowed");
    let e = fail("global:\n  authorization:\n    bodyTimeout: soon\n");
    assert_eq!(e.key_path(), Some("global.authorization.bodyTimeout"));
    assert_eq!(e.message(), "invalid duration \"soon\"");
}

#[test]
fn missing_environment_variables_are_named() {
    let e = fail(
        "global:\n  authorization:\n    jwtKeyProvider:\n      keySourceURIs:\n        - ${SET}\n        - https://${JWKS_HOST}/jwks.json\n",
    );
    assert_eq!(
        e.to_string(),
        "conf/frontend.yaml:6:11: global.authorization.jwtKeyProvider.keySourceURIs[1]: \
         environment variable `JWKS_HOST` is not set"
    );
    let e = fail(
        "global:\n  tls:\n    frontend:\n      server:\n        certFile: ${CERT_DIR}/a.pem\n",
    );
    assert_eq!(e.key_path(), Some("global.tls.frontend.server.certFile"));
    assert_eq!(e.message(), "environment variable `CERT_DIR` is not set");
    // A reference that is expanded and then fails its own parsing still names the key.
    let e = fail("global:\n  authorization:\n    leeway: ${SET}\n");
    assert_eq!(e.key_path(), Some("global.authorization.leeway"));
    assert_eq!(e.message(), "invalid duration \"value\"");
}

#[test]
fn type_errors_and_bad_values_name_the_key() {
    let e = fail("services:\n  frontend:\n    rpc:\n      grpcPort: 70000\n");
    assert_eq!(e.key_path(), Some("services.frontend.rpc.grpcPort"));
    assert_eq!((e.line(), e.column()), (Some(4), Some(17)));
    assert_eq!(
        e.message(),
        "invalid value: integer `70000`, expected u16",
        "{e}"
    );

    let e = fail("services:\n  frontend:\n    rpc:\n      bindOnIP: 300.1.1.1\n");
    assert_eq!(e.key_path(), Some("services.frontend.rpc.bindOnIP"));
    assert_eq!(e.message(), "invalid IP address: 300.1.1.1");

    let e = fail("global:\n  authorization:\n    dryRun: maybe\n");
    assert_eq!(e.key_path(), Some("global.authorization.dryRun"));

    let e =
        fail("global:\n  authorization:\n    jwtKeyProvider:\n      keySourceURIs: https://x\n");
    assert_eq!(
        e.key_path(),
        Some("global.authorization.jwtKeyProvider.keySourceURIs")
    );
}

#[test]
fn values_that_do_not_fit_together_fail_at_load() {
    let e = fail(
        "services:\n  frontend:\n    rpc:\n      bindOnLocalHost: true\n      bindOnIP: 0.0.0.0\n",
    );
    assert_eq!(e.kind(), ConfigErrorKind::Invalid);
    assert_eq!(
        e.to_string(),
        "conf/frontend.yaml: services.frontend.rpc: bindOnLocalHost and bindOnIP are mutually exclusive"
    );
    // Temporal's start-up validation of global.tls (spec F.2), with its texts.
    let e = fail(
        "global:\n  tls:\n    frontend:\n      server:\n        certFile: a.pem\n        certData: Zm9v\n",
    );
    assert_eq!(e.kind(), ConfigErrorKind::Invalid);
    assert_eq!(
        e.to_string(),
        "conf/frontend.yaml: global.tls.frontend.server: cannot specify CertFile and CertData at the same time"
    );
    let e = fail("global:\n  tls:\n    internode:\n      client:\n        rootCaFiles: [\" \"]\n");
    assert_eq!(
        e.key_path(),
        Some("global.tls.internode.client.rootCaFiles")
    );
    assert_eq!(
        e.message(),
        "invalid ClientTLS.RootCAFiles: CA cannot be empty string"
    );
}

#[test]
fn unknown_jwt_algorithms_are_refused() {
    let e = fail("global:\n  authorization:\n    algorithms: [RS256, none]\n");
    assert_eq!(e.key_path(), Some("global.authorization.algorithms"));
    assert!(
        e.message()
            .starts_with("unknown JWT algorithm: none (expected one of RS256, RS384"),
        "{e}"
    );
}

#[test]
fn certificate_rules_are_strict() {
    let e = fail(
        "global:\n  authorization:\n    certificateClaimRules:\n      - field: commonName\n        value: a\n        permissions: []\n        role: admin\n",
    );
    assert_eq!(
        e.key_path(),
        Some("global.authorization.certificateClaimRules[0].role")
    );
    let e = fail(
        "global:\n  authorization:\n    certificateClaimRules:\n      - field: serialNumber\n        value: a\n        permissions: []\n",
    );
    assert_eq!(
        e.key_path(),
        Some("global.authorization.certificateClaimRules[0].field")
    );
    assert_eq!(e.line(), Some(4));
}

#[test]
fn malformed_yaml_and_duplicates_are_located() {
    let e = fail("global:\n  authorization:\n    audience: [a\n");
    assert_eq!(e.kind(), ConfigErrorKind::Parse);
    assert_eq!(e.line(), Some(3), "{e}");
    let e = fail("global:\n  authorization:\n    audience: a\n    audience: b\n");
    assert_eq!(
        e.to_string(),
        "conf/frontend.yaml:4:5: global.authorization.audience: duplicate key `audience`"
    );
    let e = fail("- a\n");
    assert_eq!(
        e.to_string(),
        "conf/frontend.yaml:1:1: expected mapping start"
    );
    assert_eq!(e.key_path(), None);
}

#[test]
fn load_file_names_the_file() {
    let mut file = match tempfile::Builder::new().suffix(".yaml").tempfile() {
        Ok(f) => f,
        Err(e) => panic!("temp file: {e}"),
    };
    if let Err(e) = write!(
        file,
        "global:\n  authorization:\n    authorizer: allow-all\n"
    ) {
        panic!("write: {e}");
    }
    let e = match Config::load_file(file.path()) {
        Ok(c) => panic!("should fail, got {c:?}"),
        Err(e) => e,
    };
    assert_eq!(
        e.to_string(),
        format!(
            "{}:3:17: global.authorization.authorizer: unknown authorizer: allow-all",
            file.path().display()
        )
    );

    let missing = file.path().with_extension("missing.yaml");
    let e = match Config::load_file(&missing) {
        Ok(c) => panic!("should fail, got {c:?}"),
        Err(e) => e,
    };
    assert_eq!(e.kind(), ConfigErrorKind::Read);
    assert!(
        e.to_string()
            .starts_with(&format!("{}: cannot read the file: ", missing.display())),
        "{e}"
    );
}

#[test]
fn connection_limits_must_be_usable() {
    let rpc = "global: {}\nservices:\n  frontend:\n    rpc:\n";
    for (yaml, key, says) in [
        (
            "      maxConcurrentStreams: 0\n",
            "services.frontend.rpc.maxConcurrentStreams",
            "must be 1 or more",
        ),
        (
            "      maxConcurrentStreams: \"\"\n",
            "services.frontend.rpc.maxConcurrentStreams",
            "is empty",
        ),
        (
            "      keepAliveServerConfig:\n        keepAliveServerParameters:\n          maxConnectionAge: 0s\n",
            "services.frontend.rpc.keepAliveServerConfig.keepAliveServerParameters.maxConnectionAge",
            "must be more than zero",
        ),
        (
            "      keepAliveServerConfig:\n        keepAliveServerParameters:\n          maxConnectionAgeGrace: \"\"\n",
            "services.frontend.rpc.keepAliveServerConfig.keepAliveServerParameters.maxConnectionAgeGrace",
            "invalid duration",
        ),
        (
            "      keepAliveServerConfig:\n        keepAliveServerParameters:\n          time: ~\n",
            "services.frontend.rpc.keepAliveServerConfig.keepAliveServerParameters.time",
            "",
        ),
    ] {
        let e = fail(&format!("{rpc}{yaml}"));
        assert_eq!(e.key_path(), Some(key), "{yaml}: {e}");
        assert!(e.message().contains(says), "{yaml}: {e}");
        assert!(e.to_string().starts_with("conf/frontend.yaml:"), "{e}");
    }
    let config = ConfigLoader::new()
        .load_str(
            "services:\n  frontend:\n    rpc:\n      maxConcurrentStreams: 50\n      keepAliveServerConfig:\n        keepAliveServerParameters:\n          maxConnectionAge: 2m\n          maxConnectionAgeGrace: 30s\n          time: 20s\n          timeout: 5s\n          maxConnectionIdle: 1m\n        keepAliveEnforcementPolicy:\n          minTime: 10s\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let rpc = &config.services.frontend.rpc;
    assert_eq!(rpc.max_concurrent_streams, 50);
    let p = &rpc.keep_alive_server_config.keep_alive_server_parameters;
    assert_eq!(p.max_connection_age, std::time::Duration::from_secs(120));
    assert_eq!(
        p.max_connection_age_grace,
        std::time::Duration::from_secs(30)
    );
    assert_eq!(p.time, std::time::Duration::from_secs(20));
    assert_eq!(p.timeout, std::time::Duration::from_secs(5));
}
