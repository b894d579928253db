//! Cuts a Liquid template into its pieces: literal text, outputs `{{ … }}` and tags
//! `{% … %}` (with `-` trimming the whitespace beside them), and the inside of outputs and
//! tags into expression tokens.
//!
//! `{% raw %}` and `{% comment %}` are settled here: their content is never read as Liquid.

use crate::error::ScriptError;

/// One piece of a template, with the byte offset of its start.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    /// The inside of `{{ … }}` and where that inside starts.
    Output(String, usize),
    /// The inside of `{% … %}` and where that inside starts.
    Tag(String, usize),
}

/// Splits `source` into pieces. `base` is the offset of `source` in the text faults point
/// into.
pub fn pieces(source: &str, base: usize) -> Result<Vec<Piece>, ScriptError> {
    let mut pieces: Vec<Piece> = Vec::new();
    let mut at = 0;
    let mut trim_next_text = false;
    while at < source.len() {
        let rest = source.get(at..).unwrap_or_default();
        let next = [rest.find("{{"), rest.find("{%")]
            .into_iter()
            .flatten()
            .min()
            .map_or(source.len(), |p| at + p);
        let mut text = source.get(at..next).unwrap_or_default();
        if trim_next_text {
            text = text.trim_start();
        }
        let opener = source.get(next..next + 2).unwrap_or_default();
        let trims_before = source.get(next + 2..next + 3) == Some("-");
        if trims_before {
            text = text.trim_end();
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text.to_owned()));
        }
        if next >= source.len() {
            break;
        }
        let closer = if opener == "{{" { "}}" } else { "%}" };
        let inner_start = next + 2 + usize::from(trims_before);
        let close = source
            .get(inner_start..)
            .and_then(|r| r.find(closer))
            .map(|p| inner_start + p)
            .ok_or_else(|| {
                ScriptError::syntax(
                    base + next,
                    format!("`{opener}` is never closed with `{closer}`."),
                )
            })?;
        let trims_after = close > inner_start && source.get(close - 1..close) == Some("-");
        let inner_end = if trims_after { close - 1 } else { close };
        let inner = source.get(inner_start..inner_end).unwrap_or_default();
        at = close + 2;
        trim_next_text = trims_after;
        if opener == "{{" {
            pieces.push(Piece::Output(inner.to_owned(), base + inner_start));
            continue;
        }
        let name = inner.split_whitespace().next().unwrap_or("");
        if name == "raw" || name == "comment" {
            // Everything up to the matching end tag is text (raw) or nothing (comment).
            let (content, after, trims) = until_end_tag(source, at, name).ok_or_else(|| {
                ScriptError::syntax(
                    base + inner_start,
                    format!("`{{% {name} %}}` is never closed with `{{% end{name} %}}`."),
                )
            })?;
            if name == "raw" && !content.is_empty() {
                pieces.push(Piece::Text(content.to_owned()));
            }
            at = after;
            trim_next_text = trims;
            continue;
        }
        pieces.push(Piece::Tag(inner.to_owned(), base + inner_start));
    }
    Ok(pieces)
}

/// The text from `from` up to `{% end<name> %}`, the offset after that tag and whether it
/// trims the whitespace after it.
fn until_end_tag<'s>(source: &'s str, from: usize, name: &str) -> Option<(&'s str, usize, bool)> {
    let mut at = from;
    loop {
        let open = at + source.get(at..)?.find("{%")?;
        let inner_start = open + 2 + usize::from(source.get(open + 2..open + 3) == Some("-"));
        let close = inner_start + source.get(inner_start..)?.find("%}")?;
        let inner = source.get(inner_start..close)?.trim_end_matches('-').trim();
        if inner == format!("end{name}") {
            let trims = close > inner_start && source.get(close - 1..close) == Some("-");
            return Some((source.get(from..open)?, close + 2, trims));
        }
        at = close + 2;
    }
}

/// A token of the expression language inside outputs and tags.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// A name: `body`, `forloop`, `and`, `contains`, `true`…
    Word(String),
    Str(String),
    Int(i64),
    Float(f64),
    /// One of `. [ ] ( ) | : , = ==  != <> < > <= >= ..`
    Punct(&'static str),
}

const PUNCTS: [&str; 16] = [
    "..", "==", "!=", "<>", "<=", ">=", "<", ">", ".", "[", "]", "(", ")", "|", ":", ",",
];

/// Tokens of `source` (the inside of one output or tag), each with its offset (`base` is
/// where `source` starts).
pub fn tokens(source: &str, base: usize) -> Result<Vec<(Token, usize)>, ScriptError> {
    let mut out = Vec::new();
    let bytes = source.as_bytes();
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        let offset = base + at;
        if b.is_ascii_whitespace() {
            at += 1;
            continue;
        }
        if b == b'"' || b == b'\'' {
            let end = source
                .get(at + 1..)
                .and_then(|r| r.find(char::from(b)))
                .map(|p| at + 1 + p)
                .ok_or_else(|| ScriptError::syntax(offset, "a string is never closed."))?;
            out.push((
                Token::Str(source.get(at + 1..end).unwrap_or_default().to_owned()),
                offset,
            ));
            at = end + 1;
            continue;
        }
        let starts_number =
            b.is_ascii_digit() || (b == b'-' && bytes.get(at + 1).is_some_and(u8::is_ascii_digit));
        if starts_number {
            let mut end = at + 1;
            while bytes.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
            let fraction =
                bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
            if fraction {
                end += 1;
                while bytes.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
            }
            let text = source.get(at..end).unwrap_or_default();
            let token = if fraction {
                text.parse().map(Token::Float).ok()
            } else {
                text.parse().map(Token::Int).ok()
            };
            out.push((
                token.ok_or_else(|| ScriptError::syntax(offset, "the number is too large."))?,
                offset,
            ));
            at = end;
            continue;
        }
        if b.is_ascii_alphabetic() || b == b'_' {
            let mut end = at + 1;
            while bytes
                .get(end)
                .is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'?'))
            {
                end += 1;
            }
            out.push((
                Token::Word(source.get(at..end).unwrap_or_default().to_owned()),
                offset,
            ));
            at = end;
            continue;
        }
        let rest = source.get(at..).unwrap_or_default();
        let punct = PUNCTS
            .iter()
            .find(|p| rest.starts_with(**p))
            .or_else(|| rest.starts_with('=').then_some(&"="))
            .ok_or_else(|| {
                let c = rest.chars().next().unwrap_or(' ');
                ScriptError::syntax(offset, format!("'{c}' is not Liquid here."))
            })?;
        out.push((Token::Punct(punct), offset));
        at += punct.len();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_text_outputs_and_tags_and_trims_where_asked() {
        let got = pieces("a {{ x }} b {%- if y -%}  c  {% endif %}", 0).unwrap();
        assert_eq!(
            got,
            vec![
                Piece::Text("a ".into()),
                Piece::Output(" x ".into(), 4),
                Piece::Text(" b".into()),
                Piece::Tag(" if y ".into(), 15),
                Piece::Text("c  ".into()),
                Piece::Tag(" endif ".into(), 31),
            ]
        );
    }

    #[test]
    fn raw_and_comment_are_not_read() {
        let got = pieces(
            "{% raw %}{{ x }}{% endraw %}{% comment %}{% if %}{% endcomment %}!",
            0,
        )
        .unwrap();
        assert_eq!(
            got,
            vec![Piece::Text("{{ x }}".into()), Piece::Text("!".into())]
        );
    }

    #[test]
    fn unclosed_pieces_are_faults_at_their_start() {
        assert_eq!(pieces("ab {{ x", 10).unwrap_err().offset, 13);
        assert!(pieces("{% raw %} x", 0).is_err());
    }

    #[test]
    fn reads_the_expression_tokens() {
        let got: Vec<Token> = tokens("a.b[0] | Plus: -1.5, 'x' == (1..3)", 0)
            .unwrap()
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(
            got,
            vec![
                Token::Word("a".into()),
                Token::Punct("."),
                Token::Word("b".into()),
                Token::Punct("["),
                Token::Int(0),
                Token::Punct("]"),
                Token::Punct("|"),
                Token::Word("Plus".into()),
                Token::Punct(":"),
                Token::Float(-1.5),
                Token::Punct(","),
                Token::Str("x".into()),
                Token::Punct("=="),
                Token::Punct("("),
                Token::Int(1),
                Token::Punct(".."),
                Token::Int(3),
                Token::Punct(")"),
            ]
        );
    }
}
