//! `<quota-by-key calls bandwidth renewal-period counter-key>`: a quota per evaluated key,
//! fixed period from the key's first call; `increment-condition` and `increment-count` as in
//! rate-limit-by-key (bandwidth counts bytes, whatever `increment-count` says).

use super::limits::{IncrementCondition, QuotaSize, counter_key};
use super::quota::quota_size;
use super::{Compiler, Context, Flow, Step, WaitingOutcome, WaitingPolicy, expression_failed};
use crate::error::Diagnostic;
use crate::expr::Template;
use crate::xml::Element;

#[derive(Debug)]
pub struct QuotaByKey {
    size: QuotaSize,
    counter_key: Template,
    increment_condition: Option<IncrementCondition>,
    increment_count: u64,
}

impl WaitingPolicy for QuotaByKey {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            if let Some(IncrementCondition::Now(condition)) = &self.increment_condition
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
                let period = self.size.period.map_or(0, |p| p.as_secs());
                counter_key(
                    format_args!("qk|{}|{period}", cx.exchange.matched.service),
                    &value,
                )
            };
            let after_response = match &self.increment_condition {
                Some(IncrementCondition::AfterResponse(condition)) => Some(condition),
                _ => None,
            };
            self.size
                .hit(cx, &key, self.increment_count, after_response)
                .await
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
    let size = quota_size(cx, element)?;
    Ok(Step::Wait(
        "quota-by-key",
        Box::new(QuotaByKey {
            size,
            counter_key: cx.template(cx.required(element, "counter-key")?)?,
            increment_condition: IncrementCondition::compile(cx, element)?,
            increment_count: cx
                .optional_number(element, "increment-count", 1..=u64::from(u32::MAX))?
                .unwrap_or(1),
        }),
    ))
}
