//! Certificates: a service's client certificates (for `authentication-certificate`) and
//! signing certificates (for validate-jwt's `certificate-id` keys).

use crate::api::FieldErrors;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A certificate as the page lists it: what identifies it, never its data or key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateSummary {
    pub name: String,
    pub subject: String,
    pub thumbprint: String,
    /// `2126-11-09` (UTC).
    pub expires: String,
    /// Days until it expires; negative once it has.
    pub days_left: i64,
    pub has_private_key: bool,
    /// The policies that name it (`API echo`, `fragment f`).
    pub used_by: Vec<String>,
}

#[server]
pub async fn certificates_page(service: String) -> Result<Vec<CertificateSummary>, ServerFnError> {
    let (state, _) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let records = state
        .control
        .store()
        .list_certificates(&service)
        .await
        .map_err(crate::server::internal)?;
    let now = chrono::Utc::now().timestamp();
    Ok(records
        .into_iter()
        .map(|record| {
            let certificate = &record.certificate;
            CertificateSummary {
                name: record.name.to_string(),
                subject: certificate.subject().to_owned(),
                thumbprint: certificate.thumbprint().to_owned(),
                expires: certificate
                    .expiration_date()
                    .split('T')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                days_left: (certificate.not_after() - now).div_euclid(86_400),
                has_private_key: certificate.has_private_key(),
                used_by: record.used_by.clone(),
            }
        })
        .collect())
}

/// **Upload**: `data` is PEM text or base64 (of a PFX or .cer file, as the page reads a
/// chosen file); `password` opens a PFX file. Nothing is saved when anything is wrong.
#[server]
pub async fn upload_certificate(
    service: String,
    id: String,
    data: String,
    password: String,
) -> Result<FieldErrors, ServerFnError> {
    use portcullis_domain::{Certificate, CertificateName};
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let name = match CertificateName::parse(id.trim()) {
        Ok(name) => name,
        Err(error) => return Ok(FieldErrors::one("id", error.message)),
    };
    let password = Some(password).filter(|p| !p.is_empty());
    let certificate = match Certificate::parse_upload(&data, password.as_deref()) {
        Ok(certificate) => certificate,
        Err(error) => return Ok(FieldErrors::one(error.field, error.message)),
    };
    if let Err(error) = state
        .control
        .write(
            state
                .control
                .store()
                .put_certificate(&actor, &service, &name, certificate),
        )
        .await
    {
        return crate::api::field_errors(error).map(|mut errors| {
            for error in &mut errors.0 {
                if error.field == "value" {
                    error.field = "data".to_owned();
                }
            }
            errors
        });
    }
    Ok(FieldErrors::default())
}

/// Deletes a certificate; `Some(message)` when a policy uses it.
#[server]
pub async fn delete_certificate(
    service: String,
    name: String,
) -> Result<Option<String>, ServerFnError> {
    use portcullis_store::StoreError;
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let name = portcullis_domain::CertificateName::parse(name)
        .map_err(|e| ServerFnError::new(e.message))?;
    match state
        .control
        .write(
            state
                .control
                .store()
                .delete_certificate(&actor, &service, &name),
        )
        .await
    {
        Ok(()) => Ok(None),
        Err(StoreError::Conflict { message, .. }) => Ok(Some(message)),
        Err(other) => Err(crate::server::internal(other)),
    }
}
