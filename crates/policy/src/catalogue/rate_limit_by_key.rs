//! `<rate-limit-by-key calls renewal-period counter-key>`: at most `calls` calls per
//! evaluated `counter-key` in any `renewal-period` seconds. As in APIM, one counter per key
//! value is shared by every scope that uses the same key. `increment-condition` decides
//! whether a call counts, `increment-count` how much; a condition that reads
//! `context.Response` is decided once the response is known — the call is let through when
//! its count would still fit, and counted afterwards if the condition holds.

use super::limits::{IncrementCondition, REPORTING_ATTRIBUTES, Reporting, counter_key};
use super::rate_limit::MAX_RENEWAL_PERIOD;
use super::{Compiler, Context, Flow, Step, WaitingOutcome, WaitingPolicy, expression_failed};
use crate::error::Diagnostic;
use crate::expr::Template;
use crate::xml::Element;
use std::time::Duration;

#[derive(Debug)]
pub struct RateLimitByKey {
    calls: u64,
    period: Duration,
    counter_key: Template,
    increment_condition: Option<IncrementCondition>,
    increment_count: u64,
    reporting: Reporting,
}

impl WaitingPolicy for RateLimitByKey {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            if let Some(IncrementCondition::Now(condition)) = &self.increment_condition {
                let counts = condition
                    .truth(&*cx.exchange)
                    .map_err(|e| expression_failed("rate-limit-by-key increment-condition", e))?;
                if !counts {
                    cx.exchange
                        .note(|| "increment-condition false: not counted".to_owned());
                    return Ok(Flow::Continue);
                }
            }
            let key = {
                let value = self
                    .counter_key
                    .render(&*cx.exchange)
                    .map_err(|e| expression_failed("rate-limit-by-key counter-key", e))?;
                counter_key(
                    format_args!(
                        "rlk|{}|{}",
                        cx.exchange.matched.service,
                        self.period.as_secs()
                    ),
                    &value,
                )
            };
            let decision = match &self.increment_condition {
                Some(IncrementCondition::AfterResponse(condition)) => {
                    // Room for this call's count is checked now; it is added afterwards.
                    let room = self.calls.saturating_sub(self.increment_count);
                    let decision = cx.counters.hit_window(&key, room, self.period, 0).await;
                    if matches!(decision, Ok(crate::counters::Decision::Allowed { .. })) {
                        cx.exchange
                            .deferred_counts
                            .push(crate::exchange::DeferredCount {
                                key,
                                counter: crate::exchange::DeferredCounter::Window(self.period),
                                amount: self.increment_count,
                                condition: condition.clone(),
                            });
                    }
                    decision
                }
                _ => {
                    cx.counters
                        .hit_window(&key, self.calls, self.period, self.increment_count)
                        .await
                }
            };
            self.reporting
                .rate_outcome(cx, self.calls, self.period, decision)
        })
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    let mut allowed = vec![
        "calls",
        "renewal-period",
        "counter-key",
        "increment-condition",
        "increment-count",
    ];
    allowed.extend(REPORTING_ATTRIBUTES);
    cx.only_attributes(element, &allowed)?;
    cx.only_children(element, &[])?;
    let calls = cx.number(cx.required(element, "calls")?, 1..=u64::from(u32::MAX))?;
    let period = cx.number(
        cx.required(element, "renewal-period")?,
        1..=MAX_RENEWAL_PERIOD,
    )?;
    Ok(Step::Wait(
        "rate-limit-by-key",
        Box::new(RateLimitByKey {
            calls,
            period: Duration::from_secs(period),
            counter_key: cx.template(cx.required(element, "counter-key")?)?,
            increment_condition: IncrementCondition::compile(cx, element)?,
            increment_count: cx
                .optional_number(element, "increment-count", 1..=u64::from(u32::MAX))?
                .unwrap_or(1),
            reporting: Reporting::compile(cx, element)?,
        }),
    ))
}
