//! The API URL suffix: the path prefix that selects an API inside a service.

use crate::ValidationError;
use std::fmt;

/// Zero or more path segments (`calc`, `billing/v2`), stored without leading or trailing
/// slashes. The empty suffix is allowed: that API answers everything no longer suffix claims.
/// Matching is case-insensitive, so [`ApiSuffix::matching_key`] is the lowercase form; the
/// text keeps the case the user typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiSuffix {
    text: String,
    lowercase: String,
}

impl ApiSuffix {
    pub const MAX_LEN: usize = 400;

    pub fn parse(value: impl AsRef<str>) -> Result<Self, ValidationError> {
        let text = value.as_ref().trim().trim_matches('/');
        let invalid = |message: String| Err(ValidationError::new("path", "InvalidPath", message));
        if text.len() > Self::MAX_LEN {
            return invalid(format!(
                "An API URL suffix has at most {} characters.",
                Self::MAX_LEN
            ));
        }
        if !text.is_empty() {
            for segment in text.split('/') {
                if segment.is_empty() {
                    return invalid(format!(
                        "The API URL suffix '{text}' has an empty segment ('//')."
                    ));
                }
                if segment == "." || segment == ".." {
                    return invalid(format!(
                        "The API URL suffix cannot contain a '{segment}' segment."
                    ));
                }
                if let Some(bad) = segment
                    .chars()
                    .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')))
                {
                    return invalid(format!(
                        "An API URL suffix may contain letters, digits, '-', '.', '_', '~' and '/'; '{bad}' is not allowed."
                    ));
                }
            }
        }
        Ok(Self {
            text: text.to_owned(),
            lowercase: text.to_ascii_lowercase(),
        })
    }

    /// The empty suffix.
    pub fn root() -> Self {
        Self {
            text: String::new(),
            lowercase: String::new(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The lowercase form that routing and uniqueness compare.
    pub fn matching_key(&self) -> &str {
        &self.lowercase
    }

    pub fn is_root(&self) -> bool {
        self.text.is_empty()
    }

    /// Number of path segments (0 for the empty suffix).
    pub fn segment_count(&self) -> usize {
        if self.text.is_empty() {
            0
        } else {
            self.text.split('/').count()
        }
    }
}

impl fmt::Display for ApiSuffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for ApiSuffix {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_slashes_and_keeps_case() {
        let suffix = ApiSuffix::parse("/Billing/v2/").unwrap();
        assert_eq!(suffix.as_str(), "Billing/v2");
        assert_eq!(suffix.matching_key(), "billing/v2");
        assert_eq!(suffix.segment_count(), 2);
    }

    #[test]
    fn empty_is_the_root_suffix() {
        let suffix = ApiSuffix::parse("").unwrap();
        assert!(suffix.is_root());
        assert_eq!(suffix, ApiSuffix::root());
        assert_eq!(ApiSuffix::parse("/").unwrap().segment_count(), 0);
    }

    #[test]
    fn rejects_bad_segments_and_characters() {
        for bad in ["a//b", "a/../b", "a b", "calc?x=1", "{id}", "a#b"] {
            let err = ApiSuffix::parse(bad).unwrap_err();
            assert_eq!(err.field, "path", "{bad}");
        }
    }
}
