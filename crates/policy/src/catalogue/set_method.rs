//! `<set-method>PUT</set-method>`: the method the backend receives.

use super::{Compiler, Context, Flow, Outcome, Policy, Step, expression_failed};
use crate::error::Diagnostic;
use crate::expr::Template;
use crate::xml::Element;
use http::Method;

#[derive(Debug)]
pub struct SetMethod {
    method: Template,
}

impl Policy for SetMethod {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let text = self
            .method
            .render(&*cx.exchange)
            .map_err(|e| expression_failed("set-method", e))?;
        let method =
            Method::from_bytes(text.trim().to_ascii_uppercase().as_bytes()).map_err(|_| {
                expression_failed("set-method", format!("'{text}' is not an HTTP method"))
            })?;
        cx.exchange.request.method = method;
        Ok(Flow::Continue)
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &[])?;
    cx.only_children(element, &[])?;
    let method = cx.text_template(element)?.ok_or_else(|| {
        cx.fault(
            element.offset,
            "<set-method> needs a method, e.g. <set-method>POST</set-method>.",
        )
    })?;
    if let Template::Literal(text) = &method {
        let valid = !text.trim().is_empty() && text.trim().bytes().all(|b| b.is_ascii_alphabetic());
        if !valid {
            let offset = element.text.as_ref().map_or(element.offset, |t| t.offset);
            return Err(cx.fault(offset, format!("'{}' is not an HTTP method.", text.trim())));
        }
    }
    Ok(Step::Now("set-method", Box::new(SetMethod { method })))
}
