//! The policy catalogue: one file per policy, each compiling its element into a value that
//! runs per request without parsing.
//!
//! A policy that finishes at once implements [`Policy`]; one that waits — on the counter
//! store, the backend, a timer, or policies it contains — implements [`WaitingPolicy`].
//! [`Compiler`] holds what every policy's compile function needs: attribute readers that
//! report faults with line and column, and the rules on where a policy may stand.

pub mod authentication_basic;
pub mod authentication_certificate;
pub mod cache_value;
pub mod check_header;
pub mod choose;
mod compiler;
pub mod cors;
pub mod find_and_replace;
pub mod forward_request;
pub mod include_fragment;
pub mod ip_filter;
pub mod limit_concurrency;
mod limits;
pub mod liquid_body;
pub mod managed_identity;
pub mod mock_response;
pub mod nested_limits;
pub mod openid_keys;
pub mod quota;
pub mod quota_by_key;
pub mod rate_limit;
pub mod rate_limit_by_key;
pub mod response_cache;
pub mod retry;
pub mod return_response;
pub mod rewrite_uri;
pub mod send_request;
pub mod set_backend_service;
pub mod set_body;
pub mod set_header;
pub mod set_method;
pub mod set_query_parameter;
pub mod set_status;
pub mod set_variable;
pub mod trace;
pub mod validate_jwt;
pub mod wait;
pub mod xml_json;

use crate::counters::CounterStore;
use crate::document::{ScopeKind, SectionKind};
use crate::engine::Upstream;
use crate::error::{Diagnostic, Diagnostics, Rejection};
use crate::exchange::Exchange;
use crate::expr::{ExprError, Template};
use crate::xml::Element;

pub use compiler::Compiler;
pub(crate) use compiler::{expression_failed, status_code};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// What the pipeline does after a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The exchange's response is final: skip every remaining policy and section.
    Respond,
    /// The exchange has its response (`cache-lookup` found one): skip the rest of inbound
    /// and the backend; outbound runs on it.
    ToOutbound,
}

/// Everything a running policy may touch.
pub struct Context<'r> {
    pub exchange: &'r mut Exchange,
    pub section: SectionKind,
    pub counters: &'r dyn CounterStore,
    pub caches: &'r crate::value_cache::Caches,
    pub upstream: &'r mut dyn Upstream,
}

impl Context<'_> {
    /// Headers the section's policies act on: the request's before the backend answers,
    /// the response's after (and in on-error).
    pub fn target_headers(&mut self) -> &mut http::HeaderMap {
        match (self.section, &mut self.exchange.response) {
            (SectionKind::Outbound | SectionKind::OnError, Some(response)) => &mut response.headers,
            _ => &mut self.exchange.request.headers,
        }
    }
}

pub type Outcome = Result<Flow, Rejection>;
pub type WaitingOutcome<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// A policy that decides at once.
pub trait Policy: Send + Sync + fmt::Debug {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome;
}

/// A policy that waits on something before it decides.
pub trait WaitingPolicy: Send + Sync + fmt::Debug {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a>;
}

/// One compiled element of a section.
#[derive(Debug)]
pub enum Step {
    /// `<base/>`: the parent scope's section runs here.
    Base,
    Now(&'static str, Box<dyn Policy>),
    Wait(&'static str, Box<dyn WaitingPolicy>),
    /// `cors` is kept apart so the gateway can find it to answer preflights.
    Cors(Arc<cors::Cors>),
}

impl Step {
    pub(crate) fn forward_default() -> Self {
        Self::Wait(
            "forward-request",
            Box::new(forward_request::ForwardRequest::default()),
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Base => "base",
            Self::Now(name, _) | Self::Wait(name, _) => name,
            Self::Cors(_) => "cors",
        }
    }
}

use SectionKind::{Backend, Inbound, OnError, Outbound};
const ANY_SECTION: &[SectionKind] = &[Inbound, Backend, Outbound, OnError];
const ANY_SCOPE: &[ScopeKind] = &[
    ScopeKind::Global,
    ScopeKind::Product,
    ScopeKind::Api,
    ScopeKind::Operation,
];

type CompileFn = fn(&Element, &mut Compiler<'_>) -> Result<Step, Diagnostic>;

/// A catalogue entry: the sections and scopes a policy may stand in, and its compiler.
struct Entry {
    name: &'static str,
    sections: &'static [SectionKind],
    scopes: &'static [ScopeKind],
    compile: CompileFn,
}

const CATALOGUE: &[Entry] = &[
    Entry {
        name: "authentication-basic",
        sections: &[Inbound],
        scopes: ANY_SCOPE,
        compile: authentication_basic::compile,
    },
    Entry {
        name: "authentication-certificate",
        sections: &[Inbound],
        scopes: ANY_SCOPE,
        compile: authentication_certificate::compile,
    },
    Entry {
        name: "authentication-managed-identity",
        sections: &[Inbound],
        scopes: ANY_SCOPE,
        compile: managed_identity::compile,
    },
    Entry {
        name: "cache-lookup",
        sections: &[Inbound],
        scopes: ANY_SCOPE,
        compile: response_cache::compile_lookup,
    },
    Entry {
        name: "cache-store",
        sections: &[Outbound],
        scopes: ANY_SCOPE,
        compile: response_cache::compile_store,
    },
    Entry {
        name: "cache-lookup-value",
        sections: ANY_SECTION,
        scopes: ANY_SCOPE,
        compile: cache_value::compile_lookup,
    },
    Entry {
        name: "cache-remove-value",
        sections: ANY_SECTION,
        scopes: ANY_SCOPE,
        compile: cache_value::compile_remove,
    },
    Entry {
        name: "cache-store-value",
        sections: ANY_SECTION,
        scopes: ANY_SCOPE,
        compile: cache_value::compile_store,
    },
    Entry {
        name: "check-header",
        sections: &[Inbound],
        scopes: ANY_SCOPE,
        compile: check_header::compile,
    },
    Entry {
        name: "choose",
        sections: ANY_SECTION,
        scopes: ANY_SCOPE,
        compile: choose::compile,
    },
    Entry {
        name: "cors",
        sections: &[Inbound],
        scopes: ANY_SCOPE,
        compile: cors::compile,
    },
    Entry {
        name: "find-and-replace",
        sections: ANY_SECTION,
        scopes: ANY_SCOPE,
        compile: find_and_replace::compile,
    },
    Entry {
        name: "forward-request",
        sections: &[Backend],
        scopes: ANY_SCOPE,
        compile: forward_request::compile,
    },
    Entry {
        name: "include-fragment",
        sections: ANY_SECTION,
        scopes: ANY_SCOPE,
        compile: include_fragment::compile,
    },
    Entry {
        name: "ip-filter",
        sections: &[Inbound],
        scopes: ANY_SCOPE,
        compile: ip_filter::compile,
    },
    Entry {
        name: "json-to-xml",
        sections: &[Inbound, Outbound, OnError],
        scopes: ANY_SCOPE,
        compile: xml_json::compile_json_to_xml,
    },
    Entry {
        name: "limit-concurrency",
        sections: ANY_SECTION,
        scopes: ANY_SCOPE,
        compile: limit_concurrency::compile,
    },
    Entry {
        name: "mock-response",
        sections: &[Inbound, Outbound, OnError],
        scopes: ANY_SCOPE,
        compile: mock_response::compile,
    },
    Entry {
        name: "quota",
        sections: &[Inbound],
        scopes: &[ScopeKind::Product],
        compile: quota::compile,
    },
    Entry {
        name: "quota-by-key",
        sections: &[Inbound],
        scopes: ANY_SCOPE,
        compile: quota_by_key::compile,
    },
    Entry {
        name: "rate-limit",
        sections: &[Inbound],
        scopes: &[ScopeKind::Product, ScopeKind::Api, ScopeKind::Operation],
        compile: rate_limit::compile,
    },
    Entry {
        name: "rate-limit-by-key",
        sections: &[Inbound],
        scopes: ANY_SCOPE,
        compile: rate_limit_by_key::compile,
    },
    Entry {
        name: "retry",
        sections: ANY_SECTION,
        scopes: ANY_SCOPE,
        compile: retry::compile,
    },
    Entry {
        name: "return-response",
        sections: ANY_SECTION,
        scopes: ANY_SCOPE,
        compile: return_response::compile,
    },
    Entry {
        name: "rewrite-uri",
        sections: &[Inbound],
        scopes: ANY_SCOPE,
        compile: rewrite_uri::compile,
    },
    Entry {
        name: "send-one-way-request",
        sections: ANY_SECTION,
        scopes: ANY_SCOPE,
        compile: send_request::compile_one_way,
    },
    Entry {
        name: "send-request",
        sections: ANY_SECTION,
        scopes: ANY_SCOPE,
        compile: send_request::compile,
    },
    Entry {
        name: "set-backend-service",
        sections: &[Inbound, Backend],
        scopes: ANY_SCOPE,
        compile: set_backend_service::compile,
    },
    Entry {
        name: "set-body",
        sections: &[Inbound, Backend, Outbound, OnError],
        scopes: ANY_SCOPE,
        compile: set_body::compile,
    },
    Entry {
        name: "set-header",
        sections: ANY_SECTION,
        scopes: ANY_SCOPE,
        compile: set_header::compile,
    },
    Entry {
        name: "set-method",
        sections: &[Inbound, OnError],
        scopes: ANY_SCOPE,
        compile: set_method::compile,
    },
    Entry {
        name: "set-query-parameter",
        sections: &[Inbound, Backend],
        scopes: ANY_SCOPE,
        compile: set_query_parameter::compile,
    },
    Entry {
        name: "set-status",
        sections: ANY_SECTION,
        scopes: ANY_SCOPE,
        compile: set_status::compile,
    },
    Entry {
        name: "set-variable",
        sections: ANY_SECTION,
        scopes: ANY_SCOPE,
        compile: set_variable::compile,
    },
    Entry {
        name: "trace",
        sections: ANY_SECTION,
        scopes: ANY_SCOPE,
        compile: trace::compile,
    },
    Entry {
        name: "validate-jwt",
        sections: &[Inbound],
        scopes: ANY_SCOPE,
        compile: validate_jwt::compile,
    },
    Entry {
        name: "validate-azure-ad-token",
        sections: &[Inbound],
        scopes: ANY_SCOPE,
        compile: validate_jwt::compile_azure_ad,
    },
    Entry {
        name: "wait",
        sections: &[Inbound, Backend, Outbound],
        scopes: ANY_SCOPE,
        compile: wait::compile,
    },
    Entry {
        name: "xml-to-json",
        sections: &[Inbound, Outbound, OnError],
        scopes: ANY_SCOPE,
        compile: xml_json::compile_xml_to_json,
    },
];

/// APIM policies Portcullis knows by name but does not run (yet).
const NOT_SUPPORTED: &[&str] = &[
    "emit-metric",
    "invoke-dapr-binding",
    "jsonp",
    "log-to-eventhub",
    "proxy",
    "publish-to-dapr",
    "redirect-content-urls",
    "set-backend-service-dapr",
    "validate-content",
    "validate-headers",
    "validate-parameters",
    "validate-status-code",
    "xsl-transform",
];

/// Whether `name` is a policy Portcullis runs.
pub fn is_policy_name(name: &str) -> bool {
    CATALOGUE.iter().any(|entry| entry.name == name)
}
