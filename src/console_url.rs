//! The test console's URL work, in the browser: which parameters an operation's URL template
//! has, and the request URL the console will call as the fields are filled in.

/// A parameter of a URL template: in the path (`/users/{id}`, `/{*rest}`) or in its query
/// (`?view={view}`, where the query name may differ from the parameter name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateParameter {
    Path(String),
    Query {
        query_name: String,
        parameter: String,
    },
}

impl TemplateParameter {
    pub fn name(&self) -> &str {
        match self {
            Self::Path(name) => name,
            Self::Query { parameter, .. } => parameter,
        }
    }
}

/// The parameters of `template`, in order.
pub fn template_parameters(template: &str) -> Vec<TemplateParameter> {
    let (path, query) = template.split_once('?').unwrap_or((template, ""));
    let mut found = Vec::new();
    for segment in path.split('/') {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            found.push(TemplateParameter::Path(
                name.trim_start_matches('*').to_owned(),
            ));
        }
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        if let Some((query_name, value)) = pair.split_once('=')
            && let Some(parameter) = value.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
        {
            found.push(TemplateParameter::Query {
                query_name: query_name.to_owned(),
                parameter: parameter.to_owned(),
            });
        }
    }
    found
}

/// Percent-encodes a value for a URL path segment or query value.
fn encode(value: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b'/' if keep_slash => out.push('/'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// The request URL: the API URL + the template's path with parameters filled in + the
/// template's query parameters and any extra ones. `value` gives a parameter's value.
pub fn request_url(
    api_url: &str,
    template: &str,
    value: impl Fn(&str) -> String,
    extra_query: &[(String, String)],
) -> String {
    let (path, query) = template.split_once('?').unwrap_or((template, ""));
    let mut url = api_url.trim_end_matches('/').to_owned();
    let filled: Vec<String> = path
        .split('/')
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) if name.starts_with('*') => {
                    encode(&value(name.trim_start_matches('*')), true)
                }
                Some(name) => encode(&value(name), false),
                None if segment == "*" => String::new(),
                None => segment.to_owned(),
            },
        )
        .collect();
    let path = filled.join("/");
    url.push_str(if path.is_empty() { "/" } else { &path });
    let mut pairs = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, template_value) = pair.split_once('=').unwrap_or((pair, ""));
        let shown = match template_value
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
        {
            Some(parameter) => encode(&value(parameter), false),
            None => template_value.to_owned(),
        };
        pairs.push(format!("{}={shown}", encode(name, false)));
    }
    for (name, extra) in extra_query.iter().filter(|(n, _)| !n.trim().is_empty()) {
        pairs.push(format!(
            "{}={}",
            encode(name.trim(), false),
            encode(extra, false)
        ));
    }
    if !pairs.is_empty() {
        url.push('?');
        url.push_str(&pairs.join("&"));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_path_and_query_parameters() {
        assert_eq!(
            template_parameters("/users/{id}/orders/{*rest}?view={mode}&x=1"),
            vec![
                TemplateParameter::Path("id".into()),
                TemplateParameter::Path("rest".into()),
                TemplateParameter::Query {
                    query_name: "view".into(),
                    parameter: "mode".into()
                },
            ]
        );
        assert!(template_parameters("/").is_empty());
    }

    #[test]
    fn builds_the_request_url_as_fields_are_filled() {
        let values = |name: &str| match name {
            "id" => "4 2".to_owned(),
            "rest" => "a/b".to_owned(),
            "mode" => "full".to_owned(),
            _ => String::new(),
        };
        let extra = vec![
            ("q".to_owned(), "x&y".to_owned()),
            (" ".to_owned(), "ignored".to_owned()),
        ];
        assert_eq!(
            request_url(
                "http://svc.localhost:8080/calc",
                "/users/{id}/{*rest}?view={mode}",
                values,
                &extra
            ),
            "http://svc.localhost:8080/calc/users/4%202/a/b?view=full&q=x%26y"
        );
        assert_eq!(
            request_url(
                "http://svc.localhost:8080/calc",
                "/",
                |_| String::new(),
                &[]
            ),
            "http://svc.localhost:8080/calc/"
        );
        assert_eq!(
            request_url("http://svc.localhost:8080", "/*", |_| String::new(), &[]),
            "http://svc.localhost:8080/"
        );
    }
}
