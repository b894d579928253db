//! The backend an API forwards to — APIM's "Web service URL".

use crate::ValidationError;
use std::fmt;
use url::Url;

/// An absolute `http` or `https` URL with a host, no credentials and no fragment, at most
/// 2000 characters. It may carry a path (`https://host/api/v1`) and a query string; a
/// low-code flow's URL usually carries its signature in the query
/// (`…/invoke?api-version=2016-10-01&sp=…&sig=…`), which the gateway keeps in front of the
/// caller's own query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUrl {
    url: Url,
    /// The text as given, so that what the user typed is what they read back.
    text: String,
}

impl ServiceUrl {
    pub const MAX_LEN: usize = 2000;

    pub fn parse(value: impl AsRef<str>) -> Result<Self, ValidationError> {
        let text = value.as_ref().trim();
        let invalid =
            |message: String| Err(ValidationError::new("serviceUrl", "InvalidUrl", message));
        if text.is_empty() {
            return invalid(
                "A web service URL is required, e.g. https://backend.example.com/api.".into(),
            );
        }
        if text.len() > Self::MAX_LEN {
            return invalid(format!(
                "A web service URL has at most {} characters.",
                Self::MAX_LEN
            ));
        }
        let url = match Url::parse(text) {
            Ok(url) => url,
            Err(error) => {
                return invalid(format!(
                    "'{text}' is not an absolute URL ({error}); write it as http://host[:port]/path."
                ));
            }
        };
        if url.scheme() != "http" && url.scheme() != "https" {
            return invalid(format!(
                "The web service URL must use http or https, not '{}'.",
                url.scheme()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return invalid("The web service URL must name a host.".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return invalid(
                "The web service URL cannot carry a user name or password; use a policy to add credentials."
                    .into(),
            );
        }
        if url.fragment().is_some() {
            return invalid("The web service URL cannot have a #fragment.".into());
        }
        Ok(Self {
            url,
            text: text.to_owned(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn url(&self) -> &Url {
        &self.url
    }
}

impl fmt::Display for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for ServiceUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_http_and_https_with_path_and_query() {
        for ok in [
            "http://127.0.0.1:7071",
            "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-10-01&sig=x",
            "http://backend/api/v1/",
        ] {
            assert_eq!(ServiceUrl::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_relative_other_schemes_credentials_fragments() {
        for (bad, hint) in [
            ("", "required"),
            ("backend.example.com/api", "not an absolute URL"),
            ("/api", "not an absolute URL"),
            ("ftp://host/x", "http or https"),
            ("http://user:pw@host/", "password"),
            ("http://host/#top", "fragment"),
        ] {
            let err = ServiceUrl::parse(bad).unwrap_err();
            assert_eq!(err.field, "serviceUrl");
            assert!(err.message.contains(hint), "{bad}: {}", err.message);
        }
    }
}
