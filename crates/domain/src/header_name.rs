//! Where an API looks for the subscription key: a header name and a query parameter name.

use crate::ValidationError;
use std::fmt;

/// The header carrying the subscription key, default `Ocp-Apim-Subscription-Key`. Stored as
/// typed; header names compare case-insensitively on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyHeaderName(String);

impl KeyHeaderName {
    pub const DEFAULT: &'static str = "Ocp-Apim-Subscription-Key";

    pub fn parse(value: impl AsRef<str>) -> Result<Self, ValidationError> {
        let value = value.as_ref().trim();
        let field = "subscriptionKeyHeaderName";
        if value.is_empty() || value.len() > 100 {
            return Err(ValidationError::new(
                field,
                "InvalidHeaderName",
                "A header name has 1 to 100 characters.",
            ));
        }
        if let Some(bad) = value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(*c)))
        {
            return Err(ValidationError::new(
                field,
                "InvalidHeaderName",
                format!("'{bad}' is not allowed in a header name."),
            ));
        }
        let hop_by_hop = ["connection", "host", "content-length", "transfer-encoding"];
        if hop_by_hop.contains(&value.to_ascii_lowercase().as_str()) {
            return Err(ValidationError::new(
                field,
                "InvalidHeaderName",
                format!("'{value}' is a protocol header and cannot carry a subscription key."),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for KeyHeaderName {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

impl fmt::Display for KeyHeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The query parameter carrying the subscription key, default `subscription-key`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyQueryParamName(String);

impl KeyQueryParamName {
    pub const DEFAULT: &'static str = "subscription-key";

    pub fn parse(value: impl AsRef<str>) -> Result<Self, ValidationError> {
        let value = value.as_ref().trim();
        let field = "subscriptionKeyQueryParamName";
        if value.is_empty() || value.len() > 100 {
            return Err(ValidationError::new(
                field,
                "InvalidQueryParamName",
                "A query parameter name has 1 to 100 characters.",
            ));
        }
        if let Some(bad) = value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-._~".contains(*c)))
        {
            return Err(ValidationError::new(
                field,
                "InvalidQueryParamName",
                format!(
                    "A query parameter name may contain letters, digits, '-', '.', '_' and '~'; '{bad}' is not allowed."
                ),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for KeyQueryParamName {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

impl fmt::Display for KeyQueryParamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for KeyHeaderName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl serde::Serialize for KeyQueryParamName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_apims() {
        assert_eq!(
            KeyHeaderName::default().as_str(),
            "Ocp-Apim-Subscription-Key"
        );
        assert_eq!(KeyQueryParamName::default().as_str(), "subscription-key");
    }

    #[test]
    fn rejects_bad_names() {
        assert!(KeyHeaderName::parse("X-Api-Key").is_ok());
        assert!(KeyHeaderName::parse("X Api").is_err());
        assert!(KeyHeaderName::parse("Host").is_err());
        assert!(KeyQueryParamName::parse("key").is_ok());
        assert!(KeyQueryParamName::parse("k=y").is_err());
        assert!(KeyQueryParamName::parse("").is_err());
    }
}
