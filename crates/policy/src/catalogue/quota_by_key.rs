//! `<quota-by-key calls renewal-period counter-key>`: a quota per evaluated key, fixed
//! period from the key's first call; `increment-condition` and `increment-count` as in
//! rate-limit-by-key.

use super::limits::{counter_key, quota_outcome};
use super::quota::calls_and_period;
use super::{Compiler, Context, Flow, Step, WaitingOutcome, WaitingPolicy, expression_failed};
use crate::error::Diagnostic;
use crate::expr::Template;
use crate::xml::Element;
use std::time::Duration;

#[derive(Debug)]
pub struct QuotaByKey {
    calls: u64,
    period: Option<Duration>,
    counter_key: Template,
    increment_condition: Option<Template>,
    increment_count: u64,
}

impl WaitingPolicy for QuotaByKey {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            if let Some(condition) = &self.increment_condition
                && !condition
                    .truth(&*cx.exchange)
                    .map_err(|e| expression_failed("quota-by-key increment-condition", e))?
            {
                return Ok(Flow::Continue);
            }
            let key = {
                let value = self
                    .counter_key
                    .render(&*cx.exchange)
                    .map_err(|e| expression_failed("quota-by-key counter-key", e))?;
                let period = self.period.map_or(0, |p| p.as_secs());
                counter_key(
                    format_args!("qk|{}|{period}", cx.exchange.matched.service),
                    &value,
                )
            };
            let decision = cx
                .counters
                .hit_quota(&key, self.calls, self.period, self.increment_count)
                .await;
            quota_outcome(cx, self.calls, decision)
        })
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(
        element,
        &[
            "calls",
            "renewal-period",
            "bandwidth",
            "counter-key",
            "increment-condition",
            "increment-count",
            "first-period-start",
        ],
    )?;
    cx.only_children(element, &[])?;
    if let Some(start) = element.attribute("first-period-start") {
        return Err(cx.fault(
            start.offset,
            "first-period-start is not supported yet; periods start with the key's first call.",
        ));
    }
    let (calls, period) = calls_and_period(cx, element)?;
    Ok(Step::Wait(
        "quota-by-key",
        Box::new(QuotaByKey {
            calls,
            period,
            counter_key: cx.template(cx.required(element, "counter-key")?)?,
            increment_condition: cx.optional_template(element, "increment-condition")?,
            increment_count: cx
                .optional_number(element, "increment-count", 1..=u64::from(u32::MAX))?
                .unwrap_or(1),
        }),
    ))
}
