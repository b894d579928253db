//! `<authentication-managed-identity resource="…" client-id="…"
//! output-token-variable-name="…" ignore-error="…"/>`: a token for `resource` from the
//! machine's managed identity — Azure's instance metadata service (IMDS), or the endpoint the
//! gateway was given (`--identity-endpoint`) — sent to the backend as
//! `Authorization: Bearer …`, or put in a variable for a `send-request` to use.
//!
//! Tokens are kept until five minutes before they expire (or half their life, if shorter);
//! one request asks while the others wait. Without a token the call fails (500, on-error
//! runs) unless `ignore-error` is true, when it goes on without one.

use super::{Compiler, Context, Flow, Step, WaitingOutcome, WaitingPolicy, expression_failed};
use crate::engine::OutboundCall;
use crate::error::{Diagnostic, Rejection};
use crate::expr::{Template, Value};
use crate::xml::Element;
use arc_swap::ArcSwap;
use http::{HeaderValue, header};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The IMDS API version whose answer this reads.
const API_VERSION: &str = "2018-02-01";
/// Tokens kept at once per policy (one per resource and client id in use).
const MAX_KEPT: usize = 64;
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
struct Kept {
    token: String,
    renew_at: Instant,
}

#[derive(Debug)]
pub struct ManagedIdentity {
    resource: Template,
    client_id: Option<Template>,
    output_variable: Option<Box<str>>,
    ignore_error: bool,
    /// Read by every call without a lock; copied and replaced after a fetch (rare).
    kept: ArcSwap<HashMap<(String, String), Kept>>,
    fetching: tokio::sync::Mutex<()>,
}

impl ManagedIdentity {
    fn kept(&self, key: &(String, String)) -> Option<String> {
        self.kept
            .load()
            .get(key)
            .filter(|k| Instant::now() < k.renew_at)
            .map(|k| k.token.clone())
    }

    async fn token(
        &self,
        cx: &mut Context<'_>,
        resource: &str,
        client_id: &str,
    ) -> Result<String, String> {
        let key = (resource.to_owned(), client_id.to_owned());
        if let Some(token) = self.kept(&key) {
            return Ok(token);
        }
        let _fetching = self.fetching.lock().await;
        if let Some(token) = self.kept(&key) {
            return Ok(token);
        }
        let endpoint = cx
            .upstream
            .identity_endpoint()
            .ok_or("this gateway has no managed-identity endpoint")?;
        let query = {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("api-version", API_VERSION);
            query.append_pair("resource", resource);
            if !client_id.is_empty() {
                query.append_pair("client_id", client_id);
            }
            query.finish()
        };
        let separator = if endpoint.query().is_some() { '&' } else { '?' };
        let url: http::Uri = format!("{endpoint}{separator}{query}")
            .parse()
            .map_err(|_| format!("{endpoint} is not a URL to ask for tokens"))?;
        let mut headers = http::HeaderMap::new();
        headers.insert("metadata", HeaderValue::from_static("true"));
        let call = OutboundCall::get(url, headers, FETCH_TIMEOUT);
        let answer = cx
            .upstream
            .send_request(call, cx.exchange)
            .await
            .map_err(|e| format!("the identity endpoint {endpoint} could not be reached: {e}"))?;
        if !answer.status.is_success() {
            return Err(format!(
                "the identity endpoint answered {}: {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ));
        }
        let body: serde_json::Value = serde_json::from_slice(&answer.body)
            .map_err(|e| format!("the identity endpoint did not answer JSON: {e}"))?;
        let token = body
            .get("access_token")
            .and_then(|v| v.as_str())
            .filter(|t| !t.is_empty())
            .ok_or("the identity endpoint's answer has no access_token")?
            .to_owned();
        // IMDS writes expires_in as a string of seconds.
        let lifetime = body
            .get("expires_in")
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .map_or(Duration::from_secs(300), Duration::from_secs);
        let margin = Duration::from_secs(300).min(lifetime / 2);
        // Only one fetch runs at a time (`fetching`), so this copy loses no other's token.
        let mut kept: HashMap<(String, String), Kept> = if self.kept.load().len() >= MAX_KEPT {
            HashMap::new()
        } else {
            (**self.kept.load()).clone()
        };
        kept.insert(
            key,
            Kept {
                token: token.clone(),
                renew_at: Instant::now() + lifetime.saturating_sub(margin),
            },
        );
        self.kept.store(Arc::new(kept));
        Ok(token)
    }
}

impl ManagedIdentity {
    /// The token, evaluated and fetched (or kept); `None` when it could not be had and
    /// `ignore-error` says to go on without.
    pub async fn bearer(&self, cx: &mut Context<'_>) -> Result<Option<String>, Rejection> {
        let resource = self
            .resource
            .render(&*cx.exchange)
            .map_err(|e| expression_failed("authentication-managed-identity resource", e))?
            .into_owned();
        let client_id = match &self.client_id {
            Some(template) => template
                .render(&*cx.exchange)
                .map_err(|e| expression_failed("authentication-managed-identity client-id", e))?
                .into_owned(),
            None => String::new(),
        };
        match self.token(cx, &resource, &client_id).await {
            Ok(token) => {
                cx.exchange.note(|| format!("token for {resource}"));
                Ok(Some(token))
            }
            Err(fault) if self.ignore_error => {
                cx.exchange
                    .note(|| format!("{fault}; going on without a token (ignore-error)"));
                Ok(None)
            }
            Err(fault) => Err(Rejection::TokenUnavailable(fault)),
        }
    }
}

impl WaitingPolicy for ManagedIdentity {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            let Some(token) = self.bearer(cx).await? else {
                return Ok(Flow::Continue);
            };
            match &self.output_variable {
                Some(name) => cx
                    .exchange
                    .set_variable(name, Value::Str(Cow::Owned(token))),
                None => {
                    let value =
                        HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                            Rejection::TokenUnavailable(
                                "the token is not a valid header value".into(),
                            )
                        })?;
                    cx.exchange
                        .request
                        .headers
                        .insert(header::AUTHORIZATION, value);
                }
            }
            Ok(Flow::Continue)
        })
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    Ok(Step::Wait(
        "authentication-managed-identity",
        Box::new(compile_identity(element, cx)?),
    ))
}

/// The policy, for `send-request` too (which sends the token with its own request).
pub fn compile_identity(
    element: &Element,
    cx: &mut Compiler<'_>,
) -> Result<ManagedIdentity, Diagnostic> {
    cx.only_attributes(
        element,
        &[
            "resource",
            "client-id",
            "output-token-variable-name",
            "ignore-error",
        ],
    )?;
    cx.only_children(element, &[])?;
    Ok(ManagedIdentity {
        resource: cx.template(cx.required(element, "resource")?)?,
        client_id: element
            .attribute("client-id")
            .map(|a| cx.template(a))
            .transpose()?,
        output_variable: element
            .attribute("output-token-variable-name")
            .map(|a| cx.literal(a).map(Box::from))
            .transpose()?,
        ignore_error: cx.boolean(element, "ignore-error", false)?,
        kept: ArcSwap::from_pointee(HashMap::new()),
        fetching: tokio::sync::Mutex::new(()),
    })
}
