//! Tokens of the expression subset, each with its byte offset inside the expression.

use super::ExprError;

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Ident(String),
    Str(String),
    Int(i64),
    Dot,
    Comma,
    OpenParen,
    CloseParen,
    OpenBracket,
    CloseBracket,
    Less,
    Greater,
    LessEq,
    GreaterEq,
    EqEq,
    NotEq,
    AndAnd,
    OrOr,
    Not,
    Plus,
    Question,
    Colon,
}

pub fn tokenize(source: &str) -> Result<Vec<(Token, usize)>, ExprError> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        let start = i;
        let two = bytes.get(i..i + 2);
        let token = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'"' => {
                let (value, end) = string_literal(source, i)?;
                i = end;
                Token::Str(value)
            }
            b'0'..=b'9' => {
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                let digits = &source[start..i];
                let value = digits.parse().map_err(|_| {
                    ExprError::new(start, format!("the number {digits} is too large."))
                })?;
                Token::Int(value)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while bytes
                    .get(i)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
                {
                    i += 1;
                }
                Token::Ident(source[start..i].to_owned())
            }
            _ => {
                let (token, width) = match (c, two) {
                    (_, Some(b"==")) => (Token::EqEq, 2),
                    (_, Some(b"!=")) => (Token::NotEq, 2),
                    (_, Some(b"&&")) => (Token::AndAnd, 2),
                    (_, Some(b"||")) => (Token::OrOr, 2),
                    (_, Some(b"<=")) => (Token::LessEq, 2),
                    (_, Some(b">=")) => (Token::GreaterEq, 2),
                    (b'.', _) => (Token::Dot, 1),
                    (b',', _) => (Token::Comma, 1),
                    (b'(', _) => (Token::OpenParen, 1),
                    (b')', _) => (Token::CloseParen, 1),
                    (b'[', _) => (Token::OpenBracket, 1),
                    (b']', _) => (Token::CloseBracket, 1),
                    (b'<', _) => (Token::Less, 1),
                    (b'>', _) => (Token::Greater, 1),
                    (b'!', _) => (Token::Not, 1),
                    (b'+', _) => (Token::Plus, 1),
                    (b'?', _) => (Token::Question, 1),
                    (b':', _) => (Token::Colon, 1),
                    _ => {
                        let shown = source[start..].chars().next().unwrap_or('?');
                        return Err(ExprError::new(
                            start,
                            format!("'{shown}' is not supported in policy expressions."),
                        ));
                    }
                };
                i += width;
                token
            }
        };
        tokens.push((token, start));
    }
    Ok(tokens)
}

/// A C# regular string literal starting at `start` (the opening quote).
fn string_literal(source: &str, start: usize) -> Result<(String, usize), ExprError> {
    let mut value = String::new();
    let mut chars = source[start + 1..].char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((value, start + 1 + at + 1)),
            '\\' => {
                let escaped = match chars.next() {
                    Some((_, 'n')) => '\n',
                    Some((_, 't')) => '\t',
                    Some((_, 'r')) => '\r',
                    Some((_, '0')) => '\0',
                    Some((_, '\\')) => '\\',
                    Some((_, '"')) => '"',
                    Some((_, '\'')) => '\'',
                    Some((at, other)) => {
                        return Err(ExprError::new(
                            start + 1 + at,
                            format!("the escape \\{other} is not supported."),
                        ));
                    }
                    None => break,
                };
                value.push(escaped);
            }
            c => value.push(c),
        }
    }
    Err(ExprError::new(start, "this string is never closed."))
}
