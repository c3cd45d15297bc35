//! A real OpenID provider none of us wrote (npm `oauth2-mock-server`, installed under
//! target/ by tests/oidc/install.sh): the layer, configured with nothing but the provider's
//! issuer URL, accepts a token the provider issues with the roles its `scope` grants, and
//! refuses a token from a second provider instance that claims the same issuer and signs with
//! its own key under the same key id.

// A failed unwrap here is a failed test, with the error in its message.
#![allow(clippy::unwrap_used)]

mod common;

use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use bytes::Bytes;
use http::{Request, Response};
use prost::Message;
use tonic_authz::config::ConfigLoader;
use tonic_authz::{AuthzLayer, JwtClaimMapper, Role, TrustedIssuer};
use tower::{Layer, ServiceExt, service_fn};

use common::grpc::{frame, header_status};

struct Provider {
    child: Child,
    issuer: String,
    token_a: String,
    token_b: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        // Closing stdin stops the script; kill in case it did not.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_provider() -> Provider {
    let root = env!("CARGO_MANIFEST_DIR");
    let install = Command::new(format!("{root}/tests/oidc/install.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run tests/oidc/install.sh (needs node and npm)");
    assert!(install.status.success(), "tests/oidc/install.sh failed");
    let script = String::from_utf8(install.stdout).unwrap().trim().to_owned();
    let mut child = Command::new("node")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start node");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: serde_json::Value = serde_json::from_str(&line).expect("provider info line");
    let field = |k: &str| info[k].as_str().unwrap().to_owned();
    Provider {
        issuer: field("issuer"),
        token_a: field("token_a"),
        token_b: field("token_b"),
        child,
    }
}

/// A token from the provider's token endpoint (resource-owner password grant: `sub` is the
/// user name, `scope` as asked).
async fn issue(token_endpoint: &str, user: &str, scope: &str) -> String {
    let form = format!(
        "grant_type=password&username={user}&password=x&scope={}",
        scope.replace(':', "%3A").replace(' ', "%20")
    );
    let response = reqwest::Client::new()
        .post(token_endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

#[derive(Clone, PartialEq, prost::Message)]
struct NamespaceRequest {
    #[prost(string, tag = "1")]
    namespace: String,
}

async fn start_workflow(layer: &AuthzLayer, token: &str, namespace: &str) -> tonic::Code {
    let inner = service_fn(|_req: Request<tonic::body::Body>| async {
        Ok::<_, Infallible>(Response::new(tonic::body::Body::empty()))
    });
    let body = frame(
        &NamespaceRequest {
            namespace: namespace.to_owned(),
        }
        .encode_to_vec(),
    );
    let request =
        Request::post("/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution")
            .header("content-type", "application/grpc")
            .header("authorization", format!("Bearer {token}"))
            .body(tonic::body::Body::new(http_body_util::Full::new(
                Bytes::from(body),
            )))
            .unwrap();
    let response = layer.layer(inner).oneshot(request).await.unwrap();
    header_status(&response).map_or(tonic::Code::Ok, |s| s.code())
}

#[tokio::test]
async fn a_real_openid_provider_known_only_by_its_issuer_url() {
    let provider = start_provider();
    let yaml = format!(
        "global:\n  authorization:\n    issuers:\n      - issuer: {}\n        permissionsClaimName: scope\n",
        provider.issuer
    );
    let config = ConfigLoader::new().load_str(&yaml).unwrap();
    let layer = AuthzLayer::from_config(&config).await.unwrap();

    let token = issue(&provider.token_a, "alice", "openid payments:write").await;
    assert_eq!(
        start_workflow(&layer, &token, "payments").await,
        tonic::Code::Ok
    );
    // Deny twin: the scope grants nothing in another namespace.
    assert_eq!(
        start_workflow(&layer, &token, "billing").await,
        tonic::Code::PermissionDenied
    );

    // The impostor: same `iss`, same `kid`, its own key.
    let forged = issue(
        &provider.token_b,
        "mallory",
        "openid payments:write temporal-system:admin",
    )
    .await;
    assert_eq!(
        start_workflow(&layer, &forged, "payments").await,
        tonic::Code::PermissionDenied
    );

    // The same through the mapper, to see the roles and the reason.
    let keys = tonic_authz::DiscoveryKeyProvider::builder(provider.issuer.clone())
        .build()
        .await
        .unwrap();
    assert_eq!(keys.keys_loaded(), 1);
    let mapper = JwtClaimMapper::multi_issuer()
        .trusted_issuer(
            TrustedIssuer::builder(provider.issuer.clone(), std::sync::Arc::new(keys))
                .permissions_claim("scope")
                .build()
                .unwrap(),
        )
        .build();
    let claims = mapper
        .claims_for_token(&format!("Bearer {token}"), "")
        .await
        .unwrap();
    assert_eq!(claims.subject(), "alice");
    assert_eq!(claims.namespace_role("payments"), Role::WRITER);
    let refused = mapper
        .claims_for_token(&format!("Bearer {forged}"), "")
        .await
        .unwrap_err();
    assert_eq!(refused.message(), "signature verification failed");
}
