//! Phase 4, forward — and the respond phase that passes the answer back.
//!
//! The backend URL is the web service URL + the request path after the API suffix + the
//! query (the web service URL's own query first). Hop-by-hop headers are dropped, the
//! subscription key is stripped unless the API forwards it, `X-Forwarded-For/-Proto/-Host`
//! and the request id are set. Bodies stream in both directions; only the wait for the
//! response head is bounded by the backend timeout.

use crate::REQUEST_ID_HEADER;
use crate::body::GatewayBody;
use crate::pipeline::matching::{Routed, request_host};
use crate::pipeline::{GatewayError, RequestContext};
use crate::settings::GatewaySettings;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::request::Parts;
use http::{Request, Response, Uri};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Pooled HTTP/1.1 connections to backends, plain or TLS.
pub struct BackendClient {
    client: Client<HttpsConnector<HttpConnector>, GatewayBody>,
}

impl BackendClient {
    /// Fails only if the TLS provider cannot be set up, which a misbuilt binary could cause.
    pub fn new() -> Result<Self, rustls::Error> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(256)
            .build(connector);
        Ok(Self { client })
    }
}

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1).
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// Removes hop-by-hop headers, including any that `Connection` names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
    headers.remove("proxy-connection");
}

/// The backend URL for a routed request.
pub fn backend_uri(
    routed: &Routed<'_>,
    parts: &Parts,
    strip_query_key: bool,
) -> Result<Uri, GatewayError> {
    let backend = &routed.api.backend;
    let rest = routed.rest(parts);
    let query = parts.uri.query();
    let mut path_and_query =
        String::with_capacity(backend.base_path.len() + rest.len() + query.map_or(0, str::len) + 2);
    path_and_query.push_str(&backend.base_path);
    path_and_query.push_str(rest);
    if path_and_query.is_empty() {
        path_and_query.push('/');
    }
    let mut first = true;
    let mut push_pair = |target: &mut String, pair: &str| {
        target.push(if first { '?' } else { '&' });
        first = false;
        target.push_str(pair);
    };
    if let Some(base_query) = &backend.base_query {
        push_pair(&mut path_and_query, base_query);
    }
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        if strip_query_key {
            let key_name = routed.api.key_query.as_str();
            for pair in query.split('&') {
                let name = pair.split_once('=').map_or(pair, |(name, _)| name);
                if name != key_name && !pair.is_empty() {
                    push_pair(&mut path_and_query, pair);
                }
            }
        } else {
            push_pair(&mut path_and_query, query);
        }
    }
    Uri::builder()
        .scheme(backend.scheme.clone())
        .authority(backend.authority.clone())
        .path_and_query(path_and_query)
        .build()
        .map_err(|e| GatewayError::Internal(format!("cannot build the backend URL: {e}")))
}

pub async fn forward(
    client: &BackendClient,
    settings: &GatewaySettings,
    context: &mut RequestContext,
    routed: &Routed<'_>,
    parts: Parts,
    body: Incoming,
) -> Result<Response<Incoming>, GatewayError> {
    let strip_key = !routed.api.forward_subscription_key;
    let uri = backend_uri(routed, &parts, strip_key)?;
    let original_host = request_host(&parts).map(str::to_owned);

    let mut headers = parts.headers;
    strip_hop_by_hop(&mut headers);
    headers.remove(header::HOST);
    if strip_key {
        headers.remove(&routed.api.key_header);
    }
    let peer_ip = context.peer.ip().to_string();
    let forwarded_for = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(existing) if !existing.trim().is_empty() => format!("{existing}, {peer_ip}"),
        _ => peer_ip,
    };
    if let Ok(value) = HeaderValue::from_str(&forwarded_for) {
        headers.insert("x-forwarded-for", value);
    }
    headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));
    if let Some(value) = original_host.and_then(|h| HeaderValue::from_str(&h).ok()) {
        headers.insert("x-forwarded-host", value);
    }
    if let Ok(value) = HeaderValue::from_str(&context.request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }

    let mut request = Request::new(GatewayBody::Streaming(body));
    *request.method_mut() = parts.method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;

    let sent_at = std::time::Instant::now();
    let outcome =
        tokio::time::timeout(settings.backend_timeout, client.client.request(request)).await;
    context.backend_elapsed = Some(sent_at.elapsed());
    match outcome {
        Err(_) => Err(GatewayError::BackendTimeout(settings.backend_timeout)),
        Ok(Err(error)) => Err(GatewayError::BackendConnection(error_chain(&error))),
        Ok(Ok(response)) => Ok(response),
    }
}

/// The backend's response, streamed back without hop-by-hop headers.
pub fn respond(response: Response<Incoming>) -> Response<GatewayBody> {
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    Response::from_parts(parts, GatewayBody::Streaming(body))
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
