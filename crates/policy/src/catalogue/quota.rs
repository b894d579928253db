//! `<quota calls renewal-period>` (product scope): at most `calls` calls per subscription
//! in a fixed period that starts with the subscription's first call (`renewal-period="0"`:
//! never renews). Over the quota: 403 with the time until it is replenished.

use super::limits::{quota_outcome, subscription_key};
use super::{Compiler, Context, Flow, Step, WaitingOutcome, WaitingPolicy};
use crate::error::Diagnostic;
use crate::xml::Element;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug)]
pub struct Quota {
    calls: u64,
    period: Option<Duration>,
    label: Arc<str>,
}

impl WaitingPolicy for Quota {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            let Some(key) = subscription_key("q", cx, &self.label) else {
                cx.exchange
                    .note(|| "no subscription key: not counted".to_owned());
                return Ok(Flow::Continue);
            };
            let decision = cx
                .counters
                .hit_quota(&key, self.calls, self.period, 1)
                .await;
            quota_outcome(cx, self.calls, decision)
        })
    }
}

/// `calls` and `renewal-period` as the two quota policies read them.
pub(super) fn calls_and_period(
    cx: &Compiler<'_>,
    element: &Element,
) -> Result<(u64, Option<Duration>), Diagnostic> {
    if let Some(bandwidth) = element.attribute("bandwidth") {
        return Err(cx.fault(
            bandwidth.offset,
            "bandwidth quotas are not supported yet; use calls.",
        ));
    }
    let calls = cx.number(cx.required(element, "calls")?, 1..=u64::from(u32::MAX))?;
    let period = cx.number(
        cx.required(element, "renewal-period")?,
        0..=u64::from(u32::MAX),
    )?;
    Ok((calls, (period > 0).then(|| Duration::from_secs(period))))
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["calls", "renewal-period", "bandwidth"])?;
    if let Some(child) = element.children.first() {
        return Err(cx.fault(
            child.offset,
            "per-API and per-operation quotas inside <quota> are not supported yet.",
        ));
    }
    cx.once_per_document(element)?;
    let (calls, period) = calls_and_period(cx, element)?;
    Ok(Step::Wait(
        "quota",
        Box::new(Quota {
            calls,
            period,
            label: cx.label.clone(),
        }),
    ))
}
