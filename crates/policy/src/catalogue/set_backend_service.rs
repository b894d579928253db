//! `<set-backend-service base-url="https://other.example/api">`: sends the request to
//! another base URL (the path after the API suffix, or rewrite-uri's, is appended).

use super::{Compiler, Context, Flow, Outcome, Policy, Step, expression_failed};
use crate::error::Diagnostic;
use crate::expr::Template;
use crate::xml::Element;

#[derive(Debug)]
pub struct SetBackendService {
    base_url: Template,
}

/// Parses an absolute http(s) URL into a URI.
fn parse_base(text: &str) -> Result<http::Uri, String> {
    let uri: http::Uri = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a URL"))?;
    match (uri.scheme_str(), uri.authority()) {
        (Some("http" | "https"), Some(_)) => Ok(uri),
        _ => Err(format!("'{text}' is not an absolute http or https URL")),
    }
}

impl Policy for SetBackendService {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let text = self
            .base_url
            .render(&*cx.exchange)
            .map_err(|e| expression_failed("set-backend-service", e))?;
        let uri = parse_base(&text).map_err(|e| expression_failed("set-backend-service", e))?;
        cx.exchange.note(|| format!("backend {uri}"));
        cx.exchange.backend_base = Some(uri);
        Ok(Flow::Continue)
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["base-url", "backend-id"])?;
    cx.only_children(element, &[])?;
    if let Some(attribute) = element.attribute("backend-id") {
        return Err(cx.fault(
            attribute.offset,
            "backend-id is not supported yet; use base-url.",
        ));
    }
    let attribute = cx.required(element, "base-url")?;
    let base_url = cx.template(attribute)?;
    if let Template::Literal(text) = &base_url {
        parse_base(text).map_err(|e| cx.fault(attribute.offset, format!("{e}.")))?;
    }
    Ok(Step::Now(
        "set-backend-service",
        Box::new(SetBackendService { base_url }),
    ))
}
