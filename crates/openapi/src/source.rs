//! Reading a document: JSON or YAML text into a JSON tree, and which OpenAPI it is.

use crate::import::ImportError;
use serde_json::Value;

/// A document has at most this many bytes (APIM's limit for an inline import).
pub const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;

/// Which OpenAPI a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `swagger: "2.0"`.
    Swagger2,
    /// `openapi: 3.0.x`.
    OpenApi30,
    /// `openapi: 3.1.x`.
    OpenApi31,
}

impl Version {
    pub fn is_swagger(self) -> bool {
        self == Self::Swagger2
    }
}

/// The text as a JSON tree: JSON when it starts with `{`, YAML otherwise (YAML is a superset
/// of JSON, so a JSON document with leading comments still reads). The parsers bound nesting
/// (serde_json at 128 levels; the YAML reader refuses deep nesting and alias bombs).
pub fn read(text: &str) -> Result<(Value, Version), ImportError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(ImportError::TooLarge {
            bytes: text.len(),
            max: MAX_DOCUMENT_BYTES,
        });
    }
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let document: Value = if trimmed.starts_with('{') {
        serde_json::from_str(trimmed).map_err(|e| ImportError::Unreadable(format!("JSON: {e}")))?
    } else {
        serde_yaml_ng::from_str(trimmed)
            .map_err(|e| ImportError::Unreadable(format!("YAML: {e}")))?
    };
    if !document.is_object() {
        return Err(ImportError::Unreadable(
            "the document is not an object (an OpenAPI document starts with openapi: or swagger:)"
                .to_owned(),
        ));
    }
    let version = version_of(&document)?;
    Ok((document, version))
}

fn version_of(document: &Value) -> Result<Version, ImportError> {
    let text = |key: &str| {
        document.get(key).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    if let Some(swagger) = text("swagger") {
        return if swagger == "2.0" {
            Ok(Version::Swagger2)
        } else {
            Err(ImportError::Version(format!("swagger: {swagger}")))
        };
    }
    match text("openapi") {
        Some(v) if v.starts_with("3.0") => Ok(Version::OpenApi30),
        Some(v) if v.starts_with("3.1") => Ok(Version::OpenApi31),
        Some(v) => Err(ImportError::Version(format!("openapi: {v}"))),
        None => Err(ImportError::Version(
            "neither openapi: nor swagger: is set".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_and_yaml_and_names_the_version() {
        let (_, v) = read(r#"{"swagger": "2.0", "paths": {}}"#).unwrap();
        assert_eq!(v, Version::Swagger2);
        let (_, v) = read("openapi: 3.0.3\npaths: {}\n").unwrap();
        assert_eq!(v, Version::OpenApi30);
        let (_, v) = read("openapi: '3.1.0'\n").unwrap();
        assert_eq!(v, Version::OpenApi31);
        assert!(matches!(
            read("openapi: 4.0.0"),
            Err(ImportError::Version(_))
        ));
        assert!(matches!(
            read("swagger: '1.2'"),
            Err(ImportError::Version(_))
        ));
        assert!(matches!(read("- a list"), Err(ImportError::Unreadable(_))));
        assert!(matches!(
            read("{ not json"),
            Err(ImportError::Unreadable(_))
        ));
    }

    #[test]
    fn deep_nesting_and_alias_bombs_are_refused_not_followed() {
        let deep = format!(
            "openapi: 3.0.0\nx: {}{}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert!(matches!(read(&deep), Err(ImportError::Unreadable(_))));
        let deep_json = format!(
            r#"{{"openapi": "3.0.0", "x": {}{}}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert!(matches!(read(&deep_json), Err(ImportError::Unreadable(_))));
        // A "billion laughs": nine levels of nine aliases.
        let mut bomb = String::from("openapi: 3.0.0\na0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for level in 1..10 {
            let previous = format!("*a{}", level - 1);
            bomb.push_str(&format!(
                "a{level}: &a{level} [{}]\n",
                vec![previous; 9].join(", ")
            ));
        }
        assert!(matches!(read(&bomb), Err(ImportError::Unreadable(_))));
        let huge = format!("openapi: 3.0.0\nx: '{}'\n", "a".repeat(MAX_DOCUMENT_BYTES));
        assert!(matches!(read(&huge), Err(ImportError::TooLarge { .. })));
    }
}
