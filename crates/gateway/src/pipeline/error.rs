//! Every way the gateway itself can answer a request, and the one place that turns each into
//! a status code and an APIM-shaped body: `{ "statusCode": N, "message": "…", "requestId": "…" }`.

use crate::body::GatewayBody;
use crate::pipeline::RequestContext;
use http::{HeaderName, HeaderValue, Response, StatusCode, header};
use portcullis_policy::Rejection;
use portcullis_policy::exchange::ResponseState;
use std::time::Duration;

/// Whole seconds, rounded up (a wait of 0.2 s is "1 second").
fn seconds_up(duration: &Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// A .NET TimeSpan as APIM prints it: `hh:mm:ss`, or `d.hh:mm:ss` past a day.
fn timespan(duration: &Duration) -> String {
    let total = seconds_up(duration);
    let (days, rest) = (total / 86_400, total % 86_400);
    let clock = format!(
        "{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    );
    if days > 0 {
        format!("{days}.{clock}")
    } else {
        clock
    }
}

fn quota_message(retry_after: &Duration, bandwidth: bool) -> String {
    let what = if bandwidth {
        "bandwidth"
    } else {
        "call volume"
    };
    if *retry_after == Duration::MAX {
        format!("Out of {what} quota. The quota does not renew.")
    } else {
        format!(
            "Out of {what} quota. Quota will be replenished in {}.",
            timespan(retry_after)
        )
    }
}

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
    /// `rate-limit(-by-key)`.
    #[error("Rate limit is exceeded. Try again in {} seconds.", seconds_up(.retry_after))]
    RateLimited {
        retry_after: Duration,
        header: Option<HeaderName>,
    },
    /// `quota(-by-key)`.
    #[error("{}", quota_message(.retry_after, *.bandwidth))]
    QuotaExceeded {
        retry_after: Duration,
        bandwidth: bool,
    },
    /// `ip-filter`.
    #[error("Forbidden")]
    IpForbidden,
    /// `limit-concurrency`.
    #[error("Too many concurrent requests. Try again later.")]
    ConcurrencyLimited,
    /// `check-header`, `validate-jwt` and other policies with their own status and message.
    #[error("{message}")]
    Refused { status: StatusCode, message: String },
    /// A policy expression failed while the request ran.
    #[error("Internal server error")]
    PolicyFailed(String),
    /// Counters could not be reached and the deployment fails closed.
    #[error("Service unavailable")]
    CountersUnavailable(String),
    /// The backend's circuit breaker is open (every member's, for a pool).
    #[error(
        "Backend '{backend}' is unavailable: its circuit breaker is open. Try again in {} seconds.",
        seconds_up(.retry_after)
    )]
    BackendUnavailable {
        backend: String,
        retry_after: Duration,
    },
}

impl From<Rejection> for GatewayError {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::IpForbidden => Self::IpForbidden,
            Rejection::RateLimited {
                retry_after,
                retry_after_header,
            } => Self::RateLimited {
                retry_after,
                header: retry_after_header,
            },
            Rejection::QuotaExceeded {
                retry_after,
                bandwidth,
            } => Self::QuotaExceeded {
                retry_after,
                bandwidth,
            },
            Rejection::ConcurrencyLimited => Self::ConcurrencyLimited,
            Rejection::Refused { status, message } => Self::Refused { status, message },
            Rejection::Expression(detail) | Rejection::TokenUnavailable(detail) => {
                Self::PolicyFailed(detail)
            }
            Rejection::BackendConnection(detail) => Self::BackendConnection(detail),
            Rejection::BackendTimeout(timeout) => Self::BackendTimeout(timeout),
            Rejection::CountersUnavailable(detail) => Self::CountersUnavailable(detail),
            Rejection::BackendUnavailable {
                backend,
                retry_after,
            } => Self::BackendUnavailable {
                backend,
                retry_after,
            },
            Rejection::BackendStatus(status) => Self::Refused {
                status,
                message: format!("The backend answered {status}."),
            },
        }
    }
}

impl GatewayError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MissingKey { .. } | Self::InvalidKey => StatusCode::UNAUTHORIZED,
            Self::BackendConnection(_) => StatusCode::BAD_GATEWAY,
            Self::BackendTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal(_) | Self::PolicyFailed(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::RateLimited { .. } | Self::ConcurrencyLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::QuotaExceeded { .. } | Self::IpForbidden => StatusCode::FORBIDDEN,
            Self::Refused { status, .. } => *status,
            Self::CountersUnavailable(_) | Self::BackendUnavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    pub fn fault(&self) -> Fault {
        match self {
            Self::NotFound
            | Self::MissingKey { .. }
            | Self::InvalidKey
            | Self::RateLimited { .. }
            | Self::QuotaExceeded { .. }
            | Self::IpForbidden
            | Self::ConcurrencyLimited
            | Self::Refused { .. } => Fault::Caller,
            Self::BackendConnection(_)
            | Self::BackendTimeout(_)
            | Self::BackendUnavailable { .. } => Fault::Backend,
            Self::Internal(_) | Self::PolicyFailed(_) | Self::CountersUnavailable(_) => {
                Fault::Internal
            }
        }
    }

    /// The error response as the policy pipeline handles it (on-error may change it).
    pub fn response_state(&self, request_id: &str) -> ResponseState {
        match self {
            Self::BackendConnection(detail)
            | Self::Internal(detail)
            | Self::PolicyFailed(detail)
            | Self::CountersUnavailable(detail) => {
                tracing::warn!(%request_id, fault = ?self.fault(), %detail, "{self}");
            }
            _ => {}
        }
        let status = self.status();
        let body = ErrorBody {
            status_code: status.as_u16(),
            message: self.to_string(),
            request_id,
        };
        // Serialising three plain fields cannot fail; an empty body would still carry the status.
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = ResponseState::new(status);
        response.body = Some(bytes.into());
        let headers = &mut response.headers;
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        match self {
            Self::MissingKey { realm, header_name } => {
                let challenge = format!(
                    "AzureApiManagementKey realm=\"{realm}\",name=\"{header_name}\",type=\"header\""
                );
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
            }
            Self::RateLimited {
                retry_after,
                header,
            } => {
                let name = header.clone().unwrap_or(header::RETRY_AFTER);
                headers.insert(name, HeaderValue::from(seconds_up(retry_after)));
            }
            Self::BackendUnavailable { retry_after, .. } => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(seconds_up(retry_after)),
                );
            }
            Self::QuotaExceeded { retry_after, .. } if *retry_after != Duration::MAX => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(seconds_up(retry_after)),
                );
            }
            _ => {}
        }
        response
    }

    pub fn into_response(self, context: &RequestContext) -> Response<GatewayBody> {
        into_response(self.response_state(&context.request_id), None)
    }
}

/// The one way a response state becomes an HTTP response: a body a policy or the gateway
/// set wins; otherwise the backend's body streams through (if there is one).
pub fn into_response(
    state: ResponseState,
    backend_body: Option<hyper::body::Incoming>,
) -> Response<GatewayBody> {
    let body = match (state.body, backend_body) {
        (Some(bytes), _) if bytes.is_empty() => GatewayBody::Empty,
        (Some(bytes), _) => GatewayBody::full(bytes),
        (None, Some(stream)) => GatewayBody::Streaming(stream),
        (None, None) => GatewayBody::Empty,
    };
    let mut response = Response::new(body);
    *response.status_mut() = state.status;
    *response.headers_mut() = state.headers;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_times_read_as_timespans() {
        assert_eq!(timespan(&Duration::from_secs(406)), "00:06:46");
        assert_eq!(timespan(&Duration::from_millis(1)), "00:00:01");
        assert_eq!(
            timespan(&Duration::from_secs(5 * 86_400 + 3 * 3600 + 23 * 60 + 11)),
            "5.03:23:11"
        );
    }

    #[test]
    fn rate_limit_rounds_up() {
        let error = GatewayError::RateLimited {
            retry_after: Duration::from_millis(29_100),
            header: None,
        };
        assert_eq!(
            error.to_string(),
            "Rate limit is exceeded. Try again in 30 seconds."
        );
        let state = error.response_state("id");
        assert_eq!(state.headers[header::RETRY_AFTER], "30");
    }
}
