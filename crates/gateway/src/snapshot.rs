//! The compiled, immutable configuration the gateway routes by, and the handle that swaps it.

use crate::circuit_breaker::BreakerBoard;
use crate::grants::{GrantScope, GrantTable, KeyMatch};
use crate::operation_table::OperationTable;
use crate::policies::{OperationPipelines, ServicePolicies};
use crate::settings::GatewaySettings;
use arc_swap::ArcSwap;
use http::HeaderName;
use portcullis_domain::model::{ApiConfig, ConfigModel, ServiceConfig, SubscriptionsRead};
use portcullis_domain::{ApiName, OperationName, ProductName, ServiceName, UrlTemplate};
use portcullis_policy::catalogue::cors::Cors;
use std::collections::HashMap;
use std::sync::Arc;

/// Everything a request needs to be routed and authorised, precomputed.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub revision: i64,
    /// The revision the subscription tables are as of; `None` for the empty snapshot a
    /// gateway starts with, which holds no tables read from a store.
    pub grants_revision: Option<i64>,
    services: HashMap<String, Arc<CompiledService>>,
    default_service: Option<Arc<CompiledService>>,
    /// `.localhost`, `.example.com`, …: suffixes that turn the first host label into a
    /// service name.
    host_suffixes: Vec<String>,
}

#[derive(Debug)]
pub struct CompiledService {
    pub name: ServiceName,
    /// The name again, shared into every request's policy exchange.
    pub name_text: Arc<str>,
    pub apis: Vec<CompiledApi>,
    apis_by_suffix: HashMap<String, usize>,
    max_suffix_segments: usize,
    pub products: Vec<CompiledProduct>,
    products_by_name: HashMap<Arc<str>, usize>,
    /// Who may call. Shared with the snapshots before and after this one for as long as no
    /// subscription changes.
    pub grants: Arc<GrantTable>,
    /// Secret named values (display name, value), masked in traces.
    pub secrets: Arc<[(String, String)]>,
    /// The service's certificates that hold a private key, by thumbprint, for
    /// `authentication-certificate` (one uploaded twice, once without its key, is here once).
    pub certificates: HashMap<Arc<str>, Arc<portcullis_domain::Certificate>>,
    /// The same, by id (for `certificate-id` given by an expression).
    pub certificate_ids: HashMap<Arc<str>, Arc<portcullis_domain::Certificate>>,
    /// The backends `set-backend-service backend-id` names, by id.
    pub backends: HashMap<Arc<str>, crate::backends::CompiledBackend>,
}

#[derive(Debug)]
pub struct CompiledApi {
    pub name: ApiName,
    pub name_text: Arc<str>,
    pub service_url_text: Arc<str>,
    /// The `cors` policy (API or global scope) that answers preflights, if any.
    pub preflight: Option<Arc<Cors>>,
    /// The URL suffix as configured (for the `WWW-Authenticate` realm).
    pub suffix: String,
    pub suffix_text: Arc<str>,
    suffix_segments: usize,
    pub backend: Backend,
    pub subscription_required: bool,
    /// An open product (no subscription required) containing this API.
    pub open_product: Option<usize>,
    pub key_header: HeaderName,
    pub key_header_text: String,
    pub key_query: String,
    pub forward_subscription_key: bool,
    pub operations: Vec<CompiledOperation>,
    pub operation_table: OperationTable,
}

#[derive(Debug)]
pub struct CompiledOperation {
    pub name: OperationName,
    pub name_text: Arc<str>,
    pub method_text: Arc<str>,
    pub template_text: Arc<str>,
    pub template: UrlTemplate,
    pub pipelines: OperationPipelines,
    /// The response examples it documents, for `mock-response` (`None`: none).
    pub examples: Option<Arc<portcullis_policy::exchange::OperationExamples>>,
}

#[derive(Debug)]
pub struct CompiledProduct {
    pub name: ProductName,
    pub name_text: Arc<str>,
    pub subscription_required: bool,
    /// `apis[i]` is true when API `i` of the service is in this product.
    apis: Vec<bool>,
}

impl CompiledProduct {
    pub fn contains(&self, api: usize) -> bool {
        self.apis.get(api).copied().unwrap_or(false)
    }
}

/// The backend URL split once into what forwarding needs.
#[derive(Debug, Clone)]
pub struct Backend {
    pub scheme: http::uri::Scheme,
    pub authority: http::uri::Authority,
    /// Path without its trailing slash (`""` for the root).
    pub base_path: String,
    /// The web service URL's own query (a flow's signature), kept in front of the caller's.
    pub base_query: Option<String>,
}

impl Backend {
    /// Splits an absolute http(s) URL; `None` when it has no host.
    pub fn from_url(url: &url::Url) -> Option<Self> {
        let scheme = if url.scheme() == "https" {
            http::uri::Scheme::HTTPS
        } else {
            http::uri::Scheme::HTTP
        };
        let host = url.host_str().filter(|h| !h.is_empty())?;
        let authority_text = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Some(Self {
            scheme,
            authority: authority_text.parse().ok()?,
            base_path: url.path().trim_end_matches('/').to_owned(),
            base_query: url.query().filter(|q| !q.is_empty()).map(str::to_owned),
        })
    }
}

/// The result of routing a request to an API.
pub struct ApiMatch<'s, 'p> {
    pub index: usize,
    pub api: &'s CompiledApi,
    /// The raw request path after the API suffix: `/users/42`, `/` or ``.
    pub rest: &'p str,
}

impl Snapshot {
    /// Compiles a model. Never fails: the model holds parsed values only, and anything that
    /// cannot be routed (an unknown product in a scope, say) is left out with a log line.
    /// The model's subscription lists must be complete ([`SubscriptionsRead::All`]).
    pub fn compile(model: &ConfigModel, settings: &GatewaySettings) -> Self {
        Self::compile_with(model, settings, &BreakerBoard::default(), |service| {
            Arc::new(GrantTable::build(&service.subscriptions))
        })
    }

    /// Compiles a model read without subscriptions, handing on this snapshot's tables. Only
    /// valid when this snapshot's tables are as of the model's `grants_revision`.
    fn compile_keeping_grants(
        &self,
        model: &ConfigModel,
        settings: &GatewaySettings,
        board: &BreakerBoard,
    ) -> Self {
        Self::compile_with(model, settings, board, |service| {
            self.services
                .get(service.name.as_str())
                .map(|kept| kept.grants.clone())
                .unwrap_or_default()
        })
    }

    fn compile_with(
        model: &ConfigModel,
        settings: &GatewaySettings,
        board: &BreakerBoard,
        mut grants_for: impl FnMut(&ServiceConfig) -> Arc<GrantTable>,
    ) -> Self {
        let mut services = HashMap::with_capacity(model.services.len());
        let mut default_service = None;
        for service in &model.services {
            let compiled = Arc::new(compile_service(service, grants_for(service), board));
            if service.settings.is_default && default_service.is_none() {
                default_service = Some(compiled.clone());
            }
            services.insert(service.name.as_str().to_owned(), compiled);
        }
        let mut host_suffixes: Vec<String> = settings
            .base_domains
            .iter()
            .map(|domain| format!(".{}", domain.trim_matches('.').to_ascii_lowercase()))
            .collect();
        if !host_suffixes.iter().any(|s| s == ".localhost") {
            host_suffixes.push(".localhost".to_owned());
        }
        Self {
            revision: model.revision,
            grants_revision: Some(model.grants_revision),
            services,
            default_service,
            host_suffixes,
        }
    }

    /// The service a `Host` header names: `<service>.<base domain>` (any port), else the
    /// default service.
    pub fn service_for_host(&self, host: Option<&str>) -> Option<&Arc<CompiledService>> {
        let named = host.and_then(|host| {
            let host = strip_port(host);
            self.host_suffixes.iter().find_map(|suffix| {
                let label = host
                    .len()
                    .checked_sub(suffix.len())
                    .filter(|&at| at > 0 && host.is_char_boundary(at))
                    .filter(|&at| host[at..].eq_ignore_ascii_case(suffix))
                    .map(|at| &host[..at])?;
                if label.contains('.') {
                    return None;
                }
                if label.bytes().any(|b| b.is_ascii_uppercase()) {
                    self.services.get(&label.to_ascii_lowercase())
                } else {
                    self.services.get(label)
                }
            })
        });
        named.or(self.default_service.as_ref())
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // IPv6 literal: never a service name.
        return host;
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

impl CompiledService {
    /// The API whose suffix is the longest whole-segment prefix of `path` (case-insensitive).
    pub fn match_api<'s, 'p>(&'s self, path: &'p str) -> Option<ApiMatch<'s, 'p>> {
        let trimmed = path.trim_start_matches('/');
        // Byte offsets where each of the first `max_suffix_segments` segments ends.
        let mut ends = Vec::with_capacity(self.max_suffix_segments + 1);
        ends.push(0usize);
        let mut offset = 0;
        for segment in trimmed.split('/').take(self.max_suffix_segments) {
            offset += segment.len();
            if segment.is_empty() {
                break;
            }
            ends.push(offset);
            offset += 1;
        }
        let lowered = trimmed[..*ends.last().unwrap_or(&0)].to_ascii_lowercase();
        let leading = path.len() - trimmed.len();
        for &end in ends.iter().rev() {
            if let Some(&index) = self.apis_by_suffix.get(&lowered[..end]) {
                let api = self.apis.get(index)?;
                debug_assert!(api.suffix_segments <= self.max_suffix_segments);
                // The empty suffix leaves the whole path, leading slash included.
                let rest = if end == 0 {
                    path
                } else {
                    &path[leading + end..]
                };
                return Some(ApiMatch { index, api, rest });
            }
        }
        None
    }

    /// The active subscription a presented key belongs to.
    pub fn grant_for_key(&self, presented: &str) -> Option<KeyMatch<'_>> {
        self.grants.find(presented)
    }

    /// Whether a subscription with this scope may call API `api`; returns the product the
    /// call came through.
    pub fn scope_opens(&self, scope: &GrantScope, api: usize) -> Option<Option<usize>> {
        match scope {
            GrantScope::AllApis => Some(None),
            GrantScope::Api(name) => (self.apis.get(api)?.name.as_str() == &**name).then_some(None),
            GrantScope::Product(name) => {
                let product = *self.products_by_name.get(name)?;
                self.products
                    .get(product)?
                    .contains(api)
                    .then_some(Some(product))
            }
        }
    }
}

fn compile_service(
    service: &ServiceConfig,
    grants: Arc<GrantTable>,
    board: &BreakerBoard,
) -> CompiledService {
    let api_index: HashMap<&ApiName, usize> = service
        .apis
        .iter()
        .enumerate()
        .map(|(i, api)| (&api.name, i))
        .collect();
    let products: Vec<CompiledProduct> = service
        .products
        .iter()
        .map(|product| {
            let mut apis = vec![false; service.apis.len()];
            for name in &product.apis {
                if let Some(opened) = api_index.get(name).and_then(|&i| apis.get_mut(i)) {
                    *opened = true;
                }
            }
            CompiledProduct {
                name: product.name.clone(),
                name_text: Arc::from(product.name.as_str()),
                subscription_required: product.settings.subscription_required,
                apis,
            }
        })
        .collect();
    let policies = ServicePolicies::compile(service);
    let mut apis = Vec::with_capacity(service.apis.len());
    let mut apis_by_suffix = HashMap::with_capacity(service.apis.len());
    let mut max_suffix_segments = 0;
    for (index, api) in service.apis.iter().enumerate() {
        let open_product = products
            .iter()
            .position(|p| !p.subscription_required && p.contains(index));
        let containing = products
            .iter()
            .enumerate()
            .filter(|(_, p)| p.contains(index))
            .map(|(i, p)| (i, &p.name));
        let compiled = compile_api(api, open_product, &policies, containing);
        max_suffix_segments = max_suffix_segments.max(compiled.suffix_segments);
        apis_by_suffix.insert(api.settings.path.matching_key().to_owned(), index);
        apis.push(compiled);
    }

    let products_by_name = products
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name_text.clone(), i))
        .collect();
    CompiledService {
        name: service.name.clone(),
        name_text: Arc::from(service.name.as_str()),
        apis,
        apis_by_suffix,
        max_suffix_segments,
        products,
        products_by_name,
        grants,
        secrets: service.secrets.clone().into(),
        backends: crate::backends::compile(
            service.name.as_str(),
            &service.library,
            &service.named_values,
            board,
        ),
        certificates: service
            .library
            .certificates()
            .filter(|(_, certificate)| certificate.has_private_key())
            .map(|(_, certificate)| (certificate.thumbprint_shared().clone(), certificate.clone()))
            .collect(),
        certificate_ids: service
            .library
            .certificates()
            .filter(|(_, certificate)| certificate.has_private_key())
            .map(|(id, certificate)| (Arc::from(id), certificate.clone()))
            .collect(),
    }
}

fn compile_api<'a>(
    api: &ApiConfig,
    open_product: Option<usize>,
    policies: &ServicePolicies,
    containing: impl Iterator<Item = (usize, &'a ProductName)> + Clone,
) -> CompiledApi {
    let settings = &api.settings;
    // ServiceUrl guarantees an absolute http(s) URL with a host; the fallback only keeps
    // this function total.
    let backend = Backend::from_url(settings.service_url.url()).unwrap_or_else(|| Backend {
        scheme: http::uri::Scheme::HTTP,
        authority: http::uri::Authority::from_static("localhost"),
        base_path: String::new(),
        base_query: None,
    });
    let key_header = HeaderName::from_bytes(
        settings
            .key_header_name
            .as_str()
            .to_ascii_lowercase()
            .as_bytes(),
    )
    .unwrap_or_else(|_| HeaderName::from_static("ocp-apim-subscription-key"));
    CompiledApi {
        name: api.name.clone(),
        name_text: Arc::from(api.name.as_str()),
        service_url_text: Arc::from(settings.service_url.as_str()),
        preflight: policies.preflight_cors(&api.name),
        suffix: settings.path.as_str().to_owned(),
        suffix_text: Arc::from(settings.path.as_str()),
        suffix_segments: settings.path.segment_count(),
        backend,
        subscription_required: settings.subscription_required,
        open_product,
        key_header,
        key_header_text: settings.key_header_name.as_str().to_owned(),
        key_query: settings.key_query_param_name.as_str().to_owned(),
        forward_subscription_key: settings.forward_subscription_key,
        operations: api
            .operations
            .iter()
            .map(|op| CompiledOperation {
                name: op.name.clone(),
                name_text: Arc::from(op.name.as_str()),
                method_text: Arc::from(op.settings.method.as_str()),
                template_text: Arc::from(op.settings.url_template.as_str()),
                template: op.settings.url_template.clone(),
                pipelines: policies.operation(&api.name, &op.name, containing.clone()),
                examples: operation_examples(&op.settings.responses, &api.schemas),
            })
            .collect(),
        operation_table: OperationTable::new(
            api.operations
                .iter()
                .map(|op| (&op.settings.method, &op.settings.url_template)),
        ),
    }
}

/// The current snapshot, swapped atomically. Readers never block and never see a partly
/// applied configuration.
pub struct SnapshotHandle {
    current: ArcSwap<Snapshot>,
    settings: GatewaySettings,
    /// Backends' circuit breakers, handed from each snapshot to the next.
    breakers: Arc<BreakerBoard>,
}

impl SnapshotHandle {
    pub fn new(settings: GatewaySettings) -> Self {
        Self::with_breakers(settings, BreakerBoard::default())
    }

    /// A handle whose backends' breakers live in `breakers` (shared through Redis, say).
    pub fn with_breakers(settings: GatewaySettings, breakers: BreakerBoard) -> Self {
        Self {
            current: ArcSwap::from_pointee(Snapshot {
                grants_revision: None,
                ..Snapshot::compile(&ConfigModel::default(), &settings)
            }),
            settings,
            breakers: Arc::new(breakers),
        }
    }

    /// The circuit breakers of the backends (for the portal's Backends page).
    pub fn breakers(&self) -> &Arc<BreakerBoard> {
        &self.breakers
    }

    /// The snapshot to route one request by.
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    pub fn settings(&self) -> &GatewaySettings {
        &self.settings
    }

    /// Compiles `model` and makes it current, unless a newer revision is already in place
    /// (two reloads racing each other must not roll the gateway back).
    ///
    /// A model read without subscriptions keeps the current snapshot's tables; if those are
    /// not as of the model's `grants_revision` the model cannot be used and the caller must
    /// read again with subscriptions.
    pub fn publish(&self, model: &ConfigModel) -> Result<i64, GrantsOutdated> {
        self.swap_in(model, |service| {
            Arc::new(GrantTable::build(&service.subscriptions))
        })
    }

    /// [`SnapshotHandle::publish`] for a model whose subscriptions were turned into key
    /// tables (by service name) while they were read, leaving the model's lists empty.
    pub fn publish_with_tables(
        &self,
        model: &ConfigModel,
        mut tables: HashMap<String, GrantTable>,
    ) -> Result<i64, GrantsOutdated> {
        self.swap_in(model, |service| {
            Arc::new(tables.remove(service.name.as_str()).unwrap_or_default())
        })
    }

    fn swap_in(
        &self,
        model: &ConfigModel,
        fresh_tables: impl FnMut(&ServiceConfig) -> Arc<GrantTable>,
    ) -> Result<i64, GrantsOutdated> {
        let fresh = Arc::new(match model.subscriptions {
            SubscriptionsRead::All => {
                Snapshot::compile_with(model, &self.settings, &self.breakers, fresh_tables)
            }
            SubscriptionsRead::UnchangedSinceGrantsRevision => {
                let current = self.current.load();
                if current.grants_revision != Some(model.grants_revision) {
                    return Err(GrantsOutdated {
                        held: current.grants_revision,
                        needed: model.grants_revision,
                    });
                }
                current.compile_keeping_grants(model, &self.settings, &self.breakers)
            }
        });
        let previous = self.current.rcu(|current| {
            if current.revision > fresh.revision {
                current.clone()
            } else {
                fresh.clone()
            }
        });
        // Breakers of backends gone from the new snapshot are forgotten once no snapshot
        // holds them (the one just replaced may, until its last request ends).
        self.breakers.sweep();
        let serving = self.current.load().revision;
        if serving == fresh.revision {
            tracing::debug!(
                revision = fresh.revision,
                previous = previous.revision,
                "snapshot published"
            );
        }
        Ok(serving)
    }
}

/// A model without subscriptions met a snapshot whose subscription tables are of another
/// revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the gateway holds subscriptions as of revision {held:?}, the model needs {needed}")]
pub struct GrantsOutdated {
    pub held: Option<i64>,
    pub needed: i64,
}

/// The examples of `responses` as bodies: JSON values written as JSON for JSON content
/// types; a text value as it is for any other.
/// The examples `mock-response` answers with: those documented, else — for a
/// representation with a schema and no example — one made from the schema.
fn operation_examples(
    responses: &[portcullis_domain::operation_response::OperationResponse],
    schemas: &portcullis_domain::operation_contract::ApiSchemas,
) -> Option<Arc<portcullis_policy::exchange::OperationExamples>> {
    let responses: Vec<_> = responses
        .iter()
        .filter_map(|response| {
            let status = http::StatusCode::from_u16(response.status_code).ok()?;
            let representations = response
                .representations
                .iter()
                .map(|representation| {
                    let json = {
                        let media = representation.content_type.to_ascii_lowercase();
                        media.contains("json")
                    };
                    let mut bodies: Vec<bytes::Bytes> = representation
                        .example_values()
                        .map(|value| match value {
                            serde_json::Value::String(text) if !json => {
                                bytes::Bytes::from(text.clone())
                            }
                            other => bytes::Bytes::from(other.to_string()),
                        })
                        .collect();
                    if bodies.is_empty()
                        && json
                        && let Some(type_name) = &representation.type_name
                        && let Some(schema) = schemas.get(type_name)
                    {
                        let made = portcullis_domain::schema_example::example(schema, schemas);
                        bodies.push(bytes::Bytes::from(made.to_string()));
                    }
                    (representation.content_type.clone(), bodies)
                })
                .collect();
            Some((status, representations))
        })
        .collect();
    (!responses.is_empty())
        .then(|| Arc::new(portcullis_policy::exchange::OperationExamples { responses }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_domain::model::*;
    use portcullis_domain::*;

    fn api(name: &str, path: &str) -> ApiConfig {
        ApiConfig {
            name: ApiName::parse(name).unwrap(),
            settings: ApiSettings {
                display_name: DisplayName::parse(name).unwrap(),
                service_url: ServiceUrl::parse("http://127.0.0.1:9/base/").unwrap(),
                path: ApiSuffix::parse(path).unwrap(),
                subscription_required: true,
                key_header_name: KeyHeaderName::default(),
                key_query_param_name: KeyQueryParamName::default(),
                forward_subscription_key: false,
                description: String::new(),
            },
            schemas: Default::default(),
            operations: vec![],
        }
    }

    fn model(revision: i64, services: &[(&str, bool, Vec<ApiConfig>)]) -> ConfigModel {
        ConfigModel {
            revision,
            services: services
                .iter()
                .map(|(name, is_default, apis)| ServiceConfig {
                    name: ServiceName::parse(*name).unwrap(),
                    settings: ServiceSettings {
                        display_name: DisplayName::parse(*name).unwrap(),
                        is_default: *is_default,
                    },
                    apis: apis.clone(),
                    products: vec![],
                    subscriptions: vec![],
                    policies: vec![],
                    named_values: Default::default(),
                    library: Default::default(),
                    secrets: Default::default(),
                })
                .collect(),
            ..ConfigModel::default()
        }
    }

    #[test]
    fn hosts_name_services_with_any_port_and_case() {
        let snapshot = Snapshot::compile(
            &model(1, &[("flowdemo", false, vec![]), ("other", true, vec![])]),
            &GatewaySettings {
                base_domains: vec!["api.example.com".into()],
                ..Default::default()
            },
        );
        let name = |host| {
            snapshot
                .service_for_host(host)
                .map(|s| s.name.as_str().to_owned())
        };
        assert_eq!(
            name(Some("flowdemo.localhost:8080")).as_deref(),
            Some("flowdemo")
        );
        assert_eq!(
            name(Some("FlowDemo.LOCALHOST")).as_deref(),
            Some("flowdemo")
        );
        assert_eq!(
            name(Some("flowdemo.api.example.com")).as_deref(),
            Some("flowdemo")
        );
        assert_eq!(
            name(Some("127.0.0.1:8080")).as_deref(),
            Some("other"),
            "default service"
        );
        assert_eq!(name(Some("x.flowdemo.localhost")).as_deref(), Some("other"));
        assert_eq!(name(Some(".localhost")).as_deref(), Some("other"));
        assert_eq!(name(Some("[::1]:8080")).as_deref(), Some("other"));
        assert_eq!(name(None).as_deref(), Some("other"));
    }

    #[test]
    fn no_default_service_means_no_match() {
        let snapshot = Snapshot::compile(
            &model(1, &[("flowdemo", false, vec![])]),
            &GatewaySettings::default(),
        );
        assert!(snapshot.service_for_host(Some("localhost")).is_none());
    }

    #[test]
    fn longest_whole_segment_suffix_wins() {
        let snapshot = Snapshot::compile(
            &model(
                1,
                &[(
                    "s",
                    true,
                    vec![
                        api("root", ""),
                        api("a", "a"),
                        api("ab", "a/b"),
                        api("abc", "ab"),
                    ],
                )],
            ),
            &GatewaySettings::default(),
        );
        let service = snapshot.service_for_host(None).unwrap();
        let matched = |path| {
            service
                .match_api(path)
                .map(|m| (m.api.name.as_str().to_owned(), m.rest.to_owned()))
        };
        assert_eq!(matched("/a/b/c"), Some(("ab".into(), "/c".into())));
        assert_eq!(matched("/A/B"), Some(("ab".into(), "".into())));
        assert_eq!(matched("/a/bc"), Some(("a".into(), "/bc".into())));
        assert_eq!(matched("/ab/"), Some(("abc".into(), "/".into())));
        assert_eq!(
            matched("/abc"),
            Some(("root".into(), "/abc".into())),
            "whole segments only"
        );
        assert_eq!(matched("/"), Some(("root".into(), "/".into())));
    }

    #[test]
    fn publish_never_rolls_back() {
        let handle = SnapshotHandle::new(GatewaySettings::default());
        assert_eq!(handle.publish(&model(5, &[])), Ok(5));
        assert_eq!(handle.publish(&model(3, &[])), Ok(5));
        assert_eq!(handle.current().revision, 5);
        assert_eq!(handle.publish(&model(6, &[])), Ok(6));
    }

    #[test]
    fn a_reload_without_subscriptions_keeps_the_tables_it_was_read_against() {
        let key = SubscriptionKey::generate();
        let mut full = model(7, &[("shop", true, vec![api("orders", "orders")])]);
        full.grants_revision = 7;
        full.services[0].subscriptions.push(SubscriptionConfig {
            name: SubscriptionName::parse("alice").unwrap(),
            settings: SubscriptionSettings {
                display_name: DisplayName::parse("Alice").unwrap(),
                scope: SubscriptionScope::Api(ApiName::parse("orders").unwrap()),
                state: SubscriptionState::Active,
            },
            primary_key: key.clone(),
            secondary_key: SubscriptionKey::generate(),
        });
        let handle = SnapshotHandle::new(GatewaySettings::default());
        // A gateway that just started holds no tables, not "the tables of revision 0".
        let mut empty = model(1, &[]);
        empty.subscriptions = SubscriptionsRead::UnchangedSinceGrantsRevision;
        assert!(handle.publish(&empty).is_err());
        assert_eq!(handle.publish(&full), Ok(7));
        let tables = |handle: &SnapshotHandle| {
            handle
                .current()
                .service_for_host(None)
                .unwrap()
                .grants
                .clone()
        };
        let built = tables(&handle);
        assert_eq!(built.len(), 1);

        // A policy change: subscriptions left out, the table handed on as it is.
        let mut policy_change = model(8, &[("shop", true, vec![api("orders", "orders")])]);
        policy_change.grants_revision = 7;
        policy_change.subscriptions = SubscriptionsRead::UnchangedSinceGrantsRevision;
        assert_eq!(handle.publish(&policy_change), Ok(8));
        assert!(Arc::ptr_eq(&built, &tables(&handle)));
        let service = handle.current().service_for_host(None).unwrap().clone();
        let found = service
            .grant_for_key(key.expose())
            .expect("the key still opens");
        assert_eq!(service.scope_opens(&found.grant.scope, 0), Some(None));

        // A model that assumes newer subscriptions than the gateway holds is refused.
        let mut ahead = policy_change.clone();
        ahead.revision = 9;
        ahead.grants_revision = 9;
        assert_eq!(
            handle.publish(&ahead),
            Err(GrantsOutdated {
                held: Some(7),
                needed: 9
            })
        );
        assert_eq!(handle.current().revision, 8);
    }
}
