//! Identity providers on the hot path, each figure against a baseline measured in the same
//! run, driven on a current-thread runtime.
//!
//! Groups:
//! - `issuers`: a cached token through a mapper with one (default) issuer, against a cached
//!   token from the third of three trusted issuers (routing by `iss` on top of the cache hit).
//! - `api_key`: one allowed DescribeNamespace call through the whole layer with a cached JWT
//!   (the baseline) and with an API key (the JWT mapper behind the API-key mapper), and the
//!   pass-through alone.

#![allow(missing_docs)] // criterion's macros generate undocumented items

mod common;

use std::convert::Infallible;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response};
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, EncodingKey};
use prost::Message;
use rcgen::{KeyPair, PKCS_ECDSA_P256_SHA256};
use serde_json::json;
use tonic_authz::{
    ApiKeyClaimMapper, AuthzLayer, DefaultAuthorizer, JwtClaimMapper, StaticKeyProvider,
    TrustedIssuer, VerificationKey, api_key_sha256,
};
use tower::{Layer, Service, ServiceExt, service_fn};

use common::temporal::DescribeNamespaceRequest;

type Body = tonic::body::Body;

/// An EC key, its public half as a provider, and tokens it signs.
struct Issuer {
    encoding: EncodingKey,
    keys: Arc<StaticKeyProvider>,
}

impl Issuer {
    fn new() -> Issuer {
        let pair = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("ec key");
        let public = VerificationKey::from_pem(pair.public_key_pem().as_bytes()).expect("public");
        Issuer {
            encoding: EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).expect("pem"),
            keys: Arc::new(StaticKeyProvider::new().with_key("k", public)),
        }
    }

    fn bearer(&self, iss: &str) -> String {
        let exp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs()
            + 3600;
        let header = json!({"alg": "ES256", "kid": "k", "typ": "JWT"});
        let payload =
            json!({"iss": iss, "sub": "bench", "exp": exp, "permissions": ["default:write"]});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("json")),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).expect("json"))
        );
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &self.encoding, Algorithm::ES256)
                .expect("sign");
        format!("Bearer {input}.{signature}")
    }
}

async fn passthrough(req: Request<Body>) -> Result<Response<Body>, Infallible> {
    let body = req.into_body().collect().await;
    black_box(body.is_ok());
    Ok(Response::new(Body::empty()))
}

fn request(token: &str, body: &Bytes) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(common::DESCRIBE_NAMESPACE)
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("authorization", token)
        .body(Body::new(http_body_util::Full::new(body.clone())))
        .expect("request")
}

async fn run<S>(svc: &S, token: &str, body: &Bytes) -> u16
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone,
{
    let resp = svc
        .clone()
        .oneshot(black_box(request(token, body)))
        .await
        .expect("infallible");
    resp.headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(0)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    // Issuers: one default issuer, and three trusted issuers.
    let issuers: Vec<Issuer> = (0..3).map(|_| Issuer::new()).collect();
    let single = JwtClaimMapper::new(Arc::clone(&issuers[0].keys) as _);
    let mut three = JwtClaimMapper::multi_issuer();
    for (i, issuer) in issuers.iter().enumerate() {
        three = three.trusted_issuer(
            TrustedIssuer::builder(
                format!("https://idp{i}.example"),
                Arc::clone(&issuer.keys) as _,
            )
            .build()
            .expect("issuer"),
        );
    }
    let three = three.build();
    let single_token = issuers[0].bearer("https://idp0.example");
    let third_token = issuers[2].bearer("https://idp2.example");
    rt.block_on(async {
        single
            .claims_for_token(&single_token, "")
            .await
            .expect("valid");
        three
            .claims_for_token(&third_token, "")
            .await
            .expect("valid");
    });
    let mut group = c.benchmark_group("issuers");
    group.bench_function("single_issuer/cached", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(
                single
                    .claims_for_token(&single_token, "")
                    .await
                    .expect("ok"),
            )
        });
    });
    group.bench_function("third_of_three_issuers/cached", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(three.claims_for_token(&third_token, "").await.expect("ok"))
        });
    });
    group.finish();

    // API keys through the layer.
    let key = "tak_bench_3q2+7w==AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
    let file = std::env::temp_dir().join(format!(
        "tonic-authz-bench-keys-{}.yaml",
        std::process::id()
    ));
    std::fs::write(
        &file,
        format!(
            "- sha256: {}\n  subject: bench\n  permissions: [\"default:write\"]\n  expiresAt: 2099-01-01T00:00:00Z\n",
            api_key_sha256(key)
        ),
    )
    .expect("key file");
    let jwt_layer = AuthzLayer::builder()
        .claim_mapper(single.clone())
        .authorizer(DefaultAuthorizer::new())
        .build();
    let api_keys = rt
        .block_on(
            ApiKeyClaimMapper::builder(&file)
                .reload_interval(Duration::ZERO)
                .token_mapper(single.clone())
                .build(),
        )
        .expect("api keys");
    let key_layer = AuthzLayer::builder()
        .claim_mapper(api_keys)
        .authorizer(DefaultAuthorizer::new())
        .build();
    let inner = service_fn(passthrough);
    let with_jwt = jwt_layer.layer(inner);
    let with_keys = key_layer.layer(inner);
    let body = Bytes::from(common::frame(
        0,
        &DescribeNamespaceRequest {
            namespace: "default".to_owned(),
            id: String::new(),
        }
        .encode_to_vec(),
    ));
    let key_header = format!("Bearer {key}");
    assert_eq!(rt.block_on(run(&with_jwt, &single_token, &body)), 0);
    assert_eq!(rt.block_on(run(&with_keys, &key_header, &body)), 0);
    assert_eq!(rt.block_on(run(&with_keys, &single_token, &body)), 0);
    assert_eq!(rt.block_on(run(&with_keys, "Bearer tak_wrong", &body)), 7);
    let mut group = c.benchmark_group("api_key");
    group.bench_function("passthrough", |b| {
        b.to_async(&rt).iter(|| run(&inner, &single_token, &body));
    });
    group.bench_function("layer_cached_jwt", |b| {
        b.to_async(&rt)
            .iter(|| run(&with_jwt, &single_token, &body));
    });
    group.bench_function("layer_api_key", |b| {
        b.to_async(&rt).iter(|| run(&with_keys, &key_header, &body));
    });
    group.finish();
    let _ = std::fs::remove_file(&file);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = bench
}
criterion_main!(benches);
