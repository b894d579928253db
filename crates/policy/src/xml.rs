//! A policy document read into a small element tree that remembers where everything stood.
//!
//! quick-xml does the parsing; this module keeps, for every element, attribute value and
//! text, its byte offset in the document, so that every later complaint — an unknown
//! policy, a bad attribute, an unsupported expression — can name a line and column.

use crate::error::Diagnostic;
use crate::policy_text;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// One element: its name, attributes, child elements and text, with offsets.
#[derive(Debug, Clone)]
pub struct Element {
    pub name: String,
    pub offset: usize,
    pub attributes: Vec<Attribute>,
    pub children: Vec<Element>,
    /// The element's own text (CDATA included), if any non-whitespace text was written.
    pub text: Option<Text>,
    /// Where its content (text and child elements as written) starts and ends in the
    /// document; `None` for an empty element `<a/>`.
    pub inner: Option<(usize, usize)>,
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    /// The unescaped value.
    pub value: String,
    /// Byte offset of the value's first character in the document.
    pub offset: usize,
}

#[derive(Debug, Clone)]
pub struct Text {
    pub value: String,
    pub offset: usize,
}

impl Element {
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text content, trimmed; empty when the element has none.
    pub fn text_value(&self) -> &str {
        self.text.as_ref().map_or("", |t| t.value.trim())
    }
}

/// Where `inner` starts inside `outer`, when `inner` borrows from it.
fn offset_in(outer: &str, inner: &[u8]) -> Option<usize> {
    let start = outer.as_ptr() as usize;
    let at = inner.as_ptr() as usize;
    (at >= start && at + inner.len() <= start + outer.len()).then(|| at - start)
}

fn read_attributes(
    text: &str,
    start: &BytesStart<'_>,
    element_offset: usize,
) -> Result<Vec<Attribute>, XmlFault> {
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| {
            fault(
                element_offset,
                format!("the XML is not well-formed: {error}."),
            )
        })?;
        let name = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
        let offset = offset_in(text, &attribute.value).unwrap_or(element_offset);
        let value = attribute
            .unescape_value()
            .map_err(|error| {
                fault(
                    offset,
                    format!("the attribute {name} is not valid XML: {error}."),
                )
            })?
            .into_owned();
        if attributes.iter().any(|a: &Attribute| a.name == name) {
            return Err(fault(
                offset,
                format!("the attribute {name} appears twice."),
            ));
        }
        attributes.push(Attribute {
            name,
            value,
            offset,
        });
    }
    Ok(attributes)
}

fn push_text(element: &mut Element, value: &str, offset: usize) {
    match &mut element.text {
        Some(text) => text.value.push_str(value),
        None if value.trim().is_empty() => {}
        None => {
            element.text = Some(Text {
                value: value.to_owned(),
                offset,
            })
        }
    }
}

/// Elements nest at most this deep (`<policies>` counts as 1). Everything that walks the tree
/// later — compiling, `<base/>` flattening, the effective policy, dropping the tree — recurses
/// once per level, so this bound is what keeps a hostile document from exhausting a thread's
/// stack. Real documents stay under 10; APIM's own examples under 8.
pub const MAX_ELEMENT_DEPTH: usize = 64;

/// Parses a whole document into its root element. Comments and processing instructions are
/// skipped; text outside the root, a second root and nesting deeper than
/// [`MAX_ELEMENT_DEPTH`] are faults.
///
/// The text is read as APIM reads it: expression regions are made well-formed first (see
/// [`crate::policy_text`]); every offset in the tree and in a fault is one of `original`.
pub fn parse(original: &str) -> Result<Element, Diagnostic> {
    parse_with(original, &())
}

/// [`parse`], with `{{…}}` references to `named` replaced by their values first.
pub fn parse_with(
    original: &str,
    named: &dyn policy_text::NamedValues,
) -> Result<Element, Diagnostic> {
    let prepared = policy_text::prepare_with(original, named)?;
    let mut root = parse_xml(&prepared.xml).map_err(|(offset, message)| {
        Diagnostic::at(original, prepared.original_offset(offset), message)
    })?;
    let mut pending = vec![&mut root];
    while let Some(element) = pending.pop() {
        element.offset = prepared.original_offset(element.offset);
        for attribute in &mut element.attributes {
            attribute.offset = prepared.original_offset(attribute.offset);
        }
        if let Some(text) = &mut element.text {
            text.offset = prepared.original_offset(text.offset);
        }
        if let Some((start, end)) = &mut element.inner {
            *start = prepared.original_offset(*start);
            *end = prepared.original_offset(*end);
        }
        pending.extend(element.children.iter_mut());
    }
    Ok(root)
}

/// A fault of [`parse_xml`]: where (an offset of the text it read) and what.
type XmlFault = (usize, String);

fn fault(offset: usize, message: impl std::fmt::Display) -> XmlFault {
    (offset, message.to_string())
}

/// Parses well-formed XML into its root element (offsets of `text`).
fn parse_xml(text: &str) -> Result<Element, XmlFault> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let position = usize::try_from(reader.buffer_position()).unwrap_or(text.len());
        let event = reader.read_event().map_err(|error| {
            let at = usize::try_from(reader.error_position()).unwrap_or(position);
            fault(at, format!("the XML is not well-formed: {error}."))
        })?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() && stack.is_empty() => {
                let _ = start;
                return Err(fault(position, "a document has one root element."));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_ELEMENT_DEPTH {
                    return Err(too_deep(position));
                }
                let mut element = open(text, &start, position)?;
                let content_start = usize::try_from(reader.buffer_position()).unwrap_or(position);
                element.inner = Some((content_start, content_start));
                stack.push(element);
            }
            Event::Empty(start) => {
                if stack.len() >= MAX_ELEMENT_DEPTH {
                    return Err(too_deep(position));
                }
                let element = open(text, &start, position)?;
                close(element, &mut stack, &mut root);
            }
            Event::End(_) => {
                if let Some(mut element) = stack.pop() {
                    if let Some((_, end)) = &mut element.inner {
                        *end = position;
                    }
                    close(element, &mut stack, &mut root);
                }
            }
            Event::Text(content) => {
                let offset = offset_in(text, &content).unwrap_or(position);
                let value = content.unescape().map_err(|error| {
                    fault(offset, format!("the text is not valid XML: {error}."))
                })?;
                match stack.last_mut() {
                    Some(element) => push_text(element, &value, offset),
                    None if value.trim().is_empty() => {}
                    None => {
                        return Err(fault(offset, "text outside the root element."));
                    }
                }
            }
            Event::CData(content) => {
                let offset = offset_in(text, &content).unwrap_or(position);
                let value = String::from_utf8_lossy(&content).into_owned();
                if let Some(element) = stack.last_mut() {
                    push_text(element, &value, offset);
                    // CDATA counts even when it is only whitespace.
                    if element.text.is_none() {
                        element.text = Some(Text { value, offset });
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(fault(
            open.offset,
            format!("<{}> is never closed.", open.name),
        ));
    }
    root.ok_or_else(|| fault(text.len(), "the document is empty."))
}

fn too_deep(offset: usize) -> XmlFault {
    fault(
        offset,
        format!(
            "elements nest more than {MAX_ELEMENT_DEPTH} levels deep; a policy document may nest at most {MAX_ELEMENT_DEPTH}."
        ),
    )
}

fn open(text: &str, start: &BytesStart<'_>, offset: usize) -> Result<Element, XmlFault> {
    Ok(Element {
        name: String::from_utf8_lossy(start.name().as_ref()).into_owned(),
        offset,
        attributes: read_attributes(text, start, offset)?,
        children: Vec::new(),
        text: None,
        inner: None,
    })
}

fn close(element: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_offsets_of_elements_attributes_and_text() {
        let doc = "<a>\n  <b x=\"1\" y='two'>hello &amp; bye</b>\n</a>";
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "a");
        let b = &root.children[0];
        assert_eq!(&doc[b.offset..b.offset + 2], "<b");
        let y = b.attribute("y").unwrap();
        assert_eq!(y.value, "two");
        assert_eq!(&doc[y.offset..y.offset + 3], "two");
        assert_eq!(b.text_value(), "hello & bye");
        let (start, end) = b.inner.unwrap();
        assert_eq!(&doc[start..end], "hello &amp; bye");
        let (start, end) = root.inner.unwrap();
        assert!(
            doc[start..end].starts_with("\n  <b x="),
            "{:?}",
            &doc[start..end]
        );
    }

    #[test]
    fn refuses_what_is_not_one_well_formed_element() {
        for bad in [
            "",
            "<a></b>",
            "<a>",
            "<a/><b/>",
            "text<a/>",
            "<a x='1' x='2'/>",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn nesting_is_bounded_and_the_fault_names_the_limit_and_place() {
        let nested = |levels: usize| {
            let mut doc = "<a>".repeat(levels);
            doc.push_str(&"</a>".repeat(levels));
            doc
        };
        assert!(parse(&nested(MAX_ELEMENT_DEPTH)).is_ok());
        let fault = parse(&nested(MAX_ELEMENT_DEPTH + 1)).unwrap_err();
        assert_eq!((fault.line, fault.column), (1, 3 * MAX_ELEMENT_DEPTH + 1));
        assert!(fault.message.contains("at most 64"), "{}", fault.message);
        // An empty element at the limit is refused the same way.
        let mut doc = "<a>".repeat(MAX_ELEMENT_DEPTH);
        doc.push_str("<b/>");
        doc.push_str(&"</a>".repeat(MAX_ELEMENT_DEPTH));
        assert!(parse(&doc).is_err());
    }

    #[test]
    fn keeps_cdata() {
        let root = parse("<a><![CDATA[ <x> ]]></a>").unwrap();
        assert_eq!(root.text.unwrap().value, " <x> ");
    }
}
