//! Bearer-token authentication for every management call.

use crate::mgmt::{MgmtError, MgmtState};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use portcullis_store::Actor;

/// Resolves the bearer token to the [`Actor`] the audit log records, or answers 401.
pub async fn require_token(
    State(control): State<MgmtState>,
    mut request: Request,
    next: Next,
) -> Result<Response, MgmtError> {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(MgmtError::Unauthorized)?;
    let record = control
        .store()
        .authenticate_token(token)
        .await?
        .ok_or(MgmtError::Unauthorized)?;
    request.extensions_mut().insert(Actor::Token(record.name));
    Ok(next.run(request).await)
}
