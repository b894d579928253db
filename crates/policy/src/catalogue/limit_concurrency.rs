//! `<limit-concurrency key="@(…)" max-count="N">…</limit-concurrency>`: at most N requests
//! per key run the contained policies at once; the next gets 429 at once.

use super::{Compiler, Context, Step, WaitingOutcome, WaitingPolicy, expression_failed};
use crate::counters::{Acquired, CounterStore};
use crate::engine::run_block;
use crate::error::{Diagnostic, Rejection};
use crate::expr::Template;
use crate::xml::Element;

#[derive(Debug)]
pub struct LimitConcurrency {
    key: Template,
    max: u64,
    steps: Vec<Step>,
}

/// A slot held while the block runs: given back (and awaited) when the block ends, so the
/// caller's next call finds it free; given back in the background if the call is dropped.
struct Slot<'a> {
    counters: &'a dyn CounterStore,
    key: Option<String>,
}

impl Slot<'_> {
    async fn release(mut self) {
        if let Some(key) = self.key.take() {
            // A slot that cannot be given back ends with its lease; the call is done.
            let _ = self.counters.release(&key).await;
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.counters.release_later(&key);
        }
    }
}

impl WaitingPolicy for LimitConcurrency {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            let key = {
                let value = self
                    .key
                    .render(&*cx.exchange)
                    .map_err(|e| expression_failed("limit-concurrency key", e))?;
                format!("lc|{}|{value}", cx.exchange.matched.service)
            };
            let counters = cx.counters;
            let acquired = counters
                .acquire(&key, self.max)
                .await
                .map_err(|e| Rejection::CountersUnavailable(e.0))?;
            let slot = match acquired {
                Acquired::Taken => Some(Slot {
                    counters,
                    key: Some(key),
                }),
                Acquired::Uncounted => None,
                Acquired::Full => {
                    cx.exchange
                        .note(|| format!("{} of {} slots taken", self.max, self.max));
                    return Err(Rejection::ConcurrencyLimited);
                }
            };
            let outcome = run_block(&self.steps, cx).await;
            if let Some(slot) = slot {
                slot.release().await;
            }
            outcome
        })
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["key", "max-count"])?;
    Ok(Step::Wait(
        "limit-concurrency",
        Box::new(LimitConcurrency {
            key: cx.template(cx.required(element, "key")?)?,
            max: cx.number(cx.required(element, "max-count")?, 1..=u64::from(u32::MAX))?,
            steps: cx.block(element),
        }),
    ))
}
