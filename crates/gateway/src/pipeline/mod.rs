//! The request life cycle, as named phases over one typed context.
//!
//! ```text
//!  request ─► match ─► authenticate ─► inbound ─► forward ─► outbound ─► respond ─► log
//!               │           │             │          │           │
//!               └───────────┴─────────────┴──────────┴───────────┴──► GatewayError ─► error body
//! ```
//!
//! * **match** ([`matching`]): host → service, longest URL suffix → API, method + template →
//!   operation. No match is `404 Resource not found`.
//! * **authenticate** ([`authenticate`]): read the subscription key (header, then query) and
//!   decide by the API's products and subscription setting.
//! * **inbound / outbound**: the policy pipeline's place (policies are stored today and
//!   enforced by the policy engine when it lands).
//! * **forward** ([`forward`]): build the backend request — URL, headers, streamed body — and
//!   wait for the response head within the backend timeout.
//! * **respond**: pass the backend's response back, streamed, without hop-by-hop headers.
//! * **log** ([`log`]): always last, for every outcome.
//!
//! Any phase may end the request by returning a [`GatewayError`]; [`error`] is the one place
//! that turns those into status codes and bodies.

pub mod authenticate;
pub mod context;
pub mod error;
pub mod forward;
pub mod log;
pub mod matching;

pub use context::RequestContext;
pub use error::GatewayError;

use crate::body::GatewayBody;
use crate::snapshot::SnapshotHandle;
use crate::{REQUEST_ID_HEADER, STATUS_PATH};
use http::{HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use std::net::SocketAddr;
use std::sync::Arc;

/// The gateway: the current snapshot plus the pooled client that reaches backends.
pub struct Gateway {
    snapshots: Arc<SnapshotHandle>,
    client: forward::BackendClient,
}

impl Gateway {
    pub fn new(snapshots: Arc<SnapshotHandle>) -> Result<Self, rustls::Error> {
        Ok(Self {
            client: forward::BackendClient::new()?,
            snapshots,
        })
    }

    pub fn snapshots(&self) -> &Arc<SnapshotHandle> {
        &self.snapshots
    }

    /// Runs one request through every phase. Never fails and never panics: every outcome is
    /// a response.
    pub async fn handle(
        &self,
        request: Request<Incoming>,
        peer: SocketAddr,
    ) -> Response<GatewayBody> {
        let mut context = RequestContext::new(peer);
        let mut response = match self.run(&mut context, request).await {
            Ok(response) => response,
            Err(error) => error.into_response(&context),
        };
        if let Ok(value) = HeaderValue::from_str(&context.request_id) {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        log::record(&context, &response);
        response
    }

    async fn run(
        &self,
        context: &mut RequestContext,
        request: Request<Incoming>,
    ) -> Result<Response<GatewayBody>, GatewayError> {
        let (parts, body) = request.into_parts();
        let snapshot = self.snapshots.current();
        if parts.uri.path() == STATUS_PATH {
            return Ok(status_response(snapshot.revision));
        }

        // match
        let routed = matching::route(&snapshot, &parts)?;
        context.routed(&routed);

        // authenticate
        let caller = authenticate::authenticate(&routed, &parts)?;
        context.authenticated(&caller);

        // inbound policies run here once the policy engine lands.

        // forward
        let backend_response = forward::forward(
            &self.client,
            self.snapshots.settings(),
            context,
            &routed,
            parts,
            body,
        )
        .await?;

        // outbound policies run here once the policy engine lands.

        // respond
        Ok(forward::respond(backend_response))
    }
}

fn status_response(revision: i64) -> Response<GatewayBody> {
    let body = serde_json::json!({ "status": "ok", "revision": revision }).to_string();
    let mut response = Response::new(GatewayBody::full(body));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
