//! Phase 4, forward — and the respond phase that passes the answer back.
//!
//! The backend URL is the web service URL + the request path after the API suffix + the
//! query (the web service URL's own query first). Hop-by-hop headers are dropped, the
//! subscription key is stripped unless the API forwards it, `X-Forwarded-For/-Proto/-Host`
//! and the request id are set. Bodies stream in both directions; only the wait for the
//! response head is bounded by the backend timeout.

use crate::REQUEST_ID_HEADER;
use crate::backend_pool::{BackendClient, error_chain};
use crate::backends::{SingleBackend, TlsChecks};
use crate::body::{CallerBody, GatewayBody, is_caller_body_timeout};
use crate::circuit_breaker::CallOutcome;
use crate::pipeline::matching::Routed;
use crate::settings::GatewaySettings;
use crate::snapshot::{CompiledApi, CompiledService};
use crate::trace::MessageView;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::Scheme;
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use portcullis_policy::Rejection;
use portcullis_policy::catalogue::forward_request::ForwardOptions;
use portcullis_policy::engine::{OutboundCall, Upstream};
use portcullis_policy::exchange::{
    BackendBase, Exchange, MAX_SENT_BYTES, ResponseState, SentResponse,
};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

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
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
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

/// The query the backend gets before any policy edits it: the caller's, without the
/// subscription key parameter when the API strips keys.
pub fn initial_backend_query(query: Option<&str>, api: &CompiledApi) -> String {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return String::new();
    };
    if api.forward_subscription_key {
        return query.to_owned();
    }
    let key_name = api.key_query.as_str();
    let mut kept = String::with_capacity(query.len());
    for pair in query.split('&') {
        let name = pair.split_once('=').map_or(pair, |(name, _)| name);
        if name != key_name && !pair.is_empty() {
            if !kept.is_empty() {
                kept.push('&');
            }
            kept.push_str(pair);
        }
    }
    kept
}

/// The backend URL as the exchange now describes it: base URL (the API's, or
/// set-backend-service's, or the chosen backend's) + path (after the suffix, or
/// rewrite-uri's) + query (the base URL's, the call's, then a backend's credentials). With a
/// `backend-id`, also the backend the call goes to (a pool's member chosen here); its open
/// circuit breaker is a 503.
pub fn backend_uri(
    exchange: &Exchange,
    service: &CompiledService,
    api: &CompiledApi,
    rest_start: usize,
) -> Result<(Uri, Option<Arc<SingleBackend>>), Rejection> {
    let mut chosen: Option<&Arc<SingleBackend>> = None;
    let (scheme, authority, base_path, base_query) = match &exchange.backend_base {
        Some(BackendBase::Url(base)) => (
            base.scheme().cloned().unwrap_or(Scheme::HTTP),
            base.authority()
                .cloned()
                .ok_or_else(|| Rejection::Expression("the backend URL has no host".into()))?,
            base.path().trim_end_matches('/'),
            base.query().filter(|q| !q.is_empty()),
        ),
        Some(BackendBase::Backend(id)) => {
            let backend = service.backends.get(id).ok_or_else(|| {
                Rejection::Expression(format!(
                    "set-backend-service: the service has no backend '{id}'"
                ))
            })?;
            let single = backend
                .choose()
                .map_err(|unavailable| Rejection::BackendUnavailable {
                    backend: id.to_string(),
                    retry_after: unavailable.retry_after,
                })?;
            chosen = Some(single);
            let base = &single.base;
            (
                base.scheme.clone(),
                base.authority.clone(),
                base.base_path.as_str(),
                base.base_query.as_deref(),
            )
        }
        None => (
            api.backend.scheme.clone(),
            api.backend.authority.clone(),
            api.backend.base_path.as_str(),
            api.backend.base_query.as_deref(),
        ),
    };
    let rest = match &exchange.backend_path {
        Some(path) => path.as_str(),
        None => exchange
            .request
            .uri
            .path()
            .get(rest_start..)
            .unwrap_or_default(),
    };
    let query = exchange.backend_query.encoded();
    let credentials = chosen.as_ref().map_or("", |single| single.query.as_str());
    let mut path_and_query =
        String::with_capacity(base_path.len() + rest.len() + query.len() + credentials.len() + 3);
    path_and_query.push_str(base_path);
    path_and_query.push_str(rest);
    if path_and_query.is_empty() {
        path_and_query.push('/');
    }
    let mut separator = '?';
    for part in [base_query.unwrap_or(""), query.as_ref(), credentials] {
        if !part.is_empty() {
            path_and_query.push(separator);
            path_and_query.push_str(part);
            separator = '&';
        }
    }
    let uri = Uri::builder()
        .scheme(scheme)
        .authority(authority)
        .path_and_query(path_and_query)
        .build()
        .map_err(|e| Rejection::Expression(format!("cannot build the backend URL: {e}")))?;
    Ok((uri, chosen.cloned()))
}

/// Sets a backend's credential headers (replacing the caller's of the same names).
fn add_credentials(headers: &mut HeaderMap, backend: &SingleBackend) {
    for (name, values) in &backend.headers {
        headers.remove(name);
        for value in values {
            headers.append(name.clone(), value.clone());
        }
    }
}

/// A `Retry-After` header: seconds, or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds.min(30 * 86_400)));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    at.duration_since(std::time::SystemTime::now()).ok()
}

/// Bodies buffered for `retry` (or `buffer-request-body`) are capped: past this the call
/// gets 413 rather than the gateway holding unbounded memory.
const MAX_BUFFERED_BODY: usize = 16 * 1024 * 1024;

/// How many redirects `follow-redirects="true"` follows.
const MAX_REDIRECTS: usize = 10;

/// The gateway's side of `forward-request` for one request: it owns the caller's body and,
/// once the backend answered, the backend's body.
pub struct GatewayUpstream<'g> {
    client: &'g BackendClient,
    service: &'g CompiledService,
    default_timeout: Duration,
    api: &'g CompiledApi,
    rest_start: usize,
    /// The socket peer (the caller, or the last proxy): the hop `X-Forwarded-For` gains.
    peer: IpAddr,
    /// The caller came over TLS: `X-Forwarded-Proto: https`.
    https: bool,
    request_body: Option<CallerBody>,
    buffered_body: Option<Bytes>,
    /// The caller's body went to the backend as a stream (so it cannot be sent again).
    streamed: bool,
    /// The backend's response body, streamed back to the caller unless a policy replaces it.
    pub response_body: Option<Incoming>,
    /// How long the backend took to answer (the last attempt).
    pub backend_elapsed: Option<Duration>,
    /// For a traced request: the last request sent to the backend and its answer.
    pub traced_request: Option<MessageView>,
    pub traced_response: Option<MessageView>,
}

impl<'g> GatewayUpstream<'g> {
    pub fn new(
        client: &'g BackendClient,
        settings: &GatewaySettings,
        routed: &Routed<'g>,
        body: Incoming,
        peer: IpAddr,
        https: bool,
    ) -> Self {
        Self {
            client,
            service: routed.service,
            default_timeout: settings.backend_timeout,
            api: routed.api,
            rest_start: routed.rest_start(),
            peer,
            https,
            request_body: Some(CallerBody::new(body, settings.timeouts.body_read)),
            buffered_body: None,
            streamed: false,
            response_body: None,
            backend_elapsed: None,
            traced_request: None,
            traced_response: None,
        }
    }

    /// The request headers as the backend gets them.
    fn backend_headers(&self, exchange: &Exchange) -> HeaderMap {
        let mut headers = exchange.request.headers.clone();
        strip_hop_by_hop(&mut headers);
        headers.remove(header::HOST);
        headers.remove(crate::trace::DEBUG_AUTHORIZATION);
        if !self.api.forward_subscription_key {
            headers.remove(&self.api.key_header);
        }
        // The hop this gateway saw (nginx's `$proxy_add_x_forwarded_for`): the socket peer,
        // not the caller resolved through trusted proxies, whose address is already listed.
        let peer_ip = self.peer.to_string();
        let forwarded_for = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            Some(existing) if !existing.trim().is_empty() => format!("{existing}, {peer_ip}"),
            _ => peer_ip,
        };
        if let Ok(value) = HeaderValue::from_str(&forwarded_for) {
            headers.insert("x-forwarded-for", value);
        }
        let proto = if self.https { "https" } else { "http" };
        headers.insert("x-forwarded-proto", HeaderValue::from_static(proto));
        if let Ok(value) = HeaderValue::from_str(&exchange.host) {
            headers.insert("x-forwarded-host", value);
        }
        if let Ok(value) = HeaderValue::from_str(&exchange.request_id) {
            headers.insert(REQUEST_ID_HEADER, value);
        }
        headers
    }

    /// The body for this attempt: a policy's, the buffered one, or the caller's stream.
    async fn body(&mut self, exchange: &Exchange, buffer: bool) -> Result<GatewayBody, Rejection> {
        if let Some(body) = &exchange.request_body {
            return Ok(GatewayBody::full(body.clone()));
        }
        if let Some(body) = &self.buffered_body {
            return Ok(GatewayBody::full(body.clone()));
        }
        let Some(stream) = self.request_body.take() else {
            // Streamed to an earlier attempt already and not buffered: nothing left to send.
            return Ok(GatewayBody::Empty);
        };
        if !buffer {
            self.streamed = true;
            return Ok(GatewayBody::Caller(stream));
        }
        let collected = Limited::new(stream, MAX_BUFFERED_BODY)
            .collect()
            .await
            .map_err(|error| caller_body_failure(&*error))?
            .to_bytes();
        self.buffered_body = Some(collected.clone());
        Ok(GatewayBody::full(collected))
    }

    /// Whether the caller's body (still unread) declares a length of at most `limit`.
    fn caller_body_fits(&self, limit: usize) -> bool {
        use http_body::Body;
        self.request_body.as_ref().is_none_or(|body| {
            body.size_hint()
                .upper()
                .is_some_and(|upper| upper <= limit as u64)
        })
    }

    /// Whether the body of the last attempt can be sent once more: a policy's, a buffered
    /// copy, or none at all — not a caller stream already sent.
    fn can_send_body_again(&self, exchange: &Exchange) -> bool {
        exchange.request_body.is_some()
            || self.buffered_body.is_some()
            || self.request_body.is_some()
            || !self.streamed
    }

    /// What sends this request's `send-request`s: shared by `<wait>` branches.
    fn sender(&self) -> Sender<'g> {
        Sender {
            client: self.client,
            service: self.service,
            api: self.api,
            rest_start: self.rest_start,
        }
    }

    async fn send(
        &mut self,
        exchange: &mut Exchange,
        options: &ForwardOptions,
    ) -> Result<(), Rejection> {
        let timeout = options.timeout.unwrap_or(self.default_timeout);
        let (mut uri, backend) = backend_uri(exchange, self.service, self.api, self.rest_start)?;
        let mut method = exchange.request.method.clone();
        let mut headers = self.backend_headers(exchange);
        if let Some(backend) = &backend {
            add_credentials(&mut headers, backend);
        }
        // A body followed through a 307/308 is sent again: keep a copy when it is small
        // enough to hold (its declared length says so); a larger one streams once, and such
        // a redirect goes back to the caller instead.
        let replayable = options.follow_redirects && self.caller_body_fits(MAX_BUFFERED_BODY);
        let mut body = self
            .body(exchange, options.buffer_request_body || replayable)
            .await?;
        let certificate = match (&exchange.client_certificate, &backend) {
            (Some(named), _) => Some(crate::client_certificates::resolve(self.service, named)?),
            (None, Some(backend)) => backend.certificate.clone(),
            (None, None) => None,
        };
        let checks = backend.as_ref().map_or(TlsChecks::Full, |b| b.tls);
        let breaker = backend.as_ref().and_then(|b| b.breaker.as_ref());
        let sent_at = Instant::now();
        let mut redirects = 0;
        let response = loop {
            let mut request_headers = headers.clone();
            frame_length(&mut request_headers, &body);
            let mut request = Request::new(body);
            *request.method_mut() = method.clone();
            *request.uri_mut() = uri.clone();
            *request.headers_mut() = request_headers;
            let outcome = tokio::time::timeout(
                timeout,
                self.client
                    .send_with(request, certificate.as_deref(), checks),
            )
            .await;
            let response = match outcome {
                Err(_) => {
                    breaker.inspect(|b| b.record(CallOutcome::NoAnswer));
                    return Err(Rejection::BackendTimeout(timeout));
                }
                Ok(Err(error)) if is_caller_body_timeout(&error) => {
                    return Err(caller_body_failure(&error));
                }
                Ok(Err(error)) => {
                    breaker.inspect(|b| b.record(CallOutcome::NoAnswer));
                    return Err(Rejection::BackendConnection(error_chain(&error)));
                }
                Ok(Ok(response)) => response,
            };
            if let Some(breaker) = breaker {
                breaker.record(CallOutcome::Answered {
                    status: response.status().as_u16(),
                    retry_after: retry_after(response.headers()),
                });
            }
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| resolve(&uri, l));
            match location {
                Some(next)
                    if options.follow_redirects
                        && response.status().is_redirection()
                        && redirects < MAX_REDIRECTS =>
                {
                    let keeps_method = matches!(
                        response.status(),
                        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
                    );
                    if keeps_method && !self.can_send_body_again(exchange) {
                        // The caller's body went out as a stream: the caller must send it
                        // again itself.
                        break response;
                    }
                    if !may_follow(&uri, &next) {
                        // A backend's redirect must not turn the gateway into a way into
                        // the host's own network (SSRF): hand it back to the caller.
                        break response;
                    }
                    redirects += 1;
                    if !same_origin(&uri, &next) {
                        // Credentials meant for one host are not handed to another (as curl
                        // and browsers do on a cross-origin redirect).
                        for name in [
                            header::AUTHORIZATION,
                            header::COOKIE,
                            header::PROXY_AUTHORIZATION,
                        ] {
                            headers.remove(name);
                        }
                        headers.remove(&self.api.key_header);
                    }
                    uri = next;
                    if keeps_method {
                        body = self.body(exchange, true).await?;
                    } else {
                        if method != Method::HEAD {
                            method = Method::GET;
                        }
                        body = GatewayBody::Empty;
                    }
                }
                _ => break response,
            }
        };
        self.backend_elapsed = Some(sent_at.elapsed());
        let (mut parts, backend_body) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        // The gateway's own trace headers are its to set: a backend cannot forge them.
        parts.headers.remove(crate::trace::TRACE_ID);
        parts.headers.remove(crate::trace::DEBUG_EXPIRED);
        if exchange.is_traced() {
            let key_header = self.api.key_header.as_str();
            let target = uri.path_and_query().map_or("/", |p| p.as_str());
            let line = format!(
                "{method} {}://{}{}",
                uri.scheme_str().unwrap_or("http"),
                uri.authority().map_or("", |a| a.as_str()),
                crate::trace::masked_target(target, &self.api.key_query)
            );
            exchange.note(|| {
                format!(
                    "{line} → {} in {} ms",
                    parts.status,
                    sent_at.elapsed().as_millis()
                )
            });
            self.traced_request = Some(MessageView {
                line,
                headers: crate::trace::masked_headers(&headers, key_header),
            });
            self.traced_response = Some(MessageView {
                line: format!("HTTP/1.1 {}", parts.status),
                headers: crate::trace::masked_headers(&parts.headers, ""),
            });
        }
        exchange.response = Some(ResponseState {
            status: parts.status,
            headers: parts.headers,
            body: None,
        });
        self.response_body = Some(backend_body);
        Ok(())
    }
}

/// Sends the requests policies make of their own (`send-request`, `send-one-way-request`)
/// for one call; cheap to copy, so each `<wait>` branch has one.
#[derive(Clone, Copy)]
struct Sender<'g> {
    client: &'g BackendClient,
    service: &'g CompiledService,
    api: &'g CompiledApi,
    rest_start: usize,
}

impl Sender<'_> {
    /// The request `send-request` describes, ready for the client: its URL (or the
    /// backend's), its headers without hop-by-hop ones, its body framed by its length.
    fn outbound_request(
        &self,
        call: OutboundCall,
        exchange: &Exchange,
    ) -> Result<Request<GatewayBody>, Rejection> {
        let (uri, backend) = match call.url {
            Some(url) => (url, None),
            None => backend_uri(exchange, self.service, self.api, self.rest_start)?,
        };
        let mut headers = call.headers;
        if let Some(backend) = &backend {
            add_credentials(&mut headers, backend);
        }
        strip_hop_by_hop(&mut headers);
        headers.remove(header::HOST);
        let body = if call.body.is_empty() {
            GatewayBody::Empty
        } else {
            GatewayBody::full(call.body)
        };
        frame_length(&mut headers, &body);
        let mut request = Request::new(body);
        *request.method_mut() = call.method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        Ok(request)
    }

    /// Sends and reads the whole answer (bounded), all within the call's timeout.
    async fn send(
        self,
        call: OutboundCall,
        exchange: &Exchange,
    ) -> Result<SentResponse, Rejection> {
        let timeout = call.timeout;
        let certificate = match &call.client_certificate {
            Some(named) => Some(crate::client_certificates::resolve(self.service, named)?),
            None => None,
        };
        let request = self.outbound_request(call, exchange)?;
        let answered = tokio::time::timeout(timeout, async {
            let response = self
                .client
                .send_as(request, certificate.as_deref())
                .await
                .map_err(|error| Rejection::BackendConnection(error_chain(&error)))?;
            let (mut parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_SENT_BYTES)
                .collect()
                .await
                .map_err(|error| {
                    Rejection::BackendConnection(format!(
                        "cannot read the answer to send-request (at most {} MiB): {error}",
                        MAX_SENT_BYTES >> 20
                    ))
                })?
                .to_bytes();
            strip_hop_by_hop(&mut parts.headers);
            Ok(SentResponse {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        })
        .await;
        answered.unwrap_or(Err(Rejection::BackendTimeout(timeout)))
    }

    fn send_one_way(self, call: OutboundCall, exchange: &Exchange) {
        let timeout = call.timeout;
        let certificate = match &call.client_certificate {
            Some(named) => match crate::client_certificates::resolve(self.service, named) {
                Ok(certificate) => Some(certificate),
                Err(rejection) => {
                    tracing::info!(%rejection, "send-one-way-request not sent");
                    return;
                }
            },
            None => None,
        };
        match self.outbound_request(call, exchange) {
            Ok(request) => {
                if !self.client.send_detached(request, certificate, timeout) {
                    tracing::warn!(
                        limit = crate::backend_pool::MAX_DETACHED,
                        "send-one-way-request dropped: too many are in flight"
                    );
                }
            }
            Err(rejection) => tracing::info!(%rejection, "send-one-way-request not sent"),
        }
    }
}

/// A `<wait>` branch's upstream: it sends `send-request`s, never the backend call.
struct BranchUpstream<'g>(Sender<'g>);

impl Upstream for BranchUpstream<'_> {
    fn identity_endpoint(&self) -> Option<http::Uri> {
        self.0.client.identity_endpoint.clone()
    }

    fn entra_authority(&self) -> Option<http::Uri> {
        self.0.client.entra_authority.clone()
    }

    fn forward<'a>(
        &'a mut self,
        _: &'a mut Exchange,
        _: &'a ForwardOptions,
    ) -> Pin<Box<dyn Future<Output = Result<(), Rejection>> + Send + 'a>> {
        Box::pin(std::future::ready(Err(Rejection::BackendConnection(
            "forward-request cannot run inside <wait>".into(),
        ))))
    }

    fn send_request<'a>(
        &'a mut self,
        call: OutboundCall,
        exchange: &'a mut Exchange,
    ) -> Pin<Box<dyn Future<Output = Result<SentResponse, Rejection>> + Send + 'a>> {
        let sender = self.0;
        Box::pin(async move { sender.send(call, exchange).await })
    }

    fn send_one_way(&mut self, call: OutboundCall, exchange: &Exchange) {
        self.0.send_one_way(call, exchange);
    }
}

/// Why reading the caller's body for buffering failed: too large (413), the caller stalled
/// (408), or its connection broke (400).
fn caller_body_failure(error: &(dyn std::error::Error + 'static)) -> Rejection {
    if error.is::<http_body_util::LengthLimitError>() {
        return Rejection::Refused {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!(
                "The request body is larger than the {} MiB the gateway may buffer.",
                MAX_BUFFERED_BODY / (1024 * 1024)
            ),
        };
    }
    if is_caller_body_timeout(error) {
        return Rejection::Refused {
            status: StatusCode::REQUEST_TIMEOUT,
            message: format!("The request body did not arrive in time: {error}."),
        };
    }
    Rejection::Refused {
        status: StatusCode::BAD_REQUEST,
        message: format!("The request body could not be read: {error}."),
    }
}

/// Makes `Content-Length` describe the body actually sent: a body the gateway made (a
/// policy's, a buffered copy, none after a redirect) has its own length; the caller's stream
/// keeps the caller's framing.
fn frame_length(headers: &mut HeaderMap, body: &GatewayBody) {
    use http_body::Body;
    if matches!(body, GatewayBody::Streaming(_) | GatewayBody::Caller(_)) {
        return;
    }
    headers.remove(header::TRANSFER_ENCODING);
    match body.size_hint().exact() {
        Some(0) | None => {
            headers.remove(header::CONTENT_LENGTH);
        }
        Some(length) => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
    }
}

/// Where a host literally points, for the redirect check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// This machine: `localhost`, 127.0.0.0/8, ::1.
    Loopback,
    /// Link-local and unspecified addresses: 169.254.0.0/16 (where clouds serve instance
    /// metadata and credentials), fe80::/10, 0.0.0.0, ::, and AWS's fd00:ec2::254.
    LinkLocal,
    /// Anything else, host names included (their resolution is not checked).
    Elsewhere,
}

fn reach(uri: &Uri) -> Reach {
    let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return Reach::Loopback;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) if ip.is_loopback() => Reach::Loopback,
        Ok(std::net::IpAddr::V4(v4)) if v4.is_link_local() || v4.is_unspecified() => {
            Reach::LinkLocal
        }
        Ok(std::net::IpAddr::V6(v6))
            if v6.is_unspecified()
                || v6.is_unicast_link_local()
                || v6 == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) =>
        {
            Reach::LinkLocal
        }
        _ => Reach::Elsewhere,
    }
}

/// Whether a redirect from `from` to `to` is followed: never into link-local or
/// unspecified addresses, and into this machine only from a backend on this machine.
fn may_follow(from: &Uri, to: &Uri) -> bool {
    match reach(to) {
        Reach::Elsewhere => true,
        Reach::LinkLocal => false,
        Reach::Loopback => reach(from) == Reach::Loopback,
    }
}

/// Same scheme, host and port.
fn same_origin(a: &Uri, b: &Uri) -> bool {
    let port = |uri: &Uri| {
        uri.port_u16().or_else(|| match uri.scheme_str() {
            Some("https") => Some(443),
            _ => Some(80),
        })
    };
    a.scheme() == b.scheme()
        && a.host().map(str::to_ascii_lowercase) == b.host().map(str::to_ascii_lowercase)
        && port(a) == port(b)
}

/// A `Location` resolved against the URL that answered.
fn resolve(base: &Uri, location: &str) -> Option<Uri> {
    let base = url::Url::parse(&base.to_string()).ok()?;
    let next = base.join(location).ok()?;
    matches!(next.scheme(), "http" | "https").then_some(())?;
    next.as_str().parse().ok()
}

impl Upstream for GatewayUpstream<'_> {
    fn identity_endpoint(&self) -> Option<http::Uri> {
        self.client.identity_endpoint.clone()
    }

    fn entra_authority(&self) -> Option<http::Uri> {
        self.client.entra_authority.clone()
    }

    fn forward<'a>(
        &'a mut self,
        exchange: &'a mut Exchange,
        options: &'a ForwardOptions,
    ) -> Pin<Box<dyn Future<Output = Result<(), Rejection>> + Send + 'a>> {
        Box::pin(self.send(exchange, options))
    }

    fn read_request_body<'a>(
        &'a mut self,
        exchange: &'a mut Exchange,
    ) -> Pin<Box<dyn Future<Output = Result<(), Rejection>> + Send + 'a>> {
        Box::pin(async move {
            if self.buffered_body.is_none()
                && let Some(stream) = self.request_body.take()
            {
                let collected = Limited::new(stream, MAX_BUFFERED_BODY)
                    .collect()
                    .await
                    .map_err(|error| caller_body_failure(&*error))?
                    .to_bytes();
                self.buffered_body = Some(collected);
            }
            exchange.caller_body = self.buffered_body.clone();
            Ok(())
        })
    }

    fn send_request<'a>(
        &'a mut self,
        call: OutboundCall,
        exchange: &'a mut Exchange,
    ) -> Pin<Box<dyn Future<Output = Result<SentResponse, Rejection>> + Send + 'a>> {
        let sender = self.sender();
        Box::pin(async move { sender.send(call, exchange).await })
    }

    fn send_one_way(&mut self, call: OutboundCall, exchange: &Exchange) {
        self.sender().send_one_way(call, exchange);
    }

    fn branch(&self) -> Box<dyn Upstream + '_> {
        Box::new(BranchUpstream(self.sender()))
    }

    fn read_response_body<'a>(
        &'a mut self,
        exchange: &'a mut Exchange,
    ) -> Pin<Box<dyn Future<Output = Result<(), Rejection>> + Send + 'a>> {
        Box::pin(async move {
            let Some(response) = exchange.response.as_mut() else {
                return Ok(());
            };
            if response.body.is_some() {
                return Ok(());
            }
            let Some(stream) = self.response_body.take() else {
                return Ok(());
            };
            let collected = Limited::new(stream, MAX_BUFFERED_BODY)
                .collect()
                .await
                .map_err(|error| {
                    Rejection::BackendConnection(format!(
                        "cannot read the backend's body (at most {} MiB): {error}",
                        MAX_BUFFERED_BODY >> 20
                    ))
                })?
                .to_bytes();
            response.body = Some(collected);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        text.parse().unwrap()
    }

    #[test]
    fn redirects_into_link_local_addresses_are_never_followed() {
        let public = uri("https://api.example.com/a");
        for target in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[fe80::1]/x",
            "http://0.0.0.0:8080/",
            "http://[fd00:ec2::254]/latest/",
        ] {
            assert!(!may_follow(&public, &uri(target)), "{target}");
            assert!(
                !may_follow(&uri("http://127.0.0.1:9/a"), &uri(target)),
                "{target}"
            );
        }
    }

    #[test]
    fn redirects_into_this_machine_are_followed_only_from_this_machine() {
        let public = uri("https://api.example.com/a");
        let local = uri("http://127.0.0.1:7071/a");
        for target in [
            "http://127.0.0.1:6379/",
            "http://localhost:3000/",
            "http://[::1]/",
        ] {
            assert!(!may_follow(&public, &uri(target)), "{target}");
            assert!(may_follow(&local, &uri(target)), "{target}");
        }
        assert!(may_follow(&public, &uri("https://cdn.example.net/b")));
        assert!(may_follow(&local, &uri("https://cdn.example.net/b")));
    }
}
