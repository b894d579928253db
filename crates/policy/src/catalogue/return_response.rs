//! `<return-response>` with optional `<set-status>`, `<set-header>`s and `<set-body>`:
//! answers the caller at once (200 with no body by default); nothing after it runs.

use super::set_body::{SetBody, compile_body};
use super::set_header::{SetHeader, compile_header};
use super::set_status::compile_status;
use super::{Compiler, Context, Flow, Outcome, Policy, Step};
use crate::error::Diagnostic;
use crate::exchange::ResponseState;
use crate::xml::Element;
use bytes::Bytes;
use http::StatusCode;

#[derive(Debug)]
pub struct ReturnResponse {
    status: StatusCode,
    headers: Vec<SetHeader>,
    body: Option<SetBody>,
}

impl Policy for ReturnResponse {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let mut response = ResponseState::new(self.status);
        for header in &self.headers {
            let rendered = header.render(&*cx.exchange)?;
            header.write(&mut response.headers, rendered);
        }
        response.body = Some(match &self.body {
            Some(body) => body.render(cx)?,
            None => Bytes::new(),
        });
        cx.exchange.response = Some(response);
        Ok(Flow::Respond)
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["response-variable-name"])?;
    cx.only_children(element, &["set-status", "set-header", "set-body"])?;
    if let Some(attribute) = element.attribute("response-variable-name") {
        return Err(cx.fault(attribute.offset, "response-variable-name is not supported yet (there is no send-request); describe the response with set-status, set-header and set-body."));
    }
    let mut status = StatusCode::OK;
    let mut headers = Vec::new();
    let mut body = None;
    for child in &element.children {
        match child.name.as_str() {
            "set-status" => status = compile_status(child, cx)?.code,
            "set-header" => headers.push(compile_header(child, cx)?),
            _ => body = Some(compile_body(child, cx)?),
        }
    }
    Ok(Step::Now(
        "return-response",
        Box::new(ReturnResponse {
            status,
            headers,
            body,
        }),
    ))
}
