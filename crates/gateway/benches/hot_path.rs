//! The gateway's per-request lookups, measured on compiled snapshots: matching a request to
//! its API and operation, and finding the subscription behind a key — at 1 API and at
//! 1,000 APIs × 10 operations with 100,000 subscriptions (the sizes `bench/run.sh` uses).
//! Both should cost the same at either size: they are hash lookups, not scans.
//!
//! `cargo bench -p portcullis-gateway`

use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use http::request::Parts;
use portcullis_domain::model::*;
use portcullis_domain::*;
use portcullis_gateway::pipeline::{authenticate, matching};
use portcullis_gateway::{GatewaySettings, Snapshot};
use std::hint::black_box;

const KEY_HEADER: &str = "ocp-apim-subscription-key";

fn api(name: &str, operations: usize) -> ApiConfig {
    let methods = ["GET", "POST", "PUT", "DELETE", "PATCH"];
    ApiConfig {
        name: ApiName::parse(name).expect("an API name"),
        settings: ApiSettings {
            display_name: DisplayName::parse(name).expect("a display name"),
            service_url: ServiceUrl::parse("http://127.0.0.1:18181").expect("a URL"),
            path: ApiSuffix::parse(format!("bulk/{name}")).expect("a suffix"),
            subscription_required: true,
            key_header_name: KeyHeaderName::default(),
            key_query_param_name: KeyQueryParamName::default(),
            forward_subscription_key: false,
        },
        operations: (0..operations)
            .map(|n| OperationConfig {
                name: OperationName::parse(format!("op-{n}")).expect("an operation name"),
                settings: OperationSettings {
                    display_name: DisplayName::parse(format!("Operation {n}"))
                        .expect("a display name"),
                    method: HttpMethod::parse(methods[n % methods.len()]).expect("a method"),
                    url_template: UrlTemplate::parse(format!("/resource-{n}/{{id}}"))
                        .expect("a template"),
                },
            })
            .collect(),
    }
}

/// A service with `apis` APIs of 10 operations in one product, and `subscriptions`
/// subscriptions to it; returns the snapshot and one valid key.
fn snapshot(apis: usize, subscriptions: usize) -> (Snapshot, String) {
    let product = ProductName::parse("bench").expect("a product name");
    let apis: Vec<ApiConfig> = (0..apis).map(|n| api(&format!("api-{n:04}"), 10)).collect();
    let subscriptions: Vec<SubscriptionConfig> = (0..subscriptions)
        .map(|n| SubscriptionConfig {
            name: SubscriptionName::parse(format!("sub-{n:06}")).expect("a subscription name"),
            settings: SubscriptionSettings {
                display_name: DisplayName::parse(format!("Subscription {n}"))
                    .expect("a display name"),
                scope: SubscriptionScope::Product(product.clone()),
                state: SubscriptionState::Active,
            },
            primary_key: SubscriptionKey::generate(),
            secondary_key: SubscriptionKey::generate(),
        })
        .collect();
    let key = subscriptions[subscriptions.len() / 2]
        .primary_key
        .expose()
        .to_owned();
    let model = ConfigModel {
        revision: 1,
        services: vec![ServiceConfig {
            name: ServiceName::parse("bench").expect("a service name"),
            settings: ServiceSettings {
                display_name: DisplayName::parse("Bench").expect("a display name"),
                is_default: true,
            },
            products: vec![ProductConfig {
                name: product,
                settings: ProductSettings {
                    display_name: DisplayName::parse("Bench").expect("a display name"),
                    description: String::new(),
                    subscription_required: true,
                    approval_required: false,
                    state: ProductState::Published,
                },
                apis: apis.iter().map(|a| a.name.clone()).collect(),
            }],
            apis,
            subscriptions,
            policies: vec![],
        }],
        ..ConfigModel::default()
    };
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
