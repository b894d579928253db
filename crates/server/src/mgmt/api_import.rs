//! OpenAPI through the management API, as APIM has it:
//!
//! * **import**: `PUT …/apis/{api}` with `format` (`openapi`, `openapi+json`, `openapi-link`,
//!   `openapi+json-link`, `swagger-json`, `swagger-link-json`), `value` (the document, or its
//!   URL for the `-link` formats) and `path`; optional `serviceUrl`, `displayName`,
//!   `description` (else the document's), `translateRequiredQueryParameters` (`template`, the
//!   default, or `query`), and `removeMissingOperations` (default `false`: see
//!   `portcullis_store::imports`). The answer is the API with `import`: what was created,
//!   updated, renamed, removed and kept, and every part of the document that was skipped;
//! * **export**: `GET …/apis/{api}?export=true&format=…` answers the document itself.
//!
//! A linked document is fetched by the server: at most
//! [`portcullis_openapi::source::MAX_DOCUMENT_BYTES`], within [`LINK_TIMEOUT`], `http(s)`
//! only.

use crate::mgmt::MgmtError;
use portcullis_domain::ValidationError;
use portcullis_openapi::{ImportOptions, ImportedApi};
use std::net::SocketAddr;
use std::time::Duration;

/// How long fetching a linked document may take.
pub const LINK_TIMEOUT: Duration = Duration::from_secs(30);

/// Where callers reach a service's gateway, for exports: `https://<service>.<domain>` when
/// the gateway has an HTTPS listener, else `http://`; the port unless it is the scheme's
/// default.
#[derive(Debug, Clone)]
pub struct GatewayUrls {
    scheme: &'static str,
    domain: String,
    port: Option<u16>,
}

impl GatewayUrls {
    /// From the first base domain that is not `localhost` (else `localhost`) and the
    /// listeners' addresses.
    pub fn of(
        base_domains: &[String],
        https: Option<SocketAddr>,
        http: Option<SocketAddr>,
    ) -> Self {
        let domain = base_domains
            .iter()
            .find(|d| !d.eq_ignore_ascii_case("localhost"))
            .or_else(|| base_domains.first())
            .cloned()
            .unwrap_or_else(|| "localhost".to_owned());
        let (scheme, port, default_port) = match (https, http) {
            (Some(addr), _) => ("https", Some(addr.port()), 443),
            (None, Some(addr)) => ("http", Some(addr.port()), 80),
            (None, None) => ("https", None, 443),
        };
        Self {
            scheme,
            domain,
            port: port.filter(|p| *p != default_port),
        }
    }

    pub fn for_service(&self, service: &str) -> String {
        match self.port {
            Some(port) => format!("{}://{service}.{}:{port}", self.scheme, self.domain),
            None => format!("{}://{service}.{}", self.scheme, self.domain),
        }
    }
}

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
) -> Result<ImportedApi, MgmtError> {
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
async fn fetch(url: &url::Url) -> Result<String, MgmtError> {
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
        return Err(failed(format!("{url} answered {}.", response.status())).into());
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| failed(format!("reading {url}: {e}")))?;
        if body.len() + chunk.len() > max {
            return Err(failed(format!("{url} is larger than {} MiB.", max >> 20)).into());
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| failed(format!("{url} is not UTF-8 text.")).into())
}
