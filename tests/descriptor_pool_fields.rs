//! A namespace field from a descriptor pool must be one the layer's wire scan reads exactly as
//! the handler decodes it: inside a real `oneof`, or with a proto2 default, it is not, and the
//! layer refuses it when built (or refuses every call to the method when built anyway); a
//! proto3 `optional` field is fine.

use std::convert::Infallible;

use http::{Request, Response};
use prost_reflect::DescriptorPool;
use tonic::Code;
use tonic_authz::{AuthzLayer, NoopAuthorizer};
use tower::{Layer, ServiceExt, service_fn};

const PROTO3: &str = r#"
syntax = "proto3";
package fields.v1;
message Plain { string namespace = 1; }
message Optional { optional string namespace = 1; }
message InOneof { oneof target { string namespace = 1; string other = 2; } }
service Svc {
  rpc Plain(fields.v1.Plain) returns (fields.v1.Plain);
  rpc Optional(fields.v1.Optional) returns (fields.v1.Plain);
  rpc InOneof(fields.v1.InOneof) returns (fields.v1.Plain);
}
"#;

const PROTO2: &str = r#"
syntax = "proto2";
package fields.v2;
message Defaulted { optional string namespace = 1 [default = "default"]; }
message Plain { optional string namespace = 1; }
service Svc {
  rpc Defaulted(fields.v2.Defaulted) returns (fields.v2.Plain);
  rpc Plain(fields.v2.Plain) returns (fields.v2.Plain);
}
"#;

fn pool(name: &str, text: &str) -> DescriptorPool {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(name), text).expect("write proto");
    let fds = protox::compile([name], [dir.path()]).expect("compiles");
    DescriptorPool::from_file_descriptor_set(fds).expect("pool")
}

#[test]
fn oneof_and_defaulted_namespace_fields_are_refused_when_built() {
    let error = AuthzLayer::builder()
        .descriptor_pool(pool("v1.proto", PROTO3))
        .try_build()
        .map(|_| ())
        .expect_err("a oneof member is refused");
    assert_eq!(error.method(), "/fields.v1.Svc/InOneof");
    assert_eq!(error.field(), "fields.v1.InOneof.namespace");
    assert!(
        error.to_string().contains("is a member of a oneof"),
        "{error}"
    );

    let error = AuthzLayer::builder()
        .descriptor_pool(pool("v2.proto", PROTO2))
        .try_build()
        .map(|_| ())
        .expect_err("a proto2 default is refused");
    assert_eq!(error.method(), "/fields.v2.Svc/Defaulted");
    assert!(error.to_string().contains("has a default value"), "{error}");
}

#[tokio::test]
async fn built_anyway_the_method_is_refused_and_the_others_served() {
    let layer = AuthzLayer::builder()
        .authorizer(NoopAuthorizer)
        .descriptor_pool(pool("v1.proto", PROTO3))
        .build();
    for (path, refused) in [
        ("/fields.v1.Svc/InOneof", true),
        ("/fields.v1.Svc/Optional", false),
        ("/fields.v1.Svc/Plain", false),
    ] {
        let inner = service_fn(|_req: Request<tonic::body::Body>| async {
            Ok::<_, Infallible>(Response::new(tonic::body::Body::empty()))
        });
        let req = Request::builder()
            .uri(format!("http://localhost{path}"))
            .header("content-type", "application/grpc")
            .body(tonic::body::Body::empty())
            .expect("request");
        let resp = layer.layer(inner).oneshot(req).await.expect("infallible");
        let code = resp
            .headers()
            .get("grpc-status")
            .map(|v| Code::from_bytes(v.as_bytes()));
        if refused {
            assert_eq!(code, Some(Code::FailedPrecondition), "{path}");
        } else {
            assert_eq!(code, None, "{path}: served");
        }
    }
}
