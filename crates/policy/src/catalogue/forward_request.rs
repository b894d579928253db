//! `<forward-request timeout="300" follow-redirects="false" buffer-request-body="false"/>`:
//! sends the request, as the inbound policies left it, to the backend and waits for the
//! response head. The gateway does the sending ([`crate::engine::Upstream`]).

use super::{Compiler, Context, Flow, Step, WaitingOutcome, WaitingPolicy};
use crate::error::Diagnostic;
use crate::xml::Element;
use std::time::Duration;

/// How one forward is made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardOptions {
    /// `None`: the gateway's configured backend timeout.
    pub timeout: Option<Duration>,
    pub follow_redirects: bool,
    /// Keep the request body so that it can be sent again (`retry`).
    pub buffer_request_body: bool,
}

#[derive(Debug, Default)]
pub struct ForwardRequest {
    options: ForwardOptions,
}

impl WaitingPolicy for ForwardRequest {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            cx.upstream.forward(cx.exchange, &self.options).await?;
            Ok(Flow::Continue)
        })
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(
        element,
        &[
            "timeout",
            "timeout-ms",
            "follow-redirects",
            "buffer-request-body",
            "buffer-response",
            "fail-on-error-status-code",
            "http-version",
        ],
    )?;
    cx.only_children(element, &[])?;
    for unsupported in ["fail-on-error-status-code", "http-version", "timeout-ms"] {
        if let Some(attribute) = element.attribute(unsupported)
            && !(unsupported == "fail-on-error-status-code" && cx.literal(attribute)? == "false")
        {
            return Err(cx.fault(
                attribute.offset,
                format!("{unsupported} is not supported yet."),
            ));
        }
    }
    cx.boolean(element, "buffer-response", true)?;
    let timeout = cx
        .optional_number(element, "timeout", 1..=86_400)?
        .map(Duration::from_secs);
    Ok(Step::Wait(
        "forward-request",
        Box::new(ForwardRequest {
            options: ForwardOptions {
                timeout,
                follow_redirects: cx.boolean(element, "follow-redirects", false)?,
                buffer_request_body: cx.inside_retry
                    || cx.boolean(element, "buffer-request-body", false)?,
            },
        }),
    ))
}
