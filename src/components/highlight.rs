//! Colours for policy text in the editor: element names, attribute names and values,
//! comments, and — what APIM's own editor leaves plain — the C# expressions `@( … )` and
//! `@{ … }` and the named values `{{name}}`, wherever they stand.
//!
//! Plain string work (it runs in the browser on every keystroke): one pass over the text,
//! no allocation but the list of pieces. It never fails; text it cannot place is plain.

/// What a piece of text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Plain,
    /// `<name`, `</name`, `>`, `/>`.
    Tag,
    Attribute,
    /// A quoted attribute value (its quotes included).
    Value,
    Comment,
    /// `@( … )` or `@{ … }`.
    Expression,
    /// `{{name}}`.
    NamedValue,
}

impl Kind {
    /// The CSS class of the piece (`None`: plain text).
    pub fn class(self) -> Option<&'static str> {
        match self {
            Kind::Plain => None,
            Kind::Tag => Some("hl-tag"),
            Kind::Attribute => Some("hl-attr"),
            Kind::Value => Some("hl-value"),
            Kind::Comment => Some("hl-comment"),
            Kind::Expression => Some("hl-expr"),
            Kind::NamedValue => Some("hl-named"),
        }
    }
}

/// The pieces of `text`, in order; together they are exactly `text`.
pub fn pieces(text: &str) -> Vec<(Kind, &str)> {
    let mut out = Pieces {
        text,
        list: Vec::new(),
    };
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut plain_from = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let special = if rest.starts_with(b"<!--") {
            Some((
                Kind::Comment,
                find(bytes, at + 4, b"-->").map_or(bytes.len(), |e| e + 3),
            ))
        } else if rest.starts_with(b"<![CDATA[") {
            // CDATA is text; expressions inside it are found by the plain scan below.
            at += 9;
            continue;
        } else if rest.starts_with(b"@(") || rest.starts_with(b"@{") {
            Some((Kind::Expression, expression_end(bytes, at)))
        } else if let Some(end) = named_value_end(bytes, at) {
            Some((Kind::NamedValue, end))
        } else if rest.first() == Some(&b'<')
            && rest
                .get(1)
                .is_some_and(|&b| b == b'/' || b == b'?' || b.is_ascii_alphabetic())
        {
            out.push(Kind::Plain, plain_from, at);
            at = tag(bytes, at, &mut out);
            plain_from = at;
            continue;
        } else {
            None
        };
        match special {
            Some((kind, end)) => {
                out.push(Kind::Plain, plain_from, at);
                out.push(kind, at, end);
                at = end;
                plain_from = at;
            }
            None => at += 1,
        }
    }
    out.push(Kind::Plain, plain_from, bytes.len());
    out.list
}

struct Pieces<'t> {
    text: &'t str,
    list: Vec<(Kind, &'t str)>,
}

impl<'t> Pieces<'t> {
    fn push(&mut self, kind: Kind, from: usize, to: usize) {
        if to <= from {
            return;
        }
        if let Some(piece) = self.text.get(from..to) {
            self.list.push((kind, piece));
        }
    }
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// The end of `{{name}}` at `at`, if one stands there.
fn named_value_end(bytes: &[u8], at: usize) -> Option<usize> {
    if !bytes.get(at..)?.starts_with(b"{{") {
        return None;
    }
    let mut end = at + 2;
    while bytes
        .get(end)
        .is_some_and(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        end += 1;
    }
    (end > at + 2 && bytes.get(end..end + 2) == Some(b"}}")).then_some(end + 2)
}

/// The end of the expression starting at `at` (`@(` or `@{`): its brackets matched, with
/// C# strings and characters skipped; the end of the text when it is never closed.
fn expression_end(bytes: &[u8], at: usize) -> usize {
    let mut depth = 0usize;
    let mut i = at + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            b'"' => {
                let verbatim = i > 0 && bytes.get(i - 1) == Some(&b'@');
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    if c == b'\\' && !verbatim {
                        i += 2;
                        continue;
                    }
                    if c == b'"' {
                        if verbatim && bytes.get(i + 1) == Some(&b'"') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
            }
            b'\'' => {
                // 'a', 'é', '\n', '\'': past the character, onto the closing quote.
                i += 1;
                i += match bytes.get(i) {
                    Some(b'\\') => 2,
                    Some(&lead) if lead >= 0xF0 => 4,
                    Some(&lead) if lead >= 0xE0 => 3,
                    Some(&lead) if lead >= 0xC0 => 2,
                    _ => 1,
                };
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// A tag from its `<` to its `>`; returns where it ends.
fn tag(bytes: &[u8], at: usize, out: &mut Pieces<'_>) -> usize {
    let mut i = at + 1;
    if matches!(bytes.get(i), Some(b'/' | b'?')) {
        i += 1;
    }
    while bytes
        .get(i)
        .is_some_and(|&b| !b.is_ascii_whitespace() && !matches!(b, b'>' | b'/'))
    {
        i += 1;
    }
    out.push(Kind::Tag, at, i);
    loop {
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        out.push(Kind::Plain, start, i);
        match bytes.get(i) {
            None => return i,
            Some(b'>') => {
                out.push(Kind::Tag, i, i + 1);
                return i + 1;
            }
            Some(b'/' | b'?') if bytes.get(i + 1) == Some(&b'>') => {
                out.push(Kind::Tag, i, i + 2);
                return i + 2;
            }
            Some(b'"' | b'\'') => i = value(bytes, i, out),
            Some(b'=') => {
                out.push(Kind::Plain, i, i + 1);
                i += 1;
            }
            Some(_) => {
                let name = i;
                while bytes.get(i).is_some_and(|&b| {
                    !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'"' | b'\'')
                }) {
                    i += 1;
                }
                if i == name {
                    // A stray character: plain, and move on.
                    i += 1;
                    out.push(Kind::Plain, name, i);
                } else {
                    out.push(Kind::Attribute, name, i);
                }
            }
        }
    }
}

/// A quoted attribute value from its opening quote; expressions and named values inside it
/// are their own pieces (an expression may hold the quote character, as APIM allows).
fn value(bytes: &[u8], at: usize, out: &mut Pieces<'_>) -> usize {
    let quote = bytes[at];
    let mut i = at + 1;
    let mut from = at;
    while let Some(&b) = bytes.get(i) {
        if b == quote {
            out.push(Kind::Value, from, i + 1);
            return i + 1;
        }
        if bytes
            .get(i..)
            .is_some_and(|r| r.starts_with(b"@(") || r.starts_with(b"@{"))
        {
            out.push(Kind::Value, from, i);
            let end = expression_end(bytes, i);
            out.push(Kind::Expression, i, end);
            i = end;
            from = i;
            continue;
        }
        if let Some(end) = named_value_end(bytes, i) {
            out.push(Kind::Value, from, i);
            out.push(Kind::NamedValue, i, end);
            i = end;
            from = i;
            continue;
        }
        i += 1;
    }
    out.push(Kind::Value, from, bytes.len());
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        pieces(text)
    }

    #[test]
    fn the_pieces_are_the_text() {
        for text in [
            "",
            "<policies>\n  <inbound>\n    <base />\n  </inbound>\n</policies>",
            "<when condition=\"@(context.Request.Method == \"POST\")\">x</when>",
            "<a b='{{Key}}'>@{ return \"}\"; }</a><!-- c -->",
            "<unclosed attr=\"@(open",
            "< 3 && x > 2 @( {{",
            "<é a=\"é\">@(\"é\" + 'é' + \"\\é\")ü</é>",
        ] {
            let joined: String = pieces(text).iter().map(|(_, p)| *p).collect();
            assert_eq!(joined, text);
        }
    }

    #[test]
    fn expressions_with_quotes_inside_attribute_values() {
        let got = kinds("<when condition=\"@(context.Request.Method == \"POST\")\">");
        assert_eq!(
            got,
            vec![
                (Kind::Tag, "<when"),
                (Kind::Plain, " "),
                (Kind::Attribute, "condition"),
                (Kind::Plain, "="),
                (Kind::Value, "\""),
                (Kind::Expression, "@(context.Request.Method == \"POST\")"),
                (Kind::Value, "\""),
                (Kind::Tag, ">"),
            ]
        );
    }

    #[test]
    fn blocks_named_values_and_comments() {
        let got = kinds(
            "<set-body>@{ var s = \"}\"; return s; }</set-body><!-- {{x}} --><v>{{Secret}}</v>",
        );
        assert!(
            got.contains(&(Kind::Expression, "@{ var s = \"}\"; return s; }")),
            "{got:?}"
        );
        assert!(got.contains(&(Kind::Comment, "<!-- {{x}} -->")), "{got:?}");
        assert!(got.contains(&(Kind::NamedValue, "{{Secret}}")), "{got:?}");
        let got = kinds("<k v=\"a{{Key}}b\" />");
        assert!(got.contains(&(Kind::NamedValue, "{{Key}}")), "{got:?}");
        assert!(got.contains(&(Kind::Tag, "/>")), "{got:?}");
    }

    #[test]
    fn large_and_unbalanced_text_is_linear_and_safe() {
        let big = "<a x=\"@(".repeat(20_000) + &"(".repeat(50_000);
        let joined: String = pieces(&big).iter().map(|(_, p)| *p).collect();
        assert_eq!(joined.len(), big.len());
    }
}
