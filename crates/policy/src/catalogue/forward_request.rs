//! `<forward-request timeout="300" follow-redirects="false" buffer-request-body="false"
//! fail-on-error-status-code="false"/>`: sends the request, as the inbound policies left
//! it, to the backend and waits for the response head; with `fail-on-error-status-code`, an
//! answer of 400–599 runs on-error, which starts from the backend's response. The gateway does the sending ([`crate::engine::Upstream`]).

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
    /// A 400–599 answer runs on-error (`fail-on-error-status-code`).
    pub fail_on_error_status: bool,
}

#[derive(Debug, Default)]
pub struct ForwardRequest {
    options: ForwardOptions,
}

impl WaitingPolicy for ForwardRequest {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            cx.upstream.forward(cx.exchange, &self.options).await?;
            if self.options.fail_on_error_status
                && let Some(response) = &cx.exchange.response
                && (400..=599).contains(&response.status.as_u16())
            {
                return Err(crate::Rejection::BackendStatus(response.status));
            }
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
    for unsupported in ["http-version", "timeout-ms"] {
        if let Some(attribute) = element.attribute(unsupported) {
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
                fail_on_error_status: cx.boolean(element, "fail-on-error-status-code", false)?,
            },
        }),
    ))
}
