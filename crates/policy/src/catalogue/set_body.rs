//! `<set-body>text or @(expression)</set-body>`: replaces the request body (inbound,
//! backend) or the response body (outbound, on-error). With `template="liquid"` the content
//! is a Liquid template over the message (see [`super::liquid_body`]).

use super::liquid_body::LiquidBody;
use super::{Compiler, Context, Flow, Outcome, Policy, Step, expression_failed};
use crate::document::SectionKind;
use crate::error::Diagnostic;
use crate::expr::Template;
use crate::expr::host::BodyUse;
use crate::xml::Element;
use bytes::Bytes;

#[derive(Debug)]
pub struct SetBody {
    body: BodySource,
}

#[derive(Debug)]
enum BodySource {
    /// Text, or text with expressions.
    Template(Template),
    Liquid(LiquidBody),
}

impl SetBody {
    /// Renders the body: for the section's message, or for the response `return-response`
    /// builds (where, as in APIM, a Liquid template sees no body).
    pub(super) fn render(&self, cx: &Context<'_>) -> Result<Bytes, crate::Rejection> {
        match &self.body {
            BodySource::Template(template) => {
                let text = template
                    .render(&*cx.exchange)
                    .map_err(|e| expression_failed("set-body", e))?;
                Ok(Bytes::from(text.into_owned()))
            }
            BodySource::Liquid(liquid) => liquid
                .render(&*cx.exchange, response_section(cx.section))
                .map_err(|e| expression_failed("set-body", e)),
        }
    }
}

fn response_section(section: SectionKind) -> bool {
    matches!(section, SectionKind::Outbound | SectionKind::OnError)
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
    cx.only_attributes(element, &["template", "xsi-nil", "parse-date"])?;
    let nil_as_null = match element.attribute("xsi-nil") {
        None => false,
        Some(attribute) => match cx.literal(attribute)? {
            "blank" => false,
            "null" => true,
            _ => return Err(cx.fault(attribute.offset, "xsi-nil must be blank or null.")),
        },
    };
    if let Some(attribute) = element.attribute("parse-date") {
        // Portcullis keeps a body's date texts as written either way (APIM rewrites them in
        // .NET's format unless this is false); the `Date` filter reads them both ways.
        if !matches!(cx.literal(attribute)?, "true" | "false") {
            return Err(cx.fault(attribute.offset, "parse-date must be true or false."));
        }
    }
    let body = match element.attribute("template") {
        Some(attribute) => {
            if cx.literal(attribute)? != "liquid" {
                return Err(cx.fault(
                    attribute.offset,
                    "template must be liquid (the only templating APIM has).",
                ));
            }
            let (source, offset) = cx.liquid_source(element);
            let template = portcullis_script::liquid::Template::parse(&source, offset)
                .map_err(|e| cx.fault(e.offset, format!("in the Liquid template: {e}")))?;
            cx.note_reads_body(BodyUse {
                request: !response_section(cx.section),
                response: response_section(cx.section),
            });
            BodySource::Liquid(LiquidBody::new(template, nil_as_null))
        }
        None => {
            cx.only_children(element, &[])?;
            BodySource::Template(
                cx.text_template(element)?
                    .unwrap_or(Template::Literal("".into())),
            )
        }
    };
    Ok(SetBody { body })
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    Ok(Step::Now("set-body", Box::new(compile_body(element, cx)?)))
}
