//! `/mgmt/services/{service}/apis/{api}`: `displayName`, `serviceUrl`, `path`,
//! `subscriptionRequired`, `subscriptionKeyHeaderName`, `subscriptionKeyQueryParamName`,
//! `forwardSubscriptionKey`.

use crate::mgmt::body::{JsonBody, name, saved_status};
use crate::mgmt::paging::ListRequest;
use crate::mgmt::{MgmtError, MgmtState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portcullis_domain::model::ApiSettings;
use portcullis_domain::{
    ApiName, ApiSuffix, DisplayName, KeyHeaderName, KeyQueryParamName, ServiceName, ServiceUrl,
};
use portcullis_store::{Actor, ApiRecord};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiBody {
    display_name: Option<String>,
    service_url: Option<String>,
    path: Option<String>,
    subscription_required: Option<bool>,
    subscription_key_header_name: Option<String>,
    subscription_key_query_param_name: Option<String>,
    forward_subscription_key: Option<bool>,
}

impl ApiBody {
    fn parse(self, api: &ApiName) -> Result<ApiSettings, MgmtError> {
        Ok(ApiSettings {
            display_name: DisplayName::parse(self.display_name.as_deref().unwrap_or(api.as_str()))?,
            service_url: ServiceUrl::parse(self.service_url.as_deref().unwrap_or_default())?,
            path: ApiSuffix::parse(self.path.as_deref().unwrap_or_default())?,
            subscription_required: self.subscription_required.unwrap_or(true),
            key_header_name: match self.subscription_key_header_name {
                Some(header) => KeyHeaderName::parse(header)?,
                None => KeyHeaderName::default(),
            },
            key_query_param_name: match self.subscription_key_query_param_name {
                Some(query) => KeyQueryParamName::parse(query)?,
                None => KeyQueryParamName::default(),
            },
            forward_subscription_key: self.forward_subscription_key.unwrap_or(false),
        })
    }
}

#[derive(Serialize)]
pub struct ApiView {
    id: String,
    name: ApiName,
    #[serde(flatten)]
    settings: ApiSettings,
}

fn view(service: &ServiceName, record: ApiRecord) -> ApiView {
    ApiView {
        id: format!("/services/{service}/apis/{}", record.name),
        name: record.name,
        settings: record.settings,
    }
}

pub async fn list(
    State(control): State<MgmtState>,
    Path(service): Path<String>,
    list: ListRequest,
) -> Result<Json<serde_json::Value>, MgmtError> {
    let service = name("service", service, ServiceName::parse)?;
    let apis = control.store().list_apis(&service).await?;
    list.answer_in_memory(
        &["name", "displayName", "path", "serviceUrl"],
        apis.into_iter().map(|api| view(&service, api)).collect(),
    )
}

pub async fn get(
    State(control): State<MgmtState>,
    Path((service, api)): Path<(String, String)>,
) -> Result<Json<ApiView>, MgmtError> {
    let service = name("service", service, ServiceName::parse)?;
    let api = name("api", api, ApiName::parse)?;
    Ok(Json(view(
        &service,
        control.store().get_api(&service, &api).await?,
    )))
}

pub async fn put(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, api)): Path<(String, String)>,
    JsonBody(body): JsonBody<ApiBody>,
) -> Result<(StatusCode, Json<ApiView>), MgmtError> {
    let service = name("service", service, ServiceName::parse)?;
    let api = name("name", api, ApiName::parse)?;
    let settings = body.parse(&api)?;
    let saved = control
        .write(control.store().put_api(&actor, &service, &api, settings))
        .await?;
    let record = control.store().get_api(&service, &api).await?;
    Ok((saved_status(saved), Json(view(&service, record))))
}

pub async fn delete(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, api)): Path<(String, String)>,
) -> Result<StatusCode, MgmtError> {
    let service = name("service", service, ServiceName::parse)?;
    let api = name("api", api, ApiName::parse)?;
    control
        .write(control.store().delete_api(&actor, &service, &api))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
