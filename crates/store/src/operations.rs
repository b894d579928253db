//! Operations: method + URL template inside an API.

use crate::change::{Change, begin, exists_already, to_json};
use crate::entity::operation;
use crate::{Actor, Saved, Store, StoreError, apis, services};
use chrono::Utc;
use portcullis_domain::model::{OperationConfig, OperationSettings};
use portcullis_domain::{
    ApiName, DisplayName, HttpMethod, OperationName, ServiceName, UrlTemplate, ValidationError,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};

pub(crate) fn record(row: &operation::Model) -> Result<OperationConfig, StoreError> {
    let corrupt = |e| StoreError::corrupt(format!("operation {}", row.name), e);
    Ok(OperationConfig {
        name: OperationName::parse(&row.name).map_err(corrupt)?,
        settings: OperationSettings {
            display_name: DisplayName::parse(&row.display_name).map_err(corrupt)?,
            method: HttpMethod::parse(&row.method).map_err(corrupt)?,
            url_template: UrlTemplate::parse(&row.url_template).map_err(corrupt)?,
            responses: json_column(row, "responses", &row.responses)?,
            description: row.description.clone(),
            template_parameters: json_column(row, "templateParameters", &row.template_parameters)?,
            request: json_column(row, "request", &row.request)?,
        },
    })
}

/// Writes `name` and `settings` into a row (new or loaded), stamped `now`.
pub(crate) fn fill(
    active: &mut operation::ActiveModel,
    name: &OperationName,
    settings: &OperationSettings,
    now: chrono::DateTime<Utc>,
) {
    let json = |value: Result<String, serde_json::Error>, empty: &str| {
        value.unwrap_or_else(|_| empty.to_owned())
    };
    active.name = Set(name.as_str().to_owned());
    active.display_name = Set(settings.display_name.as_str().to_owned());
    active.method = Set(settings.method.as_str().to_owned());
    active.url_template = Set(settings.url_template.as_str().to_owned());
    active.responses = Set(json(serde_json::to_string(&settings.responses), "[]"));
    active.description = Set(settings.description.clone());
    active.template_parameters = Set(json(
        serde_json::to_string(&settings.template_parameters),
        "[]",
    ));
    active.request = Set(json(serde_json::to_string(&settings.request), "{}"));
    active.updated_at = Set(now);
}

/// A JSON column of an operation row, read back.
fn json_column<T: serde::de::DeserializeOwned>(
    row: &operation::Model,
    field: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| {
        StoreError::corrupt(
            format!("operation {}", row.name),
            ValidationError::new(field, "Corrupt", e.to_string()),
        )
    })
}

pub(crate) async fn find(
    db: &impl ConnectionTrait,
    api_id: i64,
    name: &OperationName,
) -> Result<operation::Model, StoreError> {
    operation::Entity::find()
        .filter(operation::Column::ApiId.eq(api_id))
        .filter(operation::Column::Name.eq(name.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| StoreError::not_found("Operation", name))
}

/// How [`Store::write_operation`] treats the name it is given.
enum OperationWrite<'a> {
    /// Create it, or replace the operation of that name.
    Upsert,
    /// Create it; an operation of that name is a fault.
    Create,
    /// The operation now named `.0` takes the new name (which must be free).
    Rename(&'a OperationName),
}

pub(crate) fn resource(service: &ServiceName, api: &ApiName, name: &OperationName) -> String {
    format!("/services/{service}/apis/{api}/operations/{name}")
}

impl Store {
    pub async fn list_operations(
        &self,
        service: &ServiceName,
        api: &ApiName,
    ) -> Result<Vec<OperationConfig>, StoreError> {
        let service = services::find(&self.db, service).await?;
        let api = apis::find(&self.db, service.id, api).await?;
        operation::Entity::find()
            .filter(operation::Column::ApiId.eq(api.id))
            .order_by_asc(operation::Column::Name)
            .all(&self.db)
            .await?
            .iter()
            .map(record)
            .collect()
    }

    pub async fn get_operation(
        &self,
        service: &ServiceName,
        api: &ApiName,
        name: &OperationName,
    ) -> Result<OperationConfig, StoreError> {
        let service = services::find(&self.db, service).await?;
        let api = apis::find(&self.db, service.id, api).await?;
        record(&find(&self.db, api.id, name).await?)
    }

    /// Creates or replaces an operation. Two operations of one API cannot share a method and a
    /// template shape: the second could never be reached.
    pub async fn put_operation(
        &self,
        actor: &Actor,
        service: &ServiceName,
        api: &ApiName,
        name: &OperationName,
        settings: OperationSettings,
    ) -> Result<Saved, StoreError> {
        self.write_operation(actor, service, api, OperationWrite::Upsert, name, settings)
            .await
    }

    /// Creates an operation, refusing (`name`: `OperationExists`) when one of that name exists
    /// already — checked in the writing transaction, so a concurrent create of the same name is
    /// never silently replaced.
    pub async fn create_operation(
        &self,
        actor: &Actor,
        service: &ServiceName,
        api: &ApiName,
        name: &OperationName,
        settings: OperationSettings,
    ) -> Result<Saved, StoreError> {
        self.write_operation(actor, service, api, OperationWrite::Create, name, settings)
            .await
    }

    /// Renames operation `from` to `to` and saves its settings, in one transaction: the row
    /// keeps its identity, so its policy (and anything else attached to it) stays with it.
    /// One revision, one audit entry (`rename`).
    pub async fn rename_operation(
        &self,
        actor: &Actor,
        service: &ServiceName,
        api: &ApiName,
        from: &OperationName,
        to: &OperationName,
        settings: OperationSettings,
    ) -> Result<Saved, StoreError> {
        self.write_operation(
            actor,
            service,
            api,
            OperationWrite::Rename(from),
            to,
            settings,
        )
        .await
    }

    async fn write_operation(
        &self,
        actor: &Actor,
        service: &ServiceName,
        api: &ApiName,
        mode: OperationWrite<'_>,
        name: &OperationName,
        settings: OperationSettings,
    ) -> Result<Saved, StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let api_row = apis::find(&txn, service_row.id, api).await?;
        let named = operation::Entity::find()
            .filter(operation::Column::ApiId.eq(api_row.id))
            .filter(operation::Column::Name.eq(name.as_str()))
            .one(&txn)
            .await?;
        let exists_already = || exists_already("An operation", "OperationExists", name);
        let existing = match mode {
            OperationWrite::Upsert => named,
            OperationWrite::Create if named.is_some() => return Err(exists_already()),
            OperationWrite::Create => None,
            OperationWrite::Rename(from) if from == name => named,
            OperationWrite::Rename(_) if named.is_some() => return Err(exists_already()),
            OperationWrite::Rename(from) => Some(find(&txn, api_row.id, from).await?),
        };
        let mut siblings = operation::Entity::find()
            .filter(operation::Column::ApiId.eq(api_row.id))
            .filter(operation::Column::Method.eq(settings.method.as_str()));
        if let Some(row) = &existing {
            siblings = siblings.filter(operation::Column::Id.ne(row.id));
        }
        let shape = settings.url_template.shape();
        for sibling in &siblings.all(&txn).await? {
            let same_shape = UrlTemplate::parse(&sibling.url_template)
                .is_ok_and(|template| template.shape() == shape);
            if same_shape {
                return Err(ValidationError::new(
                    "urlTemplate",
                    "OperationExists",
                    format!(
                        "The operation '{}' already answers {} {}.",
                        sibling.name, sibling.method, sibling.url_template
                    ),
                )
                .into());
            }
        }
        let before = existing.as_ref().map(record).transpose()?;
        let now = Utc::now();
        let mut active = match existing {
            Some(row) => row.into_active_model(),
            None => operation::ActiveModel {
                api_id: Set(api_row.id),
                created_at: Set(now),
                ..Default::default()
            },
        };
        fill(&mut active, name, &settings, now);
        active.save(&txn).await?;
        let (saved, action) = match &before {
            None => (Saved::Created, "create"),
            Some(old) if old.name != *name => (Saved::Updated, "rename"),
            Some(_) => (Saved::Updated, "update"),
        };
        let before = before.map(|old| {
            let mut json = to_json(&old.settings);
            if old.name != *name
                && let Some(serde_json::Value::Object(fields)) = &mut json
            {
                fields.insert("name".to_owned(), old.name.as_str().into());
            }
            json
        });
        Change {
            actor,
            action,
            service: Some(service),
            resource: resource(service, api, name),
            before: before.flatten(),
            after: to_json(&settings),
            touches_subscriptions: false,
        }
        .commit(txn)
        .await?;
        Ok(saved)
    }

    pub async fn delete_operation(
        &self,
        actor: &Actor,
        service: &ServiceName,
        api: &ApiName,
        name: &OperationName,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let api_row = apis::find(&txn, service_row.id, api).await?;
        let row = find(&txn, api_row.id, name).await?;
        let before = record(&row)?;
        operation::Entity::delete_by_id(row.id).exec(&txn).await?;
        Change {
            actor,
            action: "delete",
            service: Some(service),
            resource: resource(service, api, name),
            before: to_json(&before.settings),
            after: None,
            touches_subscriptions: false,
        }
        .commit(txn)
        .await?;
        Ok(())
    }
}
