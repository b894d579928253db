//! Backends: a service's named targets for `set-backend-service backend-id`, with their
//! credentials, circuit breaker (and its state on this node) and pools.

// A server function takes a form's fields as its arguments (the form posts them by name).
#![allow(clippy::too_many_arguments)]

use crate::api::FieldErrors;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A backend as the page shows it, with the form's view of its settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendSummary {
    pub name: String,
    pub is_pool: bool,
    pub url: String,
    pub description: String,
    /// `name: value` per line.
    pub headers: String,
    /// `name=value` per line.
    pub query: String,
    pub authorization_scheme: String,
    pub authorization_parameter: String,
    pub validate_chain: bool,
    pub validate_name: bool,
    /// `name priority weight` per line (pools).
    pub members: String,
    pub breaker: Option<BreakerSummary>,
    /// The policies, fragments and pools that name it.
    pub used_by: Vec<String>,
}

/// A circuit-breaker rule and its state on this node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerSummary {
    /// `3` (failures) or `50%`.
    pub threshold: String,
    pub interval: String,
    /// `500-599, 429`.
    pub statuses: String,
    pub trip_duration: String,
    pub accept_retry_after: bool,
    /// Seconds until it closes, when open.
    pub open_for_seconds: Option<u64>,
    pub failures: u32,
    pub calls: u32,
    pub trips: u64,
}

#[server]
pub async fn backends_page(service: String) -> Result<Vec<BackendSummary>, ServerFnError> {
    use portcullis_domain::backend::FailureThreshold;
    use portcullis_gateway::circuit_breaker::BreakerState;
    let (state, _) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let records = state
        .control
        .store()
        .list_backends(&service)
        .await
        .map_err(crate::server::internal)?;
    let board = state.control.snapshots().breakers().clone();
    Ok(records
        .into_iter()
        .map(|record| {
            let settings = &record.settings;
            let contract = settings.contract();
            let credentials = contract.credentials.clone().unwrap_or_default();
            let lines = |map: Option<std::collections::BTreeMap<String, Vec<String>>>,
                         separator: &str| {
                map.unwrap_or_default()
                    .into_iter()
                    .flat_map(|(name, values)| {
                        values
                            .into_iter()
                            .map(move |value| format!("{name}{separator}{value}"))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let tls = contract.tls.clone().unwrap_or_default();
            let breaker = settings.breaker().map(|rule| {
                let mut summary = BreakerSummary {
                    threshold: match rule.threshold {
                        FailureThreshold::Count(count) => count.to_string(),
                        FailureThreshold::Percentage(percent) => format!("{percent}%"),
                    },
                    interval: rule.interval.to_string(),
                    statuses: rule
                        .status_ranges
                        .iter()
                        .map(|(min, max)| {
                            if min == max {
                                min.to_string()
                            } else {
                                format!("{min}-{max}")
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    trip_duration: rule.trip_duration.to_string(),
                    accept_retry_after: rule.accept_retry_after,
                    ..BreakerSummary::default()
                };
                if let Some(breaker) = board.get(service.as_str(), record.name.as_str()) {
                    summary.trips = breaker.trips();
                    match breaker.state() {
                        BreakerState::Open { remaining } => {
                            summary.open_for_seconds =
                                Some(remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0));
                        }
                        BreakerState::Closed { failures, calls } => {
                            summary.failures = failures;
                            summary.calls = calls;
                        }
                    }
                }
                summary
            });
            BackendSummary {
                name: record.name.to_string(),
                is_pool: settings.is_pool(),
                url: settings
                    .url()
                    .map(|u| u.as_str().to_owned())
                    .unwrap_or_default(),
                description: settings.description().to_owned(),
                headers: lines(credentials.header.clone(), ": "),
                query: lines(credentials.query.clone(), "="),
                authorization_scheme: credentials
                    .authorization
                    .as_ref()
                    .map(|a| a.scheme.clone())
                    .unwrap_or_default(),
                authorization_parameter: credentials
                    .authorization
                    .as_ref()
                    .map(|a| a.parameter.clone())
                    .unwrap_or_default(),
                validate_chain: tls.validate_certificate_chain.unwrap_or(true),
                validate_name: tls.validate_certificate_name.unwrap_or(true),
                members: settings
                    .members()
                    .iter()
                    .map(|m| format!("{} {} {}", m.backend, m.priority, m.weight))
                    .collect::<Vec<_>>()
                    .join("\n"),
                breaker,
                used_by: record.used_by,
            }
        })
        .collect())
}

/// `name: value` (or `name=value`) lines into a map of value lists; the error names the line.
#[cfg(feature = "ssr")]
fn pairs(
    text: &str,
    separator: char,
    field: &str,
) -> Result<Option<std::collections::BTreeMap<String, Vec<String>>>, FieldErrors> {
    let mut map: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(separator) else {
            return Err(FieldErrors::one(
                field,
                format!("Write each as name{separator}value: '{line}' has no '{separator}'."),
            ));
        };
        map.entry(name.trim().to_owned())
            .or_default()
            .push(value.trim().to_owned());
    }
    Ok((!map.is_empty()).then_some(map))
}

/// **Create** / **Save**. The form owns the URL, description, credentials (headers, query,
/// authorization), TLS checks, the circuit-breaker rule and a pool's members; what else a
/// backend has (a certificate, a resource id, error reasons) is kept when it is edited.
#[server]
pub async fn save_backend(
    service: String,
    original: Option<String>,
    name: String,
    kind: String,
    url: Option<String>,
    description: String,
    headers: Option<String>,
    query: Option<String>,
    authorization_scheme: Option<String>,
    authorization_parameter: Option<String>,
    validate_chain: Option<String>,
    validate_name: Option<String>,
    breaker: Option<String>,
    breaker_threshold: Option<String>,
    breaker_interval: Option<String>,
    breaker_statuses: Option<String>,
    breaker_trip: Option<String>,
    breaker_retry_after: Option<String>,
    members: Option<String>,
) -> Result<FieldErrors, ServerFnError> {
    use portcullis_domain::backend::{
        AuthorizationContract, BackendContract, BreakerRuleContract, CircuitBreakerContract,
        FailureConditionContract, PoolContract, PoolMemberContract, StatusRangeContract,
        TlsContract,
    };
    use portcullis_domain::{BackendName, BackendSettings};
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let store = state.control.store();
    let original = original.filter(|o| !o.trim().is_empty());
    let name = match BackendName::parse(original.as_deref().unwrap_or(name.trim())) {
        Ok(name) => name,
        Err(error) => return Ok(FieldErrors::one("name", error.message)),
    };
    let mut contract = match &original {
        Some(_) => match store.get_backend(&service, &name).await {
            Ok(record) => record.settings.contract().clone(),
            Err(error) => return crate::api::field_errors(error),
        },
        None => BackendContract::default(),
    };
    // Fields of the other kind (a pool's members, a URL's credentials) are not sent.
    let [
        url,
        headers,
        query,
        authorization_scheme,
        authorization_parameter,
        breaker_threshold,
        breaker_interval,
        breaker_statuses,
        breaker_trip,
        members,
    ] = [
        url,
        headers,
        query,
        authorization_scheme,
        authorization_parameter,
        breaker_threshold,
        breaker_interval,
        breaker_statuses,
        breaker_trip,
        members,
    ]
    .map(Option::unwrap_or_default);
    let text = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    contract.description = text(&description);
    if kind == "Pool" {
        contract.kind = Some("Pool".to_owned());
        contract.url = None;
        contract.protocol = None;
        contract.credentials = None;
        contract.tls = None;
        contract.circuit_breaker = None;
        let mut services = Vec::new();
        for line in members.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let number = |at: usize, default: i64| -> Result<Option<i64>, FieldErrors> {
                match words.get(at) {
                    None => Ok(Some(default)),
                    Some(word) => word.parse().map(Some).map_err(|_| {
                        FieldErrors::one(
                            "members",
                            format!("'{line}': write name, priority and weight, e.g. east 1 3."),
                        )
                    }),
                }
            };
            let (priority, weight) = match (number(1, 0), number(2, 1)) {
                (Ok(p), Ok(w)) => (p, w),
                (Err(e), _) | (_, Err(e)) => return Ok(e),
            };
            services.push(PoolMemberContract {
                id: format!("/backends/{}", words.first().copied().unwrap_or_default()),
                priority,
                weight,
            });
        }
        contract.pool = Some(PoolContract { services });
    } else {
        contract.kind = None;
        contract.pool = None;
        contract.url = text(&url);
        contract.protocol = Some(contract.protocol.take().unwrap_or_else(|| "http".into()));
        let mut credentials = contract.credentials.take().unwrap_or_default();
        credentials.header = match pairs(&headers, ':', "headers") {
            Ok(map) => map,
            Err(errors) => return Ok(errors),
        };
        credentials.query = match pairs(&query, '=', "query") {
            Ok(map) => map,
            Err(errors) => return Ok(errors),
        };
        credentials.authorization =
            text(&authorization_scheme).map(|scheme| AuthorizationContract {
                scheme,
                parameter: authorization_parameter.trim().to_owned(),
            });
        let empty = credentials == Default::default();
        contract.credentials = (!empty).then_some(credentials);
        let (chain, host) = (validate_chain.is_some(), validate_name.is_some());
        contract.tls = (!chain || !host).then_some(TlsContract {
            validate_certificate_chain: Some(chain),
            validate_certificate_name: Some(host),
        });
        contract.circuit_breaker = if breaker.is_some() {
            let old = contract
                .circuit_breaker
                .take()
                .and_then(|b| b.rules.into_iter().next())
                .unwrap_or_default();
            let threshold = breaker_threshold.trim();
            let (count, percentage) = match threshold.strip_suffix('%') {
                Some(percent) => (None, percent.trim().parse().ok()),
                None => (threshold.parse().ok(), None),
            };
            if count.is_none() && percentage.is_none() {
                return Ok(FieldErrors::one(
                    "breaker_threshold",
                    "Write a number of failures (3) or a percentage of calls (50%).",
                ));
            }
            let mut ranges = Vec::new();
            for part in breaker_statuses
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                let (min, max) = part.split_once('-').unwrap_or((part, part));
                match (min.trim().parse(), max.trim().parse()) {
                    (Ok(min), Ok(max)) => ranges.push(StatusRangeContract { min, max }),
                    _ => {
                        return Ok(FieldErrors::one(
                            "breaker_statuses",
                            format!("'{part}' is not a status or a range such as 500-599."),
                        ));
                    }
                }
            }
            let old_condition = old.failure_condition.unwrap_or_default();
            Some(CircuitBreakerContract {
                rules: vec![BreakerRuleContract {
                    name: old.name.or_else(|| Some("breaker".to_owned())),
                    failure_condition: Some(FailureConditionContract {
                        count,
                        percentage,
                        interval: text(&breaker_interval),
                        status_code_ranges: Some(ranges),
                        error_reasons: old_condition.error_reasons,
                    }),
                    trip_duration: text(&breaker_trip),
                    accept_retry_after: Some(breaker_retry_after.is_some()),
                }],
            })
        } else {
            None
        };
    }
    let settings = match BackendSettings::parse(&name, contract) {
        Ok(settings) => settings,
        Err(error) => return Ok(FieldErrors::one(form_field(&error.field), error.message)),
    };
    if let Err(error) = state
        .control
        .write(store.put_backend(&actor, &service, &name, settings))
        .await
    {
        return crate::api::field_errors(error).map(|mut errors| {
            for error in &mut errors.0 {
                error.field = form_field(&error.field).to_owned();
            }
            errors
        });
    }
    Ok(FieldErrors::default())
}

/// The form field that shows a fault of the backend property `field`.
#[cfg(feature = "ssr")]
fn form_field(field: &str) -> &str {
    match field {
        "credentials.header" => "headers",
        "credentials.query" => "query",
        f if f.starts_with("credentials.authorization") => "authorization_scheme",
        "credentials" => "headers",
        f if f.ends_with("count") || f.ends_with("percentage") => "breaker_threshold",
        f if f.ends_with("failureCondition") => "breaker_threshold",
        f if f.ends_with("interval") => "breaker_interval",
        f if f.ends_with("statusCodeRanges") => "breaker_statuses",
        f if f.ends_with("tripDuration") => "breaker_trip",
        f if f.starts_with("pool") => "members",
        "type" => "form",
        other => other,
    }
}

/// Deletes a backend; `Some(message)` when a policy or a pool uses it.
#[server]
pub async fn delete_backend(
    service: String,
    name: String,
) -> Result<Option<String>, ServerFnError> {
    use portcullis_store::StoreError;
    let (state, actor) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    let name =
        portcullis_domain::BackendName::parse(name).map_err(|e| ServerFnError::new(e.message))?;
    match state
        .control
        .write(
            state
                .control
                .store()
                .delete_backend(&actor, &service, &name),
        )
        .await
    {
        Ok(()) => Ok(None),
        Err(StoreError::Conflict { message, .. }) => Ok(Some(message)),
        Err(other) => Err(crate::server::internal(other)),
    }
}

/// **Close breaker**: closes an open circuit breaker on this node now.
#[server]
pub async fn reset_breaker(service: String, name: String) -> Result<(), ServerFnError> {
    let (state, _) = crate::server::require_admin().await?;
    let service = crate::server::parse_service(service)?;
    if let Some(breaker) = state
        .control
        .snapshots()
        .breakers()
        .get(service.as_str(), name.trim())
    {
        breaker.reset();
    }
    Ok(())
}
