//! `<return-response>` with optional `<set-status>`, `<set-header>`s and `<set-body>`:
//! answers the caller at once (200 with no body by default); nothing after it runs. With
//! `response-variable-name`, the answer starts from a response `send-request` kept in that
//! variable, and the children change it.

use super::set_body::{SetBody, compile_body};
use super::set_header::{SetHeader, compile_header};
use super::set_status::compile_status;
use super::{Compiler, Context, Flow, Outcome, Policy, Step, expression_failed};
use crate::error::Diagnostic;
use crate::exchange::ResponseState;
use crate::xml::Element;
use bytes::Bytes;
use http::StatusCode;

#[derive(Debug)]
pub struct ReturnResponse {
    variable: Option<Box<str>>,
    status: Option<StatusCode>,
    headers: Vec<SetHeader>,
    body: Option<SetBody>,
}

impl Policy for ReturnResponse {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let mut response = match &self.variable {
            Some(name) => {
                let sent = cx.exchange.sent_by_variable(name).ok_or_else(|| {
                    expression_failed(
                        "return-response",
                        format!("the variable '{name}' holds no send-request response"),
                    )
                })?;
                ResponseState {
                    status: sent.status,
                    headers: sent.headers.clone(),
                    body: Some(sent.body.clone()),
                }
            }
            None => {
                let mut empty = ResponseState::new(StatusCode::OK);
                empty.body = Some(Bytes::new());
                empty
            }
        };
        if let Some(status) = self.status {
            response.status = status;
        }
        for header in &self.headers {
            let rendered = header.render(&*cx.exchange)?;
            header.write(&mut response.headers, rendered);
        }
        if let Some(body) = &self.body {
            response.headers.remove(http::header::CONTENT_LENGTH);
            response.body = Some(body.render(cx)?);
        }
        cx.exchange.response = Some(response);
        Ok(Flow::Respond)
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["response-variable-name"])?;
    cx.only_children(element, &["set-status", "set-header", "set-body"])?;
    let variable = match element.attribute("response-variable-name") {
        Some(attribute) => Some(cx.literal(attribute)?.into()),
        None => None,
    };
    let mut status = None;
    let mut headers = Vec::new();
    let mut body = None;
    for child in &element.children {
        match child.name.as_str() {
            "set-status" => status = Some(compile_status(child, cx)?.code),
            "set-header" => headers.push(compile_header(child, cx)?),
            _ => body = Some(compile_body(child, cx)?),
        }
    }
    Ok(Step::Now(
        "return-response",
        Box::new(ReturnResponse {
            variable,
            status,
            headers,
            body,
        }),
    ))
}
