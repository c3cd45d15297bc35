//! Memory under a flood of distinct tokens: 100 000 distinct valid ES256 tokens pushed through
//! a `JwtClaimMapper` whose verified-token cache holds at most 10 000. Checks that the cache
//! stays at its bound and that resident memory after the flood is within 10% of what it was
//! once the cache first filled up (and reports it against the start too).
//!
//! Run with `cargo bench --bench memory`; exits non-zero when a check fails.

#![allow(missing_docs)] // a bench binary, not an API

mod common;

use std::process::ExitCode;
use std::time::Instant;

use tonic_authz::JwtClaimMapper;

const TOKENS: u64 = 100_000;
const CAPACITY: u64 = 10_000;
/// x86-64 and aarch64 Linux both use 4 KiB pages for `statm`.
const PAGE: u64 = 4096;

/// Resident set size in bytes, from `/proc/self/statm` (second field, in pages).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .expect("statm resident field");
    pages * PAGE
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

async fn push(mapper: &JwtClaimMapper, key: &common::SigningKey, range: std::ops::Range<u64>) {
    for i in range {
        // Distinct subject, so a distinct token and cache key every time.
        let token = key.bearer(&format!("user-{i:06}"), &["default:write"]);
        let claims = mapper
            .claims_for_token(&token, "")
            .await
            .expect("valid token");
        assert_eq!(claims.subject(), format!("user-{i:06}"));
    }
}

fn main() -> ExitCode {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (_rsa, ec, keys) = common::keys();
    let mapper = JwtClaimMapper::builder(keys)
        .cache_capacity(CAPACITY)
        .build();
    let started = Instant::now();
    let rss_start = rss();
    let (count_full, rss_full, count_end, rss_end) = rt.block_on(async {
        push(&mapper, &ec, 0..CAPACITY).await;
        mapper.sync_cache().await;
        let count_full = mapper.cached_tokens();
        let rss_full = rss();
        push(&mapper, &ec, CAPACITY..TOKENS).await;
        mapper.sync_cache().await;
        (count_full, rss_full, mapper.cached_tokens(), rss())
    });
    let verifications = mapper.verifications();
    let growth = rss_end as f64 / rss_full as f64;
    println!("tokens pushed: {TOKENS} distinct, {verifications} signatures verified");
    println!("elapsed: {:.1} s", started.elapsed().as_secs_f64());
    println!("cache bound: {CAPACITY}");
    println!("cache entries after {CAPACITY} tokens: {count_full}");
    println!("cache entries after {TOKENS} tokens: {count_end}");
    println!("RSS at start: {:.1} MiB", mib(rss_start));
    println!(
        "RSS with the cache full ({CAPACITY} tokens): {:.1} MiB",
        mib(rss_full)
    );
    println!(
        "RSS after {TOKENS} tokens: {:.1} MiB ({growth:.3}x the full-cache figure, {:.3}x the start)",
        mib(rss_end),
        rss_end as f64 / rss_start as f64
    );
    let bounded = count_end <= CAPACITY && verifications == TOKENS;
    let flat = growth <= 1.10;
    println!("cache at its bound: {}", if bounded { "yes" } else { "NO" });
    println!(
        "RSS within 10% of the full-cache figure: {}",
        if flat { "yes" } else { "NO" }
    );
    if bounded && flat {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
