//! Named values: a service's name/value pairs that policy documents reference as
//! `{{displayName}}` (APIM's "named values"), replaced before a document is read.
//!
//! APIM's rules, kept here: a display name has only letters, digits, `.`, `-` and `_`; a value
//! is not empty, at most 4,096 characters, and cannot reference another named value (it may
//! be an expression); a secret value is never returned by a read, only by `listValue`.

use crate::ValidationError;
use std::collections::BTreeMap;

/// The display names and values of a service's named values, as documents are compiled
/// with them.
pub type NamedValueMap = BTreeMap<String, String>;

/// The display names of the named values `text` references as `{{name}}`, in order.
pub fn references(text: &str) -> Vec<&str> {
    portcullis_policy::policy_text::named_value_references(text)
}

/// What a named value holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedValueSettings {
    display_name: String,
    value: String,
    pub secret: bool,
    pub tags: Vec<String>,
}

impl NamedValueSettings {
    pub const MAX_DISPLAY_NAME: usize = 256;
    pub const MAX_VALUE: usize = 4096;
    pub const MAX_TAGS: usize = 32;

    pub fn parse(
        display_name: impl Into<String>,
        value: impl Into<String>,
        secret: bool,
        tags: Vec<String>,
    ) -> Result<Self, ValidationError> {
        let display_name = display_name.into();
        let value = value.into();
        let bad_name =
            |message: String| ValidationError::new("displayName", "InvalidDisplayName", message);
        if display_name.is_empty() || display_name.len() > Self::MAX_DISPLAY_NAME {
            return Err(bad_name(format!(
                "A display name has 1 to {} characters.",
                Self::MAX_DISPLAY_NAME
            )));
        }
        if let Some(bad) = display_name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        {
            return Err(bad_name(format!(
                "A display name may contain only letters, digits, period, dash and underscore; '{bad}' is not allowed."
            )));
        }
        let bad_value = |message: String| ValidationError::new("value", "InvalidValue", message);
        if value.trim().is_empty() {
            return Err(bad_value(
                "A value may not be empty or only whitespace.".to_owned(),
            ));
        }
        if value.chars().count() > Self::MAX_VALUE {
            return Err(bad_value(format!(
                "A value has at most {} characters.",
                Self::MAX_VALUE
            )));
        }
        if let Some(reference) = references(&value).first() {
            return Err(bad_value(format!(
                "A value cannot reference another named value ({{{{{reference}}}}})."
            )));
        }
        if tags.len() > Self::MAX_TAGS {
            return Err(ValidationError::new(
                "tags",
                "InvalidTags",
                format!("A named value has at most {} tags.", Self::MAX_TAGS),
            ));
        }
        if let Some(tag) = tags.iter().find(|t| t.trim().is_empty() || t.len() > 128) {
            return Err(ValidationError::new(
                "tags",
                "InvalidTags",
                format!("The tag '{tag}' must have 1 to 128 characters."),
            ));
        }
        Ok(Self {
            display_name,
            value,
            secret,
            tags,
        })
    }

    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    pub fn value(&self) -> &str {
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apims_rules() {
        assert!(NamedValueSettings::parse("Tenant.Header-1_x", "x-tenant", false, vec![]).is_ok());
        for (name, value, field) in [
            ("", "v", "displayName"),
            ("has space", "v", "displayName"),
            ("ok", "  ", "value"),
            ("ok", "see {{Other}}", "value"),
            ("ok", &"x".repeat(4097), "value"),
        ] {
            let err = NamedValueSettings::parse(name, value, false, vec![]).unwrap_err();
            assert_eq!(err.field, field, "{name:?} {value:?}");
        }
        // A value may be an expression.
        assert!(
            NamedValueSettings::parse("Now", "@(DateTime.UtcNow.ToString())", false, vec![])
                .is_ok()
        );
    }
}
