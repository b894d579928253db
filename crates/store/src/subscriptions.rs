//! Subscriptions: named pairs of keys with a scope and a state.

use crate::change::{Change, Upsert, begin, exists_already, to_json};
use crate::entity::{api, product, subscription};
use crate::{Actor, Saved, Store, StoreError, apis, products, services};
use chrono::Utc;
use portcullis_domain::list_query::{Condition, Test};
use portcullis_domain::model::{SubscriptionConfig, SubscriptionSettings};
use portcullis_domain::{
    ApiName, DisplayName, ProductName, ServiceName, SubscriptionKey, SubscriptionName,
    SubscriptionScope, SubscriptionState, ValidationError,
};
use portcullis_domain::{ListQuery, Page};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;

/// Which of a subscription's two keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySlot {
    Primary,
    Secondary,
}

/// Product and API names of a service by row id, to turn scope columns back into scopes.
pub(crate) struct ScopeNames {
    pub products: HashMap<i64, String>,
    pub apis: HashMap<i64, String>,
}

impl ScopeNames {
    pub async fn load(db: &impl ConnectionTrait, service_id: i64) -> Result<Self, StoreError> {
        let products = product::Entity::find()
            .filter(product::Column::ServiceId.eq(service_id))
            .all(db)
            .await?
            .into_iter()
            .map(|row| (row.id, row.name))
            .collect();
        let apis = api::Entity::find()
            .filter(api::Column::ServiceId.eq(service_id))
            .all(db)
            .await?
            .into_iter()
            .map(|row| (row.id, row.name))
            .collect();
        Ok(Self { products, apis })
    }

    fn scope(&self, row: &subscription::Model) -> Result<SubscriptionScope, StoreError> {
        let corrupt =
            |message: &str| StoreError::Corrupt(format!("subscription {}: {message}", row.name));
        let parse_error = |e| StoreError::corrupt(format!("subscription {}", row.name), e);
        match (
            row.scope_kind.as_str(),
            row.scope_product_id,
            row.scope_api_id,
        ) {
            ("all", _, _) => Ok(SubscriptionScope::AllApis),
            ("product", Some(id), _) => {
                let name = self
                    .products
                    .get(&id)
                    .ok_or_else(|| corrupt("unknown product"))?;
                Ok(SubscriptionScope::Product(
                    ProductName::parse(name).map_err(parse_error)?,
                ))
            }
            ("api", _, Some(id)) => {
                let name = self.apis.get(&id).ok_or_else(|| corrupt("unknown API"))?;
                Ok(SubscriptionScope::Api(
                    ApiName::parse(name).map_err(parse_error)?,
                ))
            }
            _ => Err(corrupt("malformed scope")),
        }
    }

    pub fn record(&self, row: &subscription::Model) -> Result<SubscriptionConfig, StoreError> {
        let corrupt = |e| StoreError::corrupt(format!("subscription {}", row.name), e);
        Ok(SubscriptionConfig {
            name: SubscriptionName::parse(&row.name).map_err(corrupt)?,
            settings: SubscriptionSettings {
                display_name: DisplayName::parse(&row.display_name).map_err(corrupt)?,
                scope: self.scope(row)?,
                state: SubscriptionState::parse(&row.state).map_err(corrupt)?,
            },
            primary_key: SubscriptionKey::parse(&row.primary_key).map_err(corrupt)?,
            secondary_key: SubscriptionKey::parse(&row.secondary_key).map_err(corrupt)?,
        })
    }
}

async fn find(
    db: &impl ConnectionTrait,
    service_id: i64,
    name: &SubscriptionName,
) -> Result<subscription::Model, StoreError> {
    subscription::Entity::find()
        .filter(subscription::Column::ServiceId.eq(service_id))
        .filter(subscription::Column::Name.eq(name.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| StoreError::not_found("Subscription", name))
}

fn resource(service: &ServiceName, name: &SubscriptionName) -> String {
    format!("/services/{service}/subscriptions/{name}")
}

impl Store {
    pub async fn list_subscriptions(
        &self,
        service: &ServiceName,
    ) -> Result<Vec<SubscriptionConfig>, StoreError> {
        let service = services::find(&self.db, service).await?;
        let names = ScopeNames::load(&self.db, service.id).await?;
        subscription::Entity::find()
            .filter(subscription::Column::ServiceId.eq(service.id))
            .order_by_asc(subscription::Column::Name)
            .all(&self.db)
            .await?
            .iter()
            .map(|row| names.record(row))
            .collect()
    }

    /// Fields a subscription list may be filtered on.
    pub const SUBSCRIPTION_FILTER_FIELDS: &'static [&'static str] =
        &["name", "displayName", "state"];

    /// One page of a service's subscriptions, by name, filtered in the database: a count and
    /// one range read. `search` (the portal's search box) keeps those whose name or display
    /// name contains it, ignoring case.
    pub async fn page_subscriptions(
        &self,
        service: &ServiceName,
        query: &ListQuery,
        search: Option<&str>,
    ) -> Result<Page<SubscriptionConfig>, StoreError> {
        let service = services::find(&self.db, service).await?;
        let names = ScopeNames::load(&self.db, service.id).await?;
        let mut select =
            subscription::Entity::find().filter(subscription::Column::ServiceId.eq(service.id));
        for condition in &query.filter {
            select = select.filter(sql_condition(condition));
        }
        if let Some(search) = search.map(str::trim).filter(|s| !s.is_empty()) {
            let text = search.to_lowercase();
            let in_name = Condition {
                field: "name",
                test: Test::Contains,
                text: text.clone(),
            };
            let in_display = Condition {
                field: "displayName",
                test: Test::Contains,
                text,
            };
            select = select.filter(sql_condition(&in_name).or(sql_condition(&in_display)));
        }
        let count = select.clone().count(&self.db).await?;
        let items = select
            .order_by_asc(subscription::Column::Name)
            .offset(query.skip)
            .limit(query.top)
            .all(&self.db)
            .await?
            .iter()
            .map(|row| names.record(row))
            .collect::<Result<_, _>>()?;
        Ok(Page { items, count })
    }

    /// One subscription with its keys (what APIM's `listSecrets` returns).
    pub async fn get_subscription(
        &self,
        service: &ServiceName,
        name: &SubscriptionName,
    ) -> Result<SubscriptionConfig, StoreError> {
        let service = services::find(&self.db, service).await?;
        let row = find(&self.db, service.id, name).await?;
        ScopeNames::load(&self.db, service.id).await?.record(&row)
    }

    /// A subscription with its keys, for `listSecrets` and the portal's **Show keys**: the
    /// read is recorded in the audit log (action `listSecrets`, who and when, never the
    /// keys), as APIM's activity log records it. Not a configuration change: no revision,
    /// nothing republished.
    pub async fn read_subscription_keys(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &SubscriptionName,
    ) -> Result<SubscriptionConfig, StoreError> {
        let subscription = self.get_subscription(service, name).await?;
        crate::audit::record_read(
            &self.db,
            actor,
            "listSecrets",
            service,
            resource(service, name),
        )
        .await?;
        Ok(subscription)
    }

    /// Creates or replaces a subscription. A new one gets two fresh keys; an existing one
    /// keeps its keys. The scope must name an existing product or API.
    pub async fn put_subscription(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &SubscriptionName,
        new: SubscriptionSettings,
    ) -> Result<Saved, StoreError> {
        self.write_subscription(actor, service, name, new, false)
            .await
    }

    /// Creates; a subscription of that name already there is refused (`name`: `SubscriptionExists`).
    pub async fn create_subscription(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &SubscriptionName,
        new: SubscriptionSettings,
    ) -> Result<Saved, StoreError> {
        self.write_subscription(actor, service, name, new, true)
            .await
    }

    async fn write_subscription(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &SubscriptionName,
        new: SubscriptionSettings,
        refuse_existing: bool,
    ) -> Result<Saved, StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let scope_error = |error: StoreError| match error {
            StoreError::NotFound(message) => {
                StoreError::Invalid(ValidationError::new("scope", "InvalidScope", message))
            }
            other => other,
        };
        let (kind, product_id, api_id) = match &new.scope {
            SubscriptionScope::AllApis => ("all", None, None),
            SubscriptionScope::Product(product) => {
                let row = products::find(&txn, service_row.id, product)
                    .await
                    .map_err(scope_error)?;
                ("product", Some(row.id), None)
            }
            SubscriptionScope::Api(api) => {
                let row = apis::find(&txn, service_row.id, api)
                    .await
                    .map_err(scope_error)?;
                ("api", None, Some(row.id))
            }
        };
        let existing = subscription::Entity::find()
            .filter(subscription::Column::ServiceId.eq(service_row.id))
            .filter(subscription::Column::Name.eq(name.as_str()))
            .one(&txn)
            .await?;
        if refuse_existing && existing.is_some() {
            return Err(exists_already("A subscription", "SubscriptionExists", name));
        }
        let names = ScopeNames::load(&txn, service_row.id).await?;
        let before = existing.as_ref().map(|row| names.record(row)).transpose()?;
        let now = Utc::now();
        let mut active = match existing {
            Some(row) => row.into_active_model(),
            None => subscription::ActiveModel {
                service_id: Set(service_row.id),
                name: Set(name.as_str().to_owned()),
                primary_key: Set(SubscriptionKey::generate().expose().to_owned()),
                secondary_key: Set(SubscriptionKey::generate().expose().to_owned()),
                created_at: Set(now),
                ..Default::default()
            },
        };
        active.display_name = Set(new.display_name.as_str().to_owned());
        active.scope_kind = Set(kind.to_owned());
        active.scope_product_id = Set(product_id);
        active.scope_api_id = Set(api_id);
        active.state = Set(new.state.as_str().to_owned());
        active.updated_at = Set(now);
        active.save(&txn).await?;
        Upsert {
            actor,
            service: Some(service),
            resource: resource(service, name),
            before: before.map(|b| to_json(&b.settings)),
            after: to_json(&new),
            touches_subscriptions: true,
        }
        .commit(txn)
        .await
    }

    /// Replaces one key with a fresh one; the old key stops working with the next snapshot.
    pub async fn regenerate_key(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &SubscriptionName,
        slot: KeySlot,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let row = find(&txn, service_row.id, name).await?;
        let fresh = SubscriptionKey::generate().expose().to_owned();
        let mut active = row.into_active_model();
        let action = match slot {
            KeySlot::Primary => {
                active.primary_key = Set(fresh);
                "regeneratePrimaryKey"
            }
            KeySlot::Secondary => {
                active.secondary_key = Set(fresh);
                "regenerateSecondaryKey"
            }
        };
        active.updated_at = Set(Utc::now());
        active.update(&txn).await?;
        Change {
            actor,
            action,
            service: Some(service),
            resource: resource(service, name),
            before: None,
            after: None,
            touches_subscriptions: true,
        }
        .commit(txn)
        .await?;
        Ok(())
    }

    pub async fn delete_subscription(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &SubscriptionName,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let row = find(&txn, service_row.id, name).await?;
        let before = ScopeNames::load(&txn, service_row.id).await?.record(&row)?;
        subscription::Entity::delete_by_id(row.id)
            .exec(&txn)
            .await?;
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

/// A filter condition as SQL: the column lowercased, compared with the (lowercased) text;
/// `%`, `_` and `\` in the text match themselves.
fn sql_condition(condition: &Condition) -> SimpleExpr {
    let column = match condition.field {
        "displayName" => subscription::Column::DisplayName,
        "state" => subscription::Column::State,
        _ => subscription::Column::Name,
    };
    let lowered = SimpleExpr::from(Func::lower(Expr::col(column)));
    let text = condition.text.clone();
    let escaped = || {
        text.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    };
    let like = |pattern: String| LikeExpr::new(pattern).escape('\\');
    match condition.test {
        Test::Eq => lowered.eq(text),
        Test::Ne => lowered.ne(text),
        Test::Gt => lowered.gt(text),
        Test::Ge => lowered.gte(text),
        Test::Lt => lowered.lt(text),
        Test::Le => lowered.lte(text),
        Test::Contains => lowered.like(like(format!("%{}%", escaped()))),
        Test::StartsWith => lowered.like(like(format!("{}%", escaped()))),
        Test::EndsWith => lowered.like(like(format!("%{}", escaped()))),
    }
}
