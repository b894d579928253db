//! The gateway's per-request lookups, measured on compiled snapshots: matching a request to
//! its API and operation, and finding the subscription behind a key — at 1 API and at
//! 1,000 APIs × 10 operations with 100,000 subscriptions (the sizes `bench/run.sh` uses).
//! Both should cost the same at either size: they are hash lookups, not scans.
//!
//! `cargo bench -p portcullis-gateway`

mod large_model;

use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use http::request::Parts;
use portcullis_gateway::pipeline::{authenticate, matching};
use portcullis_gateway::{GatewaySettings, Snapshot};
use std::hint::black_box;

const KEY_HEADER: &str = "ocp-apim-subscription-key";

/// The snapshot of [`large_model::model`] and one valid key.
fn snapshot(apis: usize, subscriptions: usize) -> (Snapshot, String) {
    let (model, key) = large_model::model(apis, subscriptions);
    (Snapshot::compile(&model, &GatewaySettings::default()), key)
}

/// A call to the last API's seventh operation (a `POST` with a template parameter).
fn request(apis: usize, key: &str) -> Parts {
    let path = format!("/bulk/api-{:04}/resource-6/42", apis - 1);
    Request::post(path)
        .header("host", "bench.localhost")
        .header(KEY_HEADER, key)
        .body(())
        .expect("a valid request")
        .into_parts()
        .0
}

fn lookups(c: &mut Criterion) {
    let mut group = c.benchmark_group("hot path");
    for (apis, subscriptions) in [(1, 1), (1000, 100_000)] {
        let (snapshot, key) = snapshot(apis, subscriptions);
        let parts = request(apis, &key);
        let size = format!("{apis} APIs, {subscriptions} subscriptions");
        group.bench_function(format!("route / {size}"), |b| {
            b.iter(|| {
                let routed = matching::route(black_box(&snapshot), black_box(&parts));
                black_box(routed.is_ok())
            })
        });
        group.bench_function(format!("route + key / {size}"), |b| {
            b.iter(|| {
                let routed = matching::route(black_box(&snapshot), black_box(&parts))
                    .expect("the request matches");
                let caller = authenticate::authenticate(&routed, black_box(&parts))
                    .expect("the key is valid");
                black_box(caller.product)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
