//! `/mgmt/services/{service}/policyFragments/{id}`: `format` (`xml` or `rawxml`), `value`
//! (the `<fragment>` text) and `description` — APIM's policy fragments. A read also lists
//! the policies that include the fragment (`usedBy`); one that is included cannot be
//! deleted, and a change that would break an including policy is refused with that
//! policy's fault.

use crate::mgmt::body::{JsonBody, name, saved_status};
use crate::mgmt::paging::ListRequest;
use crate::mgmt::{MgmtError, MgmtState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portcullis_domain::{
    FragmentFormat, PolicyFragmentName, PolicyFragmentSettings, ServiceName, ValidationError,
};
use portcullis_store::{Actor, PolicyFragmentRecord};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FragmentBody {
    format: Option<String>,
    value: Option<String>,
    description: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FragmentView {
    id: String,
    name: PolicyFragmentName,
    format: FragmentFormat,
    value: String,
    description: String,
    used_by: Vec<String>,
}

fn view(service: &ServiceName, record: PolicyFragmentRecord) -> FragmentView {
    FragmentView {
        id: format!("/services/{service}/policyFragments/{}", record.name),
        format: record.settings.format,
        value: record.settings.value().to_owned(),
        description: record.settings.description,
        used_by: record.used_by,
        name: record.name,
    }
}

fn names(
    service: String,
    fragment: String,
) -> Result<(ServiceName, PolicyFragmentName), MgmtError> {
    Ok((
        name("service", service, ServiceName::parse)?,
        name("name", fragment, PolicyFragmentName::parse)?,
    ))
}

pub async fn list(
    State(control): State<MgmtState>,
    Path(service): Path<String>,
    list: ListRequest,
) -> Result<Json<serde_json::Value>, MgmtError> {
    let service = name("service", service, ServiceName::parse)?;
    let records = control.store().list_policy_fragments(&service).await?;
    list.answer_in_memory(
        &["name", "description"],
        records.into_iter().map(|r| view(&service, r)).collect(),
    )
}

pub async fn get(
    State(control): State<MgmtState>,
    Path((service, fragment)): Path<(String, String)>,
) -> Result<Json<FragmentView>, MgmtError> {
    let (service, fragment) = names(service, fragment)?;
    let record = control
        .store()
        .get_policy_fragment(&service, &fragment)
        .await?;
    Ok(Json(view(&service, record)))
}

pub async fn put(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, fragment)): Path<(String, String)>,
    JsonBody(body): JsonBody<FragmentBody>,
) -> Result<(StatusCode, Json<FragmentView>), MgmtError> {
    let (service, fragment) = names(service, fragment)?;
    let Some(value) = body.value else {
        return Err(ValidationError::new(
            "value",
            "Required",
            "A value (the <fragment> text) is required.",
        )
        .into());
    };
    let format = match body.format.as_deref() {
        Some(format) => FragmentFormat::parse(format)?,
        None => FragmentFormat::default(),
    };
    let named = control.store().named_value_map(&service).await?;
    let settings =
        PolicyFragmentSettings::parse(value, body.description.unwrap_or_default(), format, &named)?;
    let saved = control
        .write(
            control
                .store()
                .put_policy_fragment(&actor, &service, &fragment, settings),
        )
        .await?;
    let record = control
        .store()
        .get_policy_fragment(&service, &fragment)
        .await?;
    Ok((saved_status(saved), Json(view(&service, record))))
}

pub async fn delete(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, fragment)): Path<(String, String)>,
) -> Result<StatusCode, MgmtError> {
    let (service, fragment) = names(service, fragment)?;
    control
        .write(
            control
                .store()
                .delete_policy_fragment(&actor, &service, &fragment),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
