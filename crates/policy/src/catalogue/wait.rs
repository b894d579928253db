//! `<wait for="all|any">` with `send-request`, `cache-lookup-value` and `choose` children:
//! runs its children at the same time and waits for all of them, or for the first to
//! finish.
//!
//! Each child runs as a branch on its own copy of the request ([`Exchange::fork`]) with a
//! sender of its own for `send-request` ([`crate::engine::Upstream::branch`]), so calls to
//! several services overlap. When the branches are done their variables, kept responses,
//! request changes and trace come back into the request ([`Exchange::absorb`]), in document
//! order. With `for="any"` the first branch to finish is kept and the others are stopped
//! where they stand (their requests already sent are not taken back). A branch that fails
//! fails the `wait`, and on-error runs.

use super::{Compiler, Context, Flow, Step, WaitingOutcome, WaitingPolicy};
use crate::engine::run_block;
use crate::error::Diagnostic;
use crate::exchange::Exchange;
use crate::xml::Element;
use std::future::Future;
use std::pin::Pin;

/// The children a `wait` may have (APIM's rule).
const BRANCHES: &[&str] = &["send-request", "cache-lookup-value", "choose"];

#[derive(Debug)]
pub struct Wait {
    any: bool,
    /// One step per branch.
    branches: Vec<Step>,
}

type Branch<'a> = Pin<Box<dyn Future<Output = (usize, Exchange, super::Outcome)> + Send + 'a>>;

impl WaitingPolicy for Wait {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            let section = cx.section;
            let counters = cx.counters;
            let caches = cx.caches;
            let base = cx.exchange.sent.len();
            let forks: Vec<Exchange> = self.branches.iter().map(|_| cx.exchange.fork()).collect();
            let senders: Vec<Box<dyn crate::engine::Upstream + '_>> = {
                let upstream: &dyn crate::engine::Upstream = &*cx.upstream;
                self.branches.iter().map(|_| upstream.branch()).collect()
            };
            let mut running: Vec<Branch<'_>> = Vec::with_capacity(forks.len());
            for (index, ((step, mut fork), mut sender)) in
                self.branches.iter().zip(forks).zip(senders).enumerate()
            {
                running.push(Box::pin(async move {
                    let outcome = {
                        let mut branch = Context {
                            exchange: &mut fork,
                            section,
                            counters,
                            caches,
                            upstream: &mut *sender,
                        };
                        run_block(std::slice::from_ref(step), &mut branch).await
                    };
                    (index, fork, outcome)
                }));
            }
            let mut finished = if self.any {
                let (first, _, _) = futures_util::future::select_all(running).await;
                vec![first]
            } else {
                futures_util::future::join_all(running).await
            };
            finished.sort_by_key(|(index, _, _)| *index);
            let count = finished.len();
            let mut flow = Flow::Continue;
            let mut failure = None;
            for (_, fork, outcome) in finished {
                cx.exchange.absorb(fork, base);
                match outcome {
                    Ok(Flow::Respond) => flow = Flow::Respond,
                    Ok(Flow::ToOutbound) if flow == Flow::Continue => flow = Flow::ToOutbound,
                    Ok(Flow::ToOutbound | Flow::Continue) => {}
                    Err(rejection) => {
                        failure.get_or_insert(rejection);
                    }
                }
            }
            let waited = if self.any { "the first of" } else { "all" };
            let total = self.branches.len();
            cx.exchange
                .note(|| format!("waited for {waited} {total} branches ({count} kept)"));
            match failure {
                Some(rejection) => Err(rejection),
                None => Ok(flow),
            }
        })
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["for"])?;
    cx.only_children(element, BRANCHES)?;
    let any = match element.attribute("for") {
        None => false,
        Some(attribute) => match cx.literal(attribute)? {
            "all" => false,
            "any" => true,
            other => {
                return Err(cx.fault(
                    attribute.offset,
                    format!("for must be all or any, not '{other}'."),
                ));
            }
        },
    };
    // The branches run side by side: each counts its once-only policies (rate-limit, quota)
    // from what stands outside the wait, not from the other branches; all of them count
    // for what follows.
    let outer = cx.take_once_only();
    let mut all = outer.clone();
    let mut branches = Vec::with_capacity(element.children.len());
    for child in &element.children {
        cx.restore_once_only(outer.clone());
        if let Some(step) = cx.branch(child) {
            branches.push(step);
        }
        for name in cx.take_once_only() {
            if !all.contains(&name) {
                all.push(name);
            }
        }
    }
    cx.restore_once_only(all);
    Ok(Step::Wait("wait", Box::new(Wait { any, branches })))
}
