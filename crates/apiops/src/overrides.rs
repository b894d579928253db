//! Per-environment overrides, as APIOps' publisher takes them (`configuration.prod.yaml`):
//! lists of `{name, properties}` per kind, each deep-merged over the artifact's
//! `properties`. A `{#NAME#}` token in a string is replaced by the environment variable
//! `NAME` (how APIOps pipelines hand in secrets).
//!
//! ```yaml
//! namedValues:
//!   - name: backend-key
//!     properties: { value: "{#BACKEND_KEY#}" }
//! apis:
//!   - name: orders
//!     properties: { serviceUrl: https://orders.prod.example.com }
//! ```

use crate::ApiOpsError;
use serde_json::Value;

/// Override lists by kind.
#[derive(Debug, Clone, Default)]
pub struct Overrides(Value);

/// The override file's key for each kind, and the folder its artifacts are in.
pub const KINDS: [(&str, &str); 6] = [
    ("namedValues", "named values"),
    ("backends", "backends"),
    ("apis", "apis"),
    ("products", "products"),
    ("subscriptions", "subscriptions"),
    ("policyFragments", "policy fragments"),
];

impl Overrides {
    /// Reads an override file (YAML or JSON).
    pub fn parse(text: &str) -> Result<Self, ApiOpsError> {
        let value: Value = serde_yaml_ng::from_str(text).map_err(|e| ApiOpsError::Artifact {
            path: "override file".to_owned(),
            message: e.to_string(),
        })?;
        Ok(Self(value))
    }

    /// The override for `name` of the kind stored in `folder`, if any.
    fn find(&self, folder: &str, name: &str) -> Option<&Value> {
        let (key, _) = KINDS.iter().find(|(_, dir)| *dir == folder)?;
        self.0
            .get(*key)?
            .as_array()?
            .iter()
            .find(|entry| entry.get("name").and_then(Value::as_str) == Some(name))?
            .get("properties")
    }

    /// Merges the override for `name` (of `folder`) over `information`'s `properties`.
    pub fn apply(&self, folder: &str, name: &str, information: &mut Value) {
        if let Some(found) = self.find(folder, name) {
            let mut found = found.clone();
            fill_tokens(&mut found);
            if let Some(properties) = information.get_mut("properties") {
                merge(properties, found);
            }
        }
    }
}

/// `over` merged into `base`: objects key by key, anything else replaced.
pub fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, over) => *base = over,
    }
}

/// Replaces `{#NAME#}` in strings by the environment variable `NAME` (left as written when
/// it is not set).
pub fn fill_tokens(value: &mut Value) {
    match value {
        Value::String(text) => {
            while let Some(start) = text.find("{#") {
                let Some(end) = text[start..].find("#}") else {
                    break;
                };
                let name = &text[start + 2..start + end];
                let Ok(replacement) = std::env::var(name) else {
                    break;
                };
                text.replace_range(start..start + end + 2, &replacement);
            }
        }
        Value::Object(map) => map.values_mut().for_each(fill_tokens),
        Value::Array(items) => items.iter_mut().for_each(fill_tokens),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_deep_and_fills_tokens_from_the_environment() {
        // SAFETY of the test: no other test reads this variable.
        unsafe { std::env::set_var("PORTCULLIS_APIOPS_TEST_SECRET", "s3cret") };
        let overrides = Overrides::parse(
            "apis:\n  - name: orders\n    properties:\n      serviceUrl: https://prod.example.com\n      subscriptionKeyParameterNames: { header: X-Key }\nnamedValues:\n  - name: key\n    properties: { value: '{#PORTCULLIS_APIOPS_TEST_SECRET#}' }\n",
        )
        .unwrap();
        let mut api = json!({ "properties": { "serviceUrl": "http://dev", "subscriptionKeyParameterNames": { "header": "a", "query": "b" } } });
        overrides.apply("apis", "orders", &mut api);
        assert_eq!(api["properties"]["serviceUrl"], "https://prod.example.com");
        assert_eq!(
            api["properties"]["subscriptionKeyParameterNames"],
            json!({ "header": "X-Key", "query": "b" })
        );
        let mut named = json!({ "properties": { "secret": true } });
        overrides.apply("named values", "key", &mut named);
        assert_eq!(named["properties"]["value"], "s3cret");
        let mut other = json!({ "properties": {} });
        overrides.apply("apis", "other", &mut other);
        assert_eq!(other, json!({ "properties": {} }));
    }
}
