//! `<include-fragment fragment-id="…"/>`: the policies of one of the service's policy
//! fragments, in place. The fragment is compiled where it is included — in that section
//! and scope, so a fragment that holds `forward-request` fits in `<backend>` only — and its
//! faults are reported at the `include-fragment` with their place inside the fragment. A
//! fragment cannot include another, so inclusion never recurses.

use super::{Compiler, Context, Step, WaitingOutcome, WaitingPolicy};
use crate::engine::run_block;
use crate::error::Diagnostic;
use crate::xml::Element;

#[derive(Debug)]
pub struct IncludeFragment {
    id: Box<str>,
    steps: Vec<Step>,
}

impl WaitingPolicy for IncludeFragment {
    fn apply<'a>(&'a self, cx: &'a mut Context<'_>) -> WaitingOutcome<'a> {
        Box::pin(async move {
            cx.exchange.note(|| format!("fragment {}", self.id));
            run_block(&self.steps, cx).await
        })
    }
}

pub fn compile(element: &Element, cx: &mut Compiler<'_>) -> Result<Step, Diagnostic> {
    cx.only_attributes(element, &["fragment-id"])?;
    cx.only_children(element, &[])?;
    let attribute = cx.required(element, "fragment-id")?;
    let id = cx.literal(attribute)?;
    if cx.in_fragment {
        return Err(cx.fault(
            element.offset,
            "a policy fragment cannot include another policy fragment.",
        ));
    }
    let Some(text) = cx.library.fragment(id) else {
        return Err(cx.fault(
            attribute.offset,
            format!("there is no policy fragment '{id}' in this service."),
        ));
    };
    let steps = cx.fragment_steps(id, text, element.offset)?;
    Ok(Step::Wait(
        "include-fragment",
        Box::new(IncludeFragment {
            id: id.into(),
            steps,
        }),
    ))
}

/// The ids of the fragments `text` includes (for "in use" checks); empty when the text is
/// not a well-formed document.
pub fn included_fragments(text: &str) -> Vec<String> {
    let Ok(root) = crate::xml::parse_with(text, &()) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut pending = vec![&root];
    while let Some(element) = pending.pop() {
        if element.name == "include-fragment"
            && let Some(id) = element.attribute("fragment-id")
        {
            found.push(id.value.trim().to_owned());
        }
        pending.extend(element.children.iter());
    }
    found.sort();
    found.dedup();
    found
}

/// Checks a fragment on its own, as it is saved: well-formed, `<fragment>` at the root,
/// every child a policy Portcullis knows, no `include-fragment` inside, and its policies
/// valid in at least one section and scope. Where it is included decides the rest.
pub fn check_fragment(
    text: &str,
    named: &dyn crate::policy_text::NamedValues,
) -> Result<(), crate::Diagnostics> {
    if text.len() > crate::document::MAX_DOCUMENT_LEN {
        return Err(Diagnostic::at(text, 0, "a policy fragment has at most 256 KiB.").into());
    }
    let root = crate::xml::parse_with(text, named)?;
    if root.name != "fragment" {
        return Err(Diagnostic::at(
            text,
            root.offset,
            format!("the root element must be <fragment>, not <{}>.", root.name),
        )
        .into());
    }
    let mut faults = Vec::new();
    let mut pending: Vec<&Element> = root.children.iter().collect();
    while let Some(element) = pending.pop() {
        if element.name == "include-fragment" {
            faults.push(Diagnostic::at(
                text,
                element.offset,
                "a policy fragment cannot include another policy fragment.",
            ));
        }
        pending.extend(element.children.iter());
    }
    // Children of policies (set-url, value, when…) are checked where the fragment is
    // included; the fragment's own children must be policies.
    for element in &root.children {
        if !super::is_policy_name(&element.name) {
            faults.push(Diagnostic::at(
                text,
                element.offset,
                format!("<{}> is not a policy Portcullis knows.", element.name),
            ));
        }
    }
    if !faults.is_empty() {
        faults.sort_by_key(|d| (d.line, d.column));
        return Err(crate::Diagnostics(faults));
    }
    // Its policies must be right somewhere: compiled as if included in each section at each
    // scope, the fragment is kept if one place takes it, and refused with the faults of the
    // place that found the fewest (a bad attribute is a fault everywhere).
    let mut fewest: Option<crate::Diagnostics> = None;
    for scope in [
        crate::ScopeKind::Api,
        crate::ScopeKind::Operation,
        crate::ScopeKind::Product,
        crate::ScopeKind::Global,
    ] {
        for section in crate::document::SectionKind::ALL {
            let mut compiler = Compiler::new(text, scope, "fragment").with_service(named, &());
            compiler.section = section;
            compiler.in_fragment = true;
            let _ = compiler.block(&root);
            match compiler.finish() {
                Ok(()) => return Ok(()),
                Err(found) => {
                    if fewest.as_ref().is_none_or(|f| found.0.len() < f.0.len()) {
                        fewest = Some(found);
                    }
                }
            }
        }
    }
    match fewest {
        Some(faults) => Err(faults),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{PolicyDocument, ScopeKind, SectionKind};
    use std::collections::BTreeMap;

    fn fragments() -> BTreeMap<String, String> {
        BTreeMap::from([
            (
                "tenant-header".to_owned(),
                "<fragment>\n  <set-header name=\"x-tenant\" exists-action=\"override\">\n    <value>{{Tenant}}</value>\n  </set-header>\n</fragment>".to_owned(),
            ),
            (
                "limits".to_owned(),
                "<fragment><rate-limit calls=\"5\" renewal-period=\"60\" /></fragment>".to_owned(),
            ),
            (
                "broken".to_owned(),
                "<fragment>\n  <set-header name=\"x\" exists-action=\"sometimes\"><value>v</value></set-header>\n</fragment>".to_owned(),
            ),
            (
                "forward".to_owned(),
                "<fragment><forward-request timeout=\"10\" /></fragment>".to_owned(),
            ),
            (
                "nested".to_owned(),
                "<fragment><include-fragment fragment-id=\"limits\" /></fragment>".to_owned(),
            ),
        ])
    }

    fn compile(document: &str) -> Result<PolicyDocument, crate::Diagnostics> {
        let named = BTreeMap::from([("Tenant".to_owned(), "contoso".to_owned())]);
        PolicyDocument::parse_in(document, ScopeKind::Api, "API echo", &named, &fragments())
    }

    #[test]
    fn a_fragment_is_compiled_in_place() {
        let document = compile(
            "<policies><inbound><base /><include-fragment fragment-id=\"tenant-header\" /></inbound><backend><include-fragment fragment-id=\"forward\" /></backend></policies>",
        )
        .unwrap();
        let names: Vec<&str> = document
            .section(SectionKind::Inbound)
            .steps
            .iter()
            .map(|s| s.name())
            .collect();
        assert_eq!(names, ["base", "include-fragment"]);
    }

    #[test]
    fn faults_are_reported_where_the_fragment_is_included_with_their_place_inside_it() {
        let text = "<policies>\n<inbound>\n  <include-fragment fragment-id=\"broken\" />\n</inbound>\n</policies>";
        let fault = compile(text).unwrap_err().to_string();
        assert!(
            fault.starts_with("Line 3, column 3: in policy fragment 'broken': Line 2, column"),
            "{fault}"
        );
        assert!(fault.contains("exists-action"), "{fault}");

        for (document, expected) in [
            (
                "<policies><inbound><include-fragment fragment-id=\"forward\" /></inbound></policies>",
                "cannot stand in <inbound>",
            ),
            (
                "<policies><inbound><include-fragment fragment-id=\"missing\" /></inbound></policies>",
                "there is no policy fragment 'missing'",
            ),
            (
                "<policies><inbound><include-fragment fragment-id=\"nested\" /></inbound></policies>",
                "cannot include another policy fragment",
            ),
            (
                "<policies><inbound><include-fragment fragment-id=\"limits\" /><rate-limit calls=\"1\" renewal-period=\"1\" /></inbound></policies>",
                "may appear once per policy document",
            ),
        ] {
            let fault = compile(document).unwrap_err().to_string();
            assert!(fault.contains(expected), "{document}: {fault}");
        }
    }

    #[test]
    fn included_fragments_are_listed_and_fragments_are_checked_alone() {
        assert_eq!(
            included_fragments(
                "<policies><inbound><include-fragment fragment-id=\"b\"/><choose><when condition=\"true\"><include-fragment fragment-id=\"a\"/></when></choose><include-fragment fragment-id=\"b\"/></inbound></policies>"
            ),
            ["a", "b"]
        );
        assert!(
            check_fragment(
                "<fragment><set-header name=\"x\"><value>v</value></set-header></fragment>",
                &()
            )
            .is_ok()
        );
        for (text, expected) in [
            ("<policies />", "root element must be <fragment>"),
            (
                "<fragment><nonsense /></fragment>",
                "not a policy Portcullis knows",
            ),
            (
                "<fragment><include-fragment fragment-id=\"x\" /></fragment>",
                "cannot include another",
            ),
            ("<fragment><set-header>", "Line 1"),
            (
                "<fragment>\n<set-header name=\"x\" exists-action=\"sometimes\"><value>v</value></set-header></fragment>",
                "Line 2, column 37: exists-action must be",
            ),
        ] {
            let fault = check_fragment(text, &()).unwrap_err().to_string();
            assert!(fault.contains(expected), "{text}: {fault}");
        }
    }
}
