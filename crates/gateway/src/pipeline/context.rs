//! What the gateway knows about one request as it moves through the phases.

use crate::pipeline::authenticate::Caller;
use crate::pipeline::matching::Routed;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

/// A request extension the TLS listener adds: the caller's connection is HTTPS.
#[derive(Debug, Clone, Copy)]
pub struct CallerTls;

#[derive(Debug)]
pub struct RequestContext {
    /// 32 hex characters, returned in `x-request-id` and in error bodies, sent to the backend.
    pub request_id: String,
    /// The socket peer: the caller, or the last proxy in front of the gateway.
    pub peer: SocketAddr,
    /// The caller: the peer, or the address a trusted proxy forwarded for (see
    /// [`crate::pipeline::client_ip`]). What `ip-filter`, expressions and analytics see.
    pub client_ip: IpAddr,
    /// The caller's connection is TLS (the request carries [`CallerTls`]).
    pub https: bool,
    pub started: Instant,
    pub service: Option<Arc<str>>,
    pub api: Option<Arc<str>>,
    pub operation: Option<Arc<str>>,
    pub product: Option<Arc<str>>,
    pub subscription: Option<Arc<str>>,
    /// Method and URI as received, for the recent-calls log (cloning a URI shares its bytes).
    pub method: http::Method,
    pub uri: http::Uri,
    /// When the backend's response head arrived, for the backend's share of the time.
    pub backend_elapsed: Option<std::time::Duration>,
    /// A policy stopped the request (the response is its error response).
    pub rejected: bool,
    /// The trace being recorded, when an administrator's trace token came with the request.
    pub trace: Option<crate::trace::TraceDraft>,
    /// The request carried an expired trace token.
    pub trace_expired: bool,
}

impl RequestContext {
    pub fn new(peer: SocketAddr) -> Self {
        Self {
            request_id: uuid::Uuid::new_v4().simple().to_string(),
            peer,
            client_ip: peer.ip(),
            https: false,
            started: Instant::now(),
            method: http::Method::GET,
            uri: http::Uri::default(),
            service: None,
            api: None,
            operation: None,
            product: None,
            subscription: None,
            backend_elapsed: None,
            rejected: false,
            trace: None,
            trace_expired: false,
        }
    }

    pub(crate) fn routed(&mut self, routed: &Routed<'_>) {
        self.service = Some(routed.service.name_text.clone());
        self.api = Some(routed.api.name_text.clone());
        self.operation = Some(routed.operation.name_text.clone());
    }

    pub(crate) fn authenticated(&mut self, caller: &Caller<'_>, routed: &Routed<'_>) {
        self.subscription = caller.key.map(|key| key.grant.info.name.clone());
        self.product = caller
            .product
            .and_then(|p| routed.service.products.get(p))
            .map(|p| p.name_text.clone());
    }
}
