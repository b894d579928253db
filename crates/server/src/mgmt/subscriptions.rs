//! `/mgmt/services/{service}/subscriptions/{sid}`: `displayName`, `scope`, `state`; keys
//! only through `listSecrets`, new ones through `regeneratePrimaryKey`/`…SecondaryKey`.

use crate::mgmt::body::{JsonBody, name, saved_status};
use crate::mgmt::paging::ListRequest;
use crate::mgmt::{MgmtError, MgmtState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portcullis_domain::Page;
use portcullis_domain::model::{SubscriptionConfig, SubscriptionSettings};
use portcullis_domain::{
    DisplayName, ServiceName, SubscriptionName, SubscriptionScope, SubscriptionState,
};
use portcullis_store::Store;
use portcullis_store::{Actor, KeySlot};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionBody {
    display_name: Option<String>,
    scope: Option<String>,
    state: Option<String>,
}

#[derive(Serialize)]
pub struct SubscriptionView {
    id: String,
    name: SubscriptionName,
    #[serde(flatten)]
    settings: SubscriptionSettings,
}

fn view(service: &ServiceName, subscription: SubscriptionConfig) -> SubscriptionView {
    SubscriptionView {
        id: format!("/services/{service}/subscriptions/{}", subscription.name),
        name: subscription.name,
        settings: subscription.settings,
    }
}

fn names(service: String, sid: String) -> Result<(ServiceName, SubscriptionName), MgmtError> {
    Ok((
        name("service", service, ServiceName::parse)?,
        name("sid", sid, SubscriptionName::parse)?,
    ))
}

pub async fn list(
    State(control): State<MgmtState>,
    Path(service): Path<String>,
    list: ListRequest,
) -> Result<Json<serde_json::Value>, MgmtError> {
    let service = name("service", service, ServiceName::parse)?;
    let query = list.query(Store::SUBSCRIPTION_FILTER_FIELDS)?;
    let page = control
        .store()
        .page_subscriptions(&service, &query, None)
        .await?;
    let page = Page {
        items: page.items.into_iter().map(|s| view(&service, s)).collect(),
        count: page.count,
    };
    Ok(list.answer(&query, page))
}

pub async fn get(
    State(control): State<MgmtState>,
    Path((service, sid)): Path<(String, String)>,
) -> Result<Json<SubscriptionView>, MgmtError> {
    let (service, sid) = names(service, sid)?;
    Ok(Json(view(
        &service,
        control.store().get_subscription(&service, &sid).await?,
    )))
}

/// Creates (state `active` unless given) or replaces a subscription. New subscriptions get
/// two fresh keys; replacing one keeps its keys.
pub async fn put(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, sid)): Path<(String, String)>,
    JsonBody(body): JsonBody<SubscriptionBody>,
) -> Result<(StatusCode, Json<SubscriptionView>), MgmtError> {
    let service = name("service", service, ServiceName::parse)?;
    let sid = name("name", sid, SubscriptionName::parse)?;
    let settings = SubscriptionSettings {
        display_name: DisplayName::parse(body.display_name.as_deref().unwrap_or(sid.as_str()))?,
        scope: SubscriptionScope::parse(body.scope.as_deref().unwrap_or_default())?,
        state: match body.state {
            Some(state) => SubscriptionState::parse(state)?,
            None => SubscriptionState::Active,
        },
    };
    let saved = control
        .write(
            control
                .store()
                .put_subscription(&actor, &service, &sid, settings),
        )
        .await?;
    let record = control.store().get_subscription(&service, &sid).await?;
    Ok((saved_status(saved), Json(view(&service, record))))
}

pub async fn delete(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, sid)): Path<(String, String)>,
) -> Result<StatusCode, MgmtError> {
    let (service, sid) = names(service, sid)?;
    control
        .write(control.store().delete_subscription(&actor, &service, &sid))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Secrets {
    primary_key: String,
    secondary_key: String,
}

pub async fn list_secrets(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, sid)): Path<(String, String)>,
) -> Result<Json<Secrets>, MgmtError> {
    let (service, sid) = names(service, sid)?;
    let subscription = control
        .store()
        .read_subscription_keys(&actor, &service, &sid)
        .await?;
    Ok(Json(Secrets {
        primary_key: subscription.primary_key.expose().to_owned(),
        secondary_key: subscription.secondary_key.expose().to_owned(),
    }))
}

async fn regenerate(
    control: MgmtState,
    actor: Actor,
    service: String,
    sid: String,
    slot: KeySlot,
) -> Result<StatusCode, MgmtError> {
    let (service, sid) = names(service, sid)?;
    control
        .write(control.store().regenerate_key(&actor, &service, &sid, slot))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn regenerate_primary(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, sid)): Path<(String, String)>,
) -> Result<StatusCode, MgmtError> {
    regenerate(control, actor, service, sid, KeySlot::Primary).await
}

pub async fn regenerate_secondary(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, sid)): Path<(String, String)>,
) -> Result<StatusCode, MgmtError> {
    regenerate(control, actor, service, sid, KeySlot::Secondary).await
}
