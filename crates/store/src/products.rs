//! Products: bundles of APIs that subscriptions can open, and the API links inside them.

use crate::change::{Change, Upsert, begin, exists_already, to_json};
use crate::entity::{api, product, product_api, subscription};
use crate::{Actor, Saved, Store, StoreError, apis, services};
use chrono::Utc;
use portcullis_domain::model::{ProductConfig, ProductSettings};
use portcullis_domain::{
    ApiName, DisplayName, ProductName, ProductState, ServiceName, ValidationError,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set, TryIntoModel,
};
use std::collections::HashMap;

/// What to do with a product's subscriptions when it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteProduct {
    /// Refuse (409) while subscriptions exist.
    KeepSubscriptions,
    /// Delete them with the product.
    DeleteSubscriptions,
}

pub(crate) fn settings(row: &product::Model) -> Result<ProductSettings, StoreError> {
    let corrupt = |e| StoreError::corrupt(format!("product {}", row.name), e);
    Ok(ProductSettings {
        display_name: DisplayName::parse(&row.display_name).map_err(corrupt)?,
        description: row.description.clone(),
        subscription_required: row.subscription_required,
        approval_required: row.approval_required,
        state: ProductState::parse(&row.state).map_err(corrupt)?,
    })
}

pub(crate) async fn find(
    db: &impl ConnectionTrait,
    service_id: i64,
    name: &ProductName,
) -> Result<product::Model, StoreError> {
    product::Entity::find()
        .filter(product::Column::ServiceId.eq(service_id))
        .filter(product::Column::Name.eq(name.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| StoreError::not_found("Product", name))
}

/// Names of the APIs linked to each product of a service, by product id.
pub(crate) async fn api_names_by_product(
    db: &impl ConnectionTrait,
    service_id: i64,
) -> Result<HashMap<i64, Vec<ApiName>>, StoreError> {
    let apis: HashMap<i64, api::Model> = api::Entity::find()
        .filter(api::Column::ServiceId.eq(service_id))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let mut links: HashMap<i64, Vec<ApiName>> = HashMap::new();
    let rows = product_api::Entity::find()
        .filter(product_api::Column::ApiId.is_in(apis.keys().copied()))
        .all(db)
        .await?;
    for link in rows {
        if let Some(api_row) = apis.get(&link.api_id) {
            let name = ApiName::parse(&api_row.name)
                .map_err(|e| StoreError::corrupt(format!("API {}", api_row.name), e))?;
            links.entry(link.product_id).or_default().push(name);
        }
    }
    for names in links.values_mut() {
        names.sort();
    }
    Ok(links)
}

fn resource(service: &ServiceName, name: &ProductName) -> String {
    format!("/services/{service}/products/{name}")
}

/// The row to save for `new`: the existing one updated, or a new one in the service.
fn saved_row(
    existing: Option<product::Model>,
    service_id: i64,
    name: &ProductName,
    new: &ProductSettings,
) -> product::ActiveModel {
    let now = Utc::now();
    let mut active = match existing {
        Some(row) => row.into_active_model(),
        None => product::ActiveModel {
            service_id: Set(service_id),
            name: Set(name.as_str().to_owned()),
            created_at: Set(now),
            ..Default::default()
        },
    };
    active.display_name = Set(new.display_name.as_str().to_owned());
    active.description = Set(new.description.clone());
    active.subscription_required = Set(new.subscription_required);
    active.approval_required = Set(new.approval_required);
    active.state = Set(new.state.as_str().to_owned());
    active.updated_at = Set(now);
    active
}

/// APIM's rule: an API belongs to at most one *open* product (one that needs no
/// subscription), or it would be unclear which product a keyless call uses.
async fn check_open_product_rule(
    txn: &DatabaseTransaction,
    product_row_id: Option<i64>,
    product_name: &ProductName,
    service_id: i64,
    api_ids: &[i64],
) -> Result<(), StoreError> {
    if api_ids.is_empty() {
        return Ok(());
    }
    let other_open: HashMap<i64, String> = product::Entity::find()
        .filter(product::Column::ServiceId.eq(service_id))
        .filter(product::Column::SubscriptionRequired.eq(false))
        .filter(product::Column::Name.ne(product_name.as_str()))
        .all(txn)
        .await?
        .into_iter()
        .filter(|row| Some(row.id) != product_row_id)
        .map(|row| (row.id, row.name))
        .collect();
    if other_open.is_empty() {
        return Ok(());
    }
    let clash = product_api::Entity::find()
        .filter(product_api::Column::ProductId.is_in(other_open.keys().copied()))
        .filter(product_api::Column::ApiId.is_in(api_ids.iter().copied()))
        .one(txn)
        .await?;
    if let Some(link) = clash {
        let api_name = api::Entity::find_by_id(link.api_id)
            .one(txn)
            .await?
            .map_or_else(String::new, |row| row.name);
        let other = other_open
            .get(&link.product_id)
            .cloned()
            .unwrap_or_default();
        return Err(ValidationError::new(
            "subscriptionRequired",
            "OpenProductConflict",
            format!(
                "The API '{api_name}' is already in the product '{other}', which needs no subscription; an API can be in only one such product."
            ),
        )
        .into());
    }
    Ok(())
}

impl Store {
    pub async fn list_products(
        &self,
        service: &ServiceName,
    ) -> Result<Vec<ProductConfig>, StoreError> {
        let service = services::find(&self.db, service).await?;
        let mut links = api_names_by_product(&self.db, service.id).await?;
        product::Entity::find()
            .filter(product::Column::ServiceId.eq(service.id))
            .order_by_asc(product::Column::Name)
            .all(&self.db)
            .await?
            .iter()
            .map(|row| {
                Ok(ProductConfig {
                    name: ProductName::parse(&row.name)
                        .map_err(|e| StoreError::corrupt(format!("product {}", row.name), e))?,
                    settings: settings(row)?,
                    apis: links.remove(&row.id).unwrap_or_default(),
                })
            })
            .collect()
    }

    pub async fn get_product(
        &self,
        service: &ServiceName,
        name: &ProductName,
    ) -> Result<ProductConfig, StoreError> {
        let service = services::find(&self.db, service).await?;
        let row = find(&self.db, service.id, name).await?;
        let mut links = api_names_by_product(&self.db, service.id).await?;
        Ok(ProductConfig {
            name: name.clone(),
            settings: settings(&row)?,
            apis: links.remove(&row.id).unwrap_or_default(),
        })
    }

    pub async fn put_product(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &ProductName,
        new: ProductSettings,
    ) -> Result<Saved, StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let existing = product::Entity::find()
            .filter(product::Column::ServiceId.eq(service_row.id))
            .filter(product::Column::Name.eq(name.as_str()))
            .one(&txn)
            .await?;
        let before = existing.as_ref().map(settings).transpose()?;
        if let (Some(row), false) = (&existing, new.subscription_required) {
            let api_ids: Vec<i64> = product_api::Entity::find()
                .filter(product_api::Column::ProductId.eq(row.id))
                .all(&txn)
                .await?
                .into_iter()
                .map(|link| link.api_id)
                .collect();
            check_open_product_rule(&txn, Some(row.id), name, service_row.id, &api_ids).await?;
        }
        saved_row(existing, service_row.id, name, &new)
            .save(&txn)
            .await?;
        Upsert {
            actor,
            service: Some(service),
            resource: resource(service, name),
            before: before.as_ref().map(to_json),
            after: to_json(&new),
            touches_subscriptions: false,
        }
        .commit(txn)
        .await
    }

    /// Deletes a product. Its subscriptions stop working, so deleting them has to be asked for.
    /// Saves a product and the set of APIs it contains, as the portal's product form does: one
    /// transaction, one revision, one audit entry (settings and API list, before and after).
    /// With `create`, a product of that name is refused (`name`: `ProductExists`) instead of
    /// replaced — checked inside the transaction, so a concurrent create cannot slip past.
    pub async fn save_product_with_apis(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &ProductName,
        create: bool,
        new: ProductSettings,
        apis: &[ApiName],
    ) -> Result<Saved, StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let existing = product::Entity::find()
            .filter(product::Column::ServiceId.eq(service_row.id))
            .filter(product::Column::Name.eq(name.as_str()))
            .one(&txn)
            .await?;
        if create && existing.is_some() {
            return Err(exists_already("A product", "ProductExists", name));
        }
        let mut wanted_ids = Vec::with_capacity(apis.len());
        for api_name in apis {
            wanted_ids.push(apis::find(&txn, service_row.id, api_name).await?.id);
        }
        let current_links: Vec<i64> = match &existing {
            Some(row) => product_api::Entity::find()
                .filter(product_api::Column::ProductId.eq(row.id))
                .all(&txn)
                .await?
                .into_iter()
                .map(|link| link.api_id)
                .collect(),
            None => Vec::new(),
        };
        let before = match &existing {
            Some(row) => {
                let names = api_names_by_product(&txn, service_row.id).await?;
                let listed = names.get(&row.id).cloned().unwrap_or_default();
                Some((settings(row)?, listed))
            }
            None => None,
        };
        if !new.subscription_required {
            check_open_product_rule(
                &txn,
                existing.as_ref().map(|row| row.id),
                name,
                service_row.id,
                &wanted_ids,
            )
            .await?;
        }
        let product_id = saved_row(existing, service_row.id, name, &new)
            .save(&txn)
            .await?
            .try_into_model()?
            .id;
        let dropped: Vec<i64> = current_links
            .iter()
            .copied()
            .filter(|id| !wanted_ids.contains(id))
            .collect();
        if !dropped.is_empty() {
            product_api::Entity::delete_many()
                .filter(product_api::Column::ProductId.eq(product_id))
                .filter(product_api::Column::ApiId.is_in(dropped))
                .exec(&txn)
                .await?;
        }
        for api_id in wanted_ids.iter().filter(|id| !current_links.contains(id)) {
            product_api::ActiveModel {
                product_id: Set(product_id),
                api_id: Set(*api_id),
            }
            .insert(&txn)
            .await?;
        }
        let mut listed: Vec<ApiName> = apis.to_vec();
        listed.sort();
        listed.dedup();
        let described = |settings: &ProductSettings, apis: &[ApiName]| {
            let mut json = to_json(settings);
            if let Some(serde_json::Value::Object(fields)) = &mut json {
                let names: Vec<&str> = apis.iter().map(ApiName::as_str).collect();
                fields.insert("apis".to_owned(), serde_json::json!(names));
            }
            json
        };
        Upsert {
            actor,
            service: Some(service),
            resource: resource(service, name),
            before: before.map(|(settings, apis)| described(&settings, &apis)),
            after: described(&new, &listed),
            touches_subscriptions: false,
        }
        .commit(txn)
        .await
    }

    pub async fn delete_product(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &ProductName,
        mode: DeleteProduct,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let row = find(&txn, service_row.id, name).await?;
        let subscriptions = subscription::Entity::find()
            .filter(subscription::Column::ScopeProductId.eq(row.id))
            .count(&txn)
            .await?;
        if subscriptions > 0 && mode == DeleteProduct::KeepSubscriptions {
            return Err(StoreError::Conflict {
                code: "ProductHasSubscriptions",
                message: format!(
                    "The product '{name}' has {subscriptions} subscription(s). Delete them first, or pass deleteSubscriptions=true to delete them with the product."
                ),
            });
        }
        let before = settings(&row)?;
        product::Entity::delete_by_id(row.id).exec(&txn).await?;
        Change {
            actor,
            action: "delete",
            service: Some(service),
            resource: resource(service, name),
            before: to_json(&before),
            after: None,
            touches_subscriptions: true,
        }
        .commit(txn)
        .await?;
        Ok(())
    }

    /// Adds an API to a product. Adding one that is already there changes nothing.
    pub async fn link_product_api(
        &self,
        actor: &Actor,
        service: &ServiceName,
        product_name: &ProductName,
        api_name: &ApiName,
    ) -> Result<Saved, StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let product_row = find(&txn, service_row.id, product_name).await?;
        let api_row = apis::find(&txn, service_row.id, api_name).await?;
        let existing = product_api::Entity::find_by_id((product_row.id, api_row.id))
            .one(&txn)
            .await?;
        if existing.is_some() {
            return Ok(Saved::Updated);
        }
        if !product_row.subscription_required {
            check_open_product_rule(
                &txn,
                Some(product_row.id),
                product_name,
                service_row.id,
                &[api_row.id],
            )
            .await?;
        }
        product_api::ActiveModel {
            product_id: Set(product_row.id),
            api_id: Set(api_row.id),
        }
        .insert(&txn)
        .await?;
        Change {
            actor,
            action: "create",
            service: Some(service),
            resource: format!("{}/apis/{api_name}", resource(service, product_name)),
            before: None,
            after: Some(serde_json::json!({ "api": api_name.as_str() })),
            touches_subscriptions: false,
        }
        .commit(txn)
        .await?;
        Ok(Saved::Created)
    }

    pub async fn unlink_product_api(
        &self,
        actor: &Actor,
        service: &ServiceName,
        product_name: &ProductName,
        api_name: &ApiName,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let product_row = find(&txn, service_row.id, product_name).await?;
        let api_row = apis::find(&txn, service_row.id, api_name).await?;
        let deleted = product_api::Entity::delete_by_id((product_row.id, api_row.id))
            .exec(&txn)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(StoreError::NotFound(format!(
                "The API '{api_name}' is not in the product '{product_name}'."
            )));
        }
        Change {
            actor,
            action: "delete",
            service: Some(service),
            resource: format!("{}/apis/{api_name}", resource(service, product_name)),
            before: Some(serde_json::json!({ "api": api_name.as_str() })),
            after: None,
            touches_subscriptions: false,
        }
        .commit(txn)
        .await?;
        Ok(())
    }
}
