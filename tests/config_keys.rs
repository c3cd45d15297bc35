//! Every configuration key lands in the field it names, in Temporal's shape.

use std::net::SocketAddr;
use std::time::Duration;

use tonic_authz::config::{AuthorizerKind, ClaimMapperKind, Config, ConfigLoader};
use tonic_authz::{CertificateField, CertificateRule, JwtAlgorithm};

fn load(yaml: &str) -> Config {
    match ConfigLoader::new()
        .env(|name| match name {
            "CERT_DIR" => Some("/etc/temporal/certs".to_owned()),
            "JWKS_HOST" => Some("issuer.example".to_owned()),
            "REFRESH" => Some("5m".to_owned()),
            _ => None,
        })
        .source_name("test.yaml")
        .load_str(yaml)
    {
        Ok(config) => config,
        Err(e) => panic!("config should load: {e}"),
    }
}

#[test]
fn temporal_authorization_keys_map() {
    let config = load(
        r#"
global:
  authorization:
    jwtKeyProvider:
      keySourceURIs:
        - https://${JWKS_HOST}/.well-known/jwks.json
        - file:///etc/temporal/jwks.json
      refreshInterval: ${REFRESH}
    permissionsClaimName: perms
    permissionsRegex: "^(?P<namespace>[a-z]+):(?P<role>[a-z]+)$"
    authorizer: DEFAULT
    claimMapper: Default
    authHeaderName: x-auth
    authExtraHeaderName: x-auth-extras
    audience: my-audience
    remoteClusterAuth:
      require: true
"#,
    );
    let a = &config.global.authorization;
    assert_eq!(
        a.jwt_key_provider.key_source_uris,
        [
            "https://issuer.example/.well-known/jwks.json",
            "file:///etc/temporal/jwks.json"
        ]
    );
    assert_eq!(
        a.jwt_key_provider.refresh_interval,
        Duration::from_secs(300)
    );
    assert_eq!(a.permissions_claim_name, "perms");
    assert_eq!(
        a.permissions_regex,
        "^(?P<namespace>[a-z]+):(?P<role>[a-z]+)$"
    );
    assert_eq!(a.authorizer, AuthorizerKind::Default);
    assert_eq!(a.claim_mapper, ClaimMapperKind::Default);
    assert_eq!(a.auth_header_name, "x-auth");
    assert_eq!(a.auth_extra_header_name, "x-auth-extras");
    assert_eq!(a.audience, "my-audience");
    assert_eq!(
        config
            .source_file()
            .map(|p| p.to_string_lossy().into_owned()),
        Some("test.yaml".to_owned())
    );
}

#[test]
fn our_authorization_keys_map() {
    let config = load(
        r#"
global:
  authorization:
    jwtKeyProvider:
      kidMissCooldown: 30s
    algorithms: [RS256, ES384]
    leeway: 1m30s
    issuer: https://issuer.example/
    systemPermissionNamespaces: [temporal-system, ops]
    tokenCacheSize: 5000
    tokenCacheMaxAge: 10m
    maxMessageSize: 1048576
    bodyTimeout: 2.5s
    dryRun: true
    exposeAuthorizerErrors: true
    enableCrossNamespaceCommands: true
    knownNamespaces: [default, payments]
    certificateClaimRules:
      - field: organizationalUnit
        value: workers-*
        permissions: ["payments:worker", "temporal-system:read"]
"#,
    );
    let a = &config.global.authorization;
    assert_eq!(
        a.jwt_key_provider.kid_miss_cooldown,
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        a.algorithms.as_deref(),
        Some(&[JwtAlgorithm::RS256, JwtAlgorithm::ES384][..])
    );
    assert_eq!(a.leeway, Some(Duration::from_secs(90)));
    assert_eq!(a.issuer.as_deref(), Some("https://issuer.example/"));
    assert_eq!(
        a.system_permission_namespaces.as_deref(),
        Some(&["temporal-system".to_owned(), "ops".to_owned()][..])
    );
    assert_eq!(a.token_cache_size, Some(5000));
    assert_eq!(a.token_cache_max_age, Some(Duration::from_secs(600)));
    assert_eq!(a.max_message_size, Some(1 << 20));
    assert_eq!(a.body_timeout, Some(Duration::from_millis(2500)));
    assert!(a.dry_run);
    assert!(a.expose_authorizer_errors);
    assert!(a.enable_cross_namespace_commands);
    assert_eq!(a.known_namespaces, ["default", "payments"]);
    assert_eq!(
        a.certificate_claim_rules,
        [CertificateRule::new(
            CertificateField::OrganizationalUnit,
            "workers-*",
            ["payments:worker", "temporal-system:read"]
        )]
    );
}

#[test]
fn defaults_when_absent() {
    let config = load("global: {}\n");
    let a = &config.global.authorization;
    assert_eq!(a.permissions_claim_name, "permissions");
    assert_eq!(a.permissions_regex, "");
    assert_eq!(a.authorizer, AuthorizerKind::Default);
    assert_eq!(a.claim_mapper, ClaimMapperKind::Default);
    assert_eq!(a.auth_header_name, "authorization");
    assert_eq!(a.auth_extra_header_name, "authorization-extras");
    assert_eq!(a.audience, "");
    assert!(a.jwt_key_provider.key_source_uris.is_empty());
    assert_eq!(a.jwt_key_provider.refresh_interval, Duration::from_secs(60));
    assert_eq!(a.jwt_key_provider.kid_miss_cooldown, None);
    assert!(!a.dry_run);
    assert!(!a.expose_authorizer_errors);
    assert!(!a.enable_cross_namespace_commands);
    assert_eq!(a.algorithms, None);
    assert_eq!(a.leeway, None);
    assert!(a.certificate_claim_rules.is_empty());
    let addr: SocketAddr = "127.0.0.1:7233".parse().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.services.frontend.rpc.listen_addr().ok(), Some(addr));

    // A file with only comments is an empty configuration.
    let empty = load("# nothing configured yet\n\n");
    assert_eq!(
        empty.global.authorization.authorizer,
        AuthorizerKind::Default
    );
}

#[test]
fn only_the_literal_noop_selects_the_noop_pair() {
    let config = load("global:\n  authorization:\n    authorizer: noop\n    claimMapper: NOOP\n");
    assert_eq!(config.global.authorization.authorizer, AuthorizerKind::Noop);
    assert_eq!(
        config.global.authorization.claim_mapper,
        ClaimMapperKind::Noop
    );
}

#[test]
fn durations_accept_go_forms() {
    for (text, expected) in [
        ("0", Duration::ZERO),
        ("\"0\"", Duration::ZERO),
        ("0s", Duration::ZERO),
        ("500ms", Duration::from_millis(500)),
        ("30s", Duration::from_secs(30)),
        ("1m", Duration::from_secs(60)),
        ("1h30m", Duration::from_secs(5400)),
        ("1.5h", Duration::from_secs(5400)),
    ] {
        let config = load(&format!(
            "global:\n  authorization:\n    jwtKeyProvider:\n      refreshInterval: {text}\n"
        ));
        assert_eq!(
            config
                .global
                .authorization
                .jwt_key_provider
                .refresh_interval,
            expected,
            "{text}"
        );
    }
}

#[test]
fn frontend_rpc_keys_map() {
    let config = load(
        r#"
services:
  frontend:
    rpc:
      grpcPort: 17233
      membershipPort: 6933
      bindOnIP: 0.0.0.0
      httpPort: 7243
"#,
    );
    let rpc = &config.services.frontend.rpc;
    assert_eq!(rpc.grpc_port, 17233);
    assert_eq!(
        rpc.bind_on_ip.map(|ip| ip.to_string()).as_deref(),
        Some("0.0.0.0")
    );
    assert_eq!(
        rpc.listen_addr().map(|a| a.to_string()).ok().as_deref(),
        Some("0.0.0.0:17233")
    );

    let config =
        load("services:\n  frontend:\n    rpc:\n      grpcPort: 0\n      bindOnIP: \"::1\"\n");
    assert_eq!(
        config
            .services
            .frontend
            .rpc
            .listen_addr()
            .map(|a| a.to_string())
            .ok()
            .as_deref(),
        Some("[::1]:0")
    );

    let config = load("services:\n  frontend:\n    rpc:\n      bindOnLocalHost: true\n");
    assert_eq!(
        config
            .services
            .frontend
            .rpc
            .listen_addr()
            .map(|a| a.to_string())
            .ok()
            .as_deref(),
        Some("127.0.0.1:7233")
    );
}

#[test]
fn temporal_tls_keys_map() {
    let config = load(
        r#"
global:
  tls:
    refreshInterval: 1h
    expirationChecks:
      warningWindow: 720h
      errorWindow: 168h
      checkInterval: 24h
    frontend:
      server:
        certFile: ${CERT_DIR}/frontend.pem
        keyFile: ${CERT_DIR}/frontend.key
        clientCaFiles: [ "${CERT_DIR}/ca.pem" ]
        requireClientAuth: true
      client:
        serverName: frontend.example
        rootCaFiles: [ "${CERT_DIR}/ca.pem" ]
      hostOverrides:
        other.example:
          certData: Y2VydA==
          keyData: a2V5
    internode:
      server:
        certFile: /a.pem
        keyFile: /a.key
"#,
    );
    let tls = &config.global.tls;
    assert_eq!(tls.refresh_interval, Duration::from_secs(3600));
    assert_eq!(
        tls.expiration_checks.warning_window,
        Duration::from_secs(720 * 3600)
    );
    assert_eq!(
        tls.expiration_checks.error_window,
        Duration::from_secs(168 * 3600)
    );
    assert_eq!(
        tls.expiration_checks.check_interval,
        Duration::from_secs(24 * 3600)
    );
    let server = &tls.frontend.server;
    assert_eq!(server.cert_file, "/etc/temporal/certs/frontend.pem");
    assert_eq!(server.key_file, "/etc/temporal/certs/frontend.key");
    assert_eq!(server.client_ca_files, ["/etc/temporal/certs/ca.pem"]);
    assert!(server.require_client_auth);
    assert_eq!(tls.frontend.client.server_name, "frontend.example");
    assert_eq!(
        tls.frontend.client.root_ca_files,
        ["/etc/temporal/certs/ca.pem"]
    );
    assert_eq!(
        tls.frontend.host_overrides["other.example"].cert_data,
        "Y2VydA=="
    );
    assert_eq!(tls.internode.server.cert_file, "/a.pem");
}

#[test]
fn other_temporal_sections_are_accepted_and_not_expanded() {
    // A trimmed real Temporal development config: sections this crate does not read load
    // without error, and their `${...}` values are left to the Temporal server.
    let config = load(
        r#"
log:
  stdout: true
  level: info
persistence:
  defaultStore: default
  numHistoryShards: 4
  datastores:
    default:
      sql:
        pluginName: postgres12
        password: ${POSTGRES_PWD}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
  pprof:
    port: 7936
  metrics:
    prometheus:
      framework: tally
      listenAddress: 127.0.0.1:8000
  authorization:
    authorizer: default
services:
  frontend:
    rpc:
      grpcPort: 7233
      membershipPort: 6933
      bindOnLocalHost: true
      httpPort: 7243
  internal-frontend:
    rpc:
      grpcPort: 7236
  history:
    rpc:
      grpcPort: 7234
  matching:
    rpc:
      grpcPort: 7235
  worker:
    rpc:
      grpcPort: 7239
clusterMetadata:
  enableGlobalNamespace: false
  currentClusterName: active
dcRedirectionPolicy:
  policy: noop
archival:
  history:
    state: disabled
namespaceDefaults:
  archival:
    history:
      state: disabled
publicClient:
  hostPort: 127.0.0.1:7233
dynamicConfigClient:
  filepath: config/dynamicconfig/development.yaml
  pollInterval: 10s
otel: {}
"#,
    );
    assert_eq!(
        config.global.authorization.authorizer,
        AuthorizerKind::Default
    );
    assert_eq!(config.services.frontend.rpc.grpc_port, 7233);
    assert!(config.services.frontend.rpc.bind_on_local_host);
}
