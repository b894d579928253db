//! Reading the whole configuration back as a [`ConfigModel`] for the gateway.
//!
//! The read runs in one transaction (snapshot isolation on both engines), so the model
//! matches exactly one revision. A row that no longer parses is left out with an error in the
//! log: one bad row must not stop the gateway from serving everything else.

use crate::entity::{api, config_revision, operation, policy, product, service, subscription};
use crate::subscriptions::ScopeNames;
use crate::{Store, StoreError, apis, operations, products, services};
use futures_util::TryStreamExt;
use portcullis_domain::model::{
    ApiConfig, ConfigModel, OperationConfig, PolicyConfig, ProductConfig, ServiceConfig,
    SubscriptionConfig, SubscriptionsRead,
};
use portcullis_domain::{ApiName, OperationName, PolicyScope, PolicyXml, ProductName, ServiceName};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};
use std::collections::HashMap;

/// Keeps the parsed value, or logs why the row was skipped.
fn keep<T>(result: Result<T, StoreError>) -> Option<T> {
    result
        .inspect_err(|error| tracing::error!(%error, "skipping a stored row that does not parse"))
        .ok()
}

/// Where the subscription rows go as they are read.
type SubscriptionSink<'a> = &'a mut (dyn FnMut(&ServiceName, SubscriptionConfig) + Send);

impl Store {
    /// The whole configuration, subscriptions included.
    pub async fn load_config(&self) -> Result<ConfigModel, StoreError> {
        self.read_config(None, None).await
    }

    /// The configuration for a reader that holds the subscriptions as of `held_grants`
    /// (`None`: it holds none). If none changed since, they are left out
    /// ([`SubscriptionsRead::UnchangedSinceGrantsRevision`]), which makes the reload after a
    /// policy or API change cheap at any number of subscriptions. Otherwise each
    /// subscription is handed to `each_subscription` with its service's name as it is read,
    /// instead of being kept in the model, whose lists stay empty: a reader that keeps
    /// subscriptions in a compact form of its own never holds 100,000 full rows at once.
    pub async fn load_config_streaming(
        &self,
        held_grants: Option<i64>,
        each_subscription: SubscriptionSink<'_>,
    ) -> Result<ConfigModel, StoreError> {
        self.read_config(held_grants, Some(each_subscription)).await
    }

    async fn read_config(
        &self,
        held_grants: Option<i64>,
        sink: Option<SubscriptionSink<'_>>,
    ) -> Result<ConfigModel, StoreError> {
        let txn = self.db.begin().await?;
        if self.backend() == DbBackend::Postgres {
            txn.execute_unprepared("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await?;
        }
        let model = read_all(&txn, held_grants, sink).await;
        txn.commit().await?;
        model
    }
}

async fn read_all(
    txn: &DatabaseTransaction,
    held_grants: Option<i64>,
    mut sink: Option<SubscriptionSink<'_>>,
) -> Result<ConfigModel, StoreError> {
    let (revision, grants_revision) = config_revision::Entity::find_by_id(1)
        .one(txn)
        .await?
        .map_or((0, 0), |row| (row.revision, row.grants_revision));
    let subscriptions = if held_grants == Some(grants_revision) {
        SubscriptionsRead::UnchangedSinceGrantsRevision
    } else {
        SubscriptionsRead::All
    };
    let service_rows = service::Entity::find()
        .order_by_asc(service::Column::Id)
        .all(txn)
        .await?;
    let mut api_rows: HashMap<i64, Vec<api::Model>> = HashMap::new();
    for row in api::Entity::find()
        .order_by_asc(api::Column::Id)
        .all(txn)
        .await?
    {
        api_rows.entry(row.service_id).or_default().push(row);
    }
    // Operations run to 10,000s of rows: each becomes its parsed form as it is read.
    let mut operations_by_api: HashMap<i64, Vec<(i64, OperationConfig)>> = HashMap::new();
    let mut rows = operation::Entity::find()
        .order_by_asc(operation::Column::Id)
        .stream(txn)
        .await?;
    while let Some(row) = rows.try_next().await? {
        if let Some(operation) = keep(operations::record(&row)) {
            operations_by_api
                .entry(row.api_id)
                .or_default()
                .push((row.id, operation));
        }
    }
    drop(rows);
    let mut product_rows: HashMap<i64, Vec<product::Model>> = HashMap::new();
    for row in product::Entity::find()
        .order_by_asc(product::Column::Id)
        .all(txn)
        .await?
    {
        product_rows.entry(row.service_id).or_default().push(row);
    }
    let mut policy_rows: HashMap<i64, Vec<policy::Model>> = HashMap::new();
    for row in policy::Entity::find().all(txn).await? {
        policy_rows.entry(row.service_id).or_default().push(row);
    }

    let mut services_out = Vec::with_capacity(service_rows.len());
    for service_row in &service_rows {
        let Some(record) = keep(services::record(service_row)) else {
            continue;
        };
        let apis_of_service = api_rows.remove(&service_row.id).unwrap_or_default();
        let mut api_names: HashMap<i64, ApiName> = HashMap::new();
        let mut operation_names: HashMap<i64, (ApiName, OperationName)> = HashMap::new();
        let mut apis_out = Vec::with_capacity(apis_of_service.len());
        for api_row in &apis_of_service {
            let Some(api) = keep(apis::record(api_row)) else {
                continue;
            };
            let mut operations_out = Vec::new();
            for (id, operation) in operations_by_api.remove(&api_row.id).unwrap_or_default() {
                operation_names.insert(id, (api.name.clone(), operation.name.clone()));
                operations_out.push(operation);
            }
            api_names.insert(api_row.id, api.name.clone());
            apis_out.push(ApiConfig {
                name: api.name,
                settings: api.settings,
                schemas: std::sync::Arc::new(api.schemas),
                operations: operations_out,
            });
        }

        let mut links = products::api_names_by_product(txn, service_row.id).await?;
        let mut product_names: HashMap<i64, ProductName> = HashMap::new();
        let mut products_out = Vec::new();
        for product_row in product_rows.remove(&service_row.id).unwrap_or_default() {
            let parsed = ProductName::parse(&product_row.name)
                .map_err(|e| StoreError::corrupt(format!("product {}", product_row.name), e))
                .and_then(|name| Ok((name, products::settings(&product_row)?)));
            let Some((name, settings)) = keep(parsed) else {
                continue;
            };
            product_names.insert(product_row.id, name.clone());
            products_out.push(ProductConfig {
                name,
                settings,
                apis: links.remove(&product_row.id).unwrap_or_default(),
            });
        }

        let scope_names = ScopeNames {
            products: product_names
                .iter()
                .map(|(id, name)| (*id, name.as_str().to_owned()))
                .collect(),
            apis: api_names
                .iter()
                .map(|(id, name)| (*id, name.as_str().to_owned()))
                .collect(),
        };
        // Subscriptions are the one table that runs to 100,000s of rows: stream them, so
        // that each row becomes its small parsed form at once instead of all of them
        // waiting side by side as database rows.
        let mut subscriptions_out = Vec::new();
        if subscriptions == SubscriptionsRead::All {
            let mut rows = subscription::Entity::find()
                .filter(subscription::Column::ServiceId.eq(service_row.id))
                .order_by_asc(subscription::Column::Id)
                .stream(txn)
                .await?;
            while let Some(row) = rows.try_next().await? {
                if let Some(subscription) = keep(scope_names.record(&row)) {
                    match sink.as_mut() {
                        Some(sink) => sink(&record.name, subscription),
                        None => subscriptions_out.push(subscription),
                    }
                }
            }
        }

        let mut policies_out = Vec::new();
        for row in policy_rows.remove(&service_row.id).unwrap_or_default() {
            let scope = match (
                row.scope_key.as_str(),
                row.product_id,
                row.api_id,
                row.operation_id,
            ) {
                ("global", ..) => Some(PolicyScope::Global),
                (_, _, _, Some(id)) => operation_names
                    .get(&id)
                    .map(|(api, op)| PolicyScope::Operation(api.clone(), op.clone())),
                (_, _, Some(id), None) => api_names.get(&id).cloned().map(PolicyScope::Api),
                (_, Some(id), None, None) => {
                    product_names.get(&id).cloned().map(PolicyScope::Product)
                }
                _ => None,
            };
            if let Some(scope) = scope {
                policies_out.push(PolicyConfig {
                    scope,
                    xml: PolicyXml::from_store(row.xml),
                });
            }
        }

        let named_values = crate::named_values::map(txn, service_row.id).await?;
        let library = crate::certificates::library(txn, service_row.id).await?;
        let secrets = crate::named_values::secrets(txn, service_row.id).await?;
        services_out.push(ServiceConfig {
            name: record.name,
            settings: record.settings,
            apis: apis_out,
            products: products_out,
            subscriptions: subscriptions_out,
            policies: policies_out,
            named_values,
            library,
            secrets,
        });
    }
    Ok(ConfigModel {
        revision,
        grants_revision,
        subscriptions,
        services: services_out,
    })
}
