//! `<rewrite-uri template="/v2/{id}?view={view}" copy-unmatched-params="true">`: replaces
//! the path after the web service URL. `{name}` takes the operation's matched parameter;
//! query parameters of the caller that the operation did not match are kept unless
//! `copy-unmatched-params="false"`.

use super::{Compiler, Context, Flow, Outcome, Policy, Step, expression_failed};
use crate::error::Diagnostic;
use crate::exchange::BackendQuery;
use crate::expr::Template;
use crate::xml::Element;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// Characters a substituted path parameter must not carry raw.
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

#[derive(Debug)]
pub struct RewriteUri {
    template: Template,
    copy_unmatched: bool,
}

/// Replaces `{name}` with the matched parameter's value (encoded for a path when `in_path`).
fn substitute(
    template: &str,
    parameters: &[(String, String)],
    in_path: bool,
) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or("a { in the template is never closed")?;
        let name = after[..close].trim_start_matches('*');
        let value = parameters
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| format!("the operation has no parameter {{{name}}}"))?;
        if in_path {
            out.extend(utf8_percent_encode(value, PATH_SEGMENT));
        } else {
            out.push_str(value);
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl Policy for RewriteUri {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let template = self
            .template
            .render(&*cx.exchange)
            .map_err(|e| expression_failed("rewrite-uri", e))?;
        let (path, query) = template.split_once('?').unwrap_or((&template, ""));
        let parameters = &cx.exchange.matched_parameters;
        let mut path =
            substitute(path, parameters, true).map_err(|e| expression_failed("rewrite-uri", e))?;
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        let mut pairs = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = substitute(value, parameters, false)
                .map_err(|e| expression_failed("rewrite-uri", e))?;
            pairs.push((name.to_owned(), value));
        }
        if self.copy_unmatched {
            let original = std::mem::replace(
                &mut cx.exchange.backend_query,
                BackendQuery::Edited(Vec::new()),
            );
            let mut original = original;
            for (name, value) in original.pairs_mut().drain(..) {
                let matched = cx
                    .exchange
                    .matched_parameters
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(&name));
                let in_template = pairs.iter().any(|(n, _)| *n == name);
                if !matched && !in_template {
                    pairs.push((name, value));
                }
            }
        }
        cx.exchange.backend_query = BackendQuery::Edited(pairs);
        cx.exchange.note(|| format!("backend path {path}"));
        cx.exchange.backend_path = Some(path);
        Ok(Flow::Continue)
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["template", "copy-unmatched-params"])?;
    cx.only_children(element, &[])?;
    let attribute = cx.required(element, "template")?;
    let template = cx.template(attribute)?;
    if let Template::Literal(text) = &template {
        let opens = text.matches('{').count();
        let closes = text.matches('}').count();
        if opens != closes {
            return Err(cx.fault(attribute.offset, "the template's { and } do not pair up."));
        }
        if text.trim().is_empty() {
            return Err(cx.fault(attribute.offset, "the template must not be empty."));
        }
    }
    Ok(Step::Now(
        "rewrite-uri",
        Box::new(RewriteUri {
            template,
            copy_unmatched: cx.boolean(element, "copy-unmatched-params", true)?,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_and_encodes_path_parameters() {
        let parameters = vec![("id".to_owned(), "a b/c".to_owned())];
        assert_eq!(
            substitute("/v2/{id}", &parameters, true).unwrap(),
            "/v2/a%20b%2Fc"
        );
        assert_eq!(substitute("{ID}", &parameters, false).unwrap(), "a b/c");
        assert!(substitute("/{missing}", &parameters, true).is_err());
    }
}
