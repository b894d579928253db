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
//! Reading and writing the documents is [`crate::openapi_source`]'s.

use std::net::SocketAddr;

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
