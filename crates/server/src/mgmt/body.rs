//! Request bodies and path parameters, parsed into domain values with field-level errors.

use crate::mgmt::MgmtError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use portcullis_domain::ValidationError;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A JSON body, flat or wrapped in APIM's `{"properties": {…}}`, deserialised strictly
/// (unknown properties are errors, so a typo is reported rather than ignored).
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = MgmtError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state).await.map_err(|error| {
            ValidationError::new(
                "body",
                "InvalidBody",
                format!("The body could not be read: {error}."),
            )
        })?;
        let text = if bytes.iter().all(u8::is_ascii_whitespace) {
            &b"{}"[..]
        } else {
            &bytes[..]
        };
        let mut value: Value = serde_json::from_slice(text).map_err(|error| {
            ValidationError::new(
                "body",
                "InvalidJson",
                format!(
                    "The body is not valid JSON (line {}, column {}): {error}.",
                    error.line(),
                    error.column()
                ),
            )
        })?;
        if let Some(object) = value.as_object_mut()
            && object.len() == 1
            && let Some(inner) = object.remove("properties")
        {
            value = inner;
        }
        serde_json::from_value(value)
            .map(JsonBody)
            .map_err(|error| {
                let message = error.to_string();
                let field = message
                    .split('`')
                    .nth(1)
                    .filter(|_| message.contains("field"))
                    .unwrap_or("body")
                    .to_owned();
                MgmtError::Invalid(ValidationError::new(
                    field,
                    "InvalidBody",
                    format!("{message}."),
                ))
            })
    }
}

/// Parses a path segment into a name type, reporting errors against `field`.
pub fn name<T>(
    field: &str,
    value: String,
    parse: impl FnOnce(String) -> Result<T, ValidationError>,
) -> Result<T, MgmtError> {
    parse(value).map_err(|error| MgmtError::Invalid(error.for_field(field)))
}

/// A JSON list answer: `{ "value": [ … ] }`.
pub fn list<T: serde::Serialize>(items: Vec<T>) -> axum::Json<Value> {
    axum::Json(serde_json::json!({ "value": items, "count": items.len() }))
}

/// 201 for a created resource, 200 for a replaced one.
pub fn saved_status(saved: portcullis_store::Saved) -> axum::http::StatusCode {
    match saved {
        portcullis_store::Saved::Created => axum::http::StatusCode::CREATED,
        portcullis_store::Saved::Updated => axum::http::StatusCode::OK,
    }
}
