//! `<trace source severity><message>…</message><metadata …/></trace>`, or the older form
//! with the message as the element's own text (`<trace source="…">@(…)</trace>`): writes
//! the message to the request's trace (when traced) and to the gateway log at debug level.

use super::{Compiler, Context, Flow, Outcome, Policy, Step, expression_failed};
use crate::error::Diagnostic;
use crate::exchange::TraceEvent;
use crate::expr::Template;
use crate::xml::Element;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug)]
pub struct Trace {
    source: Arc<str>,
    message: Template,
}

impl Policy for Trace {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let message = self
            .message
            .render(&*cx.exchange)
            .map_err(|e| expression_failed("trace", e))?
            .into_owned();
        tracing::debug!(source = %self.source, %message, "trace policy");
        let section = cx.section.name();
        if let Some(trace) = &mut cx.exchange.trace {
            trace.push(TraceEvent {
                section,
                scope: self.source.clone(),
                policy: "trace",
                elapsed: Duration::ZERO,
                message,
            });
        }
        Ok(Flow::Continue)
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["source", "severity"])?;
    cx.only_children(element, &["message", "metadata"])?;
    let source = cx.literal(cx.required(element, "source")?)?;
    if let Some(severity) = element.attribute("severity") {
        let value = cx.literal(severity)?;
        if !matches!(value, "verbose" | "information" | "error") {
            return Err(cx.fault(
                severity.offset,
                "severity must be verbose, information or error.",
            ));
        }
    }
    let message = match (element.child("message"), &element.text) {
        (Some(message), None) => cx
            .text_template(message)?
            .unwrap_or(Template::Literal("".into())),
        (None, Some(_)) => cx
            .text_template(element)?
            .unwrap_or(Template::Literal("".into())),
        (Some(_), Some(text)) => {
            return Err(cx.fault(
                text.offset,
                "<trace> takes its message as text or in <message>, not both.",
            ));
        }
        (None, None) => {
            return Err(cx.fault(element.offset, "<trace> needs a <message>."));
        }
    };
    Ok(Step::Now(
        "trace",
        Box::new(Trace {
            source: Arc::from(source),
            message,
        }),
    ))
}
