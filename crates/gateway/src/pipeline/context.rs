//! What the gateway knows about one request as it moves through the phases.

use crate::pipeline::authenticate::Caller;
use crate::pipeline::matching::Routed;
use std::net::SocketAddr;
use std::time::Instant;

#[derive(Debug)]
pub struct RequestContext {
    /// 32 hex characters, returned in `x-request-id` and in error bodies, sent to the backend.
    pub request_id: String,
    /// The socket peer: the caller, or the last proxy in front of the gateway.
    pub peer: SocketAddr,
    pub started: Instant,
    pub service: Option<String>,
    pub api: Option<String>,
    pub operation: Option<String>,
    pub subscription: Option<String>,
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
            started: Instant::now(),
            service: None,
            api: None,
            operation: None,
            subscription: None,
            backend_elapsed: None,
            rejected: false,
            trace: None,
            trace_expired: false,
        }
    }

    pub(crate) fn routed(&mut self, routed: &Routed<'_>) {
        self.service = Some(routed.service.name.as_str().to_owned());
        self.api = Some(routed.api.name.as_str().to_owned());
        self.operation = Some(routed.operation.name.as_str().to_owned());
    }

    pub(crate) fn authenticated(&mut self, caller: &Caller<'_>) {
        self.subscription = caller
            .grant
            .map(|grant| grant.subscription.as_str().to_owned());
    }
}
