//! `<retry condition="@(…)" count interval max-interval delta first-fast-retry>…</retry>`:
//! runs its policies, and again while the condition holds, up to `count` more times.
//! Waits: fixed (`interval`), linear (`interval` + n·`delta`), or exponential (with
//! `max-interval`: `interval` + (2ⁿ−1)·`delta`, capped). A `forward-request` inside keeps
//! the request body so every attempt sends it.

use super::{Compiler, Context, Flow, Step, WaitingOutcome, WaitingPolicy, expression_failed};
use crate::engine::run_block;
use crate::error::Diagnostic;
use crate::expr::Template;
use crate::xml::Element;
use std::time::Duration;

#[derive(Debug)]
pub struct Retry {
    condition: Template,
    count: u32,
    interval: Duration,
    delta: Option<Duration>,
    max_interval: Option<Duration>,
    first_fast_retry: bool,
    steps: Vec<Step>,
}

impl Retry {
    /// The wait before retry number `attempt` (0 = the first retry).
    fn wait(&self, attempt: u32) -> Duration {
        if attempt == 0 && self.first_fast_retry {
            return Duration::ZERO;
        }
        let wait = match (self.delta, self.max_interval) {
            (Some(delta), Some(max)) => {
                let factor = 2u32.saturating_pow(attempt).saturating_sub(1);
                (self.interval + delta.saturating_mul(factor)).min(max)
            }
            (Some(delta), None) => self.interval + delta.saturating_mul(attempt),
            _ => self.interval,
        };
        wait.min(Duration::from_secs(300))
    }
}

impl WaitingPolicy for Retry {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            let mut attempt = 0;
            loop {
                let outcome = run_block(&self.steps, cx).await;
                if matches!(outcome, Ok(Flow::Respond | Flow::ToOutbound)) || attempt >= self.count
                {
                    cx.exchange.note(|| format!("{} attempt(s)", attempt + 1));
                    return outcome;
                }
                // An error counts as a reason to retry only if the condition says so; the
                // condition usually reads context.Response.StatusCode.
                let again = self
                    .condition
                    .truth(&*cx.exchange)
                    .map_err(|e| expression_failed("retry condition", e))?;
                if !again {
                    cx.exchange.note(|| format!("{} attempt(s)", attempt + 1));
                    return outcome;
                }
                tokio::time::sleep(self.wait(attempt)).await;
                attempt += 1;
            }
        })
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(
        element,
        &[
            "condition",
            "count",
            "interval",
            "max-interval",
            "delta",
            "first-fast-retry",
        ],
    )?;
    let condition = cx.template(cx.required(element, "condition")?)?;
    let count = cx.number(cx.required(element, "count")?, 1..=50)?;
    let interval = cx.number(cx.required(element, "interval")?, 0..=300)?;
    let max_interval = cx.optional_number(element, "max-interval", 0..=300)?;
    let delta = cx.optional_number(element, "delta", 0..=300)?;
    if max_interval.is_some() && delta.is_none() {
        return Err(cx.fault(
            element.offset,
            "max-interval needs delta (exponential retry uses interval, delta and max-interval).",
        ));
    }
    let first_fast_retry = cx.boolean(element, "first-fast-retry", false)?;
    let outer = cx.inside_retry;
    cx.inside_retry = true;
    let steps = cx.block(element);
    cx.inside_retry = outer;
    Ok(Step::Wait(
        "retry",
        Box::new(Retry {
            condition,
            count: u32::try_from(count).unwrap_or(50),
            interval: Duration::from_secs(interval),
            delta: delta.map(Duration::from_secs),
            max_interval: max_interval.map(Duration::from_secs),
            first_fast_retry,
            steps,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry(delta: Option<u64>, max: Option<u64>) -> Retry {
        Retry {
            condition: Template::Literal("true".into()),
            count: 5,
            interval: Duration::from_secs(1),
            delta: delta.map(Duration::from_secs),
            max_interval: max.map(Duration::from_secs),
            first_fast_retry: false,
            steps: Vec::new(),
        }
    }

    #[test]
    fn fixed_linear_and_exponential_waits() {
        let secs = |r: &Retry| (0..4).map(|a| r.wait(a).as_secs()).collect::<Vec<_>>();
        assert_eq!(secs(&retry(None, None)), [1, 1, 1, 1]);
        assert_eq!(secs(&retry(Some(2), None)), [1, 3, 5, 7]);
        assert_eq!(secs(&retry(Some(2), Some(10))), [1, 3, 7, 10]);
    }
}
