//! `<cors>`: cross-origin calls from browsers. A preflight (`OPTIONS` with `Origin` and
//! `Access-Control-Request-Method`) is answered by the gateway itself, before the key check
//! and operation matching; other requests with an allowed `Origin` get the CORS headers on
//! their response. Requests that do not match are ended with an empty 200 unless
//! `terminate-unmatched-request="false"`.

use super::{Compiler, Context, Flow, Outcome, Step};
use crate::error::Diagnostic;
use crate::exchange::ResponseState;
use crate::xml::Element;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Origins {
    Any,
    Listed(Vec<String>),
}

#[derive(Debug)]
pub struct Cors {
    origins: Origins,
    /// `None`: any method (`*`).
    methods: Option<Vec<Method>>,
    /// `None`: any header (`*`).
    headers: Option<Vec<HeaderName>>,
    expose: Option<HeaderValue>,
    allow_credentials: bool,
    terminate_unmatched: bool,
    max_age: Option<u64>,
}

/// Whether a request is a CORS preflight.
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS
        && headers.contains_key(header::ORIGIN)
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

fn empty_ok() -> ResponseState {
    let mut response = ResponseState::new(StatusCode::OK);
    response.body = Some(Bytes::new());
    response
}

impl Cors {
    fn origin_allowed<'h>(&self, headers: &'h HeaderMap) -> Option<&'h HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        let text = origin.to_str().ok()?;
        match &self.origins {
            Origins::Any => Some(origin),
            Origins::Listed(list) => list
                .iter()
                .any(|o| o.eq_ignore_ascii_case(text))
                .then_some(origin),
        }
    }

    /// `Access-Control-Allow-Origin` (+ credentials, `Vary`) for an allowed origin.
    fn origin_headers(&self, origin: &HeaderValue, into: &mut HeaderMap) {
        if self.origins == Origins::Any && !self.allow_credentials {
            into.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        } else {
            into.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            into.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        if self.allow_credentials {
            into.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
    }

    /// The answer to a preflight: the allowing headers, an empty 200 when unmatched and
    /// terminating, or `None` to let the request go on.
    pub fn answer_preflight(&self, headers: &HeaderMap) -> Option<ResponseState> {
        let unmatched = || self.terminate_unmatched.then(empty_ok);
        let Some(origin) = self.origin_allowed(headers) else {
            return unmatched();
        };
        let requested_method = headers
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|v| Method::from_bytes(v.as_bytes()).ok());
        let Some(requested_method) = requested_method else {
            return unmatched();
        };
        let method_allowed = match &self.methods {
            None => true,
            Some(methods) => methods.contains(&requested_method),
        };
        let requested_headers: Vec<&str> = headers
            .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        let headers_allowed = match &self.headers {
            None => true,
            Some(allowed) => requested_headers
                .iter()
                .all(|h| allowed.iter().any(|a| a.as_str().eq_ignore_ascii_case(h))),
        };
        if !method_allowed || !headers_allowed {
            return unmatched();
        }
        let mut response = empty_ok();
        let out = &mut response.headers;
        self.origin_headers(origin, out);
        let methods = match &self.methods {
            None => requested_method.as_str().to_owned(),
            Some(methods) => methods
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        };
        if let Ok(value) = HeaderValue::from_str(&methods) {
            out.insert(header::ACCESS_CONTROL_ALLOW_METHODS, value);
        }
        if !requested_headers.is_empty()
            && let Ok(value) = HeaderValue::from_str(&requested_headers.join(", "))
        {
            out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, value);
        }
        if let Some(age) = self.max_age {
            out.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(age));
        }
        Some(response)
    }
}

/// How `cors` runs inside the pipeline.
pub(crate) fn apply(cors: &Cors, cx: &mut Context<'_>) -> Outcome {
    let headers = &cx.exchange.request.headers;
    if is_preflight(&cx.exchange.request.method, headers) {
        let answer = cors.answer_preflight(headers);
        cx.exchange.note(|| "preflight answered".to_owned());
        return Ok(match answer {
            Some(response) => {
                cx.exchange.response = Some(response);
                Flow::Respond
            }
            None => Flow::Continue,
        });
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(Flow::Continue);
    };
    match cors.origin_allowed(headers) {
        Some(_) => {
            let origin = origin.clone();
            cx.exchange
                .note(|| format!("origin {} allowed", origin.to_str().unwrap_or("?")));
            let extra = cx
                .exchange
                .response_headers
                .get_or_insert_with(HeaderMap::new);
            cors.origin_headers(&origin, extra);
            if let Some(expose) = &cors.expose {
                extra.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone());
            }
            Ok(Flow::Continue)
        }
        None if cors.terminate_unmatched => {
            cx.exchange.response = Some(empty_ok());
            Ok(Flow::Respond)
        }
        None => Ok(Flow::Continue),
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(
        element,
        &["allow-credentials", "terminate-unmatched-request"],
    )?;
    cx.only_children(
        element,
        &[
            "allowed-origins",
            "allowed-methods",
            "allowed-headers",
            "expose-headers",
        ],
    )?;
    let allow_credentials = cx.boolean(element, "allow-credentials", false)?;
    let terminate_unmatched = cx.boolean(element, "terminate-unmatched-request", true)?;

    let origins_element = element.child("allowed-origins").ok_or_else(|| {
        cx.fault(
            element.offset,
            "<cors> needs <allowed-origins> with at least one <origin>.",
        )
    })?;
    cx.only_attributes(origins_element, &[])?;
    cx.only_children(origins_element, &["origin"])?;
    let mut listed = Vec::new();
    let mut any = false;
    for origin in origins_element.children_named("origin") {
        let text = origin.text_value();
        if text == "*" {
            any = true;
        } else if text.starts_with("http://") || text.starts_with("https://") {
            listed.push(text.trim_end_matches('/').to_owned());
        } else {
            return Err(cx.fault(
                origin.offset,
                format!(
                    "'{text}' is not an origin; write * or a URL such as https://app.example.com."
                ),
            ));
        }
    }
    if !any && listed.is_empty() {
        return Err(cx.fault(
            origins_element.offset,
            "<allowed-origins> needs at least one <origin>.",
        ));
    }
    if any && allow_credentials {
        return Err(cx.fault(
            element.offset,
            "allow-credentials=\"true\" cannot be combined with the origin *; list the origins.",
        ));
    }

    let mut max_age = None;
    let methods = match element.child("allowed-methods") {
        None => Some(vec![Method::GET, Method::POST]),
        Some(methods) => {
            cx.only_attributes(methods, &["preflight-result-max-age"])?;
            cx.only_children(methods, &["method"])?;
            max_age = cx.optional_number(methods, "preflight-result-max-age", 0..=86_400)?;
            let mut list = Vec::new();
            let mut wildcard = false;
            for method in methods.children_named("method") {
                match method.text_value() {
                    "*" => wildcard = true,
                    text => list.push(
                        Method::from_bytes(text.to_ascii_uppercase().as_bytes()).map_err(|_| {
                            cx.fault(method.offset, format!("'{text}' is not an HTTP method."))
                        })?,
                    ),
                }
            }
            if wildcard { None } else { Some(list) }
        }
    };
    let header_list = |name: &str| -> Result<Option<Vec<HeaderName>>, Diagnostic> {
        let Some(list) = element.child(name) else {
            return Ok(Some(Vec::new()));
        };
        cx.only_attributes(list, &[])?;
        cx.only_children(list, &["header"])?;
        let mut names = Vec::new();
        for header in list.children_named("header") {
            match header.text_value() {
                "*" => return Ok(None),
                text => names.push(HeaderName::from_bytes(text.as_bytes()).map_err(|_| {
                    cx.fault(header.offset, format!("'{text}' is not a header name."))
                })?),
            }
        }
        Ok(Some(names))
    };
    let headers = header_list("allowed-headers")?;
    let expose = match header_list("expose-headers")? {
        Some(names) if !names.is_empty() => HeaderValue::from_str(
            &names
                .iter()
                .map(HeaderName::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        )
        .ok(),
        Some(_) => None,
        None => Some(HeaderValue::from_static("*")),
    };
    Ok(Step::Cors(Arc::new(Cors {
        origins: if any {
            Origins::Any
        } else {
            Origins::Listed(listed)
        },
        methods,
        headers,
        expose,
        allow_credentials,
        terminate_unmatched,
        max_age,
    })))
}
