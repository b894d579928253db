//! `/mgmt/services/{service}`: `displayName`, `isDefault`.

use crate::mgmt::body::{JsonBody, name, saved_status};
use crate::mgmt::paging::ListRequest;
use crate::mgmt::{MgmtError, MgmtState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portcullis_domain::model::ServiceSettings;
use portcullis_domain::{DisplayName, ServiceName};
use portcullis_store::{Actor, ServiceRecord};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceBody {
    display_name: Option<String>,
    is_default: Option<bool>,
}

#[derive(Serialize)]
pub struct ServiceView {
    id: String,
    name: ServiceName,
    #[serde(flatten)]
    settings: ServiceSettings,
}

fn view(record: ServiceRecord) -> ServiceView {
    ServiceView {
        id: format!("/services/{}", record.name),
        name: record.name,
        settings: record.settings,
    }
}

pub async fn list(
    State(control): State<MgmtState>,
    list: ListRequest,
) -> Result<Json<serde_json::Value>, MgmtError> {
    let services = control.store().list_services().await?;
    list.answer_in_memory(
        &["name", "displayName"],
        services.into_iter().map(view).collect(),
    )
}

pub async fn get(
    State(control): State<MgmtState>,
    Path(service): Path<String>,
) -> Result<Json<ServiceView>, MgmtError> {
    let service = name("service", service, ServiceName::parse)?;
    Ok(Json(view(control.store().get_service(&service).await?)))
}

pub async fn put(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path(service): Path<String>,
    JsonBody(body): JsonBody<ServiceBody>,
) -> Result<(StatusCode, Json<ServiceView>), MgmtError> {
    let service = name("name", service, ServiceName::parse)?;
    let display_name =
        DisplayName::parse(body.display_name.as_deref().unwrap_or(service.as_str()))?;
    let saved = control
        .write(
            control
                .store()
                .put_service(&actor, &service, display_name, body.is_default),
        )
        .await?;
    Ok((
        saved_status(saved),
        Json(view(control.store().get_service(&service).await?)),
    ))
}

pub async fn delete(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path(service): Path<String>,
) -> Result<StatusCode, MgmtError> {
    let service = name("service", service, ServiceName::parse)?;
    control
        .write(control.store().delete_service(&actor, &service))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
