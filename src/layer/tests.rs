//! Smoke tests of the layer through `oneshot`; the full suites live in `tests/`.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use tower::{Layer, ServiceExt, service_fn};

use crate::{AuthzLayer, Claims, DefaultAuthorizer, NoopClaimMapper, Role};

const DESCRIBE: &str = "/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace";

fn frame(msg: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8];
    out.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    out.extend_from_slice(msg);
    out
}

fn request(path: &str, body: Vec<u8>) -> Request<tonic::body::Body> {
    Request::builder()
        .uri(format!("http://localhost{path}"))
        .header("content-type", "application/grpc")
        .body(tonic::body::Body::new(http_body_util::Full::new(
            Bytes::from(body),
        )))
        .expect("request")
}

#[tokio::test]
async fn allows_and_denies_by_namespace_and_forwards_the_exact_body() {
    let seen = Arc::new(std::sync::Mutex::new(
        Vec::<(Vec<u8>, Option<Claims>)>::new(),
    ));
    let calls = Arc::new(AtomicUsize::new(0));
    let inner = {
        let seen = Arc::clone(&seen);
        let calls = Arc::clone(&calls);
        service_fn(move |req: Request<tonic::body::Body>| {
            let seen = Arc::clone(&seen);
            calls.fetch_add(1, Ordering::SeqCst);
            async move {
                let claims = req.extensions().get::<Claims>().cloned();
                let body = req.into_body().collect().await.expect("body").to_bytes();
                seen.lock().expect("lock").push((body.to_vec(), claims));
                Ok::<_, Infallible>(Response::new(tonic::body::Body::empty()))
            }
        })
    };
    let mapper = |_: &crate::AuthInfo| async {
        Ok::<_, crate::ClaimsError>(
            Claims::new()
                .with_subject("bob")
                .with_namespace("tn", Role::READER),
        )
    };
    let layer = AuthzLayer::builder()
        .claim_mapper(mapper)
        .authorizer(DefaultAuthorizer::new())
        .build();
    let svc = layer.layer(inner);

    let allowed = frame(b"\x0a\x02tn");
    let req = request(DESCRIBE, allowed.clone());
    let mut req = req;
    req.headers_mut()
        .insert("authorization", "Bearer x".parse().expect("header"));
    let resp = svc.clone().oneshot(req).await.expect("infallible");
    assert!(resp.headers().get("grpc-status").is_none());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    {
        let seen = seen.lock().expect("lock");
        assert_eq!(seen[0].0, allowed);
        assert_eq!(seen[0].1.as_ref().map(Claims::subject), Some("bob"));
    }

    let mut req = request(DESCRIBE, frame(b"\x0a\x02TN"));
    req.headers_mut()
        .insert("authorization", "Bearer x".parse().expect("header"));
    let resp = svc.clone().oneshot(req).await.expect("infallible");
    let status = tonic::Status::from_header_map(resp.headers()).expect("status");
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    assert_eq!(status.message(), "Request unauthorized.");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "inner service must not see a denied call"
    );
}

#[tokio::test]
async fn no_credentials_means_no_claims_but_health_is_allowed() {
    let calls = Arc::new(AtomicUsize::new(0));
    let inner = {
        let calls = Arc::clone(&calls);
        service_fn(move |_req: Request<tonic::body::Body>| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, Infallible>(Response::new(tonic::body::Body::empty())) }
        })
    };
    let layer = AuthzLayer::builder()
        .claim_mapper(|_: &crate::AuthInfo| async {
            Ok::<_, crate::ClaimsError>(Claims::system_admin())
        })
        .build();
    let svc = layer.layer(inner);
    let resp = svc
        .clone()
        .oneshot(request(DESCRIBE, frame(b"\x0a\x02tn")))
        .await
        .expect("infallible");
    let status = tonic::Status::from_header_map(resp.headers()).expect("status");
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    let resp = svc
        .clone()
        .oneshot(request("/grpc.health.v1.Health/Check", frame(b"")))
        .await
        .expect("infallible");
    assert!(resp.headers().get("grpc-status").is_none());
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // The no-op mapper needs no credentials.
    let svc = AuthzLayer::builder()
        .claim_mapper(NoopClaimMapper)
        .build()
        .layer(service_fn(|_req: Request<tonic::body::Body>| async {
            Ok::<_, Infallible>(Response::new(tonic::body::Body::empty()))
        }));
    let resp = svc
        .oneshot(request(DESCRIBE, frame(b"\x0a\x02tn")))
        .await
        .expect("infallible");
    assert!(resp.headers().get("grpc-status").is_none());
}

#[tokio::test]
async fn malformed_and_oversized_messages_are_refused() {
    let svc = AuthzLayer::builder()
        .claim_mapper(NoopClaimMapper)
        .max_message_size(16)
        .build()
        .layer(service_fn(|_req: Request<tonic::body::Body>| async {
            Ok::<_, Infallible>(Response::new(tonic::body::Body::empty()))
        }));
    let code = |resp: Response<tonic::body::Body>| {
        tonic::Status::from_header_map(resp.headers()).map(|s| s.code())
    };
    let big = frame(&[b'x'; 17]);
    let resp = svc
        .clone()
        .oneshot(request(DESCRIBE, big))
        .await
        .expect("infallible");
    assert_eq!(code(resp), Some(tonic::Code::ResourceExhausted));
    let resp = svc
        .clone()
        .oneshot(request(DESCRIBE, frame(b"\x08\x01")))
        .await
        .expect("infallible");
    assert_eq!(code(resp), Some(tonic::Code::InvalidArgument));
    let mut truncated = frame(b"\x0a\x02tn");
    truncated.pop();
    let resp = svc
        .clone()
        .oneshot(request(DESCRIBE, truncated))
        .await
        .expect("infallible");
    assert_eq!(code(resp), Some(tonic::Code::InvalidArgument));
    let mut req = request(DESCRIBE, frame(b"\x0a\x02tn"));
    req.headers_mut()
        .insert("grpc-encoding", "snappy".parse().expect("header"));
    let resp = svc.clone().oneshot(req).await.expect("infallible");
    assert_eq!(code(resp), Some(tonic::Code::Unimplemented));
    let _ = DefaultAuthorizer::new();
}

#[tokio::test]
async fn a_repeated_credentials_header_uses_its_first_value() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let mapper = {
        let seen = Arc::clone(&seen);
        move |info: &crate::AuthInfo| {
            seen.lock()
                .expect("lock")
                .push((info.auth_token.clone(), info.extra_data.clone()));
            // Only the first token is a valid credential.
            let ok = info.auth_token == "Bearer a";
            async move {
                if ok {
                    Ok(Claims::new().with_system(Role::ADMIN))
                } else {
                    Err(crate::ClaimsError::new(
                        crate::ClaimsErrorKind::Signature,
                        "bad token",
                    ))
                }
            }
        }
    };
    let inner_calls = Arc::new(AtomicUsize::new(0));
    let inner = {
        let inner_calls = Arc::clone(&inner_calls);
        service_fn(move |_: Request<tonic::body::Body>| {
            inner_calls.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, Infallible>(Response::new(tonic::body::Body::empty())) }
        })
    };
    let svc = AuthzLayer::builder()
        .claim_mapper(mapper)
        .build()
        .layer(inner);
    let call = |first: &'static str, second: &'static str| {
        let mut req = request(DESCRIBE, frame(b"\x0a\x02tn"));
        let h = req.headers_mut();
        h.append("authorization", first.parse().expect("header"));
        h.append("authorization", second.parse().expect("header"));
        h.append("authorization-extras", "extra-1".parse().expect("header"));
        h.append("authorization-extras", "extra-2".parse().expect("header"));
        svc.clone().oneshot(req)
    };
    let resp = call("Bearer a", "Bearer b").await.expect("infallible");
    assert!(
        resp.headers().get("grpc-status").is_none(),
        "first value is the valid one"
    );
    let resp = call("Bearer b", "Bearer a").await.expect("infallible");
    let status = tonic::Status::from_header_map(resp.headers()).expect("status");
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    assert_eq!(status.message(), "Request unauthorized.");
    assert_eq!(inner_calls.load(Ordering::SeqCst), 1);
    let seen = seen.lock().expect("lock");
    assert_eq!(
        *seen,
        vec![
            ("Bearer a".to_owned(), "extra-1".to_owned()),
            ("Bearer b".to_owned(), "extra-1".to_owned()),
        ]
    );
}

#[tokio::test]
async fn authz_new_wraps_like_the_layer_and_hands_back_its_inner_service() {
    let calls = Arc::new(AtomicUsize::new(0));
    let inner = {
        let calls = Arc::clone(&calls);
        service_fn(move |_: Request<tonic::body::Body>| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, Infallible>(Response::new(tonic::body::Body::empty())) }
        })
    };
    let mapper = |_: &crate::AuthInfo| async {
        Ok::<_, crate::ClaimsError>(Claims::new().with_namespace("tn", Role::READER))
    };
    let layer = crate::Authz::layer(mapper, DefaultAuthorizer::new());
    let mut svc = crate::Authz::new(inner, &layer);
    let call = |ns: &'static [u8]| {
        let mut req = request(DESCRIBE, frame(ns));
        req.headers_mut()
            .insert("authorization", "Bearer x".parse().expect("header"));
        req
    };

    let resp = svc
        .clone()
        .oneshot(call(b"\x0a\x02tn"))
        .await
        .expect("infallible");
    assert!(resp.headers().get("grpc-status").is_none());
    let resp = svc
        .clone()
        .oneshot(call(b"\x0a\x02TN"))
        .await
        .expect("infallible");
    let status = tonic::Status::from_header_map(resp.headers()).expect("status");
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // The accessors reach the very service that was wrapped: unwrapped, it takes the call
    // the layer refused.
    let _: &mut _ = svc.get_mut();
    let unwrapped = svc.into_inner();
    let resp = unwrapped
        .oneshot(call(b"\x0a\x02TN"))
        .await
        .expect("infallible");
    assert!(resp.headers().get("grpc-status").is_none());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn custom_header_names_replace_the_default_ones() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let mapper = {
        let seen = Arc::clone(&seen);
        move |info: &crate::AuthInfo| {
            seen.lock()
                .expect("lock")
                .push((info.auth_token.clone(), info.extra_data.clone()));
            async { Ok::<_, crate::ClaimsError>(Claims::system_admin()) }
        }
    };
    let svc = AuthzLayer::builder()
        .claim_mapper(mapper)
        .auth_header_name(http::HeaderName::from_static("x-token"))
        .auth_extra_header_name(http::HeaderName::from_static("x-extras"))
        .build()
        .layer(service_fn(|_: Request<tonic::body::Body>| async {
            Ok::<_, Infallible>(Response::new(tonic::body::Body::empty()))
        }));
    let mut req = request(DESCRIBE, frame(b"\x0a\x02tn"));
    let h = req.headers_mut();
    h.insert("authorization", "Bearer ignored".parse().expect("header"));
    h.insert("authorization-extras", "ignored".parse().expect("header"));
    h.insert("x-token", "Bearer used".parse().expect("header"));
    h.insert("x-extras", "used".parse().expect("header"));
    let resp = svc.oneshot(req).await.expect("infallible");
    assert!(resp.headers().get("grpc-status").is_none());
    assert_eq!(
        *seen.lock().expect("lock"),
        vec![("Bearer used".to_owned(), "used".to_owned())]
    );
}

#[test]
fn every_temporal_method_has_a_plan_with_its_static_path() {
    use crate::ApiAccess;
    use crate::target::ApiName;

    let layer = AuthzLayer::new(NoopClaimMapper, DefaultAuthorizer::new());
    let plans = &layer.shared().plans;
    let mut count = 0;
    for (path, _) in ApiAccess::temporal().methods() {
        let plan = plans
            .get(path)
            .unwrap_or_else(|| panic!("no plan for {path}"));
        assert!(
            matches!(plan.name, ApiName::Static(name) if name == path),
            "{path}: {:?}",
            plan.name
        );
        assert_eq!(&*plan.api, path);
        count += 1;
    }
    assert!(count > 100, "only {count} Temporal methods");
}
