//! Phase 1, match: host → service, longest URL suffix → API, method + template → operation.

use crate::pipeline::GatewayError;
use crate::snapshot::{CompiledApi, CompiledOperation, CompiledService, Snapshot};
use http::request::Parts;

/// Where a request goes, borrowed from the snapshot (not from the request, which later
/// phases take apart).
pub struct Routed<'a> {
    pub service: &'a CompiledService,
    pub api_index: usize,
    pub api: &'a CompiledApi,
    pub operation: &'a CompiledOperation,
    /// Byte offset in the request path where the part after the API suffix starts.
    rest_start: usize,
}

impl Routed<'_> {
    /// The request path after the API suffix, as received: `/users/42`, `/` or ``.
    pub fn rest<'p>(&self, parts: &'p Parts) -> &'p str {
        parts.uri.path().get(self.rest_start..).unwrap_or_default()
    }

    /// Where the part after the API suffix starts in the request path.
    pub fn rest_start(&self) -> usize {
        self.rest_start
    }
}

/// The host the caller addressed: the URI's authority (absolute-form requests) or `Host`.
pub fn request_host(parts: &Parts) -> Option<&str> {
    parts.uri.authority().map(|a| a.as_str()).or_else(|| {
        parts
            .headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
    })
}

/// A request matched to an API, before its operation is known (preflights stop here).
pub struct ApiRoute<'a> {
    pub service: &'a CompiledService,
    pub api_index: usize,
    pub api: &'a CompiledApi,
    rest_start: usize,
}

/// Whether a path has a `.` or `..` segment (also percent-encoded: `%2e`, `.%2E`, …).
/// Backends resolve them, so `/a/../b/admin` matched to API `a` would reach API `b`'s
/// backend path without `b`'s key check or policies; such a request is refused instead (as
/// nginx refuses a path that climbs above its root).
fn has_dot_segment(path: &str) -> bool {
    if !path.contains('.') && !path.contains('%') {
        return false;
    }
    path.split('/').any(|segment| {
        segment.len() <= 6 && {
            let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
            decoded == "." || decoded == ".."
        }
    })
}

/// Host → service, longest URL suffix → API.
pub fn route_api<'a>(snapshot: &'a Snapshot, parts: &Parts) -> Result<ApiRoute<'a>, GatewayError> {
    let path = parts.uri.path();
    if has_dot_segment(path) {
        return Err(GatewayError::Refused {
            status: http::StatusCode::BAD_REQUEST,
            message: "The request path has a '.' or '..' segment; send the path without them."
                .to_owned(),
        });
    }
    let service = snapshot
        .service_for_host(request_host(parts))
        .ok_or(GatewayError::NotFound)?;
    let matched = service.match_api(path).ok_or(GatewayError::NotFound)?;
    Ok(ApiRoute {
        service,
        api_index: matched.index,
        api: matched.api,
        rest_start: path.len() - matched.rest.len(),
    })
}

/// Method + template → operation, within the matched API.
pub fn route_operation<'a>(api: ApiRoute<'a>, parts: &Parts) -> Result<Routed<'a>, GatewayError> {
    let rest = parts.uri.path().get(api.rest_start..).unwrap_or_default();
    let operation_index = api
        .api
        .operation_table
        .find(parts.method.as_str(), rest, parts.uri.query())
        .ok_or(GatewayError::NotFound)?;
    let operation = api.api.operations.get(operation_index).ok_or_else(|| {
        GatewayError::Internal("operation table out of step with operations".into())
    })?;
    Ok(Routed {
        service: api.service,
        api_index: api.api_index,
        api: api.api,
        operation,
        rest_start: api.rest_start,
    })
}

/// Both steps at once.
pub fn route<'a>(snapshot: &'a Snapshot, parts: &Parts) -> Result<Routed<'a>, GatewayError> {
    route_operation(route_api(snapshot, parts)?, parts)
}

#[cfg(test)]
mod tests {
    use super::has_dot_segment;

    #[test]
    fn dot_segments_are_found_encoded_or_not() {
        for path in [
            "/a/../b",
            "/a/./b",
            "/..",
            "/a/%2e%2e/b",
            "/a/.%2E/b",
            "/a/%2E/b",
            "/a/b/..",
        ] {
            assert!(has_dot_segment(path), "{path}");
        }
        for path in [
            "/a/b",
            "/a/b.json",
            "/a/..b",
            "/a/.well-known/x",
            "/a/%2e%2e%2e",
            "/",
        ] {
            assert!(!has_dot_segment(path), "{path}");
        }
    }
}
