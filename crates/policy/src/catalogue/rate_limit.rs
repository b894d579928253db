//! `<rate-limit calls renewal-period>`: at most `calls` calls per subscription in any
//! `renewal-period` seconds (a sliding window); the call over the limit gets 429 with
//! `Retry-After`. Calls without a subscription key are not limited, as in APIM. Per-API and
//! per-operation limits may be nested inside (see [`super::nested_limits`]).

use super::limits::{REPORTING_ATTRIBUTES, Reporting, subscription_key};
use super::nested_limits::{self, NestedLimit, Rules};
use super::{Compiler, Context, Flow, Step, WaitingOutcome, WaitingPolicy};
use crate::error::Diagnostic;
use crate::xml::Element;
use std::sync::Arc;
use std::time::Duration;

/// The longest renewal period a rate limit may have, in seconds (APIM allows 300; a sliding
/// window here costs the same at any length, so a day is allowed).
pub const MAX_RENEWAL_PERIOD: u64 = 86_400;

#[derive(Debug)]
pub struct RateLimit {
    calls: u64,
    period: Duration,
    nested: Vec<NestedLimit>,
    label: Arc<str>,
    reporting: Reporting,
}

impl WaitingPolicy for RateLimit {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            let Some(key) = subscription_key("rl", cx, &self.label) else {
                cx.exchange
                    .note(|| "no subscription key: not counted".to_owned());
                return Ok(Flow::Continue);
            };
            let decision = cx
                .counters
                .hit_window(&key, self.calls, self.period, 1)
                .await;
            self.reporting
                .rate_outcome(cx, self.calls, self.period, decision)?;
            for limit in &self.nested {
                if !limit.applies_to(&cx.exchange.matched) {
                    continue;
                }
                let calls = limit.element.calls.unwrap_or(u64::MAX);
                let period = Duration::from_secs(limit.element.renewal_period);
                let decision = cx
                    .counters
                    .hit_window(&format!("{key}|{}", limit.label), calls, period, 1)
                    .await;
                // The policy's headers and variables report its own limit, not these.
                Reporting::default().rate_outcome(cx, calls, period, decision)?;
            }
            Ok(Flow::Continue)
        })
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    let mut allowed = vec!["calls", "renewal-period"];
    allowed.extend(REPORTING_ATTRIBUTES);
    cx.only_attributes(element, &allowed)?;
    let nested = nested_limits::compile(
        element,
        cx,
        &Rules {
            bandwidth: false,
            periods: 1..=MAX_RENEWAL_PERIOD,
        },
    )?;
    cx.once_per_document(element)?;
    let calls = cx.number(cx.required(element, "calls")?, 1..=u64::from(u32::MAX))?;
    let period = cx.number(
        cx.required(element, "renewal-period")?,
        1..=MAX_RENEWAL_PERIOD,
    )?;
    Ok(Step::Wait(
        "rate-limit",
        Box::new(RateLimit {
            calls,
            period: Duration::from_secs(period),
            nested,
            label: cx.label.clone(),
            reporting: Reporting::compile(cx, element)?,
        }),
    ))
}
