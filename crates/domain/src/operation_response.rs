//! What an operation documents about its responses (APIM's `responses`): for each status a
//! description and representations — a content type and named examples. `mock-response`
//! answers with these examples; an OpenAPI import fills them in and an export writes them.
//!
//! The management API's shape, as APIM's:
//!
//! ```json
//! "responses": [{ "statusCode": 200, "description": "OK",
//!   "representations": [{ "contentType": "application/json",
//!     "examples": { "default": { "value": { "id": 7 } } } }] }]
//! ```

use crate::ValidationError;
use serde::{Deserialize, Serialize};

/// One documented response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OperationResponse {
    pub status_code: u16,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub representations: Vec<Representation>,
    /// Headers the response carries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<crate::operation_contract::Parameter>,
}

/// A body a request or response may have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Representation {
    pub content_type: String,
    /// Examples by name, in the order written.
    #[serde(default)]
    pub examples: serde_json::Map<String, serde_json::Value>,
    /// APIM's id of the schema document the type is in (kept as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<String>,
    /// The schema of the body: a name among the API's schemas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
}

impl Representation {
    /// The examples' values (each example is `{ "value": … }`, as in OpenAPI and APIM).
    pub fn example_values(&self) -> impl Iterator<Item = &serde_json::Value> {
        self.examples
            .values()
            .filter_map(|example| example.get("value"))
    }
}

/// At most this many responses per operation.
pub const MAX_RESPONSES: usize = 64;
/// At most this many bytes of responses (their JSON) per operation.
pub const MAX_RESPONSES_BYTES: usize = 256 * 1024;

/// Checks what a client sent as `responses`: statuses 100–599, each once; content types
/// that are media types; examples that are objects with a `value`; the whole within the
/// bounds above.
pub fn parse_responses(
    value: serde_json::Value,
) -> Result<Vec<OperationResponse>, ValidationError> {
    let fault = |message: String| ValidationError::new("responses", "InvalidResponses", message);
    let size = value.to_string().len();
    if size > MAX_RESPONSES_BYTES {
        return Err(fault(format!(
            "responses take {size} bytes; an operation's responses may take at most {MAX_RESPONSES_BYTES}."
        )));
    }
    let responses: Vec<OperationResponse> =
        serde_json::from_value(value).map_err(|e| fault(format!("responses: {e}")))?;
    if responses.len() > MAX_RESPONSES {
        return Err(fault(format!(
            "an operation documents at most {MAX_RESPONSES} responses."
        )));
    }
    for (i, response) in responses.iter().enumerate() {
        if !(100..=599).contains(&response.status_code) {
            return Err(fault(format!(
                "responses[{i}].statusCode must be an HTTP status (100–599), not {}.",
                response.status_code
            )));
        }
        if responses[..i]
            .iter()
            .any(|other| other.status_code == response.status_code)
        {
            return Err(fault(format!(
                "status {} is documented twice.",
                response.status_code
            )));
        }
        for representation in &response.representations {
            let media = representation.content_type.trim();
            let valid = media
                .split_once('/')
                .is_some_and(|(kind, sub)| !kind.is_empty() && !sub.is_empty())
                && media.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
            if !valid {
                return Err(fault(format!(
                    "'{}' is not a content type (type/subtype).",
                    representation.content_type
                )));
            }
            if let Some((name, _)) = representation
                .examples
                .iter()
                .find(|(_, example)| example.get("value").is_none())
            {
                return Err(fault(format!(
                    "example '{name}' of {media} needs a value: {{ \"value\": … }}."
                )));
            }
        }
    }
    Ok(responses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_apims_shape() {
        let responses = parse_responses(json!([{
            "statusCode": 200,
            "description": "OK",
            "representations": [{
                "contentType": "application/json",
                "examples": { "default": { "value": { "id": 7 } }, "other": { "value": "x" } }
            }]
        }]))
        .unwrap();
        let values: Vec<_> = responses[0].representations[0].example_values().collect();
        assert_eq!(values, vec![&json!({ "id": 7 }), &json!("x")]);
    }

    #[test]
    fn refuses_what_apim_would_not_store() {
        for (bad, says) in [
            (json!([{ "statusCode": 42 }]), "100–599"),
            (
                json!([{ "statusCode": 200 }, { "statusCode": 200 }]),
                "twice",
            ),
            (
                json!([{ "statusCode": 200, "representations": [{ "contentType": "json" }] }]),
                "content type",
            ),
            (
                json!([{ "statusCode": 200, "representations": [{ "contentType": "a/b", "examples": { "e": 1 } }] }]),
                "needs a value",
            ),
            (json!([{ "statusCode": 200, "bogus": 1 }]), "bogus"),
            (json!({ "statusCode": 200 }), "sequence"),
        ] {
            let error = parse_responses(bad.clone()).unwrap_err();
            assert!(error.message.contains(says), "{bad}: {}", error.message);
        }
        let huge = json!([{ "statusCode": 200, "representations": [{ "contentType": "a/b", "examples": { "e": { "value": "x".repeat(MAX_RESPONSES_BYTES) } } }] }]);
        assert!(parse_responses(huge).is_err());
    }
}
