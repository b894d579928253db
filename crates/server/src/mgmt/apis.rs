//! `/mgmt/services/{service}/apis/{api}`: `displayName`, `description`, `serviceUrl`,
//! `path`, `subscriptionRequired`, `subscriptionKeyHeaderName`,
//! `subscriptionKeyQueryParamName`, `forwardSubscriptionKey`. With `format` and `value`, a
//! `PUT` imports an OpenAPI document; `GET ?export=true&format=…` exports one (see
//! [`super::api_import`]).

use crate::mgmt::api_import::GatewayUrls;
use crate::mgmt::body::{JsonBody, name, saved_status};
use crate::mgmt::paging::ListRequest;
use crate::mgmt::{MgmtError, MgmtState};
use crate::openapi_source::{ImportFormat, export_api, read_document};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portcullis_domain::model::ApiSettings;
use portcullis_domain::{
    ApiName, ApiSuffix, DisplayName, KeyHeaderName, KeyQueryParamName, ServiceName, ServiceUrl,
    ValidationError,
};
use portcullis_openapi::ExportFormat;
use portcullis_store::{Actor, ApiImport, ApiRecord};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiBody {
    display_name: Option<String>,
    description: Option<String>,
    /// An import: the document's format (see `api_import::ImportFormat`).
    format: Option<String>,
    /// An import: the document, or its URL.
    value: Option<String>,
    /// An import: `template` (required query parameters in the URL template) or `query`.
    translate_required_query_parameters: Option<String>,
    /// An import: delete the operations the document does not describe.
    remove_missing_operations: Option<bool>,
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
            description: parse_api_description(self.description.as_deref().unwrap_or_default())?,
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

/// An API's description: free text of at most [`MAX_API_DESCRIPTION`] characters.
fn parse_api_description(text: &str) -> Result<String, ValidationError> {
    if text.chars().count() > MAX_API_DESCRIPTION {
        return Err(ValidationError::new(
            "description",
            "InvalidDescription",
            format!("An API's description has at most {MAX_API_DESCRIPTION} characters."),
        ));
    }
    Ok(text.trim().to_owned())
}

/// An API description has at most this many characters (OpenAPI descriptions are long).
pub const MAX_API_DESCRIPTION: usize = 64 * 1024;

#[derive(Serialize)]
pub struct ApiView {
    id: String,
    name: ApiName,
    #[serde(flatten)]
    settings: ApiSettings,
    /// After an import: what it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    import: Option<ImportReport>,
}

fn view(service: &ServiceName, record: ApiRecord) -> ApiView {
    ApiView {
        id: format!("/services/{service}/apis/{}", record.name),
        name: record.name,
        settings: record.settings,
        import: None,
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

/// `?export=true&format=…`.
#[derive(Deserialize)]
pub struct GetQuery {
    export: Option<String>,
    format: Option<String>,
    /// `false`: no `servers` and no key schemes (a configuration repository's copy).
    #[serde(rename = "includeGateway")]
    include_gateway: Option<bool>,
}

pub async fn get(
    State(control): State<MgmtState>,
    Extension(urls): Extension<GatewayUrls>,
    Path((service, api)): Path<(String, String)>,
    Query(query): Query<GetQuery>,
) -> Result<axum::response::Response, MgmtError> {
    use axum::response::IntoResponse as _;
    let service = name("service", service, ServiceName::parse)?;
    let api = name("api", api, ApiName::parse)?;
    if query.export.as_deref() != Some("true") {
        let record = control.store().get_api(&service, &api).await?;
        return Ok(Json(view(&service, record)).into_response());
    }
    let format = query.format.as_deref().unwrap_or("openapi+json");
    let Some(format) = ExportFormat::parse(format) else {
        return Err(ValidationError::new(
            "format",
            "InvalidFormat",
            format!("The export format '{format}' is not known; use openapi+json, openapi, swagger or powerplatform."),
        )
        .into());
    };
    let gateway_url = if query.include_gateway == Some(false) {
        String::new()
    } else {
        urls.for_service(service.as_str())
    };
    let document = export_api(control.store(), &service, &api, &gateway_url, format).await?;
    Ok((
        crate::openapi_source::download_headers(format, &api),
        document,
    )
        .into_response())
}

pub async fn put(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, api)): Path<(String, String)>,
    JsonBody(body): JsonBody<ApiBody>,
) -> Result<(StatusCode, Json<ApiView>), MgmtError> {
    let service = name("service", service, ServiceName::parse)?;
    let api = name("name", api, ApiName::parse)?;
    if body.format.is_some() || body.value.is_some() {
        return import(&control, &actor, service, api, body).await;
    }
    let settings = body.parse(&api)?;
    let saved = control
        .write(control.store().put_api(&actor, &service, &api, settings))
        .await?;
    let record = control.store().get_api(&service, &api).await?;
    Ok((saved_status(saved), Json(view(&service, record))))
}

/// A `PUT` with `format` and `value`: the API as the document describes it.
async fn import(
    control: &MgmtState,
    actor: &Actor,
    service: ServiceName,
    api: ApiName,
    mut body: ApiBody,
) -> Result<(StatusCode, Json<ApiView>), MgmtError> {
    let required = |field: &str, what: &str| {
        ValidationError::new(
            field,
            "Required",
            format!("{what} is required for an import."),
        )
    };
    let format = ImportFormat::parse(
        body.format
            .as_deref()
            .ok_or_else(|| required("format", "format"))?,
    )?;
    let value = body
        .value
        .take()
        .ok_or_else(|| required("value", "value (the document or its URL)"))?;
    if body.path.is_none() {
        return Err(required("path", "path (the API URL suffix)").into());
    }
    let in_template = match body.translate_required_query_parameters.as_deref() {
        None | Some("template") => true,
        Some("query") => false,
        Some(other) => {
            return Err(ValidationError::new(
                "translateRequiredQueryParameters",
                "InvalidValue",
                format!("translateRequiredQueryParameters is template or query, not '{other}'."),
            )
            .into());
        }
    };
    let imported = read_document(format, &value, in_template).await?;
    if body.display_name.is_none() {
        body.display_name = Some(imported.display_name.clone());
    }
    if body.description.is_none() {
        body.description = Some(imported.description.clone());
    }
    if body.service_url.is_none() {
        body.service_url = Some(imported.service_url.clone().ok_or_else(|| {
            ValidationError::new(
                "serviceUrl",
                "Required",
                "The document names no absolute backend URL (servers, or host and basePath); give serviceUrl.",
            )
        })?);
    }
    let remove_missing = body.remove_missing_operations.unwrap_or(false);
    let settings = body.parse(&api)?;
    let operations = imported.operations.clone();
    let outcome = control
        .write(control.store().import_api(
            actor,
            &service,
            &api,
            ApiImport {
                settings,
                schemas: imported.schemas,
                operations,
                remove_missing,
            },
        ))
        .await?;
    let record = control.store().get_api(&service, &api).await?;
    let mut shown = view(&service, record);
    shown.import = Some(ImportReport {
        outcome: outcome.clone(),
        skipped: imported.skipped,
    });
    let status = saved_status(outcome.saved.unwrap_or(portcullis_store::Saved::Updated));
    Ok((status, Json(shown)))
}

/// What an import did, in its answer.
#[derive(Serialize)]
pub struct ImportReport {
    #[serde(flatten)]
    outcome: portcullis_store::ImportOutcome,
    skipped: Vec<portcullis_openapi::Skipped>,
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
