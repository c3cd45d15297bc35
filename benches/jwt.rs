//! `JwtClaimMapper` on RS256 and ES256 tokens: uncached (every call verifies the signature)
//! against cached (a verified-token cache hit), measured in the same run. Keys are generated
//! at start and served by a `StaticKeyProvider`.

#![allow(missing_docs)] // criterion's macros generate undocumented items

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tonic_authz::JwtClaimMapper;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (rsa, ec, keys) = common::keys();
    let cached = JwtClaimMapper::new(keys.clone());
    let uncached = JwtClaimMapper::builder(keys).cache_capacity(0).build();
    let mut group = c.benchmark_group("jwt");
    for key in [&rsa, &ec] {
        let alg = format!("{:?}", key.alg);
        let token = key.bearer("bench-user", &["default:write", "payments:read"]);
        // Prime the cache so every measured call is a hit.
        rt.block_on(cached.claims_for_token(&token, ""))
            .expect("valid token");
        group.bench_function(format!("{alg}_uncached"), |b| {
            b.to_async(&rt).iter(|| async {
                black_box(
                    uncached
                        .claims_for_token(black_box(&token), "")
                        .await
                        .expect("valid token"),
                )
            });
        });
        group.bench_function(format!("{alg}_cached"), |b| {
            b.to_async(&rt).iter(|| async {
                black_box(
                    cached
                        .claims_for_token(black_box(&token), "")
                        .await
                        .expect("valid token"),
                )
            });
        });
    }
    group.finish();
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
