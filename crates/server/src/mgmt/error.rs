//! Management API errors and the one place they become responses:
//! `{ "error": { "code": …, "message": …, "field": … } }`.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use portcullis_domain::ValidationError;
use portcullis_store::StoreError;
use serde_json::json;

/// What a caller is told when the database is away: nothing was saved, the gateways are
/// unaffected, and the same request can be repeated.
pub const UNAVAILABLE_MESSAGE: &str = "The configuration database cannot be reached, so nothing was saved. The gateways keep serving the last configuration; send the request again once the database is back.";

/// What a caller is told when a write went unanswered: it may or may not have been saved.
pub fn unanswered_message(error: &StoreError) -> String {
    format!(
        "The configuration database did not answer ({error}); the change may or may not have been saved. Reload to see, then send it again if it is missing."
    )
}

#[derive(Debug, thiserror::Error)]
pub enum MgmtError {
    #[error(
        "A management token is required: send 'Authorization: Bearer <token>' (create one with 'portcullis token create --name NAME')."
    )]
    Unauthorized,
    #[error("No management API resource at this path.")]
    NoRoute,
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IntoResponse for MgmtError {
    fn into_response(self) -> Response {
        let (status, code, field) = match &self {
            MgmtError::Unauthorized => (StatusCode::UNAUTHORIZED, "Unauthorized", None),
            MgmtError::NoRoute => (StatusCode::NOT_FOUND, "NotFound", None),
            MgmtError::Invalid(error) | MgmtError::Store(StoreError::Invalid(error)) => (
                StatusCode::BAD_REQUEST,
                error.code,
                Some(error.field.clone()),
            ),
            MgmtError::Store(StoreError::NotFound(_)) => (StatusCode::NOT_FOUND, "NotFound", None),
            MgmtError::Store(StoreError::Conflict { code, .. }) => {
                (StatusCode::CONFLICT, *code, None)
            }
            MgmtError::Store(StoreError::Unavailable(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "DatabaseUnavailable", None)
            }
            MgmtError::Store(StoreError::Unanswered(_)) => {
                (StatusCode::GATEWAY_TIMEOUT, "DatabaseTimeout", None)
            }
            MgmtError::Store(StoreError::Corrupt(_) | StoreError::Database(_)) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "InternalError", None)
            }
        };
        let message = match &self {
            MgmtError::Invalid(error) | MgmtError::Store(StoreError::Invalid(error)) => {
                error.message.clone()
            }
            MgmtError::Store(error @ (StoreError::Corrupt(_) | StoreError::Database(_))) => {
                tracing::error!(%error, "management API request failed");
                "The request could not be completed because of an internal error; see the server log.".to_owned()
            }
            MgmtError::Store(error @ StoreError::Unanswered(_)) => {
                tracing::warn!(%error, "management API request: the database did not answer");
                unanswered_message(error)
            }
            MgmtError::Store(StoreError::Unavailable(detail)) => {
                tracing::warn!(
                    detail,
                    "management API request: the database cannot be reached"
                );
                UNAVAILABLE_MESSAGE.to_owned()
            }
            other => other.to_string(),
        };
        let mut body = json!({ "error": { "code": code, "message": message } });
        if let Some(field) = field {
            body["error"]["field"] = json!(field);
        }
        if let MgmtError::Invalid(error) | MgmtError::Store(StoreError::Invalid(error)) = &self
            && !error.details.is_empty()
        {
            let details: Vec<_> = error
                .details
                .iter()
                .map(|message| json!({ "code": error.code, "message": message }))
                .collect();
            body["error"]["details"] = json!(details);
        }
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
