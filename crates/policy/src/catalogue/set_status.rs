//! `<set-status code="…" reason="…"/>`: the status of the response being returned.

use super::{Compiler, Context, Flow, Outcome, Policy, Step, status_code};
use crate::error::Diagnostic;
use crate::exchange::ResponseState;
use crate::xml::Element;
use http::StatusCode;

#[derive(Debug)]
pub struct SetStatus {
    pub(super) code: StatusCode,
}

impl Policy for SetStatus {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        cx.exchange
            .response
            .get_or_insert_with(|| ResponseState::new(StatusCode::OK))
            .status = self.code;
        Ok(Flow::Continue)
    }
}

pub(super) fn compile_status(
    element: &Element,
    cx: &mut Compiler<'_>,
) -> Result<SetStatus, Diagnostic> {
    cx.only_attributes(element, &["code", "reason"])?;
    cx.only_children(element, &[])?;
    Ok(SetStatus {
        code: status_code(cx, cx.required(element, "code")?)?,
    })
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    Ok(Step::Now(
        "set-status",
        Box::new(compile_status(element, cx)?),
    ))
}
