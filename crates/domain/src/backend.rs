//! Backends (APIM's `…/backends/{id}`): a named target that `set-backend-service
//! backend-id="…"` sends calls to — one URL with its credentials, TLS checks and circuit
//! breaker (`type: Single`), or a load-balanced pool of such backends (`type: Pool`).
//!
//! [`BackendContract`] is APIM's JSON (the management API's `properties`, an APIOps
//! `backendInformation.json`); [`BackendSettings::parse`] turns it into checked settings and
//! [`BackendSettings::contract`] gives the same JSON back, so what was written reads back.
//!
//! What is checked here, each fault against its property: the URL (absolute http/https), the
//! protocol, credential header and query names, at most one circuit-breaker rule with a count
//! (≥ 1) or a percentage (1–100), an interval and a trip duration (ISO 8601, at most 30 days),
//! status ranges inside 100–599; a pool of 1–30 members (`/backends/{name}`), priority and
//! weight 0–100. Whether the named members, certificates and named values exist is the
//! store's question (it has the other rows).

use crate::{BackendName, CertificateName, IsoDuration, ServiceUrl, ValidationError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// APIM's backend properties, as JSON carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendContract {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// An Azure resource the backend stands for; kept, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<CredentialsContract>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsContract>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<CircuitBreakerContract>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<PoolContract>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CredentialsContract {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<AuthorizationContract>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_ids: Option<Vec<String>>,
    /// Thumbprints (APIM: ignored when `certificateIds` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorizationContract {
    pub scheme: String,
    pub parameter: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsContract {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_certificate_chain: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_certificate_name: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CircuitBreakerContract {
    #[serde(default)]
    pub rules: Vec<BreakerRuleContract>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BreakerRuleContract {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_condition: Option<FailureConditionContract>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trip_duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_retry_after: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FailureConditionContract {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code_ranges: Option<Vec<StatusRangeContract>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_reasons: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusRangeContract {
    pub min: i64,
    pub max: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PoolContract {
    #[serde(default)]
    pub services: Vec<PoolMemberContract>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PoolMemberContract {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
}

/// What a single backend sends with every call: headers and query parameters (values may
/// name `{{named values}}`, replaced when the gateway compiles its configuration), an
/// `Authorization` header, and a client certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendCredentials {
    pub headers: Vec<(http::HeaderName, Vec<String>)>,
    pub query: Vec<(String, Vec<String>)>,
    /// `Authorization: {scheme} {parameter}`.
    pub authorization: Option<(String, String)>,
    /// The certificate the gateway presents (the first of `certificateIds`).
    pub certificate: Option<CertificateName>,
    /// Or one named by thumbprint (upper-case).
    pub certificate_thumbprint: Option<String>,
}

/// When a circuit breaker trips: a number of failures, or a share of the calls, within an
/// interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureThreshold {
    Count(u32),
    /// Percent of the calls in the interval (at least [`MIN_CALLS_FOR_PERCENTAGE`] of them).
    Percentage(u8),
}

/// A percentage rule waits for this many calls in its interval before it judges: one
/// failed call out of one is 100%, but says little.
pub const MIN_CALLS_FOR_PERCENTAGE: u32 = 10;

/// APIM's circuit-breaker rule (one per backend).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerRule {
    pub name: String,
    pub threshold: FailureThreshold,
    pub interval: IsoDuration,
    /// Inclusive status ranges that count as failures. A call that gets no answer at all
    /// (the connection fails or times out) always counts.
    pub status_ranges: Vec<(u16, u16)>,
    pub trip_duration: IsoDuration,
    /// A failing answer's `Retry-After` sets how long the breaker stays open.
    pub accept_retry_after: bool,
}

impl BreakerRule {
    /// Whether an answer with this status counts as a failure.
    pub fn counts_status(&self, status: u16) -> bool {
        self.status_ranges
            .iter()
            .any(|&(min, max)| (min..=max).contains(&status))
    }
}

/// A pool member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolMember {
    pub backend: BackendName,
    /// Lower goes first; a higher number is used only when every member before it is
    /// unavailable (its breaker open).
    pub priority: u8,
    /// The member's share of calls within its priority (0 counts as 1).
    pub weight: u8,
}

/// A single backend or a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // one per backend, built when a backend is saved
pub enum BackendTarget {
    Single {
        url: ServiceUrl,
        credentials: BackendCredentials,
        validate_chain: bool,
        validate_name: bool,
        breaker: Option<BreakerRule>,
    },
    Pool(Vec<PoolMember>),
}

/// A backend: its contract as written (what reads and extracts give back) and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendSettings {
    contract: BackendContract,
    pub target: BackendTarget,
}

/// At most this many members in a pool (APIM's limit).
pub const MAX_POOL_MEMBERS: usize = 30;
/// Bounds on credentials, so one backend cannot carry an unbounded header set.
const MAX_CREDENTIAL_ENTRIES: usize = 32;
const MAX_CREDENTIAL_VALUE: usize = 4096;
const MAX_TEXT: usize = 1000;

fn fault(field: &str, message: impl Into<String>) -> ValidationError {
    ValidationError::new(field, "InvalidBackend", message)
}

/// The backend ids a policy document or fragment names in literal `backend-id` attributes.
pub fn named_in(text: &str) -> Vec<String> {
    portcullis_policy::catalogue::set_backend_service::named_backends(text)
}

/// The name at the end of an id written `/{kind}/{name}`, as a full Azure resource id ending
/// so, or as the bare name.
fn resource_tail<'a>(id: &'a str, kind: &str) -> &'a str {
    let marker = format!("/{kind}/");
    let name = id.rfind(&marker).map_or(id, |at| &id[at + marker.len()..]);
    name.trim_matches('/')
}

/// A pool member's id: `/backends/{name}`, a full Azure resource id ending so, or a name.
pub fn member_name(id: &str) -> Result<BackendName, ValidationError> {
    BackendName::parse(resource_tail(id, "backends")).map_err(|e| e.for_field("pool.services"))
}

/// A certificate id: `/certificates/{name}` or a full resource id ending so, or a name.
fn certificate_name(id: &str) -> Result<CertificateName, ValidationError> {
    CertificateName::parse(resource_tail(id, "certificates"))
        .map_err(|e| e.for_field("credentials.certificateIds"))
}

fn credential_values(
    field: &str,
    entries: &BTreeMap<String, Vec<String>>,
) -> Result<(), ValidationError> {
    if entries.len() > MAX_CREDENTIAL_ENTRIES {
        return Err(fault(
            field,
            format!("At most {MAX_CREDENTIAL_ENTRIES} names are allowed."),
        ));
    }
    for (name, values) in entries {
        if values.is_empty() || values.len() > MAX_CREDENTIAL_ENTRIES {
            return Err(fault(
                field,
                format!("'{name}' needs 1 to {MAX_CREDENTIAL_ENTRIES} values."),
            ));
        }
        if let Some(value) = values
            .iter()
            .find(|v| v.len() > MAX_CREDENTIAL_VALUE || v.contains(['\r', '\n']))
        {
            return Err(fault(
                field,
                format!(
                    "The value of '{name}' must be one line of at most {MAX_CREDENTIAL_VALUE} bytes ('{}…').",
                    value.chars().take(20).collect::<String>()
                ),
            ));
        }
    }
    Ok(())
}

fn parse_credentials(
    contract: &CredentialsContract,
) -> Result<BackendCredentials, ValidationError> {
    let mut credentials = BackendCredentials::default();
    if let Some(header) = &contract.header {
        credential_values("credentials.header", header)?;
        for (name, values) in header {
            let parsed = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                fault(
                    "credentials.header",
                    format!("'{name}' is not a header name."),
                )
            })?;
            credentials.headers.push((parsed, values.clone()));
        }
    }
    if let Some(query) = &contract.query {
        credential_values("credentials.query", query)?;
        for (name, values) in query {
            if name.is_empty() {
                return Err(fault(
                    "credentials.query",
                    "A query parameter needs a name.",
                ));
            }
            credentials.query.push((name.clone(), values.clone()));
        }
    }
    if let Some(authorization) = &contract.authorization {
        let scheme = authorization.scheme.trim();
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(fault(
                "credentials.authorization.scheme",
                format!("'{scheme}' is not an authorization scheme (Basic, Bearer, …)."),
            ));
        }
        let parameter = &authorization.parameter;
        if parameter.len() > MAX_CREDENTIAL_VALUE || parameter.contains(['\r', '\n']) {
            return Err(fault(
                "credentials.authorization.parameter",
                format!("The parameter must be one line of at most {MAX_CREDENTIAL_VALUE} bytes."),
            ));
        }
        credentials.authorization = Some((scheme.to_owned(), parameter.clone()));
    }
    match (&contract.certificate_ids, &contract.certificate) {
        (Some(ids), _) if !ids.is_empty() => {
            if ids.len() > 1 {
                return Err(fault(
                    "credentials.certificateIds",
                    "A backend presents one client certificate; name one.",
                ));
            }
            credentials.certificate = Some(certificate_name(&ids[0])?);
        }
        (_, Some(thumbprints)) if !thumbprints.is_empty() => {
            let thumbprint = thumbprints[0].trim();
            if thumbprints.len() > 1
                || thumbprint.len() != 40
                || !thumbprint.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(fault(
                    "credentials.certificate",
                    "Name one client certificate by its thumbprint (40 hex digits).",
                ));
            }
            credentials.certificate_thumbprint = Some(thumbprint.to_ascii_uppercase());
        }
        _ => {}
    }
    Ok(credentials)
}

fn parse_rule(rule: &BreakerRuleContract) -> Result<BreakerRule, ValidationError> {
    let field = "circuitBreaker.rules";
    let condition = rule
        .failure_condition
        .as_ref()
        .ok_or_else(|| fault(field, "A rule needs a failureCondition."))?;
    let threshold = match (condition.count, condition.percentage) {
        (Some(count), None) => FailureThreshold::Count(
            u32::try_from(count)
                .ok()
                .filter(|c| (1..=1_000_000).contains(c))
                .ok_or_else(|| {
                    fault(
                        "circuitBreaker.rules.failureCondition.count",
                        "The count is a number from 1 to 1,000,000.",
                    )
                })?,
        ),
        (None, Some(percentage)) => FailureThreshold::Percentage(
            u8::try_from(percentage)
                .ok()
                .filter(|p| (1..=100).contains(p))
                .ok_or_else(|| {
                    fault(
                        "circuitBreaker.rules.failureCondition.percentage",
                        "The percentage is a number from 1 to 100.",
                    )
                })?,
        ),
        _ => {
            return Err(fault(
                "circuitBreaker.rules.failureCondition",
                "Give either count or percentage (one of the two).",
            ));
        }
    };
    let interval = IsoDuration::parse(
        condition.interval.as_deref().ok_or_else(|| {
            fault(
                "circuitBreaker.rules.failureCondition.interval",
                "An interval is required (e.g. PT1M).",
            )
        })?,
        "circuitBreaker.rules.failureCondition.interval",
    )?;
    let mut status_ranges = Vec::new();
    for range in condition.status_code_ranges.iter().flatten() {
        let ok = |n: i64| u16::try_from(n).ok().filter(|s| (100..=599).contains(s));
        match (ok(range.min), ok(range.max)) {
            (Some(min), Some(max)) if min <= max => status_ranges.push((min, max)),
            _ => {
                return Err(fault(
                    "circuitBreaker.rules.failureCondition.statusCodeRanges",
                    format!(
                        "{}–{} is not a range of status codes (100–599, min ≤ max).",
                        range.min, range.max
                    ),
                ));
            }
        }
    }
    if status_ranges.len() > 16 {
        return Err(fault(
            "circuitBreaker.rules.failureCondition.statusCodeRanges",
            "At most 16 ranges.",
        ));
    }
    let trip_duration = IsoDuration::parse(
        rule.trip_duration.as_deref().ok_or_else(|| {
            fault(
                "circuitBreaker.rules.tripDuration",
                "A trip duration is required (e.g. PT1M).",
            )
        })?,
        "circuitBreaker.rules.tripDuration",
    )?;
    Ok(BreakerRule {
        name: rule.name.clone().unwrap_or_default(),
        threshold,
        interval,
        status_ranges,
        trip_duration,
        accept_retry_after: rule.accept_retry_after.unwrap_or(false),
    })
}

fn parse_pool(pool: &PoolContract, own: &BackendName) -> Result<Vec<PoolMember>, ValidationError> {
    let field = "pool.services";
    if pool.services.is_empty() || pool.services.len() > MAX_POOL_MEMBERS {
        return Err(fault(
            field,
            format!("A pool has 1 to {MAX_POOL_MEMBERS} backends."),
        ));
    }
    let mut members: Vec<PoolMember> = Vec::with_capacity(pool.services.len());
    for member in &pool.services {
        let backend = member_name(&member.id)?;
        if &backend == own {
            return Err(fault(field, "A pool cannot contain itself."));
        }
        if members.iter().any(|m| m.backend == backend) {
            return Err(fault(field, format!("'{backend}' is listed twice.")));
        }
        let small = |value: Option<i64>, what: &str| {
            value.map_or(Ok(0), |v| {
                u8::try_from(v)
                    .ok()
                    .filter(|v| *v <= 100)
                    .ok_or_else(|| fault(field, format!("The {what} of '{backend}' is 0 to 100.")))
            })
        };
        members.push(PoolMember {
            priority: small(member.priority, "priority")?,
            weight: small(member.weight, "weight")?,
            backend,
        });
    }
    Ok(members)
}

fn check_text(field: &str, value: &Option<String>) -> Result<(), ValidationError> {
    match value {
        Some(text) if text.chars().count() > MAX_TEXT => {
            Err(fault(field, format!("At most {MAX_TEXT} characters.")))
        }
        _ => Ok(()),
    }
}

impl BackendSettings {
    /// Parses APIM's backend properties for the backend `name`.
    pub fn parse(name: &BackendName, contract: BackendContract) -> Result<Self, ValidationError> {
        check_text("title", &contract.title)?;
        check_text("description", &contract.description)?;
        check_text("resourceId", &contract.resource_id)?;
        match contract.protocol.as_deref() {
            None | Some("http" | "soap") => {}
            Some(other) => {
                return Err(fault(
                    "protocol",
                    format!("The protocol is http or soap, not '{other}'."),
                ));
            }
        }
        let is_pool = match contract.kind.as_deref() {
            None | Some("Single" | "single") => false,
            Some("Pool" | "pool") => true,
            Some(other) => {
                return Err(fault(
                    "type",
                    format!("The type is Single or Pool, not '{other}'."),
                ));
            }
        };
        let target = if is_pool {
            let pool = contract
                .pool
                .as_ref()
                .ok_or_else(|| fault("pool", "A pool lists its backends in pool.services."))?;
            if contract.credentials.is_some() || contract.circuit_breaker.is_some() {
                return Err(fault(
                    "type",
                    "A pool has no credentials or circuit breaker of its own; set them on its members.",
                ));
            }
            BackendTarget::Pool(parse_pool(pool, name)?)
        } else {
            if contract.pool.is_some() {
                return Err(fault("pool", "Only a backend of type Pool has members."));
            }
            let url = ServiceUrl::parse(contract.url.as_deref().unwrap_or_default())
                .map_err(|e| e.for_field("url"))?;
            let credentials = contract
                .credentials
                .as_ref()
                .map(parse_credentials)
                .transpose()?
                .unwrap_or_default();
            let rules = contract
                .circuit_breaker
                .as_ref()
                .map(|b| b.rules.as_slice())
                .unwrap_or_default();
            if rules.len() > 1 {
                return Err(fault(
                    "circuitBreaker.rules",
                    "A backend has at most one circuit-breaker rule (as in APIM).",
                ));
            }
            let breaker = rules.first().map(parse_rule).transpose()?;
            let tls = contract.tls.clone().unwrap_or_default();
            BackendTarget::Single {
                url,
                credentials,
                validate_chain: tls.validate_certificate_chain.unwrap_or(true),
                validate_name: tls.validate_certificate_name.unwrap_or(true),
                breaker,
            }
        };
        Ok(Self { contract, target })
    }

    /// The properties as written.
    pub fn contract(&self) -> &BackendContract {
        &self.contract
    }

    pub fn title(&self) -> &str {
        self.contract.title.as_deref().unwrap_or_default()
    }

    pub fn description(&self) -> &str {
        self.contract.description.as_deref().unwrap_or_default()
    }

    pub fn is_pool(&self) -> bool {
        matches!(self.target, BackendTarget::Pool(_))
    }

    /// The URL of a single backend.
    pub fn url(&self) -> Option<&ServiceUrl> {
        match &self.target {
            BackendTarget::Single { url, .. } => Some(url),
            BackendTarget::Pool(_) => None,
        }
    }

    /// The pool's members (none for a single backend).
    pub fn members(&self) -> &[PoolMember] {
        match &self.target {
            BackendTarget::Pool(members) => members,
            BackendTarget::Single { .. } => &[],
        }
    }

    /// The circuit-breaker rule, if any.
    pub fn breaker(&self) -> Option<&BreakerRule> {
        match &self.target {
            BackendTarget::Single { breaker, .. } => breaker.as_ref(),
            BackendTarget::Pool(_) => None,
        }
    }

    /// The credentials of a single backend.
    pub fn credentials(&self) -> Option<&BackendCredentials> {
        match &self.target {
            BackendTarget::Single { credentials, .. } => Some(credentials),
            BackendTarget::Pool(_) => None,
        }
    }

    /// The display names of the named values its credentials use.
    pub fn named_value_references(&self) -> Vec<String> {
        let Some(credentials) = self.credentials() else {
            return Vec::new();
        };
        let mut names: Vec<String> = credentials
            .headers
            .iter()
            .flat_map(|(_, values)| values)
            .chain(credentials.query.iter().flat_map(|(_, values)| values))
            .chain(credentials.authorization.iter().map(|(_, p)| p))
            .flat_map(|text| crate::named_value::references(text))
            .map(str::to_owned)
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> BackendName {
        BackendName::parse(text).expect("a name")
    }

    fn parse(json: serde_json::Value) -> Result<BackendSettings, ValidationError> {
        let contract: BackendContract = serde_json::from_value(json).expect("contract JSON");
        BackendSettings::parse(&name("b"), contract)
    }

    #[test]
    fn reads_apims_documented_breaker() {
        // The rule of APIM's backends page (learn.microsoft.com, "Circuit breaker").
        let settings = parse(serde_json::json!({
            "description": "Load balancer for multiple backends",
            "url": "https://backend.com/api",
            "protocol": "http",
            "circuitBreaker": {"rules": [{
                "failureCondition": {
                    "count": 3,
                    "errorReasons": ["Server errors"],
                    "interval": "PT1H",
                    "statusCodeRanges": [{"min": 500, "max": 599}]
                },
                "name": "myBreakerRule",
                "tripDuration": "PT1H",
                "acceptRetryAfter": true
            }]}
        }))
        .expect("valid");
        let rule = settings.breaker().expect("a rule");
        assert_eq!(rule.threshold, FailureThreshold::Count(3));
        assert_eq!(rule.interval.duration().as_secs(), 3600);
        assert!(rule.counts_status(503) && !rule.counts_status(429));
        assert!(rule.accept_retry_after);
    }

    #[test]
    fn reads_a_pool_with_priorities_and_weights() {
        let settings = parse(serde_json::json!({
            "type": "Pool",
            "pool": {"services": [
                {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/x/backends/backend-1", "priority": 1, "weight": 3},
                {"id": "/backends/backend-2", "priority": 2}
            ]}
        }))
        .expect("valid");
        let members = settings.members();
        assert_eq!(members[0].backend.as_str(), "backend-1");
        assert_eq!((members[0].priority, members[0].weight), (1, 3));
        assert_eq!(members[1].backend.as_str(), "backend-2");
    }

    #[test]
    fn each_fault_names_its_property() {
        let cases = [
            (serde_json::json!({"url": "ftp://x"}), "url"),
            (serde_json::json!({}), "url"),
            (
                serde_json::json!({"url": "http://x", "protocol": "grpc"}),
                "protocol",
            ),
            (
                serde_json::json!({"url": "http://x", "credentials": {"header": {"bad name": ["v"]}}}),
                "credentials.header",
            ),
            (
                serde_json::json!({"url": "http://x", "credentials": {"header": {"x": ["a\nb"]}}}),
                "credentials.header",
            ),
            (
                serde_json::json!({"url": "http://x", "circuitBreaker": {"rules": [{"failureCondition": {"count": 1, "percentage": 5, "interval": "PT1M"}, "tripDuration": "PT1M"}]}}),
                "circuitBreaker.rules.failureCondition",
            ),
            (
                serde_json::json!({"url": "http://x", "circuitBreaker": {"rules": [{"failureCondition": {"count": 1, "interval": "1 minute"}, "tripDuration": "PT1M"}]}}),
                "circuitBreaker.rules.failureCondition.interval",
            ),
            (
                serde_json::json!({"url": "http://x", "circuitBreaker": {"rules": [{"failureCondition": {"count": 1, "interval": "PT1M", "statusCodeRanges": [{"min": 600, "max": 700}]}, "tripDuration": "PT1M"}]}}),
                "circuitBreaker.rules.failureCondition.statusCodeRanges",
            ),
            (
                serde_json::json!({"type": "Pool", "pool": {"services": []}}),
                "pool.services",
            ),
            (
                serde_json::json!({"type": "Pool", "pool": {"services": [{"id": "/backends/b"}]}}),
                "pool.services",
            ),
            (
                serde_json::json!({"type": "Pool", "pool": {"services": [{"id": "/backends/a", "weight": 101}]}}),
                "pool.services",
            ),
        ];
        for (json, field) in cases {
            let error = parse(json.clone()).expect_err(&json.to_string());
            assert_eq!(error.field, field, "{json}: {}", error.message);
        }
    }

    #[test]
    fn finds_named_values_in_credentials() {
        let settings = parse(serde_json::json!({
            "url": "http://x",
            "credentials": {
                "header": {"x-key": ["{{backend-key}}"]},
                "query": {"sig": ["{{sig}}"]},
                "authorization": {"scheme": "Basic", "parameter": "{{basic}}"}
            }
        }))
        .expect("valid");
        assert_eq!(
            settings.named_value_references(),
            ["backend-key", "basic", "sig"]
        );
    }

    #[test]
    fn the_contract_reads_back_as_written() {
        let json = serde_json::json!({"url": "http://x/api", "protocol": "http", "tls": {"validateCertificateChain": false}});
        let settings = parse(json.clone()).expect("valid");
        assert_eq!(
            serde_json::to_value(settings.contract()).expect("json"),
            json
        );
    }
}
