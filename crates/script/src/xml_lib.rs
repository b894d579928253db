//! `System.Xml.Linq`, the basics APIM's expressions use to read XML: `XDocument.Parse`,
//! `XElement.Parse`, `context.Request.Body.As<XDocument>()`, and on elements `Root`,
//! `Name` (`LocalName`, `NamespaceName`), `Value`, `Element(name)`, `Elements([name])`,
//! `Descendants([name])`, `Attribute(name)` (`Value`, `Name`), `Attributes()`,
//! `HasElements`, `HasAttributes`, `IsEmpty`, `ToString()`; names as `"local"`,
//! `"{namespace}local"` or `XName.Get(local, namespace)`. Read only: a script builds new
//! XML as text.
//!
//! Documents are parsed with quick-xml, at most [`MAX_DEPTH`] elements deep; namespaces are
//! resolved as .NET resolves them (a name without a namespace matches only elements in none).

use crate::error::RunError;
use crate::native::Native;
use crate::value::Value;
use quick_xml::events::{BytesStart, Event};
use std::sync::Arc;

/// Elements nest at most this deep in a document a script parses.
pub const MAX_DEPTH: usize = 256;

/// An element: its expanded name, attributes and content.
#[derive(Debug)]
pub struct XElement {
    pub namespace: Arc<str>,
    pub local: Arc<str>,
    /// The name as written (`soap:Body`), for writing the element back out.
    pub written: Arc<str>,
    /// Attributes as written (namespace declarations included), with their values.
    pub attributes: Vec<(Arc<str>, Arc<str>)>,
    pub children: Vec<XNode>,
}

#[derive(Debug)]
pub enum XNode {
    Element(Arc<XElement>),
    Text(Arc<str>),
}

impl XElement {
    /// The text of the element and all its descendants, in order (`XElement.Value`).
    pub fn value(&self) -> String {
        let mut out = String::new();
        let mut pending: Vec<&XNode> = self.children.iter().rev().collect();
        while let Some(node) = pending.pop() {
            match node {
                XNode::Text(text) => out.push_str(text),
                XNode::Element(element) => pending.extend(element.children.iter().rev()),
            }
        }
        out
    }

    fn elements(&self) -> impl DoubleEndedIterator<Item = &Arc<XElement>> {
        self.children.iter().filter_map(|node| match node {
            XNode::Element(element) => Some(element),
            XNode::Text(_) => None,
        })
    }

    fn matches(&self, name: &XName) -> bool {
        *self.local == *name.local && *self.namespace == *name.namespace
    }

    /// The element written back as XML, indented as .NET's `ToString()` writes it (or on
    /// one line). An element with text among its children is written on one line, its
    /// text where it stood. Recursion follows the document's depth, at most [`MAX_DEPTH`].
    pub fn write(&self, indent: Option<usize>, out: &mut String) {
        self.write_at(indent, 0, out);
    }

    fn write_at(&self, indent: Option<usize>, depth: usize, out: &mut String) {
        // A new line before each child and before the closing tag (not before the element
        // itself: it may be written after other text).
        let pad = |out: &mut String, depth: usize| {
            if let Some(step) = indent {
                out.push('\n');
                out.push_str(&" ".repeat(step * depth));
            }
        };
        if depth > 0 {
            pad(out, depth);
        }
        out.push('<');
        out.push_str(&self.written);
        for (name, value) in &self.attributes {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            escape(value, true, out);
            out.push('"');
        }
        if self.children.is_empty() {
            out.push_str(" />");
            return;
        }
        out.push('>');
        let has_text = self
            .children
            .iter()
            .any(|child| matches!(child, XNode::Text(text) if !text.trim().is_empty()));
        if has_text {
            for child in &self.children {
                match child {
                    XNode::Text(text) => escape(text, false, out),
                    XNode::Element(element) => element.write_at(None, 0, out),
                }
            }
        } else {
            for element in self.elements() {
                element.write_at(indent, depth + 1, out);
            }
            pad(out, depth);
        }
        out.push_str("</");
        out.push_str(&self.written);
        out.push('>');
    }
}

/// `text` as XML text (`<`, `>`, `&` escaped) or, with `attribute`, as an attribute value
/// in double quotes (`"` too).
pub fn escape(text: &str, attribute: bool, out: &mut String) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' if attribute => out.push_str("&quot;"),
            other => out.push(other),
        }
    }
}

/// An expanded name: namespace (empty: none) and local name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XName {
    pub namespace: Arc<str>,
    pub local: Arc<str>,
}

impl XName {
    /// `"local"` or `"{namespace}local"`, as .NET reads a string as an `XName`.
    pub fn from_text(text: &str) -> XName {
        match text.strip_prefix('{').and_then(|rest| rest.split_once('}')) {
            Some((namespace, local)) => XName {
                namespace: namespace.into(),
                local: local.into(),
            },
            None => XName {
                namespace: "".into(),
                local: text.into(),
            },
        }
    }

    pub fn text(&self) -> String {
        if self.namespace.is_empty() {
            self.local.to_string()
        } else {
            format!("{{{}}}{}", self.namespace, self.local)
        }
    }
}

/// The namespace prefixes in scope at an element (`""` for the default), innermost last.
type Scope = Vec<(Arc<str>, Arc<str>)>;

/// Parses `text` into its root element.
pub fn parse(text: &str) -> Result<Arc<XElement>, String> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    // Open elements, each with the namespace declarations in scope at it.
    let mut open: Vec<(XElement, Scope)> = Vec::new();
    let mut root: Option<Arc<XElement>> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("the XML is not well-formed: {e}"))?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() && open.is_empty() => {
                let _ = start;
                return Err("the XML has more than one root element".into());
            }
            Event::Start(start) => {
                if open.len() >= MAX_DEPTH {
                    return Err(format!("the XML nests more than {MAX_DEPTH} elements deep"));
                }
                let scope = open.last().map(|(_, s)| s.clone()).unwrap_or_default();
                open.push(element(&start, scope)?);
            }
            Event::Empty(start) => {
                let scope = open.last().map(|(_, s)| s.clone()).unwrap_or_default();
                let (element, _) = element(&start, scope)?;
                close(Arc::new(element), &mut open, &mut root);
            }
            Event::End(_) => {
                if let Some((element, _)) = open.pop() {
                    close(Arc::new(element), &mut open, &mut root);
                }
            }
            Event::Text(content) => {
                let text = content
                    .unescape()
                    .map_err(|e| format!("the XML's text is not valid: {e}"))?;
                if let Some((parent, _)) = open.last_mut() {
                    parent.children.push(XNode::Text(text.as_ref().into()));
                } else if !text.trim().is_empty() {
                    return Err("the XML has text outside its root element".into());
                }
            }
            Event::CData(content) => {
                if let Some((parent, _)) = open.last_mut() {
                    let text = String::from_utf8_lossy(&content).into_owned();
                    parent.children.push(XNode::Text(text.into()));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !open.is_empty() {
        return Err("the XML ends before its elements are closed".into());
    }
    root.ok_or_else(|| "the XML has no root element".into())
}

fn close(element: Arc<XElement>, open: &mut [(XElement, Scope)], root: &mut Option<Arc<XElement>>) {
    match open.last_mut() {
        Some((parent, _)) => parent.children.push(XNode::Element(element)),
        None => *root = Some(element),
    }
}

/// An element from its start tag; `scope` holds the prefixes declared above it.
fn element(start: &BytesStart<'_>, mut scope: Scope) -> Result<(XElement, Scope), String> {
    let written = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| format!("an attribute is not valid XML: {e}"))?;
        let name = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
        let value = attribute
            .unescape_value()
            .map_err(|e| format!("an attribute value is not valid XML: {e}"))?
            .into_owned();
        if name == "xmlns" {
            scope.push(("".into(), value.as_str().into()));
        } else if let Some(prefix) = name.strip_prefix("xmlns:") {
            scope.push((prefix.into(), value.as_str().into()));
        }
        attributes.push((Arc::from(name.as_str()), Arc::from(value.as_str())));
    }
    let (prefix, local) = written.split_once(':').unwrap_or(("", &written));
    let namespace = scope
        .iter()
        .rev()
        .find(|(p, _)| &**p == prefix)
        .map_or_else(|| Arc::from(""), |(_, uri)| uri.clone());
    Ok((
        XElement {
            namespace,
            local: local.into(),
            written: written.as_str().into(),
            attributes,
            children: Vec::new(),
        },
        scope,
    ))
}

fn boxed(value: Native) -> Value {
    Value::Native(Arc::new(value))
}

fn element_value(element: &Arc<XElement>) -> Value {
    boxed(Native::XElement(element.clone()))
}

fn name_arg(args: &[Value], at: usize, method: &str) -> Result<Option<XName>, RunError> {
    match args.first() {
        None => Ok(None),
        Some(Value::Str(text)) => Ok(Some(XName::from_text(text))),
        Some(Value::Native(native)) => match &**native {
            Native::XName(name) => Ok(Some(name.clone())),
            _ => Err(RunError::failed(at, format!("{method} takes a name."))),
        },
        Some(_) => Err(RunError::failed(at, format!("{method} takes a name."))),
    }
}

/// `XDocument.Parse(text)`, `XElement.Parse(text)`, `XName.Get(local, namespace)`,
/// `XNamespace.Get(uri)` (a namespace, whose `GetName(local)` gives a name).
pub fn static_call(
    ty: &str,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    let text = |i: usize| match args.get(i) {
        Some(Value::Str(text)) => Ok(text.clone()),
        _ => Err(RunError::failed(at, format!("{ty}.{name} takes text."))),
    };
    Ok(Some(match (ty, name) {
        ("XDocument", "Parse") => {
            let root = parse(&text(0)?).map_err(|e| RunError::failed(at, e))?;
            boxed(Native::XDocument(root))
        }
        ("XElement", "Parse") => {
            let root = parse(&text(0)?).map_err(|e| RunError::failed(at, e))?;
            element_value(&root)
        }
        ("XName", "Get") => {
            let local = text(0)?;
            let namespace = if args.len() > 1 { text(1)? } else { "".into() };
            boxed(Native::XName(XName { namespace, local }))
        }
        ("XNamespace", "Get") => boxed(Native::XName(XName {
            namespace: text(0)?,
            local: "".into(),
        })),
        _ => return Ok(None),
    }))
}

/// `XNamespace ns = "uri"` (a namespace: a name with no local part) or `XName n = "{ns}a"`.
pub fn name_from_text(text: &str, namespace: bool) -> Value {
    boxed(Native::XName(if namespace {
        XName {
            namespace: text.into(),
            local: "".into(),
        }
    } else {
        XName::from_text(text)
    }))
}

/// `ns + "local"`, when `lhs` is a namespace (a name with no local part) and `rhs` text.
pub fn namespace_plus(lhs: &Value, rhs: &Value) -> Option<Value> {
    let (Value::Native(native), Value::Str(local)) = (lhs, rhs) else {
        return None;
    };
    match &**native {
        Native::XName(name) if name.local.is_empty() => Some(boxed(Native::XName(XName {
            namespace: name.namespace.clone(),
            local: local.clone(),
        }))),
        _ => None,
    }
}

/// A property of a document, an element, an attribute or a name.
pub fn property(native: &Native, name: &str) -> Option<Value> {
    Some(match (native, name) {
        (Native::XDocument(root), "Root") => element_value(root),
        (Native::XElement(element), "Name") => native_name(&element.namespace, &element.local),
        (Native::XElement(element), "Value") => Value::str(element.value().as_str()),
        (Native::XElement(element), "HasElements") => {
            Value::Bool(element.elements().next().is_some())
        }
        (Native::XElement(element), "HasAttributes") => Value::Bool(!element.attributes.is_empty()),
        (Native::XElement(element), "IsEmpty") => Value::Bool(element.children.is_empty()),
        (Native::XAttribute(_, value), "Value") => Value::Str(value.clone()),
        (Native::XAttribute(name, _), "Name") => {
            let parsed = XName::from_text(name);
            native_name(&parsed.namespace, &parsed.local)
        }
        (Native::XName(name), "LocalName") => Value::Str(name.local.clone()),
        (Native::XName(name), "NamespaceName") => Value::Str(name.namespace.clone()),
        _ => return None,
    })
}

fn native_name(namespace: &Arc<str>, local: &Arc<str>) -> Value {
    boxed(Native::XName(XName {
        namespace: namespace.clone(),
        local: local.clone(),
    }))
}

/// A method of a document, an element or a namespace.
pub fn method(
    native: &Native,
    name: &str,
    args: &[Value],
    at: usize,
) -> Result<Option<Value>, RunError> {
    let element = match native {
        Native::XDocument(root) => {
            // A document's elements are its root's siblings: the root alone.
            return Ok(match name {
                "Element" | "Elements" | "Descendants" => {
                    let wanted = name_arg(args, at, name)?;
                    let fits = wanted.as_ref().is_none_or(|n| root.matches(n));
                    let mut found: Vec<Value> = Vec::new();
                    if name == "Descendants" {
                        found = descendants(root, wanted.as_ref(), true);
                    } else if fits {
                        found.push(element_value(root));
                    }
                    if name == "Element" {
                        Some(found.into_iter().next().unwrap_or(Value::Null))
                    } else {
                        Some(Value::list(found))
                    }
                }
                "ToString" => Some(Value::str(write(root, args).as_str())),
                _ => None,
            });
        }
        Native::XElement(element) => element,
        Native::XName(name_of) if name == "GetName" => {
            let local = match args.first() {
                Some(Value::Str(text)) => text.clone(),
                _ => return Err(RunError::failed(at, "GetName takes a local name.")),
            };
            return Ok(Some(boxed(Native::XName(XName {
                namespace: name_of.namespace.clone(),
                local,
            }))));
        }
        Native::XName(name_of) if name == "ToString" => {
            return Ok(Some(Value::str(name_of.text().as_str())));
        }
        _ => return Ok(None),
    };
    Ok(Some(match name {
        "Element" => {
            let wanted = name_arg(args, at, name)?
                .ok_or_else(|| RunError::failed(at, "Element takes a name."))?;
            element
                .elements()
                .find(|child| child.matches(&wanted))
                .map_or(Value::Null, element_value)
        }
        "Elements" => {
            let wanted = name_arg(args, at, name)?;
            Value::list(
                element
                    .elements()
                    .filter(|child| wanted.as_ref().is_none_or(|n| child.matches(n)))
                    .map(element_value)
                    .collect(),
            )
        }
        "Descendants" => Value::list(descendants(
            element,
            name_arg(args, at, name)?.as_ref(),
            false,
        )),
        "Attribute" => {
            let wanted = match args.first() {
                Some(Value::Str(text)) => text.to_string(),
                Some(Value::Native(n)) => match &**n {
                    Native::XName(x) => x.text(),
                    _ => String::new(),
                },
                _ => return Err(RunError::failed(at, "Attribute takes a name.")),
            };
            element
                .attributes
                .iter()
                .find(|(n, _)| **n == *wanted)
                .map_or(Value::Null, |(n, v)| {
                    boxed(Native::XAttribute(n.clone(), v.clone()))
                })
        }
        "Attributes" => Value::list(
            element
                .attributes
                .iter()
                .map(|(n, v)| boxed(Native::XAttribute(n.clone(), v.clone())))
                .collect(),
        ),
        "ToString" => Value::str(write(element, args).as_str()),
        _ => return Ok(None),
    }))
}

/// `ToString()` indented, `ToString(SaveOptions.DisableFormatting)` on one line.
fn write(element: &XElement, args: &[Value]) -> String {
    // SaveOptions.DisableFormatting is 1.
    let one_line = args.first().is_some_and(|a| matches!(a, Value::Int(1)));
    let mut out = String::new();
    element.write(if one_line { None } else { Some(2) }, &mut out);
    out
}

/// Every element under `element` (and it too, for a document), in document order.
fn descendants(element: &Arc<XElement>, wanted: Option<&XName>, with_self: bool) -> Vec<Value> {
    let mut found = Vec::new();
    let mut pending: Vec<&Arc<XElement>> = if with_self {
        vec![element]
    } else {
        element.elements().rev().collect()
    };
    while let Some(current) = pending.pop() {
        if wanted.is_none_or(|n| current.matches(n)) {
            found.push(element_value(current));
        }
        pending.extend(current.elements().rev());
    }
    found
}

/// The text a value of these types writes (`ToString()`, string concatenation).
pub fn write_text(native: &Native, out: &mut String) -> bool {
    match native {
        Native::XDocument(root) | Native::XElement(root) => root.write(Some(2), out),
        Native::XAttribute(name, value) => {
            out.push_str(name);
            out.push_str("=\"");
            escape(value, true, out);
            out.push('"');
        }
        Native::XName(name) => out.push_str(&name.text()),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use crate::testing::eval;

    const SOAP: &str = r#"<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><GetOrder xmlns=\"http://tempuri.org/\"><id>7</id><note lang=\"en\">gift &amp; card</note></GetOrder></soap:Body></soap:Envelope>"#;

    fn doc(script: &str) -> String {
        eval(&format!("XDocument.Parse(\"{SOAP}\"){script}"))
    }

    #[test]
    fn reads_elements_attributes_and_names() {
        assert_eq!(doc(".Root.Name.LocalName"), "Envelope");
        assert_eq!(
            doc(".Root.Name.NamespaceName"),
            "http://schemas.xmlsoap.org/soap/envelope/"
        );
        assert_eq!(
            doc(".Descendants(\"{http://tempuri.org/}id\").First().Value"),
            "7"
        );
        assert_eq!(doc(".Descendants().Count()"), "5");
        assert_eq!(
            doc(".Root.Element(\"Body\") == null"),
            "True",
            "a name without namespace"
        );
        assert_eq!(
            doc(
                ".Root.Element(XName.Get(\"Body\", \"http://schemas.xmlsoap.org/soap/envelope/\")).Elements().First().Name.LocalName"
            ),
            "GetOrder"
        );
        assert_eq!(doc(".Root.Value"), "7gift & card");
        assert_eq!(
            doc(
                ".Descendants().First(e => e.Name.LocalName == \"note\").Attribute(\"lang\").Value"
            ),
            "en"
        );
        assert_eq!(doc(".Root.HasElements"), "True");
        assert_eq!(
            eval("XNamespace.Get(\"urn:x\").GetName(\"a\").ToString()"),
            "{urn:x}a"
        );
        assert_eq!(
            crate::testing::block(&format!(
                "XNamespace soap = \"http://schemas.xmlsoap.org/soap/envelope/\"; XNamespace t = \"http://tempuri.org/\"; var doc = XDocument.Parse(\"{SOAP}\"); return doc.Root.Element(soap + \"Body\").Element(t + \"GetOrder\").Element(t + \"id\").Value;"
            )),
            "7"
        );
    }

    #[test]
    fn writes_xml_back() {
        assert_eq!(
            eval("XElement.Parse(\"<a x='1'><b>t &lt; u</b><c/></a>\").ToString()"),
            "<a x=\"1\">\n  <b>t &lt; u</b>\n  <c />\n</a>"
        );
        assert_eq!(
            eval("XElement.Parse(\"<a><b>t</b></a>\").ToString(SaveOptions.DisableFormatting)"),
            "<a><b>t</b></a>"
        );
        // Mixed content keeps its text, on one line.
        assert_eq!(
            eval("XElement.Parse(\"<p>one <b>two</b> three</p>\").ToString()"),
            "<p>one <b>two</b> three</p>"
        );
    }

    #[test]
    fn bad_xml_fails_as_dotnet_throws() {
        for bad in ["<a>", "<a></b>", "text", "<a/><b/>"] {
            crate::testing::eval_err(&format!("XDocument.Parse(\"{bad}\")"));
        }
        let deep = "<a>".repeat(super::MAX_DEPTH + 1) + &"</a>".repeat(super::MAX_DEPTH + 1);
        let out = crate::testing::eval_err(&format!("XDocument.Parse(\"{deep}\")"));
        assert!(out.contains("deep"), "{out}");
    }
}
