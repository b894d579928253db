//! `/mgmt/services/{service}/certificates/{id}` (APIM's certificates): `PUT` with `data`
//! (base64 of a PFX file, or PEM text, or base64 of a `.cer` file) and `password`; reads
//! return what identifies a certificate — `subject`, `thumbprint`, `expirationDate` — never
//! the data or the key.

use crate::mgmt::body::{JsonBody, name, saved_status};
use crate::mgmt::paging::ListRequest;
use crate::mgmt::{MgmtError, MgmtState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portcullis_domain::{Certificate, CertificateName, ServiceName, ValidationError};
use portcullis_store::{Actor, CertificateRecord};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertificateBody {
    data: Option<String>,
    password: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateView {
    id: String,
    name: CertificateName,
    subject: String,
    issuer: String,
    thumbprint: String,
    expiration_date: String,
    has_private_key: bool,
    /// The policies that name it (`API echo`, `fragment f`).
    used_by: Vec<String>,
}

fn view(service: &ServiceName, record: CertificateRecord) -> CertificateView {
    let certificate = &record.certificate;
    CertificateView {
        id: format!("/services/{service}/certificates/{}", record.name),
        subject: certificate.subject().to_owned(),
        issuer: certificate.issuer().to_owned(),
        thumbprint: certificate.thumbprint().to_owned(),
        expiration_date: certificate.expiration_date(),
        has_private_key: certificate.has_private_key(),
        used_by: record.used_by,
        name: record.name,
    }
}

fn names(service: String, id: String) -> Result<(ServiceName, CertificateName), MgmtError> {
    Ok((
        name("service", service, ServiceName::parse)?,
        name("name", id, CertificateName::parse)?,
    ))
}

pub async fn list(
    State(control): State<MgmtState>,
    Path(service): Path<String>,
    list: ListRequest,
) -> Result<Json<serde_json::Value>, MgmtError> {
    let service = name("service", service, ServiceName::parse)?;
    let records = control.store().list_certificates(&service).await?;
    list.answer_in_memory(
        &["name", "subject", "thumbprint", "expirationDate"],
        records.into_iter().map(|r| view(&service, r)).collect(),
    )
}

pub async fn get(
    State(control): State<MgmtState>,
    Path((service, id)): Path<(String, String)>,
) -> Result<Json<CertificateView>, MgmtError> {
    let (service, id) = names(service, id)?;
    let record = control.store().get_certificate(&service, &id).await?;
    Ok(Json(view(&service, record)))
}

pub async fn put(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, id)): Path<(String, String)>,
    JsonBody(body): JsonBody<CertificateBody>,
) -> Result<(StatusCode, Json<CertificateView>), MgmtError> {
    let (service, id) = names(service, id)?;
    let Some(data) = body.data else {
        return Err(ValidationError::new(
            "data",
            "Required",
            "data is required: base64 of a PFX file (with password), PEM text, or base64 of a .cer file.",
        )
        .into());
    };
    let certificate = Certificate::parse_upload(&data, body.password.as_deref())?;
    let saved = control
        .write(
            control
                .store()
                .put_certificate(&actor, &service, &id, certificate),
        )
        .await?;
    let record = control.store().get_certificate(&service, &id).await?;
    Ok((saved_status(saved), Json(view(&service, record))))
}

pub async fn delete(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, id)): Path<(String, String)>,
) -> Result<StatusCode, MgmtError> {
    let (service, id) = names(service, id)?;
    control
        .write(control.store().delete_certificate(&actor, &service, &id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
