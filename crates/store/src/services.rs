//! Services: one gateway host each, and the parent of everything else.

use crate::change::{Change, Upsert, begin, exists_already, to_json};
use crate::entity::service;
use crate::{Actor, Saved, Store, StoreError};
use chrono::Utc;
use portcullis_domain::model::ServiceSettings;
use portcullis_domain::{DisplayName, ServiceName};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    pub name: ServiceName,
    pub settings: ServiceSettings,
}

pub(crate) fn record(row: &service::Model) -> Result<ServiceRecord, StoreError> {
    let what = || format!("service {}", row.name);
    Ok(ServiceRecord {
        name: ServiceName::parse(&row.name).map_err(|e| StoreError::corrupt(what(), e))?,
        settings: ServiceSettings {
            display_name: DisplayName::parse(&row.display_name)
                .map_err(|e| StoreError::corrupt(what(), e))?,
            is_default: row.is_default,
        },
    })
}

/// The row of a service, or `NotFound`.
pub(crate) async fn find(
    db: &impl ConnectionTrait,
    name: &ServiceName,
) -> Result<service::Model, StoreError> {
    service::Entity::find()
        .filter(service::Column::Name.eq(name.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| StoreError::not_found("Service", name))
}

pub(crate) fn resource(name: &ServiceName) -> String {
    format!("/services/{name}")
}

impl Store {
    pub async fn list_services(&self) -> Result<Vec<ServiceRecord>, StoreError> {
        service::Entity::find()
            .order_by_asc(service::Column::Name)
            .all(&self.db)
            .await?
            .iter()
            .map(record)
            .collect()
    }

    pub async fn get_service(&self, name: &ServiceName) -> Result<ServiceRecord, StoreError> {
        record(&find(&self.db, name).await?)
    }

    /// Creates or replaces a service. `is_default: None` keeps the current flag, and makes the
    /// first service of an installation the default one. Making a service default takes the
    /// flag from any other.
    pub async fn put_service(
        &self,
        actor: &Actor,
        name: &ServiceName,
        display_name: DisplayName,
        is_default: Option<bool>,
    ) -> Result<Saved, StoreError> {
        self.write_service(actor, name, display_name, is_default, false)
            .await
    }

    /// Creates; a service of that name already there is refused (`name`: `ServiceExists`).
    pub async fn create_service(
        &self,
        actor: &Actor,
        name: &ServiceName,
        display_name: DisplayName,
        is_default: Option<bool>,
    ) -> Result<Saved, StoreError> {
        self.write_service(actor, name, display_name, is_default, true)
            .await
    }

    async fn write_service(
        &self,
        actor: &Actor,
        name: &ServiceName,
        display_name: DisplayName,
        is_default: Option<bool>,
        refuse_existing: bool,
    ) -> Result<Saved, StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let existing = service::Entity::find()
            .filter(service::Column::Name.eq(name.as_str()))
            .one(&txn)
            .await?;
        if refuse_existing && existing.is_some() {
            return Err(exists_already("A service", "ServiceExists", name));
        }
        let before = existing.as_ref().map(record).transpose()?;
        let is_default = match (is_default, &existing) {
            (Some(flag), _) => flag,
            (None, Some(row)) => row.is_default,
            (None, None) => service::Entity::find().count(&txn).await? == 0,
        };
        if is_default {
            service::Entity::update_many()
                .col_expr(service::Column::IsDefault, false.into())
                .filter(service::Column::Name.ne(name.as_str()))
                .exec(&txn)
                .await?;
        }
        let now = Utc::now();
        match existing {
            Some(row) => {
                let mut active = row.into_active_model();
                active.display_name = Set(display_name.as_str().to_owned());
                active.is_default = Set(is_default);
                active.updated_at = Set(now);
                active.update(&txn).await?;
            }
            None => {
                service::ActiveModel {
                    name: Set(name.as_str().to_owned()),
                    display_name: Set(display_name.as_str().to_owned()),
                    is_default: Set(is_default),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
        }
        let after = ServiceSettings {
            display_name,
            is_default,
        };
        Upsert {
            actor,
            service: Some(name),
            resource: resource(name),
            before: before.map(|b| to_json(&b.settings)),
            after: to_json(&after),
            touches_subscriptions: false,
        }
        .commit(txn)
        .await
    }

    /// Deletes a service and everything in it. If it was the default service, the oldest
    /// remaining one becomes the default.
    pub async fn delete_service(
        &self,
        actor: &Actor,
        name: &ServiceName,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let row = find(&txn, name).await?;
        let before = record(&row)?;
        service::Entity::delete_by_id(row.id).exec(&txn).await?;
        if row.is_default {
            let oldest = service::Entity::find()
                .order_by_asc(service::Column::CreatedAt)
                .order_by_asc(service::Column::Id)
                .one(&txn)
                .await?;
            if let Some(oldest) = oldest {
                let mut active = oldest.into_active_model();
                active.is_default = Set(true);
                active.update(&txn).await?;
            }
        }
        Change {
            actor,
            action: "delete",
            service: Some(name),
            resource: resource(name),
            before: to_json(&before.settings),
            after: None,
            touches_subscriptions: true,
        }
        .commit(txn)
        .await?;
        Ok(())
    }
}
