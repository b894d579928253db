//! Liquid templates, as APIM's `set-body template="liquid"` runs them: the tags and filters
//! of Liquid (shopify.github.io/liquid) with APIM's Pascal-case filter names, over the
//! message body and `context` as data.
//!
//! * [`lexer`] cuts a template into text, outputs and tags (settling `raw` and `comment`);
//! * [`parser`] reads them into a [`syntax`] tree, with blocks nested at most
//!   [`parser::MAX_NESTING`] deep;
//! * [`render`] writes the text within a [`Limits`] budget; [`filters`] and [`values`] are
//!   what it computes with.
//!
//! Our own, not the `liquid` crate: a template runs on every request against a body the
//! client chose, so each loop turn, filter and copy has to be counted and bounded, and that
//! crate has no place to count.

pub mod filters;
pub mod lexer;
pub mod parser;
pub mod render;
pub mod syntax;
pub mod values;

use crate::error::{RunError, ScriptError};
use serde_json::{Map, Value};

/// How much one rendering may do. Loops over the body, texts that grow in loops and ranges
/// the body sizes all end at these bounds with a clear error, never a hang.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Nodes rendered, loop turns and filter calls (a filter making a list pays per item).
    pub steps: u64,
    /// The longest text: the output, a `capture`, a filter's result.
    pub max_text: usize,
    /// Bytes of data copied out of the body and variables.
    pub copy_bytes: u64,
}

impl Default for Limits {
    /// About 6 ms of CPU and tens of MiB at most (`cargo bench -p portcullis-policy --
    /// liquid` measures a spent budget); APIM's examples need a thousandth of it (0.3 µs).
    fn default() -> Self {
        Self {
            steps: 200_000,
            max_text: 8 << 20,
            copy_bytes: 64 << 20,
        }
    }
}

/// A template read once (at save time) and rendered per request.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<syntax::Node>,
}

impl Template {
    /// Reads `source`; `base` is its offset in the text faults point into.
    pub fn parse(source: &str, base: usize) -> Result<Self, ScriptError> {
        Ok(Self {
            nodes: parser::parse(source, base)?,
        })
    }

    /// Renders against `data` (top-level names such as `body` and `context`).
    pub fn render(&self, data: &Map<String, Value>, limits: Limits) -> Result<String, RunError> {
        render::Renderer::new(data, limits).render(&self.nodes)
    }
}

#[cfg(test)]
mod tests;
