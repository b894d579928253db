//! APIs: a backend URL behind a URL suffix, with its subscription-key settings.

use crate::change::{Change, Upsert, begin, exists_already, to_json};
use crate::entity::api;
use crate::{Actor, Saved, Store, StoreError, services};
use chrono::Utc;
use portcullis_domain::model::ApiSettings;
use portcullis_domain::operation_contract::ApiSchemas;
use portcullis_domain::{
    ApiName, ApiSuffix, DisplayName, KeyHeaderName, KeyQueryParamName, ServiceName, ServiceUrl,
    ValidationError,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRecord {
    pub name: ApiName,
    pub settings: ApiSettings,
    /// The API's schemas by type name (an OpenAPI import's; a plain `PUT` keeps them).
    pub schemas: ApiSchemas,
}

pub(crate) fn record(row: &api::Model) -> Result<ApiRecord, StoreError> {
    let what = || format!("API {}", row.name);
    let corrupt = |e| StoreError::corrupt(what(), e);
    Ok(ApiRecord {
        name: ApiName::parse(&row.name).map_err(corrupt)?,
        settings: ApiSettings {
            display_name: DisplayName::parse(&row.display_name).map_err(corrupt)?,
            service_url: ServiceUrl::parse(&row.service_url).map_err(corrupt)?,
            path: ApiSuffix::parse(&row.path).map_err(corrupt)?,
            subscription_required: row.subscription_required,
            key_header_name: KeyHeaderName::parse(&row.key_header_name).map_err(corrupt)?,
            key_query_param_name: KeyQueryParamName::parse(&row.key_query_param_name)
                .map_err(corrupt)?,
            forward_subscription_key: row.forward_subscription_key,
            description: row.description.clone(),
        },
        schemas: serde_json::from_str(&row.schemas).map_err(|e| {
            StoreError::corrupt(
                what(),
                ValidationError::new("schemas", "Corrupt", e.to_string()),
            )
        })?,
    })
}

pub(crate) async fn find(
    db: &impl ConnectionTrait,
    service_id: i64,
    name: &ApiName,
) -> Result<api::Model, StoreError> {
    api::Entity::find()
        .filter(api::Column::ServiceId.eq(service_id))
        .filter(api::Column::Name.eq(name.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| StoreError::not_found("API", name))
}

/// Refuses a URL suffix another API of the service has (compared as routing compares).
pub(crate) async fn check_path_free(
    db: &impl ConnectionTrait,
    service_id: i64,
    name: &ApiName,
    settings: &ApiSettings,
) -> Result<(), StoreError> {
    let taken_by = api::Entity::find()
        .filter(api::Column::ServiceId.eq(service_id))
        .filter(api::Column::PathKey.eq(settings.path.matching_key()))
        .filter(api::Column::Name.ne(name.as_str()))
        .one(db)
        .await?;
    if let Some(other) = taken_by {
        let shown = if settings.path.is_root() {
            "The empty URL suffix".to_owned()
        } else {
            format!("The URL suffix '{}'", settings.path)
        };
        return Err(ValidationError::new(
            "path",
            "PathInUse",
            format!("{shown} is already used by the API '{}'.", other.name),
        )
        .into());
    }
    Ok(())
}

/// Writes `settings` into a row (new or loaded), stamped `now`; the schemas are the
/// caller's to set.
pub(crate) fn fill(
    active: &mut api::ActiveModel,
    settings: &ApiSettings,
    now: chrono::DateTime<Utc>,
) {
    active.display_name = Set(settings.display_name.as_str().to_owned());
    active.service_url = Set(settings.service_url.as_str().to_owned());
    active.path = Set(settings.path.as_str().to_owned());
    active.path_key = Set(settings.path.matching_key().to_owned());
    active.subscription_required = Set(settings.subscription_required);
    active.key_header_name = Set(settings.key_header_name.as_str().to_owned());
    active.key_query_param_name = Set(settings.key_query_param_name.as_str().to_owned());
    active.forward_subscription_key = Set(settings.forward_subscription_key);
    active.description = Set(settings.description.clone());
    active.updated_at = Set(now);
}

pub(crate) fn resource(service: &ServiceName, api: &ApiName) -> String {
    format!("/services/{service}/apis/{api}")
}

impl Store {
    pub async fn list_apis(&self, service: &ServiceName) -> Result<Vec<ApiRecord>, StoreError> {
        let service = services::find(&self.db, service).await?;
        api::Entity::find()
            .filter(api::Column::ServiceId.eq(service.id))
            .order_by_asc(api::Column::Name)
            .all(&self.db)
            .await?
            .iter()
            .map(record)
            .collect()
    }

    pub async fn get_api(
        &self,
        service: &ServiceName,
        name: &ApiName,
    ) -> Result<ApiRecord, StoreError> {
        let service = services::find(&self.db, service).await?;
        record(&find(&self.db, service.id, name).await?)
    }

    /// Creates or replaces an API. Its URL suffix must not be another API's (compared
    /// without regard to case, as routing compares).
    pub async fn put_api(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &ApiName,
        settings: ApiSettings,
    ) -> Result<Saved, StoreError> {
        self.write_api(actor, service, name, settings, false).await
    }

    /// Creates; a api of that name already there is refused (`name`: `ApiExists`).
    pub async fn create_api(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &ApiName,
        settings: ApiSettings,
    ) -> Result<Saved, StoreError> {
        self.write_api(actor, service, name, settings, true).await
    }

    async fn write_api(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &ApiName,
        settings: ApiSettings,
        refuse_existing: bool,
    ) -> Result<Saved, StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        check_path_free(&txn, service_row.id, name, &settings).await?;
        let existing = api::Entity::find()
            .filter(api::Column::ServiceId.eq(service_row.id))
            .filter(api::Column::Name.eq(name.as_str()))
            .one(&txn)
            .await?;
        if refuse_existing && existing.is_some() {
            return Err(exists_already("An API", "ApiExists", name));
        }
        let before = existing.as_ref().map(record).transpose()?;
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
        fill(&mut active, &settings, now);
        active.save(&txn).await?;
        Upsert {
            actor,
            service: Some(service),
            resource: resource(service, name),
            before: before.map(|b| to_json(&b.settings)),
            after: to_json(&settings),
            touches_subscriptions: false,
        }
        .commit(txn)
        .await
    }

    /// Deletes an API with its operations, its policies, its product links and the
    /// subscriptions scoped to it.
    pub async fn delete_api(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &ApiName,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let row = find(&txn, service_row.id, name).await?;
        let before = record(&row)?;
        api::Entity::delete_by_id(row.id).exec(&txn).await?;
        Change {
            actor,
            action: "delete",
            service: Some(service),
            resource: resource(service, name),
            before: to_json(&before.settings),
            after: None,
            touches_subscriptions: true,
        }
        .commit(txn)
        .await?;
        Ok(())
    }
}
