//! `/mgmt/services/{service}/products/{product}`: `displayName`, `description`,
//! `subscriptionRequired`, `approvalRequired`, `state`; and `…/apis/{api}` links.

use crate::mgmt::body::{JsonBody, name, saved_status};
use crate::mgmt::paging::ListRequest;
use crate::mgmt::{MgmtError, MgmtState};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portcullis_domain::model::{ProductConfig, ProductSettings, parse_description};
use portcullis_domain::{ApiName, DisplayName, ProductName, ProductState, ServiceName};
use portcullis_store::{Actor, DeleteProduct};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductBody {
    display_name: Option<String>,
    description: Option<String>,
    subscription_required: Option<bool>,
    approval_required: Option<bool>,
    state: Option<String>,
}

#[derive(Serialize)]
pub struct ProductView {
    id: String,
    name: ProductName,
    #[serde(flatten)]
    settings: ProductSettings,
    apis: Vec<ApiName>,
}

fn view(service: &ServiceName, product: ProductConfig) -> ProductView {
    ProductView {
        id: format!("/services/{service}/products/{}", product.name),
        name: product.name,
        settings: product.settings,
        apis: product.apis,
    }
}

fn names(service: String, product: String) -> Result<(ServiceName, ProductName), MgmtError> {
    Ok((
        name("service", service, ServiceName::parse)?,
        name("product", product, ProductName::parse)?,
    ))
}

pub async fn list(
    State(control): State<MgmtState>,
    Path(service): Path<String>,
    list: ListRequest,
) -> Result<Json<serde_json::Value>, MgmtError> {
    let service = name("service", service, ServiceName::parse)?;
    let products = control.store().list_products(&service).await?;
    list.answer_in_memory(
        &["name", "displayName", "state"],
        products.into_iter().map(|p| view(&service, p)).collect(),
    )
}

pub async fn get(
    State(control): State<MgmtState>,
    Path((service, product)): Path<(String, String)>,
) -> Result<Json<ProductView>, MgmtError> {
    let (service, product) = names(service, product)?;
    Ok(Json(view(
        &service,
        control.store().get_product(&service, &product).await?,
    )))
}

pub async fn put(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, product)): Path<(String, String)>,
    JsonBody(body): JsonBody<ProductBody>,
) -> Result<(StatusCode, Json<ProductView>), MgmtError> {
    let service = name("service", service, ServiceName::parse)?;
    let product = name("name", product, ProductName::parse)?;
    let settings = ProductSettings {
        display_name: DisplayName::parse(body.display_name.as_deref().unwrap_or(product.as_str()))?,
        description: parse_description(body.description.as_deref().unwrap_or_default())?,
        subscription_required: body.subscription_required.unwrap_or(true),
        approval_required: body.approval_required.unwrap_or(false),
        state: match body.state {
            Some(state) => ProductState::parse(state)?,
            None => ProductState::NotPublished,
        },
    };
    let saved = control
        .write(
            control
                .store()
                .put_product(&actor, &service, &product, settings),
        )
        .await?;
    let record = control.store().get_product(&service, &product).await?;
    Ok((saved_status(saved), Json(view(&service, record))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteQuery {
    #[serde(default)]
    delete_subscriptions: bool,
}

pub async fn delete(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, product)): Path<(String, String)>,
    Query(query): Query<DeleteQuery>,
) -> Result<StatusCode, MgmtError> {
    let (service, product) = names(service, product)?;
    let mode = if query.delete_subscriptions {
        DeleteProduct::DeleteSubscriptions
    } else {
        DeleteProduct::KeepSubscriptions
    };
    control
        .write(
            control
                .store()
                .delete_product(&actor, &service, &product, mode),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_apis(
    State(control): State<MgmtState>,
    Path((service, product)): Path<(String, String)>,
    list: ListRequest,
) -> Result<Json<serde_json::Value>, MgmtError> {
    let (service, product) = names(service, product)?;
    let record = control.store().get_product(&service, &product).await?;
    let apis: Vec<_> = record
        .apis
        .into_iter()
        .map(|api| serde_json::json!({ "id": format!("/services/{service}/apis/{api}"), "name": api }))
        .collect();
    list.answer_in_memory(&["name"], apis)
}

pub async fn link_api(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, product, api)): Path<(String, String, String)>,
) -> Result<(StatusCode, Json<ProductView>), MgmtError> {
    let (service, product) = names(service, product)?;
    let api = name("api", api, ApiName::parse)?;
    let saved = control
        .write(
            control
                .store()
                .link_product_api(&actor, &service, &product, &api),
        )
        .await?;
    let record = control.store().get_product(&service, &product).await?;
    Ok((saved_status(saved), Json(view(&service, record))))
}

pub async fn unlink_api(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, product, api)): Path<(String, String, String)>,
) -> Result<StatusCode, MgmtError> {
    let (service, product) = names(service, product)?;
    let api = name("api", api, ApiName::parse)?;
    control
        .write(
            control
                .store()
                .unlink_product_api(&actor, &service, &product, &api),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
