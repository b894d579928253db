//! The per-API and per-operation limits that `rate-limit` and `quota` may hold:
//!
//! ```xml
//! <rate-limit calls="20" renewal-period="90">
//!     <api name="orders" calls="10" renewal-period="60">
//!         <operation name="create-order" calls="5" renewal-period="60" />
//!     </api>
//! </rate-limit>
//! ```
//!
//! Each limit applies to the calls of its API (or operation) and is counted per subscription
//! under a key of its own; a call counts against the policy's own limit and every nested
//! limit it falls under, outermost first, and the first limit that refuses stops it (the
//! limits before it have counted the call, as policies at two scopes do).
//! An `<api>` or `<operation>` names what it applies to by `name` or `id` (both are the
//! identifier in Portcullis, where an API's name is its id).

use super::Compiler;
use crate::error::Diagnostic;
use crate::exchange::Matched;
use crate::xml::Element;

/// One nested limit, flattened: the API it applies to, the operation (if it is an
/// `<operation>`), and what its attributes say.
#[derive(Debug)]
pub struct NestedLimit {
    pub api: String,
    pub operation: Option<String>,
    /// A short name for keys and traces: `api:orders` or `api:orders/op:create`.
    pub label: String,
    pub element: ElementLimits,
}

/// The numbers an `<api>` or `<operation>` element gives.
#[derive(Debug, Clone, Copy)]
pub struct ElementLimits {
    pub calls: Option<u64>,
    pub bandwidth_kb: Option<u64>,
    pub renewal_period: u64,
}

impl NestedLimit {
    pub fn applies_to(&self, matched: &Matched) -> bool {
        *self.api == *matched.api
            && self
                .operation
                .as_deref()
                .is_none_or(|op| op == &*matched.operation)
    }
}

/// What the host policy allows in its nested elements.
pub struct Rules {
    /// `quota` counts bandwidth too; `rate-limit` calls only.
    pub bandwidth: bool,
    pub periods: std::ops::RangeInclusive<u64>,
}

/// Reads the `<api>` children of `element` and their `<operation>` children.
pub fn compile(
    element: &Element,
    cx: &mut Compiler<'_>,
    rules: &Rules,
) -> Result<Vec<NestedLimit>, Diagnostic> {
    cx.only_children(element, &["api"])?;
    let mut limits = Vec::new();
    for api in &element.children {
        let api_name = target(api, cx)?;
        cx.only_children(api, &["operation"])?;
        // An `<api>` may only group operations, with no limit of its own.
        let groups_only = !api.children.is_empty()
            && ["calls", "bandwidth", "renewal-period"]
                .iter()
                .all(|name| api.attribute(name).is_none());
        if groups_only {
            cx.only_attributes(api, &["name", "id"])?;
        } else {
            limits.push(NestedLimit {
                label: format!("api:{api_name}"),
                api: api_name.clone(),
                operation: None,
                element: numbers(api, cx, rules)?,
            });
        }
        for operation in &api.children {
            cx.only_children(operation, &[])?;
            let operation_name = target(operation, cx)?;
            limits.push(NestedLimit {
                label: format!("api:{api_name}/op:{operation_name}"),
                api: api_name.clone(),
                operation: Some(operation_name),
                element: numbers(operation, cx, rules)?,
            });
        }
    }
    Ok(limits)
}

/// `name` or `id` (the same here; `id` wins when both are given).
fn target(element: &Element, cx: &Compiler<'_>) -> Result<String, Diagnostic> {
    let named = element
        .attribute("id")
        .or_else(|| element.attribute("name"));
    match named {
        Some(attribute) => {
            let value = cx.literal(attribute)?;
            if value.is_empty() {
                return Err(cx.fault(
                    attribute.offset,
                    format!(
                        "<{}> names an API or operation; this one is empty.",
                        element.name
                    ),
                ));
            }
            Ok(value.to_owned())
        }
        None => Err(cx.fault(
            element.offset,
            format!(
                "<{}> needs a name or an id: the one it limits.",
                element.name
            ),
        )),
    }
}

fn numbers(
    element: &Element,
    cx: &mut Compiler<'_>,
    rules: &Rules,
) -> Result<ElementLimits, Diagnostic> {
    let mut allowed = vec!["name", "id", "calls", "renewal-period"];
    if rules.bandwidth {
        allowed.push("bandwidth");
    }
    cx.only_attributes(element, &allowed)?;
    let calls = cx.optional_number(element, "calls", 1..=u64::from(u32::MAX))?;
    let bandwidth_kb = if rules.bandwidth {
        cx.optional_number(element, "bandwidth", 1..=u64::from(u32::MAX))?
    } else {
        None
    };
    if calls.is_none() && bandwidth_kb.is_none() {
        let what = if rules.bandwidth {
            "calls or bandwidth (or both)"
        } else {
            "calls"
        };
        return Err(cx.fault(element.offset, format!("<{}> needs {what}.", element.name)));
    }
    let renewal_period = cx.number(
        cx.required(element, "renewal-period")?,
        rules.periods.clone(),
    )?;
    Ok(ElementLimits {
        calls,
        bandwidth_kb,
        renewal_period,
    })
}
