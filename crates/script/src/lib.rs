//! APIM's policy expressions: the C# that policy documents write inside `@( … )` and
//! `@{ … }`, read and run by an interpreter of our own.
//!
//! * [`lexer`] cuts the source into tokens (C#'s literals, interpolated strings included);
//! * [`parser`] reads them into a [`syntax::Script`], with every recursion bounded;
//! * [`interp`] runs a script within a budget of steps, bytes and depth, against a
//!   [`interp::Host`] that provides `context`;
//! * [`members`], [`library`] and [`linq`] are the .NET types a script may use, and
//!   [`value`] and [`json`] the values it computes with;
//! * [`dates`], [`guid`], [`uri`], [`regex_lib`], [`crypto`] and [`jwt`] are more of them
//!   (`DateTime`, `TimeSpan`, `Guid`, `Uri`, `Regex`, hashes and HMACs, APIM's `AsJwt()` and
//!   `AsBasic()`), joined to the interpreter by [`native`].
//!
//! Nothing here knows HTTP or policies: the policy engine hands a script its `context`.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

/// Hashes, HMACs and byte arrays.
pub mod crypto;
/// `DateTime` and `TimeSpan`.
pub mod dates;
pub mod error;
/// `Guid`.
pub mod guid;
pub mod interp;
pub mod json;
/// APIM's `AsJwt()` and `AsBasic()` string extensions and the `Jwt` they give.
pub mod jwt;
pub mod lexer;
pub mod library;
pub mod linq;
/// Liquid templates (`set-body template="liquid"`).
pub mod liquid;
pub mod members;
/// The objects of the modules above, and the entry points the interpreter calls for them.
pub mod native;
pub mod parser;
/// `System.Text.RegularExpressions`.
pub mod regex_lib;
pub mod syntax;
/// `System.Uri`.
pub mod uri;
pub mod value;
/// `System.Xml.Linq`: `XDocument`, `XElement` and their names, read only.
pub mod xml_lib;

pub use error::{RunError, ScriptError};
pub use interp::{Host, Limits, NoHost};
pub use value::Value;

use syntax::Script;

/// A script read once (at save time) and run per request.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    script: Script,
}

impl Program {
    /// The inside of `@( … )`; `base` is its offset in the text it came from, so faults point
    /// there.
    pub fn expression(source: &str, base: usize) -> Result<Self, ScriptError> {
        let tokens = lexer::tokenize(source, base)?;
        Ok(Self {
            script: Script::Expr(parser::parse_expression(&tokens)?),
        })
    }

    /// The inside of `@{ … }`.
    pub fn block(source: &str, base: usize) -> Result<Self, ScriptError> {
        let tokens = lexer::tokenize(source, base)?;
        Ok(Self {
            script: Script::Block(parser::parse_block(&tokens)?),
        })
    }

    /// The syntax tree, for checks at save time.
    pub fn script(&self) -> &Script {
        &self.script
    }

    pub fn run(&self, host: &dyn Host, limits: Limits) -> Result<Value, RunError> {
        interp::run(&self.script, host, limits)
    }

    /// Runs the script and writes its value as text, as a policy attribute or body takes it.
    pub fn run_text(&self, host: &dyn Host, limits: Limits) -> Result<String, RunError> {
        let value = self.run(host, limits)?;
        Ok(match value {
            Value::Host(path) => host.text(&path).unwrap_or_else(|| path.to_string()),
            other => other.to_text(),
        })
    }
}

/// Runs scripts in unit tests, without a `context`.
#[cfg(test)]
pub(crate) mod testing {
    use crate::{Limits, NoHost, Program};

    /// The value of the expression `source`, as text; panics when it fails.
    pub fn eval(source: &str) -> String {
        match run(source) {
            Ok(text) => text,
            Err(e) => panic!("{source}: {e}"),
        }
    }

    /// The failure of the expression `source`; panics when it gives a value.
    pub fn eval_err(source: &str) -> String {
        match run(source) {
            Ok(text) => panic!("{source}: gave {text}, expected a failure"),
            Err(e) => e.to_string(),
        }
    }

    fn run(source: &str) -> Result<String, crate::RunError> {
        let program = Program::expression(source, 0).unwrap_or_else(|e| panic!("{source}: {e:?}"));
        program.run(&NoHost, Limits::default()).map(|v| v.to_text())
    }

    /// The value the block `source` returns, as text.
    pub fn block(source: &str) -> String {
        let program = Program::block(source, 0).unwrap_or_else(|e| panic!("{source}: {e:?}"));
        match program.run(&NoHost, Limits::default()) {
            Ok(value) => value.to_text(),
            Err(e) => panic!("{source}: {e}"),
        }
    }
}
