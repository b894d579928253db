//! OpenAPI documents for the management API and the portal alike: reading one (inline, or
//! fetched from its URL — at most [`portcullis_openapi::source::MAX_DOCUMENT_BYTES`], within
//! [`LINK_TIMEOUT`], `http(s)` only) and writing an API's export.

use portcullis_domain::{ApiName, ServiceName, ValidationError};
use portcullis_openapi::export::ApiToExport;
use portcullis_openapi::{ExportFormat, ImportOptions, ImportedApi};
use portcullis_store::{Store, StoreError};
use std::time::Duration;

/// How long fetching a linked document may take.
pub const LINK_TIMEOUT: Duration = Duration::from_secs(30);

/// An import format: whether `value` is a link, and which documents it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportFormat {
    pub link: bool,
    pub swagger: bool,
}

impl ImportFormat {
    pub fn parse(format: &str) -> Result<Self, ValidationError> {
        let (link, swagger) = match format.trim().to_ascii_lowercase().as_str() {
            "openapi" | "openapi+json" => (false, false),
            "openapi-link" | "openapi+json-link" => (true, false),
            "swagger-json" => (false, true),
            "swagger-link-json" => (true, true),
            other => {
                return Err(ValidationError::new(
                    "format",
                    "InvalidFormat",
                    format!(
                        "The format '{other}' is not imported; use openapi, openapi+json, openapi-link, openapi+json-link, swagger-json or swagger-link-json."
                    ),
                ));
            }
        };
        Ok(Self { link, swagger })
    }
}

/// Reads the document (fetching it for a link format) and imports it.
pub async fn read_document(
    format: ImportFormat,
    value: &str,
    required_query_in_template: bool,
) -> Result<ImportedApi, ValidationError> {
    let mut options = ImportOptions {
        required_query_in_template,
        base_url: None,
    };
    let text = if format.link {
        let url = url::Url::parse(value.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                ValidationError::new(
                    "value",
                    "InvalidLink",
                    "value must be an http(s) URL for a -link format.",
                )
            })?;
        let text = fetch(&url).await?;
        options.base_url = Some(url);
        text
    } else {
        value.to_owned()
    };
    let imported = portcullis_openapi::import(&text, &options).map_err(|error| {
        ValidationError::new(
            "value",
            "InvalidDocument",
            format!("The document cannot be imported: {error}."),
        )
    })?;
    Ok(imported)
}

/// GETs `url`: at most the document limit, within [`LINK_TIMEOUT`].
async fn fetch(url: &url::Url) -> Result<String, ValidationError> {
    use futures_util::StreamExt as _;
    let max = portcullis_openapi::source::MAX_DOCUMENT_BYTES;
    let failed = |message: String| ValidationError::new("value", "LinkFailed", message);
    let client = reqwest::Client::builder()
        .timeout(LINK_TIMEOUT)
        .build()
        .map_err(|e| failed(format!("cannot fetch {url}: {e}")))?;
    let response = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| failed(format!("cannot fetch {url}: {e}")))?;
    if !response.status().is_success() {
        return Err(failed(format!("{url} answered {}.", response.status())));
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| failed(format!("reading {url}: {e}")))?;
        if body.len() + chunk.len() > max {
            return Err(failed(format!("{url} is larger than {} MiB.", max >> 20)));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| failed(format!("{url} is not UTF-8 text.")))
}

/// The export of `api` in `format`, addressed to `gateway_url` (the service's).
pub async fn export_api(
    store: &Store,
    service: &ServiceName,
    api: &ApiName,
    gateway_url: &str,
    format: ExportFormat,
) -> Result<String, StoreError> {
    let record = store.get_api(service, api).await?;
    let operations = store.list_operations(service, api).await?;
    Ok(portcullis_openapi::export(
        &ApiToExport {
            settings: &record.settings,
            schemas: &record.schemas,
            operations: &operations,
            gateway_url,
        },
        format,
    ))
}

/// The headers an export goes out with: its content type, and a download under the API's
/// name (`orders.openapi.yaml`).
pub fn download_headers(format: ExportFormat, api: &ApiName) -> [(http::HeaderName, String); 2] {
    [
        (http::header::CONTENT_TYPE, format.content_type().to_owned()),
        (
            http::header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}\"",
                format.file_name(api.as_str())
            ),
        ),
    ]
}
