//! `/mgmt/services/{service}/namedValues/{id}`: `displayName`, `value`, `secret`, `tags`
//! (APIM's named values). A secret's value is left out of every read; `POST …/listValue`
//! returns it (and the read of a secret is audited).

use crate::mgmt::body::{JsonBody, name, saved_status};
use crate::mgmt::paging::ListRequest;
use crate::mgmt::{MgmtError, MgmtState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portcullis_domain::{NamedValueName, NamedValueSettings, ServiceName, ValidationError};
use portcullis_store::{Actor, NamedValueRecord};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamedValueBody {
    display_name: Option<String>,
    value: Option<String>,
    secret: Option<bool>,
    tags: Option<Vec<String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedValueView {
    id: String,
    name: NamedValueName,
    display_name: String,
    /// `None` for a secret (APIM: "will not be filled on GET").
    value: Option<String>,
    secret: bool,
    tags: Vec<String>,
}

fn view(service: &ServiceName, record: NamedValueRecord) -> NamedValueView {
    let settings = record.settings;
    NamedValueView {
        id: format!("/services/{service}/namedValues/{}", record.name),
        value: (!settings.secret).then(|| settings.value().to_owned()),
        display_name: settings.display_name().to_owned(),
        secret: settings.secret,
        tags: settings.tags,
        name: record.name,
    }
}

fn names(service: String, named: String) -> Result<(ServiceName, NamedValueName), MgmtError> {
    Ok((
        name("service", service, ServiceName::parse)?,
        name("name", named, NamedValueName::parse)?,
    ))
}

pub async fn list(
    State(control): State<MgmtState>,
    Path(service): Path<String>,
    list: ListRequest,
) -> Result<Json<serde_json::Value>, MgmtError> {
    let service = name("service", service, ServiceName::parse)?;
    let records = control.store().list_named_values(&service).await?;
    list.answer_in_memory(
        &["name", "displayName"],
        records.into_iter().map(|r| view(&service, r)).collect(),
    )
}

pub async fn get(
    State(control): State<MgmtState>,
    Path((service, named)): Path<(String, String)>,
) -> Result<Json<NamedValueView>, MgmtError> {
    let (service, named) = names(service, named)?;
    let record = control.store().get_named_value(&service, &named).await?;
    Ok(Json(view(&service, record)))
}

pub async fn put(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, named)): Path<(String, String)>,
    JsonBody(body): JsonBody<NamedValueBody>,
) -> Result<(StatusCode, Json<NamedValueView>), MgmtError> {
    let (service, named) = names(service, named)?;
    let Some(value) = body.value else {
        return Err(ValidationError::new("value", "Required", "A value is required.").into());
    };
    let settings = NamedValueSettings::parse(
        body.display_name
            .unwrap_or_else(|| named.as_str().to_owned()),
        value,
        body.secret.unwrap_or(false),
        body.tags.unwrap_or_default(),
    )?;
    let saved = control
        .write(
            control
                .store()
                .put_named_value(&actor, &service, &named, settings.clone()),
        )
        .await?;
    let record = NamedValueRecord {
        name: named,
        settings,
    };
    Ok((saved_status(saved), Json(view(&service, record))))
}

pub async fn delete(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, named)): Path<(String, String)>,
) -> Result<StatusCode, MgmtError> {
    let (service, named) = names(service, named)?;
    control
        .write(control.store().delete_named_value(&actor, &service, &named))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// APIM's `listValue`: `{ "value": "…" }`, secret or not.
pub async fn list_value(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, named)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, MgmtError> {
    let (service, named) = names(service, named)?;
    let record = control
        .store()
        .read_named_value(&actor, &service, &named)
        .await?;
    Ok(Json(
        serde_json::json!({ "value": record.settings.value() }),
    ))
}
