//! Resource names: the ids in management URLs (`/services/{service}/apis/{api}`).
//!
//! All names share one rule — lowercase letters, digits and hyphens, starting with a letter or
//! digit and not ending with a hyphen — because a service name becomes a host name
//! (`flowdemo.localhost`) and every name appears in URLs unescaped. Each resource kind has
//! its own newtype so that an API name can never be passed where a product name is expected.

use crate::ValidationError;
use std::fmt;

/// Checks the shared name rule; `max` differs per kind (a service name is a DNS label).
fn check_name(field: &str, kind: &str, value: &str, max: usize) -> Result<(), ValidationError> {
    let invalid = |message: String| Err(ValidationError::new(field, "InvalidName", message));
    if value.is_empty() {
        return invalid(format!("A {kind} name is required."));
    }
    if value.len() > max {
        return invalid(format!(
            "A {kind} name has at most {max} characters; this one has {}.",
            value.len()
        ));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return invalid(format!(
            "A {kind} name may contain only lowercase letters, digits and hyphens; '{bad}' is not allowed."
        ));
    }
    if value.starts_with('-') || value.ends_with('-') {
        return invalid(format!(
            "A {kind} name must start and end with a letter or a digit."
        ));
    }
    Ok(())
}

macro_rules! resource_name {
    ($(#[$doc:meta])* $type:ident, $kind:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $type(String);

        impl $type {
            /// Longest accepted name.
            pub const MAX_LEN: usize = $max;

            /// Parses a name, reporting errors against the field `name`.
            pub fn parse(value: impl Into<String>) -> Result<Self, ValidationError> {
                let value = value.into();
                check_name("name", $kind, &value, $max)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $type {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $type {
            type Error = ValidationError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }
    };
}

resource_name!(
    /// A service: one gateway host (`<name>.localhost`) with its own APIs, products and keys.
    ServiceName, "service", 63
);
resource_name!(
    /// An API inside a service.
    ApiName, "API", 80
);
resource_name!(
    /// An operation inside an API.
    OperationName, "operation", 80
);
resource_name!(
    /// A product inside a service.
    ProductName, "product", 80
);
resource_name!(
    /// A subscription inside a service (APIM calls it `sid`).
    SubscriptionName, "subscription", 80
);
resource_name!(
    /// A named value inside a service (its id; policies use its display name).
    NamedValueName, "named value", 80
);
resource_name!(
    /// A policy fragment inside a service (`<include-fragment fragment-id="…"/>`).
    PolicyFragmentName, "policy fragment", 80
);
resource_name!(
    /// A certificate inside a service (`certificate-id="…"` in policies).
    CertificateName, "certificate", 80
);
resource_name!(
    /// A backend inside a service (`<set-backend-service backend-id="…"/>`).
    BackendName, "backend", 80
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_lowercase_digits_and_inner_hyphens() {
        for ok in ["flowdemo", "a", "calc-2", "9lives"] {
            assert!(ServiceName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_everything_else_with_a_reason() {
        for (bad, hint) in [
            ("", "required"),
            ("Flow", "'F'"),
            ("flow_demo", "'_'"),
            ("flow demo", "' '"),
            ("-flow", "start and end"),
            ("flow-", "start and end"),
            ("é", "'é'"),
        ] {
            let err = ApiName::parse(bad).unwrap_err();
            assert_eq!(err.code, "InvalidName");
            assert_eq!(err.field, "name");
            assert!(err.message.contains(hint), "{bad}: {}", err.message);
        }
    }

    #[test]
    fn service_names_are_dns_labels() {
        assert!(ServiceName::parse("a".repeat(63)).is_ok());
        assert!(ServiceName::parse("a".repeat(64)).is_err());
        assert!(ApiName::parse("a".repeat(80)).is_ok());
    }
}
