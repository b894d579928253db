//! `<mock-response status-code="200" content-type="application/json"/>`: answers with the
//! status and content type instead of calling the backend. Portcullis operations carry no
//! response examples yet, so the body is empty.

use super::{Compiler, Context, Flow, Outcome, Policy, Step, status_code};
use crate::error::Diagnostic;
use crate::exchange::ResponseState;
use crate::xml::Element;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};

#[derive(Debug)]
pub struct MockResponse {
    status: StatusCode,
    content_type: HeaderValue,
}

impl Policy for MockResponse {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let mut response = ResponseState::new(self.status);
        response
            .headers
            .insert(http::header::CONTENT_TYPE, self.content_type.clone());
        response.body = Some(Bytes::new());
        cx.exchange.response = Some(response);
        Ok(Flow::Respond)
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["status-code", "content-type", "index"])?;
    cx.only_children(element, &[])?;
    let status = match element.attribute("status-code") {
        Some(attribute) => status_code(cx, attribute)?,
        None => StatusCode::OK,
    };
    let content_type = match element.attribute("content-type") {
        Some(attribute) => {
            let text = cx.literal(attribute)?;
            HeaderValue::from_str(text).map_err(|_| {
                cx.fault(attribute.offset, format!("'{text}' is not a content type."))
            })?
        }
        None => HeaderValue::from_static("application/json"),
    };
    Ok(Step::Now(
        "mock-response",
        Box::new(MockResponse {
            status,
            content_type,
        }),
    ))
}
