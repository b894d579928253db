//! Subscriptions: their list, creation, keys and states.

use crate::api::FieldErrors;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionSummary {
    pub name: String,
    pub display_name: String,
    /// `/apis`, `/apis/{api}` or `/products/{product}`.
    pub scope: String,
    pub state: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keys {
    pub primary: String,
    pub secondary: String,
}

/// Subscriptions shown per page of the list.
pub const SUBSCRIPTIONS_PER_PAGE: u64 = 50;

/// One page of the list (with how many match in all), and what the Add subscription form
/// offers as scopes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionsPageData {
    pub subscriptions: Vec<SubscriptionSummary>,
    /// Subscriptions that match the search, on every page.
    pub total: u64,
    /// The page shown, from 0.
    pub page: u64,
    pub products: Vec<(String, String)>,
    pub apis: Vec<(String, String)>,
}

#[cfg(feature = "ssr")]
fn names(
    service: String,
    sid: String,
) -> Result<
    (
        portcullis_domain::ServiceName,
        portcullis_domain::SubscriptionName,
    ),
    ServerFnError,
> {
    Ok((
        crate::server::parse_service(service)?,
        portcullis_domain::SubscriptionName::parse(sid)
            .map_err(|e| ServerFnError::new(e.message))?,
    ))
}

/// Page `page` (from 0) of the subscriptions whose name or display name contains `search`.
/// A page past the end shows the last one.
#[server]
pub async fn subscriptions_page(
    service: String,
    search: String,
    page: u64,
) -> Result<SubscriptionsPageData, ServerFnError> {
    use portcullis_domain::ListQuery;
    let (state, _) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let store = state.control.store();
    let mut query = ListQuery {
        top: SUBSCRIPTIONS_PER_PAGE,
        skip: page.saturating_mul(SUBSCRIPTIONS_PER_PAGE),
        filter: Vec::new(),
    };
    let search = Some(search.as_str()).filter(|s| s.len() <= 300);
    let mut found = store
        .page_subscriptions(&service, &query, search)
        .await
        .map_err(crate::server::internal)?;
    let last_page = found.count.saturating_sub(1) / SUBSCRIPTIONS_PER_PAGE;
    let page = if found.items.is_empty() && page > last_page {
        query.skip = last_page * SUBSCRIPTIONS_PER_PAGE;
        found = store
            .page_subscriptions(&service, &query, search)
            .await
            .map_err(crate::server::internal)?;
        last_page
    } else {
        page
    };
    let products = store
        .list_products(&service)
        .await
        .map_err(crate::server::internal)?;
    let apis = store
        .list_apis(&service)
        .await
        .map_err(crate::server::internal)?;
    Ok(SubscriptionsPageData {
        total: found.count,
        page,
        subscriptions: found
            .items
            .into_iter()
            .map(|s| SubscriptionSummary {
                name: s.name.to_string(),
                display_name: s.settings.display_name.to_string(),
                scope: s.settings.scope.to_path(),
                state: s.settings.state.as_str().to_owned(),
            })
            .collect(),
        products: products
            .into_iter()
            .map(|p| (p.name.to_string(), p.settings.display_name.to_string()))
            .collect(),
        apis: apis
            .into_iter()
            .map(|a| (a.name.to_string(), a.settings.display_name.to_string()))
            .collect(),
    })
}

/// **Add subscription** → Create. `scope` is `all`, `product` or `api`; the matching select
/// names the target.
#[server]
pub async fn create_subscription(
    service: String,
    name: String,
    display_name: String,
    scope: String,
    product: Option<String>,
    api: Option<String>,
) -> Result<FieldErrors, ServerFnError> {
    use portcullis_domain::model::SubscriptionSettings;
    use portcullis_domain::*;
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let scope = match scope.as_str() {
        "all" => Ok(SubscriptionScope::AllApis),
        "product" => ProductName::parse(product.unwrap_or_default())
            .map(SubscriptionScope::Product)
            .map_err(|_| ValidationError::new("product", "InvalidScope", "Choose a product.")),
        "api" => ApiName::parse(api.unwrap_or_default())
            .map(SubscriptionScope::Api)
            .map_err(|_| ValidationError::new("api", "InvalidScope", "Choose an API.")),
        _ => Err(ValidationError::new(
            "scope",
            "InvalidScope",
            "Choose a scope.",
        )),
    };
    let parsed = (
        SubscriptionName::parse(name.trim()),
        DisplayName::parse(&display_name),
        scope,
    );
    let (name, display_name, scope) = match parsed {
        (Ok(n), Ok(d), Ok(s)) => (n, d, s),
        (n, d, s) => {
            let mut errors = FieldErrors::default();
            for error in [n.err(), d.err(), s.err()].into_iter().flatten() {
                let field = match error.field.as_str() {
                    "displayName" => "display_name".to_owned(),
                    "name" => "name".to_owned(),
                    other => other.to_owned(),
                };
                errors.0.push(crate::api::FieldError {
                    field,
                    message: error.message,
                });
            }
            return Ok(errors);
        }
    };
    let store = state.control.store();
    let settings = SubscriptionSettings {
        display_name,
        scope,
        state: SubscriptionState::Active,
    };
    if let Err(error) = state
        .control
        .write(store.create_subscription(&actor, &service, &name, settings))
        .await
    {
        return crate::api::field_errors(error);
    }
    Ok(FieldErrors::default())
}

/// The two keys, for **Show keys** and the copy buttons.
#[server]
pub async fn subscription_keys(service: String, sid: String) -> Result<Keys, ServerFnError> {
    let (state, actor) = crate::server::require_admin().await?;
    let (service, sid) = names(service, sid)?;
    let subscription = state
        .control
        .store()
        .read_subscription_keys(&actor, &service, &sid)
        .await
        .map_err(crate::server::internal)?;
    Ok(Keys {
        primary: subscription.primary_key.expose().to_owned(),
        secondary: subscription.secondary_key.expose().to_owned(),
    })
}

/// `which` is `primary` or `secondary`.
#[server]
pub async fn regenerate_key(
    service: String,
    sid: String,
    which: String,
) -> Result<(), ServerFnError> {
    use portcullis_store::KeySlot;
    let (state, actor) = crate::server::require_admin().await?;
    let (service, sid) = names(service, sid)?;
    let slot = if which == "secondary" {
        KeySlot::Secondary
    } else {
        KeySlot::Primary
    };
    let store = state.control.store();
    state
        .control
        .write(store.regenerate_key(&actor, &service, &sid, slot))
        .await
        .map_err(crate::server::internal)
}

/// **Suspend**, **Activate** or **Cancel**: `state` is `suspended`, `active` or `cancelled`.
#[server]
pub async fn set_subscription_state(
    service: String,
    sid: String,
    state: String,
) -> Result<(), ServerFnError> {
    use portcullis_domain::SubscriptionState;
    let (portal, actor) = crate::server::require_admin().await?;
    let (service, sid) = names(service, sid)?;
    let new_state = SubscriptionState::parse(&state).map_err(|e| ServerFnError::new(e.message))?;
    let store = portal.control.store();
    let mut settings = store
        .get_subscription(&service, &sid)
        .await
        .map_err(crate::server::internal)?
        .settings;
    settings.state = new_state;
    portal
        .control
        .write(store.put_subscription(&actor, &service, &sid, settings))
        .await
        .map(|_| ())
        .map_err(crate::server::internal)
}
