//! Policy fragments: a service's reusable pieces of policy (`<fragment>…</fragment>`) that
//! documents include with `<include-fragment fragment-id="…"/>` (APIM's "policy
//! fragments").
//!
//! A fragment is checked on its own when it is saved (well-formed, `<fragment>` at the root,
//! only policies inside, no fragment within a fragment); where it is included decides the
//! rest, so the store also compiles every document that includes it before a change is kept.

use crate::{NamedValueMap, ValidationError};
use std::collections::BTreeMap;

/// A service's fragments, id → text, as documents are compiled with them.
pub type FragmentMap = BTreeMap<String, String>;

/// How the fragment's `value` is written in the management API: `xml` (APIM escapes it in
/// JSON) or `rawxml`. Both hold the same text here; the format is kept to be given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FragmentFormat {
    #[default]
    Xml,
    Rawxml,
}

impl FragmentFormat {
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        match text {
            "xml" => Ok(Self::Xml),
            "rawxml" => Ok(Self::Rawxml),
            other => Err(ValidationError::new(
                "format",
                "InvalidFormat",
                format!("The format is xml or rawxml, not '{other}'."),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Xml => "xml",
            Self::Rawxml => "rawxml",
        }
    }
}

/// What a fragment holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFragmentSettings {
    value: String,
    pub description: String,
    pub format: FragmentFormat,
}

impl PolicyFragmentSettings {
    pub const MAX_DESCRIPTION: usize = 1000;

    /// Checks the fragment on its own (with the service's named values): every fault with
    /// its line and column.
    pub fn parse(
        value: impl Into<String>,
        description: impl Into<String>,
        format: FragmentFormat,
        named: &NamedValueMap,
    ) -> Result<Self, ValidationError> {
        let value = value.into();
        let description = description.into();
        if description.chars().count() > Self::MAX_DESCRIPTION {
            return Err(ValidationError::new(
                "description",
                "InvalidDescription",
                format!(
                    "A description has at most {} characters.",
                    Self::MAX_DESCRIPTION
                ),
            ));
        }
        portcullis_policy::catalogue::include_fragment::check_fragment(&value, named)
            .map_err(|diagnostics| crate::policy::invalid_policy(&diagnostics))?;
        Ok(Self {
            value,
            description,
            format,
        })
    }

    /// A fragment read back from the store, where it was checked when it was saved.
    pub fn from_store(value: String, description: String, format: FragmentFormat) -> Self {
        Self {
            value,
            description,
            format,
        }
    }

    pub fn value(&self) -> &str {
        &self.value
    }
}

/// Compiles a stored document of a scope of `kind` (named `label` in faults) with `library`
/// (the service's, with the changed fragment) in place of the service's: whether a fragment
/// change keeps every document that includes it valid.
pub fn still_compiles(
    text: &str,
    kind: portcullis_policy::ScopeKind,
    label: &str,
    named: &NamedValueMap,
    library: &dyn portcullis_policy::library::Library,
) -> Result<(), ValidationError> {
    portcullis_policy::PolicyDocument::parse_in(text, kind, label, named, library)
        .map(|_| ())
        .map_err(|diagnostics| {
            let mut error = crate::policy::invalid_policy(&diagnostics);
            error.message = format!(
                "The policy at {label} would no longer compile: {}",
                error.message
            );
            error
        })
}

/// The ids of the fragments a document includes.
pub fn included(text: &str) -> Vec<String> {
    portcullis_policy::catalogue::include_fragment::included_fragments(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fragment_is_checked_with_line_and_column() {
        let named = NamedValueMap::new();
        assert!(
            PolicyFragmentSettings::parse(
                "<fragment>\n  <set-header name=\"x\"><value>v</value></set-header>\n</fragment>",
                "",
                FragmentFormat::Xml,
                &named
            )
            .is_ok()
        );
        let fault = PolicyFragmentSettings::parse(
            "<fragment>\n  <bogus />\n</fragment>",
            "",
            FragmentFormat::Xml,
            &named,
        )
        .unwrap_err();
        assert_eq!(fault.field, "value");
        assert!(
            fault.message.starts_with("Line 2, column 3"),
            "{}",
            fault.message
        );
        assert!(FragmentFormat::parse("json").is_err());
    }
}
