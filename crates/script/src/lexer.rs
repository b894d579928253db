//! C# source cut into tokens.
//!
//! The lexer knows C#'s literals as policy authors write them: numbers with their suffixes
//! (`10L`, `1.5m`, `2d`, `0xFF`), regular strings with escapes, verbatim strings `@"…"`
//! (`""` is a quote), character literals, and interpolated strings `$"…{hole,align:format}…"`
//! whose holes are lexed into tokens of their own. Comments and whitespace vanish. Every
//! token keeps its byte offset in the source, so the parser's faults can point at it.

use crate::error::ScriptError;

/// The most tokens one source may have (a 16 KiB script has a few thousand).
pub const MAX_TOKENS: usize = 65_536;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A name or keyword (`@`-prefixed names are names even when they spell a keyword).
    Ident(Box<str>),
    Int {
        value: u64,
        /// `L`/`l` suffix (or too big for `int`).
        long: bool,
    },
    Real {
        value: f64,
        /// The literal as written (without suffix), for `decimal`'s exact value.
        text: Box<str>,
        kind: RealKind,
    },
    Str(Box<str>),
    Char(char),
    /// `$"…"`: text and holes in order.
    Interpolated(Vec<Part>),
    Punct(&'static str),
    Eof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RealKind {
    Double,
    Float,
    Decimal,
}

/// A piece of an interpolated string.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Text(Box<str>),
    Hole {
        tokens: Vec<Token>,
        /// `{x,10}`: the width to pad to (negative: pad on the right).
        align: Option<i64>,
        /// `{x:N2}`: the format string.
        format: Option<Box<str>>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub offset: usize,
}

/// Operators and punctuation, longest first so that `??=` wins over `??` and `?`.
const PUNCTUATION: &[&str] = &[
    "??=", "<<=", ">>=", "=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "?[", "++", "--",
    "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<", "::", "(", ")", "[", "]", "{", "}", ".",
    ",", ";", ":", "?", "+", "-", "*", "/", "%", "<", ">", "=", "!", "&", "|", "^", "~",
];

/// Cuts `source` into tokens, ending with [`Tok::Eof`]. `base` is added to every offset (the
/// position of `source` inside a larger text).
pub fn tokenize(source: &str, base: usize) -> Result<Vec<Token>, ScriptError> {
    let mut lexer = Lexer {
        source,
        bytes: source.as_bytes(),
        at: 0,
        base,
        tokens: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer<'s> {
    source: &'s str,
    bytes: &'s [u8],
    at: usize,
    base: usize,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    fn fault(&self, at: usize, message: impl Into<String>) -> ScriptError {
        ScriptError::syntax(self.base + at, message)
    }

    fn peek(&self, ahead: usize) -> u8 {
        self.bytes.get(self.at + ahead).copied().unwrap_or(0)
    }

    fn push(&mut self, tok: Tok, start: usize) -> Result<(), ScriptError> {
        if self.tokens.len() >= MAX_TOKENS {
            return Err(self.fault(start, format!("a script has at most {MAX_TOKENS} tokens.")));
        }
        self.tokens.push(Token {
            tok,
            offset: self.base + start,
        });
        Ok(())
    }

    fn run(&mut self) -> Result<(), ScriptError> {
        loop {
            self.skip_blank()?;
            let start = self.at;
            let c = self.peek(0);
            if self.at >= self.bytes.len() {
                return self.push(Tok::Eof, start);
            }
            let tok = match c {
                b'"' => {
                    self.at += 1;
                    Tok::Str(self.regular_string(start)?.into())
                }
                b'\'' => Tok::Char(self.char_literal(start)?),
                b'@' if self.peek(1) == b'"' => {
                    self.at += 2;
                    Tok::Str(self.verbatim_string(start)?.into())
                }
                b'$' if self.peek(1) == b'"' => {
                    self.at += 2;
                    Tok::Interpolated(self.interpolated(start, false)?)
                }
                b'$' if self.peek(1) == b'@' && self.peek(2) == b'"' => {
                    self.at += 3;
                    Tok::Interpolated(self.interpolated(start, true)?)
                }
                b'@' if self.peek(1) == b'$' && self.peek(2) == b'"' => {
                    self.at += 3;
                    Tok::Interpolated(self.interpolated(start, true)?)
                }
                b'@' if is_ident_start(self.peek(1)) => {
                    self.at += 1;
                    Tok::Ident(self.identifier().into())
                }
                b'0'..=b'9' => self.number(start)?,
                b'.' if self.peek(1).is_ascii_digit() => self.number(start)?,
                _ if is_ident_start(c) => Tok::Ident(self.identifier().into()),
                _ => {
                    let rest = self.bytes.get(self.at..).unwrap_or_default();
                    let Some(punct) = PUNCTUATION.iter().find(|p| rest.starts_with(p.as_bytes()))
                    else {
                        let shown = self.source.get(self.at..).and_then(|r| r.chars().next());
                        return Err(
                            self.fault(start, format!("'{}' is not C#.", shown.unwrap_or('?')))
                        );
                    };
                    self.at += punct.len();
                    Tok::Punct(punct)
                }
            };
            self.push(tok, start)?;
        }
    }

    fn skip_blank(&mut self) -> Result<(), ScriptError> {
        loop {
            let c = self.peek(0);
            if c.is_ascii_whitespace() && self.at < self.bytes.len() {
                self.at += 1;
            } else if c == b'/' && self.peek(1) == b'/' {
                while self.at < self.bytes.len() && self.peek(0) != b'\n' {
                    self.at += 1;
                }
            } else if c == b'/' && self.peek(1) == b'*' {
                let start = self.at;
                self.at += 2;
                loop {
                    if self.at >= self.bytes.len() {
                        return Err(self.fault(start, "a comment /* … is never closed."));
                    }
                    if self.peek(0) == b'*' && self.peek(1) == b'/' {
                        self.at += 2;
                        break;
                    }
                    self.at += 1;
                }
            } else {
                return Ok(());
            }
        }
    }

    fn identifier(&mut self) -> &str {
        let start = self.at;
        while is_ident_part(self.peek(0)) && self.at < self.bytes.len() {
            self.at += 1;
        }
        self.source.get(start..self.at).unwrap_or_default()
    }

    fn number(&mut self, start: usize) -> Result<Tok, ScriptError> {
        if self.peek(0) == b'0' && matches!(self.peek(1), b'x' | b'X') {
            self.at += 2;
            let digits_start = self.at;
            while self.peek(0).is_ascii_hexdigit() || self.peek(0) == b'_' {
                self.at += 1;
            }
            let digits: String = self
                .source
                .get(digits_start..self.at)
                .unwrap_or_default()
                .replace('_', "");
            let value = u64::from_str_radix(&digits, 16)
                .map_err(|_| self.fault(start, "the hexadecimal number is not valid."))?;
            let long = self.int_suffix() || value > u64::from(u32::MAX);
            return Ok(Tok::Int { value, long });
        }
        while self.peek(0).is_ascii_digit() || self.peek(0) == b'_' {
            self.at += 1;
        }
        let mut real = false;
        if self.peek(0) == b'.' && self.peek(1).is_ascii_digit() {
            real = true;
            self.at += 1;
            while self.peek(0).is_ascii_digit() || self.peek(0) == b'_' {
                self.at += 1;
            }
        }
        if matches!(self.peek(0), b'e' | b'E')
            && (self.peek(1).is_ascii_digit()
                || (matches!(self.peek(1), b'+' | b'-') && self.peek(2).is_ascii_digit()))
        {
            real = true;
            self.at += 2;
            while self.peek(0).is_ascii_digit() {
                self.at += 1;
            }
        }
        let text: String = self
            .source
            .get(start..self.at)
            .unwrap_or_default()
            .replace('_', "");
        let kind = match self.peek(0) {
            b'm' | b'M' => Some(RealKind::Decimal),
            b'd' | b'D' => Some(RealKind::Double),
            b'f' | b'F' => Some(RealKind::Float),
            _ => None,
        };
        if kind.is_some() || real {
            if kind.is_some() {
                self.at += 1;
            }
            let value = text
                .parse::<f64>()
                .map_err(|_| self.fault(start, "the number is not valid."))?;
            return Ok(Tok::Real {
                value,
                text: text.into(),
                kind: kind.unwrap_or(RealKind::Double),
            });
        }
        let value = text
            .parse::<u64>()
            .map_err(|_| self.fault(start, "the number is too big."))?;
        let long = self.int_suffix() || value > i32::MAX as u64 + 1;
        Ok(Tok::Int { value, long })
    }

    /// Eats an integer suffix (`L`, `U`, `UL`); true when it makes the number a `long`.
    fn int_suffix(&mut self) -> bool {
        let mut long = false;
        for _ in 0..2 {
            match self.peek(0) {
                b'l' | b'L' => {
                    long = true;
                    self.at += 1;
                }
                b'u' | b'U' => self.at += 1,
                _ => break,
            }
        }
        long
    }

    /// The next character of a string or character literal (escapes read), after `at`.
    fn escaped_char(&mut self, literal_start: usize) -> Result<char, ScriptError> {
        let rest = self.source.get(self.at..).unwrap_or_default();
        let mut chars = rest.chars();
        let Some(c) = chars.next() else {
            return Err(self.fault(literal_start, "a string is never closed."));
        };
        if c == '\n' {
            return Err(self.fault(
                literal_start,
                "a string is never closed on its line (use @\"…\" for text over several lines).",
            ));
        }
        self.at += c.len_utf8();
        if c != '\\' {
            return Ok(c);
        }
        let Some(e) = chars.next() else {
            return Err(self.fault(literal_start, "a string is never closed."));
        };
        self.at += e.len_utf8();
        Ok(match e {
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '0' => '\0',
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'v' => '\u{b}',
            'e' => '\u{1b}',
            '\\' | '"' | '\'' => e,
            'u' | 'x' | 'U' => {
                let max = if e == 'U' { 8 } else { 4 };
                let digits: String = rest
                    .get(2..)
                    .unwrap_or_default()
                    .chars()
                    .take(max)
                    .take_while(char::is_ascii_hexdigit)
                    .collect();
                if digits.is_empty() || (e != 'x' && digits.len() != max) {
                    return Err(self.fault(self.at - 2, "the escape sequence is not valid."));
                }
                self.at += digits.len();
                u32::from_str_radix(&digits, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| self.fault(self.at, "the escape sequence is not a character."))?
            }
            other => {
                return Err(self.fault(
                    self.at - 2,
                    format!("'\\{other}' is not an escape sequence of C#."),
                ));
            }
        })
    }

    fn regular_string(&mut self, start: usize) -> Result<String, ScriptError> {
        let mut out = String::new();
        loop {
            if self.peek(0) == b'"' {
                self.at += 1;
                return Ok(out);
            }
            out.push(self.escaped_char(start)?);
        }
    }

    fn char_literal(&mut self, start: usize) -> Result<char, ScriptError> {
        self.at += 1;
        let c = self.escaped_char(start)?;
        if self.peek(0) != b'\'' {
            return Err(self.fault(start, "a character literal holds one character."));
        }
        self.at += 1;
        Ok(c)
    }

    fn verbatim_string(&mut self, start: usize) -> Result<String, ScriptError> {
        let mut out = String::new();
        loop {
            let rest = self.source.get(self.at..).unwrap_or_default();
            let Some(c) = rest.chars().next() else {
                return Err(self.fault(start, "a string is never closed."));
            };
            self.at += c.len_utf8();
            if c == '"' {
                if self.peek(0) == b'"' {
                    self.at += 1;
                } else {
                    return Ok(out);
                }
            }
            out.push(c);
        }
    }

    /// The parts of `$"…"` after its opening quote.
    fn interpolated(&mut self, start: usize, verbatim: bool) -> Result<Vec<Part>, ScriptError> {
        let mut parts = Vec::new();
        let mut text = String::new();
        loop {
            match self.peek(0) {
                _ if self.at >= self.bytes.len() => {
                    return Err(self.fault(start, "a string is never closed."));
                }
                b'"' if verbatim && self.peek(1) == b'"' => {
                    self.at += 2;
                    text.push('"');
                }
                b'"' => {
                    self.at += 1;
                    break;
                }
                b'{' if self.peek(1) == b'{' => {
                    self.at += 2;
                    text.push('{');
                }
                b'}' if self.peek(1) == b'}' => {
                    self.at += 2;
                    text.push('}');
                }
                b'{' => {
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text).into()));
                    }
                    self.at += 1;
                    parts.push(self.hole(start)?);
                }
                b'}' => {
                    return Err(
                        self.fault(self.at, "a '}' in an interpolated string is written '}}'.")
                    );
                }
                _ if verbatim => {
                    let rest = self.source.get(self.at..).unwrap_or_default();
                    if let Some(c) = rest.chars().next() {
                        self.at += c.len_utf8();
                        text.push(c);
                    }
                }
                _ => text.push(self.escaped_char(start)?),
            }
        }
        if !text.is_empty() || parts.is_empty() {
            parts.push(Part::Text(text.into()));
        }
        Ok(parts)
    }

    /// One `{…}` hole, after its `{`: the expression up to a `,` or `:` or `}` outside any
    /// bracket or string, then the alignment and format.
    fn hole(&mut self, string_start: usize) -> Result<Part, ScriptError> {
        let expression_start = self.at;
        let mut depth = 0usize;
        let mut end = None;
        let mut stop = 0u8;
        while self.at < self.bytes.len() {
            let c = self.peek(0);
            match c {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' => depth = depth.saturating_sub(1),
                b'}' if depth > 0 => depth -= 1,
                b'"' | b'\'' => {
                    // Skip a nested literal whole.
                    let nested_start = self.at;
                    if c == b'"' {
                        self.at += 1;
                        self.regular_string(nested_start)?;
                    } else {
                        self.char_literal(nested_start)?;
                    }
                    continue;
                }
                b'}' | b',' | b':' if depth == 0 => {
                    end = Some(self.at);
                    stop = c;
                    break;
                }
                _ => {}
            }
            self.at += 1;
        }
        let Some(end) = end else {
            return Err(self.fault(
                string_start,
                "a '{' in an interpolated string is never closed.",
            ));
        };
        let source = self.source.get(expression_start..end).unwrap_or_default();
        if source.trim().is_empty() {
            return Err(self.fault(
                expression_start,
                "an interpolation hole needs an expression.",
            ));
        }
        let tokens = tokenize(source, self.base + expression_start)?;
        let mut align = None;
        let mut format = None;
        if stop == b',' {
            self.at += 1;
            let align_start = self.at;
            while self.at < self.bytes.len() && !matches!(self.peek(0), b':' | b'}') {
                self.at += 1;
            }
            let text = self
                .source
                .get(align_start..self.at)
                .unwrap_or_default()
                .trim();
            align =
                Some(text.parse::<i64>().map_err(|_| {
                    self.fault(align_start, "the alignment must be a whole number.")
                })?);
            stop = self.peek(0);
        }
        if stop == b':' {
            self.at += 1;
            let format_start = self.at;
            while self.at < self.bytes.len() && self.peek(0) != b'}' {
                self.at += 1;
            }
            format = Some(
                self.source
                    .get(format_start..self.at)
                    .unwrap_or_default()
                    .into(),
            );
        }
        if self.peek(0) != b'}' {
            return Err(self.fault(
                string_start,
                "a '{' in an interpolated string is never closed.",
            ));
        }
        self.at += 1;
        Ok(Part::Hole {
            tokens,
            align,
            format,
        })
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_part(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(source: &str) -> Vec<Tok> {
        tokenize(source, 0)
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn numbers_keep_their_kind() {
        assert_eq!(
            toks("1 10L 0xFF 2.5 1.5m 3d 1e3"),
            vec![
                Tok::Int {
                    value: 1,
                    long: false
                },
                Tok::Int {
                    value: 10,
                    long: true
                },
                Tok::Int {
                    value: 255,
                    long: false
                },
                Tok::Real {
                    value: 2.5,
                    text: "2.5".into(),
                    kind: RealKind::Double
                },
                Tok::Real {
                    value: 1.5,
                    text: "1.5".into(),
                    kind: RealKind::Decimal
                },
                Tok::Real {
                    value: 3.0,
                    text: "3".into(),
                    kind: RealKind::Double
                },
                Tok::Real {
                    value: 1000.0,
                    text: "1e3".into(),
                    kind: RealKind::Double
                },
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn strings_of_every_kind() {
        assert_eq!(
            toks(r#""a\"b\n" @"c""d\" 'x' '\''"#),
            vec![
                Tok::Str("a\"b\n".into()),
                Tok::Str("c\"d\\".into()),
                Tok::Char('x'),
                Tok::Char('\''),
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn interpolated_strings_hold_lexed_holes() {
        let tokens = toks(r#"$"id={x.Id,5:D3} {{literal}} {(a ? "}" : "b")}""#);
        let Tok::Interpolated(parts) = &tokens[0] else {
            panic!("{tokens:?}")
        };
        assert_eq!(parts[0], Part::Text("id=".into()));
        let Part::Hole {
            tokens,
            align,
            format,
        } = &parts[1]
        else {
            panic!("{parts:?}")
        };
        assert_eq!(tokens.len(), 4); // x . Id Eof
        assert_eq!(*align, Some(5));
        assert_eq!(format.as_deref(), Some("D3"));
        assert_eq!(parts[2], Part::Text(" {literal} ".into()));
        assert!(matches!(&parts[3], Part::Hole { tokens, .. } if tokens.len() == 8));
    }

    #[test]
    fn operators_longest_first_and_offsets() {
        let tokens = tokenize("a ??= b?.c => x", 10).unwrap();
        let shown: Vec<_> = tokens.iter().map(|t| (t.tok.clone(), t.offset)).collect();
        assert_eq!(shown[1], (Tok::Punct("??="), 12));
        assert_eq!(shown[3], (Tok::Punct("?."), 17));
        assert_eq!(shown[5], (Tok::Punct("=>"), 21));
    }

    #[test]
    fn faults_name_the_place() {
        for (source, at) in [
            ("\"open", 0),
            ("x + 'ab'", 4),
            ("a # b", 2),
            ("/* never", 0),
        ] {
            let fault = tokenize(source, 0).unwrap_err();
            assert_eq!(fault.offset, at, "{source}: {fault:?}");
        }
    }
}
