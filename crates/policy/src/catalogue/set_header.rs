//! `<set-header name exists-action="override|skip|append|delete">` with `<value>`s: sets a
//! request header (inbound, backend) or a response header (outbound, on-error). Several
//! values are joined with commas, as APIM does.

use super::{Compiler, Context, Flow, Outcome, Policy, Step, expression_failed};
use crate::error::Diagnostic;
use crate::expr::Template;
use crate::xml::Element;
use http::{HeaderName, HeaderValue};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExistsAction {
    Override,
    Skip,
    Append,
    Delete,
}

/// Headers that describe the connection or the framing; the gateway owns them.
const PROTECTED: [&str; 5] = [
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "host",
];

#[derive(Debug)]
pub struct SetHeader {
    name: HeaderName,
    action: ExistsAction,
    values: Vec<Template>,
}

/// Reads `exists-action` and the `<value>` children shared by set-header and
/// set-query-parameter.
pub(super) fn action_and_values(
    cx: &Compiler<'_>,
    element: &Element,
) -> Result<(ExistsAction, Vec<Template>), Diagnostic> {
    cx.only_children(element, &["value"])?;
    let action = match element.attribute("exists-action") {
        None => ExistsAction::Override,
        Some(attribute) => match cx.literal(attribute)? {
            "override" => ExistsAction::Override,
            "skip" => ExistsAction::Skip,
            "append" => ExistsAction::Append,
            "delete" => ExistsAction::Delete,
            other => {
                return Err(cx.fault(
                    attribute.offset,
                    format!(
                        "exists-action must be override, skip, append or delete, not '{other}'."
                    ),
                ));
            }
        },
    };
    let mut values = Vec::new();
    for value in element.children_named("value") {
        cx.only_attributes(value, &[])?;
        values.push(
            cx.text_template(value)?
                .unwrap_or(Template::Literal("".into())),
        );
    }
    if values.is_empty() && action != ExistsAction::Delete {
        return Err(cx.fault(
            element.offset,
            format!(
                "<{}> needs at least one <value> unless exists-action is delete.",
                element.name
            ),
        ));
    }
    Ok((action, values))
}

impl SetHeader {
    /// Evaluates the values against the request.
    pub(super) fn render(
        &self,
        env: &dyn crate::expr::Env,
    ) -> Result<Vec<HeaderValue>, crate::Rejection> {
        let mut rendered = Vec::with_capacity(self.values.len());
        for value in &self.values {
            let text = value
                .render(env)
                .map_err(|e| expression_failed("set-header", e))?;
            rendered.push(HeaderValue::from_str(&text).map_err(|_| {
                expression_failed("set-header", format!("'{text}' cannot be a header value"))
            })?);
        }
        Ok(rendered)
    }

    /// Writes rendered values into `headers` as `exists-action` says.
    pub(super) fn write(&self, headers: &mut http::HeaderMap, rendered: Vec<HeaderValue>) {
        match self.action {
            ExistsAction::Delete => {
                headers.remove(&self.name);
            }
            ExistsAction::Skip if headers.contains_key(&self.name) => {}
            ExistsAction::Append => {
                for value in rendered {
                    headers.append(self.name.clone(), value);
                }
            }
            ExistsAction::Override | ExistsAction::Skip => {
                headers.remove(&self.name);
                if let Some(value) = join(rendered) {
                    headers.insert(self.name.clone(), value);
                }
            }
        }
    }
}

impl Policy for SetHeader {
    fn apply(&self, cx: &mut Context<'_>) -> Outcome {
        let rendered = self.render(&*cx.exchange)?;
        let on_response = cx.exchange.response.is_some()
            && matches!(
                cx.section,
                crate::document::SectionKind::Outbound | crate::document::SectionKind::OnError
            );
        cx.exchange.note(|| {
            let target = if on_response { "response" } else { "request" };
            let values: Vec<&str> = rendered.iter().filter_map(|v| v.to_str().ok()).collect();
            match self.action {
                ExistsAction::Delete => format!("{target} header {} deleted", self.name),
                _ => format!("{target} header {}: {}", self.name, values.join(",")),
            }
        });
        self.write(cx.target_headers(), rendered);
        Ok(Flow::Continue)
    }
}

fn join(values: Vec<HeaderValue>) -> Option<HeaderValue> {
    if values.len() <= 1 {
        return values.into_iter().next();
    }
    let mut joined = Vec::new();
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            joined.push(b',');
        }
        joined.extend_from_slice(value.as_bytes());
    }
    HeaderValue::from_bytes(&joined).ok()
}

pub(super) fn compile_header(
    element: &Element,
    cx: &mut Compiler<'_>,
) -> Result<SetHeader, Diagnostic> {
    cx.only_attributes(element, &["name", "exists-action"])?;
    let name_attribute = cx.required(element, "name")?;
    let name = cx.header_name(name_attribute)?;
    if PROTECTED.contains(&name.as_str()) {
        return Err(cx.fault(
            name_attribute.offset,
            format!("the {name} header cannot be changed by a policy."),
        ));
    }
    let (action, values) = action_and_values(cx, element)?;
    Ok(SetHeader {
        name,
        action,
        values,
    })
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    Ok(Step::Now(
        "set-header",
        Box::new(compile_header(element, cx)?),
    ))
}
