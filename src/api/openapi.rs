//! OpenAPI in the portal: **Add API → OpenAPI** (preview, then create), **Import** into an
//! existing API, and the exports' download links.

// `import_openapi` takes one argument per form field (the macro's client side too).
#![allow(clippy::too_many_arguments)]

use crate::api::FieldErrors;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What an import would make of a document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenApiPreview {
    /// Why the document cannot be imported, if it cannot.
    pub error: Option<String>,
    pub title: String,
    pub description: String,
    /// The backend URL the document names.
    pub service_url: Option<String>,
    /// A name for the API, from the title.
    pub suggested_name: String,
    pub operations: Vec<PreviewOperation>,
    /// Parts not imported: where, and why.
    pub skipped: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewOperation {
    pub method: String,
    pub url_template: String,
    pub name: String,
    pub display_name: String,
}

/// The export formats the API page offers: (format, label).
pub const EXPORTS: [(&str, &str); 4] = [
    ("openapi+json", "OpenAPI 3 (JSON)"),
    ("openapi", "OpenAPI 3 (YAML)"),
    ("swagger", "OpenAPI 2 (JSON)"),
    ("powerplatform", "Power Platform connector"),
];

/// Where the portal serves an export of `api` (a download for the signed-in administrator).
pub fn export_href(service: &str, api: &str, format: &str) -> String {
    format!(
        "/downloads/services/{service}/apis/{api}/{}",
        format.replace('+', "-")
    )
}

#[cfg(feature = "ssr")]
async fn read(
    document: &str,
    url: &str,
) -> Result<portcullis_openapi::ImportedApi, portcullis_domain::ValidationError> {
    use portcullis_server::openapi_source::{ImportFormat, read_document};
    let (format, value) = if url.trim().is_empty() {
        (
            ImportFormat {
                link: false,
                swagger: false,
            },
            document,
        )
    } else {
        (
            ImportFormat {
                link: true,
                swagger: false,
            },
            url,
        )
    };
    if value.trim().is_empty() {
        return Err(portcullis_domain::ValidationError::new(
            "document",
            "Required",
            "Choose a file, paste the document, or give its URL.",
        ));
    }
    read_document(format, value, true).await
}

/// **Preview**: what would be created.
#[server]
pub async fn preview_openapi(
    document: String,
    url: String,
) -> Result<OpenApiPreview, ServerFnError> {
    crate::server::require_admin().await?;
    let imported = match read(&document, &url).await {
        Ok(imported) => imported,
        Err(error) => {
            return Ok(OpenApiPreview {
                error: Some(error.message),
                ..OpenApiPreview::default()
            });
        }
    };
    Ok(OpenApiPreview {
        error: None,
        suggested_name: crate::api::apis::name_from_display_name(&imported.display_name),
        title: imported.display_name,
        description: imported.description,
        service_url: imported.service_url,
        operations: imported
            .operations
            .iter()
            .map(|o| PreviewOperation {
                method: o.settings.method.to_string(),
                url_template: o.settings.url_template.as_str().to_owned(),
                name: o.name.to_string(),
                display_name: o.settings.display_name.to_string(),
            })
            .collect(),
        skipped: imported
            .skipped
            .into_iter()
            .map(|s| (s.location, s.reason))
            .collect(),
    })
}

/// **Create** from a document (a new API: `existing` empty), or **Import** into the API
/// `existing` (its settings stay; its operations and schemas come from the document, and
/// operations the document lacks go only with `remove_missing`). A new API opens its page.
#[server]
pub async fn import_openapi(
    service: String,
    existing: String,
    document: String,
    url: String,
    display_name: String,
    name: String,
    path: String,
    service_url: String,
    subscription_required: Option<String>,
    remove_missing: Option<String>,
) -> Result<FieldErrors, ServerFnError> {
    use portcullis_domain::model::ApiSettings;
    use portcullis_domain::*;
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let imported = match read(&document, &url).await {
        Ok(imported) => imported,
        Err(error) => {
            let field = if url.trim().is_empty() {
                "document"
            } else {
                "url"
            };
            return Ok(FieldErrors::one(field, error.message));
        }
    };
    let store = state.control.store();
    let new = existing.trim().is_empty();
    let (api, settings) = if new {
        let name = if name.trim().is_empty() {
            crate::api::apis::name_from_display_name(if display_name.trim().is_empty() {
                &imported.display_name
            } else {
                &display_name
            })
        } else {
            name
        };
        let display = if display_name.trim().is_empty() {
            imported.display_name.clone()
        } else {
            display_name
        };
        let backend = if service_url.trim().is_empty() {
            imported.service_url.clone().unwrap_or_default()
        } else {
            service_url
        };
        let parsed = (
            ApiName::parse(&name),
            DisplayName::parse(&display),
            ServiceUrl::parse(&backend),
            ApiSuffix::parse(&path),
        );
        let (api, display, backend, path) = match parsed {
            (Ok(a), Ok(d), Ok(u), Ok(p)) => (a, d, u, p),
            (a, d, u, p) => {
                let errors = [a.err(), d.err(), u.err(), p.err()].into_iter().flatten();
                return Ok(crate::api::apis::field_errors_of(errors));
            }
        };
        if store.get_api(&service, &api).await.is_ok() {
            return Ok(FieldErrors::one(
                "name",
                format!("An API named '{api}' exists already; open it and use Import."),
            ));
        }
        let settings = ApiSettings {
            display_name: display,
            description: imported.description.clone(),
            service_url: backend,
            path,
            subscription_required: subscription_required.is_some(),
            key_header_name: KeyHeaderName::default(),
            key_query_param_name: KeyQueryParamName::default(),
            forward_subscription_key: false,
        };
        (api, settings)
    } else {
        let api = ApiName::parse(existing).map_err(|e| ServerFnError::new(e.message))?;
        let settings = store
            .get_api(&service, &api)
            .await
            .map_err(crate::server::internal)?
            .settings;
        (api, settings)
    };
    let operations = imported.operations.clone();
    let written = state
        .control
        .write(store.import_api(
            &actor,
            &service,
            &api,
            portcullis_store::ApiImport {
                settings,
                schemas: imported.schemas,
                operations,
                remove_missing: remove_missing.is_some(),
            },
        ))
        .await;
    if let Err(error) = written {
        return match error {
            portcullis_store::StoreError::Invalid(invalid) => {
                Ok(crate::api::apis::field_errors_of([invalid]))
            }
            other => crate::api::field_errors(other),
        };
    }
    if new {
        leptos_axum::redirect(&format!("/services/{service}/apis/{api}?saved=1"));
    }
    Ok(FieldErrors::default())
}
