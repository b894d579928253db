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
    #[error("database error: {0}")]
    Database(sea_orm::DbErr),
}

impl From<sea_orm::DbErr> for StoreError {
    fn from(error: sea_orm::DbErr) -> Self {
        match error.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(detail)) => StoreError::Conflict {
                code: "Conflict",
                message: format!(
                    "Another change saved the same resource at the same time; reload and try again ({detail})."
                ),
            },
            _ => StoreError::Database(error),
        }
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
