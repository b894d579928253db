//! The state of one request as policies see and change it.
//!
//! The gateway creates an [`Exchange`] after matching and authentication, hands it to the
//! engine, and builds the backend request and the final response from what is left in it.
//! Bodies are not here: the gateway streams them. A policy that sets a body leaves the new
//! bytes in [`Exchange::request_body`] or [`ResponseState::body`].

use crate::expr::ast::Collection;
use crate::expr::{Env, Field, Value};
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Names of what the request matched, for expressions and counters.
#[derive(Debug, Clone, Default)]
pub struct Matched {
    pub service: Arc<str>,
    pub api: Arc<str>,
    pub api_path: Arc<str>,
    pub api_service_url: Arc<str>,
    pub operation: Arc<str>,
    pub operation_method: Arc<str>,
    pub operation_template: Arc<str>,
    pub product: Option<Arc<str>>,
    pub subscription: Option<CallerSubscription>,
    /// The examples the operation documents (`None`: none), for `mock-response`.
    pub examples: Option<Arc<OperationExamples>>,
}

/// The response examples an operation documents: per status, per content type, the example
/// bodies in order.
#[derive(Debug, Default)]
pub struct OperationExamples {
    pub responses: Vec<(StatusCode, Vec<ExampleBodies>)>,
}

/// The example bodies of one content type, in order.
pub type ExampleBodies = (String, Vec<Bytes>);

impl OperationExamples {
    /// The example for `status` of `content_type` (any, when `None`: the first documented),
    /// number `index`; with the content type it has.
    pub fn find(
        &self,
        status: StatusCode,
        content_type: Option<&str>,
        index: usize,
    ) -> Option<(&str, &Bytes)> {
        let media = |text: &str| {
            text.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        };
        let (_, representations) = self.responses.iter().find(|(s, _)| *s == status)?;
        let (found_type, examples) = match content_type {
            Some(wanted) => representations
                .iter()
                .find(|(t, _)| media(t) == media(wanted))?,
            None => representations.iter().find(|(_, e)| !e.is_empty())?,
        };
        examples.get(index).map(|body| (found_type.as_str(), body))
    }
}

/// A subscription as policies see it. The keys are only readable through expressions; they
/// are never printed (`Debug` masks them). They are kept as 16 bytes each, not as the 32 hex
/// digits callers send: the gateway holds one of these per subscription, 100,000s of them.
#[derive(Clone)]
pub struct SubscriptionInfo {
    pub name: Arc<str>,
    /// The primary and the secondary key.
    pub keys: [[u8; 16]; 2],
}

impl SubscriptionInfo {
    /// A key as callers send it: 32 lowercase hex digits.
    pub fn key_text(&self, slot: KeySlot) -> String {
        hex::encode(self.key(slot))
    }

    /// A key's 16 bytes.
    pub fn key(&self, slot: KeySlot) -> &[u8; 16] {
        let [primary, secondary] = &self.keys;
        match slot {
            KeySlot::Primary => primary,
            KeySlot::Secondary => secondary,
        }
    }
}

impl std::fmt::Debug for SubscriptionInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriptionInfo")
            .field("name", &self.name)
            .field("keys", &"***")
            .finish()
    }
}

/// Which of a subscription's two keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySlot {
    Primary = 0,
    Secondary = 1,
}

/// The caller's subscription and the key the call presented.
#[derive(Debug, Clone)]
pub struct CallerSubscription {
    pub info: Arc<SubscriptionInfo>,
    pub presented: KeySlot,
}

/// The query string the backend will get: the caller's (subscription key removed) until a
/// policy edits it, then a list of pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendQuery {
    Original(String),
    Edited(Vec<(String, String)>),
}

impl BackendQuery {
    /// Switches to the editable form, decoding the original pairs once.
    pub fn pairs_mut(&mut self) -> &mut Vec<(String, String)> {
        if let Self::Original(raw) = self {
            let pairs = raw
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(name), decode(value))
                })
                .collect();
            *self = Self::Edited(pairs);
        }
        match self {
            Self::Edited(pairs) => pairs,
            Self::Original(_) => unreachable!("converted above"),
        }
    }

    /// The query as it goes on the wire, without the `?`.
    pub fn encoded(&self) -> Cow<'_, str> {
        match self {
            Self::Original(raw) => Cow::Borrowed(raw),
            Self::Edited(pairs) => {
                let mut out = String::new();
                for (name, value) in pairs {
                    if !out.is_empty() {
                        out.push('&');
                    }
                    out.extend(percent_encoding::utf8_percent_encode(name, QUERY));
                    out.push('=');
                    out.extend(percent_encoding::utf8_percent_encode(value, QUERY));
                }
                Cow::Owned(out)
            }
        }
    }
}

const QUERY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// A response the pipeline is building or passing back: from the backend, from
/// `return-response`/`mock-response`/CORS, or an error response in `on-error`.
#[derive(Debug, Clone)]
pub struct ResponseState {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// A body set by a policy; `None` keeps the backend's streamed body (or none).
    pub body: Option<Bytes>,
}

impl ResponseState {
    pub fn new(status: StatusCode) -> Self {
        Self {
            status,
            headers: HeaderMap::new(),
            body: None,
        }
    }
}

/// A response that `send-request` received, kept whole for scripts (`IResponse`) and for
/// `return-response response-variable-name`.
#[derive(Debug, Clone)]
pub struct SentResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl SentResponse {
    /// What the response holds, for the per-request budget.
    fn size(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 32)
            .sum();
        self.body.len() + headers
    }
}

/// How many `send-request` responses one request may keep (a `retry` around a
/// `send-request` adds one per attempt).
pub const MAX_SENT_RESPONSES: usize = 64;
/// How many bytes of `send-request` responses one request may keep, bodies and headers.
pub const MAX_SENT_BYTES: usize = 16 * 1024 * 1024;

/// `context.LastError`: the policy that stopped the request, where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastError {
    /// The policy's element name (`rate-limit-by-key`).
    pub source: &'static str,
    /// APIM's reason code (`RateLimitExceeded`).
    pub reason: &'static str,
    pub message: String,
    /// `global`, `product`, `api` or `operation`.
    pub scope: &'static str,
    /// `inbound`, `backend`, `outbound` or `on-error`.
    pub section: &'static str,
}

/// One line of a request trace: which policy ran where, and what it decided.
#[derive(Debug, Clone)]
pub struct TraceEvent {
    pub section: &'static str,
    pub scope: Arc<str>,
    pub policy: &'static str,
    pub elapsed: Duration,
    pub message: String,
}

/// `set-backend-service`'s target: a base URL, or a backend of the service by id (which the
/// gateway resolves: its URL and credentials, or a pool member, past its circuit breaker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendBase {
    Url(http::Uri),
    Backend(Arc<str>),
}

#[derive(Debug)]
pub struct Exchange {
    pub request_id: Arc<str>,
    /// The caller as the gateway sees it (the socket peer or the trusted proxies' client).
    pub ip: IpAddr,
    pub started: Instant,
    /// The wall-clock time the request arrived (`context.Timestamp`).
    pub received_at: std::time::SystemTime,
    pub matched: Matched,
    /// Method, URI (as the caller sent it) and headers: what goes to the backend, changed by
    /// inbound policies.
    pub request: http::request::Parts,
    /// The host the caller addressed.
    pub host: Arc<str>,
    /// The caller came over TLS (`https` in `context.Request.Url`, port 443 by default).
    pub https: bool,
    /// Path and query parameters the operation template captured, percent-decoded.
    pub matched_parameters: Vec<(String, String)>,
    /// Where `set-backend-service` sends the call instead of the API's web service URL.
    pub backend_base: Option<BackendBase>,
    /// A replacement path (after the base URL) from `rewrite-uri`.
    pub backend_path: Option<String>,
    pub backend_query: BackendQuery,
    /// A replacement request body from `set-body`.
    pub request_body: Option<Bytes>,
    /// The caller's body, when the gateway read it for scripts that use it.
    pub caller_body: Option<Bytes>,
    pub response: Option<ResponseState>,
    pub variables: Vec<(Box<str>, Value<'static>)>,
    /// Headers added to whatever response goes back (CORS, remaining-calls counts).
    pub response_headers: Option<HeaderMap>,
    /// `Some` when the request is traced: every policy adds an event.
    pub trace: Option<Vec<TraceEvent>>,
    /// What stopped the request, for on-error's `context.LastError`.
    pub last_error: Option<LastError>,
    /// Responses `send-request` received; variables name them by number.
    pub sent: Vec<SentResponse>,
    /// Bandwidth quotas this call counts against once its bytes are known (the gateway
    /// counts the response as it streams out; see [`ByteCount`]).
    pub byte_counts: Vec<ByteCount>,
    /// Where `cache-lookup` looked for this call's response (and `cache-store` keeps it):
    /// the full key and the cache; `None` when no lookup ran or the call may not be cached.
    pub response_cache: Option<(String, crate::value_cache::CachingType)>,
    /// Counts that wait for the response: a `rate-limit-by-key` or `quota-by-key` whose
    /// `increment-condition` reads `context.Response` counts once the response is known.
    pub deferred_counts: Vec<DeferredCount>,
    /// The certificate the gateway presents to the backend (`authentication-certificate`).
    pub client_certificate: Option<ClientCertificate>,
    /// What the running policy decided, for the trace (set only while tracing).
    pub(crate) note: Option<String>,
}

/// A client certificate for the TLS handshake with the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCertificate {
    /// One of the service's uploaded certificates, by its thumbprint (upper-case hex).
    Stored(Arc<str>),
    /// One of the service's uploaded certificates, by its id (an expression gave it).
    Id(Arc<str>),
    /// A PKCS#12 (PFX) file an expression gave, with its password.
    Inline { pfx: Bytes, password: String },
}

/// A count decided when the response is known (see [`Exchange::deferred_counts`]).
#[derive(Debug, Clone)]
pub struct DeferredCount {
    pub key: String,
    pub counter: DeferredCounter,
    pub amount: u64,
    pub condition: std::sync::Arc<crate::expr::Template>,
}

/// Which kind of counter a [`DeferredCount`] adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeferredCounter {
    /// A rate limit's sliding window of this length.
    Window(std::time::Duration),
    /// A quota's period (`None`: never renews).
    Quota(Option<std::time::Duration>),
}

/// A bandwidth quota's counter that a call's bytes (its request body and its response body)
/// are added to when the response has been sent: the quota policy checks the counter when
/// the call comes in and the gateway adds the bytes when they are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteCount {
    pub key: String,
    pub period: Option<std::time::Duration>,
}

impl Exchange {
    pub fn new(request: http::request::Parts, ip: IpAddr, host: Arc<str>) -> Self {
        Self {
            request_id: Arc::from(""),
            ip,
            started: Instant::now(),
            received_at: std::time::SystemTime::now(),
            matched: Matched::default(),
            backend_query: BackendQuery::Original(request.uri.query().unwrap_or("").to_owned()),
            request,
            host,
            https: false,
            matched_parameters: Vec::new(),
            backend_base: None,
            backend_path: None,
            request_body: None,
            caller_body: None,
            response: None,
            variables: Vec::new(),
            response_headers: None,
            trace: None,
            last_error: None,
            sent: Vec::new(),
            byte_counts: Vec::new(),
            response_cache: None,
            deferred_counts: Vec::new(),
            client_certificate: None,
            note: None,
        }
    }

    /// A copy for one branch of `<wait>`: everything the branch's policies read, the
    /// request rebuilt without its extensions, and a trace of its own when traced.
    pub fn fork(&self) -> Self {
        let mut builder = http::Request::builder()
            .method(self.request.method.clone())
            .uri(self.request.uri.clone())
            .version(self.request.version);
        if let Some(headers) = builder.headers_mut() {
            *headers = self.request.headers.clone();
        }
        let request = match builder.body(()) {
            Ok(request) => request.into_parts().0,
            // Method, URI and version came from a request that was valid already.
            Err(_) => http::Request::new(()).into_parts().0,
        };
        Self {
            request_id: self.request_id.clone(),
            ip: self.ip,
            started: self.started,
            received_at: self.received_at,
            matched: self.matched.clone(),
            request,
            host: self.host.clone(),
            https: self.https,
            matched_parameters: self.matched_parameters.clone(),
            backend_base: self.backend_base.clone(),
            backend_path: self.backend_path.clone(),
            backend_query: self.backend_query.clone(),
            request_body: self.request_body.clone(),
            caller_body: self.caller_body.clone(),
            response: self.response.clone(),
            variables: self.variables.clone(),
            response_headers: self.response_headers.clone(),
            trace: self.trace.as_ref().map(|_| Vec::new()),
            last_error: self.last_error.clone(),
            sent: self.sent.clone(),
            byte_counts: Vec::new(),
            response_cache: self.response_cache.clone(),
            deferred_counts: Vec::new(),
            client_certificate: None,
            note: None,
        }
    }

    /// Takes back what a `<wait>` branch made of its [`Exchange::fork`]: its variables (a
    /// later branch's value wins), the responses it kept (renumbered after this exchange's),
    /// its changes to the request and the response, and its trace. `base` is how many kept
    /// responses this exchange had when the branch was forked.
    pub fn absorb(&mut self, mut branch: Exchange, base: usize) {
        let base = base.min(branch.sent.len());
        let new_sent = branch.sent.split_off(base);
        let offset = self.sent.len();
        self.sent.extend(new_sent);
        for (name, value) in branch.variables {
            let value = match &value {
                Value::Object(object) => match sent_index(&object.0) {
                    Some(index) if index >= base => {
                        Value::Object(crate::expr::ScriptObject(portcullis_script::Value::Host(
                            format!("{SENT_RESPONSE_TYPE}{}", index - base + offset).into(),
                        )))
                    }
                    _ => value,
                },
                _ => value,
            };
            self.set_variable(&name, value);
        }
        if branch.request.headers != self.request.headers {
            self.request.headers = branch.request.headers;
        }
        if branch.request_body.is_some() {
            self.request_body = branch.request_body;
        }
        if branch.caller_body.is_some() && self.caller_body.is_none() {
            self.caller_body = branch.caller_body;
        }
        if branch.backend_base.is_some() {
            self.backend_base = branch.backend_base;
        }
        if branch.backend_path.is_some() {
            self.backend_path = branch.backend_path;
        }
        if branch.backend_query != self.backend_query {
            self.backend_query = branch.backend_query;
        }
        if branch.response.is_some() {
            self.response = branch.response;
        }
        if let Some(headers) = branch.response_headers {
            let mine = self.response_headers.get_or_insert_with(HeaderMap::new);
            for (name, value) in &headers {
                mine.insert(name.clone(), value.clone());
            }
        }
        if self.last_error.is_none() {
            self.last_error = branch.last_error;
        }
        self.byte_counts.extend(branch.byte_counts);
        self.deferred_counts.extend(branch.deferred_counts);
        if let (Some(mine), Some(theirs)) = (&mut self.trace, branch.trace) {
            mine.extend(theirs);
        }
    }

    /// Whether this request is traced (an administrator's trace token came with it).
    pub fn is_traced(&self) -> bool {
        self.trace.is_some()
    }

    /// Records what a policy decided, for the trace; the message is only built when the
    /// request is traced.
    pub fn note(&mut self, message: impl FnOnce() -> String) {
        if self.trace.is_some() {
            self.note = Some(message());
        }
    }

    pub fn variable(&self, name: &str) -> Option<&Value<'static>> {
        self.variables
            .iter()
            .find(|(n, _)| n.as_ref() == name)
            .map(|(_, v)| v)
    }

    pub fn set_variable(&mut self, name: &str, value: Value<'static>) {
        match self.variables.iter_mut().find(|(n, _)| n.as_ref() == name) {
            Some((_, slot)) => *slot = value,
            None => self.variables.push((name.into(), value)),
        }
    }

    /// Keeps a `send-request` response and returns the value a variable holds to name it
    /// (scripts see an `IResponse`). Past [`MAX_SENT_RESPONSES`] or [`MAX_SENT_BYTES`] the
    /// response is refused with the limit named.
    pub fn keep_sent(&mut self, response: SentResponse) -> Result<Value<'static>, String> {
        let held: usize = self.sent.iter().map(SentResponse::size).sum();
        if self.sent.len() >= MAX_SENT_RESPONSES {
            return Err(format!(
                "a request keeps at most {MAX_SENT_RESPONSES} send-request responses"
            ));
        }
        if held.saturating_add(response.size()) > MAX_SENT_BYTES {
            return Err(format!(
                "a request keeps at most {} MiB of send-request responses",
                MAX_SENT_BYTES >> 20
            ));
        }
        self.sent.push(response);
        let path = format!("{}{}", SENT_RESPONSE_TYPE, self.sent.len() - 1);
        Ok(Value::Object(crate::expr::ScriptObject(
            portcullis_script::Value::Host(path.into()),
        )))
    }

    /// The kept response a variable names, if it names one.
    pub fn sent_by_variable(&self, name: &str) -> Option<&SentResponse> {
        match self.variable(name)? {
            Value::Object(object) => sent_index(&object.0).and_then(|i| self.sent.get(i)),
            _ => None,
        }
    }

    /// A header's values as one comma-separated text, as APIM reads several.
    pub(crate) fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<Value<'a>> {
        let mut values = headers.get_all(name).iter();
        let first = values.next()?;
        let first = String::from_utf8_lossy(first.as_bytes());
        match values.next() {
            None => Some(Value::Str(first)),
            Some(second) => {
                // Several values read as one comma-separated list, as APIM does.
                let mut joined = first.into_owned();
                for value in std::iter::once(second).chain(values) {
                    joined.push(',');
                    joined.push_str(&String::from_utf8_lossy(value.as_bytes()));
                }
                Some(Value::Str(Cow::Owned(joined)))
            }
        }
    }
}

/// `context.Deployment.Region`: where this gateway runs, as `PORTCULLIS_REGION` names it
/// (`local` when unset) — read once.
pub fn deployment_region() -> &'static str {
    static REGION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    REGION.get_or_init(|| {
        std::env::var("PORTCULLIS_REGION")
            .ok()
            .filter(|region| !region.trim().is_empty())
            .unwrap_or_else(|| "local".to_owned())
    })
}

/// How a kept response is named in scripts: `IResponse:` and its number.
pub const SENT_RESPONSE_TYPE: &str = "IResponse:";

/// The number of the kept response `value` names.
pub fn sent_index(value: &portcullis_script::Value) -> Option<usize> {
    match value {
        portcullis_script::Value::Host(path) => path.strip_prefix(SENT_RESPONSE_TYPE)?.parse().ok(),
        _ => None,
    }
}

fn text(value: &str) -> Value<'_> {
    Value::Str(Cow::Borrowed(value))
}

impl Env for Exchange {
    fn field(&self, field: Field) -> Value<'_> {
        let uri = &self.request.uri;
        let subscription = self.matched.subscription.as_ref();
        match field {
            Field::RequestIpAddress => Value::Str(Cow::Owned(self.ip.to_string())),
            Field::RequestMethod => text(self.request.method.as_str()),
            Field::RequestUrl | Field::RequestOriginalUrl => {
                // Path and query only: an HTTP/2 request's URI carries scheme and authority.
                let path = uri.path_and_query().map_or("/", |p| p.as_str());
                let scheme = if self.https { "https" } else { "http" };
                Value::Str(Cow::Owned(format!("{scheme}://{}{path}", self.host)))
            }
            Field::RequestUrlHost => text(self.host.split(':').next().unwrap_or_default()),
            Field::RequestUrlPath => text(uri.path()),
            Field::RequestUrlPort => Value::Int(
                self.host
                    .rsplit_once(':')
                    .and_then(|(_, p)| p.parse().ok())
                    .unwrap_or(if self.https { 443 } else { 80 }),
            ),
            Field::RequestUrlQuery => text(uri.query().unwrap_or("")),
            Field::RequestUrlQueryString => match uri.query() {
                Some(q) if !q.is_empty() => Value::Str(Cow::Owned(format!("?{q}"))),
                _ => text(""),
            },
            Field::RequestUrlScheme => text(if self.https { "https" } else { "http" }),
            Field::SubscriptionId | Field::SubscriptionName => {
                subscription.map_or(Value::Null, |s| text(&s.info.name))
            }
            Field::SubscriptionKey => subscription.map_or(Value::Null, |s| {
                Value::Str(Cow::Owned(s.info.key_text(s.presented)))
            }),
            Field::SubscriptionPrimaryKey => subscription.map_or(Value::Null, |s| {
                Value::Str(Cow::Owned(s.info.key_text(KeySlot::Primary)))
            }),
            Field::SubscriptionSecondaryKey => subscription.map_or(Value::Null, |s| {
                Value::Str(Cow::Owned(s.info.key_text(KeySlot::Secondary)))
            }),
            Field::ProductId | Field::ProductName => {
                self.matched.product.as_deref().map_or(Value::Null, text)
            }
            Field::ApiId | Field::ApiName => text(&self.matched.api),
            Field::ApiPath => text(&self.matched.api_path),
            Field::ApiServiceUrl => text(&self.matched.api_service_url),
            Field::OperationId | Field::OperationName => text(&self.matched.operation),
            Field::OperationMethod => text(&self.matched.operation_method),
            Field::OperationUrlTemplate => text(&self.matched.operation_template),
            Field::ResponseStatusCode => self
                .response
                .as_ref()
                .map_or(Value::Null, |r| Value::Int(i64::from(r.status.as_u16()))),
            Field::ResponseStatusReason => self.response.as_ref().map_or(Value::Null, |r| {
                text(r.status.canonical_reason().unwrap_or(""))
            }),
            Field::RequestId => text(&self.request_id),
            Field::DeploymentServiceName => text(&self.matched.service),
            Field::DeploymentRegion => text(deployment_region()),
            Field::UserMember => Value::Null,
            Field::LastErrorSource
            | Field::LastErrorReason
            | Field::LastErrorMessage
            | Field::LastErrorScope
            | Field::LastErrorSection
            | Field::LastErrorPath
            | Field::LastErrorPolicyId => {
                let Some(error) = &self.last_error else {
                    return Value::Null;
                };
                match field {
                    Field::LastErrorSource => text(error.source),
                    Field::LastErrorReason => text(error.reason),
                    Field::LastErrorMessage => text(&error.message),
                    Field::LastErrorScope => text(error.scope),
                    Field::LastErrorSection => text(error.section),
                    // Portcullis does not track the path inside choose/retry, nor `id`s yet.
                    _ => text(""),
                }
            }
        }
    }

    fn lookup(&self, collection: Collection, name: &str) -> Option<Value<'_>> {
        match collection {
            Collection::RequestHeaders => Self::header_text(&self.request.headers, name),
            Collection::ResponseHeaders => self
                .response
                .as_ref()
                .and_then(|r| Self::header_text(&r.headers, name)),
            Collection::QueryParameters => {
                let query = self.request.uri.query()?;
                query.split('&').find_map(|pair| {
                    let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(n) == name).then(|| Value::Str(Cow::Owned(decode(v))))
                })
            }
            Collection::MatchedParameters => self
                .matched_parameters
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| text(v)),
            Collection::Variables => self.variable(name).map(|value| match value {
                Value::Str(s) => Value::Str(Cow::Borrowed(s.as_ref())),
                other => other.clone(),
            }),
        }
    }

    fn clock(&self) -> Option<(std::time::SystemTime, Duration)> {
        Some((self.received_at, self.started.elapsed()))
    }

    fn sent_response(&self, index: usize) -> Option<&SentResponse> {
        self.sent.get(index)
    }

    fn body(&self, response: bool) -> Option<Bytes> {
        if response {
            return self.response.as_ref().and_then(|r| r.body.clone());
        }
        self.request_body
            .clone()
            .or_else(|| self.caller_body.clone())
    }

    fn entries(&self, collection: Collection) -> Vec<(String, Value<'_>)> {
        fn headers(headers: &HeaderMap) -> Vec<(String, Value<'_>)> {
            headers
                .keys()
                .filter_map(|name| {
                    let value = Exchange::header_text(headers, name.as_str())?;
                    Some((name.as_str().to_owned(), value))
                })
                .collect()
        }
        match collection {
            Collection::RequestHeaders => headers(&self.request.headers),
            Collection::ResponseHeaders => self
                .response
                .as_ref()
                .map_or_else(Vec::new, |r| headers(&r.headers)),
            Collection::QueryParameters => self
                .request
                .uri
                .query()
                .unwrap_or("")
                .split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(n), Value::Str(Cow::Owned(decode(v))))
                })
                .collect(),
            Collection::MatchedParameters => self
                .matched_parameters
                .iter()
                .map(|(n, v)| (n.clone(), text(v)))
                .collect(),
            Collection::Variables => self
                .variables
                .iter()
                .map(|(n, v)| (n.to_string(), v.clone()))
                .collect(),
        }
    }
}
