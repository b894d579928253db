//! The test console: what an API offers to call, the key of a chosen subscription, and a
//! real call through the gateway — optionally traced — made from the server so that CORS and
//! host names do not matter.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
mod send;

/// The name of the built-in all-access subscription the console uses by default (APIM's
/// `master`).
pub const BUILT_IN_SUBSCRIPTION: &str = "master";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleOperation {
    pub name: String,
    pub display_name: String,
    pub method: String,
    pub url_template: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleSubscription {
    pub name: String,
    /// `Tester (product Calculator)`.
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleData {
    /// `http://flowdemo.localhost:8080/calc`: what the Request URL starts with.
    pub api_url: String,
    pub key_header: String,
    pub subscription_required: bool,
    pub operations: Vec<ConsoleOperation>,
    /// Active subscriptions that open the API; the built-in one first.
    pub subscriptions: Vec<ConsoleSubscription>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderPair {
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleRequest {
    pub service: String,
    pub method: String,
    /// The full request URL as shown (gateway URL + path + query).
    pub url: String,
    pub headers: Vec<HeaderPair>,
    pub body: String,
    pub trace: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDto {
    pub line: String,
    pub headers: Vec<HeaderPair>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceLine {
    pub section: String,
    pub scope: String,
    pub policy: String,
    pub elapsed_ms: f64,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceView {
    pub id: String,
    pub request: MessageDto,
    pub lines: Vec<TraceLine>,
    pub backend_request: Option<MessageDto>,
    pub backend_response: Option<MessageDto>,
    pub response: MessageDto,
    pub elapsed_ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsoleResponse {
    /// `HTTP/1.1 200 OK`.
    pub status_line: String,
    pub status: u16,
    pub headers: Vec<HeaderPair>,
    /// The body as text (pretty-printed when it is JSON), cut at 1 MiB.
    pub body: String,
    pub truncated: bool,
    pub size: usize,
    pub elapsed_ms: f64,
    pub trace: Option<TraceView>,
}

#[server]
pub async fn console_page(service: String, api: String) -> Result<ConsoleData, ServerFnError> {
    use portcullis_domain::{ApiName, SubscriptionScope};
    let (state, _) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let api = ApiName::parse(api).map_err(|e| ServerFnError::new(e.message))?;
    let store = state.control.store();
    let internal = crate::server::internal;
    let record = store.get_api(&service, &api).await.map_err(internal)?;
    let summary = crate::api::apis::api_summary(&state.gateway_url(&service), record.clone());
    let operations = store
        .list_operations(&service, &api)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|op| ConsoleOperation {
            name: op.name.to_string(),
            display_name: op.settings.display_name.to_string(),
            method: op.settings.method.as_str().to_owned(),
            url_template: op.settings.url_template.as_str().to_owned(),
        })
        .collect();
    let products = store.list_products(&service).await.map_err(internal)?;
    let mut subscriptions = vec![ConsoleSubscription {
        name: BUILT_IN_SUBSCRIPTION.to_owned(),
        label: "Built-in all-access subscription".to_owned(),
    }];
    for subscription in store.list_subscriptions(&service).await.map_err(internal)? {
        let settings = &subscription.settings;
        if !settings.state.is_active() || subscription.name.as_str() == BUILT_IN_SUBSCRIPTION {
            continue;
        }
        let opens = match &settings.scope {
            SubscriptionScope::AllApis => Some("all APIs".to_owned()),
            SubscriptionScope::Api(name) => (*name == api).then(|| format!("API {name}")),
            SubscriptionScope::Product(name) => products
                .iter()
                .find(|p| p.name == *name && p.apis.contains(&api))
                .map(|p| format!("product {}", p.settings.display_name)),
        };
        if let Some(scope) = opens {
            subscriptions.push(ConsoleSubscription {
                name: subscription.name.to_string(),
                label: format!("{} ({scope})", settings.display_name),
            });
        }
    }
    Ok(ConsoleData {
        api_url: summary.api_url,
        key_header: record.settings.key_header_name.as_str().to_owned(),
        subscription_required: record.settings.subscription_required,
        operations,
        subscriptions,
    })
}

/// The primary key of `subscription`; the built-in all-access subscription is created the
/// first time it is asked for.
#[server]
pub async fn console_key(service: String, subscription: String) -> Result<String, ServerFnError> {
    use portcullis_domain::model::SubscriptionSettings;
    use portcullis_domain::{DisplayName, SubscriptionName, SubscriptionScope, SubscriptionState};
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let name = SubscriptionName::parse(subscription).map_err(|e| ServerFnError::new(e.message))?;
    let store = state.control.store();
    match store.get_subscription(&service, &name).await {
        Ok(found) => return Ok(found.primary_key.expose().to_owned()),
        Err(portcullis_store::StoreError::NotFound(_))
            if name.as_str() == BUILT_IN_SUBSCRIPTION => {}
        Err(error) => return Err(crate::server::internal(error)),
    }
    let settings = SubscriptionSettings {
        display_name: DisplayName::parse("Built-in all-access subscription")
            .map_err(|e| ServerFnError::new(e.message))?,
        scope: SubscriptionScope::AllApis,
        state: SubscriptionState::Active,
    };
    state
        .control
        .write(store.put_subscription(&actor, &service, &name, settings))
        .await
        .map_err(crate::server::internal)?;
    let created = store
        .get_subscription(&service, &name)
        .await
        .map_err(crate::server::internal)?;
    Ok(created.primary_key.expose().to_owned())
}

/// Sends the request through the gateway and reports what came back; with `trace`, also
/// every policy step (the portal mints a trace token that lives five minutes).
#[server(input = Json)]
pub async fn send_console_request(
    request: ConsoleRequest,
) -> Result<ConsoleResponse, ServerFnError> {
    let (state, _) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(request.service.clone())?;
    send::send(&state, &service, request).await
}
