//! The one error every parser in this crate returns.

/// Input that does not describe a valid value, with the field it came from.
///
/// `code` is a stable, machine-readable reason (`InvalidName`, `InvalidUrl`, …) that the
/// management API returns verbatim; `message` is a sentence for a person; `field` is the
/// property name the caller used (`displayName`, `serviceUrl`, …) so a form can put the
/// message next to the right input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
    /// Every fault, when there can be several (a policy document's lines).
    pub details: Vec<String>,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn with_details(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }

    /// The same error reported against another field name, e.g. when a generic parser is
    /// used for `urlTemplate` inside an operation.
    pub fn for_field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}
