//! Hearing about changes other nodes commit (PostgreSQL).
//!
//! Every committed change bumps the config revision and, on PostgreSQL, sends
//! `NOTIFY portcullis_config, '<revision>'` in the same transaction — so the notification
//! goes out exactly when the change becomes visible, and never for a change that rolled back.
//! A node holds a [`ChangeFeed`] (a `LISTEN` on its own connection) and reloads when it hears
//! a revision newer than the one it serves.
//!
//! Notifications are not stored: one sent while a node was not listening is lost. That is
//! why the feed reports [`FeedEvent::Reconnected`] after its connection was replaced; the
//! node then compares [`Store::revision`] with what it serves and catches up.
//!
//! SQLite is a file one process owns; there is nobody else to hear from, and
//! [`Store::change_feed`] answers `None`.

use crate::{Store, StoreError};
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};

/// The PostgreSQL notification channel for committed config changes.
pub const CHANNEL: &str = "portcullis_config";

/// What the feed heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedEvent {
    /// A change was committed; the newest revision among the notifications waiting.
    Changed(i64),
    /// The connection was lost and a new one is listening: notifications may have been
    /// missed in between, so compare revisions.
    Reconnected,
}

/// A `LISTEN` on the config channel.
pub struct ChangeFeed {
    listener: PgListener,
}

impl Store {
    /// Starts listening for changes committed by any node; `None` on SQLite.
    pub async fn change_feed(&self) -> Result<Option<ChangeFeed>, StoreError> {
        if self.backend() != DbBackend::Postgres {
            return Ok(None);
        }
        // A store opened while the database was away meets it here first.
        self.ensure_migrated().await?;
        let pool = self.db.get_postgres_connection_pool();
        let mut listener = PgListener::connect_with(pool).await.map_err(lost)?;
        listener.listen(CHANNEL).await.map_err(lost)?;
        Ok(Some(ChangeFeed { listener }))
    }
}

impl ChangeFeed {
    /// Waits for the next change (or a reconnection). An error means the database cannot
    /// be reached now; the caller waits a little and asks again.
    pub async fn next(&mut self) -> Result<FeedEvent, StoreError> {
        let first = self.listener.try_recv().await.map_err(lost)?;
        let Some(first) = first else {
            return Ok(FeedEvent::Reconnected);
        };
        // A burst of changes is one reload: take every notification already here.
        let mut newest = revision_of(first.payload());
        while let Some(more) = self.listener.next_buffered() {
            newest = newest.max(revision_of(more.payload()));
        }
        Ok(FeedEvent::Changed(newest))
    }
}

/// A failure of the listening connection, as a store error.
fn lost(error: sea_orm::sqlx::Error) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

/// The revision a notification carries; one that does not parse (sent by hand, say) counts
/// as "something changed", which makes the node compare revisions.
fn revision_of(payload: &str) -> i64 {
    payload.trim().parse().unwrap_or(i64::MAX)
}

/// Announces `revision` to every listening node when `txn` commits (PostgreSQL only).
pub(crate) async fn announce(txn: &DatabaseTransaction, revision: i64) -> Result<(), StoreError> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), revision.to_string().into()],
    ))
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn payloads_are_revisions_and_anything_else_means_look() {
        assert_eq!(super::revision_of("42"), 42);
        assert_eq!(super::revision_of(" 7\n"), 7);
        assert_eq!(super::revision_of("hello"), i64::MAX);
    }
}
