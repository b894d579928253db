//! Backends per service: create or replace, read, delete, with the rules that need the
//! other rows — a pool's members exist and are single backends (no pool in a pool), the
//! named values and the certificate a backend's credentials use exist, and a backend that a
//! policy (`backend-id="…"`) or a pool names cannot be deleted, nor a pool's member turned
//! into a pool. Credential values that are not `{{named value}}` references are masked in
//! the audit log.

use crate::change::{Change, Upsert, begin};
use crate::entity::{backend, policy_fragment};
use crate::policy_fragments::{documents, scope_of};
use crate::{Actor, Saved, Store, StoreError, services};
use chrono::Utc;
use portcullis_domain::backend::BackendContract;
use portcullis_domain::backend::named_in as named_backends;
use portcullis_domain::{BackendName, BackendSettings, PolicyLibrary, ServiceName};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use std::sync::Arc;

/// A backend as stored, with who uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendRecord {
    pub name: BackendName,
    pub settings: Arc<BackendSettings>,
    /// The documents (`API echo`, `All APIs`), fragments (`fragment f`) and pools
    /// (`pool p`) that name it.
    pub used_by: Vec<String>,
}

fn resource(service: &ServiceName, name: &BackendName) -> String {
    format!("/services/{service}/backends/{name}")
}

/// The audit log's view: the properties, with literal credential values hidden (a value
/// that only names `{{named values}}` is shown; the named value's own audit covers it).
fn as_json(settings: &BackendSettings) -> serde_json::Value {
    let mut contract = settings.contract().clone();
    let hide = |value: &mut String| {
        if !value.contains("{{") {
            *value = "(hidden)".to_owned();
        }
    };
    if let Some(credentials) = &mut contract.credentials {
        for values in credentials
            .header
            .iter_mut()
            .chain(credentials.query.iter_mut())
            .flat_map(|map| map.values_mut())
        {
            values.iter_mut().for_each(hide);
        }
        if let Some(authorization) = &mut credentials.authorization {
            hide(&mut authorization.parameter);
        }
    }
    serde_json::to_value(&contract).unwrap_or_default()
}

pub(crate) fn parse_row(
    row: &backend::Model,
) -> Result<(BackendName, Arc<BackendSettings>), StoreError> {
    let corrupt = |e| StoreError::corrupt(format!("backend {}", row.name), e);
    let name = BackendName::parse(&row.name).map_err(corrupt)?;
    let contract: BackendContract = serde_json::from_str(&row.settings).map_err(|e| {
        corrupt(portcullis_domain::ValidationError::new(
            "properties",
            "InvalidJson",
            e.to_string(),
        ))
    })?;
    let settings = BackendSettings::parse(&name, contract).map_err(corrupt)?;
    Ok((name, Arc::new(settings)))
}

async fn rows(
    db: &impl ConnectionTrait,
    service_id: i64,
) -> Result<Vec<backend::Model>, StoreError> {
    Ok(backend::Entity::find()
        .filter(backend::Column::ServiceId.eq(service_id))
        .order_by_asc(backend::Column::Name)
        .all(db)
        .await?)
}

/// Adds the service's backends to `library` (for compiling documents and for the gateway).
pub(crate) async fn add_to(
    library: &mut PolicyLibrary,
    db: &impl ConnectionTrait,
    service_id: i64,
) -> Result<(), StoreError> {
    for row in rows(db, service_id).await? {
        let (name, settings) = parse_row(&row)?;
        library.add_backend(name.as_str(), settings);
    }
    Ok(())
}

/// Who names the backend `id`: documents, fragments and pools.
async fn users(
    db: &impl ConnectionTrait,
    service_id: i64,
    id: &str,
) -> Result<Vec<String>, StoreError> {
    let mut labels = Vec::new();
    for document in documents(db, service_id).await? {
        if named_backends(&document.xml).iter().any(|n| n == id) {
            labels.push(scope_of(db, &document).await?.1);
        }
    }
    let fragments = policy_fragment::Entity::find()
        .filter(policy_fragment::Column::ServiceId.eq(service_id))
        .all(db)
        .await?;
    for fragment in fragments {
        if named_backends(&fragment.value).iter().any(|n| n == id) {
            labels.push(format!("fragment {}", fragment.name));
        }
    }
    for row in rows(db, service_id).await? {
        let (pool, settings) = parse_row(&row)?;
        if settings.members().iter().any(|m| m.backend.as_str() == id) {
            labels.push(format!("pool {pool}"));
        }
    }
    labels.sort();
    Ok(labels)
}

/// The service's backends that name a named value (by display name) in their credentials.
pub(crate) async fn using_named_value(
    db: &impl ConnectionTrait,
    service_id: i64,
    display_name: &str,
) -> Result<Vec<String>, StoreError> {
    let mut names = Vec::new();
    for row in rows(db, service_id).await? {
        let (name, settings) = parse_row(&row)?;
        if settings
            .named_value_references()
            .iter()
            .any(|n| n == display_name)
        {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

/// Checks what `settings` names against the service's other rows.
async fn check_references(
    db: &impl ConnectionTrait,
    service_id: i64,
    name: &BackendName,
    settings: &BackendSettings,
) -> Result<(), StoreError> {
    let invalid = |field: &str, message: String| {
        StoreError::Invalid(portcullis_domain::ValidationError::new(
            field,
            "InvalidBackend",
            message,
        ))
    };
    let library = crate::certificates::library(db, service_id).await?;
    for member in settings.members() {
        match library
            .backends()
            .find(|(id, _)| *id == member.backend.as_str())
        {
            None => {
                return Err(invalid(
                    "pool.services",
                    format!("The service has no backend '{}'.", member.backend),
                ));
            }
            Some((_, found)) if found.is_pool() => {
                return Err(invalid(
                    "pool.services",
                    format!(
                        "'{}' is a pool; a pool's members are single backends.",
                        member.backend
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    if settings.is_pool() {
        let pools: Vec<&str> = library
            .backends()
            .filter(|(_, b)| b.members().iter().any(|m| &m.backend == name))
            .map(|(id, _)| id)
            .collect();
        if let Some(pool) = pools.first() {
            return Err(invalid(
                "type",
                format!("'{name}' is a member of the pool '{pool}' and cannot become a pool."),
            ));
        }
    }
    let named = crate::named_values::map(db, service_id).await?;
    if let Some(missing) = settings
        .named_value_references()
        .into_iter()
        .find(|n| !named.contains_key(n))
    {
        return Err(invalid(
            "credentials",
            format!("The service has no named value '{{{{{missing}}}}}'."),
        ));
    }
    if let Some(credentials) = settings.credentials() {
        use portcullis_domain::library::Library;
        if let Some(certificate) = &credentials.certificate {
            match library.certificate(certificate.as_str()) {
                Some(info) if info.has_private_key => {}
                Some(_) => {
                    return Err(invalid(
                        "credentials.certificateIds",
                        format!(
                            "The certificate '{certificate}' has no private key, so it cannot authenticate the gateway."
                        ),
                    ));
                }
                None => {
                    return Err(invalid(
                        "credentials.certificateIds",
                        format!("The service has no certificate '{certificate}'."),
                    ));
                }
            }
        }
        if let Some(thumbprint) = &credentials.certificate_thumbprint
            && !library
                .certificate_with_thumbprint(thumbprint)
                .is_some_and(|info| info.has_private_key)
        {
            return Err(invalid(
                "credentials.certificate",
                format!("The service has no certificate {thumbprint} with a private key."),
            ));
        }
    }
    Ok(())
}

impl Store {
    pub async fn list_backends(
        &self,
        service: &ServiceName,
    ) -> Result<Vec<BackendRecord>, StoreError> {
        let service_row = services::find(&self.db, service).await?;
        let mut records = Vec::new();
        for row in rows(&self.db, service_row.id).await? {
            let (name, settings) = parse_row(&row)?;
            let used_by = users(&self.db, service_row.id, name.as_str()).await?;
            records.push(BackendRecord {
                name,
                settings,
                used_by,
            });
        }
        Ok(records)
    }

    pub async fn get_backend(
        &self,
        service: &ServiceName,
        name: &BackendName,
    ) -> Result<BackendRecord, StoreError> {
        let service_row = services::find(&self.db, service).await?;
        let row = backend::Entity::find()
            .filter(backend::Column::ServiceId.eq(service_row.id))
            .filter(backend::Column::Name.eq(name.as_str()))
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::not_found("Backend", name))?;
        let (name, settings) = parse_row(&row)?;
        let used_by = users(&self.db, service_row.id, name.as_str()).await?;
        Ok(BackendRecord {
            name,
            settings,
            used_by,
        })
    }

    /// Creates or replaces a backend.
    pub async fn put_backend(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &BackendName,
        settings: BackendSettings,
    ) -> Result<Saved, StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        check_references(&txn, service_row.id, name, &settings).await?;
        let existing = backend::Entity::find()
            .filter(backend::Column::ServiceId.eq(service_row.id))
            .filter(backend::Column::Name.eq(name.as_str()))
            .one(&txn)
            .await?;
        let before = existing
            .as_ref()
            .map(parse_row)
            .transpose()?
            .map(|(_, old)| Some(as_json(&old)));
        // Plain strings, numbers and maps: writing them cannot fail.
        let text = serde_json::to_string(settings.contract()).unwrap_or_default();
        let mut active = match existing {
            Some(row) => row.into_active_model(),
            None => backend::ActiveModel {
                service_id: Set(service_row.id),
                name: Set(name.as_str().to_owned()),
                ..Default::default()
            },
        };
        active.settings = Set(text);
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

    /// Deletes a backend that no policy and no pool names.
    pub async fn delete_backend(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &BackendName,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let row = backend::Entity::find()
            .filter(backend::Column::ServiceId.eq(service_row.id))
            .filter(backend::Column::Name.eq(name.as_str()))
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::not_found("Backend", name))?;
        let (_, found) = parse_row(&row)?;
        let used_by = users(&txn, service_row.id, name.as_str()).await?;
        if !used_by.is_empty() {
            return Err(StoreError::Conflict {
                code: "BackendInUse",
                message: format!(
                    "The backend '{name}' is used by {}; remove it from there first.",
                    used_by.join(", ")
                ),
            });
        }
        backend::Entity::delete_by_id(row.id).exec(&txn).await?;
        Change {
            actor,
            action: "delete",
            service: Some(service),
            resource: resource(service, name),
            before: Some(as_json(&found)),
            after: None,
            touches_subscriptions: false,
        }
        .commit(txn)
        .await?;
        Ok(())
    }
}
