//! The gateway: the room every API call passes through.
//!
//! Configuration arrives as a [`ConfigModel`](portcullis_domain::model::ConfigModel) and is
//! compiled once into an immutable [`Snapshot`] — hash maps from host to service, from URL
//! suffix to API, from key to subscription grant, and per-method operation tables sorted by
//! specificity. [`SnapshotHandle`] swaps a new snapshot in atomically; a request takes the
//! current one with a single atomic load and never touches the database or a lock.
//!
//! A request then runs the phases of [`pipeline`]: match → authenticate → inbound → forward
//! → outbound → log, each able to end it with a response; every failure becomes a
//! [`GatewayError`](pipeline::GatewayError), turned into the APIM-shaped error body in one
//! place. [`server::serve_on_workers`] accepts connections, one worker thread per core, and
//! drives that pipeline.
//!
//! This crate knows nothing of the database, the portal or the management API.

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

pub mod backend_pool;
pub mod backends;
pub mod body;
pub mod calls;
pub mod circuit_breaker;
pub mod client_certificates;
pub mod connection;
pub mod grants;
pub mod operation_table;
pub mod pipeline;
pub mod policies;
pub mod redis_counters;
pub mod server;
pub mod settings;
pub mod snapshot;
pub mod tls;
pub mod trace;

pub use pipeline::Gateway;
pub use settings::GatewaySettings;
pub use snapshot::{GrantsOutdated, Snapshot, SnapshotHandle};

/// The header that carries the request id on every gateway response (and to the backend).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Path of the gateway's own health endpoint, answered on every host (as APIM's
/// `/status-0123456789abcdef`).
pub const STATUS_PATH: &str = "/status-0123456789abcdef";
