//! Policy fragments per service: create, replace, read, delete, with APIM's rules that need
//! the other rows — a change must leave every document that includes the fragment valid
//! (each is compiled with the new text, in the same transaction), and a fragment that a
//! document includes cannot be deleted.

use crate::change::{Change, Upsert, begin};
use crate::entity::{api, operation, policy, policy_fragment, product};
use crate::{Actor, Saved, Store, StoreError, services};
use chrono::Utc;
use portcullis_domain::policy::ScopeKind;
use portcullis_domain::policy_fragment::{included, still_compiles};
use portcullis_domain::{
    FragmentFormat, FragmentMap, PolicyFragmentName, PolicyFragmentSettings, ServiceName,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};

/// A policy fragment as stored, with the scopes of the documents that include it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFragmentRecord {
    pub name: PolicyFragmentName,
    pub settings: PolicyFragmentSettings,
    /// The scopes of the documents that include it (`API echo`, `All APIs`).
    pub used_by: Vec<String>,
}

fn resource(service: &ServiceName, name: &PolicyFragmentName) -> String {
    format!("/services/{service}/policyFragments/{name}")
}

fn as_json(settings: &PolicyFragmentSettings) -> serde_json::Value {
    serde_json::json!({
        "description": settings.description,
        "format": settings.format.as_str(),
        "value": settings.value(),
    })
}

/// A stored document's scope: its kind, and its label as traces write it (`API echo`).
pub(crate) async fn scope_of(
    db: &impl ConnectionTrait,
    document: &policy::Model,
) -> Result<(ScopeKind, String), StoreError> {
    let api_name = |id| async move {
        Ok::<_, StoreError>(
            api::Entity::find_by_id(id)
                .one(db)
                .await?
                .map_or_else(|| format!("#{id}"), |row| row.name),
        )
    };
    Ok(
        match (document.operation_id, document.api_id, document.product_id) {
            (Some(id), api_id, _) => {
                let api = match api_id {
                    Some(api_id) => api_name(api_id).await?,
                    None => String::new(),
                };
                let name = operation::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .map_or_else(|| format!("#{id}"), |row| row.name);
                (ScopeKind::Operation, format!("operation {api}/{name}"))
            }
            (None, Some(id), _) => (ScopeKind::Api, format!("API {}", api_name(id).await?)),
            (None, None, Some(id)) => {
                let name = product::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .map_or_else(|| format!("#{id}"), |row| row.name);
                (ScopeKind::Product, format!("product {name}"))
            }
            (None, None, None) => (ScopeKind::Global, "All APIs".to_owned()),
        },
    )
}

/// The labels of the documents that include fragment `id`.
async fn users(
    db: &impl ConnectionTrait,
    id: &str,
    documents: &[policy::Model],
) -> Result<Vec<String>, StoreError> {
    let mut labels = Vec::new();
    for document in documents {
        if included(&document.xml).iter().any(|found| found == id) {
            labels.push(scope_of(db, document).await?.1);
        }
    }
    labels.sort();
    Ok(labels)
}

async fn record(
    db: &impl ConnectionTrait,
    row: &policy_fragment::Model,
    documents: &[policy::Model],
) -> Result<PolicyFragmentRecord, StoreError> {
    let corrupt = |e| StoreError::corrupt(format!("policy fragment {}", row.name), e);
    Ok(PolicyFragmentRecord {
        name: PolicyFragmentName::parse(&row.name).map_err(corrupt)?,
        settings: PolicyFragmentSettings::from_store(
            row.value.clone(),
            row.description.clone(),
            FragmentFormat::parse(&row.format).map_err(corrupt)?,
        ),
        used_by: users(db, &row.name, documents).await?,
    })
}

async fn rows(
    db: &impl ConnectionTrait,
    service_id: i64,
) -> Result<Vec<policy_fragment::Model>, StoreError> {
    Ok(policy_fragment::Entity::find()
        .filter(policy_fragment::Column::ServiceId.eq(service_id))
        .order_by_asc(policy_fragment::Column::Name)
        .all(db)
        .await?)
}

pub(crate) async fn documents(
    db: &impl ConnectionTrait,
    service_id: i64,
) -> Result<Vec<policy::Model>, StoreError> {
    Ok(policy::Entity::find()
        .filter(policy::Column::ServiceId.eq(service_id))
        .all(db)
        .await?)
}

/// A service's fragments by id (for compiling documents).
pub(crate) async fn map(
    db: &impl ConnectionTrait,
    service_id: i64,
) -> Result<FragmentMap, StoreError> {
    Ok(rows(db, service_id)
        .await?
        .into_iter()
        .map(|row| (row.name, row.value))
        .collect())
}

impl Store {
    pub async fn list_policy_fragments(
        &self,
        service: &ServiceName,
    ) -> Result<Vec<PolicyFragmentRecord>, StoreError> {
        let service_row = services::find(&self.db, service).await?;
        let documents = documents(&self.db, service_row.id).await?;
        let mut records = Vec::new();
        for row in rows(&self.db, service_row.id).await? {
            records.push(record(&self.db, &row, &documents).await?);
        }
        Ok(records)
    }

    pub async fn get_policy_fragment(
        &self,
        service: &ServiceName,
        name: &PolicyFragmentName,
    ) -> Result<PolicyFragmentRecord, StoreError> {
        let service_row = services::find(&self.db, service).await?;
        let row = policy_fragment::Entity::find()
            .filter(policy_fragment::Column::ServiceId.eq(service_row.id))
            .filter(policy_fragment::Column::Name.eq(name.as_str()))
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::not_found("Policy fragment", name))?;
        record(&self.db, &row, &documents(&self.db, service_row.id).await?).await
    }

    /// The fragments a service's documents are compiled with.
    pub async fn fragment_map(&self, service: &ServiceName) -> Result<FragmentMap, StoreError> {
        let service_row = services::find(&self.db, service).await?;
        map(&self.db, service_row.id).await
    }

    /// Creates or replaces a fragment, if every document that includes it still compiles
    /// with the new text.
    pub async fn put_policy_fragment(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &PolicyFragmentName,
        settings: PolicyFragmentSettings,
    ) -> Result<Saved, StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let all = rows(&txn, service_row.id).await?;
        let existing = all.iter().find(|row| row.name == name.as_str()).cloned();
        let mut library = crate::certificates::library(&txn, service_row.id).await?;
        library
            .fragments
            .insert(name.as_str().to_owned(), settings.value().to_owned());
        let named = crate::named_values::map(&txn, service_row.id).await?;
        for document in documents(&txn, service_row.id).await? {
            if included(&document.xml).iter().any(|id| id == name.as_str()) {
                let (kind, label) = scope_of(&txn, &document).await?;
                still_compiles(&document.xml, kind, &label, &named, &library)?;
            }
        }
        let before = existing.as_ref().map(|row| {
            Some(serde_json::json!({
                "description": row.description,
                "format": row.format,
                "value": row.value,
            }))
        });
        let mut active = match existing {
            Some(row) => row.into_active_model(),
            None => policy_fragment::ActiveModel {
                service_id: Set(service_row.id),
                name: Set(name.as_str().to_owned()),
                ..Default::default()
            },
        };
        active.description = Set(settings.description.clone());
        active.format = Set(settings.format.as_str().to_owned());
        active.value = Set(settings.value().to_owned());
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

    /// Deletes a fragment that no document of the service includes.
    pub async fn delete_policy_fragment(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &PolicyFragmentName,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let row = policy_fragment::Entity::find()
            .filter(policy_fragment::Column::ServiceId.eq(service_row.id))
            .filter(policy_fragment::Column::Name.eq(name.as_str()))
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::not_found("Policy fragment", name))?;
        let found = record(&txn, &row, &documents(&txn, service_row.id).await?).await?;
        if !found.used_by.is_empty() {
            return Err(StoreError::Conflict {
                code: "PolicyFragmentInUse",
                message: format!(
                    "The policy fragment '{name}' is included by the policy at {}; remove the include-fragment first.",
                    found.used_by.join(", ")
                ),
            });
        }
        policy_fragment::Entity::delete_by_id(row.id)
            .exec(&txn)
            .await?;
        Change {
            actor,
            action: "delete",
            service: Some(service),
            resource: resource(service, name),
            before: Some(as_json(&found.settings)),
            after: None,
            touches_subscriptions: false,
        }
        .commit(txn)
        .await?;
        Ok(())
    }
}
