//! What the portal's pages and the server say to each other: data transfer types (their own
//! types — database models and domain types never cross the wire) and the server functions,
//! grouped by area. Server functions are thin: they check the session, parse input into
//! domain types and call the same control plane as the management API.

pub mod analytics;
pub mod apis;
pub mod audit;
pub mod auth;
pub mod backends;
pub mod certificates;
pub mod console;
pub mod named_values;
pub mod openapi;
pub mod policies;
pub mod policy_fragments;
pub mod products;
pub mod services;
pub mod subscriptions;

use serde::{Deserialize, Serialize};

/// A form's outcome: nothing (saved) or one message per offending field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(pub Vec<FieldError>);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldErrors {
    pub fn one(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for `field`, if it has one.
    pub fn get(&self, field: &str) -> Option<String> {
        self.0
            .iter()
            .find(|error| error.field == field)
            .map(|error| error.message.clone())
    }
}

/// Turns a store error into field errors where it is the user's to fix.
#[cfg(feature = "ssr")]
pub fn field_errors(
    error: portcullis_store::StoreError,
) -> Result<FieldErrors, leptos::prelude::ServerFnError> {
    use portcullis_store::StoreError;
    match error {
        StoreError::Invalid(invalid) => Ok(FieldErrors(vec![FieldError {
            field: invalid.field,
            message: invalid.message,
        }])),
        StoreError::Conflict { message, .. } => Ok(FieldErrors::one("form", message)),
        other => Err(crate::server::internal(other)),
    }
}
