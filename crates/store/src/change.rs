//! Committing a change: the audit entry and the revision bump travel in the same
//! transaction as the change itself.

use crate::entity::{audit_entry, config_revision};
use crate::{Actor, StoreError};
use chrono::Utc;
use portcullis_domain::ServiceName;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, Set, TransactionTrait};
use serde_json::Value;

/// Whether a `PUT` made a new resource or replaced an existing one (201 versus 200).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Created,
    Updated,
}

/// One audited change.
pub(crate) struct Change<'a> {
    pub actor: &'a Actor,
    pub action: &'static str,
    pub service: Option<&'a ServiceName>,
    pub resource: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// Whether the change can add, alter or remove a subscription row (deleting a
    /// service, product or API cascades to its subscriptions). Readers that hold the
    /// subscriptions re-read them only after such a change.
    pub touches_subscriptions: bool,
}

pub(crate) fn to_json(value: &impl serde::Serialize) -> Option<Value> {
    // Settings are plain data; serialising them cannot fail, but an audit entry without a
    // snapshot is better than a failed write if it ever did.
    serde_json::to_value(value).ok()
}

impl Change<'_> {
    /// Appends the audit entry only: one of several changes of one transaction, which the
    /// last change's [`Change::commit`] commits.
    pub async fn record(self, txn: &DatabaseTransaction) -> Result<(), StoreError> {
        audit_entry::ActiveModel {
            at: Set(Utc::now()),
            actor: Set(self.actor.to_string()),
            action: Set(self.action.to_owned()),
            service: Set(self.service.map(ToString::to_string)),
            resource: Set(self.resource),
            before: Set(self.before),
            after: Set(self.after),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        Ok(())
    }

    /// Appends the audit entry, bumps the revision and commits. Returns the new revision.
    pub async fn commit(self, txn: DatabaseTransaction) -> Result<i64, StoreError> {
        let touches_subscriptions = self.touches_subscriptions;
        self.record(&txn).await?;
        let mut bump = config_revision::Entity::update_many().col_expr(
            config_revision::Column::Revision,
            Expr::col(config_revision::Column::Revision).add(1),
        );
        if touches_subscriptions {
            // Evaluated against the row before the update: the new revision.
            bump = bump.col_expr(
                config_revision::Column::GrantsRevision,
                Expr::col(config_revision::Column::Revision).add(1),
            );
        }
        bump.exec(&txn).await?;
        let revision = config_revision::Entity::find_by_id(1)
            .one(&txn)
            .await?
            .map_or(0, |row| row.revision);
        crate::change_feed::announce(&txn, revision).await?;
        txn.commit().await?;
        tracing::info!(revision, "config change committed");
        Ok(revision)
    }
}

/// The audited end of a create-or-replace, shared by every `put_*`: the audit entry says
/// `create` or `update` by whether the resource existed, and the caller learns which.
pub(crate) struct Upsert<'a> {
    pub actor: &'a Actor,
    pub service: Option<&'a ServiceName>,
    pub resource: String,
    /// The resource as it was (as JSON for the audit log); `None` when this write creates it.
    pub before: Option<Option<Value>>,
    pub after: Option<Value>,
    /// As [`Change::touches_subscriptions`].
    pub touches_subscriptions: bool,
}

impl Upsert<'_> {
    /// Appends the audit entry, bumps the revision and commits.
    pub async fn commit(self, txn: DatabaseTransaction) -> Result<Saved, StoreError> {
        let (saved, action) = match self.before {
            Some(_) => (Saved::Updated, "update"),
            None => (Saved::Created, "create"),
        };
        Change {
            actor: self.actor,
            action,
            service: self.service,
            resource: self.resource,
            before: self.before.flatten(),
            after: self.after,
            touches_subscriptions: self.touches_subscriptions,
        }
        .commit(txn)
        .await?;
        Ok(saved)
    }
}

/// Starts a write transaction.
pub(crate) async fn begin(
    db: &sea_orm::DatabaseConnection,
) -> Result<DatabaseTransaction, StoreError> {
    Ok(db.begin().await?)
}

/// The refusal of a create whose name is taken, found inside the writing transaction (so a
/// concurrent create of the same name is refused, never silently replaced). `what` is the
/// resource with its article: "An API", "A service".
pub(crate) fn exists_already(
    what: &str,
    code: &'static str,
    name: &impl std::fmt::Display,
) -> StoreError {
    portcullis_domain::ValidationError::new(
        "name",
        code,
        format!("{what} named '{name}' exists already."),
    )
    .into()
}
