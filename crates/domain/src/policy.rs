//! Policy documents: where they attach and the XML itself.
//!
//! A [`PolicyXml`] built with [`PolicyXml::parse`] has been compiled by the policy engine for
//! its scope — every policy known, every attribute valid, every expression inside the
//! supported subset — so a document that would not run is refused before it is stored. The
//! faults carry their line and column.

use crate::{ApiName, OperationName, ProductName, ValidationError};
use portcullis_policy::PolicyDocument;
pub use portcullis_policy::ScopeKind;
use portcullis_policy::library::Library;
use std::fmt;

/// Where a policy document attaches inside a service.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PolicyScope {
    /// All APIs of the service.
    Global,
    Product(ProductName),
    Api(ApiName),
    Operation(ApiName, OperationName),
}

impl fmt::Display for PolicyScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Global => f.write_str("global"),
            Self::Product(p) => write!(f, "product {p}"),
            Self::Api(a) => write!(f, "API {a}"),
            Self::Operation(a, o) => write!(f, "operation {a}/{o}"),
        }
    }
}

/// The sections a `<policies>` document may hold, in pipeline order.
pub const SECTIONS: [&str; 4] = ["inbound", "backend", "outbound", "on-error"];

/// A well-formed policy document, kept as the text the user wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyXml(String);

impl PolicyXml {
    pub const MAX_LEN: usize = 256 * 1024;

    /// What a scope holds when nobody wrote a document for it.
    pub fn default_for(scope: &PolicyScope) -> Self {
        let text = match scope {
            PolicyScope::Global => {
                "<policies>\n  <inbound />\n  <backend>\n    <forward-request />\n  </backend>\n  <outbound />\n  <on-error />\n</policies>"
            }
            _ => {
                "<policies>\n  <inbound>\n    <base />\n  </inbound>\n  <backend>\n    <base />\n  </backend>\n  <outbound>\n    <base />\n  </outbound>\n  <on-error>\n    <base />\n  </on-error>\n</policies>"
            }
        };
        Self(text.to_owned())
    }

    /// Parses and compiles a document for `scope`; every fault is reported, each with its
    /// line and column (the first in `message`, all of them in `details`).
    pub fn parse(value: impl Into<String>, scope: &PolicyScope) -> Result<Self, ValidationError> {
        Self::parse_with(value, scope, &crate::NamedValueMap::new())
    }

    /// [`PolicyXml::parse`] with the service's named values (`{{name}}` replaced before the
    /// document is read; the text kept is the one written).
    pub fn parse_with(
        value: impl Into<String>,
        scope: &PolicyScope,
        named: &crate::NamedValueMap,
    ) -> Result<Self, ValidationError> {
        Self::parse_in(value, scope, named, &crate::FragmentMap::new())
    }

    /// [`PolicyXml::parse_with`] with the service's policy fragments and certificates too.
    pub fn parse_in(
        value: impl Into<String>,
        scope: &PolicyScope,
        named: &crate::NamedValueMap,
        library: &dyn Library,
    ) -> Result<Self, ValidationError> {
        let text = value.into();
        if text.len() > Self::MAX_LEN {
            return Err(ValidationError::new(
                "value",
                "InvalidPolicy",
                "A policy document has at most 256 KiB.",
            ));
        }
        compile_in(&text, scope, named, library).map_err(|d| invalid_policy(&d))?;
        Ok(Self(text))
    }

    /// A document read back from the store, where it was checked when it was saved. It is
    /// not compiled again here: the gateway compiles it, and refuses calls (fails closed)
    /// through a scope whose stored document no longer compiles.
    pub fn from_store(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PolicyScope {
    /// The engine's view of the scope.
    pub fn kind(&self) -> ScopeKind {
        match self {
            Self::Global => ScopeKind::Global,
            Self::Product(_) => ScopeKind::Product,
            Self::Api(_) => ScopeKind::Api,
            Self::Operation(..) => ScopeKind::Operation,
        }
    }

    /// How traces, counter keys and the effective policy name the scope: `All APIs`,
    /// `product starter`, `API echo`, `operation echo/get`.
    pub fn label(&self) -> String {
        match self {
            Self::Global => "All APIs".to_owned(),
            other => other.to_string(),
        }
    }
}

/// Compiles `text` as the document of `scope`.
pub fn compile(
    text: &str,
    scope: &PolicyScope,
) -> Result<PolicyDocument, portcullis_policy::Diagnostics> {
    compile_with(text, scope, &crate::NamedValueMap::new())
}

/// Compiles `text` as the document of `scope`, with the service's named values.
pub fn compile_with(
    text: &str,
    scope: &PolicyScope,
    named: &crate::NamedValueMap,
) -> Result<PolicyDocument, portcullis_policy::Diagnostics> {
    compile_in(text, scope, named, &crate::FragmentMap::new())
}

/// Compiles `text` as the document of `scope`, with the service's named values, policy
/// fragments and certificates.
pub fn compile_in(
    text: &str,
    scope: &PolicyScope,
    named: &crate::NamedValueMap,
    library: &dyn Library,
) -> Result<PolicyDocument, portcullis_policy::Diagnostics> {
    PolicyDocument::parse_in(text, scope.kind(), &scope.label(), named, library)
}

/// A document's faults as the field error of `value`: the first in the message, all of
/// them in the details.
pub(crate) fn invalid_policy(diagnostics: &portcullis_policy::Diagnostics) -> ValidationError {
    let details: Vec<String> = diagnostics.0.iter().map(ToString::to_string).collect();
    let message = match details.as_slice() {
        [] => "The policy is not valid.".to_owned(),
        [only] => only.clone(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    };
    ValidationError::new("value", "InvalidPolicy", message).with_details(details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_defaults_and_real_documents() {
        for scope in [
            PolicyScope::Global,
            PolicyScope::Api(ApiName::parse("echo").unwrap()),
        ] {
            let default = PolicyXml::default_for(&scope);
            assert!(PolicyXml::parse(default.as_str(), &scope).is_ok());
        }
        let doc = r#"<policies><inbound><base/><rate-limit-by-key calls="3" renewal-period="60" counter-key="@(context.Request.IpAddress)"/></inbound></policies>"#;
        assert!(PolicyXml::parse(doc, &PolicyScope::Global).is_ok());
    }

    #[test]
    fn reports_every_fault_with_line_and_column() {
        let scope = PolicyScope::Global;
        let err = PolicyXml::parse(
            "<policies>\n  <inbound>\n  </outbound>\n</policies>",
            &scope,
        )
        .unwrap_err();
        assert!(err.message.starts_with("Line 3"), "{}", err.message);
        let err = PolicyXml::parse(
            "<policies>\n  <nonsense/>\n  <inbound><bogus/></inbound>\n</policies>",
            &scope,
        )
        .unwrap_err();
        assert_eq!(err.message.split(':').next(), Some("Line 2, column 3"));
        assert_eq!(err.details.len(), 2, "{:?}", err.details);
        assert!(PolicyXml::parse("", &scope).is_err());
        assert!(PolicyXml::parse("<policies/><policies/>", &scope).is_err());
    }
}
