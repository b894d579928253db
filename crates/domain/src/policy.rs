//! Policy documents: where they attach and the XML itself.
//!
//! This module only checks that a document is well-formed APIM policy XML — a `<policies>`
//! root whose children are the four sections — and reports the line and column of the first
//! fault. The policy catalogue and its engine build on top of it.

use crate::{ApiName, OperationName, ProductName, ValidationError};
use quick_xml::events::Event;
use quick_xml::reader::Reader;
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

    pub fn parse(value: impl Into<String>) -> Result<Self, ValidationError> {
        let text = value.into();
        if text.len() > Self::MAX_LEN {
            return Err(ValidationError::new(
                "value",
                "InvalidPolicy",
                "A policy document has at most 256 KiB.",
            ));
        }
        check_document(&text)?;
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Line and column (both from 1) of a byte offset.
pub fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn fault_at(text: &str, offset: usize, message: impl fmt::Display) -> ValidationError {
    let (line, column) = line_and_column(text, offset);
    ValidationError::new(
        "value",
        "InvalidPolicy",
        format!("Line {line}, column {column}: {message}"),
    )
}

fn check_document(text: &str) -> Result<(), ValidationError> {
    let mut reader = Reader::from_str(text);
    let mut depth = 0usize;
    let mut saw_root = false;
    let mut seen_sections: Vec<String> = Vec::new();
    loop {
        let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|error| {
            let at = usize::try_from(reader.error_position()).unwrap_or(start);
            fault_at(text, at, format!("the XML is not well-formed: {error}."))
        })?;
        let (name, opens) = match &event {
            Event::Start(element) => (Some(element.name().as_ref().to_vec()), true),
            Event::Empty(element) => (Some(element.name().as_ref().to_vec()), false),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                continue;
            }
            Event::Text(t) if depth == 0 && !t.iter().all(u8::is_ascii_whitespace) => {
                return Err(fault_at(
                    text,
                    start,
                    "text outside the <policies> element.",
                ));
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = String::from_utf8_lossy(name.as_deref().unwrap_or_default()).into_owned();
        match depth {
            0 if saw_root => {
                return Err(fault_at(
                    text,
                    start,
                    "a document has one <policies> root element.",
                ));
            }
            0 if name != "policies" => {
                return Err(fault_at(
                    text,
                    start,
                    format!("the root element must be <policies>, not <{name}>."),
                ));
            }
            0 => saw_root = true,
            1 if !SECTIONS.contains(&name.as_str()) => {
                return Err(fault_at(
                    text,
                    start,
                    format!(
                        "<{name}> cannot stand directly in <policies>; use <inbound>, <backend>, <outbound> or <on-error>."
                    ),
                ));
            }
            1 if seen_sections.contains(&name) => {
                return Err(fault_at(text, start, format!("<{name}> appears twice.")));
            }
            1 => seen_sections.push(name),
            _ => {}
        }
        if opens {
            depth += 1;
        }
    }
    if !saw_root {
        return Err(fault_at(
            text,
            text.len(),
            "the document is empty; it needs a <policies> element.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_defaults_and_real_documents() {
        assert!(PolicyXml::parse(PolicyXml::default_for(&PolicyScope::Global).as_str()).is_ok());
        assert!(PolicyXml::parse(PolicyXml::default_for(&PolicyScope::Global).0).is_ok());
        let doc = r#"<policies><inbound><base/><rate-limit-by-key calls="3" renewal-period="60" counter-key="@(context.Request.IpAddress)"/></inbound></policies>"#;
        assert!(PolicyXml::parse(doc).is_ok());
    }

    #[test]
    fn reports_line_and_column() {
        let err =
            PolicyXml::parse("<policies>\n  <inbound>\n  </outbound>\n</policies>").unwrap_err();
        assert!(err.message.starts_with("Line 3"), "{}", err.message);
        let err = PolicyXml::parse("<policies>\n  <nonsense/>\n</policies>").unwrap_err();
        assert_eq!(err.message.split(':').next(), Some("Line 2, column 3"));
        let err = PolicyXml::parse("<policy/>").unwrap_err();
        assert!(err.message.contains("root element"), "{}", err.message);
        assert!(PolicyXml::parse("").is_err());
        assert!(PolicyXml::parse("<policies><inbound/><inbound/></policies>").is_err());
        assert!(PolicyXml::parse("<policies/><policies/>").is_err());
    }

    #[test]
    fn line_and_column_counts_characters() {
        assert_eq!(line_and_column("ab\ncé", 6), (2, 3));
        assert_eq!(line_and_column("", 0), (1, 1));
    }
}
