//! Portcullis' policy engine.
//!
//! APIM policy documents (`<policies><inbound/><backend/><outbound/><on-error/></policies>`)
//! go through three stages here, none of which knows about HTTP servers or databases:
//!
//! 1. **parse** ([`xml`]): the text becomes an element tree that remembers positions;
//! 2. **compile** ([`document`], [`catalogue`]): every element is checked against the
//!    catalogue — unknown policies, missing or bad attributes, policies in sections or scopes
//!    where they are not allowed, unsupported expressions — and turned into a ready-to-run
//!    step; faults come back as [`Diagnostics`] with line and column;
//! 3. **run** ([`engine`]): per request, the compiled sections of the operation's scope
//!    chain (operation → API → product → global, joined where `<base/>` stands) run
//!    against an [`Exchange`], the request's mutable state. Rate limits and quotas count
//!    through the [`counters::CounterStore`] interface, cached values through
//!    [`value_cache::ValueCache`]; the backend call (and `send-request`) goes through the
//!    gateway's [`engine::Upstream`].
//!
//! [`effective`] writes the merged document an operation really runs, for the portal's
//! **Calculate effective policy**.

// The request path never panics: no unwrap, expect, panic or unchecked index outside tests
// (a missing value becomes an error or a default that the code states).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod body_format;
pub mod catalogue;
pub mod counters;
pub mod document;
pub mod effective;
pub mod engine;
pub mod error;
pub mod exchange;
pub mod expr;
pub mod library;
pub mod policy_text;
pub mod value_cache;
pub mod xml;

pub use document::{PolicyDocument, ScopeKind, Section};
pub use error::{Diagnostic, Diagnostics, Rejection};
pub use exchange::Exchange;
