//! Product publication state.

use crate::ValidationError;

/// Whether a product is visible beyond administrators. It does not gate the gateway:
/// unpublishing a product keeps its keys working, as in APIM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProductState {
    #[default]
    NotPublished,
    Published,
}

impl ProductState {
    pub fn parse(value: impl AsRef<str>) -> Result<Self, ValidationError> {
        match value.as_ref().trim() {
            s if s.eq_ignore_ascii_case("published") => Ok(Self::Published),
            s if s.eq_ignore_ascii_case("notPublished") => Ok(Self::NotPublished),
            other => Err(ValidationError::new(
                "state",
                "InvalidState",
                format!("'{other}' is not a product state; use published or notPublished."),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::NotPublished => "notPublished",
        }
    }
}

impl serde::Serialize for ProductState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_states() {
        assert_eq!(
            ProductState::parse("published").unwrap(),
            ProductState::Published
        );
        assert_eq!(
            ProductState::parse("notPublished").unwrap(),
            ProductState::NotPublished
        );
        assert!(ProductState::parse("draft").is_err());
    }
}
