//! Policy expressions: the documented subset of APIM's C# expressions.
//!
//! An attribute or text value is a [`Template`]: either plain text, or `@( expression )`.
//! Expressions are parsed once at save time into an [`Expr`] tree — anything outside the
//! subset is refused there with its position — and evaluated per request against an
//! [`Env`], borrowing from the request wherever it can instead of allocating.

pub mod ast;
mod eval;
mod lexer;
mod parser;

pub use ast::{Expr, Field};
pub use eval::{Env, Value};

use std::borrow::Cow;

/// A fault in an expression, at a byte offset inside the expression source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub offset: usize,
    pub message: String,
}

impl ExprError {
    pub fn new(offset: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            message: message.into(),
        }
    }
}

/// Expressions longer than this are refused: policies are configuration, not programs.
pub const MAX_EXPRESSION_LEN: usize = 4096;

/// Parses an expression (the part inside `@( … )`).
pub fn parse(source: &str) -> Result<Expr, ExprError> {
    if source.len() > MAX_EXPRESSION_LEN {
        return Err(ExprError::new(
            0,
            format!("an expression has at most {MAX_EXPRESSION_LEN} characters."),
        ));
    }
    parser::parse(source)
}

/// A value that is either fixed text or an expression evaluated per request.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    Literal(Box<str>),
    Expr(Expr),
}

impl Template {
    /// Reads `@(…)` as an expression and anything else as literal text. Offsets in the
    /// error are relative to the start of `value`.
    pub fn parse(value: &str) -> Result<Self, ExprError> {
        let trimmed = value.trim();
        let lead = value.len() - value.trim_start().len();
        if let Some(inner) = trimmed.strip_prefix("@(") {
            let Some(inner) = inner.strip_suffix(')') else {
                return Err(ExprError::new(
                    lead,
                    "an expression @( … ) must end with ')'.",
                ));
            };
            return parse(inner)
                .map(Self::Expr)
                .map_err(|e| ExprError::new(e.offset + lead + 2, e.message));
        }
        if trimmed.starts_with("@{") {
            return Err(ExprError::new(
                lead,
                "multi-statement expressions @{ … } are not supported; use a single expression @( … ).",
            ));
        }
        Ok(Self::Literal(value.into()))
    }

    pub fn is_expression(&self) -> bool {
        matches!(self, Self::Expr(_))
    }

    /// The value as text.
    pub fn render<'e>(&'e self, env: &'e dyn Env) -> Result<Cow<'e, str>, String> {
        match self {
            Self::Literal(text) => Ok(Cow::Borrowed(text)),
            Self::Expr(expr) => Ok(expr.eval(env)?.into_text()),
        }
    }

    /// The value as a condition: an expression must give a boolean; literal text must be
    /// `true` or `false`.
    pub fn truth(&self, env: &dyn Env) -> Result<bool, String> {
        match self {
            Self::Literal(text) => match text.trim() {
                t if t.eq_ignore_ascii_case("true") => Ok(true),
                t if t.eq_ignore_ascii_case("false") => Ok(false),
                other => Err(format!("'{other}' is not true or false")),
            },
            Self::Expr(expr) => match expr.eval(env)? {
                Value::Bool(b) => Ok(b),
                other => Err(format!(
                    "the condition gave {} instead of true or false",
                    other.kind()
                )),
            },
        }
    }
}
