//! `<set-variable name="…" value="…"/>`: stores a value for later expressions
//! (`context.Variables`).

use super::{Compiler, Context, Flow, Outcome, Policy, Step, expression_failed};
use crate::error::Diagnostic;
use crate::expr::Template;
use crate::xml::Element;

#[derive(Debug)]
pub struct SetVariable {
    name: Box<str>,
    value: Template,
}

impl Policy for SetVariable {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let value = self
            .value
            .value(&*cx.exchange)
            .map_err(|e| expression_failed("set-variable", e))?;
        cx.exchange
            .note(|| format!("{} = {}", self.name, value.clone().into_text()));
        cx.exchange.set_variable(&self.name, value);
        Ok(Flow::Continue)
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["name", "value"])?;
    cx.only_children(element, &[])?;
    let name = cx.literal(cx.required(element, "name")?)?;
    if name.is_empty() {
        return Err(cx.fault(element.offset, "name must not be empty."));
    }
    Ok(Step::Now(
        "set-variable",
        Box::new(SetVariable {
            name: name.into(),
            value: cx.template(cx.required(element, "value")?)?,
        }),
    ))
}
