//! `/mgmt/services/{service}/apis/{api}/operations/{operation}`: `displayName`, `method`,
//! `urlTemplate`, `description`, `templateParameters`, `request`, `responses` (APIM's shape;
//! see `portcullis_domain::operation_contract` and `operation_response`).
//! As in APIM, a PUT replaces the operation whole: no `responses`, none documented.

use crate::mgmt::body::{JsonBody, name, saved_status};
use crate::mgmt::paging::ListRequest;
use crate::mgmt::{MgmtError, MgmtState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portcullis_domain::model::{OperationConfig, OperationSettings};
use portcullis_domain::{
    ApiName, DisplayName, HttpMethod, OperationName, ServiceName, UrlTemplate,
};
use portcullis_store::Actor;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OperationBody {
    display_name: Option<String>,
    method: Option<String>,
    url_template: Option<String>,
    description: Option<String>,
    template_parameters: Option<serde_json::Value>,
    request: Option<serde_json::Value>,
    responses: Option<serde_json::Value>,
}

#[derive(Serialize)]
pub struct OperationView {
    id: String,
    name: OperationName,
    #[serde(flatten)]
    settings: OperationSettings,
}

fn view(service: &ServiceName, api: &ApiName, operation: OperationConfig) -> OperationView {
    OperationView {
        id: format!(
            "/services/{service}/apis/{api}/operations/{}",
            operation.name
        ),
        name: operation.name,
        settings: operation.settings,
    }
}

fn names(service: String, api: String) -> Result<(ServiceName, ApiName), MgmtError> {
    Ok((
        name("service", service, ServiceName::parse)?,
        name("api", api, ApiName::parse)?,
    ))
}

pub async fn list(
    State(control): State<MgmtState>,
    Path((service, api)): Path<(String, String)>,
    list: ListRequest,
) -> Result<Json<serde_json::Value>, MgmtError> {
    let (service, api) = names(service, api)?;
    let operations = control.store().list_operations(&service, &api).await?;
    list.answer_in_memory(
        &["name", "displayName", "method", "urlTemplate"],
        operations
            .into_iter()
            .map(|op| view(&service, &api, op))
            .collect(),
    )
}

pub async fn get(
    State(control): State<MgmtState>,
    Path((service, api, operation)): Path<(String, String, String)>,
) -> Result<Json<OperationView>, MgmtError> {
    let (service, api) = names(service, api)?;
    let operation = name("operation", operation, OperationName::parse)?;
    let record = control
        .store()
        .get_operation(&service, &api, &operation)
        .await?;
    Ok(Json(view(&service, &api, record)))
}

pub async fn put(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, api, operation)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<OperationBody>,
) -> Result<(StatusCode, Json<OperationView>), MgmtError> {
    let (service, api) = names(service, api)?;
    let operation = name("name", operation, OperationName::parse)?;
    let settings = OperationSettings {
        display_name: DisplayName::parse(
            body.display_name.as_deref().unwrap_or(operation.as_str()),
        )?,
        method: HttpMethod::parse(body.method.as_deref().unwrap_or_default())?,
        url_template: UrlTemplate::parse(body.url_template.as_deref().unwrap_or_default())?,
        responses: match body.responses {
            Some(value) => portcullis_domain::operation_response::parse_responses(value)?,
            None => Vec::new(),
        },
        description: body.description.unwrap_or_default(),
        template_parameters: match body.template_parameters {
            Some(value) => portcullis_domain::operation_contract::parse_template_parameters(value)?,
            None => Vec::new(),
        },
        request: match body.request {
            Some(value) => portcullis_domain::operation_contract::parse_request(value)?,
            None => Default::default(),
        },
    };
    let saved = control
        .write(
            control
                .store()
                .put_operation(&actor, &service, &api, &operation, settings),
        )
        .await?;
    let record = control
        .store()
        .get_operation(&service, &api, &operation)
        .await?;
    Ok((saved_status(saved), Json(view(&service, &api, record))))
}

pub async fn delete(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, api, operation)): Path<(String, String, String)>,
) -> Result<StatusCode, MgmtError> {
    let (service, api) = names(service, api)?;
    let operation = name("operation", operation, OperationName::parse)?;
    control
        .write(
            control
                .store()
                .delete_operation(&actor, &service, &api, &operation),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
