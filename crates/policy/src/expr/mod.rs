//! Policy expressions: APIM's C# expressions, on two paths.
//!
//! An attribute or text value is a [`Template`]: plain text, `@( expression )` or
//! `@{ statements }`. Expressions are parsed once at save time. The common ones — a
//! `context` member, a header lookup, a comparison — fit the fast subset here: an [`Expr`]
//! tree with every member resolved at parse time, evaluated without allocating. Everything
//! else (statement blocks, LINQ, JSON, the .NET library) is read by the C# interpreter of
//! [`portcullis_script`] and runs within its budget, with `context` provided by
//! [`host::EnvHost`].

pub mod ast;
mod eval;
pub mod host;
mod lexer;
mod parser;

pub use ast::{Expr, Field};
pub use eval::{Env, ScriptObject, Value};

use std::borrow::Cow;
use std::sync::Arc;

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
    /// An expression of the fast subset.
    Expr(Expr),
    /// Anything else: run by the C# interpreter.
    Script(Arc<portcullis_script::Program>),
}

fn script_fault(error: portcullis_script::ScriptError) -> ExprError {
    ExprError::new(error.offset, error.message)
}

fn run_fault(error: portcullis_script::RunError) -> String {
    match error {
        portcullis_script::RunError::Failed { message, .. } => message,
        portcullis_script::RunError::Budget(message) => message,
    }
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
            if let Ok(expr) = parse(inner) {
                return Ok(Self::Expr(expr));
            }
            let program =
                portcullis_script::Program::expression(inner, lead + 2).map_err(script_fault)?;
            host::check_context(&program)?;
            return Ok(Self::Script(Arc::new(program)));
        }
        if let Some(inner) = trimmed.strip_prefix("@{") {
            let Some(inner) = inner.strip_suffix('}') else {
                return Err(ExprError::new(
                    lead,
                    "a statement block @{ … } must end with '}'.",
                ));
            };
            let program =
                portcullis_script::Program::block(inner, lead + 2).map_err(script_fault)?;
            host::check_context(&program)?;
            return Ok(Self::Script(Arc::new(program)));
        }
        Ok(Self::Literal(value.into()))
    }

    pub fn is_expression(&self) -> bool {
        !matches!(self, Self::Literal(_))
    }

    /// The value as text.
    pub fn render<'e>(&'e self, env: &'e dyn Env) -> Result<Cow<'e, str>, String> {
        match self {
            Self::Literal(text) => Ok(Cow::Borrowed(text)),
            Self::Expr(expr) => Ok(expr.eval(env)?.into_text()),
            Self::Script(program) => program
                .run_text(&host::EnvHost { env }, portcullis_script::Limits::default())
                .map(Cow::Owned)
                .map_err(run_fault),
        }
    }

    /// The value as a policy value (what `set-variable` stores).
    pub fn value(&self, env: &dyn Env) -> Result<Value<'static>, String> {
        match self {
            Self::Literal(text) => Ok(Value::Str(Cow::Owned(text.to_string()))),
            Self::Expr(expr) => Ok(expr.eval(env)?.into_owned()),
            Self::Script(program) => {
                let host = host::EnvHost { env };
                let value = program
                    .run(&host, portcullis_script::Limits::default())
                    .map_err(run_fault)?;
                Ok(host.kept(&value))
            }
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
            Self::Script(program) => {
                match program
                    .run(&host::EnvHost { env }, portcullis_script::Limits::default())
                    .map_err(run_fault)?
                {
                    portcullis_script::Value::Bool(b) => Ok(b),
                    other => Err(format!(
                        "the condition gave {} instead of true or false",
                        other.type_name()
                    )),
                }
            }
        }
    }
}
