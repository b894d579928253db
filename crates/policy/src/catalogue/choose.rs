//! `<choose><when condition="@(…)">…</when>…<otherwise>…</otherwise></choose>`: runs the
//! policies of the first `when` whose condition is true, else those of `otherwise`.

use super::{Compiler, Context, Step, WaitingOutcome, WaitingPolicy, expression_failed};
use crate::engine::run_block;
use crate::error::Diagnostic;
use crate::expr::Template;
use crate::xml::Element;

#[derive(Debug)]
pub struct Choose {
    branches: Vec<(Template, Vec<Step>)>,
    otherwise: Vec<Step>,
}

impl WaitingPolicy for Choose {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            for (index, (condition, steps)) in self.branches.iter().enumerate() {
                if condition
                    .truth(&*cx.exchange)
                    .map_err(|e| expression_failed("choose/when", e))?
                {
                    let outcome = run_block(steps, cx).await;
                    cx.exchange.note(|| format!("when #{} matched", index + 1));
                    return outcome;
                }
            }
            let outcome = run_block(&self.otherwise, cx).await;
            cx.exchange.note(|| "no when matched: otherwise".to_owned());
            outcome
        })
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &[])?;
    cx.only_children(element, &["when", "otherwise"])?;
    let mut branches = Vec::new();
    let mut otherwise = None;
    for child in &element.children {
        if otherwise.is_some() {
            return Err(cx.fault(
                child.offset,
                "<otherwise> must be the last element of <choose>.",
            ));
        }
        if child.name == "when" {
            cx.only_attributes(child, &["condition"])?;
            let attribute = cx.required(child, "condition")?;
            let condition = cx.template(attribute)?;
            if !condition.is_expression() {
                return Err(cx.fault(attribute.offset, "condition must be an expression @( … )."));
            }
            branches.push((condition, cx.block(child)));
        } else {
            cx.only_attributes(child, &[])?;
            otherwise = Some(cx.block(child));
        }
    }
    if branches.is_empty() {
        return Err(cx.fault(
            element.offset,
            "<choose> needs at least one <when condition=\"@(…)\">.",
        ));
    }
    Ok(Step::Wait(
        "choose",
        Box::new(Choose {
            branches,
            otherwise: otherwise.unwrap_or_default(),
        }),
    ))
}
