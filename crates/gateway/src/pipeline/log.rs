//! Last phase, log: one line per request, whatever happened. Keys never appear here: the
//! context holds the subscription's name, not its key.

use crate::body::GatewayBody;
use crate::pipeline::RequestContext;
use http::Response;

pub fn record(context: &RequestContext, response: &Response<GatewayBody>) {
    tracing::debug!(
        request_id = %context.request_id,
        peer = %context.peer,
        service = context.service.as_deref().unwrap_or("-"),
        api = context.api.as_deref().unwrap_or("-"),
        operation = context.operation.as_deref().unwrap_or("-"),
        subscription = context.subscription.as_deref().unwrap_or("-"),
        status = response.status().as_u16(),
        elapsed_us = context.started.elapsed().as_micros() as u64,
        backend_us = context.backend_elapsed.map_or(0, |d| d.as_micros() as u64),
        "gateway request"
    );
}
