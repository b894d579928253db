//! `<cache-lookup-value key="…" variable-name="…" default-value="…" caching-type="…"/>`,
//! `<cache-store-value key="…" value="…" duration="seconds" caching-type="…"/>` and
//! `<cache-remove-value key="…" caching-type="…"/>`: values kept between requests by key
//! (see [`crate::value_cache`] for where they live).
//!
//! A lookup that finds nothing sets the variable to `default-value` when there is one and
//! leaves it unset otherwise, so `context.Variables.ContainsKey(…)` tells a miss — the way
//! APIM's "custom caching" article uses it. A cache that cannot be reached counts as a miss
//! (and a store as done): the call goes on, as it would with an empty cache.

use super::{Compiler, Context, Flow, Step, WaitingOutcome, WaitingPolicy, expression_failed};
use crate::error::Diagnostic;
use crate::expr::{ScriptObject, Template, Value};
use crate::value_cache::{CachedValue, CachingType, MAX_KEY_BYTES, MAX_VALUE_BYTES};
use crate::xml::Element;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The longest `duration` accepted: a year.
const MAX_DURATION_SECS: u64 = 365 * 24 * 3600;

#[derive(Debug)]
enum Action {
    Lookup {
        variable: Box<str>,
        default: Option<Template>,
    },
    Store {
        value: Template,
        ttl: Duration,
    },
    Remove,
}

#[derive(Debug)]
pub struct CacheValue {
    key: Template,
    caching_type: CachingType,
    action: Action,
}

/// The key as the cache keeps it: the service's name before the policy's key, so services
/// never share entries; a long one by its SHA-256.
pub(super) fn full_key(service: &str, key: &str) -> String {
    let full = format!("{service}\u{1f}{key}");
    if full.len() <= MAX_KEY_BYTES {
        return full;
    }
    format!("{service}\u{1f}sha256:{}", hex::encode(Sha256::digest(key)))
}

/// A policy value as the cache keeps it; `None` for null (nothing to keep).
fn to_cached(value: Value<'_>) -> Result<Option<CachedValue>, String> {
    Ok(Some(match value {
        Value::Null => return Ok(None),
        Value::Str(text) => CachedValue::Text(text.into_owned()),
        Value::Int(n) => CachedValue::Int(n),
        Value::Bool(b) => CachedValue::Bool(b),
        Value::Object(ScriptObject(portcullis_script::Value::Json(json))) => {
            CachedValue::Json(json.to_text(false)?)
        }
        Value::Object(object) => CachedValue::Text(object.0.to_text()),
    }))
}

/// A kept value as a variable holds it: JSON becomes a new token.
fn from_cached(value: CachedValue) -> Value<'static> {
    match value {
        CachedValue::Text(text) => Value::Str(text.into()),
        CachedValue::Int(n) => Value::Int(n),
        CachedValue::Bool(b) => Value::Bool(b),
        CachedValue::Json(text) => match portcullis_script::json::Json::parse(&text) {
            Ok(json) => Value::Object(ScriptObject(portcullis_script::Value::Json(json))),
            Err(_) => Value::Str(text.into()),
        },
        // A response `cache-store` kept is not a value.
        CachedValue::Response(_) => Value::Null,
    }
}

impl CacheValue {
    fn name(&self) -> &'static str {
        match self.action {
            Action::Lookup { .. } => "cache-lookup-value",
            Action::Store { .. } => "cache-store-value",
            Action::Remove => "cache-remove-value",
        }
    }
}

impl WaitingPolicy for CacheValue {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            let name = self.name();
            let key = self
                .key
                .render(&*cx.exchange)
                .map_err(|e| expression_failed(name, e))?
                .into_owned();
            let full = full_key(&cx.exchange.matched.service, &key);
            let cache = cx.caches.pick(self.caching_type);
            match &self.action {
                Action::Lookup { variable, default } => {
                    let found = match cache.get(&full).await {
                        Ok(found) => found,
                        Err(error) => {
                            tracing::warn!(%error, "cache lookup failed; treated as a miss");
                            None
                        }
                    };
                    let hit = found.is_some();
                    let value = match (found, default) {
                        (Some(found), _) => Some(from_cached(found)),
                        (None, Some(default)) => Some(
                            default
                                .value(&*cx.exchange)
                                .map_err(|e| expression_failed(name, e))?,
                        ),
                        (None, None) => None,
                    };
                    cx.exchange.note(|| {
                        let outcome = if hit { "found" } else { "not found" };
                        format!("{key}: {outcome}")
                    });
                    if let Some(value) = value {
                        cx.exchange.set_variable(variable, value);
                    }
                }
                Action::Store { value, ttl } => {
                    let value = value
                        .value(&*cx.exchange)
                        .map_err(|e| expression_failed(name, e))?;
                    let cached = to_cached(value).map_err(|e| expression_failed(name, e))?;
                    match cached {
                        Some(cached) if cached.size() > MAX_VALUE_BYTES => {
                            cx.exchange.note(|| {
                                format!(
                                    "{key}: not stored, larger than {} KiB",
                                    MAX_VALUE_BYTES >> 10
                                )
                            });
                        }
                        Some(cached) => {
                            if let Err(error) = cache.set(&full, cached, *ttl).await {
                                tracing::warn!(%error, "cache store failed");
                            }
                            cx.exchange
                                .note(|| format!("{key}: stored for {} s", ttl.as_secs()));
                        }
                        None => {
                            if let Err(error) = cache.remove(&full).await {
                                tracing::warn!(%error, "cache remove failed");
                            }
                            cx.exchange.note(|| format!("{key}: null, removed"));
                        }
                    }
                }
                Action::Remove => {
                    if let Err(error) = cache.remove(&full).await {
                        tracing::warn!(%error, "cache remove failed");
                    }
                    cx.exchange.note(|| format!("{key}: removed"));
                }
            }
            Ok(Flow::Continue)
        })
    }
}

pub(super) fn caching_type(
    element: &Element,
    cx: &Compiler<'_>,
) -> Result<CachingType, Diagnostic> {
    let Some(attribute) = element.attribute("caching-type") else {
        return Ok(CachingType::default());
    };
    Ok(match cx.literal(attribute)? {
        "internal" => CachingType::Internal,
        "external" => CachingType::External,
        "prefer-external" => CachingType::PreferExternal,
        other => {
            return Err(cx.fault(
                attribute.offset,
                format!(
                    "caching-type must be internal, external or prefer-external, not '{other}'."
                ),
            ));
        }
    })
}

fn compile_with(
    element: &Element,
    cx: &mut Compiler<'_>,
    attributes: &[&str],
    action: impl FnOnce(&mut Compiler<'_>) -> Result<Action, Diagnostic>,
) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, attributes)?;
    cx.only_children(element, &[])?;
    let key = cx.template(cx.required(element, "key")?)?;
    let caching_type = caching_type(element, cx)?;
    let policy = CacheValue {
        key,
        caching_type,
        action: action(cx)?,
    };
    Ok(Step::Wait(policy.name(), Box::new(policy)))
}

pub fn compile_lookup(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    compile_with(
        element,
        cx,
        &["key", "variable-name", "default-value", "caching-type"],
        |cx| {
            let variable = cx.literal(cx.required(element, "variable-name")?)?;
            if variable.is_empty() {
                return Err(cx.fault(element.offset, "variable-name must not be empty."));
            }
            Ok(Action::Lookup {
                variable: variable.into(),
                default: cx.optional_template(element, "default-value")?,
            })
        },
    )
}

pub fn compile_store(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    compile_with(
        element,
        cx,
        &["key", "value", "duration", "caching-type"],
        |cx| {
            let ttl = cx.number(cx.required(element, "duration")?, 1..=MAX_DURATION_SECS)?;
            Ok(Action::Store {
                value: cx.template(cx.required(element, "value")?)?,
                ttl: Duration::from_secs(ttl),
            })
        },
    )
}

pub fn compile_remove(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    compile_with(element, cx, &["key", "caching-type"], |_| {
        Ok(Action::Remove)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_belong_to_their_service_and_long_ones_are_hashed() {
        assert_ne!(full_key("a", "k"), full_key("b", "k"));
        let long = "k".repeat(10_000);
        let kept = full_key("svc", &long);
        assert!(kept.len() <= MAX_KEY_BYTES, "{}", kept.len());
        assert_ne!(kept, full_key("svc", &"k".repeat(10_001)));
    }

    #[test]
    fn json_survives_as_a_new_token() {
        let json = portcullis_script::json::Json::parse("{\"a\":[1,2]}").unwrap();
        let value = Value::Object(ScriptObject(portcullis_script::Value::Json(json)));
        let cached = to_cached(value).unwrap().unwrap();
        assert_eq!(cached, CachedValue::Json("{\"a\":[1,2]}".into()));
        assert!(matches!(
            from_cached(cached),
            Value::Object(ScriptObject(portcullis_script::Value::Json(_)))
        ));
    }
}
