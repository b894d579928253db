//! `<set-backend-service base-url="https://other.example/api">` sends the request to another
//! base URL (the path after the API suffix, or rewrite-uri's, is appended);
//! `<set-backend-service backend-id="payments"/>` sends it to one of the service's backends —
//! its URL with its credentials, or a member of its pool — which the gateway resolves when it
//! forwards.
//!
//! One of the two attributes, either may be an expression. A literal `backend-id` must name a
//! backend of the service when the document is saved.

use super::{Compiler, Context, Flow, Outcome, Policy, Step, expression_failed};
use crate::error::Diagnostic;
use crate::exchange::BackendBase;
use crate::expr::Template;
use crate::xml::Element;
use std::sync::Arc;

#[derive(Debug)]
enum Target {
    BaseUrl(Template),
    BackendId(Template),
}

#[derive(Debug)]
pub struct SetBackendService {
    target: Target,
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
        let failed = |e| expression_failed("set-backend-service", e);
        let base = match &self.target {
            Target::BaseUrl(template) => {
                let text = template.render(&*cx.exchange).map_err(failed)?;
                BackendBase::Url(parse_base(&text).map_err(failed)?)
            }
            Target::BackendId(template) => {
                let id = template.render(&*cx.exchange).map_err(failed)?;
                if id.trim().is_empty() {
                    return Err(failed("the backend-id is empty".into()));
                }
                BackendBase::Backend(Arc::from(id.trim()))
            }
        };
        cx.exchange.note(|| match &base {
            BackendBase::Url(uri) => format!("backend {uri}"),
            BackendBase::Backend(id) => format!("backend '{id}'"),
        });
        cx.exchange.backend_base = Some(base);
        Ok(Flow::Continue)
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["base-url", "backend-id"])?;
    cx.only_children(element, &[])?;
    let target = match (
        element.attribute("base-url"),
        element.attribute("backend-id"),
    ) {
        (Some(_), Some(second)) => {
            return Err(cx.fault(second.offset, "Give base-url or backend-id, not both."));
        }
        (Some(attribute), None) => {
            let base_url = cx.template(attribute)?;
            if let Template::Literal(text) = &base_url {
                parse_base(text).map_err(|e| cx.fault(attribute.offset, format!("{e}.")))?;
            }
            Target::BaseUrl(base_url)
        }
        (None, Some(attribute)) => {
            let id = cx.template(attribute)?;
            if let Template::Literal(text) = &id
                && !cx.library.has_backend(text.trim())
            {
                return Err(cx.fault(
                    attribute.offset,
                    format!("The service has no backend '{}'.", text.trim()),
                ));
            }
            Target::BackendId(id)
        }
        (None, None) => {
            return Err(cx.fault(
                element.offset,
                "set-backend-service needs base-url or backend-id.",
            ));
        }
    };
    Ok(Step::Now(
        "set-backend-service",
        Box::new(SetBackendService { target }),
    ))
}

/// The backend ids `text` (a policy document or fragment) names in literal `backend-id`
/// attributes, so the store can refuse to delete a backend a policy uses.
pub fn named_backends(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("backend-id") {
        rest = &rest[at + "backend-id".len()..];
        let after = rest.trim_start();
        let Some(after) = after.strip_prefix('=') else {
            continue;
        };
        let after = after.trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let value = &after[1..];
        if let Some(end) = value.find(quote) {
            let id = value[..end].trim();
            if !id.is_empty() && !id.starts_with('@') && !names.iter().any(|n| n == id) {
                names.push(id.to_owned());
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::named_backends;

    #[test]
    fn finds_literal_backend_ids() {
        let text = r#"<policies><inbound><set-backend-service backend-id="pay" />
            <set-backend-service backend-id = 'pool-1'/><set-backend-service backend-id="@(context.Variables["b"])"/>
            <set-backend-service backend-id="pay"/></inbound></policies>"#;
        assert_eq!(named_backends(text), ["pay", "pool-1"]);
    }
}
