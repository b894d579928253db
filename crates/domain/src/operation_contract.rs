//! What an operation documents besides its responses (APIM's operation contract): a
//! description, the parameters of its URL template, and its request — query parameters,
//! headers and representations (bodies). An OpenAPI import fills them in, an export writes
//! them, and the management API takes them in APIM's shape:
//!
//! ```json
//! "description": "Returns a pet.",
//! "templateParameters": [{ "name": "petId", "type": "integer", "required": true }],
//! "request": { "queryParameters": [{ "name": "limit", "type": "integer" }],
//!              "headers": [], "representations": [{ "contentType": "application/json",
//!              "typeName": "NewPet" }] }
//! ```
//!
//! `typeName` names a schema among the API's schemas ([`ApiSchemas`]).

use crate::ValidationError;
use crate::operation_response::Representation;
use serde::{Deserialize, Serialize};

/// A parameter of the URL template, the query or the headers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Parameter {
    pub name: String,
    /// `string`, `integer`, `number`, `boolean`, `array`, `object`.
    #[serde(rename = "type", default = "string_type")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
    /// The values it may take (an enumeration).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
}

fn string_type() -> String {
    "string".to_owned()
}

/// What a request may carry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OperationRequest {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub query_parameters: Vec<Parameter>,
    #[serde(default)]
    pub headers: Vec<Parameter>,
    #[serde(default)]
    pub representations: Vec<Representation>,
}

/// An API's schemas by type name (OpenAPI's `components.schemas` / Swagger's
/// `definitions`): JSON Schema objects, their `$ref`s written `#/definitions/<name>`.
pub type ApiSchemas = serde_json::Map<String, serde_json::Value>;

/// At most this many parameters of each kind per operation.
pub const MAX_PARAMETERS: usize = 128;
/// At most this many bytes (of JSON) for an operation's contract.
pub const MAX_CONTRACT_BYTES: usize = 256 * 1024;
/// At most this many bytes (of JSON) for an API's schemas.
pub const MAX_SCHEMAS_BYTES: usize = 4 * 1024 * 1024;

fn fault(field: &str, message: String) -> ValidationError {
    ValidationError::new(field, "InvalidContract", message)
}

/// Checks parameters: a name each, no name twice, within the bounds.
pub fn check_parameters(field: &str, parameters: &[Parameter]) -> Result<(), ValidationError> {
    if parameters.len() > MAX_PARAMETERS {
        return Err(fault(
            field,
            format!(
                "at most {MAX_PARAMETERS} parameters, not {}.",
                parameters.len()
            ),
        ));
    }
    for (i, parameter) in parameters.iter().enumerate() {
        if parameter.name.trim().is_empty() {
            return Err(fault(field, format!("{field}[{i}] needs a name.")));
        }
        if parameters[..i]
            .iter()
            .any(|other| other.name.eq_ignore_ascii_case(&parameter.name))
        {
            return Err(fault(
                field,
                format!("'{}' is listed twice.", parameter.name),
            ));
        }
    }
    Ok(())
}

/// Reads `templateParameters` as a client sent it.
pub fn parse_template_parameters(
    value: serde_json::Value,
) -> Result<Vec<Parameter>, ValidationError> {
    let field = "templateParameters";
    if value.to_string().len() > MAX_CONTRACT_BYTES {
        return Err(fault(field, format!("at most {MAX_CONTRACT_BYTES} bytes.")));
    }
    let parameters: Vec<Parameter> =
        serde_json::from_value(value).map_err(|e| fault(field, format!("{field}: {e}")))?;
    check_parameters(field, &parameters)?;
    Ok(parameters)
}

/// Reads `request` as a client sent it.
pub fn parse_request(value: serde_json::Value) -> Result<OperationRequest, ValidationError> {
    let field = "request";
    if value.to_string().len() > MAX_CONTRACT_BYTES {
        return Err(fault(field, format!("at most {MAX_CONTRACT_BYTES} bytes.")));
    }
    let request: OperationRequest =
        serde_json::from_value(value).map_err(|e| fault(field, format!("{field}: {e}")))?;
    check_parameters("request.queryParameters", &request.query_parameters)?;
    check_parameters("request.headers", &request.headers)?;
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_apims_shape_and_writes_it_back() {
        let request = parse_request(json!({
            "queryParameters": [{ "name": "limit", "type": "integer", "defaultValue": "20" }],
            "headers": [{ "name": "x-trace", "required": true }],
            "representations": [{ "contentType": "application/json", "typeName": "NewPet" }]
        }))
        .unwrap();
        assert_eq!(request.query_parameters[0].kind, "integer");
        assert_eq!(request.headers[0].kind, "string");
        assert_eq!(
            request.representations[0].type_name.as_deref(),
            Some("NewPet")
        );
        let again = parse_request(serde_json::to_value(&request).unwrap()).unwrap();
        assert_eq!(again, request);
    }

    #[test]
    fn refuses_nameless_and_repeated_parameters() {
        let nameless = parse_template_parameters(json!([{ "name": " " }])).unwrap_err();
        assert!(nameless.message.contains("needs a name"), "{nameless:?}");
        let twice =
            parse_template_parameters(json!([{ "name": "id" }, { "name": "ID" }])).unwrap_err();
        assert!(twice.message.contains("twice"), "{twice:?}");
        let unknown = parse_request(json!({ "bodies": [] })).unwrap_err();
        assert_eq!(unknown.field, "request");
    }
}
