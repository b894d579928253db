//! The console's call: made from the server to the gateway's own listener with the service's
//! host name, so it runs through the real pipeline — key check, policies, backend — like any
//! other call. A traced call carries a five-minute trace token (signed with the key every
//! node shares), and the trace is read back from this node's gateway or, if another node's
//! gateway served the call, from the shared database.

use super::{ConsoleRequest, ConsoleResponse, HeaderPair, MessageDto, TraceLine, TraceView};
use crate::server::PortalState;
use leptos::prelude::ServerFnError;
use portcullis_domain::ServiceName;
use portcullis_gateway::trace::{self, SharedMessage, SharedTrace};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

/// Response bodies are shown up to this size.
const MAX_SHOWN_BODY: usize = 1024 * 1024;
/// How long a console call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the console waits for a trace another node's gateway recorded.
const SHARED_TRACE_WAIT: Duration = Duration::from_secs(2);
/// How long the trace token of one console call lives.
const TRACE_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

fn fail(message: impl Into<String>) -> ServerFnError {
    ServerFnError::new(message.into())
}

/// Where the portal reaches its own gateway: its address, loopback when it listens on all.
fn gateway_target(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        let loopback = if addr.is_ipv4() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
        };
        SocketAddr::new(loopback, addr.port())
    } else {
        addr
    }
}

fn message(view: &SharedMessage) -> MessageDto {
    MessageDto {
        line: view.line.clone(),
        headers: view
            .headers
            .iter()
            .map(|(name, value)| HeaderPair {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
    }
}

fn trace_view(trace: &SharedTrace) -> TraceView {
    TraceView {
        id: trace.id.clone(),
        request: message(&trace.request),
        lines: trace
            .lines
            .iter()
            .map(|line| TraceLine {
                section: line.section.clone(),
                scope: line.scope.clone(),
                policy: line.policy.clone(),
                elapsed_ms: line.elapsed_ms,
                message: line.message.clone(),
            })
            .collect(),
        backend_request: trace.backend_request.as_ref().map(message),
        backend_response: trace.backend_response.as_ref().map(message),
        response: message(&trace.response),
        elapsed_ms: trace.elapsed_ms,
    }
}

/// The trace of a console call: from this node's gateway, or — when another node's gateway
/// served the call — from the shared database, where it lands a moment after the response.
async fn find_trace(state: &PortalState, service: &ServiceName, id: &str) -> Option<TraceView> {
    if let Some(record) = state.gateway.traces().get(id) {
        return Some(trace_view(&SharedTrace::from(&*record)));
    }
    let deadline = Instant::now() + SHARED_TRACE_WAIT;
    loop {
        match state.control.store().trace(service.as_str(), id).await {
            Ok(Some(json)) => {
                return serde_json::from_str::<SharedTrace>(&json)
                    .ok()
                    .map(|trace| trace_view(&trace));
            }
            Ok(None) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(None) => return None,
            Err(error) => {
                tracing::warn!(%error, "a shared trace could not be read");
                return None;
            }
        }
    }
}

/// JSON bodies are shown indented; anything else as it came.
fn shown_body(bytes: &[u8], content_type: &str) -> String {
    if content_type.contains("json")
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Ok(pretty) = serde_json::to_string_pretty(&value)
    {
        return pretty;
    }
    String::from_utf8_lossy(bytes).into_owned()
}

pub async fn send(
    state: &PortalState,
    service: &ServiceName,
    request: ConsoleRequest,
) -> Result<ConsoleResponse, ServerFnError> {
    let url = url::Url::parse(request.url.trim())
        .map_err(|_| fail(format!("'{}' is not a URL.", request.url.trim())))?;
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => return Err(fail("The request URL needs a host.")),
    };
    let path_and_query = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let method = reqwest::Method::from_bytes(request.method.trim().as_bytes())
        .map_err(|_| fail(format!("'{}' is not an HTTP method.", request.method)))?;
    let target = format!(
        "http://{}{path_and_query}",
        gateway_target(state.gateway_addr)
    );

    let mut headers = reqwest::header::HeaderMap::new();
    for pair in request.headers.iter().filter(|p| !p.name.trim().is_empty()) {
        let name =
            reqwest::header::HeaderName::from_bytes(pair.name.trim().as_bytes()).map_err(|_| {
                fail(format!(
                    "'{}' is not a valid header name.",
                    pair.name.trim()
                ))
            })?;
        let value = reqwest::header::HeaderValue::from_str(pair.value.trim())
            .map_err(|_| fail(format!("The value of {name} is not a valid header value.")))?;
        headers.append(name, value);
    }
    let host_value = reqwest::header::HeaderValue::from_str(&host)
        .map_err(|_| fail("The request URL's host is not valid."))?;
    headers.insert(reqwest::header::HOST, host_value);
    if request.trace {
        let token = state.gateway.trace_keys().issue(
            service.as_str(),
            TRACE_TOKEN_LIFETIME,
            SystemTime::now(),
        );
        if let Ok(value) = reqwest::header::HeaderValue::from_str(&token) {
            headers.insert(trace::DEBUG_AUTHORIZATION, value);
        }
    }

    let mut call = state
        .http
        .request(method, &target)
        .headers(headers)
        .timeout(CALL_TIMEOUT);
    if !request.body.is_empty() {
        call = call.body(request.body.clone());
    }
    let started = Instant::now();
    let mut response = call
        .send()
        .await
        .map_err(|e| fail(format!("The gateway could not be reached: {e}")))?;
    let status = response.status();
    let response_headers: Vec<HeaderPair> = response
        .headers()
        .iter()
        .map(|(name, value)| HeaderPair {
            name: name.as_str().to_owned(),
            value: String::from_utf8_lossy(value.as_bytes()).into_owned(),
        })
        .collect();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let trace_id = response
        .headers()
        .get(trace::TRACE_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    let mut size = 0;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| fail(format!("The response broke off: {e}")))?
    {
        size += chunk.len();
        let room = MAX_SHOWN_BODY.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let trace = match trace_id {
        Some(id) => find_trace(state, service, &id).await,
        None => None,
    };
    Ok(ConsoleResponse {
        status_line: format!("HTTP/1.1 {status}"),
        status: status.as_u16(),
        headers: response_headers,
        body: shown_body(&body, &content_type),
        truncated: size > body.len(),
        size,
        elapsed_ms,
        trace,
    })
}
