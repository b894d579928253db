//! What can go wrong with a script: at save time a syntax or check fault at a byte offset,
//! at run time an evaluation failure (APIM's `ExpressionValueEvaluationFailure`) or a spent
//! budget.

/// A fault found in a script, at a byte offset of the text it was read from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ScriptError {
    pub offset: usize,
    pub message: String,
}

impl ScriptError {
    pub fn syntax(offset: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            message: message.into(),
        }
    }
}

/// Why an evaluation stopped without a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The script failed as C# would: a null dereference, a bad cast, a missing key, a
    /// division by zero, an exception it threw. The caller's policy fails with
    /// `ExpressionValueEvaluationFailure` and on-error runs.
    #[error("{message}")]
    Failed { offset: usize, message: String },
    /// The evaluation used up its budget of steps, memory or depth.
    #[error("{0}")]
    Budget(String),
}

impl RunError {
    pub fn failed(offset: usize, message: impl Into<String>) -> Self {
        Self::Failed {
            offset,
            message: message.into(),
        }
    }
}
