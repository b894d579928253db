//! Converting bodies between XML and JSON, as `xml-to-json` and `json-to-xml` do — in the
//! shapes .NET's Json.NET gives (APIM's gateway uses it): an element becomes a property
//! named after it, repeated elements an array, attributes `@name` properties, text beside
//! attributes or elements `#text`; the other way, a JSON document becomes the children of
//! one `<Document>` element, an array repeats its element, and a property named by
//! `attribute-block-name` holds the attributes of the element it stands in.
//!
//! Both read input of at most the body limit and refuse nesting deeper than
//! [`MAX_DEPTH`], so no input can make them recurse without bound.

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use serde_json::{Map, Value};

/// The deepest nesting either conversion accepts (elements, or JSON arrays and objects).
pub const MAX_DEPTH: usize = 128;

/// How `xml-to-json` names attributes and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlToJsonKind {
    /// Json.NET's form: `@attribute`, `#text`, the XML declaration as `?xml`.
    Direct,
    /// Plainer names for JavaScript: attributes without `@`, no declaration.
    JavascriptFriendly,
}

/// An element read from the XML, children in order.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Node>,
    text: String,
}

/// Reads `text` into a tree of elements (iteratively, nesting bounded).
fn read_xml(text: &str) -> Result<(Option<(String, String)>, Node), String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut declaration = None;
    // The open elements; the document root's parent stands at the bottom.
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("the body is not XML: {e}"))?;
        match event {
            Event::Decl(decl) => {
                let version = decl
                    .version()
                    .map(|v| String::from_utf8_lossy(&v).into_owned())
                    .unwrap_or_else(|_| "1.0".to_owned());
                let encoding = decl
                    .encoding()
                    .and_then(Result::ok)
                    .map(|e| String::from_utf8_lossy(&e).into_owned());
                declaration = Some((version, encoding.unwrap_or_default()));
            }
            Event::Start(start) | Event::Empty(start) if stack.len() > MAX_DEPTH => {
                let _ = start;
                return Err(format!("the XML nests deeper than {MAX_DEPTH} elements"));
            }
            Event::Start(start) => {
                stack.push(element(&start)?);
            }
            Event::Empty(start) => {
                let node = element(&start)?;
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(node);
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err("the XML closes an element it never opened".into());
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Err("the XML closes an element it never opened".into()),
                }
            }
            Event::Text(text) => {
                let text = text
                    .unescape()
                    .map_err(|e| format!("the body is not XML: {e}"))?;
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&text);
                }
            }
            Event::CData(data) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let [mut document] = <[Node; 1]>::try_from(stack)
        .map_err(|_| "the XML ends before its elements are closed".to_owned())?;
    match document.children.len() {
        1 => Ok((declaration, document.children.remove(0))),
        0 => Err("the body holds no XML element".into()),
        _ => Err("the XML has more than one root element".into()),
    }
}

fn element(start: &quick_xml::events::BytesStart<'_>) -> Result<Node, String> {
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| format!("the body is not XML: {e}"))?;
        let value = attribute
            .unescape_value()
            .map_err(|e| format!("the body is not XML: {e}"))?;
        attributes.push((
            String::from_utf8_lossy(attribute.key.as_ref()).into_owned(),
            value.into_owned(),
        ));
    }
    Ok(Node {
        name: String::from_utf8_lossy(start.name().as_ref()).into_owned(),
        attributes,
        children: Vec::new(),
        text: String::new(),
    })
}

/// One element's value: its text alone, `null` when empty, else an object of its
/// attributes, children (repeated names as arrays) and text.
fn node_value(node: &Node, kind: XmlToJsonKind, always_array: bool) -> Value {
    if node.attributes.is_empty() && node.children.is_empty() {
        return if node.text.is_empty() {
            Value::Null
        } else {
            Value::String(node.text.clone())
        };
    }
    let mut object = Map::new();
    for (name, value) in &node.attributes {
        let key = match kind {
            XmlToJsonKind::Direct => format!("@{name}"),
            XmlToJsonKind::JavascriptFriendly => name.clone(),
        };
        object.insert(key, Value::String(value.clone()));
    }
    let mut names: Vec<&str> = Vec::new();
    for child in &node.children {
        if !names.contains(&child.name.as_str()) {
            names.push(&child.name);
        }
    }
    for name in names {
        let values: Vec<Value> = node
            .children
            .iter()
            .filter(|c| c.name == name)
            .map(|c| node_value(c, kind, always_array))
            .collect();
        let value = match <[Value; 1]>::try_from(values) {
            Ok([single]) if !always_array => single,
            Ok([single]) => Value::Array(vec![single]),
            Err(many) => Value::Array(many),
        };
        object.insert(name.to_owned(), value);
    }
    if !node.text.is_empty() {
        object.insert("#text".to_owned(), Value::String(node.text.clone()));
    }
    Value::Object(object)
}

/// `xml-to-json`: the XML text as JSON text.
pub fn xml_to_json(text: &str, kind: XmlToJsonKind, always_array: bool) -> Result<String, String> {
    let (declaration, root) = read_xml(text)?;
    let mut object = Map::new();
    if let (Some((version, encoding)), XmlToJsonKind::Direct) = (declaration, kind) {
        let mut decl = Map::new();
        decl.insert("@version".into(), Value::String(version));
        if !encoding.is_empty() {
            decl.insert("@encoding".into(), Value::String(encoding));
        }
        object.insert("?xml".into(), Value::Object(decl));
    }
    object.insert(root.name.clone(), node_value(&root, kind, always_array));
    serde_json::to_string(&Value::Object(object)).map_err(|e| e.to_string())
}

/// How `json-to-xml` writes what JSON cannot say directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonToXmlOptions {
    /// A property with this name holds the attributes of the element it stands in.
    pub attribute_block_name: Option<String>,
}

/// `json-to-xml`: the JSON text as XML text, inside `<Document>`.
pub fn json_to_xml(text: &str, options: &JsonToXmlOptions) -> Result<String, String> {
    // serde_json refuses nesting deeper than 128 on its own.
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("the body is not JSON: {e}"))?;
    let mut out = String::with_capacity(text.len() * 2);
    out.push_str("<Document>");
    match &value {
        Value::Object(object) => write_members(&mut out, object, options, 1)?,
        other => write_element(&mut out, "Value", other, options, 1)?,
    }
    out.push_str("</Document>");
    Ok(out)
}

fn write_members(
    out: &mut String,
    object: &Map<String, Value>,
    options: &JsonToXmlOptions,
    depth: usize,
) -> Result<(), String> {
    for (name, value) in object {
        if options.attribute_block_name.as_deref() == Some(name.as_str()) {
            continue;
        }
        match value {
            Value::Array(items) => {
                for item in items {
                    write_element(out, name, item, options, depth)?;
                }
            }
            other => write_element(out, name, other, options, depth)?,
        }
    }
    Ok(())
}

fn write_element(
    out: &mut String,
    name: &str,
    value: &Value,
    options: &JsonToXmlOptions,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("the JSON nests deeper than {MAX_DEPTH} levels"));
    }
    let name = xml_name(name);
    out.push('<');
    out.push_str(&name);
    if let (Value::Object(object), Some(block)) = (value, &options.attribute_block_name)
        && let Some(Value::Object(attributes)) = object.get(block)
    {
        for (attribute, attribute_value) in attributes {
            out.push(' ');
            out.push_str(&xml_name(attribute));
            out.push_str("=\"");
            out.push_str(&escape(&scalar_text(attribute_value)));
            out.push('"');
        }
    }
    match value {
        Value::Null => {
            out.push_str(" />");
            return Ok(());
        }
        Value::Object(object) => {
            out.push('>');
            write_members(out, object, options, depth + 1)?;
        }
        Value::Array(items) => {
            out.push('>');
            for item in items {
                write_element(out, "Item", item, options, depth + 1)?;
            }
        }
        scalar => {
            out.push('>');
            out.push_str(&escape(&scalar_text(scalar)));
        }
    }
    out.push_str("</");
    out.push_str(&name);
    out.push('>');
    Ok(())
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A JSON name as an XML name, as .NET's `XmlConvert.EncodeName` writes one: every
/// character a name cannot hold as `_xHHHH_`.
fn xml_name(name: &str) -> String {
    if name.is_empty() {
        return "_x0000_".to_owned();
    }
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        let allowed = c.is_alphanumeric() || c == '_' || (i > 0 && matches!(c, '-' | '.' | ':'));
        let starts_badly = i == 0 && c.is_ascii_digit();
        if allowed && !starts_badly {
            out.push(c);
        } else {
            out.push_str(&format!("_x{:04X}_", u32::from(c)));
        }
    }
    out
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    portcullis_script::xml_lib::escape(text, true, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_becomes_json_as_json_net_writes_it() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?><order id="7"><item sku="a">2</item><item sku="b">1</item><note>gift</note><empty/></order>"#;
        let json: Value =
            serde_json::from_str(&xml_to_json(xml, XmlToJsonKind::Direct, false).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "?xml": { "@version": "1.0", "@encoding": "utf-8" },
                "order": {
                    "@id": "7",
                    "item": [ { "@sku": "a", "#text": "2" }, { "@sku": "b", "#text": "1" } ],
                    "note": "gift",
                    "empty": null
                }
            })
        );
        let friendly: Value = serde_json::from_str(
            &xml_to_json(xml, XmlToJsonKind::JavascriptFriendly, true).unwrap(),
        )
        .unwrap();
        assert_eq!(friendly["order"]["id"], "7");
        assert_eq!(friendly["order"]["note"], serde_json::json!(["gift"]));
        assert!(friendly.get("?xml").is_none());
    }

    #[test]
    fn json_becomes_xml_inside_a_document_element() {
        let options = JsonToXmlOptions {
            attribute_block_name: Some("#attrs".into()),
        };
        let xml = json_to_xml(
            r##"{"order":{"#attrs":{"id":7},"item":["a","b"],"note":"fish & chips","gone":null,"2nd":true}}"##,
            &options,
        )
        .unwrap();
        assert_eq!(
            xml,
            "<Document><order id=\"7\"><item>a</item><item>b</item><note>fish &amp; chips</note><gone /><_x0032_nd>true</_x0032_nd></order></Document>"
        );
    }

    #[test]
    fn bad_and_deep_inputs_are_refused_not_recursed_into() {
        assert!(xml_to_json("not xml <", XmlToJsonKind::Direct, false).is_err());
        assert!(xml_to_json("<a><b></a>", XmlToJsonKind::Direct, false).is_err());
        let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
        let fault = xml_to_json(&deep, XmlToJsonKind::Direct, false).unwrap_err();
        assert!(fault.contains("deeper than 128"), "{fault}");
        let options = JsonToXmlOptions {
            attribute_block_name: None,
        };
        assert!(json_to_xml("{", &options).is_err());
        let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(json_to_xml(&deep_json, &options).is_err());
    }
}
