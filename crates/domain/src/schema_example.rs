//! An example made from a JSON Schema: what `mock-response` answers when an operation
//! documents a schema but no example (APIM: "generates sample responses from schemas when
//! schemas are provided and examples are not").
//!
//! The schema's own `example`, `default` or first `enum` value wins; otherwise an object gets
//! every property, an array one item, a string a value fitting its `format`, a number `0`,
//! a boolean `true`. `allOf` is merged, `oneOf`/`anyOf` take the first. References
//! (`#/definitions/<name>`) are looked up in the API's schemas. A recursive schema ends:
//! nesting stops at [`MAX_DEPTH`] and the whole example at [`MAX_NODES`] values.

use crate::operation_contract::ApiSchemas;
use serde_json::{Map, Value, json};

/// Objects and arrays nest at most this deep in a made example.
pub const MAX_DEPTH: usize = 8;
/// A made example has at most this many values.
pub const MAX_NODES: usize = 1000;

/// An example for `schema`, its references looked up in `schemas`.
pub fn example(schema: &Value, schemas: &ApiSchemas) -> Value {
    let mut budget = MAX_NODES;
    make(schema, schemas, 0, &mut budget)
}

fn make(schema: &Value, schemas: &ApiSchemas, depth: usize, budget: &mut usize) -> Value {
    if depth > MAX_DEPTH || *budget == 0 {
        return Value::Null;
    }
    *budget -= 1;
    let Some(object) = schema.as_object() else {
        return Value::Null;
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return match schemas.get(name) {
            Some(target) => make(target, schemas, depth + 1, budget),
            None => Value::Null,
        };
    }
    for key in ["example", "default"] {
        if let Some(value) = object.get(key) {
            return value.clone();
        }
    }
    if let Some(first) = object
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    if let Some(first) = object
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    if let Some(Value::Array(parts)) = object.get("allOf") {
        let mut merged = Map::new();
        for part in parts {
            if let Value::Object(fields) = make(part, schemas, depth + 1, budget) {
                merged.extend(fields);
            }
        }
        return Value::Object(merged);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = object
            .get(key)
            .and_then(Value::as_array)
            .and_then(|o| o.first())
        {
            return make(first, schemas, depth + 1, budget);
        }
    }
    let kind = match object.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null")
            .unwrap_or("null"),
        _ if object.contains_key("properties") => "object",
        _ if object.contains_key("items") => "array",
        _ => "",
    };
    match kind {
        "object" => {
            let mut out = Map::new();
            if let Some(Value::Object(properties)) = object.get("properties") {
                for (name, property) in properties {
                    if *budget == 0 {
                        break;
                    }
                    out.insert(name.clone(), make(property, schemas, depth + 1, budget));
                }
            }
            Value::Object(out)
        }
        "array" => match object.get("items") {
            Some(items) => {
                let item = make(items, schemas, depth + 1, budget);
                if item.is_null() {
                    json!([])
                } else {
                    json!([item])
                }
            }
            None => json!([]),
        },
        "string" => json!(string_for(object.get("format").and_then(Value::as_str))),
        "integer" => json!(0),
        "number" => json!(0.0),
        "boolean" => json!(true),
        _ => Value::Null,
    }
}

fn string_for(format: Option<&str>) -> &'static str {
    match format {
        Some("date-time") => "2026-01-01T00:00:00Z",
        Some("date") => "2026-01-01",
        Some("uuid") => "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        Some("email") => "user@example.com",
        Some("uri" | "url") => "https://example.com/",
        Some("byte") => "U3dhZ2dlciByb2Nrcw==",
        _ => "string",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_an_example_from_properties_refs_and_formats() {
        let mut schemas = ApiSchemas::new();
        schemas.insert(
            "Tag".into(),
            json!({ "type": "object", "properties": { "name": { "type": "string", "example": "dogs" } } }),
        );
        let schema = json!({
            "type": "object",
            "properties": {
                "id": { "type": "integer", "format": "int64" },
                "status": { "type": "string", "enum": ["available", "sold"] },
                "born": { "type": "string", "format": "date" },
                "tags": { "type": "array", "items": { "$ref": "#/definitions/Tag" } },
                "good": { "type": "boolean" }
            }
        });
        assert_eq!(
            example(&schema, &schemas),
            json!({ "id": 0, "status": "available", "born": "2026-01-01", "tags": [{ "name": "dogs" }], "good": true })
        );
    }

    #[test]
    fn a_recursive_schema_ends() {
        let mut schemas = ApiSchemas::new();
        schemas.insert(
            "Node".into(),
            json!({ "type": "object", "properties": {
                "left": { "$ref": "#/definitions/Node" }, "right": { "$ref": "#/definitions/Node" } } }),
        );
        let made = example(&json!({ "$ref": "#/definitions/Node" }), &schemas);
        let text = made.to_string();
        assert!(text.len() < 100_000, "{} bytes", text.len());
        assert!(made["left"]["left"].is_object());
    }
}
