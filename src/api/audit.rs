//! A service's audit log.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub resource: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The newest 200 changes of a service, optionally only under a resource path prefix.
#[server]
pub async fn list_audit(
    service: String,
    resource: String,
) -> Result<Vec<AuditEntry>, ServerFnError> {
    let (state, _) = crate::server::require_admin().await?;
    let service = portcullis_domain::ServiceName::parse(service)
        .map_err(|e| ServerFnError::new(e.message))?;
    let resource = resource.trim();
    let entries = state
        .control
        .store()
        .list_audit(&service, (!resource.is_empty()).then_some(resource), 200)
        .await
        .map_err(crate::server::internal)?;
    Ok(entries
        .into_iter()
        .map(|entry| AuditEntry {
            at: entry.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            actor: entry.actor,
            action: entry.action,
            resource: entry.resource,
            before: entry.before.map(|v| v.to_string()),
            after: entry.after.map(|v| v.to_string()),
        })
        .collect())
}
