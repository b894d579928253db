//! Every way the gateway itself can answer a request, and the one place that turns each into
//! a status code and an APIM-shaped body: `{ "statusCode": N, "message": "…", "requestId": "…" }`.

use crate::body::GatewayBody;
use crate::pipeline::RequestContext;
use http::{HeaderValue, Response, StatusCode, header};
use std::time::Duration;

/// Whose fault an error is: it decides the log level, and later the analytics bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Caller,
    Backend,
    Internal,
}

/// APIM's error body, fields in APIM's order.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    status_code: u16,
    message: String,
    request_id: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// No service, API or operation matches (a wrong method included, as in APIM).
    #[error("Resource not found")]
    NotFound,
    /// A key is required and none was sent.
    #[error(
        "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."
    )]
    MissingKey {
        /// `http://<host>/<api suffix>` for the `WWW-Authenticate` challenge.
        realm: String,
        header_name: String,
    },
    /// The key is unknown, inactive, or does not open this API.
    #[error(
        "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
    )]
    InvalidKey,
    #[error("Backend connection failure")]
    BackendConnection(String),
    #[error("Backend did not respond within {} seconds", .0.as_secs_f64().ceil())]
    BackendTimeout(Duration),
    #[error("Internal server error")]
    Internal(String),
}

impl GatewayError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MissingKey { .. } | Self::InvalidKey => StatusCode::UNAUTHORIZED,
            Self::BackendConnection(_) => StatusCode::BAD_GATEWAY,
            Self::BackendTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn fault(&self) -> Fault {
        match self {
            Self::NotFound | Self::MissingKey { .. } | Self::InvalidKey => Fault::Caller,
            Self::BackendConnection(_) | Self::BackendTimeout(_) => Fault::Backend,
            Self::Internal(_) => Fault::Internal,
        }
    }

    pub fn into_response(self, context: &RequestContext) -> Response<GatewayBody> {
        match &self {
            Self::BackendConnection(detail) | Self::Internal(detail) => {
                tracing::warn!(request_id = %context.request_id, fault = ?self.fault(), %detail, "{self}");
            }
            _ => {}
        }
        let status = self.status();
        let body = ErrorBody {
            status_code: status.as_u16(),
            message: self.to_string(),
            request_id: &context.request_id,
        };
        // Serialising three plain fields cannot fail; an empty body would still carry the status.
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = Response::new(GatewayBody::full(bytes));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Self::MissingKey { realm, header_name } = &self {
            let challenge = format!(
                "AzureApiManagementKey realm=\"{realm}\",name=\"{header_name}\",type=\"header\""
            );
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}
