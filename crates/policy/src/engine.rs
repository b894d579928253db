//! Running a compiled pipeline for one request.
//!
//! A [`Pipeline`] is the chain of documents that apply to one operation (and product):
//! operation → API → product → global, innermost first. At build time each section is
//! flattened — every `<base/>` replaced by the parent's section — into a list of step
//! positions, so a request walks a flat list: no recursion, no lookups, no allocation for
//! the steps that finish at once.
//!
//! ```text
//!  inbound ─► backend (forward-request) ─► outbound ─► response
//!     │             │                          │
//!     └─────────────┴──── rejection ───────────┴─► error response ─► on-error ─► response
//! ```

use crate::catalogue::forward_request::ForwardOptions;
use crate::catalogue::{Context, Flow, Outcome, Step, cors};
use crate::counters::CounterStore;
use crate::document::{PolicyDocument, SectionKind};
use crate::error::Rejection;
use crate::exchange::{Exchange, ResponseState, SentResponse, TraceEvent};
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

/// The gateway's side of `forward-request`: send the request as the exchange describes it
/// and put the backend's response head in [`Exchange::response`]. The gateway keeps the
/// bodies.
pub trait Upstream: Send {
    fn forward<'a>(
        &'a mut self,
        exchange: &'a mut Exchange,
        options: &'a ForwardOptions,
    ) -> Pin<Box<dyn Future<Output = Result<(), Rejection>> + Send + 'a>>;

    /// Reads the caller's whole body into [`Exchange::caller_body`] (bounded), for scripts
    /// that read `context.Request.Body`; it is still forwarded.
    fn read_request_body<'a>(
        &'a mut self,
        exchange: &'a mut Exchange,
    ) -> Pin<Box<dyn Future<Output = Result<(), Rejection>> + Send + 'a>> {
        let _ = exchange;
        Box::pin(std::future::ready(Ok(())))
    }

    /// Sends a request of a policy's own (`send-request`) and reads its whole answer
    /// (bounded). `exchange` is the request it is sent for (for its trace and, when
    /// `call.url` is `None`, its backend URL).
    fn send_request<'a>(
        &'a mut self,
        call: OutboundCall,
        exchange: &'a mut Exchange,
    ) -> Pin<Box<dyn Future<Output = Result<SentResponse, Rejection>> + Send + 'a>> {
        let _ = (call, exchange);
        Box::pin(std::future::ready(Err(Rejection::BackendConnection(
            "this gateway sends no requests of its own".into(),
        ))))
    }

    /// Where `authentication-managed-identity` asks for tokens (Azure's instance metadata
    /// token endpoint, or what the gateway was told); `None`: nowhere.
    fn identity_endpoint(&self) -> Option<http::Uri> {
        None
    }

    /// Where `validate-azure-ad-token` finds Entra ID tenants (`None`: Microsoft's public
    /// cloud, `https://login.microsoftonline.com`).
    fn entra_authority(&self) -> Option<http::Uri> {
        None
    }

    /// Sends a request without waiting for it (`send-one-way-request`).
    fn send_one_way(&mut self, call: OutboundCall, exchange: &Exchange) {
        let _ = (call, exchange);
    }

    /// An upstream for one branch of `<wait>`, several of which run at once: it sends the
    /// branch's `send-request`s; it never calls the backend. The default sends nothing.
    fn branch(&self) -> Box<dyn Upstream + '_> {
        Box::new(NoRequests)
    }

    /// Reads the backend's whole body into the response (bounded), for scripts that read
    /// `context.Response.Body`; it then goes back to the caller from there.
    fn read_response_body<'a>(
        &'a mut self,
        exchange: &'a mut Exchange,
    ) -> Pin<Box<dyn Future<Output = Result<(), Rejection>> + Send + 'a>> {
        let _ = exchange;
        Box::pin(std::future::ready(Ok(())))
    }
}

/// An upstream that sends nothing: what a `<wait>` branch gets from an upstream that has
/// no sender to share.
struct NoRequests;

impl Upstream for NoRequests {
    fn forward<'a>(
        &'a mut self,
        _: &'a mut Exchange,
        _: &'a ForwardOptions,
    ) -> Pin<Box<dyn Future<Output = Result<(), Rejection>> + Send + 'a>> {
        Box::pin(std::future::ready(Err(Rejection::BackendConnection(
            "forward-request cannot run inside <wait>".into(),
        ))))
    }
}

/// A request a policy sends of its own: `send-request`, `send-one-way-request`.
#[derive(Debug, Clone)]
pub struct OutboundCall {
    pub method: http::Method,
    /// `None`: the backend URL as the exchange describes it (`mode="copy"` without
    /// `set-url`).
    pub url: Option<http::Uri>,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    pub timeout: std::time::Duration,
    /// The certificate to present to the server (`authentication-certificate` inside
    /// `send-request`).
    pub client_certificate: Option<crate::exchange::ClientCertificate>,
}

impl OutboundCall {
    /// A `GET` of `url` with `headers`, no body, within `timeout`.
    pub fn get(url: http::Uri, headers: http::HeaderMap, timeout: std::time::Duration) -> Self {
        Self {
            method: http::Method::GET,
            url: Some(url),
            headers,
            body: Bytes::new(),
            timeout,
            client_certificate: None,
        }
    }
}

/// Where a flattened step lives: document `doc` of the chain, step `step` of the section.
#[derive(Debug, Clone, Copy)]
struct StepAt {
    doc: u8,
    step: u32,
}

/// The documents that apply to one call, and each section flattened.
#[derive(Debug)]
pub struct Pipeline {
    docs: Vec<Arc<PolicyDocument>>,
    sections: [Vec<StepAt>; 4],
    /// Which bodies some document's scripts read.
    reads_body: crate::expr::host::BodyUse,
}

fn flatten(docs: &[Arc<PolicyDocument>], level: usize, kind: SectionKind, out: &mut Vec<StepAt>) {
    let Some(doc) = docs.get(level) else {
        return;
    };
    for (index, step) in doc.section(kind).steps.iter().enumerate() {
        if let Step::Base = step {
            flatten(docs, level + 1, kind, out);
        } else {
            out.push(StepAt {
                doc: u8::try_from(level).unwrap_or(u8::MAX),
                step: u32::try_from(index).unwrap_or(u32::MAX),
            });
        }
    }
}

impl Pipeline {
    /// `chain`: the documents innermost first, the global one last.
    pub fn new(chain: Vec<Arc<PolicyDocument>>) -> Self {
        let sections = SectionKind::ALL.map(|kind| {
            let mut steps = Vec::new();
            flatten(&chain, 0, kind, &mut steps);
            steps
        });
        let reads_body = chain.iter().fold(
            Default::default(),
            |used: crate::expr::host::BodyUse, doc| used.or(doc.reads_body),
        );
        Self {
            docs: chain,
            sections,
            reads_body,
        }
    }

    pub fn docs(&self) -> &[Arc<PolicyDocument>] {
        &self.docs
    }

    fn steps(&self, kind: SectionKind) -> impl Iterator<Item = (&Step, &PolicyDocument)> {
        kind.of(&self.sections).iter().filter_map(move |at| {
            let doc = self.docs.get(usize::from(at.doc))?;
            let step = doc.section(kind).steps.get(at.step as usize)?;
            Some((step, doc.as_ref()))
        })
    }

    /// The `cors` policy that answers preflights for this pipeline: the first one in the
    /// flattened inbound section.
    pub fn preflight_cors(&self) -> Option<&Arc<cors::Cors>> {
        self.steps(SectionKind::Inbound)
            .find_map(|(step, _)| match step {
                Step::Cors(cors) => Some(cors),
                _ => None,
            })
    }

    /// Names of the steps of one section, in run order (for tests and the trace view).
    pub fn step_names(&self, kind: SectionKind) -> Vec<&'static str> {
        self.steps(kind).map(|(step, _)| step.name()).collect()
    }
}

async fn run_step(step: &Step, cx: &mut Context<'_>) -> Outcome {
    match step {
        Step::Base => Ok(Flow::Continue),
        Step::Now(_, policy) => policy.apply(cx),
        Step::Wait(_, policy) => policy.apply(cx).await,
        Step::Cors(policy) => cors::apply(policy, cx),
    }
}

/// Runs nested policies (inside `choose`, `retry`, `limit-concurrency`).
pub async fn run_block(steps: &[Step], cx: &mut Context<'_>) -> Outcome {
    for step in steps {
        let flow = run_step(step, cx).await?;
        if flow != Flow::Continue {
            return Ok(flow);
        }
    }
    Ok(Flow::Continue)
}

async fn run_section(pipeline: &Pipeline, kind: SectionKind, cx: &mut Context<'_>) -> Outcome {
    cx.section = kind;
    for (step, doc) in pipeline.steps(kind) {
        let started = cx.exchange.trace.is_some().then(Instant::now);
        let outcome = run_step(step, cx).await;
        if let Some(started) = started {
            let note = cx.exchange.note.take();
            let message = match (&outcome, note) {
                (Err(rejection), Some(note)) => format!("{note}; stopped the request: {rejection}"),
                (Err(rejection), None) => format!("stopped the request: {rejection}"),
                (Ok(_), Some(note)) => note,
                (Ok(Flow::Continue), None) => "done".to_owned(),
                (Ok(Flow::Respond), None) => "answered the request".to_owned(),
                (Ok(Flow::ToOutbound), None) => "answered; on to outbound".to_owned(),
            };
            if let Some(trace) = &mut cx.exchange.trace {
                trace.push(TraceEvent {
                    section: kind.name(),
                    scope: doc.label.clone(),
                    policy: step.name(),
                    elapsed: started.elapsed(),
                    message,
                });
            }
        }
        if let Err(rejection) = &outcome
            && cx.exchange.last_error.is_none()
        {
            cx.exchange.last_error = Some(crate::exchange::LastError {
                source: step.name(),
                reason: rejection.reason(),
                message: rejection.to_string(),
                scope: doc.scope.name(),
                section: kind.name(),
            });
        }
        let flow = outcome?;
        if flow != Flow::Continue {
            return Ok(flow);
        }
    }
    Ok(Flow::Continue)
}

/// Turns a rejection into the response that on-error starts from; the gateway's error module
/// provides it so that status codes and bodies live in one place.
pub type ErrorResponder = dyn Fn(&Rejection, &Exchange) -> ResponseState + Sync;

/// Runs the whole pipeline. Afterwards [`Exchange::response`] holds what goes back to the
/// caller; the rejection, if any, is returned for logging.
pub async fn run(
    pipeline: &Pipeline,
    exchange: &mut Exchange,
    counters: &dyn CounterStore,
    caches: &crate::value_cache::Caches,
    upstream: &mut dyn Upstream,
    error_response: &ErrorResponder,
) -> Option<Rejection> {
    let mut cx = Context {
        exchange,
        section: SectionKind::Inbound,
        counters,
        caches,
        upstream,
    };
    let outcome = async {
        if pipeline.reads_body.request {
            cx.upstream.read_request_body(cx.exchange).await?;
        }
        for kind in [SectionKind::Inbound, SectionKind::Backend] {
            match run_section(pipeline, kind, &mut cx).await? {
                Flow::Respond => return Ok(()),
                Flow::ToOutbound => break,
                Flow::Continue => {}
            }
        }
        if cx.exchange.response.is_none() {
            // No forward-request ran: outbound works on an empty 200, as in APIM.
            let mut empty = ResponseState::new(http::StatusCode::OK);
            empty.body = Some(Bytes::new());
            cx.exchange.response = Some(empty);
        }
        if pipeline.reads_body.response {
            cx.upstream.read_response_body(cx.exchange).await?;
        }
        run_section(pipeline, SectionKind::Outbound, &mut cx)
            .await
            .map(|_| ())
    }
    .await;
    let rejection = outcome.err();
    if let Some(rejection) = &rejection {
        recover(pipeline, &mut cx, rejection, error_response).await;
    }
    settle_deferred_counts(&mut cx).await;
    rejection
}

/// Counts what waited for the response (an `increment-condition` that reads it): each
/// condition is evaluated on the response as it now stands, and a true one adds its amount.
/// The call has already been let through, so the counter takes it whatever the limit.
async fn settle_deferred_counts(cx: &mut Context<'_>) {
    if cx.exchange.deferred_counts.is_empty() {
        return;
    }
    for deferred in std::mem::take(&mut cx.exchange.deferred_counts) {
        match deferred.condition.truth(&*cx.exchange) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(error) => {
                tracing::warn!(key = %deferred.key, "increment-condition failed: {error}");
                continue;
            }
        }
        let counted = match deferred.counter {
            crate::exchange::DeferredCounter::Window(window) => {
                cx.counters
                    .hit_window(&deferred.key, u64::MAX, window, deferred.amount)
                    .await
            }
            crate::exchange::DeferredCounter::Quota(period) => {
                cx.counters
                    .hit_quota(&deferred.key, u64::MAX, period, deferred.amount)
                    .await
            }
        };
        if let Err(error) = counted {
            tracing::warn!(key = %deferred.key, "a deferred count was lost: {}", error.0);
        }
    }
}

/// The on-error path: the error response, then the on-error section on it.
async fn recover(
    pipeline: &Pipeline,
    cx: &mut Context<'_>,
    rejection: &Rejection,
    error_response: &ErrorResponder,
) {
    // A backend's error status that `fail-on-error-status-code` turned into an error keeps
    // the backend's response for on-error to work on.
    let keeps_backend_answer =
        matches!(rejection, Rejection::BackendStatus(_)) && cx.exchange.response.is_some();
    if !keeps_backend_answer {
        cx.exchange.response = Some(error_response(rejection, cx.exchange));
    }
    if let Err(second) = run_section(pipeline, SectionKind::OnError, cx).await {
        // A fault inside on-error cannot be handled again: the first error's response stays.
        tracing::warn!(request_id = %cx.exchange.request_id, error = %second, "on-error policy failed");
    }
}
