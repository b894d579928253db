//! The request life cycle, as named phases over one typed context.
//!
//! ```text
//!  request ─► match API ─► [CORS preflight] ─► match operation ─► authenticate
//!                                                                      │
//!     ┌────────────────────────────── policy pipeline ─────────────────┘
//!     ▼
//!  inbound ─► backend (forward-request ─► backend) ─► outbound ─► respond ─► log
//!     │             │                                     │
//!     └─────────────┴──────── rejection ──────────────────┴─► error body ─► on-error
//! ```
//!
//! * **match** ([`matching`]): host → service, longest URL suffix → API; a CORS preflight is
//!   answered here by the API's `cors` policy, before the key check; then method + template
//!   → operation. No match is `404 Resource not found`.
//! * **authenticate** ([`authenticate`]): read the subscription key (header, then query) and
//!   decide by the API's products and subscription setting.
//! * **policies**: the operation's compiled pipeline (operation → API → product → global,
//!   joined at `<base/>`) runs inbound, backend and outbound against a
//!   [`portcullis_policy::Exchange`]; `forward-request` calls back into [`forward`], which
//!   builds the backend request — URL, headers, streamed body — and waits for the response
//!   head within the timeout. A policy's rejection becomes an error response that on-error
//!   may reshape.
//! * **respond**: the response the pipeline left, with the backend's body streamed through
//!   unless a policy replaced it.
//! * **log** ([`log`]): always last, for every outcome.
//!
//! Every error becomes a [`GatewayError`]; [`error`] is the one place that turns those into
//! status codes and bodies.

pub mod authenticate;
pub mod client_ip;
pub mod context;
pub mod error;
pub mod forward;
pub mod log;
pub mod matching;

pub use context::RequestContext;
pub use error::GatewayError;

use crate::body::GatewayBody;
use crate::calls::CallSink;
use crate::snapshot::SnapshotHandle;
use crate::trace::{self, SharedTrace, TokenError, TraceDraft, TraceKeys, TraceSink, TraceStore};
use crate::{REQUEST_ID_HEADER, STATUS_PATH};
use http::{HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use portcullis_policy::catalogue::cors;
use portcullis_policy::counters::{CounterStore, MemoryCounters};
use portcullis_policy::engine;
use portcullis_policy::exchange::{BackendQuery, Exchange, Matched, ResponseState};
use std::net::SocketAddr;
use std::sync::Arc;

/// The gateway: the current snapshot plus the pooled client that reaches backends.
pub struct Gateway {
    snapshots: Arc<SnapshotHandle>,
    client: crate::backend_pool::BackendClient,
    counters: Arc<dyn CounterStore>,
    caches: portcullis_policy::value_cache::Caches,
    trace_keys: Arc<TraceKeys>,
    traces: Arc<TraceStore>,
    trace_sink: Option<Arc<dyn TraceSink>>,
    calls: Option<Arc<dyn CallSink>>,
}

impl Gateway {
    /// A gateway that counts rate limits and quotas in memory (exact on one node), within
    /// the settings' `counter_memory`.
    pub fn new(snapshots: Arc<SnapshotHandle>) -> Result<Self, rustls::Error> {
        let budget = snapshots.settings().counter_memory;
        Self::with_counters(
            snapshots,
            Arc::new(MemoryCounters::with_memory_budget(budget)),
        )
    }

    pub fn with_counters(
        snapshots: Arc<SnapshotHandle>,
        counters: Arc<dyn CounterStore>,
    ) -> Result<Self, rustls::Error> {
        let mut client =
            crate::backend_pool::BackendClient::with_roots(&snapshots.settings().backend_roots)?;
        client.identity_endpoint = Some(snapshots.settings().identity_endpoint.clone());
        client.entra_authority = Some(snapshots.settings().entra_authority.clone());
        Ok(Self {
            client,
            caches: portcullis_policy::value_cache::Caches {
                internal: Arc::new(
                    portcullis_policy::value_cache::MemoryCache::with_memory_budget(
                        snapshots.settings().cache_memory,
                    ),
                ),
                external: None,
            },
            snapshots,
            counters,
            trace_keys: Arc::new(TraceKeys::random()),
            traces: Arc::new(TraceStore::default()),
            trace_sink: None,
            calls: None,
        })
    }

    /// Gives `cache-*-value` policies an external cache (Redis), shared by every gateway that
    /// uses it; `caching-type="prefer-external"` (the default) then uses it.
    pub fn use_external_cache(
        &mut self,
        cache: Arc<dyn portcullis_policy::value_cache::ValueCache>,
    ) {
        self.caches.external = Some(cache);
    }

    /// Sends a record of every call to `sink` (analytics).
    pub fn record_calls_to(&mut self, sink: Arc<dyn CallSink>) {
        self.calls = Some(sink);
    }

    /// Signs and checks trace tokens with `keys` (the deployment's shared key) instead of
    /// this process' random one.
    pub fn use_trace_keys(&mut self, keys: TraceKeys) {
        self.trace_keys = Arc::new(keys);
    }

    /// Also hands every finished trace to `sink`, for portals on other nodes.
    pub fn share_traces_with(&mut self, sink: Arc<dyn TraceSink>) {
        self.trace_sink = Some(sink);
    }

    /// The key trace tokens are signed with (the portal issues tokens with it).
    pub fn trace_keys(&self) -> &Arc<TraceKeys> {
        &self.trace_keys
    }

    /// Finished traces, by the id responses return in `Apim-Trace-Id`.
    pub fn traces(&self) -> &Arc<TraceStore> {
        &self.traces
    }

    pub fn snapshots(&self) -> &Arc<SnapshotHandle> {
        &self.snapshots
    }

    /// Runs one request through every phase. Never fails and never panics: every outcome is
    /// a response.
    pub async fn handle(
        &self,
        request: Request<Incoming>,
        peer: SocketAddr,
    ) -> Response<GatewayBody> {
        let mut context = RequestContext::new(peer);
        let mut response = match self.run(&mut context, request).await {
            Ok(response) => response,
            Err(error) => {
                if let Some(trace) = &mut context.trace {
                    trace.step("gateway", error.to_string());
                }
                error.into_response(&context)
            }
        };
        if let Ok(value) = HeaderValue::from_str(&context.request_id) {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        if context.trace_expired {
            response
                .headers_mut()
                .insert(trace::DEBUG_EXPIRED, HeaderValue::from_static("true"));
        }
        if let Some(draft) = context.trace.take() {
            let view = trace::MessageView {
                line: format!("HTTP/1.1 {}", response.status()),
                headers: trace::masked_headers(response.headers(), ""),
            };
            if let Ok(value) = HeaderValue::from_str(&draft.id) {
                response.headers_mut().insert(trace::TRACE_ID, value);
            }
            let record = draft.finish(view, context.started.elapsed());
            if let Some(sink) = &self.trace_sink {
                sink.share(SharedTrace::from(&record));
            }
            self.traces.insert(record);
        }
        log::record(&mut context, &response, self.calls.as_deref());
        response
    }

    async fn run(
        &self,
        context: &mut RequestContext,
        request: Request<Incoming>,
    ) -> Result<Response<GatewayBody>, GatewayError> {
        let (parts, body) = request.into_parts();
        let snapshot = self.snapshots.current();
        if parts.uri.path() == STATUS_PATH {
            return Ok(status_response(snapshot.revision));
        }
        context.https = parts.extensions.get::<context::CallerTls>().is_some();
        if self.calls.is_some() {
            context.method = parts.method.clone();
            context.uri = parts.uri.clone();
        }
        context.client_ip = client_ip::client_ip(
            context.peer.ip(),
            &parts.headers,
            &self.snapshots.settings().trusted_proxies,
        );

        // match the API; a CORS preflight is answered before keys and operations.
        let api_route = matching::route_api(&snapshot, &parts)?;
        context.service = Some(api_route.service.name_text.clone());
        context.api = Some(api_route.api.name_text.clone());
        self.start_trace(context, &api_route, &parts);
        if let Some(cors) = &api_route.api.preflight
            && cors::is_preflight(&parts.method, &parts.headers)
            && let Some(answer) = cors.answer_preflight(&parts.headers)
        {
            return Ok(error::into_response(answer, None));
        }
        // match the operation
        let routed = matching::route_operation(api_route, &parts)?;
        context.routed(&routed);

        // authenticate
        let caller = authenticate::authenticate(&routed, &parts)?;
        context.authenticated(&caller, &routed);
        if let Some(trace) = &mut context.trace {
            trace.step(
                "match",
                format!(
                    "API {}, operation {} ({} {})",
                    routed.api.name,
                    routed.operation.name,
                    routed.operation.method_text,
                    routed.operation.template_text
                ),
            );
            let who = match (
                caller.key.map(|key| &key.grant.info.name),
                caller.product.and_then(|p| routed.service.products.get(p)),
            ) {
                (Some(subscription), Some(product)) => {
                    format!("subscription {subscription} (product {})", product.name)
                }
                (Some(subscription), None) => format!("subscription {subscription}"),
                (None, Some(product)) => format!("no key: open product {}", product.name),
                (None, None) => "no key needed".to_owned(),
            };
            trace.step("authenticate", who);
        }

        // policies: inbound → backend (forward) → outbound, or on-error
        let pipeline = routed.operation.pipelines.for_product(caller.product);
        let caller_ip = context.client_ip;
        let mut exchange = exchange_for(context, &routed, &caller, parts, caller_ip);
        if context.trace.is_some() {
            exchange.trace = Some(Vec::new());
        }
        let mut upstream = forward::GatewayUpstream::new(
            &self.client,
            self.snapshots.settings(),
            &routed,
            body,
            context.peer.ip(),
            context.https,
        );
        let request_id = context.request_id.clone();
        let error_response = move |rejection: &portcullis_policy::Rejection, _: &Exchange| {
            GatewayError::from(rejection.clone()).response_state(&request_id)
        };
        let rejection = engine::run(
            pipeline,
            &mut exchange,
            self.counters.as_ref(),
            &self.caches,
            &mut upstream,
            &error_response,
        )
        .await;
        context.backend_elapsed = upstream.backend_elapsed;
        context.rejected = rejection.is_some();
        if let Some(trace) = &mut context.trace {
            trace
                .events
                .extend(exchange.trace.take().unwrap_or_default());
            trace.backend_request = upstream.traced_request.take();
            trace.backend_response = upstream.traced_response.take();
        }

        // respond
        if exchange.byte_counts.is_empty() {
            return Ok(respond(exchange, upstream.response_body.take()));
        }
        let byte_counts = std::mem::take(&mut exchange.byte_counts);
        let request_bytes = request_body_bytes(&exchange);
        let response = respond(exchange, upstream.response_body.take());
        Ok(self.count_bytes(response, request_bytes, byte_counts))
    }
}

impl Gateway {
    /// Adds the call's bytes — the request body's (see [`request_body_bytes`]) and the
    /// response body's (counted as it goes out) — to the bandwidth quotas it counts against,
    /// once the response is over.
    fn count_bytes(
        &self,
        response: Response<GatewayBody>,
        request_bytes: u64,
        byte_counts: Vec<portcullis_policy::exchange::ByteCount>,
    ) -> Response<GatewayBody> {
        let counters = self.counters.clone();
        response.map(|body| {
            body.counted(move |response_bytes| {
                let total = request_bytes.saturating_add(response_bytes);
                let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                    return;
                };
                runtime.spawn(async move {
                    for count in byte_counts {
                        // The call has happened: its bytes count whatever the limit.
                        let _ = counters
                            .hit_quota(&count.key, u64::MAX, count.period, total)
                            .await;
                    }
                });
            })
        })
    }

    /// Starts a trace when the request carries a valid trace token for its service.
    fn start_trace(
        &self,
        context: &mut RequestContext,
        route: &matching::ApiRoute<'_>,
        parts: &http::request::Parts,
    ) {
        let Some(token) = parts
            .headers
            .get(trace::DEBUG_AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return;
        };
        let service = route.service.name.as_str();
        match self
            .trace_keys
            .verify(token, service, std::time::SystemTime::now())
        {
            Ok(()) => {
                let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let request = trace::MessageView {
                    line: format!(
                        "{} {} {:?}",
                        parts.method,
                        trace::masked_target(target, &route.api.key_query),
                        parts.version
                    ),
                    headers: trace::masked_headers(&parts.headers, route.api.key_header.as_str()),
                };
                let mut draft = TraceDraft::new(service, request);
                draft.secrets = route.service.secrets.clone();
                context.trace = Some(draft);
            }
            Err(TokenError::Expired) => context.trace_expired = true,
            Err(TokenError::Invalid) => {}
        }
    }
}

/// The request body's size for bandwidth quotas: the body the gateway holds (a policy's or
/// the caller's, read for scripts), else the caller's `Content-Length`.
fn request_body_bytes(exchange: &Exchange) -> u64 {
    if let Some(body) = exchange
        .request_body
        .as_ref()
        .or(exchange.caller_body.as_ref())
    {
        return body.len() as u64;
    }
    exchange
        .request
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
}

/// The policy exchange for a matched, authenticated request.
fn exchange_for(
    context: &RequestContext,
    routed: &matching::Routed<'_>,
    caller: &authenticate::Caller<'_>,
    parts: http::request::Parts,
    caller_ip: std::net::IpAddr,
) -> Exchange {
    let host: Arc<str> = Arc::from(matching::request_host(&parts).unwrap_or("localhost"));
    let rest = routed.rest(&parts);
    let matched_parameters = crate::operation_table::matched_parameters(
        &routed.operation.template,
        rest,
        parts.uri.query(),
    );
    let backend_query = forward::initial_backend_query(parts.uri.query(), routed.api);
    let mut exchange = Exchange::new(parts, caller_ip, host);
    exchange.https = context.https;
    exchange.request_id = Arc::from(context.request_id.as_str());
    exchange.matched_parameters = matched_parameters;
    exchange.backend_query = BackendQuery::Original(backend_query);
    exchange.matched = Matched {
        service: routed.service.name_text.clone(),
        api: routed.api.name_text.clone(),
        api_path: routed.api.suffix_text.clone(),
        api_service_url: routed.api.service_url_text.clone(),
        operation: routed.operation.name_text.clone(),
        operation_method: routed.operation.method_text.clone(),
        operation_template: routed.operation.template_text.clone(),
        product: caller
            .product
            .and_then(|p| routed.service.products.get(p))
            .map(|p| p.name_text.clone()),
        subscription: caller.key.map(|key| key.caller()),
        examples: routed.operation.examples.clone(),
    };
    exchange
}

/// The response the pipeline left: the backend's body streams through unless a policy set
/// one; headers policies added for every response (CORS, remaining calls) go on last.
fn respond(exchange: Exchange, backend_body: Option<Incoming>) -> Response<GatewayBody> {
    let state = exchange.response.unwrap_or_else(|| {
        let mut empty = ResponseState::new(StatusCode::OK);
        empty.body = Some(Default::default());
        empty
    });
    let mut response = error::into_response(state, backend_body);
    if let Some(extra) = exchange.response_headers {
        add_policy_headers(response.headers_mut(), extra);
    }
    response
}

/// Puts the headers policies added for every response onto the answer: each replaces the
/// backend's header of that name (all its values kept), except `Vary`, whose field names are
/// merged into the backend's — a cache must still vary on what the backend said it varies on.
fn add_policy_headers(headers: &mut http::HeaderMap, extra: http::HeaderMap) {
    let mut current: Option<http::HeaderName> = None;
    for (name, value) in extra {
        if let Some(name) = name {
            if name != http::header::VARY {
                headers.remove(&name);
            }
            current = Some(name);
        }
        let Some(name) = &current else { continue };
        if name == http::header::VARY {
            merge_vary(headers, &value);
        } else {
            headers.append(name.clone(), value);
        }
    }
}

/// Adds the field names of `value` that `Vary` does not list yet (`*` already covers all).
fn merge_vary(headers: &mut http::HeaderMap, value: &HeaderValue) {
    let listed: Vec<String> = headers
        .get_all(http::header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|token| token.trim().to_ascii_lowercase())
        .filter(|token| !token.is_empty())
        .collect();
    if listed.iter().any(|token| token == "*") {
        return;
    }
    let Ok(text) = value.to_str() else { return };
    let missing: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|token| !token.is_empty() && !listed.contains(&token.to_ascii_lowercase()))
        .collect();
    if missing.is_empty() {
        return;
    }
    if let Ok(joined) = HeaderValue::from_str(&missing.join(", ")) {
        headers.append(http::header::VARY, joined);
    }
}

fn status_response(revision: i64) -> Response<GatewayBody> {
    let body = serde_json::json!({ "status": "ok", "revision": revision }).to_string();
    let mut response = Response::new(GatewayBody::full(body));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::add_policy_headers;
    use http::HeaderMap;
    use http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, VARY};

    fn values(headers: &HeaderMap, name: http::HeaderName) -> Vec<&str> {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    #[test]
    fn vary_is_merged_and_other_policy_headers_replace_the_backends() {
        let mut backend = HeaderMap::new();
        backend.insert(VARY, "Accept-Encoding".parse().unwrap());
        backend.insert(ACCESS_CONTROL_ALLOW_ORIGIN, "*".parse().unwrap());
        let mut policy = HeaderMap::new();
        policy.insert(
            ACCESS_CONTROL_ALLOW_ORIGIN,
            "https://app.example".parse().unwrap(),
        );
        policy.append(VARY, "Origin".parse().unwrap());
        policy.append(VARY, "accept-encoding".parse().unwrap());
        add_policy_headers(&mut backend, policy);
        assert_eq!(values(&backend, VARY), ["Accept-Encoding", "Origin"]);
        assert_eq!(
            values(&backend, ACCESS_CONTROL_ALLOW_ORIGIN),
            ["https://app.example"]
        );
    }

    #[test]
    fn every_value_of_a_policy_header_is_kept_and_vary_star_stays_alone() {
        let mut backend = HeaderMap::new();
        backend.insert(VARY, "*".parse().unwrap());
        let mut policy = HeaderMap::new();
        policy.append("x-remaining", "1".parse().unwrap());
        policy.append("x-remaining", "2".parse().unwrap());
        policy.append(VARY, "Origin".parse().unwrap());
        add_policy_headers(&mut backend, policy);
        assert_eq!(values(&backend, "x-remaining".parse().unwrap()), ["1", "2"]);
        assert_eq!(values(&backend, VARY), ["*"]);
    }
}
