//! `<xml-to-json kind="direct|javascript-friendly" apply="always|content-type-xml"
//! consider-accept-header="true" always-array-child-elements="false"/>` and
//! `<json-to-xml apply="always|content-type-json" consider-accept-header="true"
//! parse-date="true" namespace-separator=":" namespace-prefix="xmlns"
//! attribute-block-name="…"/>`: convert the body — the request's in inbound, the
//! response's in outbound and on-error — and set its `Content-Type` (see
//! [`crate::body_format`] for the shapes).
//!
//! With `consider-accept-header` (the default), the conversion happens only when the
//! caller's `Accept` asks for the target format. A body that does not parse is left as it
//! is (the trace says why): the caller then gets what the backend sent.

use super::{Compiler, Context, Flow, Outcome, Policy, Step};
use crate::body_format::{JsonToXmlOptions, XmlToJsonKind, json_to_xml, xml_to_json};
use crate::document::SectionKind;
use crate::error::Diagnostic;
use crate::expr::host::BodyUse;
use crate::xml::Element;
use bytes::Bytes;
use http::HeaderValue;
use http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    XmlToJson {
        kind: XmlToJsonKind,
        always_array: bool,
    },
    JsonToXml,
}

#[derive(Debug)]
pub struct ConvertBody {
    direction: Direction,
    /// `apply="content-type-…"`: only a body whose `Content-Type` is the source format.
    only_matching_type: bool,
    consider_accept_header: bool,
    json_to_xml: JsonToXmlOptions,
}

/// Whether a media type names XML (`application/xml`, `text/xml`, `…+xml`) or JSON.
fn is_type(content_type: &str, xml: bool) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if xml {
        essence.ends_with("/xml") || essence.ends_with("+xml")
    } else {
        essence.ends_with("/json") || essence.ends_with("+json")
    }
}

impl ConvertBody {
    fn name(&self) -> &'static str {
        match self.direction {
            Direction::XmlToJson { .. } => "xml-to-json",
            Direction::JsonToXml => "json-to-xml",
        }
    }
}

impl Policy for ConvertBody {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let to_json = matches!(self.direction, Direction::XmlToJson { .. });
        if self.consider_accept_header {
            let accepts = cx
                .exchange
                .request
                .headers
                .get_all(ACCEPT)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .any(|media| is_type(media, !to_json));
            if !accepts {
                cx.exchange
                    .note(|| "the caller's Accept does not ask for it: not converted".into());
                return Ok(Flow::Continue);
            }
        }
        let response = matches!(cx.section, SectionKind::Outbound | SectionKind::OnError);
        let (headers, body) = match (response, cx.exchange.response.as_mut()) {
            (true, Some(state)) => (&state.headers, state.body.clone()),
            (true, None) => return Ok(Flow::Continue),
            (false, _) => (
                &cx.exchange.request.headers,
                cx.exchange
                    .request_body
                    .clone()
                    .or_else(|| cx.exchange.caller_body.clone()),
            ),
        };
        if self.only_matching_type {
            let matching = headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| is_type(v, to_json));
            if !matching {
                cx.exchange.note(|| {
                    "the body's Content-Type is not the source format: not converted".into()
                });
                return Ok(Flow::Continue);
            }
        }
        let text = body
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let converted = match self.direction {
            Direction::XmlToJson { kind, always_array } => xml_to_json(&text, kind, always_array),
            Direction::JsonToXml => json_to_xml(&text, &self.json_to_xml),
        };
        let converted = match converted {
            Ok(converted) => converted,
            Err(fault) => {
                cx.exchange.note(|| format!("not converted: {fault}"));
                return Ok(Flow::Continue);
            }
        };
        let content_type = HeaderValue::from_static(if to_json {
            "application/json; charset=utf-8"
        } else {
            "application/xml; charset=utf-8"
        });
        let bytes = Bytes::from(converted);
        let size = bytes.len();
        if response {
            if let Some(state) = cx.exchange.response.as_mut() {
                state.headers.remove(CONTENT_LENGTH);
                state.headers.insert(CONTENT_TYPE, content_type);
                state.body = Some(bytes);
            }
        } else {
            cx.exchange.request.headers.remove(CONTENT_LENGTH);
            cx.exchange
                .request
                .headers
                .insert(CONTENT_TYPE, content_type);
            cx.exchange.request_body = Some(bytes);
        }
        let name = self.name();
        cx.exchange.note(|| format!("{name}: {size} bytes"));
        Ok(Flow::Continue)
    }
}

fn choice<'e>(
    cx: &Compiler<'_>,
    element: &'e Element,
    name: &str,
    allowed: &[&str],
    default: Option<&'e str>,
) -> Result<&'e str, Diagnostic> {
    let Some(attribute) = element.attribute(name) else {
        return default.ok_or_else(|| {
            cx.fault(
                element.offset,
                format!(
                    "<{}> needs {name} ({}).",
                    element.name,
                    allowed.join(" or ")
                ),
            )
        });
    };
    let value = cx.literal(attribute)?;
    if allowed.contains(&value) {
        Ok(value)
    } else {
        Err(cx.fault(
            attribute.offset,
            format!("{name} must be {}, not '{value}'.", allowed.join(" or ")),
        ))
    }
}

fn reads_body(cx: &Compiler<'_>) {
    let reads = match cx.section {
        SectionKind::Outbound | SectionKind::OnError => BodyUse {
            request: false,
            response: true,
        },
        SectionKind::Inbound | SectionKind::Backend => BodyUse {
            request: true,
            response: false,
        },
    };
    cx.reads_body.set(cx.reads_body.get().or(reads));
}

pub fn compile_xml_to_json(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(
        element,
        &[
            "kind",
            "apply",
            "consider-accept-header",
            "always-array-child-elements",
        ],
    )?;
    cx.only_children(element, &[])?;
    let kind = match choice(
        cx,
        element,
        "kind",
        &["direct", "javascript-friendly"],
        None,
    )? {
        "direct" => XmlToJsonKind::Direct,
        _ => XmlToJsonKind::JavascriptFriendly,
    };
    let apply = choice(cx, element, "apply", &["always", "content-type-xml"], None)?;
    reads_body(cx);
    Ok(Step::Now(
        "xml-to-json",
        Box::new(ConvertBody {
            direction: Direction::XmlToJson {
                kind,
                always_array: cx.boolean(element, "always-array-child-elements", false)?,
            },
            only_matching_type: apply == "content-type-xml",
            consider_accept_header: cx.boolean(element, "consider-accept-header", true)?,
            json_to_xml: JsonToXmlOptions {
                attribute_block_name: None,
            },
        }),
    ))
}

pub fn compile_json_to_xml(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(
        element,
        &[
            "apply",
            "consider-accept-header",
            "parse-date",
            "namespace-separator",
            "namespace-prefix",
            "attribute-block-name",
        ],
    )?;
    cx.only_children(element, &[])?;
    let apply = choice(cx, element, "apply", &["always", "content-type-json"], None)?;
    // Dates are written as the JSON has them (parse-date only changes their format in
    // APIM); namespaces are written as the names say.
    cx.boolean(element, "parse-date", true)?;
    for fixed in ["namespace-separator", "namespace-prefix"] {
        if let Some(attribute) = element.attribute(fixed) {
            cx.literal(attribute)?;
        }
    }
    let attribute_block_name = match element.attribute("attribute-block-name") {
        Some(attribute) => Some(cx.literal(attribute)?.to_owned()),
        None => None,
    };
    reads_body(cx);
    Ok(Step::Now(
        "json-to-xml",
        Box::new(ConvertBody {
            direction: Direction::JsonToXml,
            only_matching_type: apply == "content-type-json",
            consider_accept_header: cx.boolean(element, "consider-accept-header", true)?,
            json_to_xml: JsonToXmlOptions {
                attribute_block_name,
            },
        }),
    ))
}
