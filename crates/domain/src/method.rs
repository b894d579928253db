//! HTTP methods as operations declare them.

use crate::ValidationError;
use std::fmt;

/// An HTTP method: an RFC 9110 token, stored uppercase (`post` becomes `POST`). APIM accepts
/// any valid method, so custom ones (`PURGE`) are allowed too.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HttpMethod(String);

impl HttpMethod {
    /// The methods the portal offers in its select.
    pub const COMMON: [&'static str; 7] =
        ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

    pub fn parse(value: impl AsRef<str>) -> Result<Self, ValidationError> {
        let value = value.as_ref().trim();
        let invalid =
            |message: String| Err(ValidationError::new("method", "InvalidMethod", message));
        if value.is_empty() {
            return invalid("An HTTP method is required, e.g. GET or POST.".into());
        }
        if value.len() > 32 {
            return invalid("An HTTP method has at most 32 characters.".into());
        }
        if let Some(bad) = value.chars().find(|c| !is_token_char(*c)) {
            return invalid(format!(
                "'{value}' is not an HTTP method: '{bad}' is not allowed in one."
            ));
        }
        Ok(Self(value.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `tchar` from RFC 9110 §5.6.2.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for HttpMethod {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uppercases_tokens() {
        assert_eq!(HttpMethod::parse("post").unwrap().as_str(), "POST");
        assert_eq!(HttpMethod::parse("PURGE").unwrap().as_str(), "PURGE");
    }

    #[test]
    fn rejects_non_tokens() {
        for bad in ["", "GE T", "GET/", "(GET)"] {
            assert_eq!(HttpMethod::parse(bad).unwrap_err().field, "method", "{bad}");
        }
    }
}
