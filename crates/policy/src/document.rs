//! A policy document: its four sections compiled into steps, for one scope.

use crate::catalogue::{Compiler, Step};
use crate::error::{Diagnostic, Diagnostics};
use crate::xml;
use std::fmt;
use std::sync::Arc;

/// The level a document is attached at; policies check where they may stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeKind {
    Global,
    Product,
    Api,
    Operation,
}

impl ScopeKind {
    /// APIM's name of the scope in `context.LastError.Scope`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Product => "product",
            Self::Api => "api",
            Self::Operation => "operation",
        }
    }
}

impl fmt::Display for ScopeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Global => "global (All APIs)",
            Self::Product => "product",
            Self::Api => "API",
            Self::Operation => "operation",
        })
    }
}

/// The sections of a document, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    Inbound,
    Backend,
    Outbound,
    OnError,
}

impl SectionKind {
    pub const ALL: [SectionKind; 4] = [Self::Inbound, Self::Backend, Self::Outbound, Self::OnError];

    pub fn name(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::Backend => "backend",
            Self::Outbound => "outbound",
            Self::OnError => "on-error",
        }
    }

    /// This kind's place in a per-section array (in [`SectionKind::ALL`]'s order).
    pub(crate) fn of<T>(self, array: &[T; 4]) -> &T {
        let [inbound, backend, outbound, on_error] = array;
        match self {
            Self::Inbound => inbound,
            Self::Backend => backend,
            Self::Outbound => outbound,
            Self::OnError => on_error,
        }
    }

    fn of_mut<T>(self, array: &mut [T; 4]) -> &mut T {
        let [inbound, backend, outbound, on_error] = array;
        match self {
            Self::Inbound => inbound,
            Self::Backend => backend,
            Self::Outbound => outbound,
            Self::OnError => on_error,
        }
    }
}

/// One section's steps; `<base/>` stands among them as [`Step::Base`].
#[derive(Debug, Default)]
pub struct Section {
    pub steps: Vec<Step>,
}

/// A compiled document. Sections a child scope leaves out inherit (`<base/>`), as in APIM;
/// the global document's backend defaults to `<forward-request/>`.
#[derive(Debug)]
pub struct PolicyDocument {
    pub scope: ScopeKind,
    /// Names the scope in traces and counter keys, e.g. `product starter`.
    pub label: Arc<str>,
    sections: [Section; 4],
    /// The parsed tree, kept for the effective-policy view.
    pub(crate) tree: Option<xml::Element>,
    /// Which bodies its scripts read: the gateway reads them before the policies run.
    pub reads_body: crate::expr::host::BodyUse,
}

/// A document may be at most this long.
pub const MAX_DOCUMENT_LEN: usize = 256 * 1024;

impl PolicyDocument {
    /// Parses and compiles `text`. Every fault found is reported, each with its line and
    /// column.
    pub fn parse(text: &str, scope: ScopeKind, label: &str) -> Result<Self, Diagnostics> {
        Self::parse_with(text, scope, label, &())
    }

    /// [`PolicyDocument::parse`] with the service's named values: every `{{name}}` of
    /// `named` is replaced by its value before the document is read.
    pub fn parse_with(
        text: &str,
        scope: ScopeKind,
        label: &str,
        named: &dyn crate::policy_text::NamedValues,
    ) -> Result<Self, Diagnostics> {
        Self::parse_in(text, scope, label, named, &())
    }

    /// [`PolicyDocument::parse_with`] with the service's policy fragments, which
    /// `<include-fragment>` puts in place (checked where they stand), and its certificates.
    pub fn parse_in(
        text: &str,
        scope: ScopeKind,
        label: &str,
        named: &dyn crate::policy_text::NamedValues,
        library: &dyn crate::library::Library,
    ) -> Result<Self, Diagnostics> {
        if text.len() > MAX_DOCUMENT_LEN {
            return Err(Diagnostic::at(text, 0, "a policy document has at most 256 KiB.").into());
        }
        let root = xml::parse_with(text, named)?;
        if root.name != "policies" {
            return Err(Diagnostic::at(
                text,
                root.offset,
                format!("the root element must be <policies>, not <{}>.", root.name),
            )
            .into());
        }
        let mut compiler = Compiler::new(text, scope, label).with_service(named, library);
        let mut sections: [Option<Section>; 4] = Default::default();
        if let Some(attribute) = root.attributes.first() {
            compiler.report(compiler.fault(
                attribute.offset,
                format!("<policies> takes no attribute {}.", attribute.name),
            ));
        }
        for element in &root.children {
            let Some(kind) = SectionKind::ALL
                .iter()
                .copied()
                .find(|k| k.name() == element.name)
            else {
                compiler.report(compiler.fault(
                    element.offset,
                    format!(
                        "<{}> cannot stand directly in <policies>; use <inbound>, <backend>, <outbound> or <on-error>.",
                        element.name
                    ),
                ));
                continue;
            };
            if kind.of(&sections).is_some() {
                compiler.report(
                    compiler.fault(element.offset, format!("<{}> appears twice.", element.name)),
                );
                continue;
            }
            *kind.of_mut(&mut sections) = Some(compiler.section(kind, element));
        }
        compiler.finish()?;
        let sections = SectionKind::ALL.map(|kind| {
            kind.of_mut(&mut sections)
                .take()
                .unwrap_or_else(|| default_section(scope, kind))
        });
        Ok(Self {
            scope,
            label: Arc::from(label),
            sections,
            tree: Some(root),
            reads_body: compiler.reads_body.get(),
        })
    }

    /// What a scope runs when nobody wrote a document for it.
    pub fn default_for(scope: ScopeKind, label: &str) -> Self {
        Self {
            scope,
            label: Arc::from(label),
            sections: SectionKind::ALL.map(|kind| default_section(scope, kind)),
            tree: None,
            reads_body: Default::default(),
        }
    }

    pub fn section(&self, kind: SectionKind) -> &Section {
        kind.of(&self.sections)
    }
}

fn default_section(scope: ScopeKind, kind: SectionKind) -> Section {
    match (scope, kind) {
        (ScopeKind::Global, SectionKind::Backend) => Section {
            steps: vec![Step::forward_default()],
        },
        (ScopeKind::Global, _) => Section::default(),
        _ => Section {
            steps: vec![Step::Base],
        },
    }
}

/// Answers every request through it with 500: stands in for a stored document that no
/// longer compiles, so that a scope never runs without the protection it was given.
#[derive(Debug)]
struct Refuse {
    reason: String,
}

impl crate::catalogue::Policy for Refuse {
    fn apply(&self, _: &mut crate::catalogue::Context<'_>) -> crate::catalogue::Outcome {
        Err(crate::Rejection::Expression(self.reason.clone()))
    }
}

impl PolicyDocument {
    /// A document that fails every request (fail closed), for a stored document that does
    /// not compile.
    pub fn refusing(scope: ScopeKind, label: &str, reason: impl Into<String>) -> Self {
        let mut document = Self::default_for(scope, label);
        *SectionKind::Inbound.of_mut(&mut document.sections) = Section {
            steps: vec![Step::Now(
                "invalid-policy",
                Box::new(Refuse {
                    reason: reason.into(),
                }),
            )],
        };
        document
    }
}
