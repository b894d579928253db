//! Policy documents per scope. Stored and returned here; the engine that enforces them lives
//! elsewhere.

use crate::change::{Change, Upsert, begin};
use crate::entity::policy;
use crate::{Actor, Saved, Store, StoreError, apis, operations, products, services};
use chrono::Utc;
use portcullis_domain::{PolicyScope, PolicyXml, ServiceName};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
};

/// The scope's row key and the id columns to set.
struct ScopeIds {
    key: String,
    product_id: Option<i64>,
    api_id: Option<i64>,
    operation_id: Option<i64>,
}

async fn resolve(
    db: &impl ConnectionTrait,
    service_id: i64,
    scope: &PolicyScope,
) -> Result<ScopeIds, StoreError> {
    Ok(match scope {
        PolicyScope::Global => ScopeIds {
            key: "global".into(),
            product_id: None,
            api_id: None,
            operation_id: None,
        },
        PolicyScope::Product(product) => {
            let row = products::find(db, service_id, product).await?;
            ScopeIds {
                key: format!("product:{}", row.id),
                product_id: Some(row.id),
                api_id: None,
                operation_id: None,
            }
        }
        PolicyScope::Api(api) => {
            let row = apis::find(db, service_id, api).await?;
            ScopeIds {
                key: format!("api:{}", row.id),
                product_id: None,
                api_id: Some(row.id),
                operation_id: None,
            }
        }
        PolicyScope::Operation(api, operation) => {
            let api_row = apis::find(db, service_id, api).await?;
            let row = operations::find(db, api_row.id, operation).await?;
            ScopeIds {
                key: format!("operation:{}", row.id),
                product_id: None,
                api_id: Some(api_row.id),
                operation_id: Some(row.id),
            }
        }
    })
}

fn resource(service: &ServiceName, scope: &PolicyScope) -> String {
    match scope {
        PolicyScope::Global => format!("/services/{service}/policy"),
        PolicyScope::Product(p) => format!("/services/{service}/products/{p}/policy"),
        PolicyScope::Api(a) => format!("/services/{service}/apis/{a}/policy"),
        PolicyScope::Operation(a, o) => {
            format!("/services/{service}/apis/{a}/operations/{o}/policy")
        }
    }
}

fn as_json(xml: &str) -> serde_json::Value {
    serde_json::json!({ "format": "xml", "value": xml })
}

impl Store {
    /// The document stored at a scope, or `None` when the scope uses its default.
    pub async fn get_policy(
        &self,
        service: &ServiceName,
        scope: &PolicyScope,
    ) -> Result<Option<PolicyXml>, StoreError> {
        let service_row = services::find(&self.db, service).await?;
        let ids = resolve(&self.db, service_row.id, scope).await?;
        let row = policy::Entity::find()
            .filter(policy::Column::ServiceId.eq(service_row.id))
            .filter(policy::Column::ScopeKey.eq(ids.key))
            .one(&self.db)
            .await?;
        Ok(row.map(|row| PolicyXml::from_store(row.xml)))
    }

    pub async fn put_policy(
        &self,
        actor: &Actor,
        service: &ServiceName,
        scope: &PolicyScope,
        xml: PolicyXml,
    ) -> Result<Saved, StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let ids = resolve(&txn, service_row.id, scope).await?;
        let existing = policy::Entity::find()
            .filter(policy::Column::ServiceId.eq(service_row.id))
            .filter(policy::Column::ScopeKey.eq(ids.key.clone()))
            .one(&txn)
            .await?;
        let before = existing.as_ref().map(|row| as_json(&row.xml));
        let mut active = match existing {
            Some(row) => row.into_active_model(),
            None => policy::ActiveModel {
                service_id: Set(service_row.id),
                scope_key: Set(ids.key),
                product_id: Set(ids.product_id),
                api_id: Set(ids.api_id),
                operation_id: Set(ids.operation_id),
                ..Default::default()
            },
        };
        active.xml = Set(xml.as_str().to_owned());
        active.updated_at = Set(Utc::now());
        active.save(&txn).await?;
        Upsert {
            actor,
            service: Some(service),
            resource: resource(service, scope),
            before: before.map(Some),
            after: Some(as_json(xml.as_str())),
            touches_subscriptions: false,
        }
        .commit(txn)
        .await
    }

    /// Removes the document at a scope, which falls back to its default.
    pub async fn delete_policy(
        &self,
        actor: &Actor,
        service: &ServiceName,
        scope: &PolicyScope,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let ids = resolve(&txn, service_row.id, scope).await?;
        let row = policy::Entity::find()
            .filter(policy::Column::ServiceId.eq(service_row.id))
            .filter(policy::Column::ScopeKey.eq(ids.key))
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("No policy is set at {scope}.")))?;
        policy::Entity::delete_by_id(row.id).exec(&txn).await?;
        Change {
            actor,
            action: "delete",
            service: Some(service),
            resource: resource(service, scope),
            before: Some(as_json(&row.xml)),
            after: None,
            touches_subscriptions: false,
        }
        .commit(txn)
        .await?;
        Ok(())
    }
}
