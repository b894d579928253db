//! Policy text as APIM reads it: expressions made safe before the XML parser sees them.
//!
//! APIM's policy documents are not quite XML. Their expressions are C#, and people write them
//! as C#: `condition="@(context.Request.Method == "POST")"` holds raw quotes inside a quoted
//! attribute, `@(context.Request.Body.As<JObject>())` raw angle brackets, `a && b` raw
//! ampersands. APIM cuts every `@( … )` and `@{ … }` region out of the text before it parses
//! the XML, so all of that is accepted — and so it must be here.
//!
//! [`prepare`] finds each region by matching its brackets the way a C# reader would: strings
//! (`"…"`, verbatim `@"…"`, interpolated `$"…{hole}…"`), character literals and comments are
//! skipped, so a `)` inside `")"` does not end the region. Inside a region every character
//! XML would stumble on is written as its entity; entities already written (`&quot;`, the
//! well-formed way) are kept and read as the character they stand for, so both ways of
//! writing a document mean the same. Comments, CDATA sections and processing instructions
//! outside regions are copied as they are (CDATA text is not unescaped by XML, so an
//! expression there needs no help).
//!
//! **Named values.** `{{display-name}}` anywhere in the text — an attribute, element text, or
//! inside an expression — is replaced by the named value's value in the same pass (escaped
//! for where it lands). A reference to a name the service does not have stays as written:
//! Liquid templates in `set-body` use the same braces.
//!
//! The XML parser then reads [`Prepared::xml`]; every offset it reports is turned back into
//! an offset of the original text with [`Prepared::original_offset`], so a fault's line and
//! column point at what the author wrote (a fault inside a substituted value points at its
//! `{{`).

use crate::error::Diagnostic;

/// The named values a document may reference, by display name.
pub trait NamedValues {
    fn value(&self, display_name: &str) -> Option<&str>;
}

/// No named values: every `{{…}}` stays as written.
impl NamedValues for () {
    fn value(&self, _: &str) -> Option<&str> {
        None
    }
}

impl NamedValues for std::collections::BTreeMap<String, String> {
    fn value(&self, display_name: &str) -> Option<&str> {
        self.get(display_name).map(String::as_str)
    }
}

/// The `{{name}}` reference at the start of `bytes`: the name and the reference's length.
/// Names are APIM's display names: letters, digits, `.`, `-` and `_`.
pub fn named_value_at(bytes: &[u8]) -> Option<(&str, usize)> {
    let rest = bytes.strip_prefix(b"{{")?;
    let len = rest
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        .count();
    if len == 0 || rest.get(len..len + 2) != Some(b"}}") {
        return None;
    }
    let name = std::str::from_utf8(rest.get(..len)?).ok()?;
    Some((name, len + 4))
}

/// Every named value `text` references, in order (duplicates kept out).
pub fn named_value_references(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut found: Vec<&str> = Vec::new();
    let mut at = 0;
    while let Some(p) = find(bytes, at, b"{{") {
        match bytes.get(p..).and_then(named_value_at) {
            Some((name, len)) => {
                if !found.contains(&name) {
                    found.push(name);
                }
                at = p + len;
            }
            None => at = p + 1,
        }
    }
    found
}

/// `text` with each `{{name}}` of `named` replaced by its value as it is (no XML escaping:
/// for text that is not read as XML again, such as a Liquid template's markup).
pub fn substitute_named_values(text: &str, named: &dyn NamedValues) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(p) = find(bytes, at, b"{{") {
        out.push_str(text.get(at..p).unwrap_or_default());
        match bytes
            .get(p..)
            .and_then(named_value_at)
            .and_then(|(name, len)| Some((named.value(name)?, len)))
        {
            Some((value, len)) => {
                out.push_str(value);
                at = p + len;
            }
            None => {
                out.push_str("{{");
                at = p + 2;
            }
        }
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

/// Brackets, strings and interpolation holes nest at most this deep inside one expression;
/// the scanner keeps them on a heap stack, so the bound is about sanity, not the thread stack.
pub const MAX_EXPRESSION_NESTING: usize = 256;

/// A document rewritten so that it is well-formed XML wherever APIM would accept it.
#[derive(Debug)]
pub struct Prepared {
    pub xml: String,
    /// Where the rewritten text departs from the original, in order; empty when nothing had
    /// to be rewritten.
    segments: Vec<Segment>,
}

/// From `out` on (until the next segment) the rewritten text is the original from `original`
/// on, character for character (`same`), or one entity standing for the original character
/// at `original`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    out: usize,
    original: usize,
    same: bool,
}

impl Prepared {
    /// The offset in the original text of the byte at `offset` in [`Prepared::xml`].
    pub fn original_offset(&self, offset: usize) -> usize {
        let index = self.segments.partition_point(|s| s.out <= offset);
        match index.checked_sub(1).and_then(|i| self.segments.get(i)) {
            None => offset,
            Some(segment) if segment.same => segment.original + (offset - segment.out),
            Some(segment) => segment.original,
        }
    }
}

/// What the scanner is inside of, innermost last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    /// `(`, `[` or `{` of code; holds the closing byte.
    Bracket(u8),
    /// A regular string or character literal; holds its quote.
    Quoted(u8),
    /// A verbatim string `@"…"` (`""` is a quote).
    Verbatim,
    /// An interpolated string; `verbatim` for `$@"…"`.
    Interpolated { verbatim: bool },
    /// A `{ … }` hole of an interpolated string.
    Hole,
}

/// Rewrites `text` as described in the module doc. Fails only on a region that never ends
/// or nests deeper than [`MAX_EXPRESSION_NESTING`].
pub fn prepare(text: &str) -> Result<Prepared, Diagnostic> {
    prepare_with(text, &())
}

/// [`prepare`], with `{{…}}` references to `named` replaced by their values.
pub fn prepare_with(text: &str, named: &dyn NamedValues) -> Result<Prepared, Diagnostic> {
    let mut writer = Writer {
        text,
        out: String::with_capacity(text.len()),
        segments: Vec::new(),
        named,
    };
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let rest = bytes.get(at..).unwrap_or_default();
        let skip_to = [
            (&b"<!--"[..], &b"-->"[..]),
            (b"<![CDATA[", b"]]>"),
            (b"<?", b"?>"),
        ]
        .iter()
        .find(|(open, _)| rest.starts_with(open))
        .map(|(open, close)| {
            find(bytes, at + open.len(), close).map_or(bytes.len(), |end| end + close.len())
        });
        if let Some(end) = skip_to {
            writer.copy(at, end);
            at = end;
            continue;
        }
        if rest.starts_with(b"@(") || rest.starts_with(b"@{") {
            at = region(&mut writer, at)?;
            continue;
        }
        if let Some(len) = writer.substitute(at) {
            at += len;
            continue;
        }
        if rest.first() == Some(&b'&') && !starts_reference(rest) {
            // A bare `&` (`template="/a?x=1&y=2"`): APIM takes it as the character.
            writer.entity(at, "&amp;");
            at += 1;
            continue;
        }
        // Plain XML: copy up to the next byte that may start something of interest.
        let next = rest
            .iter()
            .skip(1)
            .position(|&b| matches!(b, b'<' | b'@' | b'{' | b'&'))
            .map_or(bytes.len(), |p| at + 1 + p);
        writer.copy(at, next);
        at = next;
    }
    Ok(writer.finish())
}

/// Where `needle` next occurs in `bytes` at or after `from`.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// Builds the rewritten text and its segments.
struct Writer<'t> {
    text: &'t str,
    out: String,
    segments: Vec<Segment>,
    named: &'t dyn NamedValues,
}

impl Writer<'_> {
    /// Copies `text[from..to]` unchanged.
    fn copy(&mut self, from: usize, to: usize) {
        if let Some(part) = self.text.get(from..to) {
            if !self.segments.last().is_none_or(|s| s.same) {
                self.segments.push(Segment {
                    out: self.out.len(),
                    original: from,
                    same: true,
                });
            }
            self.out.push_str(part);
        }
    }

    /// Writes `entity` for the original character at `original`.
    fn entity(&mut self, original: usize, entity: &str) {
        self.segments.push(Segment {
            out: self.out.len(),
            original,
            same: false,
        });
        self.out.push_str(entity);
    }

    /// Writes the value of the named value referenced at `at` (XML-escaped: it lands in an
    /// attribute, text or an expression region, all of which the XML parser unescapes) and
    /// answers how many bytes the reference took; `None` when there is no reference to a
    /// known named value there.
    fn substitute(&mut self, at: usize) -> Option<usize> {
        let (name, len) = named_value_at(self.text.as_bytes().get(at..)?)?;
        let value = self.named.value(name)?;
        self.segments.push(Segment {
            out: self.out.len(),
            original: at,
            same: false,
        });
        for c in value.chars() {
            match c {
                '<' => self.out.push_str("&lt;"),
                '>' => self.out.push_str("&gt;"),
                '&' => self.out.push_str("&amp;"),
                '"' => self.out.push_str("&quot;"),
                '\'' => self.out.push_str("&apos;"),
                other => self.out.push(other),
            }
        }
        Some(len)
    }

    fn finish(self) -> Prepared {
        Prepared {
            xml: self.out,
            segments: self.segments,
        }
    }
}

/// The entities XML predefines, and the character each stands for.
const ENTITIES: [(&[u8], u8); 5] = [
    (b"&quot;", b'"'),
    (b"&apos;", b'\''),
    (b"&lt;", b'<'),
    (b"&gt;", b'>'),
    (b"&amp;", b'&'),
];

/// Whether `rest` starts with an entity or character reference (`&amp;`, `&#34;`, `&#x22;`,
/// or any `&name;`).
fn starts_reference(rest: &[u8]) -> bool {
    let Some(body) = rest.strip_prefix(b"&") else {
        return false;
    };
    let end = body.iter().take(32).position(|&b| b == b';');
    let Some(end) = end.filter(|&e| e > 0) else {
        return false;
    };
    let name = body.get(..end).unwrap_or_default();
    match name.strip_prefix(b"#") {
        Some(number) => match number.strip_prefix(b"x") {
            Some(hex) => !hex.is_empty() && hex.iter().all(u8::is_ascii_hexdigit),
            None => !number.is_empty() && number.iter().all(u8::is_ascii_digit),
        },
        None => name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')),
    }
}

/// The character at `at` as the expression means it, and how many bytes of the text it
/// takes: an entity the author wrote stands for its character.
fn char_at(bytes: &[u8], at: usize) -> Option<(u8, usize)> {
    let rest = bytes.get(at..)?;
    let first = *rest.first()?;
    if first >= 0x80 {
        // A character of several bytes (never one XML cares about): all of it.
        let width = match first {
            0xF0.. => 4,
            0xE0.. => 3,
            _ => 2,
        };
        return Some((first, width.min(rest.len())));
    }
    if first == b'&' {
        if let Some((entity, meant)) = ENTITIES.iter().find(|(e, _)| rest.starts_with(e)) {
            return Some((*meant, entity.len()));
        }
        // A numeric reference (`&#34;`, `&#x22;`) stays what it is: a character of the code.
        if rest.get(1) == Some(&b'#')
            && let Some(end) = rest.iter().take(12).position(|&b| b == b';')
        {
            return Some((b'#', end + 1));
        }
    }
    Some((first, 1))
}

/// Copies one expression region that starts with `@(` or `@{` at `start`, escaping what XML
/// must not see raw; returns where the region ends.
fn region(writer: &mut Writer<'_>, start: usize) -> Result<usize, Diagnostic> {
    let text = writer.text;
    let bytes = text.as_bytes();
    let closing = if bytes.get(start + 1) == Some(&b'(') {
        b')'
    } else {
        b'}'
    };
    let mut stack = vec![Open::Bracket(closing)];
    writer.copy(start, start + 2);
    let mut at = start + 2;
    let too_deep = || {
        Diagnostic::at(
            text,
            start,
            format!(
                "the expression that starts here nests more than {MAX_EXPRESSION_NESTING} levels deep."
            ),
        )
    };
    while let Some(&open) = stack.last() {
        // A named value inside an expression: its value, as text of the code.
        if let Some(len) = writer.substitute(at) {
            at += len;
            continue;
        }
        let Some((c, width)) = char_at(bytes, at) else {
            let what = match open {
                Open::Bracket(b')') => "a '(' is never closed",
                Open::Bracket(b']') => "a '[' is never closed",
                Open::Bracket(_) | Open::Hole => "a '{' is never closed",
                Open::Quoted(b'\'') => "a character literal is never closed",
                Open::Quoted(_) | Open::Verbatim | Open::Interpolated { .. } => {
                    "a string is never closed"
                }
            };
            return Err(Diagnostic::at(
                text,
                start,
                format!("the expression that starts here never ends: {what}."),
            ));
        };
        let next = char_at(bytes, at + width).map(|(c, _)| c);
        // How many characters (not bytes) this step consumes: a few constructs take two.
        let mut step = 1;
        match open {
            Open::Quoted(quote) => {
                if c == b'\\' {
                    step = 2;
                } else if c == quote {
                    stack.pop();
                }
            }
            Open::Verbatim | Open::Interpolated { verbatim: true } if c == b'"' => {
                if next == Some(b'"') {
                    step = 2;
                } else {
                    stack.pop();
                }
            }
            Open::Interpolated { verbatim } => {
                if c == b'\\' && !verbatim {
                    step = 2;
                } else if c == b'"' {
                    stack.pop();
                } else if c == b'{' && next == Some(b'{') {
                    step = 2;
                } else if c == b'{' {
                    stack.push(Open::Hole);
                }
            }
            Open::Verbatim => {}
            Open::Bracket(_) | Open::Hole => {
                let closes = match open {
                    Open::Bracket(close) => close,
                    _ => b'}',
                };
                match c {
                    _ if c == closes => {
                        stack.pop();
                    }
                    b'(' => stack.push(Open::Bracket(b')')),
                    b'[' => stack.push(Open::Bracket(b']')),
                    b'{' => stack.push(Open::Bracket(b'}')),
                    b'"' => stack.push(Open::Quoted(b'"')),
                    b'\'' => stack.push(Open::Quoted(b'\'')),
                    b'@' | b'$' if matches!(next, Some(b'"' | b'@' | b'$')) => {
                        // `@"`, `$"`, `$@"`, `@$"`.
                        let after = char_at(bytes, at + width)
                            .and_then(|(_, w)| char_at(bytes, at + width + w));
                        let (opened, taken) = match (c, next, after.map(|(c, _)| c)) {
                            (b'@', Some(b'"'), _) => (Some(Open::Verbatim), 2),
                            (b'$', Some(b'"'), _) => {
                                (Some(Open::Interpolated { verbatim: false }), 2)
                            }
                            (b'$', Some(b'@'), Some(b'"')) | (b'@', Some(b'$'), Some(b'"')) => {
                                (Some(Open::Interpolated { verbatim: true }), 3)
                            }
                            _ => (None, 1),
                        };
                        if let Some(opened) = opened {
                            stack.push(opened);
                        }
                        step = taken;
                    }
                    b'/' if next == Some(b'/') => {
                        // A line comment: to the end of the line.
                        let end = bytes
                            .get(at..)
                            .and_then(|r| r.iter().position(|&b| b == b'\n'))
                            .map_or(bytes.len(), |p| at + p);
                        escape_span(writer, at, end);
                        at = end;
                        continue;
                    }
                    b'/' if next == Some(b'*') => {
                        let end = find(bytes, at + 2, b"*/").map_or(bytes.len(), |p| p + 2);
                        escape_span(writer, at, end);
                        at = end;
                        continue;
                    }
                    _ => {}
                }
            }
        }
        if stack.len() > MAX_EXPRESSION_NESTING {
            return Err(too_deep());
        }
        for _ in 0..step {
            match char_at(bytes, at) {
                Some((c, width)) => {
                    write_char(writer, at, c, width);
                    at += width;
                }
                None => break,
            }
        }
    }
    Ok(at)
}

/// Writes the character `c` that takes `width` bytes at `at`: an entity the author wrote,
/// a character of several bytes and ordinary characters as they are, a raw XML-special
/// character as its entity.
fn write_char(writer: &mut Writer<'_>, at: usize, c: u8, width: usize) {
    if width > 1 {
        writer.copy(at, at + width);
        return;
    }
    let entity = match c {
        b'<' => "&lt;",
        b'>' => "&gt;",
        b'&' => "&amp;",
        b'"' => "&quot;",
        b'\'' => "&apos;",
        _ => {
            writer.copy(at, at + 1);
            return;
        }
    };
    writer.entity(at, entity);
}

/// Writes `text[from..to]` (a comment inside an expression) with its specials escaped.
fn escape_span(writer: &mut Writer<'_>, from: usize, to: usize) {
    let bytes = writer.text.as_bytes();
    let mut at = from;
    while at < to {
        let Some((c, width)) = char_at(bytes, at) else {
            break;
        };
        write_char(writer, at, c, width);
        at += width.max(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xml(text: &str) -> String {
        prepare(text).unwrap().xml
    }

    #[test]
    fn named_values_are_substituted_everywhere_and_unknown_ones_kept() {
        let named = std::collections::BTreeMap::from([
            ("Tenant.Header".to_owned(), "x-tenant".to_owned()),
            ("Greeting".to_owned(), "a \"quoted\" <b>".to_owned()),
        ]);
        let text = r#"<set-header name="{{Tenant.Header}}"><value>@(context.Request.Headers.GetValueOrDefault("{{Tenant.Header}}", "{{Greeting}}"))</value><value>{{Greeting}} {{unknown}} {{ spaced }}</value></set-header>"#;
        let prepared = prepare_with(text, &named).unwrap();
        assert_eq!(
            prepared.xml,
            r#"<set-header name="x-tenant"><value>@(context.Request.Headers.GetValueOrDefault(&quot;x-tenant&quot;, &quot;a &quot;quoted&quot; &lt;b&gt;&quot;))</value><value>a &quot;quoted&quot; &lt;b&gt; {{unknown}} {{ spaced }}</value></set-header>"#
        );
        // Offsets after a substitution still point at the original text.
        let value_out = prepared.xml.find("<value>").unwrap();
        assert_eq!(
            prepared.original_offset(value_out),
            text.find("<value>").unwrap()
        );
        assert_eq!(
            named_value_references(text),
            vec!["Tenant.Header", "Greeting", "unknown"]
        );
    }

    #[test]
    fn raw_quotes_and_brackets_inside_an_attribute_expression_are_escaped() {
        assert_eq!(
            xml(r#"<when condition="@(context.Request.Method == "POST")">"#),
            r#"<when condition="@(context.Request.Method == &quot;POST&quot;)">"#
        );
        assert_eq!(
            xml(r#"<value>@(context.Request.Body.As<JObject>()["a"] != null && true)</value>"#),
            r#"<value>@(context.Request.Body.As&lt;JObject&gt;()[&quot;a&quot;] != null &amp;&amp; true)</value>"#
        );
    }

    #[test]
    fn text_that_is_already_well_formed_is_left_as_it_is() {
        for text in [
            r#"<when condition="@(context.Request.Method == &quot;POST&quot;)" />"#,
            "<a b='1'>plain &amp; simple</a>",
            "<a>@(1 &lt; 2)</a>",
            "<!-- @(\"unbalanced --><a/>",
            "<a><![CDATA[@(\"<raw>\")]]></a>",
        ] {
            let prepared = prepare(text).unwrap();
            assert_eq!(prepared.xml, text);
            assert!(prepared.segments.is_empty(), "{text}");
        }
    }

    #[test]
    fn brackets_inside_strings_characters_and_comments_do_not_end_the_region() {
        let text =
            r#"<a x="@(s.Split(')')[0] + ")" + @"a""b)" + $"{(n > 1 ? "}" : ")")}" /* ) */)" />"#;
        let prepared = xml(text);
        assert!(prepared.ends_with(r#")" />"#), "{prepared}");
        assert!(!prepared[7..prepared.len() - 4].contains('"'), "{prepared}");
    }

    #[test]
    fn statement_blocks_end_at_their_matching_brace() {
        let text = "<set-body>@{\n  var body = context.Request.Body.As<JObject>();\n  if (body[\"x\"] != null) { return \"}\"; }\n  return body.ToString();\n}</set-body>";
        let prepared = xml(text);
        assert!(prepared.starts_with("<set-body>@{"));
        assert!(prepared.ends_with("}</set-body>"));
        assert!(prepared.contains("As&lt;JObject&gt;()"));
    }

    #[test]
    fn offsets_map_back_to_the_original_text() {
        let text = r#"<a x="@("q" == y)" z="1" />"#;
        let prepared = prepare(text).unwrap();
        let z_out = prepared.xml.find("z=").unwrap();
        assert_eq!(prepared.original_offset(z_out), text.find("z=").unwrap());
        let q_out = prepared.xml.find(";q").unwrap() + 1;
        assert_eq!(prepared.original_offset(q_out), text.find('q').unwrap());
        // Inside an entity, the character it stands for.
        let quote_out = prepared.xml.find("&quot;").unwrap();
        assert_eq!(
            prepared.original_offset(quote_out + 3),
            text.find("\"q").unwrap()
        );
    }

    #[test]
    fn a_region_that_never_ends_is_a_fault_at_its_start() {
        for (text, what) in [
            ("<a x=\"@(foo(\" />", "string"),
            ("<a>@{ if (x) { </a>", "'{'"),
            ("<a>@(foo(1)</a>", "'('"),
        ] {
            let fault = prepare(text).unwrap_err();
            assert_eq!(fault.column, text.find('@').unwrap() + 1, "{text}");
            assert!(fault.message.contains(what), "{text}: {}", fault.message);
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!(
            "<a>@({}{})</a>",
            "(".repeat(MAX_EXPRESSION_NESTING),
            ")".repeat(MAX_EXPRESSION_NESTING)
        );
        let fault = prepare(&deep).unwrap_err();
        assert!(fault.message.contains("256 levels"), "{}", fault.message);
        let fine = format!("<a>@({}1{})</a>", "(".repeat(200), ")".repeat(200));
        assert!(prepare(&fine).is_ok());
    }

    #[test]
    fn a_bare_ampersand_outside_expressions_is_the_character() {
        assert_eq!(
            xml(r#"<rewrite-uri template="/a/{x}&{y}?p=1&q=2&amp;r=3&#38;s" />"#),
            r#"<rewrite-uri template="/a/{x}&amp;{y}?p=1&amp;q=2&amp;r=3&#38;s" />"#
        );
    }

    #[test]
    fn multibyte_text_survives() {
        let text = "<a x=\"@(\"größe < 1\")\">é</a>";
        assert_eq!(xml(text), "<a x=\"@(&quot;größe &lt; 1&quot;)\">é</a>");
    }
}
