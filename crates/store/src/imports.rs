//! An API import (OpenAPI, or an APIOps folder's specification) applied in one transaction:
//! the API's settings and schemas, then its operations.
//!
//! An operation of the document takes the place of the existing operation **of the same
//! name** (its policies stay), else of the one that answers **the same method and URL
//! shape** (renamed; its policies stay too), else it is created. Existing operations the
//! document does not describe are kept unless the caller asks for them to go
//! ([`ApiImport::remove_missing`]): APIM deletes them silently, with their policies, which
//! its users find out about too late. Every operation changed gets its own audit entry; the
//! API's entry (`import`) says what happened to each.

use crate::change::{Change, begin, to_json};
use crate::entity::{api, operation};
use crate::{Actor, Saved, Store, StoreError, apis, operations, services};
use chrono::Utc;
use portcullis_domain::model::{ApiSettings, OperationConfig};
use portcullis_domain::operation_contract::ApiSchemas;
use portcullis_domain::{ApiName, ServiceName, UrlTemplate};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};

/// What to import into an API.
#[derive(Debug, Clone)]
pub struct ApiImport {
    pub settings: ApiSettings,
    pub schemas: ApiSchemas,
    pub operations: Vec<OperationConfig>,
    /// Delete the API's operations the document does not describe (default: keep them).
    pub remove_missing: bool,
}

/// What an import did, by operation name.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportOutcome {
    #[serde(skip)]
    pub saved: Option<Saved>,
    pub created: Vec<String>,
    pub updated: Vec<String>,
    /// `old → new`: existing operations that answered the same calls, renamed.
    pub renamed: Vec<String>,
    pub removed: Vec<String>,
    /// Operations the document does not describe, left as they were.
    pub kept: Vec<String>,
}

fn shape_of(row: &operation::Model) -> Option<String> {
    UrlTemplate::parse(&row.url_template)
        .ok()
        .map(|t| format!("{} {}", row.method, t.shape()))
}

impl Store {
    /// Creates or updates `name` from an import, all or nothing.
    pub async fn import_api(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &ApiName,
        import: ApiImport,
    ) -> Result<ImportOutcome, StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        apis::check_path_free(&txn, service_row.id, name, &import.settings).await?;
        let existing = api::Entity::find()
            .filter(api::Column::ServiceId.eq(service_row.id))
            .filter(api::Column::Name.eq(name.as_str()))
            .one(&txn)
            .await?;
        let before = existing.as_ref().map(apis::record).transpose()?;
        let now = Utc::now();
        let mut active = match existing {
            Some(row) => row.into_active_model(),
            None => api::ActiveModel {
                service_id: Set(service_row.id),
                name: Set(name.as_str().to_owned()),
                created_at: Set(now),
                ..Default::default()
            },
        };
        apis::fill(&mut active, &import.settings, now);
        active.schemas =
            Set(serde_json::to_string(&import.schemas).unwrap_or_else(|_| "{}".to_owned()));
        let api_row = active.save(&txn).await?;
        let api_id = match api_row.id {
            sea_orm::ActiveValue::Set(id) | sea_orm::ActiveValue::Unchanged(id) => id,
            sea_orm::ActiveValue::NotSet => {
                return Err(StoreError::corrupt(
                    format!("API {name}"),
                    portcullis_domain::ValidationError::new("id", "Corrupt", "no id after save"),
                ));
            }
        };

        let mut unmatched = operation::Entity::find()
            .filter(operation::Column::ApiId.eq(api_id))
            .all(&txn)
            .await?;
        let mut outcome = ImportOutcome {
            saved: Some(if before.is_some() {
                Saved::Updated
            } else {
                Saved::Created
            }),
            ..ImportOutcome::default()
        };
        for imported in &import.operations {
            let shape = format!(
                "{} {}",
                imported.settings.method.as_str(),
                imported.settings.url_template.shape()
            );
            let by_name = unmatched
                .iter()
                .position(|row| row.name == imported.name.as_str());
            let position = by_name.or_else(|| {
                unmatched
                    .iter()
                    .position(|row| shape_of(row).as_deref() == Some(shape.as_str()))
            });
            let old = position.map(|i| unmatched.swap_remove(i));
            let resource = operations::resource(service, name, &imported.name);
            let (action, before_json, mut active) = match old {
                Some(row) => {
                    let old_record = operations::record(&row)?;
                    let action = if row.name == imported.name.as_str() {
                        outcome.updated.push(imported.name.to_string());
                        "update"
                    } else {
                        outcome
                            .renamed
                            .push(format!("{} → {}", row.name, imported.name));
                        "rename"
                    };
                    (
                        action,
                        to_json(&old_record.settings),
                        row.into_active_model(),
                    )
                }
                None => {
                    outcome.created.push(imported.name.to_string());
                    (
                        "create",
                        None,
                        operation::ActiveModel {
                            api_id: Set(api_id),
                            created_at: Set(now),
                            ..Default::default()
                        },
                    )
                }
            };
            operations::fill(&mut active, &imported.name, &imported.settings, now);
            active.save(&txn).await?;
            Change {
                actor,
                action,
                service: Some(service),
                resource,
                before: before_json,
                after: to_json(&imported.settings),
                touches_subscriptions: false,
            }
            .record(&txn)
            .await?;
        }
        for row in unmatched {
            if import.remove_missing {
                let old_record = operations::record(&row)?;
                operation::Entity::delete_by_id(row.id).exec(&txn).await?;
                Change {
                    actor,
                    action: "delete",
                    service: Some(service),
                    resource: operations::resource(service, name, &old_record.name),
                    before: to_json(&old_record.settings),
                    after: None,
                    touches_subscriptions: false,
                }
                .record(&txn)
                .await?;
                outcome.removed.push(row.name);
            } else {
                outcome.kept.push(row.name);
            }
        }
        let mut after = to_json(&import.settings);
        if let Some(serde_json::Value::Object(fields)) = &mut after
            && let Some(summary) = to_json(&outcome)
        {
            fields.insert("import".to_owned(), summary);
        }
        Change {
            actor,
            action: "import",
            service: Some(service),
            resource: apis::resource(service, name),
            before: before.and_then(|b| to_json(&b.settings)),
            after,
            touches_subscriptions: false,
        }
        .commit(txn)
        .await?;
        Ok(outcome)
    }
}
