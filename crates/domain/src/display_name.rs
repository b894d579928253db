//! Display names: the human-readable titles shown in the portal.

use crate::ValidationError;
use std::fmt;

/// A trimmed, non-empty title of at most 300 characters without control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 300;

    pub fn parse(value: impl AsRef<str>) -> Result<Self, ValidationError> {
        let trimmed = value.as_ref().trim();
        let invalid = |message: &str| {
            Err(ValidationError::new(
                "displayName",
                "InvalidDisplayName",
                message,
            ))
        };
        if trimmed.is_empty() {
            return invalid("A display name is required.");
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return invalid("A display name has at most 300 characters.");
        }
        if trimmed.chars().any(char::is_control) {
            return invalid(
                "A display name cannot contain control characters such as line breaks.",
            );
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_unicode() {
        assert_eq!(
            DisplayName::parse("  Calculator Flow API ")
                .unwrap()
                .as_str(),
            "Calculator Flow API"
        );
        assert!(DisplayName::parse("Überweisungen").is_ok());
    }

    #[test]
    fn rejects_blank_long_and_control() {
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("x".repeat(301)).is_err());
        assert!(DisplayName::parse("a\nb").is_err());
        assert!(DisplayName::parse("é".repeat(300)).is_ok());
    }
}
