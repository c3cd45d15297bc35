//! Reading the namespace of a typical Temporal request (a `StartWorkflowExecutionRequest` as
//! an SDK sends it, about 600 bytes): the zero-copy scan of one field against a full prost
//! decode, plain and gzip-compressed (real SDKs always gzip), measured in the same run.

#![allow(missing_docs)] // criterion's macros generate undocumented items

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use prost::Message;
use tonic_authz::fuzzing::scan_string_field;

use common::temporal::{StartWorkflowExecutionRequest, start_workflow};

const LIMIT: usize = 4 << 20;

fn bench(c: &mut Criterion) {
    let plain = start_workflow("payments-prod").encode_to_vec();
    let compressed = common::gzip(&plain);
    println!(
        "StartWorkflowExecutionRequest: {} bytes, {} gzipped",
        plain.len(),
        compressed.len()
    );
    let mut group = c.benchmark_group("namespace");
    group.bench_function("plain_scan", |b| {
        b.iter(|| {
            black_box(
                scan_string_field(black_box(&plain), 1)
                    .expect("well formed")
                    .expect("present"),
            )
            .len()
        });
    });
    group.bench_function("plain_prost_decode", |b| {
        b.iter(|| {
            black_box(
                StartWorkflowExecutionRequest::decode(black_box(&plain[..])).expect("well formed"),
            )
            .namespace
            .len()
        });
    });
    group.bench_function("gzip_gunzip_scan", |b| {
        b.iter(|| {
            let raw = common::gunzip(black_box(&compressed), LIMIT);
            black_box(
                scan_string_field(&raw, 1)
                    .expect("well formed")
                    .expect("present")
                    .len(),
            )
        });
    });
    group.bench_function("gzip_gunzip_prost_decode", |b| {
        b.iter(|| {
            let raw = common::gunzip(black_box(&compressed), LIMIT);
            black_box(
                StartWorkflowExecutionRequest::decode(&raw[..])
                    .expect("well formed")
                    .namespace
                    .len(),
            )
        });
    });
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
