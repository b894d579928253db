//! `<mock-response status-code="200" content-type="application/json" index="0"/>`: answers
//! instead of the backend with the example the operation documents for that status and
//! content type (its `responses`; `index` picks among several examples, the first by
//! default). Without `content-type` the status's first representation with an example is
//! used, and its content type sent. With no example the body is empty.

use super::{Compiler, Context, Flow, Outcome, Policy, Step, status_code};
use crate::error::Diagnostic;
use crate::exchange::ResponseState;
use crate::xml::Element;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};

#[derive(Debug)]
pub struct MockResponse {
    status: StatusCode,
    content_type: Option<HeaderValue>,
    index: usize,
}

impl Policy for MockResponse {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let wanted = self.content_type.as_ref().and_then(|v| v.to_str().ok());
        let example = cx
            .exchange
            .matched
            .examples
            .as_ref()
            .and_then(|examples| examples.find(self.status, wanted, self.index))
            .map(|(content_type, body)| (content_type.to_owned(), body.clone()));
        let mut response = ResponseState::new(self.status);
        let (content_type, body) = match example {
            Some((found_type, body)) => {
                cx.exchange
                    .note(|| "answered with the operation's example".to_owned());
                let header = self
                    .content_type
                    .clone()
                    .or_else(|| HeaderValue::from_str(&found_type).ok());
                (header, body)
            }
            None => {
                cx.exchange.note(|| {
                    format!(
                        "the operation documents no example for {}: empty body",
                        self.status.as_u16()
                    )
                });
                (
                    Some(
                        self.content_type
                            .clone()
                            .unwrap_or(HeaderValue::from_static("application/json")),
                    ),
                    Bytes::new(),
                )
            }
        };
        if let Some(content_type) = content_type {
            response
                .headers
                .insert(http::header::CONTENT_TYPE, content_type);
        }
        response.body = Some(body);
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
            Some(HeaderValue::from_str(text).map_err(|_| {
                cx.fault(attribute.offset, format!("'{text}' is not a content type."))
            })?)
        }
        None => None,
    };
    let index = cx
        .optional_number(element, "index", 0..=u64::from(u16::MAX))?
        .unwrap_or(0);
    Ok(Step::Now(
        "mock-response",
        Box::new(MockResponse {
            status,
            content_type,
            index: usize::try_from(index).unwrap_or(0),
        }),
    ))
}
