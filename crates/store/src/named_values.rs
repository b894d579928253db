//! Named values per service: create, replace, read, delete, with APIM's rules that need the
//! other rows — display names unique in a service, one in use by a policy cannot be
//! deleted, a renamed one is renamed in every document, policy fragment and backend that uses it (in
//! the same transaction). Secret values are masked in the audit log.

use crate::change::{Change, Upsert, begin, exists_already};
use crate::entity::{backend, named_value, policy, policy_fragment};
use crate::{Actor, Saved, Store, StoreError, services};
use chrono::Utc;
use portcullis_domain::{NamedValueMap, NamedValueName, NamedValueSettings, ServiceName};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};

/// A named value as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedValueRecord {
    pub name: NamedValueName,
    pub settings: NamedValueSettings,
}

fn resource(service: &ServiceName, name: &NamedValueName) -> String {
    format!("/services/{service}/namedValues/{name}")
}

/// The audit log's view: a secret's value never written down.
fn as_json(settings: &NamedValueSettings) -> serde_json::Value {
    let value = if settings.secret {
        serde_json::Value::String("(secret)".to_owned())
    } else {
        serde_json::Value::String(settings.value().to_owned())
    };
    serde_json::json!({
        "displayName": settings.display_name(),
        "value": value,
        "secret": settings.secret,
        "tags": settings.tags,
    })
}

pub(crate) fn record(row: &named_value::Model) -> Result<NamedValueRecord, StoreError> {
    let corrupt = |e| StoreError::corrupt(format!("named value {}", row.name), e);
    let tags: Vec<String> = serde_json::from_str(&row.tags).unwrap_or_default();
    Ok(NamedValueRecord {
        name: NamedValueName::parse(&row.name).map_err(corrupt)?,
        settings: NamedValueSettings::parse(&row.display_name, &row.value, row.secret, tags)
            .map_err(corrupt)?,
    })
}

async fn rows(
    db: &impl ConnectionTrait,
    service_id: i64,
) -> Result<Vec<named_value::Model>, StoreError> {
    Ok(named_value::Entity::find()
        .filter(named_value::Column::ServiceId.eq(service_id))
        .order_by_asc(named_value::Column::Name)
        .all(db)
        .await?)
}

/// The display names and values of a service's named values (for compiling documents).
pub(crate) async fn map(
    db: &impl ConnectionTrait,
    service_id: i64,
) -> Result<NamedValueMap, StoreError> {
    Ok(rows(db, service_id)
        .await?
        .into_iter()
        .map(|row| (row.display_name, row.value))
        .collect())
}

/// The display names and values of a service's secret named values.
pub(crate) async fn secrets(
    db: &impl ConnectionTrait,
    service_id: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(rows(db, service_id)
        .await?
        .into_iter()
        .filter(|row| row.secret)
        .map(|row| (row.display_name, row.value))
        .collect())
}

/// Whether a document refers to `display_name`.
fn references(xml: &str, display_name: &str) -> bool {
    portcullis_domain::named_value::references(xml).contains(&display_name)
}

impl Store {
    pub async fn list_named_values(
        &self,
        service: &ServiceName,
    ) -> Result<Vec<NamedValueRecord>, StoreError> {
        let service_row = services::find(&self.db, service).await?;
        rows(&self.db, service_row.id)
            .await?
            .iter()
            .map(record)
            .collect()
    }

    pub async fn get_named_value(
        &self,
        service: &ServiceName,
        name: &NamedValueName,
    ) -> Result<NamedValueRecord, StoreError> {
        let service_row = services::find(&self.db, service).await?;
        let row = named_value::Entity::find()
            .filter(named_value::Column::ServiceId.eq(service_row.id))
            .filter(named_value::Column::Name.eq(name.as_str()))
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::not_found("Named value", name))?;
        record(&row)
    }

    /// A named value with its value, secret or not (APIM's `listValue`): the read of a
    /// secret is written to the audit log.
    pub async fn read_named_value(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &NamedValueName,
    ) -> Result<NamedValueRecord, StoreError> {
        let found = self.get_named_value(service, name).await?;
        if found.settings.secret {
            crate::audit::record_read(
                &self.db,
                actor,
                "listValue",
                service,
                resource(service, name),
            )
            .await?;
        }
        Ok(found)
    }

    /// [`Store::named_value_map`] for showing documents: a secret stays `{{displayName}}`.
    pub async fn named_value_map_masked(
        &self,
        service: &ServiceName,
    ) -> Result<NamedValueMap, StoreError> {
        let service_row = services::find(&self.db, service).await?;
        Ok(rows(&self.db, service_row.id)
            .await?
            .into_iter()
            .map(|row| {
                let value = if row.secret {
                    format!("{{{{{}}}}}", row.display_name)
                } else {
                    row.value
                };
                (row.display_name, value)
            })
            .collect())
    }

    /// The named values a service's documents are compiled with.
    pub async fn named_value_map(
        &self,
        service: &ServiceName,
    ) -> Result<NamedValueMap, StoreError> {
        let service_row = services::find(&self.db, service).await?;
        map(&self.db, service_row.id).await
    }

    /// Creates or replaces a named value. A new display name must be free in the service; a
    /// changed one is renamed in every policy document of the service that used the old one.
    pub async fn put_named_value(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &NamedValueName,
        settings: NamedValueSettings,
    ) -> Result<Saved, StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let all = rows(&txn, service_row.id).await?;
        let existing = all.iter().find(|row| row.name == name.as_str()).cloned();
        if all
            .iter()
            .any(|row| row.name != name.as_str() && row.display_name == settings.display_name())
        {
            return Err(exists_already(
                "A named value",
                "DisplayNameExists",
                &settings.display_name(),
            ));
        }
        let before = match &existing {
            Some(row) => Some(Some(as_json(&record(row)?.settings))),
            None => None,
        };
        if let Some(old) = existing
            .as_ref()
            .filter(|row| row.display_name != settings.display_name())
        {
            // APIM renames the references with the named value.
            let documents = policy::Entity::find()
                .filter(policy::Column::ServiceId.eq(service_row.id))
                .all(&txn)
                .await?;
            let from = format!("{{{{{}}}}}", old.display_name);
            let to = format!("{{{{{}}}}}", settings.display_name());
            for document in documents.into_iter().filter(|d| d.xml.contains(&from)) {
                let xml = document.xml.replace(&from, &to);
                let mut active = document.into_active_model();
                active.xml = Set(xml);
                active.updated_at = Set(Utc::now());
                active.save(&txn).await?;
            }
            let fragments = policy_fragment::Entity::find()
                .filter(policy_fragment::Column::ServiceId.eq(service_row.id))
                .all(&txn)
                .await?;
            for fragment in fragments.into_iter().filter(|f| f.value.contains(&from)) {
                let value = fragment.value.replace(&from, &to);
                let mut active = fragment.into_active_model();
                active.value = Set(value);
                active.updated_at = Set(Utc::now());
                active.save(&txn).await?;
            }
            // And in backends' credentials (stored as JSON; a display name needs no escaping).
            let backends = backend::Entity::find()
                .filter(backend::Column::ServiceId.eq(service_row.id))
                .all(&txn)
                .await?;
            for row in backends.into_iter().filter(|b| b.settings.contains(&from)) {
                let settings = row.settings.replace(&from, &to);
                let mut active = row.into_active_model();
                active.settings = Set(settings);
                active.updated_at = Set(Utc::now());
                active.save(&txn).await?;
            }
        }
        let mut active = match existing {
            Some(row) => row.into_active_model(),
            None => named_value::ActiveModel {
                service_id: Set(service_row.id),
                name: Set(name.as_str().to_owned()),
                ..Default::default()
            },
        };
        active.display_name = Set(settings.display_name().to_owned());
        active.value = Set(settings.value().to_owned());
        active.secret = Set(settings.secret);
        active.tags = Set(serde_json::to_string(&settings.tags).unwrap_or_else(|_| "[]".into()));
        active.updated_at = Set(Utc::now());
        active.save(&txn).await?;
        Upsert {
            actor,
            service: Some(service),
            resource: resource(service, name),
            before,
            after: Some(as_json(&settings)),
            touches_subscriptions: false,
        }
        .commit(txn)
        .await
    }

    /// Deletes a named value that no policy document of the service uses.
    pub async fn delete_named_value(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &NamedValueName,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let row = named_value::Entity::find()
            .filter(named_value::Column::ServiceId.eq(service_row.id))
            .filter(named_value::Column::Name.eq(name.as_str()))
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::not_found("Named value", name))?;
        let documents = policy::Entity::find()
            .filter(policy::Column::ServiceId.eq(service_row.id))
            .all(&txn)
            .await?;
        let fragments = policy_fragment::Entity::find()
            .filter(policy_fragment::Column::ServiceId.eq(service_row.id))
            .all(&txn)
            .await?;
        if documents
            .iter()
            .any(|d| references(&d.xml, &row.display_name))
            || fragments
                .iter()
                .any(|f| references(&f.value, &row.display_name))
        {
            return Err(StoreError::Conflict {
                code: "NamedValueInUse",
                message: format!(
                    "The named value '{name}' is used by a policy ({{{{{}}}}}); remove it from the policies first.",
                    row.display_name
                ),
            });
        }
        let backends =
            crate::backends::using_named_value(&txn, service_row.id, &row.display_name).await?;
        if !backends.is_empty() {
            return Err(StoreError::Conflict {
                code: "NamedValueInUse",
                message: format!(
                    "The named value '{name}' is used by the credentials of the backend {}; remove it from there first.",
                    backends.join(", ")
                ),
            });
        }
        let before = as_json(&record(&row)?.settings);
        named_value::Entity::delete_by_id(row.id).exec(&txn).await?;
        Change {
            actor,
            action: "delete",
            service: Some(service),
            resource: resource(service, name),
            before: Some(before),
            after: None,
            touches_subscriptions: false,
        }
        .commit(txn)
        .await?;
        Ok(())
    }
}
