//! Newtonsoft's JSON tokens (`JObject`, `JArray`, `JValue`) as scripts use them.
//!
//! Containers are references, as in Newtonsoft: `body["items"]` is the array inside `body`,
//! and adding to it changes `body`. Objects keep their properties in order. Text is read
//! with serde_json (whose recursion limit, 128 levels, bounds what a body can nest) and
//! written the way `JToken.ToString()` writes it: indented by two spaces, or on one line
//! with `Formatting.None`.

use crate::value::Shared;
use std::sync::Arc;

/// How deep a token may nest when it is written out or compared.
pub const MAX_JSON_DEPTH: usize = 128;

#[derive(Debug, Clone)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    Array(Shared<Vec<Json>>),
    Object(Shared<Vec<(Arc<str>, Json)>>),
}

impl Json {
    pub fn parse(text: &str) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("the text is not JSON: {e}"))?;
        Ok(Self::from_serde(value))
    }

    pub fn from_serde(value: serde_json::Value) -> Self {
        // Iterative, so a deeply nested value cannot exhaust the stack here either.
        match value {
            serde_json::Value::Null => Self::Null,
            serde_json::Value::Bool(b) => Self::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Self::Int(i),
                None => Self::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Self::Str(s.into()),
            serde_json::Value::Array(items) => Self::Array(Shared::new(
                items.into_iter().map(Self::from_serde).collect(),
            )),
            serde_json::Value::Object(map) => Self::Object(Shared::new(
                map.into_iter()
                    .map(|(k, v)| (Arc::from(k), Self::from_serde(v)))
                    .collect(),
            )),
        }
    }

    /// The token as a serde_json value. Tokens nest at most [`MAX_JSON_DEPTH`] deep here:
    /// a script can build deeper ones (it links tokens by reference), and writing one out
    /// recursively must not cost the thread's stack.
    pub fn to_serde(&self) -> Result<serde_json::Value, String> {
        self.to_serde_at(0)
    }

    fn to_serde_at(&self, depth: usize) -> Result<serde_json::Value, String> {
        if depth > MAX_JSON_DEPTH {
            return Err(format!(
                "the JSON nests more than {MAX_JSON_DEPTH} levels deep."
            ));
        }
        Ok(match self {
            Self::Null => serde_json::Value::Null,
            Self::Bool(b) => serde_json::Value::Bool(*b),
            Self::Int(i) => serde_json::Value::from(*i),
            Self::Float(f) => serde_json::Number::from_f64(*f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Self::Str(s) => serde_json::Value::String(s.to_string()),
            Self::Array(items) => {
                let items = items.lock().clone();
                let mut out = Vec::with_capacity(items.len());
                for item in &items {
                    out.push(item.to_serde_at(depth + 1)?);
                }
                serde_json::Value::Array(out)
            }
            Self::Object(members) => {
                let members = members.lock().clone();
                let mut out = serde_json::Map::new();
                for (k, v) in &members {
                    out.insert(k.to_string(), v.to_serde_at(depth + 1)?);
                }
                serde_json::Value::Object(out)
            }
        })
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Object(_) => "JObject",
            Self::Array(_) => "JArray",
            _ => "JValue",
        }
    }

    /// A JSON `null` token (a `JValue` whose value is null).
    pub fn is_null_token(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// `ToString()`: indented (Newtonsoft's default) or on one line; a string value is its
    /// text without quotes, as `JValue.ToString()` gives.
    pub fn to_text(&self, indented: bool) -> Result<String, String> {
        Ok(match self {
            Self::Str(s) => s.to_string(),
            Self::Null => String::new(),
            Self::Bool(true) => "True".to_owned(),
            Self::Bool(false) => "False".to_owned(),
            _ => {
                let value = self.to_serde()?;
                let written = if indented {
                    serde_json::to_string_pretty(&value)
                } else {
                    serde_json::to_string(&value)
                };
                written.map_err(|e| e.to_string())?
            }
        })
    }

    /// The property `name` of an object (`null` when absent, as Newtonsoft's indexer).
    pub fn property(&self, name: &str) -> Option<Json> {
        match self {
            Self::Object(members) => members
                .lock()
                .iter()
                .find(|(k, _)| &**k == name)
                .map(|(_, v)| v.clone()),
            _ => None,
        }
    }

    /// Sets (or adds) the property `name` of an object; false when this is not an object.
    pub fn set_property(&self, name: &str, value: Json) -> bool {
        let Self::Object(members) = self else {
            return false;
        };
        let mut members = members.lock();
        match members.iter_mut().find(|(k, _)| &**k == name) {
            Some((_, slot)) => *slot = value,
            None => members.push((name.into(), value)),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_references_and_text_round_trips() {
        let body = Json::parse(r#"{"a":1,"items":[1,2],"s":"x"}"#).unwrap();
        let items = body.property("items").unwrap();
        if let Json::Array(list) = &items {
            list.lock().push(Json::Int(3));
        }
        assert_eq!(
            body.to_text(false).unwrap(),
            r#"{"a":1,"items":[1,2,3],"s":"x"}"#
        );
        assert_eq!(body.property("s").unwrap().to_text(true).unwrap(), "x");
        assert!(body.set_property("b", Json::Bool(true)));
        assert!(body.to_text(true).unwrap().contains("\n  \"b\": true"));
    }
}
