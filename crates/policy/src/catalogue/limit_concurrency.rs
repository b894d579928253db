//! `<limit-concurrency key="@(…)" max-count="N">…</limit-concurrency>`: at most N requests
//! per key run the contained policies at once; the next gets 429 at once.

use super::limits::counter_key;
use super::{Compiler, Context, Step, WaitingOutcome, WaitingPolicy, expression_failed};
use crate::counters::{Acquired, CounterStore, SlotTicket};
use crate::engine::run_block;
use crate::error::{Diagnostic, Rejection};
use crate::expr::Template;
use crate::xml::Element;
use std::convert::Infallible;
use std::time::Duration;

#[derive(Debug)]
pub struct LimitConcurrency {
    key: Template,
    max: u64,
    steps: Vec<Step>,
}

/// A slot held while the block runs: renewed while it runs (when the store leases slots),
/// given back (and awaited) when the block ends, so the caller's next call finds it free;
/// given back in the background if the call is dropped.
struct Slot<'a> {
    counters: &'a dyn CounterStore,
    key: String,
    ticket: SlotTicket,
    released: bool,
}

impl Slot<'_> {
    /// Renews the slot's lease every third of it, for as long as it is awaited (the caller
    /// races it against the block). A failed renewal is retried at the next turn; a slot
    /// whose lease ran out is simply no longer counted.
    async fn keep(&self, lease: Duration) -> Infallible {
        let every = (lease / 3).max(Duration::from_millis(10));
        loop {
            tokio::time::sleep(every).await;
            let _ = self.counters.renew(&self.key, self.ticket).await;
        }
    }

    async fn release(mut self) {
        self.released = true;
        // A slot that cannot be given back ends with its lease; the call is done.
        let _ = self.counters.release(&self.key, self.ticket).await;
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if !self.released {
            self.counters.release_later(&self.key, self.ticket);
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
                counter_key(format_args!("lc|{}", cx.exchange.matched.service), &value)
            };
            let counters = cx.counters;
            let acquired = counters
                .acquire(&key, self.max)
                .await
                .map_err(|e| Rejection::CountersUnavailable(e.0))?;
            let slot = match acquired {
                Acquired::Taken(ticket) => Slot {
                    counters,
                    key,
                    ticket,
                    released: false,
                },
                Acquired::Uncounted => return run_block(&self.steps, cx).await,
                Acquired::Full => {
                    cx.exchange
                        .note(|| format!("{} of {} slots taken", self.max, self.max));
                    return Err(Rejection::ConcurrencyLimited);
                }
            };
            let outcome = match counters.slot_lease() {
                Some(lease) => {
                    tokio::select! {
                        outcome = run_block(&self.steps, cx) => outcome,
                        never = slot.keep(lease) => match never {},
                    }
                }
                None => run_block(&self.steps, cx).await,
            };
            slot.release().await;
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
