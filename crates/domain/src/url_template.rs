//! Operation URL templates: `/customers/{cid}/orders/{oid}?date={date}`.
//!
//! A template is a path of segments, each a literal, a `{param}`, or — as the last segment —
//! the wildcard `*` or the catch-all `{*rest}`, optionally followed by query template
//! parameters `?name={param}`. Parsing splits it once into [`TemplateSegment`]s; the gateway
//! compiles those into its matcher and never looks at the text again.

use crate::ValidationError;
use std::collections::HashSet;
use std::fmt;

/// One path segment of a template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TemplateSegment {
    /// Matches the same text, ignoring ASCII case. Stored lowercase.
    Literal(String),
    /// `{name}`: matches any one segment and binds it to `name`.
    Param(String),
    /// `*`: matches whatever remains, including nothing.
    Wildcard,
    /// `{*name}`: like `*`, and binds the remainder to `name`.
    CatchAll(String),
}

/// A query template parameter: the request must carry `query_name`; its value binds to `param`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueryTemplateParam {
    pub query_name: String,
    pub param: String,
}

/// A parsed operation URL template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UrlTemplate {
    text: String,
    segments: Vec<TemplateSegment>,
    query: Vec<QueryTemplateParam>,
}

const FIELD: &str = "urlTemplate";

fn invalid(message: impl Into<String>) -> ValidationError {
    ValidationError::new(FIELD, "InvalidUrlTemplate", message)
}

fn parse_param_name(inner: &str, template: &str) -> Result<String, ValidationError> {
    let mut chars = inner.chars();
    let valid_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !valid_start || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(invalid(format!(
            "'{{{inner}}}' in '{template}' is not a valid parameter: a name starts with a letter and has letters, digits, '_' or '-'."
        )));
    }
    Ok(inner.to_owned())
}

impl UrlTemplate {
    pub const MAX_LEN: usize = 1000;

    pub fn parse(value: impl AsRef<str>) -> Result<Self, ValidationError> {
        let text = value.as_ref().trim();
        if text.is_empty() {
            return Err(invalid(
                "A URL template is required, e.g. / or /orders/{id}.",
            ));
        }
        if text.len() > Self::MAX_LEN {
            return Err(invalid(format!(
                "A URL template has at most {} characters.",
                Self::MAX_LEN
            )));
        }
        if !text.starts_with('/') {
            return Err(invalid(format!(
                "A URL template starts with '/'; try '/{text}'."
            )));
        }
        if text.contains('#') {
            return Err(invalid("A URL template cannot contain '#'."));
        }
        let (path, query) = match text.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (text, None),
        };
        let mut names = HashSet::new();
        let mut bind = |name: String| -> Result<String, ValidationError> {
            if !names.insert(name.clone()) {
                return Err(invalid(format!(
                    "The parameter '{name}' appears twice in '{text}'."
                )));
            }
            Ok(name)
        };

        let trimmed = path.trim_start_matches('/').trim_end_matches('/');
        let raw_segments: Vec<&str> = if trimmed.is_empty() {
            Vec::new()
        } else {
            trimmed.split('/').collect()
        };
        let mut segments = Vec::with_capacity(raw_segments.len());
        for (index, raw) in raw_segments.iter().enumerate() {
            let last = index + 1 == raw_segments.len();
            let segment = if raw.is_empty() {
                return Err(invalid(format!(
                    "'{text}' has an empty path segment ('//')."
                )));
            } else if *raw == "*" {
                TemplateSegment::Wildcard
            } else if let Some(inner) = raw.strip_prefix("{*").and_then(|r| r.strip_suffix('}')) {
                TemplateSegment::CatchAll(bind(parse_param_name(inner, text)?)?)
            } else if let Some(inner) = raw.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
                TemplateSegment::Param(bind(parse_param_name(inner, text)?)?)
            } else if raw.contains(['{', '}']) {
                return Err(invalid(format!(
                    "In '{text}', the segment '{raw}' mixes text and a parameter; a parameter must be a whole segment like '{{id}}'."
                )));
            } else if raw.contains('*') {
                return Err(invalid(format!(
                    "In '{text}', '*' must be a whole segment and the last one ('/*')."
                )));
            } else if let Some(bad) = raw
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || "-._~!$&'()+,;=:@%".contains(*c)))
            {
                return Err(invalid(format!(
                    "'{bad}' is not allowed in a URL template path."
                )));
            } else {
                TemplateSegment::Literal(raw.to_ascii_lowercase())
            };
            let open_ended = matches!(
                segment,
                TemplateSegment::Wildcard | TemplateSegment::CatchAll(_)
            );
            if open_ended && !last {
                return Err(invalid(format!(
                    "In '{text}', '{raw}' matches the rest of the path, so it must be the last segment."
                )));
            }
            segments.push(segment);
        }

        let mut query_params = Vec::new();
        if let Some(query) = query.filter(|q| !q.is_empty()) {
            for pair in query.split('&') {
                let Some((query_name, value)) = pair.split_once('=') else {
                    return Err(invalid(format!(
                        "The query part '{pair}' must look like name={{param}}."
                    )));
                };
                let valid_name = !query_name.is_empty()
                    && query_name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c));
                if !valid_name {
                    return Err(invalid(format!(
                        "'{query_name}' is not a valid query parameter name."
                    )));
                }
                let Some(inner) = value.strip_prefix('{').and_then(|v| v.strip_suffix('}')) else {
                    return Err(invalid(format!(
                        "The query parameter '{query_name}' must bind a template parameter, like {query_name}={{{query_name}}}."
                    )));
                };
                let param = bind(parse_param_name(inner, text)?)?;
                query_params.push(QueryTemplateParam {
                    query_name: query_name.to_owned(),
                    param,
                });
            }
        }

        Ok(Self {
            text: text.to_owned(),
            segments,
            query: query_params,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn segments(&self) -> &[TemplateSegment] {
        &self.segments
    }

    pub fn query_params(&self) -> &[QueryTemplateParam] {
        &self.query
    }

    /// Two templates that match exactly the same requests (ignoring parameter names), used to
    /// refuse a second operation with the same method and shape.
    pub fn shape(&self) -> String {
        let mut shape = String::new();
        for segment in &self.segments {
            shape.push('/');
            match segment {
                TemplateSegment::Literal(text) => shape.push_str(text),
                TemplateSegment::Param(_) => shape.push_str("{}"),
                TemplateSegment::Wildcard | TemplateSegment::CatchAll(_) => shape.push('*'),
            }
        }
        let mut query: Vec<&str> = self.query.iter().map(|q| q.query_name.as_str()).collect();
        query.sort_unstable();
        if !query.is_empty() {
            shape.push('?');
            shape.push_str(&query.join("&"));
        }
        shape
    }
}

impl fmt::Display for UrlTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for UrlTemplate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::TemplateSegment::*;
    use super::*;

    #[test]
    fn parses_literals_params_and_query() {
        let template = UrlTemplate::parse("/Customers/{cid}/orders/{oid}?date={date}").unwrap();
        assert_eq!(
            template.segments(),
            &[
                Literal("customers".into()),
                Param("cid".into()),
                Literal("orders".into()),
                Param("oid".into())
            ]
        );
        assert_eq!(template.query_params()[0].query_name, "date");
        assert_eq!(template.query_params()[0].param, "date");
        assert_eq!(
            template.as_str(),
            "/Customers/{cid}/orders/{oid}?date={date}"
        );
    }

    #[test]
    fn root_wildcard_and_catch_all() {
        assert!(UrlTemplate::parse("/").unwrap().segments().is_empty());
        assert_eq!(UrlTemplate::parse("/*").unwrap().segments(), &[Wildcard]);
        assert_eq!(
            UrlTemplate::parse("/files/{*path}").unwrap().segments(),
            &[Literal("files".into()), CatchAll("path".into())]
        );
        assert_eq!(UrlTemplate::parse("/users/").unwrap().segments().len(), 1);
    }

    #[test]
    fn rejects_malformed_templates() {
        for (bad, hint) in [
            ("", "required"),
            ("users", "starts with '/'"),
            ("/a//b", "empty path segment"),
            ("/{id}/{id}", "twice"),
            ("/*/more", "last segment"),
            ("/{*rest}/x", "last segment"),
            ("/file.{ext}", "whole segment"),
            ("/a*", "whole segment"),
            ("/{1x}", "not a valid parameter"),
            ("/{}", "not a valid parameter"),
            ("/get?a=1", "must bind"),
            ("/get?a", "name={param}"),
            ("/a b", "' ' is not allowed"),
        ] {
            let err = UrlTemplate::parse(bad).unwrap_err();
            assert_eq!(err.field, "urlTemplate");
            assert!(err.message.contains(hint), "{bad}: {}", err.message);
        }
    }

    #[test]
    fn shape_ignores_parameter_names_and_case() {
        assert_eq!(
            UrlTemplate::parse("/Users/{id}").unwrap().shape(),
            UrlTemplate::parse("/users/{name}/").unwrap().shape()
        );
        assert_ne!(
            UrlTemplate::parse("/users/{id}").unwrap().shape(),
            UrlTemplate::parse("/users/*").unwrap().shape()
        );
    }
}
