//! A copy of the configuration in a local SQLite file: what a node serves when it starts
//! while its (shared, PostgreSQL) database is away.
//!
//! A node on PostgreSQL copies the configuration tables into the file after its snapshot
//! changed — the file is an ordinary Portcullis database, so reading it back is the same
//! [`Store::load_config`] as always, with the same parsing. Only configuration is copied:
//! services, named values, policy fragments, certificates, APIs, operations, products and their APIs, subscriptions,
//! policies and the revision; not administrators, tokens, sessions, the audit log or analytics.

use crate::entity::{
    api, certificate, config_revision, named_value, operation, policy, policy_fragment, product,
    product_api, service, subscription,
};
use crate::{Store, StoreError};
use futures_util::TryStreamExt;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    IntoActiveModel, TransactionTrait,
};

/// Rows per insert statement (SQLite allows 32,766 parameters; no table has 30 columns).
const ROWS_PER_INSERT: usize = 500;

impl Store {
    /// Replaces the configuration held by `target` with this store's, in one consistent
    /// read and one transaction on each side; returns the revision copied.
    pub async fn copy_config_to(&self, target: &Store) -> Result<i64, StoreError> {
        let source = self.db.begin().await?;
        if self.backend() == DbBackend::Postgres {
            source
                .execute_unprepared("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await?;
        }
        let sink = target.db.begin().await?;
        // Children first, so no foreign key is ever left dangling.
        product_api::Entity::delete_many().exec(&sink).await?;
        subscription::Entity::delete_many().exec(&sink).await?;
        policy::Entity::delete_many().exec(&sink).await?;
        named_value::Entity::delete_many().exec(&sink).await?;
        policy_fragment::Entity::delete_many().exec(&sink).await?;
        certificate::Entity::delete_many().exec(&sink).await?;
        operation::Entity::delete_many().exec(&sink).await?;
        api::Entity::delete_many().exec(&sink).await?;
        product::Entity::delete_many().exec(&sink).await?;
        service::Entity::delete_many().exec(&sink).await?;
        config_revision::Entity::delete_many().exec(&sink).await?;
        // Parents first.
        copy_table::<service::Entity>(&source, &sink).await?;
        copy_table::<named_value::Entity>(&source, &sink).await?;
        copy_table::<policy_fragment::Entity>(&source, &sink).await?;
        copy_table::<certificate::Entity>(&source, &sink).await?;
        copy_table::<api::Entity>(&source, &sink).await?;
        copy_table::<operation::Entity>(&source, &sink).await?;
        copy_table::<product::Entity>(&source, &sink).await?;
        copy_table::<product_api::Entity>(&source, &sink).await?;
        copy_table::<subscription::Entity>(&source, &sink).await?;
        copy_table::<policy::Entity>(&source, &sink).await?;
        copy_table::<config_revision::Entity>(&source, &sink).await?;
        let revision = config_revision::Entity::find_by_id(1)
            .one(&sink)
            .await?
            .map_or(0, |row| row.revision);
        sink.commit().await?;
        source.commit().await?;
        Ok(revision)
    }
}

/// Streams every row of `E` from `source` into `sink`, ids and all.
async fn copy_table<E>(
    source: &DatabaseTransaction,
    sink: &DatabaseTransaction,
) -> Result<(), StoreError>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + Sync,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let mut rows = E::find().stream(source).await?;
    let mut batch = Vec::with_capacity(ROWS_PER_INSERT);
    while let Some(row) = rows.try_next().await? {
        batch.push(row.into_active_model());
        if batch.len() == ROWS_PER_INSERT {
            E::insert_many(std::mem::take(&mut batch))
                .exec(sink)
                .await?;
        }
    }
    if !batch.is_empty() {
        E::insert_many(batch).exec(sink).await?;
    }
    Ok(())
}
