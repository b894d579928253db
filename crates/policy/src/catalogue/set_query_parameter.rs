//! `<set-query-parameter name exists-action>` with `<value>`s: changes the query string the
//! backend receives. Several values become repeated parameters.

use super::set_header::{ExistsAction, action_and_values};
use super::{Compiler, Context, Flow, Outcome, Policy, Step, expression_failed};
use crate::error::Diagnostic;
use crate::expr::Template;
use crate::xml::Element;

#[derive(Debug)]
pub struct SetQueryParameter {
    name: String,
    action: ExistsAction,
    values: Vec<Template>,
}

impl Policy for SetQueryParameter {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let mut rendered = Vec::with_capacity(self.values.len());
        for value in &self.values {
            let text = value
                .render(&*cx.exchange)
                .map_err(|e| expression_failed("set-query-parameter", e))?;
            rendered.push(text.into_owned());
        }
        cx.exchange
            .note(|| format!("query parameter {}: {}", self.name, rendered.join(",")));
        let pairs = cx.exchange.backend_query.pairs_mut();
        let exists = pairs.iter().any(|(n, _)| *n == self.name);
        match self.action {
            ExistsAction::Delete => pairs.retain(|(n, _)| *n != self.name),
            ExistsAction::Skip if exists => {}
            ExistsAction::Append => {
                pairs.extend(rendered.into_iter().map(|v| (self.name.clone(), v)))
            }
            ExistsAction::Override | ExistsAction::Skip => {
                pairs.retain(|(n, _)| *n != self.name);
                pairs.extend(rendered.into_iter().map(|v| (self.name.clone(), v)));
            }
        }
        Ok(Flow::Continue)
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["name", "exists-action"])?;
    let name = cx.literal(cx.required(element, "name")?)?.to_owned();
    if name.is_empty() {
        return Err(cx.fault(element.offset, "name must not be empty."));
    }
    let (action, values) = action_and_values(cx, element)?;
    Ok(Step::Now(
        "set-query-parameter",
        Box::new(SetQueryParameter {
            name,
            action,
            values,
        }),
    ))
}
