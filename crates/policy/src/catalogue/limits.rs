//! What the four counting policies share: their optional header and variable attributes,
//! and turning a counter's decision into a flow or a rejection.

use super::{Compiler, Context, Flow, Outcome};
use crate::counters::{CounterError, Decision};
use crate::error::{Diagnostic, Rejection};
use crate::expr::{Template, Value};
use crate::xml::Element;
use http::{HeaderName, HeaderValue};
use sha2::{Digest, Sha256};

/// A counter-key value longer than this is counted under its SHA-256 instead: a caller who
/// sends a 64 KB header as the key costs the counters 71 bytes, not 64 KB.
pub const MAX_KEY_VALUE_BYTES: usize = 128;

/// The name a counter is kept under: `scope` (which policy, service and period) and the
/// evaluated key `value`, hashed when it is longer than [`MAX_KEY_VALUE_BYTES`].
pub fn counter_key(scope: std::fmt::Arguments<'_>, value: &str) -> String {
    if value.len() <= MAX_KEY_VALUE_BYTES {
        return format!("{scope}|{value}");
    }
    format!("{scope}|sha256:{}", hex::encode(Sha256::digest(value)))
}

/// `retry-after-header-name`, `remaining-calls-header-name`, … as parsed values.
#[derive(Debug, Default)]
pub struct Reporting {
    pub retry_after_header: Option<HeaderName>,
    pub retry_after_variable: Option<Box<str>>,
    pub remaining_calls_header: Option<HeaderName>,
    pub remaining_calls_variable: Option<Box<str>>,
    pub total_calls_header: Option<HeaderName>,
}

pub const REPORTING_ATTRIBUTES: [&str; 5] = [
    "retry-after-header-name",
    "retry-after-variable-name",
    "remaining-calls-header-name",
    "remaining-calls-variable-name",
    "total-calls-header-name",
];

impl Reporting {
    pub fn compile(cx: &Compiler<'_>, element: &Element) -> Result<Self, Diagnostic> {
        let header = |name: &str| {
            element
                .attribute(name)
                .map(|a| cx.header_name(a))
                .transpose()
        };
        let variable = |name: &str| -> Result<Option<Box<str>>, Diagnostic> {
            element
                .attribute(name)
                .map(|a| cx.literal(a).map(Box::from))
                .transpose()
        };
        Ok(Self {
            retry_after_header: header("retry-after-header-name")?,
            retry_after_variable: variable("retry-after-variable-name")?,
            remaining_calls_header: header("remaining-calls-header-name")?,
            remaining_calls_variable: variable("remaining-calls-variable-name")?,
            total_calls_header: header("total-calls-header-name")?,
        })
    }

    /// Applies a rate-limit decision: counted → continue (noting remaining calls);
    /// refused → 429.
    /// `limit` calls per `period`; the note says how many of them are used.
    pub fn rate_outcome(
        &self,
        cx: &mut Context<'_>,
        limit: u64,
        period: std::time::Duration,
        decision: Result<Decision, CounterError>,
    ) -> Outcome {
        let decision = decision.map_err(|e| Rejection::CountersUnavailable(e.0))?;
        cx.exchange.note(|| match decision {
            Decision::Allowed { remaining } => format!(
                "{} of {limit} calls in {} s",
                limit.saturating_sub(remaining),
                period.as_secs()
            ),
            Decision::Refused { retry_after } => format!(
                "{limit} of {limit} calls in {} s used; the next fits in {:.1} s",
                period.as_secs(),
                retry_after.as_secs_f64()
            ),
        });
        match decision {
            Decision::Allowed { remaining } => {
                if let Some(name) = &self.remaining_calls_variable {
                    cx.exchange.set_variable(
                        name,
                        Value::Int(i64::try_from(remaining).unwrap_or(i64::MAX)),
                    );
                }
                let headers = cx
                    .exchange
                    .response_headers
                    .get_or_insert_with(Default::default);
                if let Some(name) = &self.remaining_calls_header {
                    headers.insert(name.clone(), HeaderValue::from(remaining));
                }
                if let Some(name) = &self.total_calls_header {
                    headers.insert(name.clone(), HeaderValue::from(limit));
                }
                Ok(Flow::Continue)
            }
            Decision::Refused { retry_after } => {
                if let Some(name) = &self.retry_after_variable {
                    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                    cx.exchange
                        .set_variable(name, Value::Int(i64::try_from(seconds).unwrap_or(i64::MAX)));
                }
                Err(Rejection::RateLimited {
                    retry_after,
                    retry_after_header: self.retry_after_header.clone(),
                })
            }
        }
    }
}

/// An `increment-condition`: evaluated where the policy stands, or — when it reads
/// `context.Response` — once the response is known (as APIM counts such calls).
#[derive(Debug)]
pub enum IncrementCondition {
    Now(Template),
    AfterResponse(std::sync::Arc<Template>),
}

impl IncrementCondition {
    pub fn compile(cx: &Compiler<'_>, element: &Element) -> Result<Option<Self>, Diagnostic> {
        let Some(attribute) = element.attribute("increment-condition") else {
            return Ok(None);
        };
        let template = cx.template(attribute)?;
        Ok(Some(if attribute.value.contains("context.Response") {
            Self::AfterResponse(std::sync::Arc::new(template))
        } else {
            Self::Now(template)
        }))
    }
}

/// What one quota (or one of its nested `<api>`/`<operation>` limits) counts: calls,
/// kilobytes, or both, in a fixed period from the first call (`None`: never renews).
#[derive(Debug, Clone, Copy)]
pub struct QuotaSize {
    pub calls: Option<u64>,
    pub bandwidth_kb: Option<u64>,
    pub period: Option<std::time::Duration>,
}

impl QuotaSize {
    /// Counts this call (`increment` calls) under `key`: the calls now, against their
    /// limit; the bytes (under `key|bytes`) are checked now — a quota already spent refuses
    /// the call — and added by the gateway once the response is sent.
    ///
    /// With `after_response`, the calls are checked for room now and counted once the
    /// response is known, if that condition holds (see [`IncrementCondition`]).
    pub async fn hit(
        &self,
        cx: &mut Context<'_>,
        key: &str,
        increment: u64,
        after_response: Option<&std::sync::Arc<Template>>,
    ) -> Outcome {
        if let Some(calls) = self.calls {
            let decision = match after_response {
                None => {
                    cx.counters
                        .hit_quota(key, calls, self.period, increment)
                        .await
                }
                Some(condition) => {
                    let room = calls.saturating_sub(increment);
                    let decision = cx.counters.hit_quota(key, room, self.period, 0).await;
                    if matches!(decision, Ok(Decision::Allowed { .. })) {
                        cx.exchange
                            .deferred_counts
                            .push(crate::exchange::DeferredCount {
                                key: key.to_owned(),
                                counter: crate::exchange::DeferredCounter::Quota(self.period),
                                amount: increment,
                                condition: condition.clone(),
                            });
                    }
                    decision
                }
            };
            quota_outcome(cx, calls, decision, false)?;
        }
        if let Some(kb) = self.bandwidth_kb {
            let bytes_key = format!("{key}|bytes");
            let limit = kb.saturating_mul(1024);
            let decision = cx
                .counters
                .hit_quota(&bytes_key, limit, self.period, 0)
                .await;
            quota_outcome(cx, limit, decision, true)?;
            cx.exchange.byte_counts.push(crate::exchange::ByteCount {
                key: bytes_key,
                period: self.period,
            });
        }
        Ok(Flow::Continue)
    }
}

/// Applies a quota decision: counted → continue; refused → 403. `bytes`: the decision is
/// about bandwidth (`limit` in bytes).
pub fn quota_outcome(
    cx: &mut Context<'_>,
    limit: u64,
    decision: Result<Decision, CounterError>,
    bytes: bool,
) -> Outcome {
    let decision = decision.map_err(|e| Rejection::CountersUnavailable(e.0))?;
    let unit = if bytes { "bytes" } else { "calls" };
    cx.exchange.note(|| match decision {
        Decision::Allowed { remaining } => {
            format!(
                "{} of {limit} {unit} of the quota used",
                limit.saturating_sub(remaining)
            )
        }
        Decision::Refused { .. } => format!("quota of {limit} {unit} used up"),
    });
    match decision {
        Decision::Allowed { .. } => Ok(Flow::Continue),
        Decision::Refused { retry_after } => Err(Rejection::QuotaExceeded {
            retry_after,
            bandwidth: bytes,
        }),
    }
}

/// The counter key text for a subscription-counted policy.
pub fn subscription_key(prefix: &str, cx: &Context<'_>, label: &str) -> Option<String> {
    let subscription = cx.exchange.matched.subscription.as_ref()?;
    Some(format!(
        "{prefix}|{}|{label}|{}",
        cx.exchange.matched.service, subscription.info.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_counter_key_values_are_kept_by_their_hash() {
        let scope = format_args!("rlk|svc|60");
        assert_eq!(counter_key(scope, "10.0.0.1"), "rlk|svc|60|10.0.0.1");
        let long = "x".repeat(64 * 1024);
        let kept = counter_key(format_args!("rlk|svc|60"), &long);
        assert_eq!(kept.len(), "rlk|svc|60|sha256:".len() + 64);
        assert_ne!(kept, counter_key(format_args!("rlk|svc|60"), &long[1..]));
        let at_the_limit = "y".repeat(MAX_KEY_VALUE_BYTES);
        assert!(counter_key(format_args!("s"), &at_the_limit).ends_with(&at_the_limit));
    }
}
