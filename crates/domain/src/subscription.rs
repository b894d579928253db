//! Subscriptions: who a key belongs to, what it opens, and whether it works right now.

use crate::{ApiName, ProductName, ValidationError};
use rand::RngCore;
use std::fmt;
use subtle::ConstantTimeEq;

/// What a subscription's keys open.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SubscriptionScope {
    /// `/apis`: every API of the service.
    AllApis,
    /// `/apis/{api}`: one API.
    Api(ApiName),
    /// `/products/{product}`: the APIs of one product (and its product policies).
    Product(ProductName),
}

impl SubscriptionScope {
    /// Parses `/apis`, `/apis/{api}` or `/products/{product}`. A longer, ARM-style prefix in
    /// front (`/subscriptions/…/service/x/products/starter`) is tolerated, as APIM exports
    /// carry one.
    pub fn parse(value: impl AsRef<str>) -> Result<Self, ValidationError> {
        let text = value.as_ref().trim().trim_end_matches('/');
        let invalid = || {
            ValidationError::new(
                "scope",
                "InvalidScope",
                format!(
                    "'{text}' is not a subscription scope; use /apis, /apis/{{api}} or /products/{{product}}."
                ),
            )
        };
        let segments: Vec<&str> = text.split('/').collect();
        match segments.as_slice() {
            [.., "apis", api] => ApiName::parse(*api)
                .map(Self::Api)
                .map_err(|e| e.for_field("scope")),
            [.., "products", product] => ProductName::parse(*product)
                .map(Self::Product)
                .map_err(|e| e.for_field("scope")),
            [_, .., "apis"] => Ok(Self::AllApis),
            _ => Err(invalid()),
        }
    }

    /// The canonical short form: `/apis`, `/apis/{api}`, `/products/{product}`.
    pub fn to_path(&self) -> String {
        match self {
            Self::AllApis => "/apis".to_owned(),
            Self::Api(api) => format!("/apis/{api}"),
            Self::Product(product) => format!("/products/{product}"),
        }
    }
}

impl fmt::Display for SubscriptionScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_path())
    }
}

impl serde::Serialize for SubscriptionScope {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_path())
    }
}

/// APIM's subscription states. Only `Active` lets a key through the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionState {
    Active,
    Suspended,
    Submitted,
    Rejected,
    Cancelled,
    Expired,
}

impl SubscriptionState {
    pub const ALL: [Self; 6] = [
        Self::Active,
        Self::Suspended,
        Self::Submitted,
        Self::Rejected,
        Self::Cancelled,
        Self::Expired,
    ];

    pub fn parse(value: impl AsRef<str>) -> Result<Self, ValidationError> {
        let value = value.as_ref().trim();
        Self::ALL
            .into_iter()
            .find(|state| state.as_str().eq_ignore_ascii_case(value))
            .ok_or_else(|| {
                ValidationError::new(
                    "state",
                    "InvalidState",
                    format!(
                        "'{value}' is not a subscription state; use active, suspended, submitted, rejected, cancelled or expired."
                    ),
                )
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Submitted => "submitted",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    pub fn is_active(self) -> bool {
        self == Self::Active
    }
}

impl serde::Serialize for SubscriptionState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A subscription key: 128 random bits as 32 lowercase hex characters.
///
/// `Debug` and `Display` print a masked form, so a key that ends up in a log line or an error
/// message gives nothing away; [`SubscriptionKey::expose`] is the one way to read it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SubscriptionKey(String);

impl SubscriptionKey {
    pub const LEN: usize = 32;

    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(hex::encode(bytes))
    }

    pub fn parse(value: impl AsRef<str>) -> Result<Self, ValidationError> {
        let value = value.as_ref();
        let well_formed = value.len() == Self::LEN
            && value
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(ValidationError::new(
                "key",
                "InvalidKey",
                "A subscription key is 32 lowercase hexadecimal characters.",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The key itself. Only for the places that must show or compare it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares with a presented key without an early exit on the first differing byte.
    pub fn matches(&self, presented: &[u8]) -> bool {
        self.0.as_bytes().ct_eq(presented).into()
    }

    /// `3f2a…` — enough to tell keys apart in a trace, not enough to use one.
    pub fn masked(&self) -> String {
        format!("{}…", &self.0[..4])
    }
}

impl fmt::Debug for SubscriptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubscriptionKey({})", self.masked())
    }
}

impl fmt::Display for SubscriptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip() {
        for text in ["/apis", "/apis/calculator", "/products/starter"] {
            assert_eq!(SubscriptionScope::parse(text).unwrap().to_path(), text);
        }
        assert_eq!(
            SubscriptionScope::parse(
                "/subscriptions/x/resourceGroups/y/service/z/products/starter"
            )
            .unwrap(),
            SubscriptionScope::Product(ProductName::parse("starter").unwrap())
        );
        assert_eq!(
            SubscriptionScope::parse("/service/z/apis").unwrap(),
            SubscriptionScope::AllApis
        );
    }

    #[test]
    fn bad_scopes_name_the_field() {
        for bad in [
            "",
            "/users/x",
            "/products/Bad_Name",
            "apis/x/y",
            "/products",
        ] {
            assert_eq!(
                SubscriptionScope::parse(bad).unwrap_err().field,
                "scope",
                "{bad}"
            );
        }
    }

    #[test]
    fn states_parse_case_insensitively() {
        assert_eq!(
            SubscriptionState::parse("Suspended").unwrap(),
            SubscriptionState::Suspended
        );
        assert!(SubscriptionState::parse("paused").is_err());
        assert!(SubscriptionState::Active.is_active());
        assert!(!SubscriptionState::Cancelled.is_active());
    }

    #[test]
    fn generated_keys_are_distinct_hex_and_masked() {
        let a = SubscriptionKey::generate();
        let b = SubscriptionKey::generate();
        assert_ne!(a, b);
        assert!(SubscriptionKey::parse(a.expose()).is_ok());
        assert!(!format!("{a:?}{a}").contains(a.expose()));
        assert!(a.matches(a.expose().as_bytes()));
        assert!(!a.matches(b.expose().as_bytes()));
        assert!(!a.matches(b"short"));
    }
}
