//! What can go wrong in the store, tagged with whose fault it is.

use portcullis_domain::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The caller named a resource that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The caller's input breaks a rule that needs the database to check (a taken URL
    /// suffix, an unknown product in a scope, …). Reported like a parse error.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The request conflicts with the current state (deleting a product that still has
    /// subscriptions, two writers creating the same name at once).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A stored row no longer parses: the database was edited by hand or by a newer version.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// The database cannot be reached (down, unreachable, or not answering in time). Nothing
    /// was saved; the same request can be sent again once it is back.
    #[error("the configuration database cannot be reached: {0}")]
    Unavailable(String),
    /// The database did not answer a write in time (a network that drops packets rather
    /// than refusing them). The write may or may not have been committed.
    #[error("the configuration database did not answer within {} s", .0.as_secs())]
    Unanswered(std::time::Duration),
    #[error("database error: {0}")]
    Database(sea_orm::DbErr),
}

/// What a caller is told when a write met a unique constraint another write got first.
pub const CONCURRENT_CHANGE: &str =
    "Another change saved the same resource at the same time; reload and try again.";

impl From<sea_orm::DbErr> for StoreError {
    fn from(error: sea_orm::DbErr) -> Self {
        match error.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(detail)) => {
                // The database's own words name tables and indexes: the log gets them, the
                // caller a message about the resource (OWASP API8, no internals in errors).
                tracing::info!(detail, "a write met a unique constraint");
                StoreError::Conflict {
                    code: "Conflict",
                    message: CONCURRENT_CHANGE.to_owned(),
                }
            }
            _ if is_unreachable(&error) => StoreError::Unavailable(error.to_string()),
            _ => StoreError::Database(error),
        }
    }
}

/// Whether `error` says the database could not be reached rather than that it refused
/// the statement: no connection, a connection that broke, a pool with none to give.
fn is_unreachable(error: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(sqlx)) | DbErr::Query(RuntimeErr::SqlxError(sqlx)) => {
            matches!(
                sqlx,
                Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed
            )
        }
        _ => false,
    }
}

impl StoreError {
    pub(crate) fn not_found(kind: &str, name: impl std::fmt::Display) -> Self {
        StoreError::NotFound(format!("{kind} '{name}' was not found."))
    }

    pub(crate) fn corrupt(what: impl std::fmt::Display, error: ValidationError) -> Self {
        StoreError::Corrupt(format!("{what}: {error}"))
    }
}
