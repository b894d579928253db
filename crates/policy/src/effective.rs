//! The effective policy of an operation: one document with every `<base/>` replaced by the
//! parent scope's section, as the portal's **Calculate effective policy** shows it.

use crate::document::{PolicyDocument, ScopeKind, SectionKind};
use crate::xml::Element;
use std::fmt::Write;

/// Writes the merged document for `chain` (innermost first, global last). Comments mark
/// where each scope's policies begin.
pub fn effective_xml(chain: &[&PolicyDocument]) -> String {
    let mut out = String::from("<policies>\n");
    for kind in SectionKind::ALL {
        let mut body = String::new();
        write_section(chain, 0, kind, &mut body);
        if body.is_empty() {
            let _ = writeln!(out, "  <{} />", kind.name());
        } else {
            let _ = writeln!(out, "  <{}>\n{body}  </{}>", kind.name(), kind.name());
        }
    }
    out.push_str("</policies>\n");
    out
}

/// What a document holds in a section: its written children, or the default.
enum Content<'d> {
    Written(&'d [Element]),
    Inherit,
    Forward,
    Nothing,
}

fn content(doc: &PolicyDocument, kind: SectionKind) -> Content<'_> {
    if let Some(tree) = &doc.tree
        && let Some(section) = tree.child(kind.name())
    {
        return Content::Written(&section.children);
    }
    match (doc.scope, kind) {
        (ScopeKind::Global, SectionKind::Backend) => Content::Forward,
        (ScopeKind::Global, _) => Content::Nothing,
        _ => Content::Inherit,
    }
}

fn write_section(chain: &[&PolicyDocument], level: usize, kind: SectionKind, out: &mut String) {
    let Some(doc) = chain.get(level) else {
        return;
    };
    match content(doc, kind) {
        Content::Inherit => write_section(chain, level + 1, kind, out),
        Content::Forward => {
            let _ = writeln!(out, "    <!-- {} -->", doc.label);
            out.push_str("    <forward-request />\n");
        }
        Content::Nothing => {}
        Content::Written(children) => {
            // A comment names the scope before each run of its own policies.
            let mut announce = true;
            for child in children {
                if child.name == "base" {
                    if doc.scope != ScopeKind::Global {
                        write_section(chain, level + 1, kind, out);
                        announce = true;
                    }
                    continue;
                }
                if announce {
                    let _ = writeln!(out, "    <!-- {} -->", doc.label);
                    announce = false;
                }
                write_element(child, 2, out);
            }
        }
    }
}

fn escape_attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

fn escape_text(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes an element back as XML, indented by `depth` levels of two spaces.
pub fn write_element(element: &Element, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    let _ = write!(out, "{indent}<{}", element.name);
    for attribute in &element.attributes {
        let _ = write!(
            out,
            " {}=\"{}\"",
            attribute.name,
            escape_attribute(&attribute.value)
        );
    }
    let text = element.text_value();
    if element.children.is_empty() && text.is_empty() {
        out.push_str(" />\n");
        return;
    }
    out.push('>');
    if element.children.is_empty() {
        let _ = writeln!(out, "{}</{}>", escape_text(text), element.name);
        return;
    }
    out.push('\n');
    if !text.is_empty() {
        let _ = writeln!(out, "{indent}  {}", escape_text(text));
    }
    for child in &element.children {
        write_element(child, depth + 1, out);
    }
    let _ = writeln!(out, "{indent}</{}>", element.name);
}
