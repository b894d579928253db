//! Request tracing for administrators.
//!
//! The portal mints a short-lived **trace token** for a service ([`TraceKeys::issue`]: an
//! HMAC-SHA256 over the service and an expiry, with a key that never leaves the process). A
//! request that carries a valid token in `Apim-Debug-Authorization` is traced: every policy
//! notes what it decided, the backend exchange is recorded, and the finished
//! [`TraceRecord`] is kept in the [`TraceStore`] under the id the response returns in
//! `Apim-Trace-Id`. An ordinary caller cannot turn tracing on: a missing, forged, expired or
//! other-service token just means no trace. Secrets (keys, credentials) are masked in every
//! record.

use hmac::{Hmac, Mac};
use http::HeaderMap;
use portcullis_policy::exchange::TraceEvent;
use sha2::Sha256;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The request header that carries a trace token (as APIM's).
pub const DEBUG_AUTHORIZATION: &str = "apim-debug-authorization";
/// The response header naming the trace of a traced request.
pub const TRACE_ID: &str = "apim-trace-id";
/// Set on the response when the token had expired.
pub const DEBUG_EXPIRED: &str = "apim-debug-authorization-expired";

/// Tokens live at most this long, as APIM's debug credentials.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Why a token does not open a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the trace token has expired")]
    Expired,
    #[error("the trace token is not valid")]
    Invalid,
}

/// The key trace tokens are signed with.
pub struct TraceKeys {
    key: [u8; 32],
}

impl std::fmt::Debug for TraceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceKeys(***)")
    }
}

fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl TraceKeys {
    /// A fresh random key (tokens do not survive a restart, which is fine for minutes-long
    /// debug sessions).
    pub fn random() -> Self {
        Self {
            key: rand::random(),
        }
    }

    /// The key a deployment shares (from its database), so a token any portal node issues
    /// opens traces on every gateway node.
    pub fn from_secret(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn signature(&self, payload: &str) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(payload.as_bytes());
        mac
    }

    /// A token that traces requests to `service` until `now + lifetime` (capped at an hour).
    pub fn issue(&self, service: &str, lifetime: Duration, now: SystemTime) -> String {
        let expires = unix_seconds(now) + lifetime.min(MAX_TOKEN_LIFETIME).as_secs();
        let payload = format!("v1.{service}.{expires}");
        let signature = hex::encode(self.signature(&payload).finalize().into_bytes());
        format!("{payload}.{signature}")
    }

    /// Checks a token for `service` at `now`; the signature is compared in constant time.
    pub fn verify(&self, token: &str, service: &str, now: SystemTime) -> Result<(), TokenError> {
        let (payload, signature) = token.trim().rsplit_once('.').ok_or(TokenError::Invalid)?;
        let signature = hex::decode(signature).map_err(|_| TokenError::Invalid)?;
        self.signature(payload)
            .verify_slice(&signature)
            .map_err(|_| TokenError::Invalid)?;
        let mut parts = payload.splitn(3, '.');
        let (Some("v1"), Some(token_service), Some(expires)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        if token_service != service {
            return Err(TokenError::Invalid);
        }
        let expires: u64 = expires.parse().map_err(|_| TokenError::Invalid)?;
        if unix_seconds(now) >= expires {
            return Err(TokenError::Expired);
        }
        Ok(())
    }
}

/// A request or response as the trace shows it: its first line and headers, secrets masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    pub line: String,
    pub headers: Vec<(String, String)>,
}

/// Headers whose values never appear in a trace.
const SECRET_HEADERS: [&str; 5] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    DEBUG_AUTHORIZATION,
];

/// Shows the first four characters of a secret, so a person can tell keys apart.
pub fn mask(value: &str) -> String {
    let shown: String = value.chars().take(4).collect();
    format!("{shown}…(hidden)")
}

/// Header names and values, with secrets (and the API's key header) masked.
pub fn masked_headers(headers: &HeaderMap, key_header: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let text = String::from_utf8_lossy(value.as_bytes());
            let secret = SECRET_HEADERS.contains(&name.as_str()) || name.as_str() == key_header;
            let shown = if secret {
                mask(&text)
            } else {
                text.into_owned()
            };
            (name.as_str().to_owned(), shown)
        })
        .collect()
}

/// A path and query with the subscription key's value masked.
pub fn masked_target(path_and_query: &str, key_query: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return path_and_query.to_owned();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if name == key_query => format!("{name}={}", mask(value)),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

/// Everything a traced request did.
#[derive(Debug, Clone)]
pub struct TraceRecord {
    pub id: String,
    pub service: String,
    pub at: SystemTime,
    pub elapsed: Duration,
    /// The request as the gateway received it.
    pub request: MessageView,
    /// Every policy that ran, in order, with its scope, decision and time.
    pub events: Vec<TraceEvent>,
    /// The request as sent to the backend, and its answer (when the backend was called).
    pub backend_request: Option<MessageView>,
    pub backend_response: Option<MessageView>,
    /// The response the caller got.
    pub response: MessageView,
}

/// A finished trace as it travels between nodes (JSON in the shared database): every
/// field owned, times in milliseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SharedTrace {
    pub id: String,
    pub service: String,
    pub at_ms: i64,
    pub elapsed_ms: f64,
    pub request: SharedMessage,
    pub lines: Vec<SharedLine>,
    pub backend_request: Option<SharedMessage>,
    pub backend_response: Option<SharedMessage>,
    pub response: SharedMessage,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SharedMessage {
    pub line: String,
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SharedLine {
    pub section: String,
    pub scope: String,
    pub policy: String,
    pub elapsed_ms: f64,
    pub message: String,
}

impl From<&MessageView> for SharedMessage {
    fn from(view: &MessageView) -> Self {
        Self {
            line: view.line.clone(),
            headers: view.headers.clone(),
        }
    }
}

impl From<&TraceRecord> for SharedTrace {
    fn from(record: &TraceRecord) -> Self {
        Self {
            id: record.id.clone(),
            service: record.service.clone(),
            at_ms: record
                .at
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            elapsed_ms: record.elapsed.as_secs_f64() * 1000.0,
            request: (&record.request).into(),
            lines: record
                .events
                .iter()
                .map(|event| SharedLine {
                    section: event.section.to_owned(),
                    scope: event.scope.to_string(),
                    policy: event.policy.to_owned(),
                    elapsed_ms: event.elapsed.as_secs_f64() * 1000.0,
                    message: event.message.clone(),
                })
                .collect(),
            backend_request: record.backend_request.as_ref().map(Into::into),
            backend_response: record.backend_response.as_ref().map(Into::into),
            response: (&record.response).into(),
        }
    }
}

/// Where finished traces go for other nodes to read (the shared database). Must not block:
/// it is called on the request path of traced requests.
pub trait TraceSink: Send + Sync {
    fn share(&self, trace: SharedTrace);
}

/// A trace being recorded while its request runs.
#[derive(Debug)]
pub struct TraceDraft {
    /// Secret named values of the service (display name, value), written as
    /// `{{DisplayName}}` wherever they would show in the finished trace.
    pub secrets: Arc<[(String, String)]>,
    pub id: String,
    pub service: String,
    pub at: SystemTime,
    pub request: MessageView,
    pub events: Vec<TraceEvent>,
    pub backend_request: Option<MessageView>,
    pub backend_response: Option<MessageView>,
}

impl TraceDraft {
    pub fn new(service: &str, request: MessageView) -> Self {
        Self {
            secrets: Arc::from(Vec::new()),
            id: uuid::Uuid::new_v4().simple().to_string(),
            service: service.to_owned(),
            at: SystemTime::now(),
            request,
            events: Vec::new(),
            backend_request: None,
            backend_response: None,
        }
    }

    /// A gateway step outside the policy pipeline (matching, the key check).
    pub fn step(&mut self, policy: &'static str, message: impl Into<String>) {
        self.events.push(TraceEvent {
            section: "inbound",
            scope: Arc::from("gateway"),
            policy,
            elapsed: Duration::ZERO,
            message: message.into(),
        });
    }

    pub fn finish(self, response: MessageView, elapsed: Duration) -> TraceRecord {
        let mut record = TraceRecord {
            id: self.id,
            service: self.service,
            at: self.at,
            elapsed,
            request: self.request,
            events: self.events,
            backend_request: self.backend_request,
            backend_response: self.backend_response,
            response,
        };
        mask_secrets(&mut record, &self.secrets);
        record
    }
}

/// Secret values shorter than this are not searched for: a one- or two-character secret
/// would blank out unrelated text (and says little about the secret).
const MIN_MASKED_SECRET: usize = 3;

/// Writes `{{DisplayName}}` for every secret named value wherever its value shows in the
/// trace: policy messages, header values, request lines. Longer secrets first, so one that
/// contains another is masked whole.
fn mask_secrets(record: &mut TraceRecord, secrets: &[(String, String)]) {
    let mut secrets: Vec<&(String, String)> = secrets
        .iter()
        .filter(|(_, value)| value.len() >= MIN_MASKED_SECRET)
        .collect();
    if secrets.is_empty() {
        return;
    }
    secrets.sort_by_key(|(_, value)| std::cmp::Reverse(value.len()));
    let mask = |text: &mut String| {
        for (name, value) in &secrets {
            if text.contains(value.as_str()) {
                *text = text.replace(value.as_str(), &format!("{{{{{name}}}}}"));
            }
        }
    };
    let mask_message = |message: &mut MessageView| {
        mask(&mut message.line);
        for (_, value) in &mut message.headers {
            mask(value);
        }
    };
    mask_message(&mut record.request);
    mask_message(&mut record.response);
    if let Some(message) = &mut record.backend_request {
        mask_message(message);
    }
    if let Some(message) = &mut record.backend_response {
        mask_message(message);
    }
    for event in &mut record.events {
        mask(&mut event.message);
    }
}

/// Recent traces, newest last; bounded in count and age.
#[derive(Debug, Default)]
pub struct TraceStore {
    records: Mutex<VecDeque<Arc<TraceRecord>>>,
}

/// How many traces are kept, and for how long.
const KEEP: usize = 200;
const KEEP_FOR: Duration = Duration::from_secs(15 * 60);

impl TraceStore {
    pub fn insert(&self, record: TraceRecord) {
        let mut records = self
            .records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = SystemTime::now();
        while records.len() >= KEEP
            || records
                .front()
                .is_some_and(|r| now.duration_since(r.at).unwrap_or_default() > KEEP_FOR)
        {
            records.pop_front();
        }
        records.push_back(Arc::new(record));
    }

    /// The trace with `id`, if it is still kept.
    pub fn get(&self, id: &str) -> Option<Arc<TraceRecord>> {
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .rev()
            .find(|r| r.id == id)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_open_traces_for_their_service_until_they_expire() {
        let keys = TraceKeys::random();
        let now = SystemTime::now();
        let token = keys.issue("flowdemo", Duration::from_secs(600), now);
        assert_eq!(keys.verify(&token, "flowdemo", now), Ok(()));
        assert_eq!(keys.verify(&token, "other", now), Err(TokenError::Invalid));
        let later = now + Duration::from_secs(601);
        assert_eq!(
            keys.verify(&token, "flowdemo", later),
            Err(TokenError::Expired)
        );
        // A token from another key, or with a changed expiry, is forged.
        let foreign = TraceKeys::random().issue("flowdemo", Duration::from_secs(600), now);
        assert_eq!(
            keys.verify(&foreign, "flowdemo", now),
            Err(TokenError::Invalid)
        );
        let (payload, signature) = token.rsplit_once('.').unwrap();
        let stretched = payload.replace(".", "-") + "." + signature;
        assert_eq!(
            keys.verify(&stretched, "flowdemo", now),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            keys.verify("garbage", "flowdemo", now),
            Err(TokenError::Invalid)
        );
        // Lifetimes are capped at an hour.
        let long = keys.issue("flowdemo", Duration::from_secs(86_400), now);
        assert_eq!(
            keys.verify(&long, "flowdemo", now + Duration::from_secs(3601)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn secrets_are_masked() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "ocp-apim-subscription-key",
            "0123456789abcdef".parse().unwrap(),
        );
        headers.insert("authorization", "Bearer abc.def".parse().unwrap());
        headers.insert("x-plain", "visible".parse().unwrap());
        let shown = masked_headers(&headers, "ocp-apim-subscription-key");
        let get = |n: &str| shown.iter().find(|(k, _)| k == n).unwrap().1.clone();
        assert_eq!(get("ocp-apim-subscription-key"), "0123…(hidden)");
        assert_eq!(get("authorization"), "Bear…(hidden)");
        assert_eq!(get("x-plain"), "visible");
        assert_eq!(
            masked_target("/calc?a=1&subscription-key=0123456789", "subscription-key"),
            "/calc?a=1&subscription-key=0123…(hidden)"
        );
    }
}
