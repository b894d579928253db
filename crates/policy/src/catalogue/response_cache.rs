//! `<cache-lookup>` (inbound) and `<cache-store duration="…">` (outbound): APIM's response
//! cache. A GET whose response was kept is answered from the cache — the rest of inbound and
//! the backend are skipped, outbound runs on the kept response — and a GET that went to the
//! backend has its response kept for `duration` seconds.
//!
//! The key is the service, API, operation and path, plus what the lookup varies by: the
//! values of each `vary-by-header` and `vary-by-query-parameter` (several names may share one
//! element, `;`-separated), and the subscription with `vary-by-developer` (Portcullis has no
//! developer accounts; a subscription stands for its owner). As in APIM, query parameters
//! that are not listed are not part of the key. A request with `Authorization` is neither
//! looked up nor kept unless `allow-private-response-caching` is true.
//!
//! `downstream-caching-type` and `must-revalidate` write the `Cache-Control` of the answer
//! (`none`: `no-store`; `private` or `public`, with `must-revalidate` unless it is false).
//! A response is kept when it is a 200 (any status with `cache-response="true"`) of at most
//! [`MAX_VALUE_BYTES`] in all; the cache (internal, or Redis with `caching-type`) evicts as
//! it must.

use super::cache_value::{caching_type, full_key};
use super::{Compiler, Context, Flow, Step, WaitingOutcome, WaitingPolicy, expression_failed};
use crate::error::Diagnostic;
use crate::exchange::ResponseState;
use crate::expr::Template;
use crate::value_cache::{CachedResponse, CachedValue, CachingType, MAX_VALUE_BYTES};
use crate::xml::Element;
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use std::time::Duration;

/// The longest `duration`: a year.
const MAX_DURATION_SECS: u64 = 365 * 24 * 3600;

/// Headers that describe one connection or one transfer, never kept with a response.
const NOT_KEPT: [HeaderName; 5] = [
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::CONTENT_LENGTH,
    header::SET_COOKIE,
    header::UPGRADE,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Downstream {
    None,
    Private,
    Public,
}

#[derive(Debug)]
pub struct CacheLookup {
    caching_type: CachingType,
    vary_by_developer: Template,
    vary_by_headers: Vec<HeaderName>,
    vary_by_query: Vec<String>,
    allow_private: Template,
    downstream: Downstream,
    must_revalidate: bool,
}

impl CacheLookup {
    /// The key this request is kept under, or why it is not cached.
    fn key(&self, cx: &Context<'_>) -> Result<Result<String, &'static str>, crate::Rejection> {
        let exchange = &*cx.exchange;
        if exchange.request.method != Method::GET {
            return Ok(Err("not a GET: not cached"));
        }
        let private = exchange.request.headers.contains_key(header::AUTHORIZATION);
        if private
            && !self
                .allow_private
                .truth(exchange)
                .map_err(|e| expression_failed("cache-lookup allow-private-response-caching", e))?
        {
            return Ok(Err("the request has Authorization: not cached"));
        }
        let matched = &exchange.matched;
        let mut key = format!(
            "response\u{1f}{}\u{1f}{}\u{1f}{}",
            matched.api,
            matched.operation,
            exchange.request.uri.path()
        );
        for name in &self.vary_by_headers {
            key.push_str("\u{1f}h:");
            key.push_str(name.as_str());
            for value in exchange.request.headers.get_all(name) {
                key.push('=');
                key.push_str(&String::from_utf8_lossy(value.as_bytes()));
            }
        }
        let query: Vec<(String, String)> = exchange
            .request
            .uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        for name in &self.vary_by_query {
            key.push_str("\u{1f}q:");
            key.push_str(name);
            for (_, value) in query.iter().filter(|(n, _)| n == name) {
                key.push('=');
                key.push_str(value);
            }
        }
        let by_developer = self
            .vary_by_developer
            .truth(exchange)
            .map_err(|e| expression_failed("cache-lookup vary-by-developer", e))?;
        if by_developer {
            key.push_str("\u{1f}s:");
            if let Some(subscription) = &matched.subscription {
                key.push_str(&subscription.info.name);
            }
        }
        Ok(Ok(full_key(&matched.service, &key)))
    }

    fn cache_control(&self) -> HeaderValue {
        let directive = match self.downstream {
            Downstream::None => return HeaderValue::from_static("no-store"),
            Downstream::Private => "private",
            Downstream::Public => "public",
        };
        let mut text = directive.to_owned();
        if self.must_revalidate {
            text.push_str(", must-revalidate");
        }
        HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("no-store"))
    }
}

impl WaitingPolicy for CacheLookup {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            let key = match self.key(cx)? {
                Ok(key) => key,
                Err(why) => {
                    cx.exchange.note(|| why.to_owned());
                    return Ok(Flow::Continue);
                }
            };
            let found = cx.caches.pick(self.caching_type).get(&key).await;
            // Whatever is found, the answer says how the caller may cache it.
            let headers = cx
                .exchange
                .response_headers
                .get_or_insert_with(Default::default);
            headers.insert(header::CACHE_CONTROL, self.cache_control());
            cx.exchange.response_cache = Some((key, self.caching_type));
            let Ok(Some(CachedValue::Response(kept))) = found else {
                cx.exchange.note(|| "miss".to_owned());
                return Ok(Flow::Continue);
            };
            let mut response =
                ResponseState::new(StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK));
            for (name, value) in &kept.headers {
                if let (Ok(name), Ok(value)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_bytes(value),
                ) {
                    response.headers.append(name, value);
                }
            }
            response.body = Some(kept.body.clone());
            cx.exchange.response = Some(response);
            // Kept already: cache-store leaves it as it is.
            cx.exchange.response_cache = None;
            cx.exchange
                .note(|| "hit: answered from the cache".to_owned());
            Ok(Flow::ToOutbound)
        })
    }
}

#[derive(Debug)]
pub struct CacheStore {
    duration: Template,
    cache_response: Option<Template>,
}

impl WaitingPolicy for CacheStore {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            let Some((key, caching_type)) = cx.exchange.response_cache.take() else {
                cx.exchange.note(|| {
                    "nothing to store (no cache-lookup ran for this call, or it was a hit)".into()
                });
                return Ok(Flow::Continue);
            };
            let Some(status) = cx.exchange.response.as_ref().map(|r| r.status) else {
                return Ok(Flow::Continue);
            };
            let any_status = match &self.cache_response {
                Some(template) => template
                    .truth(&*cx.exchange)
                    .map_err(|e| expression_failed("cache-store cache-response", e))?,
                None => false,
            };
            if status != StatusCode::OK && !any_status {
                cx.exchange
                    .note(|| format!("status {}: not stored", status.as_u16()));
                return Ok(Flow::Continue);
            }
            let seconds = self
                .duration
                .render(&*cx.exchange)
                .map_err(|e| expression_failed("cache-store duration", e))?;
            let seconds: u64 = seconds.trim().parse().map_err(|_| {
                expression_failed(
                    "cache-store duration",
                    format!("'{seconds}' is not a number of seconds"),
                )
            })?;
            let ttl = Duration::from_secs(seconds.min(MAX_DURATION_SECS));
            // The body is read only for a response that may be kept: one whose length is
            // unknown or small enough (a large download streams through untouched).
            let declared = cx.exchange.response.as_ref().and_then(|r| {
                r.headers
                    .get(header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<usize>().ok())
            });
            if declared.is_some_and(|length| length > MAX_VALUE_BYTES) {
                cx.exchange
                    .note(|| format!("larger than {MAX_VALUE_BYTES} bytes: not stored"));
                return Ok(Flow::Continue);
            }
            cx.upstream.read_response_body(cx.exchange).await?;
            let Some(response) = &cx.exchange.response else {
                return Ok(Flow::Continue);
            };
            let kept = CachedResponse {
                status: response.status.as_u16(),
                headers: response
                    .headers
                    .iter()
                    .filter(|(name, _)| !NOT_KEPT.contains(name))
                    .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
                    .collect(),
                body: response.body.clone().unwrap_or_default(),
            };
            let value = CachedValue::Response(kept);
            if ttl.is_zero() || value.size() > MAX_VALUE_BYTES {
                cx.exchange
                    .note(|| format!("{} bytes for {} s: not stored", value.size(), ttl.as_secs()));
                return Ok(Flow::Continue);
            }
            // A cache that cannot be reached only means this response is not kept.
            let stored = cx.caches.pick(caching_type).set(&key, value, ttl).await;
            cx.exchange.note(|| match stored {
                Ok(()) => format!("stored for {} s", ttl.as_secs()),
                Err(e) => format!("not stored: {e}"),
            });
            Ok(Flow::Continue)
        })
    }
}

fn boolean_template(
    element: &Element,
    cx: &Compiler<'_>,
    name: &str,
    default: bool,
) -> Result<Template, Diagnostic> {
    match element.attribute(name) {
        Some(attribute) => cx.template(attribute),
        None => Ok(Template::Literal(default.to_string().into())),
    }
}

pub fn compile_lookup(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(
        element,
        &[
            "vary-by-developer",
            "vary-by-developer-groups",
            "caching-type",
            "downstream-caching-type",
            "must-revalidate",
            "allow-private-response-caching",
        ],
    )?;
    cx.only_children(element, &["vary-by-header", "vary-by-query-parameter"])?;
    cx.once_per_document(element)?;
    let mut vary_by_headers = Vec::new();
    for child in element.children_named("vary-by-header") {
        cx.only_attributes(child, &[])?;
        for name in child
            .text_value()
            .split(';')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            vary_by_headers.push(
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                    cx.fault(child.offset, format!("'{name}' is not a header name."))
                })?,
            );
        }
    }
    let vary_by_query = element
        .children_named("vary-by-query-parameter")
        .flat_map(|child| {
            child
                .text_value()
                .split(';')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let downstream = match element.attribute("downstream-caching-type") {
        None => Downstream::None,
        Some(attribute) => {
            match cx.literal(attribute)? {
                "none" => Downstream::None,
                "private" => Downstream::Private,
                "public" => Downstream::Public,
                other => {
                    return Err(cx.fault(
                    attribute.offset,
                    format!("downstream-caching-type must be none, private or public, not '{other}'."),
                ));
                }
            }
        }
    };
    // vary-by-developer-groups: Portcullis has no developer groups, so it changes nothing;
    // it is still read so that a malformed value is reported.
    boolean_template(element, cx, "vary-by-developer-groups", false)?;
    Ok(Step::Wait(
        "cache-lookup",
        Box::new(CacheLookup {
            caching_type: caching_type(element, cx)?,
            vary_by_developer: boolean_template(element, cx, "vary-by-developer", false)?,
            vary_by_headers,
            vary_by_query,
            allow_private: boolean_template(element, cx, "allow-private-response-caching", false)?,
            downstream,
            must_revalidate: cx.boolean(element, "must-revalidate", true)?,
        }),
    ))
}

pub fn compile_store(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["duration", "cache-response"])?;
    cx.only_children(element, &[])?;
    cx.once_per_document(element)?;
    let duration = cx.required(element, "duration")?;
    let duration_template = cx.template(duration)?;
    if let Template::Literal(text) = &duration_template
        && text.trim().parse::<u64>().is_err()
    {
        return Err(cx.fault(
            duration.offset,
            "duration is a number of seconds (or an expression that gives one).",
        ));
    }
    Ok(Step::Wait(
        "cache-store",
        Box::new(CacheStore {
            duration: duration_template,
            cache_response: element
                .attribute("cache-response")
                .map(|a| cx.template(a))
                .transpose()?,
        }),
    ))
}
