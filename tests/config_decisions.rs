//! The configuration of how decisions are made and kept: `authorizer: cedar` with
//! `cedar.policyFile`, `workerRole`, and the `audit` log. Every new key fails closed: a blank
//! or broken value is a start-up error naming the key and the file.

use tonic_authz::AuthzLayer;
use tonic_authz::config::{AuthorizerKind, ConfigError, ConfigErrorKind, ConfigLoader};

fn load(yaml: &str) -> Result<tonic_authz::config::Config, ConfigError> {
    ConfigLoader::new()
        .source_name("conf/frontend.yaml")
        .load_str(yaml)
}

async fn build(yaml: &str) -> Result<AuthzLayer, ConfigError> {
    AuthzLayer::from_config(&load(yaml)?).await
}

fn authz(body: &str) -> String {
    format!("global:\n  authorization:\n    claimMapper: noop\n{body}")
}

#[tokio::test]
async fn audit_needs_a_file_and_known_decisions() {
    let e = build(&authz("    audit:\n      file: \"  \"\n"))
        .await
        .expect_err("blank file");
    assert_eq!(e.kind(), ConfigErrorKind::Invalid);
    assert_eq!(e.key_path(), Some("global.authorization.audit.file"));
    assert!(e.to_string().starts_with("conf/frontend.yaml: "), "{e}");

    let e = load(&authz(
        "    audit:\n      file: \"-\"\n      decisions: some\n",
    ))
    .expect_err("unknown decisions");
    assert_eq!(e.kind(), ConfigErrorKind::Parse);
    assert_eq!(e.key_path(), Some("global.authorization.audit.decisions"));
    assert!(e.message().contains("unknown audit decisions"), "{e}");

    let e = load(&authz("    audit:\n      decisions: all\n")).expect_err("no file");
    assert_eq!(e.kind(), ConfigErrorKind::Parse);

    let e = load(&authz(
        "    audit:\n      file: \"-\"\n      rotate: true\n",
    ))
    .expect_err("unknown key");
    assert_eq!(e.kind(), ConfigErrorKind::Parse);

    let dir = tempfile::tempdir().expect("tempdir");
    let missing_dir = dir.path().join("no/such/dir/audit.log");
    let e = build(&authz(&format!(
        "    audit:\n      file: {}\n",
        missing_dir.display()
    )))
    .await
    .expect_err("unwritable");
    assert_eq!(e.kind(), ConfigErrorKind::Build);
    assert_eq!(e.key_path(), Some("global.authorization.audit.file"));

    let file = dir.path().join("audit.log");
    let config = load(&authz(&format!(
        "    audit:\n      file: {}\n      decisions: all\n",
        file.display()
    )))
    .expect("loads");
    let audit = config.global.authorization.audit.as_ref().expect("audit");
    assert_eq!(audit.decisions, tonic_authz::AuditDecisions::All);
    AuthzLayer::from_config(&config).await.expect("builds");
    assert!(file.exists());
}

#[tokio::test]
async fn worker_role_is_for_the_default_authorizer() {
    let config = load(&authz("    workerRole: true\n")).expect("loads");
    assert!(config.global.authorization.worker_role);
    AuthzLayer::from_config(&config).await.expect("builds");
    let e = build(&authz("    authorizer: noop\n    workerRole: true\n"))
        .await
        .expect_err("noop + workerRole");
    assert_eq!(e.key_path(), Some("global.authorization.workerRole"));
}

#[test]
fn cedar_is_an_authorizer_name() {
    let config = load(&authz("    authorizer: Cedar\n")).expect("loads");
    assert_eq!(
        config.global.authorization.authorizer,
        AuthorizerKind::Cedar
    );
    let e = load(&authz("    authorizer: opa\n")).expect_err("unknown");
    assert_eq!(e.message(), "unknown authorizer: opa");
    let e = load(&authz("    cedar:\n      policyFiles: x\n")).expect_err("unknown key");
    assert_eq!(e.kind(), ConfigErrorKind::Parse);
}

#[cfg(not(feature = "cedar"))]
#[tokio::test]
async fn cedar_without_the_feature_is_an_error() {
    let e = build(&authz(
        "    authorizer: cedar\n    cedar:\n      policyFile: p.cedar\n",
    ))
    .await
    .expect_err("no feature");
    assert_eq!(e.key_path(), Some("global.authorization.authorizer"));
    assert!(e.message().contains("`cedar` feature"), "{e}");
}

#[cfg(feature = "cedar")]
#[tokio::test]
async fn cedar_needs_a_valid_policy_file() {
    let e = build(&authz("    authorizer: cedar\n"))
        .await
        .expect_err("no file");
    assert_eq!(e.kind(), ConfigErrorKind::Invalid);
    assert_eq!(e.key_path(), Some("global.authorization.cedar.policyFile"));

    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.cedar");
    std::fs::write(
        &bad,
        "@id(\"typo\")\npermit (principal, action == Temporal::Action::\"StartWorkflow\", resource);\n",
    )
    .expect("write");
    let e = build(&authz(&format!(
        "    authorizer: cedar\n    cedar:\n      policyFile: {}\n",
        bad.display()
    )))
    .await
    .expect_err("invalid policy");
    assert_eq!(e.kind(), ConfigErrorKind::Build);
    assert_eq!(e.key_path(), Some("global.authorization.cedar.policyFile"));
    let text = e.to_string();
    assert!(text.starts_with("conf/frontend.yaml: "), "{text}");
    assert!(
        text.contains("bad.cedar") && text.contains("typo"),
        "{text}"
    );

    let good = format!(
        "{}/examples/policies/temporal-default.cedar",
        env!("CARGO_MANIFEST_DIR")
    );
    build(&authz(&format!(
        "    authorizer: cedar\n    cedar:\n      policyFile: {good}\n      reloadInterval: 1s\n"
    )))
    .await
    .expect("builds");
}
