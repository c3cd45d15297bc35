//! The JWKS provider's metrics: fetch outcomes, keys loaded, refetches on unknown `kid`.
//! One test in its own binary, because the metrics recorder is process-global.

use tonic_authz_testkit::jwks_server;
use tonic_authz_testkit::jwt as jwt_keys;

use std::sync::Arc;
use std::time::Duration;

use jwks_server::{JwksServer, Reply, unused_addr};
use jwt_keys::{b64_json, jwks, p256, rsa};
use metrics_util::CompositeKey;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use serde_json::json;
use tonic_authz::{AuthInfo, ClaimMapper, JwksKeyProvider, JwtClaimMapper};

/// Metric values since the previous snapshot (taking a snapshot drains the recorder).
fn snapshot(snapshotter: &Snapshotter) -> Vec<(CompositeKey, DebugValue)> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| (key, value))
        .collect()
}

fn value<'s>(
    snapshot: &'s [(CompositeKey, DebugValue)],
    name: &str,
    outcome: Option<&str>,
) -> Option<&'s DebugValue> {
    snapshot
        .iter()
        .find(|(key, _)| {
            let key = key.key();
            key.name() == name
                && outcome
                    .is_none_or(|o| key.labels().any(|l| l.key() == "outcome" && l.value() == o))
        })
        .map(|(_, v)| v)
}

#[tokio::test]
async fn fetch_outcomes_keys_loaded_and_kid_misses_are_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().expect("only recorder in this binary");

    let addr = unused_addr().await;
    let keys = Arc::new(
        JwksKeyProvider::builder()
            .uri(format!("http://{addr}/jwks.json"))
            .refresh_interval(Duration::ZERO)
            .kid_miss_cooldown(Duration::ZERO)
            .build()
            .await
            .expect("build"),
    );
    let fetches = "tonic_authz_jwks_fetches_total";
    let start = snapshot(&snapshotter);
    assert_eq!(
        value(&start, fetches, Some("error")),
        Some(&DebugValue::Counter(1))
    );
    assert_eq!(
        value(&start, "tonic_authz_jwks_keys_loaded", None),
        Some(&DebugValue::Gauge(0.0.into()))
    );

    let _server = JwksServer::start_on(
        addr,
        Reply::json(jwks(&[rsa().jwk_with_kid("r1"), p256().jwk_with_kid("e1")])),
    )
    .await;
    let mapper = JwtClaimMapper::new(keys.clone());
    let token = format!(
        "{}.{}.c2ln",
        b64_json(&json!({"alg": "RS256", "kid": "unknown"})),
        b64_json(&json!({"sub": "x"}))
    );
    assert!(
        mapper
            .get_claims(&AuthInfo::with_token(format!("Bearer {token}")))
            .await
            .is_err()
    );
    let later = snapshot(&snapshotter);
    assert_eq!(
        value(&later, fetches, Some("success")),
        Some(&DebugValue::Counter(1))
    );
    assert_eq!(
        value(&later, "tonic_authz_jwks_kid_miss_refetches_total", None),
        Some(&DebugValue::Counter(1))
    );
    assert_eq!(
        value(&later, "tonic_authz_jwks_keys_loaded", None),
        Some(&DebugValue::Gauge(2.0.into()))
    );
}
