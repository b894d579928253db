//! A service's backends, compiled for the request path: each single backend's base URL split
//! once, its credentials with `{{named values}}` replaced and made into header values and an
//! encoded query, its client certificate and TLS checks, and its circuit breaker; each pool
//! as priority groups of such backends with a rotating cursor.
//!
//! [`CompiledBackend::choose`] picks where one call goes: a single backend unless its
//! breaker is open; for a pool, the first priority group (lowest number) with a member whose
//! breaker is closed, and within it the members in turn, each as often as its weight says
//! (weights 1 and 3 go A, B, B, B). Only when every member is open does the call get 503.

use crate::circuit_breaker::{Breaker, BreakerBoard};
use crate::snapshot::Backend;
use http::header::{HeaderName, HeaderValue};
use portcullis_domain::backend::BackendTarget;
use portcullis_domain::{BackendSettings, Certificate, NamedValueMap, PolicyLibrary};
use portcullis_policy::policy_text::substitute_named_values;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Which of the backend's TLS certificate checks the gateway makes (APIM's
/// `tls.validateCertificateChain` and `validateCertificateName`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TlsChecks {
    /// Chain and name (the default).
    #[default]
    Full,
    /// The chain, not whether the certificate names the host.
    ChainOnly,
    /// None: any certificate is accepted (the connection is still encrypted).
    None,
}

/// One backend URL with what goes with it.
#[derive(Debug)]
pub struct SingleBackend {
    pub name: Arc<str>,
    pub base: Backend,
    /// Credential headers, set on every call (replacing the caller's of the same name).
    pub headers: Vec<(HeaderName, Vec<HeaderValue>)>,
    /// Credential query parameters, encoded, added after the caller's.
    pub query: String,
    pub certificate: Option<Arc<Certificate>>,
    pub tls: TlsChecks,
    pub breaker: Option<Arc<Breaker>>,
}

/// Members of one priority in a pool.
#[derive(Debug)]
pub struct PriorityGroup {
    /// Each member with the end of its share in `0..total_weight`.
    members: Vec<(Arc<SingleBackend>, u64)>,
    total_weight: u64,
    cursor: AtomicU64,
}

#[derive(Debug)]
pub enum CompiledBackend {
    Single(Arc<SingleBackend>),
    Pool {
        /// By priority, lowest number first.
        groups: Vec<PriorityGroup>,
    },
}

/// No member can take the call: every breaker is open.
#[derive(Debug, Clone, Copy)]
pub struct Unavailable {
    /// When the first of them closes.
    pub retry_after: Duration,
}

impl PriorityGroup {
    /// The next member in turn whose breaker is closed: the one the weighted rotation
    /// names, else the members after it, once round (so at most one look at each member).
    fn next_available(&self) -> Result<&Arc<SingleBackend>, Unavailable> {
        let position = self.cursor.fetch_add(1, Ordering::Relaxed) % self.total_weight.max(1);
        let first = self
            .members
            .iter()
            .position(|(_, end)| position < *end)
            .unwrap_or(0);
        let mut soonest = Duration::MAX;
        for step in 0..self.members.len() {
            let Some((member, _)) = self.members.get((first + step) % self.members.len()) else {
                continue;
            };
            match member.breaker.as_ref().and_then(|b| b.open_for()) {
                None => return Ok(member),
                Some(open) => soonest = soonest.min(open),
            }
        }
        Err(Unavailable {
            retry_after: soonest,
        })
    }
}

impl CompiledBackend {
    /// The backend this call goes to.
    pub fn choose(&self) -> Result<&Arc<SingleBackend>, Unavailable> {
        match self {
            Self::Single(single) => match single.breaker.as_ref().and_then(|b| b.open_for()) {
                None => Ok(single),
                Some(retry_after) => Err(Unavailable { retry_after }),
            },
            Self::Pool { groups } => {
                let mut soonest = Duration::MAX;
                for group in groups {
                    match group.next_available() {
                        Ok(member) => return Ok(member),
                        Err(unavailable) => soonest = soonest.min(unavailable.retry_after),
                    }
                }
                Err(Unavailable {
                    retry_after: soonest,
                })
            }
        }
    }
}

/// Compiles a service's backends. A backend that cannot be compiled (a credential that is
/// not a valid header value once its named values are in) is left out with a log line;
/// calls naming it get an error.
pub fn compile(
    service: &str,
    library: &PolicyLibrary,
    named_values: &NamedValueMap,
    board: &BreakerBoard,
) -> HashMap<Arc<str>, CompiledBackend> {
    let mut singles: HashMap<&str, Arc<SingleBackend>> = HashMap::new();
    for (id, settings) in library.backends() {
        match compile_single(service, id, settings, library, named_values, board) {
            Ok(Some(single)) => {
                singles.insert(id, Arc::new(single));
            }
            Ok(None) => {}
            Err(reason) => {
                tracing::warn!(service, backend = id, %reason, "backend left out");
            }
        }
    }
    let mut compiled: HashMap<Arc<str>, CompiledBackend> = singles
        .iter()
        .map(|(id, single)| (Arc::from(*id), CompiledBackend::Single(single.clone())))
        .collect();
    for (id, settings) in library.backends() {
        let members = settings.members();
        if members.is_empty() {
            continue;
        }
        let mut priorities: Vec<u8> = members.iter().map(|m| m.priority).collect();
        priorities.sort_unstable();
        priorities.dedup();
        let groups: Vec<PriorityGroup> = priorities
            .into_iter()
            .map(|priority| {
                let mut end = 0;
                let members: Vec<(Arc<SingleBackend>, u64)> = members
                    .iter()
                    .filter(|m| m.priority == priority)
                    .filter_map(|m| {
                        let single = singles.get(m.backend.as_str())?.clone();
                        end += u64::from(m.weight.max(1));
                        Some((single, end))
                    })
                    .collect();
                PriorityGroup {
                    members,
                    total_weight: end,
                    cursor: AtomicU64::new(0),
                }
            })
            .filter(|group| group.total_weight > 0)
            .collect();
        if groups.is_empty() {
            tracing::warn!(service, backend = id, "pool left out: no member compiled");
            continue;
        }
        compiled.insert(Arc::from(id), CompiledBackend::Pool { groups });
    }
    compiled
}

fn compile_single(
    service: &str,
    id: &str,
    settings: &BackendSettings,
    library: &PolicyLibrary,
    named_values: &NamedValueMap,
    board: &BreakerBoard,
) -> Result<Option<SingleBackend>, String> {
    let BackendTarget::Single {
        url,
        credentials,
        validate_chain,
        validate_name,
        breaker,
    } = &settings.target
    else {
        return Ok(None);
    };
    let base = Backend::from_url(url.url()).ok_or("the URL has no host")?;
    let resolve = |text: &str| substitute_named_values(text, named_values);
    let mut headers = Vec::new();
    for (name, values) in &credentials.headers {
        let values = values
            .iter()
            .map(|v| HeaderValue::from_str(&resolve(v)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| format!("the value of header {name} is not a header value"))?;
        headers.push((name.clone(), values));
    }
    if let Some((scheme, parameter)) = &credentials.authorization {
        let value = HeaderValue::from_str(&format!("{scheme} {}", resolve(parameter)))
            .map_err(|_| "the authorization parameter is not a header value".to_owned())?;
        headers.push((http::header::AUTHORIZATION, vec![value]));
    }
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, values) in &credentials.query {
        for value in values {
            query.append_pair(name, &resolve(value));
        }
    }
    let certificate = match (
        &credentials.certificate,
        &credentials.certificate_thumbprint,
    ) {
        (Some(id), _) => library
            .certificates()
            .find(|(name, _)| *name == id.as_str())
            .map(|(_, c)| c.clone()),
        (None, Some(thumbprint)) => library
            .certificates()
            .map(|(_, c)| c)
            .find(|c| c.thumbprint() == thumbprint && c.has_private_key())
            .cloned(),
        (None, None) => None,
    };
    let tls = match (validate_chain, validate_name) {
        (true, true) => TlsChecks::Full,
        (true, false) => TlsChecks::ChainOnly,
        (false, _) => TlsChecks::None,
    };
    Ok(Some(SingleBackend {
        name: Arc::from(id),
        base,
        headers,
        query: query.finish(),
        certificate,
        tls,
        breaker: breaker
            .as_ref()
            .map(|rule| board.breaker(service, id, rule)),
    }))
}
