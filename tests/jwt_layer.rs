//! The JWT claim mapper wired into the layer: keys from a JWKS endpoint on loopback, Temporal's
//! default authorizer, the layer driven through `oneshot`.

mod common;
use tonic_authz_testkit::jwks_server;
use tonic_authz_testkit::jwt as jwt_keys;

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Request, Response};
use prost::Message;
use serde_json::json;
use tonic_authz::{AuthzLayer, Claims, DefaultAuthorizer, JwksKeyProvider, JwtClaimMapper, Role};
use tower::{Layer, ServiceExt, service_fn};

use common::grpc::{assert_temporal_denial, chunked_body, frame, header_status};
use jwks_server::{JwksServer, Reply};
use jwt_keys::{NOW, jwks, moving_clock, p256, rsa, temporal_payload, unix_now};

const START_WORKFLOW: &str =
    "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";
const LIST_NAMESPACES: &str = "/temporal.api.workflowservice.v1.WorkflowService/ListNamespaces";

#[derive(Clone, PartialEq, prost::Message)]
struct NamespaceRequest {
    #[prost(string, tag = "1")]
    namespace: String,
}

struct Fixture {
    server: JwksServer,
    keys: Arc<JwksKeyProvider>,
    mapper: JwtClaimMapper,
    seen: Arc<Mutex<Vec<Option<Claims>>>>,
}

impl Fixture {
    async fn new() -> Fixture {
        Fixture::with_mapper(|keys| JwtClaimMapper::new(keys)).await
    }

    /// A JWKS endpoint holding `r1` (RSA) and `e1` (P-256), and the mapper `mapper` makes
    /// over its keys.
    async fn with_mapper(mapper: impl FnOnce(Arc<JwksKeyProvider>) -> JwtClaimMapper) -> Fixture {
        let server = JwksServer::start(Reply::json(jwks(&[
            rsa().jwk_with_kid("r1"),
            p256().jwk_with_kid("e1"),
        ])))
        .await;
        let keys = JwksKeyProvider::builder()
            .uri(server.uri())
            .refresh_interval(Duration::ZERO)
            .build()
            .await
            .expect("keys");
        let keys = Arc::new(keys);
        Fixture {
            server,
            mapper: mapper(Arc::clone(&keys)),
            keys,
            seen: Arc::default(),
        }
    }

    /// Calls `path` with a message for `namespace` and `token` (if any); the gRPC status of
    /// a denial, or `None` when the inner service answered.
    async fn call(
        &self,
        path: &str,
        namespace: &str,
        token: Option<&str>,
    ) -> Option<tonic::Status> {
        let layer = AuthzLayer::builder()
            .claim_mapper(self.mapper.clone())
            .authorizer(DefaultAuthorizer::new())
            .audience("test-audience")
            .build();
        let seen = Arc::clone(&self.seen);
        let inner = service_fn(move |req: Request<tonic::body::Body>| {
            let seen = Arc::clone(&seen);
            async move {
                seen.lock()
                    .expect("lock")
                    .push(req.extensions().get::<Claims>().cloned());
                Ok::<_, Infallible>(Response::new(tonic::body::Body::empty()))
            }
        });
        let body = frame(
            &NamespaceRequest {
                namespace: namespace.to_owned(),
            }
            .encode_to_vec(),
        );
        let mut req = Request::builder()
            .uri(format!("http://localhost{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        if let Some(token) = token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let req = req
            .body(chunked_body(&body, body.len(), None))
            .expect("request");
        let resp = layer.layer(inner).oneshot(req).await.expect("infallible");
        header_status(&resp)
    }
}

#[tokio::test]
async fn tokens_from_a_jwks_endpoint_drive_the_default_authorizer() {
    let f = Fixture::new().await;
    let now = unix_now();
    let writer = rsa().sign("r1", &temporal_payload(now, &["default:write"]));
    let reader = p256().sign("e1", &temporal_payload(now, &["default:read"]));
    let admin = p256().sign("e1", &temporal_payload(now, &["temporal-system:admin"]));
    let system_reader = rsa().sign("r1", &temporal_payload(now, &["system:read"]));
    let mut expired = temporal_payload(now, &["default:write"]);
    expired["exp"] = json!(now - 1);
    let expired = rsa().sign("r1", &expired);
    let mut wrong_audience = temporal_payload(now, &["default:write"]);
    wrong_audience["aud"] = json!("someone-else");
    let wrong_audience = rsa().sign("r1", &wrong_audience);

    assert!(
        f.call(START_WORKFLOW, "default", Some(&writer))
            .await
            .is_none()
    );
    let claims = f
        .seen
        .lock()
        .expect("lock")
        .pop()
        .flatten()
        .expect("claims for the handler");
    assert_eq!(claims.subject(), "test-user");
    assert_eq!(claims.auth_type(), "jwt");
    assert_eq!(claims.namespace_role("default"), Role::WRITER);

    assert!(
        f.call(START_WORKFLOW, "default", Some(&admin))
            .await
            .is_none()
    );
    assert!(
        f.call(LIST_NAMESPACES, "", Some(&system_reader))
            .await
            .is_none()
    );

    let denied = [
        (START_WORKFLOW, "default", Some(reader.as_str())),
        (START_WORKFLOW, "other", Some(writer.as_str())),
        (START_WORKFLOW, "default", Some(expired.as_str())),
        (START_WORKFLOW, "default", Some(wrong_audience.as_str())),
        (START_WORKFLOW, "default", Some("not-a-jwt")),
        (START_WORKFLOW, "default", None),
        (LIST_NAMESPACES, "", Some(writer.as_str())),
    ];
    let before = f.seen.lock().expect("lock").len();
    for (path, namespace, token) in denied {
        let status = f.call(path, namespace, token).await.expect("denied");
        assert_temporal_denial(&status, "");
    }
    assert_eq!(
        f.seen.lock().expect("lock").len(),
        before,
        "the handler never ran"
    );
    // One verification per distinct signed token (writer, admin, system reader, reader,
    // expired, wrong audience); repeats hit the cache.
    assert!(
        f.call(START_WORKFLOW, "default", Some(&writer))
            .await
            .is_none()
    );
    assert_eq!(f.mapper.verifications(), 6);
}

/// The layer numbers a token's text, and the mapper answers a repeat of it from the entry the
/// text found before, without reading the token again: a repeat is still refused once the
/// token expires, and once its key leaves the key set.
#[tokio::test]
async fn a_repeated_token_is_still_refused_once_expired_or_its_key_is_gone() {
    let (now, clock) = moving_clock();
    let f = Fixture::with_mapper(|keys| JwtClaimMapper::builder(keys).clock(clock).build()).await;
    let mut payload = temporal_payload(NOW, &["default:write"]);
    payload["exp"] = json!(NOW + 100);
    let token = rsa().sign("r1", &payload);
    let allowed = || async {
        f.call(START_WORKFLOW, "default", Some(&token))
            .await
            .is_none()
    };
    for _ in 0..3 {
        assert!(allowed().await);
    }
    assert_eq!(f.mapper.verifications(), 1);
    now.store(NOW + 100, Ordering::SeqCst);
    assert!(!allowed().await, "expired");

    // Verified again before `exp`, then repeated; then its key leaves the set.
    now.store(NOW + 1, Ordering::SeqCst);
    for _ in 0..3 {
        assert!(allowed().await);
    }
    assert_eq!(f.mapper.verifications(), 2);
    f.server
        .set_reply(Reply::json(jwks(&[p256().jwk_with_kid("e1")])));
    f.keys.refresh().await.expect("refresh");
    let status = f
        .call(START_WORKFLOW, "default", Some(&token))
        .await
        .expect("refused: its key is gone");
    assert_temporal_denial(&status, "");
    assert_eq!(
        f.seen.lock().expect("lock").len(),
        6,
        "only the allowed calls ran"
    );
}
