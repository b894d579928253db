//! `<quota calls bandwidth renewal-period>` (product scope): at most `calls` calls and
//! `bandwidth` kilobytes (request and response bodies) per subscription in a fixed period
//! that starts with the subscription's first call (`renewal-period="0"`: never renews), with
//! per-API and per-operation quotas nested inside (see [`super::nested_limits`]). Over the
//! quota: 403 with the time until it is replenished.

use super::limits::{QuotaSize, subscription_key};
use super::nested_limits::{self, NestedLimit, Rules};
use super::{Compiler, Context, Flow, Step, WaitingOutcome, WaitingPolicy};
use crate::error::Diagnostic;
use crate::xml::Element;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug)]
pub struct Quota {
    size: QuotaSize,
    nested: Vec<(NestedLimit, QuotaSize)>,
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
            self.size.hit(cx, &key, 1, None).await?;
            for (limit, size) in &self.nested {
                if limit.applies_to(&cx.exchange.matched) {
                    size.hit(cx, &format!("{key}|{}", limit.label), 1, None)
                        .await?;
                }
            }
            Ok(Flow::Continue)
        })
    }
}

/// The longest renewal period of a quota, in seconds (about 136 years).
const MAX_PERIOD: u64 = u32::MAX as u64;

/// `calls`, `bandwidth` and `renewal-period` as the two quota policies read them: at least
/// one of calls and bandwidth.
pub(super) fn quota_size(cx: &Compiler<'_>, element: &Element) -> Result<QuotaSize, Diagnostic> {
    let calls = cx.optional_number(element, "calls", 1..=u64::from(u32::MAX))?;
    let bandwidth_kb = cx.optional_number(element, "bandwidth", 1..=u64::from(u32::MAX))?;
    if calls.is_none() && bandwidth_kb.is_none() {
        return Err(cx.fault(
            element.offset,
            format!("<{}> needs calls or bandwidth (or both).", element.name),
        ));
    }
    let period = cx.number(cx.required(element, "renewal-period")?, 0..=MAX_PERIOD)?;
    Ok(QuotaSize {
        calls,
        bandwidth_kb,
        period: period_of(period),
    })
}

fn period_of(seconds: u64) -> Option<Duration> {
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["calls", "renewal-period", "bandwidth"])?;
    let nested = nested_limits::compile(
        element,
        cx,
        &Rules {
            bandwidth: true,
            periods: 0..=MAX_PERIOD,
        },
    )?
    .into_iter()
    .map(|limit| {
        let size = QuotaSize {
            calls: limit.element.calls,
            bandwidth_kb: limit.element.bandwidth_kb,
            period: period_of(limit.element.renewal_period),
        };
        (limit, size)
    })
    .collect();
    cx.once_per_document(element)?;
    let size = quota_size(cx, element)?;
    Ok(Step::Wait(
        "quota",
        Box::new(Quota {
            size,
            nested,
            label: cx.label.clone(),
        }),
    ))
}
