//! The configuration sizes `bench/run.sh` uses, built in memory: 1,000 APIs × 10
//! operations in one product, with 100,000 subscriptions to it. Shared by the `hot_path`
//! benchmark and the `snapshot_memory` example.

use portcullis_domain::model::*;
use portcullis_domain::*;

pub fn api(name: &str, operations: usize) -> ApiConfig {
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
            description: String::new(),
        },
        schemas: Default::default(),
        operations: (0..operations)
            .map(|n| OperationConfig {
                name: OperationName::parse(format!("op-{n}")).expect("an operation name"),
                settings: OperationSettings {
                    display_name: DisplayName::parse(format!("Operation {n}"))
                        .expect("a display name"),
                    method: HttpMethod::parse(methods[n % methods.len()]).expect("a method"),
                    url_template: UrlTemplate::parse(format!("/resource-{n}/{{id}}"))
                        .expect("a template"),
                    responses: Vec::new(),
                    description: String::new(),
                    template_parameters: Vec::new(),
                    request: Default::default(),
                },
            })
            .collect(),
    }
}

/// A service with `apis` APIs of 10 operations in one product, and `subscriptions`
/// subscriptions to it; returns the model and one valid key.
pub fn model(apis: usize, subscriptions: usize) -> (ConfigModel, String) {
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
            named_values: Default::default(),
            library: Default::default(),
            secrets: Default::default(),
        }],
        ..ConfigModel::default()
    };
    (model, key)
}
