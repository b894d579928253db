//! `<find-and-replace from="…" to="…"/>`: replaces every occurrence of `from` in the body —
//! the request's before the backend answers, the response's after (and in on-error). The
//! body is read (bounded, as scripts read it) when the document is compiled with this policy
//! in it; a body that is not UTF-8 text is left alone.

use super::{Compiler, Context, Flow, Outcome, Policy, Step, expression_failed};
use crate::document::SectionKind;
use crate::error::Diagnostic;
use crate::expr::Template;
use crate::expr::host::BodyUse;
use crate::xml::Element;
use bytes::Bytes;

#[derive(Debug)]
pub struct FindAndReplace {
    from: Template,
    to: Template,
}

impl Policy for FindAndReplace {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let fail = |e| expression_failed("find-and-replace", e);
        let from = self.from.render(&*cx.exchange).map_err(fail)?.into_owned();
        let to = self.to.render(&*cx.exchange).map_err(fail)?.into_owned();
        let response = matches!(cx.section, SectionKind::Outbound | SectionKind::OnError);
        let body = if response {
            cx.exchange.response.as_ref().and_then(|r| r.body.clone())
        } else {
            cx.exchange
                .request_body
                .clone()
                .or_else(|| cx.exchange.caller_body.clone())
        };
        let Some(text) = body.as_deref().and_then(|b| std::str::from_utf8(b).ok()) else {
            cx.exchange
                .note(|| "no text body: nothing replaced".to_owned());
            return Ok(Flow::Continue);
        };
        if from.is_empty() || !text.contains(&from) {
            cx.exchange.note(|| format!("'{from}' not found"));
            return Ok(Flow::Continue);
        }
        let count = text.matches(&from).count();
        let replaced = Bytes::from(text.replace(&from, &to));
        if response {
            if let Some(state) = cx.exchange.response.as_mut() {
                state.headers.remove(http::header::CONTENT_LENGTH);
                state.body = Some(replaced);
            }
        } else {
            cx.exchange
                .request
                .headers
                .remove(http::header::CONTENT_LENGTH);
            cx.exchange.request_body = Some(replaced);
        }
        cx.exchange
            .note(|| format!("replaced {count} × '{from}' with '{to}'"));
        Ok(Flow::Continue)
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["from", "to"])?;
    cx.only_children(element, &[])?;
    let from = cx.template(cx.required(element, "from")?)?;
    if matches!(&from, Template::Literal(text) if text.is_empty()) {
        return Err(cx.fault(element.offset, "from must not be empty."));
    }
    let to = cx.template(cx.required(element, "to")?)?;
    let reads = match cx.section {
        SectionKind::Outbound | SectionKind::OnError => BodyUse {
            request: false,
            response: true,
        },
        SectionKind::Inbound | SectionKind::Backend => BodyUse {
            request: true,
            response: false,
        },
    };
    cx.reads_body.set(cx.reads_body.get().or(reads));
    Ok(Step::Now(
        "find-and-replace",
        Box::new(FindAndReplace { from, to }),
    ))
}
