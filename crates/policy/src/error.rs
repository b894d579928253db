//! What can go wrong with a policy: at save time a [`Diagnostic`] (with line and column), at
//! request time a [`Rejection`] (the caller gets an error response) — the gateway turns
//! rejections into status codes and bodies in its one error module.

use std::fmt;
use std::time::Duration;

/// A fault in a policy document, placed at a line and column (both from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Diagnostic {
    /// A fault at byte `offset` of `text`.
    pub fn at(text: &str, offset: usize, message: impl fmt::Display) -> Self {
        let (line, column) = line_and_column(text, offset);
        Self {
            line,
            column,
            message: message.to_string(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Every fault found in one document, in document order. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn first(&self) -> Option<&Diagnostic> {
        self.0.first()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Self {
        Self(vec![diagnostic])
    }
}

/// Line and column (both from 1, columns in characters) of a byte offset.
pub fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Why a policy stopped a request. The gateway owns the status codes and bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// `ip-filter` refused the caller's address.
    #[error("caller IP address refused")]
    IpForbidden,
    /// `rate-limit(-by-key)`: try again after `retry_after`.
    #[error("rate limit exceeded")]
    RateLimited {
        retry_after: Duration,
        retry_after_header: Option<http::HeaderName>,
    },
    /// `quota(-by-key)`: replenished after `retry_after`; `bandwidth` when it was the
    /// kilobytes, not the calls, that ran out.
    #[error("quota exceeded")]
    QuotaExceeded {
        retry_after: Duration,
        bandwidth: bool,
    },
    /// `limit-concurrency`: too many requests in flight for the key.
    #[error("too many concurrent requests")]
    ConcurrencyLimited,
    /// `check-header` or `validate-jwt` with their configured status and message.
    #[error("{message}")]
    Refused {
        status: http::StatusCode,
        message: String,
    },
    /// An expression could not be evaluated (a missing variable, `int.Parse` of a word…).
    #[error("policy expression failed: {0}")]
    Expression(String),
    /// The backend refused the connection or broke it.
    #[error("backend connection failure: {0}")]
    BackendConnection(String),
    /// The backend did not answer within the `forward-request` timeout.
    #[error("backend timeout")]
    BackendTimeout(Duration),
    /// The backend answered 400–599 to a `forward-request fail-on-error-status-code="true"`:
    /// on-error runs on the backend's response.
    #[error("the backend answered {0}")]
    BackendStatus(http::StatusCode),
    /// The backend's circuit breaker is open (for a pool: every member's); it closes
    /// after `retry_after`.
    #[error("backend '{backend}' unavailable: its circuit breaker is open")]
    BackendUnavailable {
        backend: String,
        retry_after: Duration,
    },
    /// The counter store could not be reached and the deployment fails closed.
    #[error("counter store unavailable: {0}")]
    CountersUnavailable(String),
    /// `authentication-managed-identity` could not get a token.
    #[error("no managed-identity token: {0}")]
    TokenUnavailable(String),
}

impl Rejection {
    /// APIM's `context.LastError.Reason` for it.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::IpForbidden => "CallerIpNotAllowed",
            Self::RateLimited { .. } => "RateLimitExceeded",
            Self::QuotaExceeded { .. } => "QuotaExceeded",
            Self::ConcurrencyLimited => "ConcurrencyLimitExceeded",
            Self::Refused { .. } => "Unauthorized",
            Self::Expression(_) => "ExpressionValueEvaluationFailure",
            Self::BackendConnection(_) => "BackendConnectionFailure",
            Self::BackendTimeout(_) => "Timeout",
            Self::BackendStatus(_) => "BackendErrorStatusCode",
            Self::BackendUnavailable { .. } => "BackendUnavailable",
            Self::CountersUnavailable(_) => "CounterStoreUnavailable",
            Self::TokenUnavailable(_) => "ManagedIdentityTokenUnavailable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_counts_characters() {
        assert_eq!(line_and_column("ab\ncé", 6), (2, 3));
        assert_eq!(line_and_column("", 0), (1, 1));
        assert_eq!(line_and_column("é", 1), (1, 1));
    }
}
