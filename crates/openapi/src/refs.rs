//! `$ref`s inside one document. Only references into the document itself (`#/…`) are
//! followed; one to another file makes the import fail with its location (the document is
//! incomplete without it). A chain of references is followed at most [`MAX_REF_HOPS`] deep,
//! so a reference loop ends.

use serde_json::Value;

/// At most this many `$ref`s are followed one after another.
pub const MAX_REF_HOPS: usize = 32;

/// Why a reference cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefFault {
    /// To another file or URL.
    External(String),
    /// To nothing in this document.
    Missing(String),
    /// A chain longer than [`MAX_REF_HOPS`] (a loop).
    TooDeep(String),
}

/// The value `value` stands for: itself, or what its `$ref` (chain) points at.
pub fn resolve<'d>(document: &'d Value, value: &'d Value) -> Result<&'d Value, RefFault> {
    let mut current = value;
    for _ in 0..MAX_REF_HOPS {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            return Ok(current);
        };
        current = target(document, reference)?;
    }
    Err(RefFault::TooDeep(
        value
            .get("$ref")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    ))
}

/// What `#/a/b~1c` points at in `document`.
pub fn target<'d>(document: &'d Value, reference: &str) -> Result<&'d Value, RefFault> {
    let Some(pointer) = reference.strip_prefix('#') else {
        return Err(RefFault::External(reference.to_owned()));
    };
    let pointer = percent_decode(pointer);
    document
        .pointer(&pointer)
        .ok_or_else(|| RefFault::Missing(reference.to_owned()))
}

/// The last segment of a local reference: the type name in `#/components/schemas/Pet`.
pub fn type_name(reference: &str) -> Option<String> {
    let pointer = reference.strip_prefix('#')?;
    let last = pointer.rsplit('/').next()?;
    Some(percent_decode(last).replace("~1", "/").replace("~0", "~"))
}

/// JSON pointers in URI fragments may be percent-encoded.
fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every `$ref` in `value` that does not start with `#` (with where it stands), at most
/// `limit` of them. The walk keeps its own stack (the tree is bounded by the reader's
/// nesting limit).
pub fn external_refs(value: &Value, limit: usize) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut stack = vec![(String::new(), value)];
    while let Some((at, value)) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref")
                    && !reference.starts_with('#')
                {
                    found.push((at.clone(), reference.clone()));
                    if found.len() >= limit {
                        break;
                    }
                }
                for (key, child) in map {
                    stack.push((format!("{at}/{key}"), child));
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    stack.push((format!("{at}/{index}"), child));
                }
            }
            _ => {}
        }
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn follows_local_chains_and_stops_at_loops_and_other_files() {
        let document = json!({
            "components": { "schemas": {
                "A": { "$ref": "#/components/schemas/B" },
                "B": { "type": "string" },
                "Loop": { "$ref": "#/components/schemas/Loop" },
                "a/b": { "type": "integer" }
            }}
        });
        let a = json!({ "$ref": "#/components/schemas/A" });
        assert_eq!(
            resolve(&document, &a).unwrap(),
            &json!({ "type": "string" })
        );
        let looped = json!({ "$ref": "#/components/schemas/Loop" });
        assert!(matches!(
            resolve(&document, &looped),
            Err(RefFault::TooDeep(_))
        ));
        let external = json!({ "$ref": "common.yaml#/Pet" });
        assert!(matches!(
            resolve(&document, &external),
            Err(RefFault::External(_))
        ));
        let missing = json!({ "$ref": "#/components/schemas/Nope" });
        assert!(matches!(
            resolve(&document, &missing),
            Err(RefFault::Missing(_))
        ));
        let escaped = json!({ "$ref": "#/components/schemas/a~1b" });
        assert_eq!(
            resolve(&document, &escaped).unwrap(),
            &json!({ "type": "integer" })
        );
        assert_eq!(type_name("#/definitions/Pet").as_deref(), Some("Pet"));
    }

    #[test]
    fn finds_external_references_anywhere() {
        let document = json!({ "paths": { "/p": { "get": { "responses": { "200": {
            "schema": { "$ref": "Pet.json" } } } } } } });
        let found = external_refs(&document, 10);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, "Pet.json");
        assert!(found[0].0.contains("/paths//p/get"), "{found:?}");
    }
}
