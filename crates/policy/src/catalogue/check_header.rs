//! `<check-header name failed-check-httpcode failed-check-error-message ignore-case>` with
//! optional `<value>`s: the header must be present and, if values are listed, equal one.

use super::{Compiler, Context, Flow, Outcome, Policy, Step, status_code};
use crate::error::{Diagnostic, Rejection};
use crate::xml::Element;
use http::{HeaderName, StatusCode};

#[derive(Debug)]
pub struct CheckHeader {
    name: HeaderName,
    status: StatusCode,
    message: String,
    ignore_case: bool,
    values: Vec<String>,
}

impl Policy for CheckHeader {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let refuse = || {
            Err(Rejection::Refused {
                status: self.status,
                message: self.message.clone(),
            })
        };
        let mut present = cx
            .exchange
            .request
            .headers
            .get_all(&self.name)
            .iter()
            .peekable();
        if present.peek().is_none() {
            return refuse();
        }
        if self.values.is_empty() {
            return Ok(Flow::Continue);
        }
        let matches = present
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|sent| {
                let sent = sent.trim();
                self.values.iter().any(|allowed| {
                    if self.ignore_case {
                        allowed.eq_ignore_ascii_case(sent)
                    } else {
                        allowed == sent
                    }
                })
            });
        cx.exchange.note(|| {
            let verdict = if matches {
                "an allowed value"
            } else {
                "no allowed value"
            };
            format!("{} has {verdict}", self.name)
        });
        if matches {
            Ok(Flow::Continue)
        } else {
            refuse()
        }
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(
        element,
        &[
            "name",
            "failed-check-httpcode",
            "failed-check-error-message",
            "ignore-case",
        ],
    )?;
    cx.only_children(element, &["value"])?;
    let name = cx.header_name(cx.required(element, "name")?)?;
    let status = status_code(cx, cx.required(element, "failed-check-httpcode")?)?;
    let message = cx
        .literal(cx.required(element, "failed-check-error-message")?)?
        .to_owned();
    let ignore_case = cx.boolean(element, "ignore-case", false)?;
    if element.attribute("ignore-case").is_none() {
        return Err(cx.fault(
            element.offset,
            "<check-header> needs the attribute ignore-case.",
        ));
    }
    let values = element
        .children_named("value")
        .map(|v| v.text_value().to_owned())
        .collect();
    Ok(Step::Now(
        "check-header",
        Box::new(CheckHeader {
            name,
            status,
            message,
            ignore_case,
            values,
        }),
    ))
}
