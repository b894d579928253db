//! The audit log: changes are written by [`crate::change::Change::commit`]; reads of
//! secrets by [`record_read`]; this module reads it back.

use crate::entity::audit_entry;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use portcullis_domain::ServiceName;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// Writes that `actor` read a secret (`action`: `listSecrets`, `listValue`) of `resource`:
/// an entry without before and after, and no new revision (nothing changed).
pub(crate) async fn record_read(
    db: &sea_orm::DatabaseConnection,
    actor: &crate::Actor,
    action: &str,
    service: &ServiceName,
    resource: String,
) -> Result<(), StoreError> {
    use sea_orm::{ActiveModelTrait, Set};
    audit_entry::ActiveModel {
        at: Set(Utc::now()),
        actor: Set(actor.to_string()),
        action: Set(action.to_owned()),
        service: Set(Some(service.to_string())),
        resource: Set(resource),
        before: Set(None),
        after: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// One change: who, when, what, and the resource before and after.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub resource: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl Store {
    /// A service's changes, newest first. `resource` keeps only entries whose resource path
    /// starts with it (`/services/x/apis/calc` matches the API and its operations).
    pub async fn list_audit(
        &self,
        service: &ServiceName,
        resource: Option<&str>,
        limit: u64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut query = audit_entry::Entity::find()
            .filter(audit_entry::Column::Service.eq(service.as_str()))
            .order_by_desc(audit_entry::Column::Id)
            .limit(limit);
        if let Some(prefix) = resource.filter(|p| !p.is_empty()) {
            query = query.filter(audit_entry::Column::Resource.starts_with(prefix));
        }
        Ok(query
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| AuditRecord {
                id: row.id,
                at: row.at,
                actor: row.actor,
                action: row.action,
                resource: row.resource,
                before: row.before,
                after: row.after,
            })
            .collect())
    }
}
