//! `GET /mgmt/services/{service}/auditLog?resource=…&top=N`: changes, newest first.

use crate::mgmt::body::{list as list_of, name};
use crate::mgmt::{MgmtError, MgmtState};
use axum::Json;
use axum::extract::{Path, Query, State};
use portcullis_domain::ServiceName;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct AuditQuery {
    resource: Option<String>,
    top: Option<u64>,
}

pub async fn list(
    State(control): State<MgmtState>,
    Path(service): Path<String>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<serde_json::Value>, MgmtError> {
    let service = name("service", service, ServiceName::parse)?;
    // Listing the log of a service that does not exist is a 404, like everything else.
    control.store().get_service(&service).await?;
    let top = query.top.unwrap_or(100).clamp(1, 1000);
    let entries = control
        .store()
        .list_audit(&service, query.resource.as_deref(), top)
        .await?;
    Ok(list_of(entries))
}
