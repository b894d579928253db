//! `<send-request mode="new|copy" response-variable-name="…" timeout="60" ignore-error="…">`
//! with `<set-url>`, `<set-method>`, `<set-header>`s and `<set-body>`: calls another service
//! in the middle of the pipeline and keeps its answer in a variable, where scripts read it as
//! an `IResponse` (`((IResponse)context.Variables["r"]).Body.As<JObject>()`) and
//! `return-response response-variable-name` can send it back.
//!
//! `<send-one-way-request>` takes the same children and sends without waiting: the pipeline
//! goes on at once and the answer is dropped.
//!
//! `mode="new"` starts from an empty GET; `mode="copy"` from the caller's request as the
//! policies so far left it (method, headers, body) and, without `set-url`, the backend URL.
//! A failure (no connection, the timeout) stops the request with 502 or 504 and runs
//! on-error — or, with `ignore-error="true"`, leaves the variable null and goes on.

use super::authentication_certificate::{
    AuthenticationCertificate, compile_policy as compile_certificate,
};
use super::managed_identity::{ManagedIdentity, compile_identity};
use super::set_body::{SetBody, compile_body};
use super::set_header::{SetHeader, compile_header};
use super::{Compiler, Context, Flow, Step, WaitingOutcome, WaitingPolicy, expression_failed};
use crate::engine::OutboundCall;
use crate::error::{Diagnostic, Rejection};
use crate::expr::{Template, Value};
use crate::xml::Element;
use bytes::Bytes;
use http::{HeaderMap, Method, Uri};
use std::time::Duration;

/// APIM's default `timeout` for `send-request`, in seconds.
const DEFAULT_TIMEOUT: u64 = 60;

#[derive(Debug)]
pub struct SendRequest {
    one_way: bool,
    copy: bool,
    variable: Option<Box<str>>,
    timeout: Duration,
    ignore_error: bool,
    url: Option<Template>,
    method: Option<Template>,
    headers: Vec<SetHeader>,
    body: Option<SetBody>,
    /// `<authentication-managed-identity>`: a token sent as `Authorization: Bearer …`.
    identity: Option<ManagedIdentity>,
    /// `<authentication-certificate>`: the client certificate presented to the server.
    certificate: Option<AuthenticationCertificate>,
}

impl SendRequest {
    fn policy_name(&self) -> &'static str {
        if self.one_way {
            "send-one-way-request"
        } else {
            "send-request"
        }
    }

    /// The request to send, as the children describe it.
    async fn call(&self, cx: &mut Context<'_>) -> Result<OutboundCall, Rejection> {
        let name = self.policy_name();
        let mut method = Method::GET;
        let mut headers = HeaderMap::new();
        let mut body = Bytes::new();
        if self.copy {
            method = cx.exchange.request.method.clone();
            headers = cx.exchange.request.headers.clone();
            for hop in [
                http::header::HOST,
                http::header::CONTENT_LENGTH,
                http::header::TRANSFER_ENCODING,
                http::header::CONNECTION,
            ] {
                headers.remove(hop);
            }
            if cx.exchange.request_body.is_none() && self.body.is_none() {
                cx.upstream.read_request_body(cx.exchange).await?;
            }
            body = cx
                .exchange
                .request_body
                .clone()
                .or_else(|| cx.exchange.caller_body.clone())
                .unwrap_or_default();
        }
        let url = match &self.url {
            Some(url) => {
                let text = url
                    .render(&*cx.exchange)
                    .map_err(|e| expression_failed(name, e))?;
                Some(absolute_url(text.trim()).map_err(|e| expression_failed(name, e))?)
            }
            None => None,
        };
        if let Some(template) = &self.method {
            let text = template
                .render(&*cx.exchange)
                .map_err(|e| expression_failed(name, e))?;
            method = Method::from_bytes(text.trim().as_bytes())
                .map_err(|_| expression_failed(name, format!("'{text}' is not an HTTP method")))?;
        }
        for header in &self.headers {
            let rendered = header.render(&*cx.exchange)?;
            header.write(&mut headers, rendered);
        }
        if let Some(set_body) = &self.body {
            body = set_body.render(cx)?;
        }
        if let Some(identity) = &self.identity
            && let Some(token) = identity.bearer(cx).await?
        {
            let value = http::HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                Rejection::TokenUnavailable("the token is not a valid header value".into())
            })?;
            headers.insert(http::header::AUTHORIZATION, value);
        }
        let client_certificate = match &self.certificate {
            Some(certificate) => Some(
                certificate
                    .resolve(&*cx.exchange)
                    .map_err(|e| expression_failed(name, e))?,
            ),
            None => None,
        };
        Ok(OutboundCall {
            method,
            url,
            headers,
            body,
            timeout: self.timeout,
            client_certificate,
        })
    }
}

/// An absolute `http`/`https` URL.
fn absolute_url(text: &str) -> Result<Uri, String> {
    let uri: Uri = text
        .parse()
        .map_err(|e| format!("'{text}' is not a URL: {e}"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(_)) => Ok(uri),
        _ => Err(format!("'{text}' is not an absolute http or https URL")),
    }
}

impl WaitingPolicy for SendRequest {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            let call = self.call(cx).await?;
            let target = call
                .url
                .as_ref()
                .map_or_else(|| "the backend".to_owned(), Uri::to_string);
            if self.one_way {
                cx.exchange
                    .note(|| format!("{} {target} sent, not waited for", call.method));
                cx.upstream.send_one_way(call, cx.exchange);
                return Ok(Flow::Continue);
            }
            let method = call.method.clone();
            let sent = cx.upstream.send_request(call, cx.exchange).await;
            let kept = match sent {
                Ok(response) => {
                    let status = response.status;
                    cx.exchange.note(|| format!("{method} {target} → {status}"));
                    cx.exchange
                        .keep_sent(response)
                        .map_err(|e| expression_failed("send-request", e))?
                }
                Err(rejection) if self.ignore_error => {
                    cx.exchange
                        .note(|| format!("{method} {target} failed, ignored: {rejection}"));
                    Value::Null
                }
                Err(rejection) => return Err(rejection),
            };
            if let Some(variable) = &self.variable {
                cx.exchange.set_variable(variable, kept);
            }
            Ok(Flow::Continue)
        })
    }
}

fn compile_request(
    element: &Element,
    cx: &mut Compiler<'_>,
    one_way: bool,
) -> Result<SendRequest, Diagnostic> {
    let attributes: &[&str] = if one_way {
        &["mode", "timeout"]
    } else {
        &["mode", "response-variable-name", "timeout", "ignore-error"]
    };
    cx.only_attributes(element, attributes)?;
    cx.only_children(
        element,
        &[
            "set-url",
            "set-method",
            "set-header",
            "set-body",
            "authentication-managed-identity",
            "authentication-certificate",
            "proxy",
        ],
    )?;
    if let Some(child) = element.children_named("proxy").next() {
        return Err(cx.fault(
            child.offset,
            format!("<proxy> inside <{}> is not supported yet.", element.name),
        ));
    }
    let copy = match element.attribute("mode") {
        None => false,
        Some(attribute) => match cx.literal(attribute)? {
            "new" => false,
            "copy" => true,
            other => {
                return Err(cx.fault(
                    attribute.offset,
                    format!("mode must be new or copy, not '{other}'."),
                ));
            }
        },
    };
    let timeout = cx
        .optional_number(element, "timeout", 1..=240)?
        .unwrap_or(DEFAULT_TIMEOUT);
    let variable = match element.attribute("response-variable-name") {
        Some(attribute) => {
            let name = cx.literal(attribute)?;
            if name.is_empty() {
                return Err(cx.fault(
                    attribute.offset,
                    "response-variable-name must not be empty.",
                ));
            }
            Some(name.into())
        }
        None => None,
    };
    let ignore_error = cx.boolean(element, "ignore-error", false)?;
    let mut url = None;
    let mut method = None;
    let mut headers = Vec::new();
    let mut body = None;
    let mut identity = None;
    let mut certificate = None;
    for child in &element.children {
        match child.name.as_str() {
            "set-url" | "set-method" => {
                cx.only_attributes(child, &[])?;
                cx.only_children(child, &[])?;
                let Some(template) = cx.text_template(child)? else {
                    return Err(cx.fault(child.offset, format!("<{}> needs a value.", child.name)));
                };
                if let Template::Literal(text) = &template {
                    let fault = if child.name == "set-url" {
                        absolute_url(text.trim()).err()
                    } else {
                        Method::from_bytes(text.trim().as_bytes())
                            .err()
                            .map(|_| format!("'{}' is not an HTTP method", text.trim()))
                    };
                    if let Some(fault) = fault {
                        let at = child.text.as_ref().map_or(child.offset, |t| t.offset);
                        return Err(cx.fault(at, format!("{fault}.")));
                    }
                }
                if child.name == "set-url" {
                    url = Some(template);
                } else {
                    method = Some(template);
                }
            }
            "set-header" => headers.push(compile_header(child, cx)?),
            "authentication-managed-identity" => {
                identity = Some(compile_identity(child, cx)?);
            }
            "authentication-certificate" => {
                certificate = Some(compile_certificate(child, cx)?);
            }
            _ => body = Some(compile_body(child, cx)?),
        }
    }
    if url.is_none() && !copy {
        return Err(cx.fault(
            element.offset,
            format!(
                "<{}> needs <set-url> (or mode=\"copy\", which sends to the backend).",
                element.name
            ),
        ));
    }
    Ok(SendRequest {
        one_way,
        copy,
        variable,
        timeout: Duration::from_secs(timeout),
        ignore_error,
        url,
        method,
        headers,
        body,
        identity,
        certificate,
    })
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    Ok(Step::Wait(
        "send-request",
        Box::new(compile_request(element, cx, false)?),
    ))
}

pub fn compile_one_way(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    Ok(Step::Wait(
        "send-one-way-request",
        Box::new(compile_request(element, cx, true)?),
    ))
}
