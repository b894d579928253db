//! `<set-body template="liquid">`: a Liquid template (see [`portcullis_script::liquid`])
//! rendered over the data APIM gives it:
//!
//! * `body` — the message the section acts on (the request's in inbound and backend, the
//!   response's after): read as JSON when its `Content-Type` is JSON (`application/json`,
//!   `text/json`, `…+json`), as XML read into JSON's shape when it is XML (Json.NET's form,
//!   root element included, attributes as `@name`), as its text otherwise (APIM binds
//!   nothing then; text is more useful and breaks no template written for APIM);
//! * `context` — `Request` (`Url`, `Method`, `OriginalMethod`, `OriginalUrl`, `IpAddress`,
//!   `MatchedParameters`, `HasBody`, `ClientCertificates`, `Headers`), `Response`
//!   (`StatusCode`, `Headers`) and `Variables`; a URL has `Scheme`, `Host`, `Port`, `Path`,
//!   `Query`, `QueryString`, `ToUri` and `ToString`, and writes as its text.
//!
//! `xsi-nil` says what an XML element marked `xsi:nil="true"` becomes: an empty text
//! (`blank`, the default) or nil (`null`).

use crate::body_format::{XmlToJsonKind, xml_to_json};
use crate::expr::ast::{Collection, Field};
use crate::expr::{Env, Value as EnvValue};
use bytes::Bytes;
use portcullis_script::liquid::{Limits, Template};
use serde_json::{Map, Value, json};

/// A template read at save time.
#[derive(Debug)]
pub struct LiquidBody {
    template: Template,
    nil_as_null: bool,
}

impl LiquidBody {
    pub fn new(template: Template, nil_as_null: bool) -> Self {
        Self {
            template,
            nil_as_null,
        }
    }

    /// Renders over the request's data (`response: false`) or the response's.
    pub fn render(&self, env: &dyn Env, response: bool) -> Result<Bytes, String> {
        let mut data = Map::new();
        data.insert("body".into(), self.body(env, response));
        data.insert("context".into(), context(env));
        self.template
            .render(&data, Limits::default())
            .map(Bytes::from)
            .map_err(|e| format!("the Liquid template failed: {e}"))
    }

    fn body(&self, env: &dyn Env, response: bool) -> Value {
        let Some(bytes) = env.body(response) else {
            return Value::Null;
        };
        let text = String::from_utf8_lossy(&bytes);
        let headers = if response {
            Collection::ResponseHeaders
        } else {
            Collection::RequestHeaders
        };
        let content_type = env
            .lookup(headers, "Content-Type")
            .map(|v| v.into_text().to_ascii_lowercase())
            .unwrap_or_default();
        let media = content_type.split(';').next().unwrap_or("").trim();
        let is = |plain: &[&str], suffix: &str| plain.contains(&media) || media.ends_with(suffix);
        if is(&["application/json", "text/json"], "+json") {
            // serde_json refuses nesting deeper than 128 on its own.
            return serde_json::from_str(&text).unwrap_or(Value::Null);
        }
        if is(&["application/xml", "text/xml"], "+xml") {
            let json = xml_to_json(&text, XmlToJsonKind::Direct, false)
                .ok()
                .and_then(|json| serde_json::from_str::<Value>(&json).ok());
            if let Some(mut value) = json {
                settle_nil(&mut value, self.nil_as_null);
                return value;
            }
            return Value::Null;
        }
        Value::String(text.into_owned())
    }
}

/// Replaces each element marked `xsi:nil="true"` (an object with that attribute and nothing
/// but namespace declarations) by `""` or nil.
fn settle_nil(value: &mut Value, nil_as_null: bool) {
    let mut pending = vec![value];
    while let Some(v) = pending.pop() {
        let is_nil = match &*v {
            Value::Object(map) => {
                map.iter().any(|(k, v)| k.ends_with(":nil") && v == "true")
                    && map
                        .keys()
                        .all(|k| k.ends_with(":nil") || k.starts_with("@xmlns"))
            }
            _ => false,
        };
        if is_nil {
            *v = if nil_as_null {
                Value::Null
            } else {
                Value::String(String::new())
            };
            continue;
        }
        match v {
            Value::Object(map) => pending.extend(map.values_mut()),
            Value::Array(items) => pending.extend(items.iter_mut()),
            _ => {}
        }
    }
}

fn text(value: EnvValue<'_>) -> Value {
    match value {
        EnvValue::Null => Value::Null,
        EnvValue::Int(n) => Value::from(n),
        EnvValue::Bool(b) => Value::Bool(b),
        other => Value::String(other.into_text().into_owned()),
    }
}

fn entries(env: &dyn Env, collection: Collection) -> Value {
    let headers = matches!(
        collection,
        Collection::RequestHeaders | Collection::ResponseHeaders
    );
    Value::Object(
        env.entries(collection)
            .into_iter()
            .map(|(name, value)| {
                let name = if headers { title_case(&name) } else { name };
                (name, text(value))
            })
            .collect(),
    )
}

/// `content-type` → `Content-Type`: header names as people write them (lookups ignore
/// case anyway).
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A URL as Liquid sees it: its parts, and its text under `ToString` (which is what it
/// writes).
fn url(text: &str) -> Value {
    let parsed = url::Url::parse(text).ok();
    let query: Map<String, Value> = parsed
        .as_ref()
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "Scheme": parsed.as_ref().map(|u| u.scheme().to_owned()),
        "Host": parsed.as_ref().and_then(|u| u.host_str().map(str::to_owned)),
        "Port": parsed.as_ref().and_then(url::Url::port_or_known_default),
        "Path": parsed.as_ref().map(|u| u.path().to_owned()),
        "Query": query,
        "QueryString": parsed.as_ref().and_then(|u| u.query().map(|q| format!("?{q}"))).unwrap_or_default(),
        "ToUri": text,
        "ToString": text,
    })
}

fn context(env: &dyn Env) -> Value {
    let field = |f: Field| text(env.field(f));
    let request_url = env.field(Field::RequestUrl).into_text().into_owned();
    let original_url = env
        .field(Field::RequestOriginalUrl)
        .into_text()
        .into_owned();
    let has_body = env.body(false).is_some_and(|b| !b.is_empty());
    json!({
        "Request": {
            "Url": url(&request_url),
            "Method": field(Field::RequestMethod),
            "OriginalMethod": field(Field::RequestMethod),
            "OriginalUrl": url(&original_url),
            "IpAddress": field(Field::RequestIpAddress),
            "MatchedParameters": entries(env, Collection::MatchedParameters),
            "HasBody": has_body,
            "ClientCertificates": [],
            "Headers": entries(env, Collection::RequestHeaders),
        },
        "Response": {
            "StatusCode": field(Field::ResponseStatusCode),
            "StatusReason": field(Field::ResponseStatusReason),
            "Headers": entries(env, Collection::ResponseHeaders),
        },
        "Variables": entries(env, Collection::Variables),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nil_elements_become_blank_or_null() {
        let mut value = json!({"a": {"@xsi:nil": "true", "@xmlns:xsi": "x"}, "b": [{"@xsi:nil": "true"}], "c": {"@xsi:nil": "true", "#text": "x"}});
        settle_nil(&mut value, false);
        assert_eq!(value["a"], json!(""));
        assert_eq!(value["b"][0], json!(""));
        assert_eq!(value["c"]["#text"], json!("x"));
        let mut value = json!({"a": {"@xsi:nil": "true"}});
        settle_nil(&mut value, true);
        assert_eq!(value["a"], Value::Null);
    }

    #[test]
    fn a_url_writes_as_its_text_and_has_its_parts() {
        let value = url("https://api.example.com:8443/orders/7?x=1&y=two");
        assert_eq!(value["Host"], "api.example.com");
        assert_eq!(value["Port"], 8443);
        assert_eq!(value["Query"]["y"], "two");
        assert_eq!(value["QueryString"], "?x=1&y=two");
        assert_eq!(
            portcullis_script::liquid::values::text_of(&value),
            "https://api.example.com:8443/orders/7?x=1&y=two"
        );
    }
}
