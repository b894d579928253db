//! Policy documents at the four scopes: `…/policy` on a service (all APIs), a product, an API
//! and an operation. Body `{ "format": "xml", "value": "<policies>…</policies>" }`.

use crate::mgmt::body::{JsonBody, name, saved_status};
use crate::mgmt::{MgmtError, MgmtState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portcullis_domain::{
    ApiName, OperationName, PolicyScope, PolicyXml, ProductName, ServiceName, ValidationError,
};
use portcullis_store::{Actor, StoreError};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    format: Option<String>,
    value: Option<String>,
}

#[derive(Serialize)]
pub struct PolicyView {
    id: String,
    format: &'static str,
    value: String,
}

fn service_name(service: String) -> Result<ServiceName, MgmtError> {
    name("service", service, ServiceName::parse)
}

fn id(service: &ServiceName, scope: &PolicyScope) -> String {
    match scope {
        PolicyScope::Global => format!("/services/{service}/policy"),
        PolicyScope::Product(p) => format!("/services/{service}/products/{p}/policy"),
        PolicyScope::Api(a) => format!("/services/{service}/apis/{a}/policy"),
        PolicyScope::Operation(a, o) => {
            format!("/services/{service}/apis/{a}/operations/{o}/policy")
        }
    }
}

async fn get_at(
    control: &MgmtState,
    service: ServiceName,
    scope: PolicyScope,
) -> Result<Json<PolicyView>, MgmtError> {
    let stored = control.store().get_policy(&service, &scope).await?;
    let xml = match (stored, &scope) {
        (Some(xml), _) => xml,
        // The global scope always has a document: APIM's default forwards the request.
        (None, PolicyScope::Global) => PolicyXml::default_for(&scope),
        (None, _) => {
            return Err(StoreError::NotFound(format!(
                "No policy is set at {scope}; it inherits its parent scope in every section."
            ))
            .into());
        }
    };
    Ok(Json(PolicyView {
        id: id(&service, &scope),
        format: "xml",
        value: xml.as_str().to_owned(),
    }))
}

async fn put_at(
    control: &MgmtState,
    actor: &Actor,
    service: ServiceName,
    scope: PolicyScope,
    body: PolicyBody,
) -> Result<(StatusCode, Json<PolicyView>), MgmtError> {
    match body.format.as_deref() {
        None | Some("xml" | "rawxml") => {}
        Some(other) => {
            return Err(ValidationError::new(
                "format",
                "InvalidFormat",
                format!("The policy format '{other}' is not supported; use xml."),
            )
            .into());
        }
    }
    let named = control.store().named_value_map(&service).await?;
    let library = control.store().policy_library(&service).await?;
    let xml = PolicyXml::parse_in(body.value.unwrap_or_default(), &scope, &named, &library)?;
    let saved = control
        .write(
            control
                .store()
                .put_policy(actor, &service, &scope, xml.clone()),
        )
        .await?;
    let view = PolicyView {
        id: id(&service, &scope),
        format: "xml",
        value: xml.as_str().to_owned(),
    };
    Ok((saved_status(saved), Json(view)))
}

async fn delete_at(
    control: &MgmtState,
    actor: &Actor,
    service: ServiceName,
    scope: PolicyScope,
) -> Result<StatusCode, MgmtError> {
    control
        .write(control.store().delete_policy(actor, &service, &scope))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

type Put = Result<(StatusCode, Json<PolicyView>), MgmtError>;

pub async fn get_global(
    State(c): State<MgmtState>,
    Path(service): Path<String>,
) -> Result<Json<PolicyView>, MgmtError> {
    get_at(&c, service_name(service)?, PolicyScope::Global).await
}

pub async fn put_global(
    State(c): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path(service): Path<String>,
    JsonBody(body): JsonBody<PolicyBody>,
) -> Put {
    put_at(
        &c,
        &actor,
        service_name(service)?,
        PolicyScope::Global,
        body,
    )
    .await
}

pub async fn delete_global(
    State(c): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path(service): Path<String>,
) -> Result<StatusCode, MgmtError> {
    delete_at(&c, &actor, service_name(service)?, PolicyScope::Global).await
}

fn product_scope(product: String) -> Result<PolicyScope, MgmtError> {
    Ok(PolicyScope::Product(name(
        "product",
        product,
        ProductName::parse,
    )?))
}

pub async fn get_product(
    State(c): State<MgmtState>,
    Path((service, product)): Path<(String, String)>,
) -> Result<Json<PolicyView>, MgmtError> {
    get_at(&c, service_name(service)?, product_scope(product)?).await
}

pub async fn put_product(
    State(c): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, product)): Path<(String, String)>,
    JsonBody(body): JsonBody<PolicyBody>,
) -> Put {
    put_at(
        &c,
        &actor,
        service_name(service)?,
        product_scope(product)?,
        body,
    )
    .await
}

pub async fn delete_product(
    State(c): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, product)): Path<(String, String)>,
) -> Result<StatusCode, MgmtError> {
    delete_at(&c, &actor, service_name(service)?, product_scope(product)?).await
}

fn api_scope(api: String) -> Result<PolicyScope, MgmtError> {
    Ok(PolicyScope::Api(name("api", api, ApiName::parse)?))
}

pub async fn get_api(
    State(c): State<MgmtState>,
    Path((service, api)): Path<(String, String)>,
) -> Result<Json<PolicyView>, MgmtError> {
    get_at(&c, service_name(service)?, api_scope(api)?).await
}

pub async fn put_api(
    State(c): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, api)): Path<(String, String)>,
    JsonBody(body): JsonBody<PolicyBody>,
) -> Put {
    put_at(&c, &actor, service_name(service)?, api_scope(api)?, body).await
}

pub async fn delete_api(
    State(c): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, api)): Path<(String, String)>,
) -> Result<StatusCode, MgmtError> {
    delete_at(&c, &actor, service_name(service)?, api_scope(api)?).await
}

fn operation_scope(api: String, operation: String) -> Result<PolicyScope, MgmtError> {
    Ok(PolicyScope::Operation(
        name("api", api, ApiName::parse)?,
        name("operation", operation, OperationName::parse)?,
    ))
}

pub async fn get_operation(
    State(c): State<MgmtState>,
    Path((service, api, operation)): Path<(String, String, String)>,
) -> Result<Json<PolicyView>, MgmtError> {
    get_at(&c, service_name(service)?, operation_scope(api, operation)?).await
}

pub async fn put_operation(
    State(c): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, api, operation)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<PolicyBody>,
) -> Put {
    put_at(
        &c,
        &actor,
        service_name(service)?,
        operation_scope(api, operation)?,
        body,
    )
    .await
}

pub async fn delete_operation(
    State(c): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, api, operation)): Path<(String, String, String)>,
) -> Result<StatusCode, MgmtError> {
    delete_at(
        &c,
        &actor,
        service_name(service)?,
        operation_scope(api, operation)?,
    )
    .await
}
