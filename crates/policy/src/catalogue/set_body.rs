//! `<set-body>text or @(expression)</set-body>`: replaces the request body (inbound,
//! backend) or the response body (outbound, on-error).

use super::{Compiler, Context, Flow, Outcome, Policy, Step, expression_failed};
use crate::document::SectionKind;
use crate::error::Diagnostic;
use crate::expr::Template;
use crate::xml::Element;
use bytes::Bytes;

#[derive(Debug)]
pub struct SetBody {
    body: Template,
}

impl SetBody {
    /// Renders the body for the response `return-response` builds.
    pub(super) fn render(&self, cx: &Context<'_>) -> Result<Bytes, crate::Rejection> {
        let text = self
            .body
            .render(&*cx.exchange)
            .map_err(|e| expression_failed("set-body", e))?;
        Ok(Bytes::from(text.into_owned()))
    }
}

impl Policy for SetBody {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let body = self.render(cx)?;
        match (cx.section, &mut cx.exchange.response) {
            (SectionKind::Outbound | SectionKind::OnError, Some(response)) => {
                response.headers.remove(http::header::CONTENT_LENGTH);
                response.body = Some(body);
            }
            _ => {
                cx.exchange
                    .request
                    .headers
                    .remove(http::header::CONTENT_LENGTH);
                cx.exchange.request_body = Some(body);
            }
        }
        Ok(Flow::Continue)
    }
}

pub(super) fn compile_body(
    element: &Element,
    cx: &mut Compiler<'_>,
) -> Result<SetBody, Diagnostic> {
    cx.only_attributes(element, &["template", "xsi-nil"])?;
    cx.only_children(element, &[])?;
    if let Some(attribute) = element.attribute("template") {
        return Err(cx.fault(
            attribute.offset,
            "liquid templates are not supported yet; use text or an expression @( … ).",
        ));
    }
    let body = match element.attribute("xsi-nil") {
        Some(attribute) if cx.literal(attribute)? == "blank" => Template::Literal("".into()),
        Some(attribute) if cx.literal(attribute)? == "null" => Template::Literal("".into()),
        Some(attribute) => {
            return Err(cx.fault(attribute.offset, "xsi-nil must be blank or null."));
        }
        None => cx
            .text_template(element)?
            .unwrap_or(Template::Literal("".into())),
    };
    Ok(SetBody { body })
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    Ok(Step::Now("set-body", Box::new(compile_body(element, cx)?)))
}
