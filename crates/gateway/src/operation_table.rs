//! Choosing an operation for a request: method + URL template, most specific first.
//!
//! Templates are grouped by method and sorted once, at compile time, by specificity — more
//! literal segments first, then more `{param}`s, then exact-length before open-ended (`/*`,
//! `{*rest}`), then more query template parameters, then literal-before-param by position.
//! Matching is a walk down that list; the first template that fits wins.

use percent_encoding::percent_decode_str;
use portcullis_domain::url_template::{QueryTemplateParam, TemplateSegment};
use portcullis_domain::{HttpMethod, UrlTemplate};
use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::HashMap;

/// A request path split for matching: the segments after the API suffix, raw (still
/// percent-encoded), with empty trailing segments dropped so `/users/` equals `/users`.
pub struct PathSegments<'a> {
    segments: Vec<&'a str>,
}

impl<'a> PathSegments<'a> {
    /// `rest` is the path after the API suffix, such as `/users/42` or `` (nothing).
    pub fn new(rest: &'a str) -> Self {
        let trimmed = rest.trim_start_matches('/').trim_end_matches('/');
        let segments = if trimmed.is_empty() {
            Vec::new()
        } else {
            trimmed.split('/').collect()
        };
        Self { segments }
    }
}

fn decode(raw: &str) -> Cow<'_, str> {
    percent_decode_str(raw).decode_utf8_lossy()
}

/// One operation's template, ready to match.
#[derive(Debug)]
struct CompiledTemplate {
    segments: Vec<TemplateSegment>,
    query: Vec<QueryTemplateParam>,
    /// Index of the operation in its API.
    operation: usize,
}

type Specificity = (usize, usize, bool, usize, Vec<u8>);

impl CompiledTemplate {
    fn specificity(&self) -> Specificity {
        let mut literals = 0;
        let mut params = 0;
        let mut exact = true;
        let mut positional = Vec::with_capacity(self.segments.len());
        for segment in &self.segments {
            positional.push(match segment {
                TemplateSegment::Literal(_) => {
                    literals += 1;
                    2
                }
                TemplateSegment::Param(_) => {
                    params += 1;
                    1
                }
                TemplateSegment::Wildcard | TemplateSegment::CatchAll(_) => {
                    exact = false;
                    0
                }
            });
        }
        (literals, params, exact, self.query.len(), positional)
    }

    fn matches(&self, path: &PathSegments<'_>, query: Option<&str>) -> bool {
        let mut index = 0;
        for segment in &self.segments {
            match segment {
                TemplateSegment::Literal(literal) => {
                    let Some(raw) = path.segments.get(index) else {
                        return false;
                    };
                    let equal = if raw.contains('%') {
                        decode(raw).eq_ignore_ascii_case(literal)
                    } else {
                        raw.eq_ignore_ascii_case(literal)
                    };
                    if !equal {
                        return false;
                    }
                    index += 1;
                }
                TemplateSegment::Param(_) => {
                    if path.segments.get(index).is_none_or(|raw| raw.is_empty()) {
                        return false;
                    }
                    index += 1;
                }
                TemplateSegment::Wildcard | TemplateSegment::CatchAll(_) => {
                    return self.query_matches(query);
                }
            }
        }
        index == path.segments.len() && self.query_matches(query)
    }

    fn query_matches(&self, query: Option<&str>) -> bool {
        self.query
            .iter()
            .all(|param| query.is_some_and(|q| query_value(q, &param.query_name).is_some()))
    }
}

/// The first value of `name` in a raw query string, still percent-encoded.
pub fn query_value<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then_some(value)
    })
}

/// The operations of one API, by method, most specific first.
#[derive(Debug, Default)]
pub struct OperationTable {
    by_method: HashMap<String, Vec<CompiledTemplate>>,
}

impl OperationTable {
    /// Builds the table from `(method, template)` pairs in operation order.
    pub fn new<'a>(
        operations: impl IntoIterator<Item = (&'a HttpMethod, &'a UrlTemplate)>,
    ) -> Self {
        let mut by_method: HashMap<String, Vec<CompiledTemplate>> = HashMap::new();
        for (operation, (method, template)) in operations.into_iter().enumerate() {
            by_method
                .entry(method.as_str().to_owned())
                .or_default()
                .push(CompiledTemplate {
                    // Literals are compared with the decoded request segment, so decode them too.
                    segments: template
                        .segments()
                        .iter()
                        .map(|segment| match segment {
                            TemplateSegment::Literal(text) if text.contains('%') => {
                                TemplateSegment::Literal(decode(text).to_lowercase())
                            }
                            other => other.clone(),
                        })
                        .collect(),
                    query: template.query_params().to_vec(),
                    operation,
                });
        }
        for templates in by_method.values_mut() {
            templates.sort_by_cached_key(|t| (Reverse(t.specificity()), t.operation));
        }
        Self { by_method }
    }

    /// The index of the operation that answers `method` on `rest` (the path after the API
    /// suffix) with `query`, if any.
    pub fn find(&self, method: &str, rest: &str, query: Option<&str>) -> Option<usize> {
        let templates = self.by_method.get(method)?;
        let path = PathSegments::new(rest);
        templates
            .iter()
            .find(|template| template.matches(&path, query))
            .map(|template| template.operation)
    }
}

/// The template parameters a matched request binds (`context.Request.MatchedParameters`):
/// path parameters and query template parameters, percent-decoded, case kept.
pub fn matched_parameters(
    template: &UrlTemplate,
    rest: &str,
    query: Option<&str>,
) -> Vec<(String, String)> {
    let path = PathSegments::new(rest);
    let mut bound = Vec::new();
    for (index, segment) in template.segments().iter().enumerate() {
        match segment {
            TemplateSegment::Param(name) => {
                if let Some(raw) = path.segments.get(index) {
                    bound.push((name.clone(), decode(raw).into_owned()));
                }
            }
            TemplateSegment::CatchAll(name) => {
                let remainder = path.segments.get(index..).unwrap_or_default().join("/");
                bound.push((name.clone(), decode(&remainder).into_owned()));
            }
            TemplateSegment::Literal(_) | TemplateSegment::Wildcard => {}
        }
    }
    for param in template.query_params() {
        if let Some(value) = query.and_then(|q| query_value(q, &param.query_name)) {
            bound.push((
                param.param.clone(),
                decode(&value.replace('+', " ")).into_owned(),
            ));
        }
    }
    bound
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(ops: &[(&str, &str)]) -> (OperationTable, Vec<(HttpMethod, UrlTemplate)>) {
        let parsed: Vec<(HttpMethod, UrlTemplate)> = ops
            .iter()
            .map(|(m, t)| {
                (
                    HttpMethod::parse(m).unwrap(),
                    UrlTemplate::parse(t).unwrap(),
                )
            })
            .collect();
        (
            OperationTable::new(parsed.iter().map(|(m, t)| (m, t))),
            parsed,
        )
    }

    #[test]
    fn root_template_matches_empty_and_slash() {
        let (table, _) = table(&[("POST", "/")]);
        assert_eq!(table.find("POST", "", None), Some(0));
        assert_eq!(table.find("POST", "/", None), Some(0));
        assert_eq!(
            table.find("GET", "/", None),
            None,
            "method mismatch is no match"
        );
        assert_eq!(table.find("POST", "/x", None), None);
    }

    #[test]
    fn literal_beats_param_beats_wildcard() {
        let (table, _) = table(&[
            ("GET", "/*"),
            ("GET", "/users/{id}"),
            ("GET", "/users/me"),
            ("GET", "/users/{id}/orders/{oid}"),
        ]);
        assert_eq!(table.find("GET", "/users/me", None), Some(2));
        assert_eq!(
            table.find("GET", "/USERS/42", None),
            Some(1),
            "case-insensitive literals"
        );
        assert_eq!(
            table.find("GET", "/users/42/", None),
            Some(1),
            "trailing slash tolerated"
        );
        assert_eq!(table.find("GET", "/users/42/orders/7", None), Some(3));
        assert_eq!(
            table.find("GET", "/users/42/orders", None),
            Some(0),
            "falls to the wildcard"
        );
        assert_eq!(
            table.find("GET", "/", None),
            Some(0),
            "wildcard matches nothing too"
        );
    }

    #[test]
    fn more_literal_segments_win_and_position_breaks_ties() {
        let (table, _) = table(&[
            ("GET", "/a/{x}/c"),
            ("GET", "/a/b/{y}"),
            ("GET", "/{p}/{q}/{r}"),
        ]);
        assert_eq!(table.find("GET", "/a/b/c", None), Some(1));
        assert_eq!(table.find("GET", "/a/z/c", None), Some(0));
        assert_eq!(table.find("GET", "/z/z/z", None), Some(2));
    }

    #[test]
    fn catch_all_and_percent_encoded_literals() {
        let (table, _) = table(&[("GET", "/files/{*path}"), ("GET", "/caf%C3%A9")]);
        assert_eq!(table.find("GET", "/files/a/b/c.txt", None), Some(0));
        assert_eq!(table.find("GET", "/caf%c3%a9", None), Some(1));
    }

    #[test]
    fn query_template_parameters_are_required() {
        let (table, _) = table(&[("GET", "/search?q={query}"), ("GET", "/search")]);
        assert_eq!(table.find("GET", "/search", Some("q=rust&page=2")), Some(0));
        assert_eq!(table.find("GET", "/search", Some("page=2")), Some(1));
        assert_eq!(table.find("GET", "/search", None), Some(1));
    }

    #[test]
    fn empty_segments_do_not_bind_parameters() {
        let (table, _) = table(&[("GET", "/users/{id}/x")]);
        assert_eq!(table.find("GET", "/users//x", None), None);
    }

    #[test]
    fn binds_decoded_parameters_keeping_case() {
        let template = UrlTemplate::parse("/Users/{id}/files/{*path}?date={d}").unwrap();
        let bound = matched_parameters(
            &template,
            "/users/Ada%20L/files/a/B.txt",
            Some("date=2026-11-27&x=1"),
        );
        assert_eq!(
            bound,
            vec![
                ("id".to_owned(), "Ada L".to_owned()),
                ("path".to_owned(), "a/B.txt".to_owned()),
                ("d".to_owned(), "2026-11-27".to_owned()),
            ]
        );
    }
}
