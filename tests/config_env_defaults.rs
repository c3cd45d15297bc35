//! `${NAME}` and `${NAME:-default}` in configuration values, including numbers (a port from
//! the environment), and the strictness boundary: unknown keys are refused inside the sections
//! acted on and skipped everywhere else, as Temporal's loader does.

use tonic_authz::config::{Config, ConfigError, ConfigLoader};

fn load(yaml: &str, vars: &'static [(&'static str, &'static str)]) -> Result<Config, ConfigError> {
    ConfigLoader::new()
        .env(move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .source_name("frontend.yaml")
        .load_str(yaml)
}

const PORT_YAML: &str = "services:\n  frontend:\n    rpc:\n      grpcPort: ${PORT:-7233}\n      bindOnIP: ${IP:-127.0.0.1}\n";

#[test]
fn numbers_and_addresses_come_from_the_environment() {
    let config = load(PORT_YAML, &[("PORT", "17233"), ("IP", "0.0.0.0")]).expect("loads");
    assert_eq!(
        config
            .services
            .frontend
            .rpc
            .listen_addr()
            .expect("addr")
            .to_string(),
        "0.0.0.0:17233"
    );
    let config = load(PORT_YAML, &[]).expect("defaults");
    assert_eq!(config.services.frontend.rpc.grpc_port, 7233);
    // Empty counts as unset for `:-`.
    let config = load(PORT_YAML, &[("PORT", "")]).expect("empty");
    assert_eq!(config.services.frontend.rpc.grpc_port, 7233);
    let size = "global:\n  authorization:\n    tokenCacheSize: ${SIZE}\n";
    let config = load(size, &[("SIZE", "42")]).expect("size");
    assert_eq!(config.global.authorization.token_cache_size, Some(42));
}

#[test]
fn a_number_that_is_not_one_names_key_and_file() {
    let e = load(PORT_YAML, &[("PORT", "http")]).expect_err("not a port");
    assert_eq!(
        e.to_string(),
        "frontend.yaml:4:17: services.frontend.rpc.grpcPort: \"${PORT:-7233}\" expands to \"http\", which is not an integer"
    );
    let e = load(PORT_YAML, &[("PORT", "70000")]).expect_err("out of range");
    assert_eq!(e.key_path(), Some("services.frontend.rpc.grpcPort"));
    let e = load(
        "services:\n  frontend:\n    rpc:\n      grpcPort: ${NOPE}\n",
        &[],
    )
    .expect_err("unset");
    assert_eq!(
        e.to_string(),
        "frontend.yaml:4:17: services.frontend.rpc.grpcPort: environment variable `NOPE` is not set"
    );
    // A plain word is still a type error, as before.
    let e = load(
        "services:\n  frontend:\n    rpc:\n      grpcPort: seven\n",
        &[],
    )
    .expect_err("word");
    assert_eq!(e.key_path(), Some("services.frontend.rpc.grpcPort"));
}

#[test]
fn strict_inside_the_sections_acted_on_lenient_around_them() {
    for (yaml, key) in [
        (
            "global:\n  authorization:\n    authorizr: default\n",
            "global.authorization.authorizr",
        ),
        ("global:\n  tls:\n    frontnd: {}\n", "global.tls.frontnd"),
        (
            "services:\n  frontend:\n    rpc:\n      grpcPrt: 1\n",
            "services.frontend.rpc.grpcPrt",
        ),
    ] {
        let e = load(yaml, &[]).expect_err(yaml);
        assert_eq!(e.key_path(), Some(key), "{e}");
    }
    let config = load(
        "someFutureTemporalSection: {x: \"${NOT_OURS}\"}\nglobal:\n  newGlobalThing: 1\n  metrics:\n    prometheus: {listenAddress: \"${NOT_OURS}\"}\nservices:\n  frontend:\n    futureKey: true\n  newService:\n    rpc: {grpcPort: 1}\n",
        &[],
    )
    .expect("lenient around the sections read");
    assert_eq!(config.services.frontend.rpc.grpc_port, 7233);
    // Temporal reads an empty value into a string as "": the rendered templates rely on it.
    let config = load(
        "global:\n  tls:\n    frontend:\n      server:\n        certFile:\n        keyFile:\n",
        &[],
    )
    .expect("empty values");
    assert_eq!(config.global.tls.frontend.server.cert_file, "");
}
