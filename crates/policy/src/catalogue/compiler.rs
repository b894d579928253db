//! [`Compiler`]: what every policy's compile function is handed — the attribute and child
//! readers that report faults with line and column, the rules on where a policy may stand
//! (looked up in the catalogue's dispatch table, `super::CATALOGUE`), and the faults found
//! so far.

use super::*;
use crate::xml::Attribute;

/// Compile-time state: where we are, and the faults found so far.
pub struct Compiler<'t> {
    text: &'t str,
    pub scope: ScopeKind,
    pub label: Arc<str>,
    pub section: SectionKind,
    /// Inside `<retry>`: `forward-request` buffers the request body so it can be sent again.
    pub inside_retry: bool,
    /// How many rate-limit / quota policies stand in this document (each at most once).
    seen_once: Vec<&'static str>,
    /// Which bodies the document's scripts read (`context.Request.Body`, …).
    pub reads_body: std::cell::Cell<crate::expr::host::BodyUse>,
    diagnostics: Vec<Diagnostic>,
    /// The service's named values, for the fragments a document includes.
    pub named: &'t dyn crate::policy_text::NamedValues,
    /// The service's policy fragments and certificates.
    pub library: &'t dyn crate::library::Library,
    /// Compiling a fragment (which may not include another).
    pub in_fragment: bool,
}

impl<'t> Compiler<'t> {
    pub fn new(text: &'t str, scope: ScopeKind, label: &str) -> Self {
        Self {
            text,
            scope,
            label: Arc::from(label),
            section: SectionKind::Inbound,
            inside_retry: false,
            seen_once: Vec::new(),
            reads_body: std::cell::Cell::new(crate::expr::host::BodyUse::default()),
            diagnostics: Vec::new(),
            named: &(),
            library: &(),
            in_fragment: false,
        }
    }

    /// Compiles with the service's named values, policy fragments and certificates.
    pub fn with_service(
        mut self,
        named: &'t dyn crate::policy_text::NamedValues,
        library: &'t dyn crate::library::Library,
    ) -> Self {
        self.named = named;
        self.library = library;
        self
    }

    /// Compiles the policy fragment `id` (its text `text`) where `<include-fragment>` stands
    /// at `offset`: in this section and scope, counting with this document's once-only
    /// policies. Its faults are reported at the `include-fragment`, each with its own line
    /// and column inside the fragment.
    pub fn fragment_steps(
        &mut self,
        id: &str,
        text: &str,
        offset: usize,
    ) -> Result<Vec<Step>, Diagnostic> {
        let document = self.text;
        let in_fragment = |diagnostic: &Diagnostic| {
            Diagnostic::at(
                document,
                offset,
                format!("in policy fragment '{id}': {diagnostic}"),
            )
        };
        let root = crate::xml::parse_with(text, self.named).map_err(|d| in_fragment(&d))?;
        if root.name != "fragment" {
            return Err(in_fragment(&Diagnostic::at(
                text,
                root.offset,
                format!("the root element must be <fragment>, not <{}>.", root.name),
            )));
        }
        let mut inner =
            Compiler::new(text, self.scope, &self.label).with_service(self.named, self.library);
        inner.section = self.section;
        inner.inside_retry = self.inside_retry;
        inner.in_fragment = true;
        inner.seen_once = std::mem::take(&mut self.seen_once);
        let steps = inner.block(&root);
        self.seen_once = std::mem::take(&mut inner.seen_once);
        self.reads_body
            .set(self.reads_body.get().or(inner.reads_body.get()));
        if let Err(faults) = inner.finish() {
            let mut faults = faults.0.into_iter();
            let first = faults.next().map(|d| in_fragment(&d));
            for more in faults {
                let diagnostic = in_fragment(&more);
                self.report(diagnostic);
            }
            if let Some(first) = first {
                return Err(first);
            }
        }
        Ok(steps)
    }

    pub fn fault(&self, offset: usize, message: impl fmt::Display) -> Diagnostic {
        Diagnostic::at(self.text, offset, message)
    }

    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Remembers which bodies a script reads, so the gateway reads them before it runs.
    /// Remembers that a policy reads the body of `used` (a Liquid template does).
    pub fn note_reads_body(&self, used: crate::expr::host::BodyUse) {
        self.reads_body.set(self.reads_body.get().or(used));
    }

    /// The content of `<set-body template="liquid">` and where it starts: its text when it
    /// has only text (CDATA included, entities read), else its markup as written, with
    /// named values put in.
    pub fn liquid_source(&self, element: &Element) -> (String, usize) {
        if element.children.is_empty() {
            return element
                .text
                .as_ref()
                .map_or((String::new(), element.offset), |t| {
                    (t.value.clone(), t.offset)
                });
        }
        let Some((start, end)) = element.inner else {
            return (String::new(), element.offset);
        };
        let markup = self.text.get(start..end).unwrap_or_default();
        let source = crate::policy_text::substitute_named_values(markup, self.named);
        (source, start)
    }

    fn note_body_use(&self, template: Template) -> Template {
        if let Template::Script(program) = &template {
            let used = crate::expr::host::body_use(program);
            self.reads_body.set(self.reads_body.get().or(used));
        }
        template
    }

    pub fn finish(&mut self) -> Result<(), Diagnostics> {
        if self.diagnostics.is_empty() {
            Ok(())
        } else {
            self.diagnostics.sort_by_key(|d| (d.line, d.column));
            Err(Diagnostics(std::mem::take(&mut self.diagnostics)))
        }
    }

    /// Compiles one section: its policies, and at most one `<base/>` at its top level.
    pub(crate) fn section(
        &mut self,
        kind: SectionKind,
        element: &Element,
    ) -> crate::document::Section {
        self.section = kind;
        if let Some(attribute) = element.attributes.first() {
            self.report(self.fault(
                attribute.offset,
                format!("<{}> takes no attribute {}.", element.name, attribute.name),
            ));
        }
        self.no_text(element);
        let mut steps = Vec::with_capacity(element.children.len());
        let mut base_seen = false;
        for child in &element.children {
            if child.name == "base" {
                if self.scope == ScopeKind::Global {
                    // APIM accepts <base/> at global scope, where it has no effect.
                } else if base_seen {
                    self.report(self.fault(child.offset, "<base /> may appear once per section."));
                } else {
                    steps.push(Step::Base);
                }
                base_seen = true;
                if !child.children.is_empty() || !child.attributes.is_empty() {
                    self.report(
                        self.fault(child.offset, "<base /> takes no attributes or content."),
                    );
                }
                continue;
            }
            if let Some(step) = self.policy(child) {
                steps.push(step);
            }
        }
        crate::document::Section { steps }
    }

    /// Compiles the policies nested in `parent` (in `choose`, `retry`, …).
    pub fn block(&mut self, parent: &Element) -> Vec<Step> {
        self.no_text(parent);
        parent
            .children
            .iter()
            .filter_map(|child| {
                if child.name == "base" {
                    self.report(self.fault(
                        child.offset,
                        format!("<base /> cannot stand inside <{}>.", parent.name),
                    ));
                    return None;
                }
                self.policy(child)
            })
            .collect()
    }

    fn no_text(&mut self, element: &Element) {
        if let Some(text) = &element.text {
            self.report(self.fault(
                text.offset,
                format!("<{}> holds policies, not text.", element.name),
            ));
        }
    }

    fn policy(&mut self, element: &Element) -> Option<Step> {
        let Some(entry) = CATALOGUE.iter().find(|e| e.name == element.name) else {
            let message = if NOT_SUPPORTED.contains(&element.name.as_str()) {
                format!(
                    "<{}> is an APIM policy that Portcullis does not support yet.",
                    element.name
                )
            } else {
                format!("<{}> is not a policy Portcullis knows.", element.name)
            };
            self.report(self.fault(element.offset, message));
            return None;
        };
        if !entry.sections.contains(&self.section) {
            let allowed: Vec<&str> = entry.sections.iter().map(|s| s.name()).collect();
            self.report(self.fault(
                element.offset,
                format!(
                    "<{}> cannot stand in <{}>; it belongs in {}.",
                    entry.name,
                    self.section.name(),
                    allowed.join(" or ")
                ),
            ));
            return None;
        }
        if !entry.scopes.contains(&self.scope) {
            let allowed: Vec<String> = entry.scopes.iter().map(|s| s.to_string()).collect();
            self.report(self.fault(
                element.offset,
                format!(
                    "<{}> cannot be used at {} scope; it works at {} scope.",
                    entry.name,
                    self.scope,
                    allowed.join(", ")
                ),
            ));
            return None;
        }
        match (entry.compile)(element, self) {
            Ok(step) => Some(step),
            Err(diagnostic) => {
                self.report(diagnostic);
                None
            }
        }
    }

    /// Compiles one branch of `<wait>`: a policy on its own.
    pub fn branch(&mut self, element: &Element) -> Option<Step> {
        self.policy(element)
    }

    /// Starts a count of once-only policies of its own (for a `wait` branch, which runs
    /// beside the others); [`Compiler::restore_once_only`] puts the outer count back.
    pub fn take_once_only(&mut self) -> Vec<&'static str> {
        std::mem::take(&mut self.seen_once)
    }

    pub fn restore_once_only(&mut self, outer: Vec<&'static str>) {
        self.seen_once = outer;
    }

    /// Refuses a policy that stands twice in one document (rate-limit, quota).
    pub fn once_per_document(&mut self, element: &Element) -> Result<(), Diagnostic> {
        let name: &'static str = CATALOGUE
            .iter()
            .find(|e| e.name == element.name)
            .map_or("policy", |e| e.name);
        if self.seen_once.contains(&name) {
            return Err(self.fault(
                element.offset,
                format!("<{name}> may appear once per policy document."),
            ));
        }
        self.seen_once.push(name);
        Ok(())
    }

    /// Checks that `element` has only the attributes in `allowed` (and `id`).
    pub fn only_attributes(&self, element: &Element, allowed: &[&str]) -> Result<(), Diagnostic> {
        for attribute in &element.attributes {
            if attribute.name != "id" && !allowed.contains(&attribute.name.as_str()) {
                let message = if allowed.is_empty() {
                    format!("<{}> takes no attribute {}.", element.name, attribute.name)
                } else {
                    format!(
                        "<{}> has no attribute {}; it takes {}.",
                        element.name,
                        attribute.name,
                        allowed.join(", ")
                    )
                };
                return Err(self.fault(attribute.offset, message));
            }
        }
        Ok(())
    }

    /// Checks that `element` has only the child elements in `allowed`.
    pub fn only_children(&self, element: &Element, allowed: &[&str]) -> Result<(), Diagnostic> {
        for child in &element.children {
            if !allowed.contains(&child.name.as_str()) {
                let message = if allowed.is_empty() {
                    format!("<{}> takes no child elements.", element.name)
                } else {
                    format!(
                        "<{}> cannot contain <{}>; it takes {}.",
                        element.name,
                        child.name,
                        allowed
                            .iter()
                            .map(|a| format!("<{a}>"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                return Err(self.fault(child.offset, message));
            }
        }
        Ok(())
    }

    pub fn required<'e>(
        &self,
        element: &'e Element,
        name: &str,
    ) -> Result<&'e Attribute, Diagnostic> {
        element.attribute(name).ok_or_else(|| {
            self.fault(
                element.offset,
                format!("<{}> needs the attribute {name}.", element.name),
            )
        })
    }

    fn expr_fault(&self, base: usize, error: ExprError) -> Diagnostic {
        self.fault(
            base + error.offset,
            format!("unsupported expression: {}", error.message),
        )
    }

    /// An attribute that may hold an expression.
    pub fn template(&self, attribute: &Attribute) -> Result<Template, Diagnostic> {
        Template::parse(&attribute.value)
            .map(|t| self.note_body_use(t))
            .map_err(|e| self.expr_fault(attribute.offset, e))
    }

    pub fn optional_template(
        &self,
        element: &Element,
        name: &str,
    ) -> Result<Option<Template>, Diagnostic> {
        element
            .attribute(name)
            .map(|a| self.template(a))
            .transpose()
    }

    /// The element's text, which may be an expression.
    pub fn text_template(&self, element: &Element) -> Result<Option<Template>, Diagnostic> {
        element
            .text
            .as_ref()
            .map(|text| {
                Template::parse(&text.value)
                    .map(|t| self.note_body_use(t))
                    .map_err(|e| self.expr_fault(text.offset, e))
            })
            .transpose()
    }

    /// An attribute that must be fixed text (no expression).
    pub fn literal<'e>(&self, attribute: &'e Attribute) -> Result<&'e str, Diagnostic> {
        if attribute.value.trim_start().starts_with('@') {
            return Err(self.fault(
                attribute.offset,
                format!(
                    "{} must be a fixed value here, not an expression.",
                    attribute.name
                ),
            ));
        }
        Ok(attribute.value.trim())
    }

    /// A whole number in `range`.
    pub fn number(
        &self,
        attribute: &Attribute,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<u64, Diagnostic> {
        let text = self.literal(attribute)?;
        text.parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                self.fault(
                    attribute.offset,
                    format!(
                        "{} must be a whole number from {} to {}, not '{text}'.",
                        attribute.name,
                        range.start(),
                        range.end()
                    ),
                )
            })
    }

    pub fn optional_number(
        &self,
        element: &Element,
        name: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Option<u64>, Diagnostic> {
        element
            .attribute(name)
            .map(|a| self.number(a, range.clone()))
            .transpose()
    }

    pub fn boolean(
        &self,
        element: &Element,
        name: &str,
        default: bool,
    ) -> Result<bool, Diagnostic> {
        let Some(attribute) = element.attribute(name) else {
            return Ok(default);
        };
        match self.literal(attribute)? {
            t if t.eq_ignore_ascii_case("true") => Ok(true),
            t if t.eq_ignore_ascii_case("false") => Ok(false),
            other => Err(self.fault(
                attribute.offset,
                format!("{name} must be true or false, not '{other}'."),
            )),
        }
    }

    /// A header name attribute, parsed.
    pub fn header_name(&self, attribute: &Attribute) -> Result<http::HeaderName, Diagnostic> {
        let text = self.literal(attribute)?;
        http::HeaderName::from_bytes(text.as_bytes()).map_err(|_| {
            self.fault(
                attribute.offset,
                format!("'{text}' is not a valid header name."),
            )
        })
    }
}

/// Reads an HTTP status code attribute.
pub(crate) fn status_code(
    cx: &Compiler<'_>,
    attribute: &Attribute,
) -> Result<http::StatusCode, Diagnostic> {
    let code = cx.number(attribute, 100..=599)?;
    http::StatusCode::from_u16(u16::try_from(code).unwrap_or(500)).map_err(|_| {
        cx.fault(
            attribute.offset,
            format!("{code} is not an HTTP status code."),
        )
    })
}

/// An expression that failed while a request ran.
pub(crate) fn expression_failed(policy: &str, detail: impl fmt::Display) -> Rejection {
    Rejection::Expression(format!("{policy}: {detail}"))
}
