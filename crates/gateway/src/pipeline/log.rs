//! Last phase, log: one line per request, whatever happened, and a record for analytics.
//! Keys never appear here: the context holds the subscription's name, not its key.

use crate::body::GatewayBody;
use crate::calls::{CallRecord, CallSink};
use crate::pipeline::RequestContext;
use http::Response;
use http_body::Body;
use std::time::SystemTime;

/// Logs the request and hands its record to `calls`; the context is spent afterwards (its
/// request id moves into the record).
pub fn record(
    context: &mut RequestContext,
    response: &Response<GatewayBody>,
    calls: Option<&dyn CallSink>,
) {
    let elapsed = context.started.elapsed();
    tracing::debug!(
        request_id = %context.request_id,
        peer = %context.peer,
        service = context.service.as_deref().unwrap_or("-"),
        api = context.api.as_deref().unwrap_or("-"),
        operation = context.operation.as_deref().unwrap_or("-"),
        subscription = context.subscription.as_deref().unwrap_or("-"),
        status = response.status().as_u16(),
        elapsed_us = elapsed.as_micros() as u64,
        backend_us = context.backend_elapsed.map_or(0, |d| d.as_micros() as u64),
        "gateway request"
    );
    let (Some(calls), Some(service)) = (calls, &context.service) else {
        return;
    };
    let bytes = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .or_else(|| response.body().size_hint().exact())
        .unwrap_or(0);
    calls.record(CallRecord {
        at: SystemTime::now() - elapsed,
        service: service.clone(),
        api: context.api.clone(),
        operation: context.operation.clone(),
        product: context.product.clone(),
        subscription: context.subscription.clone(),
        method: context.method.clone(),
        path: Box::from(context.uri.path()),
        status: response.status().as_u16(),
        total: elapsed,
        backend: context.backend_elapsed,
        bytes,
        ip: context.client_ip,
        request_id: std::mem::take(&mut context.request_id),
    });
}
